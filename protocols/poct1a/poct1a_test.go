package poct1a

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/iomt-sensor/iomt-sensor/protocols"
	"github.com/iomt-sensor/iomt-sensor/protocols/internal/corpustest"
)

// There is no public POCT1-A capture. The messages below follow the
// POCT1-A2 message layouts (CLSI POCT1-A2, the device messaging layer:
// every message a root element named after its type, an HDR object, then
// the type's objects, values in V attributes) as vendors' public interface
// specifications print them (Quidel Sofia's POCT1-A2 interface: HEL.R01,
// ACK.R01, DST.R01, OBS.R01 examples). They are spec-derived, not captured.

const (
	cli = protocols.FromClient
	srv = protocols.FromServer
)

// hello: HEL.R01, the device's hello (POCT1-A2 "HEL.R01": HDR, DEV with
// DCP and DSC). A PT object is planted where it does not belong: it must
// not be read.
const hello = `<?xml version="1.0" encoding="utf-8"?>
<HEL.R01>
  <HDR>
    <HDR.message_type V="HEL.R01"/>
    <HDR.control_id V="00001"/>
    <HDR.version_id V="POCT1"/>
    <HDR.creation_dttm V="2017-12-07T11:48:49-00:00"/>
  </HDR>
  <DEV>
    <DEV.device_id V="00:06:66:00:22:A1"/>
    <DEV.vendor_id V="QUIDEL"/>
    <DEV.model_id V="SOFIA-2"/>
    <DEV.serial_id V="00010387"/>
    <DEV.manufacturer_name V="QUIDEL"/>
    <DEV.hw_version V="00.03.01"/>
    <DEV.sw_version V="02.03.01"/>
    <DEV.device_name V="Sofia"/>
    <DCP>
      <DCP.application_timeout V="100"/>
    </DCP>
    <DSC>
      <DSC.connection_profile_cd V="CS"/>
      <DSC.topics_supported_cd V="DTV"/>
      <DSC.max_message_sz V="1000"/>
    </DSC>
  </DEV>
  <PT>
    <PT.patient_id V="PATIENT-4711"/>
    <PT.name V="RICHARD ROE"/>
  </PT>
</HEL.R01>
`

// ack: ACK.R01 from the data manager (POCT1-A2 "ACK.R01": HDR, ACK).
const ack = `<?xml version="1.0" encoding="utf-8"?><ACK.R01><HDR><HDR.message_type V="ACK.R01"/><HDR.control_id V="4011"/><HDR.version_id V="POCT1"/><HDR.creation_dttm V="2019-05-20T08:21:50-00:00"/></HDR><ACK><ACK.type_cd V="AA"/><ACK.type_id V="AA"/><ACK.ack_control_id V="00001"/></ACK></ACK.R01>`

// status: DST.R01 (POCT1-A2 "DST.R01": HDR, DST).
const status = `<DST.R01><HDR><HDR.message_type V="DST.R01"/><HDR.control_id V="00002"/><HDR.version_id V="POCT1"/><HDR.creation_dttm V="2017-12-07T11:48:52-00:00"/></HDR><DST><DST.status_dttm V="2017-12-07T11:48:52-00:00"/><DST.new_observations_qty V="1"/><DST.condition_cd V="R"/></DST></DST.R01>`

// observation: OBS.R01, a patient result (POCT1-A2 "OBS.R01": HDR, SVC
// with PT, OBS, OPR, ORD, RGT). Never parsed: none of it may come out.
const observation = `<OBS.R01><HDR><HDR.message_type V="OBS.R01"/><HDR.control_id V="00027"/><HDR.version_id V="POCT1"/></HDR><SVC><SVC.role_cd V="OBS"/><SVC.observation_dttm V="2019-02-22T11:01:29-00:00"/><PT><PT.patient_id V="PATIENT-4711"/><PT.name V="RICHARD ROE"/><OBS><OBS.observation_id V="Flu A" SN="QUIDEL"/><OBS.qualitative_value V="negative"/></OBS></PT><OPR><OPR.operator_id V="NURSE-JANE"/></OPR></SVC></OBS.R01>`

// phi is what the planted patient data holds.
var phi = []string{"PATIENT-4711", "RICHARD", "ROE", "Flu A", "negative", "NURSE-JANE", "OBS.R01"}

type chunk struct {
	dir  protocols.Direction
	data string
	gap  int
}

// compact renders an observation as "about|source|role|mac|name=value;...".
func compact(o protocols.Observation) string {
	var f []string
	for _, x := range o.Facts {
		f = append(f, x.Name+"="+x.Value)
	}
	mac := ""
	if !o.MAC.IsZero() {
		mac = o.MAC.String()
	}
	about := "sender"
	if o.About == protocols.Receiver {
		about = "receiver"
	}
	return strings.Join([]string{about, o.Source, o.Role, mac, strings.Join(f, ";")}, "|")
}

func run(cs []chunk) ([]string, error) {
	d := New(protocols.FlowInfo{Transport: protocols.TCP})
	var out []string
	emit := func(o protocols.Observation) {
		if o.Protocol != "poct1a" {
			out = append(out, "bad protocol")
		}
		out = append(out, compact(o))
	}
	var first error
	for _, c := range cs {
		if c.gap > 0 {
			d.Gap(c.dir, c.gap, time.Time{}, emit)
			continue
		}
		if err := d.Feed(c.dir, []byte(c.data), time.Time{}, emit); err != nil && first == nil {
			first = err
		}
	}
	d.Close(time.Time{}, emit)
	return out, first
}

const (
	wantHello = "sender|poct1a.hello|client|00:06:66:00:22:a1|poct1a.message_type=HEL.R01;poct1a.version=POCT1;poct1a.device_id=00:06:66:00:22:A1;" +
		"poct1a.vendor=QUIDEL;poct1a.model=SOFIA-2;poct1a.serial=00010387;poct1a.manufacturer=QUIDEL;poct1a.hardware_version=00.03.01;" +
		"poct1a.software_version=02.03.01;poct1a.device_name=Sofia"
	wantAck    = "sender|poct1a.ack|server||poct1a.message_type=ACK.R01;poct1a.version=POCT1;poct1a.ack_type=AA"
	wantStatus = "sender|poct1a.status|client||poct1a.message_type=DST.R01;poct1a.version=POCT1;poct1a.condition=R"
)

// split returns s cut into pieces of n bytes.
func split(dir protocols.Direction, s string, n int) []chunk {
	var out []chunk
	for len(s) > n {
		out = append(out, chunk{dir: dir, data: s[:n]})
		s = s[n:]
	}
	return append(out, chunk{dir: dir, data: s})
}

func TestFeedFixtures(t *testing.T) {
	tests := []struct {
		name string
		in   []chunk
		want []string
	}{
		{"introduction", []chunk{{cli, hello, 0}, {srv, ack, 0}, {cli, status, 0}, {srv, ack, 0}, {cli, observation, 0}, {srv, ack, 0}, {cli, status, 0}},
			[]string{wantHello, wantAck, wantStatus}},
		{"one segment", []chunk{{cli, hello + status + observation + status, 0}}, []string{wantHello, wantStatus}},
		{"byte by byte", split(cli, hello+observation+status, 1), []string{wantHello, wantStatus}},
		{"7-byte pieces", split(cli, "\x02"+hello+"\x04"+observation+status, 7), []string{wantHello, wantStatus}},
		{"gap in hello", []chunk{{cli, hello[:200], 0}, {cli, "", 50}, {cli, hello[250:], 0}, {cli, status, 0}}, []string{wantStatus}},
		{"text values", []chunk{{cli, "<HEL.R01><HDR><HDR.version_id>POCT1</HDR.version_id></HDR><DEV><DEV.serial_id> SN-1 </DEV.serial_id></DEV></HEL.R01>", 0}},
			[]string{"sender|poct1a.hello|client||poct1a.message_type=HEL.R01;poct1a.version=POCT1;poct1a.serial=SN-1"}},
		{"nested DEV ignored", []chunk{{cli, "<HEL.R01><HDR/><X><DEV><DEV.serial_id V=\"NO\"/></DEV></X><DEV><DEV.serial_id V=\"YES\"/></DEV></HEL.R01>", 0}},
			[]string{"sender|poct1a.hello|client||poct1a.message_type=HEL.R01;poct1a.serial=YES"}},
	}
	for i, tc := range tests {
		got, err := run(tc.in)
		if err != nil {
			t.Errorf("Test %d (%s): unexpected error %v", i, tc.name, err)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Test %d (%s):\nexpected %q\ngot      %q", i, tc.name, tc.want, got)
		}
		all := strings.Join(got, "\n")
		for _, p := range phi {
			if strings.Contains(all, p) {
				t.Errorf("Test %d (%s): planted patient data %q in observations", i, tc.name, p)
			}
		}
	}
}

func TestDetect(t *testing.T) {
	for i, tc := range []struct {
		in   string
		want bool
	}{
		{hello, true}, {ack, true}, {status, true}, {observation, true},
		{"\x02  <!-- x --><HEL.R01>\n<HDR>", true},
		{"<HEL.R01>", false},                              // no HDR yet
		{"<html><head></head></html>", false},             // HTML
		{"<?xml version=\"1.0\"?><soap:Envelope>", false}, // other XML
		{"<HEL.R1><HDR>", false},
	} {
		if got := Detect(cli, []byte(tc.in)); got != tc.want {
			t.Errorf("Test %d: expected %v for %q", i, tc.want, tc.in)
		}
	}
}

// TestFeedNegative: other traffic gives nothing, and the decoder gives up on
// a stream that plainly is not POCT1-A.
func TestFeedNegative(t *testing.T) {
	random := make([]byte, 70<<10)
	for i := range random {
		random[i] = byte(i*7919 + i>>3)
	}
	tests := []struct {
		name   string
		data   string
		reason string
	}{
		{"hl7", "\x0bMSH|^~\\&|POC|LAB|||20240101||ORU^R01|1|P|2.5\rPID|1||4711||ROE^RICHARD\r\x1c\r", ""},
		{"http", "GET /poct HTTP/1.1\r\nHost: dm\r\n\r\n<HEL.R01 is in a body but not xml", ""},
		{"random", string(random), "malformed"},
		{"not well-formed", strings.Repeat("<HEL.R01><HDR><a></b></HEL.R01>", 1) + strings.Repeat("<DST.R01><HDR></a></DST.R01>", 8), "malformed"},
		{"too deep", "<HEL.R01>" + strings.Repeat("<a>", 40) + "</HEL.R01>", ""},
		{"oversized", strings.Repeat("<OBS.R01>"+strings.Repeat("x", MaxMessageLen+1), 6), "too_long"},
	}
	for i, tc := range tests {
		if tc.name != "not well-formed" && Detect(cli, []byte(tc.data)) {
			t.Errorf("Test %d (%s): detected", i, tc.name)
		}
		got, err := run(split(cli, tc.data, 1460))
		if len(got) != 0 {
			t.Errorf("Test %d (%s): expected nothing, got %q", i, tc.name, got)
		}
		if protocols.Reason(err) != tc.reason {
			t.Errorf("Test %d (%s): expected reason %q, got %v", i, tc.name, tc.reason, err)
		}
	}
}

func TestSpec(t *testing.T) {
	s := Spec()
	if s.Name != "poct1a" || s.Transport != protocols.TCP || s.Detect == nil || s.New == nil || len(s.Ports) != 0 {
		t.Errorf("unexpected spec %+v", s)
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{hello, ack, status, observation, hello + observation + status} {
		f.Add([]byte(s), uint8(0))
		f.Add([]byte(s), uint8(17))
	}
	f.Fuzz(func(t *testing.T, data []byte, cut uint8) {
		Detect(cli, data)
		d := New(protocols.FlowInfo{})
		var obs []protocols.Observation
		emit := func(o protocols.Observation) { obs = append(obs, o) }
		n := int(cut) + 1
		for len(data) > 0 {
			p := data[:min(n, len(data))]
			data = data[len(p):]
			if err := d.Feed(cli, p, time.Time{}, emit); err != nil {
				if protocols.Reason(err) == "other" {
					t.Fatalf("error %v wraps no sentinel", err)
				}
				break
			}
		}
		d.Close(time.Time{}, emit)
		if len(obs) > 3 {
			t.Fatalf("more than one observation per kind: %d", len(obs))
		}
		for _, o := range obs {
			if o.Protocol != "poct1a" || !strings.HasPrefix(o.Source, "poct1a.") {
				t.Fatalf("bad observation %+v", o)
			}
			for _, fct := range o.Facts {
				if fct.Value == "" || len(fct.Value) > maxValue || !strings.HasPrefix(fct.Name, "poct1a.") {
					t.Fatalf("bad fact %q", fct)
				}
				for _, c := range []byte(fct.Value) {
					if c < 0x20 || c > 0x7e {
						t.Fatalf("unprintable fact %q", fct)
					}
				}
			}
		}
	})
}

// BenchmarkFeed measures the steady state: a device's DST.R01 heartbeats
// and the data manager's ACK.R01, framed but not parsed again.
func BenchmarkFeed(b *testing.B) {
	d := New(protocols.FlowInfo{})
	n := 0
	emit := func(o protocols.Observation) { n++ }
	d.Feed(cli, []byte(hello), time.Time{}, emit)
	d.Feed(cli, []byte(status), time.Time{}, emit)
	d.Feed(srv, []byte(ack), time.Time{}, emit)
	st, ak := []byte(status), []byte(ack)
	b.ReportAllocs()
	b.SetBytes(int64(len(st) + len(ak)))
	for b.Loop() {
		if err := d.Feed(cli, st, time.Time{}, emit); err != nil {
			b.Fatal(err)
		}
		if err := d.Feed(srv, ak, time.Time{}, emit); err != nil {
			b.Fatal(err)
		}
	}
	if n != 3 {
		b.Fatalf("expected 3 observations, got %d", n)
	}
}

// BenchmarkHello measures parsing a first hello (encoding/xml).
func BenchmarkHello(b *testing.B) {
	data := []byte(hello)
	n := 0
	emit := func(o protocols.Observation) { n++ }
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if err := New(protocols.FlowInfo{}).Feed(cli, data, time.Time{}, emit); err != nil {
			b.Fatal(err)
		}
	}
	if n == 0 {
		b.Fatal("nothing emitted")
	}
}

func TestDependencies(t *testing.T) { corpustest.CheckDeps(t) }
