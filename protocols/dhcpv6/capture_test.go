package dhcpv6

import (
	"bytes"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/iomt-sensor/iomt-sensor/protocols/internal/corpustest"
)

// identityCapture is dnsmasq 2.90 serving DHCPv6 to ISC dhclient 4.4.3
// -6 -D LL with an FQDN and a vendor class (testdata/README.md, "Identity
// captures").
const identityCapture = "../../testdata/captures/identity-dhcpv6.pcap"

// decodeCapture gives each DHCPv6 datagram as "frame|mac|hostname|facts".
func decodeCapture(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, d := range corpustest.UDP(t, identityCapture, ClientPort, ServerPort) {
		got, err := decode(d.Payload)
		if err != nil || len(got) == 0 {
			t.Fatalf("frame %d: %v, %d observations", d.Frame, err, len(got))
		}
		for _, o := range got {
			var fs []string
			for _, f := range o.Facts {
				fs = append(fs, f.Name+"="+f.Value)
			}
			about := [...]string{"sender", "receiver"}[o.About&1]
			out = append(out, strings.Join([]string{strconv.Itoa(d.Frame), about, o.MAC.String(), o.IP.String(), o.Hostname, strings.Join(fs, " ")}, "|"))
		}
	}
	return out
}

// captureWant is each DHCPv6 observation of identity-dhcpv6.pcap as
// "frame|about|mac|ip|hostname|facts"; the values are those tshark 4.0.17
// shows (TestCaptureTshark derives the same from a live run).
var captureWant = []string{
	"4|sender|00:1b:21:77:00:45|invalid IP|infusion-45.icu.hospital.test|dhcpv6.message_type=solicit dhcpv6.duid=00030001001b21770045 dhcpv6.duid_type=ll dhcpv6.fqdn=infusion-45.icu.hospital.test dhcpv6.vendor_class=32473:BD-Alaris-PCU dhcpv6.oro=23,24",
	"10|receiver|00:1b:21:77:00:45|invalid IP||dhcpv6.message_type=advertise dhcpv6.duid=00030001001b21770045 dhcpv6.duid_type=ll",
	"10|sender|00:50:56:77:00:44|invalid IP||dhcpv6.message_type=advertise dhcpv6.server_duid=0001000132969f47005056770044 dhcpv6.duid_type=llt",
	"11|sender|00:1b:21:77:00:45|invalid IP|infusion-45.icu.hospital.test|dhcpv6.message_type=request dhcpv6.duid=00030001001b21770045 dhcpv6.duid_type=ll dhcpv6.fqdn=infusion-45.icu.hospital.test dhcpv6.vendor_class=32473:BD-Alaris-PCU dhcpv6.oro=23,24",
	"12|receiver|00:1b:21:77:00:45|fd77:77::145||dhcpv6.message_type=reply dhcpv6.duid=00030001001b21770045 dhcpv6.duid_type=ll",
	"12|sender|00:50:56:77:00:44|invalid IP||dhcpv6.message_type=reply dhcpv6.server_duid=0001000132969f47005056770044 dhcpv6.duid_type=llt",
}

func TestCapture(t *testing.T) {
	if got := decodeCapture(t); !reflect.DeepEqual(got, captureWant) {
		t.Errorf("expected %q\ngot      %q", captureWant, got)
	}
}

// TestCaptureTshark derives the observations from a live tshark run, when
// tshark is installed.
func TestCaptureTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not on PATH")
	}
	cmd := exec.Command(tshark, "-r", identityCapture, "-Y", "dhcpv6", "-T", "fields", "-E", "separator=/t", "-E", "aggregator=,",
		"-e", "frame.number", "-e", "dhcpv6.msgtype", "-e", "dhcpv6.duid.bytes", "-e", "dhcpv6.duidll.link_layer_addr",
		"-e", "dhcpv6.duidllt.link_layer_addr", "-e", "dhcpv6.client_domain", "-e", "dhcpv6.vendorclass.enterprise",
		"-e", "dhcpv6.vendorclass.data", "-e", "dhcpv6.requested_option_code", "-e", "dhcpv6.iaaddr.ip")
	cmd.Env = append(cmd.Environ(), "TSHARK_RUN_AS_ROOT=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark: %v: %s", err, stderr.String())
	}
	names := map[string]string{"1": "solicit", "2": "advertise", "3": "request", "7": "reply"}
	var want []string
	for line := range strings.Lines(string(out)) {
		f := strings.Split(strings.TrimRight(line, "\n"), "\t")
		if len(f) != 10 {
			t.Fatalf("tshark line %q", line)
		}
		frame, typ, mac := f[0], names[f[1]], f[3]
		duids := strings.Split(f[2], ",")
		client := "dhcpv6.message_type=" + typ + " dhcpv6.duid=" + duids[0] + " dhcpv6.duid_type=ll"
		if typ == "solicit" || typ == "request" {
			host := strings.TrimSuffix(f[5], ".")
			vendor := f[6] + ":" + f[7]
			want = append(want, frame+"|sender|"+mac+"|invalid IP|"+host+"|"+client+" dhcpv6.fqdn="+host+
				" dhcpv6.vendor_class="+vendor+" dhcpv6.oro="+f[8])
			continue
		}
		ip := f[9]
		if ip == "" || typ == "advertise" {
			ip = "invalid IP"
		}
		want = append(want, frame+"|receiver|"+mac+"|"+ip+"||"+client,
			frame+"|sender|"+f[4]+"|invalid IP||dhcpv6.message_type="+typ+" dhcpv6.server_duid="+duids[1]+" dhcpv6.duid_type=llt")
	}
	if got := decodeCapture(t); !reflect.DeepEqual(got, want) {
		t.Errorf("expected %q\ngot      %q", want, got)
	}
}
