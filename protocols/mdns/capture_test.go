package mdns

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/iomt-sensor/iomt-sensor/protocols/internal/corpustest"
)

// identityCapture is avahi 0.8 in two namespaces (testdata/README.md,
// "Identity captures"): alaris-gw-02 publishes "Infusion Gateway"
// _ipp._tcp with printer-style TXT model keys and a _device-info._tcp
// record; nurse-ws-07 browses and resolves _ipp._tcp with avahi-browse.
const identityCapture = "../../testdata/captures/identity-mdns.pcap"

func decodeCapture(t *testing.T) []wantMsg {
	t.Helper()
	var out []wantMsg
	for _, d := range corpustest.UDP(t, identityCapture, Port) {
		got, err := decode(d.Payload)
		if err != nil {
			t.Errorf("frame %d: %v", d.Frame, err)
		}
		m := wantMsg{File: "identity-mdns", Frame: d.Frame}
		for _, o := range got {
			m.Obs = append(m.Obs, compact(o))
		}
		out = append(out, m)
	}
	return out
}

// TestCaptureTshark compares the decoder with a live tshark run over the
// identity capture, when tshark is installed.
func TestCaptureTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not on PATH")
	}
	want := tsharkExpect(t, tshark, "identity-mdns", identityCapture)
	if os.Getenv("MDNS_PRINT_WANT") == "1" {
		for _, m := range want {
			t.Logf("%#v,", m)
		}
	}
	compareMsgs(t, decodeCapture(t), want)
}

// TestCaptureFacts checks the identity the gateway publishes, as tshark
// 4.0.17 shows it (dns.txt, dns.srv.port, dns.a, dns.ptr.domain_name).
func TestCaptureFacts(t *testing.T) {
	var all []string
	for _, m := range decodeCapture(t) {
		all = append(all, m.Obs...)
	}
	text := strings.Join(all, "\n")
	for _, want := range []string{
		"mdns.txt.ty=BD Alaris Gateway",
		"mdns.txt.usb_mfg=BD",
		"mdns.txt.usb_mdl=Alaris8015",
		"mdns.txt.product=(Alaris 8015 PC Unit)",
		"mdns.txt.model=Alaris8015",
		"mdns.service=_ipp._tcp",
		"mdns.service=_device-info._tcp",
		"|10.77.0.66|alaris-gw-02.local|",
		"|10.77.0.67|nurse-ws-07.local|",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %q in\n%s", want, text)
		}
	}
	if slices.ContainsFunc(all, func(s string) bool { return strings.Contains(s, "nurse-ws-07") && strings.Contains(s, "Alaris") }) {
		t.Error("the gateway's model attributed to the workstation")
	}
}

// captureWant is each mDNS datagram of identity-mdns.pcap as the decoder
// gives it and as tshark 4.0.17 decodes it (TestCaptureTshark).
var captureWant = []wantMsg{
	wantMsg{File: "identity-mdns", Frame: 2, Obs: []string(nil)},
	wantMsg{File: "identity-mdns", Frame: 3, Obs: []string(nil)},
	wantMsg{File: "identity-mdns", Frame: 5, Obs: []string{"sender|mdns.response||10.77.0.66|alaris-gw-02.local|mdns.hostname=alaris-gw-02.local"}},
	wantMsg{File: "identity-mdns", Frame: 7, Obs: []string(nil)},
	wantMsg{File: "identity-mdns", Frame: 8, Obs: []string{"sender|mdns.response||10.77.0.66|alaris-gw-02.local|mdns.hostname=alaris-gw-02.local"}},
	wantMsg{File: "identity-mdns", Frame: 9, Obs: []string(nil)},
	wantMsg{File: "identity-mdns", Frame: 11, Obs: []string(nil)},
	wantMsg{File: "identity-mdns", Frame: 12, Obs: []string{"sender|mdns.response||10.77.0.67|nurse-ws-07.local|mdns.hostname=nurse-ws-07.local"}},
	wantMsg{File: "identity-mdns", Frame: 13, Obs: []string{"sender|mdns.response||10.77.0.67|nurse-ws-07.local|mdns.hostname=nurse-ws-07.local"}},
	wantMsg{File: "identity-mdns", Frame: 14, Obs: []string{"sender|mdns.response||10.77.0.66|alaris-gw-02.local|mdns.hostname=alaris-gw-02.local"}},
	wantMsg{File: "identity-mdns", Frame: 15, Obs: []string(nil)},
	wantMsg{File: "identity-mdns", Frame: 16, Obs: []string(nil)},
	wantMsg{File: "identity-mdns", Frame: 17, Obs: []string(nil)},
	wantMsg{File: "identity-mdns", Frame: 18, Obs: []string(nil)},
	wantMsg{File: "identity-mdns", Frame: 19, Obs: []string(nil)},
	wantMsg{File: "identity-mdns", Frame: 20, Obs: []string{"sender|mdns.response||10.77.0.66|alaris-gw-02.local|mdns.hostname=alaris-gw-02.local", "sender|mdns.response|||alaris-gw-02.local|mdns.instance=Infusion Gateway mdns.instance=alaris-gw-02 mdns.service=_device-info._tcp mdns.service=_ipp._tcp mdns.srv=_device-info._tcp:0 mdns.srv=_ipp._tcp:631 mdns.txt.model=Alaris8015 mdns.txt.product=(Alaris 8015 PC Unit) mdns.txt.ty=BD Alaris Gateway mdns.txt.usb_mdl=Alaris8015 mdns.txt.usb_mfg=BD"}},
	wantMsg{File: "identity-mdns", Frame: 21, Obs: []string{"sender|mdns.response||10.77.0.67|nurse-ws-07.local|mdns.hostname=nurse-ws-07.local"}},
	wantMsg{File: "identity-mdns", Frame: 22, Obs: []string{"sender|mdns.response||10.77.0.66|alaris-gw-02.local|mdns.hostname=alaris-gw-02.local", "sender|mdns.response|||alaris-gw-02.local|mdns.instance=Infusion Gateway mdns.instance=alaris-gw-02 mdns.service=_device-info._tcp mdns.service=_ipp._tcp mdns.srv=_device-info._tcp:0 mdns.srv=_ipp._tcp:631 mdns.txt.model=Alaris8015 mdns.txt.product=(Alaris 8015 PC Unit) mdns.txt.ty=BD Alaris Gateway mdns.txt.usb_mdl=Alaris8015 mdns.txt.usb_mfg=BD"}},
	wantMsg{File: "identity-mdns", Frame: 23, Obs: []string{"sender|mdns.query|client|||mdns.query=_ipp._tcp"}},
	wantMsg{File: "identity-mdns", Frame: 24, Obs: []string{"sender|mdns.response||10.77.0.66|alaris-gw-02.local|mdns.hostname=alaris-gw-02.local", "sender|mdns.response|||alaris-gw-02.local|mdns.instance=Infusion Gateway mdns.instance=alaris-gw-02 mdns.service=_device-info._tcp mdns.service=_ipp._tcp mdns.srv=_device-info._tcp:0 mdns.srv=_ipp._tcp:631 mdns.txt.model=Alaris8015 mdns.txt.product=(Alaris 8015 PC Unit) mdns.txt.ty=BD Alaris Gateway mdns.txt.usb_mdl=Alaris8015 mdns.txt.usb_mfg=BD"}},
	wantMsg{File: "identity-mdns", Frame: 25, Obs: []string{"sender|mdns.response||10.77.0.66|alaris-gw-02.local|mdns.hostname=alaris-gw-02.local", "sender|mdns.response|||alaris-gw-02.local|mdns.instance=Infusion Gateway mdns.service=_ipp._tcp mdns.srv=_ipp._tcp:631 mdns.txt.product=(Alaris 8015 PC Unit) mdns.txt.ty=BD Alaris Gateway mdns.txt.usb_mdl=Alaris8015 mdns.txt.usb_mfg=BD"}},
	wantMsg{File: "identity-mdns", Frame: 26, Obs: []string{"sender|mdns.response||10.77.0.66|alaris-gw-02.local|mdns.hostname=alaris-gw-02.local", "sender|mdns.response|||alaris-gw-02.local|mdns.instance=alaris-gw-02 mdns.service=_device-info._tcp mdns.srv=_device-info._tcp:0 mdns.txt.model=Alaris8015"}},
}

func TestCapture(t *testing.T) { compareMsgs(t, decodeCapture(t), captureWant) }
