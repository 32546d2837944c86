package dicom

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/iomt-sensor/iomt-sensor/protocols"
	"github.com/iomt-sensor/iomt-sensor/protocols/internal/corpustest"
)

// chunk is bytes sent in one direction (hex), or a gap of gap bytes.
type chunk struct {
	dir protocols.Direction
	hex string
	gap int
}

const (
	c2s = protocols.FromClient
	s2c = protocols.FromServer
)

// compact renders an observation as "about|source|role|fact=value ...".
func compact(o protocols.Observation) string {
	about := "sender"
	if o.About == protocols.Receiver {
		about = "receiver"
	}
	var f []string
	for _, x := range o.Facts {
		f = append(f, x.Name+"="+x.Value)
	}
	if o.Protocol != Name {
		about = "bad protocol " + o.Protocol
	}
	return about + "|" + o.Source + "|" + o.Role + "|" + strings.Join(f, " ")
}

// run feeds data chunks to a fresh decoder, each split into pieces of at most
// split bytes (0: whole), closes it, and returns the observations and the
// first error.
func run(tb testing.TB, chunks []chunk, split int) ([]string, error) {
	tb.Helper()
	var got []string
	emit := func(o protocols.Observation) { got = append(got, compact(o)) }
	d := New(protocols.FlowInfo{Transport: protocols.TCP})
	var first error
	for _, c := range chunks {
		if c.gap > 0 {
			d.Gap(c.dir, c.gap, time.Time{}, emit)
			continue
		}
		b := unhex(tb, c.hex)
		for len(b) > 0 {
			n := len(b)
			if split > 0 {
				n = min(n, split)
			}
			if err := d.Feed(c.dir, b[:n], time.Time{}, emit); err != nil && first == nil {
				first = err
			}
			b = b[n:]
		}
	}
	d.Close(time.Time{}, emit)
	return got, first
}

var (
	rqHex, acHex = association()

	rqWant = []string{
		"sender|dicom.a-associate-rq|scu|dicom.ae_title=MODALITY1 dicom.application_context=1.2.840.10008.3.1.1.1 " +
			"dicom.sop_class=1.2.840.10008.5.1.4.1.1.2 dicom.sop_class=1.2.840.10008.1.1 " +
			"dicom.transfer_syntax=1.2.840.10008.1.2.1 dicom.transfer_syntax=1.2.840.10008.1.2 " +
			"dicom.max_pdu=16384 dicom.implementation_class_uid=1.2.276.0.7230010.3.0.3.6.7 dicom.implementation_version=OFFIS_DCMTK_367",
		"receiver|dicom.a-associate-rq||dicom.ae_title=PACS",
	}
	acWant = "sender|dicom.a-associate-ac|scp|dicom.ae_title=PACS dicom.application_context=1.2.840.10008.3.1.1.1 " +
		"dicom.accepted_sop_class=1.2.840.10008.5.1.4.1.1.2 " +
		"dicom.max_pdu=65536 dicom.implementation_class_uid=1.2.276.0.7230010.3.0.3.6.8 dicom.implementation_version=OFFIS_DCMTK_368"
	storeRQWant = "sender|dicom.c-store-rq||dicom.command=C-STORE-RQ dicom.sop_class=1.2.840.10008.5.1.4.1.1.2"
	deviceWant  = "sender|dicom.c-store-rq||dicom.modality=CT dicom.manufacturer=ACME Medical Systems dicom.institution=General Hospital " +
		"dicom.station_name=CT-ROOM-1 dicom.department=Radiology dicom.model=ScanMaster 3000 dicom.serial=SN-12345 dicom.software_versions=VE11A\\SP3"
	storeRSPWant = "sender|dicom.c-store-rsp||dicom.command=C-STORE-RSP dicom.status=0x0000 dicom.sop_class=1.2.840.10008.5.1.4.1.1.2"
)

func wants(parts ...any) []string {
	var out []string
	for _, p := range parts {
		switch v := p.(type) {
		case string:
			out = append(out, v)
		case []string:
			out = append(out, v...)
		}
	}
	return out
}

// storeFlow is an association, one C-STORE of the data set on context ctx,
// its response, a release and its reply.
func storeFlow(ctx int, explicit bool, pixels int) []chunk {
	ds := ctDataSet(explicit, pixels)
	half := len(ds) / 2 &^ 1
	return []chunk{
		{c2s, rqHex, 0},
		{s2c, acHex, 0},
		// Command in one PDV; the data set in two PDVs of two P-DATA-TF PDUs.
		{c2s, pdu("04", pdv(ctx, 0x03, cStoreRQ(1))), 0},
		{c2s, pdu("04", pdv(ctx, 0x00, ds[:half])) + pdu("04", pdv(ctx, 0x02, ds[half:])), 0},
		{s2c, pdu("04", pdv(ctx, 0x03, cStoreRSP(1, 0))), 0},
		{c2s, pdu("05", "00000000"), 0},
		{s2c, pdu("06", "00000000"), 0},
	}
}

var fixtures = []struct {
	name   string
	chunks []chunk
	want   []string
	err    string // protocols.Reason of the first error
}{
	{
		name:   "A-ASSOCIATE-RQ",
		chunks: []chunk{{c2s, rqHex, 0}},
		want:   rqWant,
	},
	{
		name:   "A-ASSOCIATE-RQ and AC",
		chunks: []chunk{{c2s, rqHex, 0}, {s2c, acHex, 0}},
		want:   wants(rqWant, acWant),
	},
	{
		// A-ASSOCIATE-RJ: 03 00 00000004, reserved 00, result 01
		// (rejected-permanent), source 01 (service-user), reason 07 (called
		// AE title not recognized).
		name:   "A-ASSOCIATE-RJ",
		chunks: []chunk{{c2s, rqHex, 0}, {s2c, "03 00 00000004 00 01 01 07", 0}},
		want: wants(rqWant, "sender|dicom.a-associate-rj||dicom.reject_result=1 (rejected-permanent) "+
			"dicom.reject_source=1 (DICOM UL service-user) dicom.reject_reason=7 (called-AE-title-not-recognized)"),
	},
	{
		name:   "A-ASSOCIATE-RJ transient, provider",
		chunks: []chunk{{s2c, "03 00 00000004 00 02 03 01", 0}},
		want: []string{"sender|dicom.a-associate-rj||dicom.reject_result=2 (rejected-transient) " +
			"dicom.reject_source=3 (DICOM UL service-provider (Presentation related function)) dicom.reject_reason=1 (temporary-congestion)"},
	},
	{
		// A-ABORT: 07 00 00000004 00 00, source 02 (provider), reason 02
		// (unexpected PDU); a second abort is not repeated.
		name:   "A-ABORT",
		chunks: []chunk{{c2s, "07 00 00000004 00 00 02 02", 0}, {s2c, "07 00 00000004 00 00 00 00", 0}},
		want:   []string{"sender|dicom.a-abort||dicom.abort_source=2 (DICOM UL service-provider) dicom.abort_reason=2 (unexpected-PDU)"},
	},
	{
		// C-ECHO on context 5 (verification), twice: emitted once.
		name: "C-ECHO",
		chunks: []chunk{
			{c2s, rqHex, 0}, {s2c, acHex, 0},
			{c2s, pdu("04", pdv(5, 0x03, commandSet(elemI(0, 2, uid(uidVerification)), elemI(0, 0x100, us(0x30)), elemI(0, 0x110, us(1)), elemI(0, 0x800, us(0x101))))), 0},
			{s2c, pdu("04", pdv(5, 0x03, commandSet(elemI(0, 2, uid(uidVerification)), elemI(0, 0x100, us(0x8030)), elemI(0, 0x120, us(1)), elemI(0, 0x800, us(0x101)), elemI(0, 0x900, us(0))))), 0},
			{c2s, pdu("04", pdv(5, 0x03, commandSet(elemI(0, 2, uid(uidVerification)), elemI(0, 0x100, us(0x30)), elemI(0, 0x110, us(2)), elemI(0, 0x800, us(0x101))))), 0},
			{s2c, pdu("04", pdv(5, 0x03, commandSet(elemI(0, 2, uid(uidVerification)), elemI(0, 0x100, us(0x8030)), elemI(0, 0x120, us(2)), elemI(0, 0x800, us(0x101)), elemI(0, 0x900, us(0))))), 0},
		},
		want: wants(rqWant, acWant,
			"sender|dicom.c-echo-rq||dicom.command=C-ECHO-RQ dicom.sop_class=1.2.840.10008.1.1",
			"sender|dicom.c-echo-rsp||dicom.command=C-ECHO-RSP dicom.status=0x0000 dicom.sop_class=1.2.840.10008.1.1"),
	},
	{
		name:   "C-STORE explicit VR",
		chunks: storeFlow(1, true, 4096),
		want: wants(rqWant, acWant, storeRQWant, deviceWant, storeRSPWant,
			"sender|dicom.a-release-rq||dicom.release=requested", "sender|dicom.a-release-rp||dicom.release=confirmed"),
	},
	{
		name:   "C-STORE implicit VR",
		chunks: storeFlow(3, false, 4096),
		want: wants(rqWant, acWant, storeRQWant, deviceWant, storeRSPWant,
			"sender|dicom.a-release-rq||dicom.release=requested", "sender|dicom.a-release-rp||dicom.release=confirmed"),
	},
	{
		// No association seen: the data set's encoding is guessed.
		name:   "C-STORE without association, explicit VR",
		chunks: storeFlow(1, true, 64)[2:5],
		want:   wants(storeRQWant, deviceWant, storeRSPWant),
	},
	{
		name:   "C-STORE without association, implicit VR",
		chunks: storeFlow(1, false, 64)[2:5],
		want:   wants(storeRQWant, deviceWant, storeRSPWant),
	},
	{
		// A second C-STORE with the same device: nothing new to say.
		name: "two C-STOREs",
		chunks: append(storeFlow(1, true, 64)[:5],
			chunk{c2s, pdu("04", pdv(1, 0x03, cStoreRQ(2))) + pdu("04", pdv(1, 0x02, ctDataSet(true, 64))), 0},
			chunk{s2c, pdu("04", pdv(1, 0x03, cStoreRSP(2, 0xb000))), 0}),
		want: wants(rqWant, acWant, storeRQWant, deviceWant, storeRSPWant,
			"sender|dicom.c-store-rsp||dicom.command=C-STORE-RSP dicom.status=0xb000 dicom.sop_class=1.2.840.10008.5.1.4.1.1.2"),
	},
	{
		// Command and data set as two PDVs of one P-DATA-TF PDU (PS3.8
		// 9.3.5: a PDU may hold several PDVs).
		name: "command and data set in one PDU",
		chunks: []chunk{
			{c2s, rqHex, 0}, {s2c, acHex, 0},
			{c2s, pdu("04", pdv(3, 0x03, cStoreRQ(1)), pdv(3, 0x02, ctDataSet(false, 64))), 0},
		},
		want: wants(rqWant, acWant, storeRQWant, deviceWant),
	},
	{
		// A gap inside the data set's PDU: the rest of that PDU is skipped
		// and parsing resumes at the next PDU.
		name: "gap inside a P-DATA-TF PDU",
		chunks: []chunk{
			{c2s, rqHex, 0}, {s2c, acHex, 0},
			{c2s, pdu("04", pdv(1, 0x03, cStoreRQ(1))), 0},
			{c2s, pdu("04", pdv(1, 0x02, ctDataSet(true, 64)))[:40], 0},
			{c2s, "", hexLen(pdu("04", pdv(1, 0x02, ctDataSet(true, 64)))) - 20},
			{c2s, pdu("05", "00000000"), 0},
		},
		want: wants(rqWant, acWant, storeRQWant, "sender|dicom.a-release-rq||dicom.release=requested"),
	},
	{
		// A gap at a PDU boundary: the direction is lost, the other goes on.
		name: "gap at a PDU boundary",
		chunks: []chunk{
			{c2s, rqHex, 0}, {c2s, "", 100}, {c2s, pdu("05", "00000000"), 0}, {s2c, pdu("06", "00000000"), 0},
		},
		want: wants(rqWant, "sender|dicom.a-release-rp||dicom.release=confirmed"),
	},
	{
		name:   "unknown PDU type",
		chunks: []chunk{{c2s, "09 00 00000004 00000000", 0}},
		err:    "malformed",
	},
	{
		name:   "A-ASSOCIATE-RQ over the cap",
		chunks: []chunk{{c2s, "01 00 00200000 0001 0000", 0}},
		err:    "too_long",
	},
	{
		name:   "A-ASSOCIATE-RQ item past its end",
		chunks: []chunk{{c2s, pdu("01", assocFixed("A", "B"), "10 00 0040 3132"), 0}},
		err:    "malformed",
	},
	{
		name:   "PDV past its PDU",
		chunks: []chunk{{c2s, "04 00 00000008 00000010 01 03 0000", 0}},
		err:    "malformed",
	},
	{
		name:   "A-RELEASE-RQ of bad length",
		chunks: []chunk{{c2s, "05 00 00000002 0000", 0}},
		err:    "malformed",
	},
}

func TestFeedFixtures(t *testing.T) {
	for i, tc := range fixtures {
		for _, split := range []int{0, 1, 7, 1000} {
			got, err := run(t, tc.chunks, split)
			if protocols.Reason(err) != tc.err {
				t.Errorf("Test %d (%s, split %d): expected error %q, got %v", i, tc.name, split, tc.err, err)
			}
			if tc.err == "" && !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Test %d (%s, split %d):\nexpected %s\ngot      %s", i, tc.name, split,
					strings.Join(tc.want, "\n         "), strings.Join(got, "\n         "))
			}
		}
	}
}

// TestPHI plants patient and study attributes in C-STORE data sets (whole,
// split, cut short, corrupted) and checks that none of them reaches an
// observation or an error.
func TestPHI(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, explicit := range []bool{true, false} {
		flow := storeFlow(1, explicit, 256)
		if !explicit {
			flow = storeFlow(3, explicit, 256)
		}
		var all string
		for _, c := range flow {
			all += c.hex
		}
		variants := [][]chunk{flow}
		b := unhex(t, all)
		for range 200 {
			v := append([]byte(nil), b...)
			switch rng.IntN(3) {
			case 0:
				v = v[:rng.IntN(len(v))]
			case 1:
				for range 3 {
					v[rng.IntN(len(v))] = byte(rng.IntN(256))
				}
			case 2:
				i := rng.IntN(len(v))
				v = append(v[:i], v[min(len(v), i+rng.IntN(64)):]...)
			}
			variants = append(variants, []chunk{{c2s, fmt.Sprintf("%x", v), 0}})
		}
		for i, chunks := range variants {
			for _, split := range []int{0, 3} {
				got, err := run(t, chunks, split)
				text := strings.Join(got, "\n")
				if err != nil {
					text += "\n" + err.Error()
				}
				for _, p := range phi {
					if strings.Contains(text, p) {
						t.Fatalf("Test %d (explicit %v, split %d): planted %q leaked:\n%s", i, explicit, split, p, text)
					}
				}
			}
		}
	}
}

// negatives are other traffic on DICOM's ports.
var negatives = []struct {
	name string
	data string
}{
	{"HTTP request", ascii("GET / HTTP/1.1\r\nHost: pacs\r\n\r\n")},
	{"HTTP response", ascii("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")},
	{"TLS ClientHello", "16030100c4010000c00303" + strings.Repeat("5a", 32) + "000002c02f0100007500000010000e00000b6578616d706c652e636f6d"},
	{"random", "8f1c2a9b00d3e4f5a6b7c8d9e0f1021324354657687980"},
	{"zeros", strings.Repeat("00", 80)},
	{"RQ-shaped, wrong version", "01 00 00000100 0002 0000" + ae("A") + ae("B") + strings.Repeat("00", 32)},
	{"RQ-shaped, binary AE title", "01 00 00000100 0001 0000 ffff" + strings.Repeat("00", 62)},
	{"RQ-shaped, too short a length", "01 00 00000020 0001 0000" + ae("A") + ae("B")},
	{"RJ-shaped, bad result", "03 00 00000004 00 05 01 01"},
	{"SSH banner", ascii("SSH-2.0-OpenSSH_9.2p1\r\n")},
}

func TestNegative(t *testing.T) {
	for i, tc := range negatives {
		b := unhex(t, tc.data)
		for _, dir := range []protocols.Direction{c2s, s2c} {
			if Detect(dir, b) {
				t.Errorf("Test %d (%s): expected no detection from the %v", i, tc.name, dir)
			}
			got, _ := run(t, []chunk{{dir, tc.data, 0}}, 0)
			if len(got) != 0 && tc.name != "RQ-shaped, wrong version" {
				t.Errorf("Test %d (%s): expected no observation, got %v", i, tc.name, got)
			}
		}
	}
}

func TestDetect(t *testing.T) {
	tests := []struct {
		name string
		dir  protocols.Direction
		data string
		want bool
	}{
		{"RQ from client", c2s, rqHex, true},
		{"RQ from server", s2c, rqHex, false},
		{"AC from server", s2c, acHex, true},
		{"AC from client", c2s, acHex, false},
		{"RJ from server", s2c, "03 00 00000004 00 01 01 07", true},
		{"RQ first 10 bytes", c2s, rqHex[:20], true},
		{"RQ first 9 bytes", c2s, rqHex[:18], false},
		{"P-DATA", c2s, pdu("04", pdv(1, 3, cStoreRQ(1))), false},
	}
	for i, tc := range tests {
		if got := Detect(tc.dir, unhex(t, tc.data)); got != tc.want {
			t.Errorf("Test %d (%s): expected %v, got %v", i, tc.name, tc.want, got)
		}
	}
}

func TestSpec(t *testing.T) {
	s := Spec()
	if s.Name != "dicom" || s.Transport != protocols.TCP || !reflect.DeepEqual(s.Ports, []uint16{104, 11112, 2762}) {
		t.Errorf("unexpected spec %+v", s)
	}
	if s.Detect == nil || s.New == nil {
		t.Fatal("spec lacks Detect or New")
	}
}

func TestDependencies(t *testing.T) { corpustest.CheckDeps(t) }

// TestCommandSources checks that every named command's source is its name
// in lower case under "dicom.".
func TestCommandSources(t *testing.T) {
	for v := range 1 << 16 {
		name, source := commandName(uint16(v))
		if name != "" && source != "dicom."+strings.ToLower(name) {
			t.Errorf("Test %#04x: expected source %q, got %q", v, "dicom."+strings.ToLower(name), source)
		}
	}
}
