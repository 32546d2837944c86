package snmp

import (
	"bytes"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/iomt-sensor/iomt-sensor/protocols"
	"github.com/iomt-sensor/iomt-sensor/protocols/internal/corpustest"
)

// identityCapture is net-snmp 5.9.3 snmpd queried by snmpget/snmpwalk v1,
// v2c and v3 authPriv (testdata/README.md, "Identity captures").
const identityCapture = "../../testdata/captures/identity-snmp.pcap"

// captureSecrets are the community and the v3 user and pass phrases used to
// make the capture: no fact may contain them.
var captureSecrets = []string{"icu-r3ad-0nly", "icu-nms-ro", "auth-pass-8812", "priv-pass-8812"}

// decodeCapture feeds every SNMP datagram of the identity capture to a
// decoder for its flow.
func decodeCapture(t *testing.T) []obsLine {
	t.Helper()
	var out []obsLine
	for _, d := range corpustest.UDP(t, identityCapture, AgentPort, TrapPort) {
		fi := protocols.FlowInfo{Transport: protocols.UDP, Client: d.Src, Server: d.Dst}
		dir := protocols.FromClient
		if d.Src.Port() == AgentPort {
			fi.Client, fi.Server, dir = d.Dst, d.Src, protocols.FromServer
		}
		if !Detect(dir, d.Payload) {
			t.Errorf("frame %d: Detect = false", d.Frame)
		}
		err := New(fi).Feed(dir, d.Payload, time.Time{}, func(o protocols.Observation) {
			for _, s := range captureSecrets {
				if strings.Contains(o.Hostname, s) {
					t.Errorf("frame %d: hostname leaks %q", d.Frame, s)
				}
				for _, f := range o.Facts {
					if strings.Contains(f.Value, s) || strings.Contains(f.Name, s) {
						t.Errorf("frame %d: fact %s leaks %q", d.Frame, f.Name, s)
					}
				}
			}
			out = append(out, line("identity-snmp", strconv.Itoa(d.Frame), o))
		})
		if err != nil {
			t.Errorf("frame %d: %v", d.Frame, err)
		}
	}
	return out
}

// TestCaptureSecretsOnWire makes sure the secrecy check above means
// something: the community and the v3 user name are in the capture's bytes.
func TestCaptureSecretsOnWire(t *testing.T) {
	var all []byte
	for _, d := range corpustest.UDP(t, identityCapture, AgentPort) {
		all = append(all, d.Payload...)
	}
	for _, s := range captureSecrets[:2] {
		if !bytes.Contains(all, []byte(s)) {
			t.Errorf("%q not in the capture", s)
		}
	}
}

const (
	idDescr = "snmp.sys_descr=Philips IntelliVue MX800 Rev M.00.03 (iomt-testdata)"
	idName  = "snmp.sys_name=ICU-MONITOR-8"
	idV3    = "snmp.engine_id=80001f88044943552d4d4f4e49544f522d38|snmp.engine_enterprise=8072"
)

// captureWant is every observation of identity-snmp.pcap that says more
// than the SNMP version, as the decoder gives it and as tshark 4.0.17
// decodes the same packets (TestCaptureTshark derives them live).
var captureWant = []obsLine{
	{"identity-snmp", "4", "snmp.response|sender|server|ICU-MONITOR-8|snmp.version=1|" + idDescr + "|" + idName},
	{"identity-snmp", "6", "snmp.response|sender|server|ICU-MONITOR-8|snmp.version=2c|" + idName +
		"|snmp.sys_contact=Biomed Engineering <biomed@icu.hospital.test>|snmp.sys_location=ICU East, Bed 8"},
	{"identity-snmp", "8", "snmp.response|sender|server||snmp.version=2c|" + idDescr},
	{"identity-snmp", "10", "snmp.response|sender|server||snmp.version=2c|snmp.sys_object_id=1.3.6.1.4.1.8072.3.2.10"},
	{"identity-snmp", "14", "snmp.response|sender|server||snmp.version=2c|snmp.sys_contact=Biomed Engineering <biomed@icu.hospital.test>"},
	{"identity-snmp", "16", "snmp.response|sender|server|ICU-MONITOR-8|snmp.version=2c|" + idName},
	{"identity-snmp", "18", "snmp.response|sender|server||snmp.version=2c|snmp.sys_location=ICU East, Bed 8"},
	{"identity-snmp", "86", "snmp.report|sender|server||snmp.version=3|" + idV3},
	{"identity-snmp", "87", "snmp.encrypted|receiver|||snmp.version=3|" + idV3},
	{"identity-snmp", "88", "snmp.encrypted|sender|||snmp.version=3|" + idV3},
}

func TestCapture(t *testing.T) {
	got := decodeCapture(t)
	var informative []obsLine
	for _, l := range got {
		if strings.Count(l.text, "=") > 1 || strings.Split(l.text, "|")[3] != "" {
			informative = append(informative, l)
		}
	}
	compare(t, informative, captureWant)
	if len(got) != 85 {
		t.Errorf("expected 85 observations, got %d", len(got))
	}
}

// TestCaptureTshark compares the decoder with a live tshark run over the
// identity capture, when tshark is installed.
func TestCaptureTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not on PATH")
	}
	cmd := exec.Command(tshark, "-r", identityCapture, "-Y", "snmp", "-T", "pdml")
	cmd.Env = append(cmd.Environ(), "TSHARK_RUN_AS_ROOT=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark: %v: %s", err, stderr.String())
	}
	pkts, err := readPDML(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	var want []obsLine
	for _, p := range pkts {
		o, ok, err := expect(p)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			want = append(want, line("identity-snmp", p.frame, o))
		}
	}
	compare(t, decodeCapture(t), want)
}
