package dhcpv6

import (
	"bytes"
	"os"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/iomt-sensor/iomt-sensor/protocols/internal/corpustest"
)

// corpusFiles are the corpus captures that hold DHCPv6.
var corpusFiles = []string{"device-mixed/ndpi-android.pcap"}

// corpusWant is each DHCPv6 datagram of the corpus as "frame|mac|facts",
// as tshark 4.0 decodes it (dhcpv6.msgtype, dhcpv6.duid.bytes,
// dhcpv6.duidllt.link_layer_addr, dhcpv6.requested_option_code).
var corpusWant = []string{
	"69|4c:6a:f6:9f:f6:27|dhcpv6.message_type=solicit dhcpv6.duid=0001000125e5148e4c6af69ff627 dhcpv6.duid_type=llt dhcpv6.oro=23,24",
	"150|4c:6a:f6:9f:f6:27|dhcpv6.message_type=solicit dhcpv6.duid=0001000125e5148e4c6af69ff627 dhcpv6.duid_type=llt dhcpv6.oro=23,24",
}

func decodeCorpus(t *testing.T) []string {
	var out []string
	for _, file := range corpusFiles {
		for _, d := range corpustest.UDP(t, corpustest.File(t, file), ClientPort, ServerPort) {
			got, err := decode(d.Payload)
			if err != nil || len(got) != 1 {
				t.Fatalf("frame %d: %v, %d observations", d.Frame, err, len(got))
			}
			var fs []string
			for _, f := range got[0].Facts {
				fs = append(fs, f.Name+"="+f.Value)
			}
			out = append(out, strings.Join([]string{strconv.Itoa(d.Frame), got[0].MAC.String(), strings.Join(fs, " ")}, "|"))
		}
	}
	return out
}

func TestCorpus(t *testing.T) {
	if got := decodeCorpus(t); !reflect.DeepEqual(got, corpusWant) {
		t.Errorf("expected %q\ngot      %q", corpusWant, got)
	}
}

// TestCorpusTshark checks the decoded values against a live tshark run.
func TestCorpusTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not on PATH")
	}
	var want []string
	for _, file := range corpusFiles {
		cmd := exec.Command(tshark, "-r", corpustest.File(t, file), "-Y", "dhcpv6", "-T", "fields", "-E", "separator=/t", "-E", "aggregator=,",
			"-e", "frame.number", "-e", "dhcpv6.msgtype", "-e", "dhcpv6.duid.bytes", "-e", "dhcpv6.duid.type",
			"-e", "dhcpv6.duidllt.link_layer_addr", "-e", "dhcpv6.requested_option_code")
		cmd.Env = append(os.Environ(), "TSHARK_RUN_AS_ROOT=1")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("tshark: %v: %s", err, stderr.String())
		}
		for line := range strings.Lines(string(out)) {
			f := strings.Split(strings.TrimRight(line, "\n"), "\t")
			if len(f) != 6 {
				t.Fatalf("tshark line %q", line)
			}
			names := map[string]string{"1": "solicit", "3": "request", "7": "reply"}
			types := map[string]string{"1": "llt", "2": "en", "3": "ll", "4": "uuid"}
			want = append(want, f[0]+"|"+f[4]+"|dhcpv6.message_type="+names[f[1]]+" dhcpv6.duid="+f[2]+
				" dhcpv6.duid_type="+types[f[3]]+" dhcpv6.oro="+f[5])
		}
	}
	if got := decodeCorpus(t); !reflect.DeepEqual(got, want) {
		t.Errorf("expected %q\ngot      %q", want, got)
	}
}
