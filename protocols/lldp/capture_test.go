package lldp

import (
	"bytes"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/iomt-sensor/iomt-sensor/protocols"
	"github.com/iomt-sensor/iomt-sensor/protocols/internal/corpustest"
)

// identityCapture is lldpd 1.0.16 on two namespaces (testdata/README.md,
// "Identity captures"): a monitor and a gateway transmitting every second,
// then a shutdown LLDPDU (TTL 0) each.
const identityCapture = "../../testdata/captures/identity-lldp.pcap"

// decodeCapture feeds every LLDP frame of the identity capture to a fresh
// decoder.
func decodeCapture(t *testing.T) []lldpFields {
	t.Helper()
	var out []lldpFields
	for _, fr := range corpustest.Ethernet(t, identityCapture, EtherType) {
		if !Detect(protocols.FromClient, fr.Payload) {
			t.Errorf("frame %d: Detect = false", fr.Frame)
		}
		got, err := decode(fr.Payload)
		if err != nil {
			t.Errorf("frame %d: %v", fr.Frame, err)
		}
		for _, o := range got {
			out = append(out, reduce("identity-lldp", strconv.Itoa(fr.Frame), o))
		}
	}
	return out
}

// captureWant is every LLDPDU of identity-lldp.pcap as tshark 4.0.17 shows
// it (TestCaptureTshark derives the same from a live run).
var captureWant = func() []lldpFields {
	mon := lldpFields{chassis: "00:09:fb:77:00:40", port: "00:09:fb:77:00:40", ttl: "4", name: "icu-monitor-5",
		desc: "Philips IntelliVue MX750 (iomt-testdata)", pdsc: "eth0", caps: "bridge,wlan-ap,router,station",
		enabled: "station", mgmt: "10.77.0.64", mau: "54", hostname: "icu-monitor-5", mac: "00:09:fb:77:00:40", ip: "10.77.0.64"}
	gw := lldpFields{chassis: "00:1b:21:77:00:41", port: "00:1b:21:77:00:41", ttl: "4", name: "alaris-gw-01",
		desc: "BD Alaris Gateway 1.7 (iomt-testdata)", pdsc: "eth0", caps: "bridge,wlan-ap,router,station",
		enabled: "station", mgmt: "10.77.0.65", mau: "54", hostname: "alaris-gw-01", mac: "00:1b:21:77:00:41", ip: "10.77.0.65"}
	down := func(f lldpFields) lldpFields {
		return lldpFields{chassis: f.chassis, port: f.port, ttl: "0", mac: f.mac}
	}
	var out []lldpFields
	for i := 1; i < 20; i += 2 {
		m, g := mon, gw
		m.frame, g.frame = strconv.Itoa(i), strconv.Itoa(i+1)
		out = append(out, m, g)
	}
	out[18], out[19] = down(mon), down(gw)
	out[18].frame, out[19].frame = "19", "20"
	for i := range out {
		out[i].file = "identity-lldp"
	}
	return out
}()

func TestCapture(t *testing.T) { compare(t, decodeCapture(t), captureWant) }

// TestCaptureTshark compares the decoder with a live tshark run over the
// identity capture, when tshark is installed.
func TestCaptureTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not on PATH")
	}
	args := []string{"-r", identityCapture, "-Y", "lldp", "-T", "fields", "-E", "separator=|"}
	for _, f := range tsharkFields {
		args = append(args, "-e", f)
	}
	cmd := exec.Command(tshark, args...)
	cmd.Env = append(cmd.Environ(), "TSHARK_RUN_AS_ROOT=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark: %v: %s", err, stderr.String())
	}
	var want []lldpFields
	for line := range strings.Lines(strings.TrimSpace(string(out))) {
		f := strings.Split(strings.TrimRight(line, "\r\n"), "|")
		if len(f) != len(tsharkFields) {
			t.Fatalf("tshark: unexpected line %q", line)
		}
		w := lldpFields{file: "identity-lldp", frame: f[0], chassis: f[1], port: f[2] + f[3], ttl: f[4], name: f[5],
			desc: f[6], pdsc: f[7], caps: capsOf(t, f[8]), enabled: capsOf(t, f[9]), mgmt: f[10], mud: f[12],
			vlan: f[13], mau: numOf(t, f[14]), hostname: f[5], mac: f[1], ip: f[10]}
		want = append(want, w)
	}
	compare(t, decodeCapture(t), want)
}
