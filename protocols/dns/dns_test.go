package dns

import (
	"encoding/hex"
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/iomt-sensor/iomt-sensor/protocols"
	"github.com/iomt-sensor/iomt-sensor/protocols/internal/corpustest"
)

func unhex(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func ip(s string) netip.Addr { return netip.MustParseAddr(s) }

func facts(kv ...string) []protocols.Fact {
	var out []protocols.Fact
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, protocols.Fact{Name: kv[i], Value: kv[i+1]})
	}
	return out
}

// decode feeds data to a fresh decoder and returns what it emitted.
func decode(data []byte) ([]protocols.Observation, error) {
	var got []protocols.Observation
	d := Spec().New(protocols.FlowInfo{Transport: protocols.UDP})
	err := d.Feed(protocols.FromServer, data, time.Time{}, func(o protocols.Observation) { got = append(got, o) })
	return got, err
}

var server = protocols.Observation{Protocol: "dns", Source: "dns.response", About: protocols.Sender, Role: "server"}

func answer(addr, name string, kv ...string) protocols.Observation {
	return protocols.Observation{Protocol: "dns", Source: "dns.response", IP: ip(addr), Hostname: name, Facts: facts(kv...)}
}

// fixtures are real messages from the corpus (file and frame named), and
// hand-made edge cases.
var fixtures = []struct {
	name string
	hex  string
	want []protocols.Observation
}{
	{
		// ndpi-android.pcap frame 91: response 0xa0f4, question time.android.com A,
		// answers c00c A 216.239.35.8, .0, .4, .12 (compressed owner names).
		name: "four A answers",
		hex: "a0f4818000010004000000000474696d6507616e64726f696403636f6d0000010001" +
			"c00c00010001000001180004d8ef2308" + "c00c00010001000001180004d8ef2300" +
			"c00c00010001000001180004d8ef2304" + "c00c00010001000001180004d8ef230c",
		want: []protocols.Observation{server,
			answer("216.239.35.8", "time.android.com", FactName, "time.android.com"),
			answer("216.239.35.0", "time.android.com", FactName, "time.android.com"),
			answer("216.239.35.4", "time.android.com", FactName, "time.android.com"),
			answer("216.239.35.12", "time.android.com", FactName, "time.android.com")},
	},
	{
		// ndpi-iphone.pcap frame 57: question gsp85-ssl.ls.apple.com A; answers
		// CNAME gsp85-ssl.ls2-apple.com.akadns.net, then that name (a pointer
		// into the CNAME's RDATA) A 17.130.2.46.
		name: "CNAME chain",
		hex: "247f818000010002000000000967737038352d73736c026c73056170706c6503636f6d0000010001" +
			"c00c0005000100000d8d00240967737038352d73736c096c73322d6170706c6503636f6d06616b61646e73036e657400" +
			"c034000100010000003f00041182022e",
		want: []protocols.Observation{server,
			answer("17.130.2.46", "gsp85-ssl.ls2-apple.com.akadns.net",
				FactName, "gsp85-ssl.ls2-apple.com.akadns.net", FactAlias, "gsp85-ssl.ls.apple.com")},
	},
	{
		// ndpi-iphone.pcap frame 174: basejumper.apple.com A, no answer, an SOA
		// in the authority section: only the server observation.
		name: "no answer",
		hex: "bb63818000010000000100000a626173656a756d706572056170706c6503636f6d0000010001" +
			"c01700060001000000df002b076e736572766572c0170a686f73746d6173746572c01777cfea700000038400000384001ec30000003840",
		want: []protocols.Observation{server},
	},
	{
		// Hand-made: 7.2.0.10.in-addr.arpa PTR -> pump7.icu.example.
		name: "reverse PTR",
		hex: "123481800001000100000000" + "01370132013002313007696e2d61646472046172706100000c0001" +
			"c00c000c00010000007800130570756d703703696375076578616d706c6500",
		want: []protocols.Observation{server,
			{Protocol: "dns", Source: "dns.response", IP: ip("10.0.2.7"), Hostname: "pump7.icu.example", Facts: facts(FactPTR, "pump7.icu.example")}},
	},
	{
		// Hand-made: infusion-07.icu.example AAAA fd00::7.
		name: "AAAA",
		hex: "beef81800001000100000000" + "0b696e667573696f6e2d303703696375076578616d706c6500001c0001" +
			"c00c001c00010000003c0010fd000000000000000000000000000007",
		want: []protocols.Observation{server,
			answer("fd00::7", "infusion-07.icu.example", FactName, "infusion-07.icu.example")},
	},
}

func TestFeedFixtures(t *testing.T) {
	for i, tc := range fixtures {
		data := unhex(t, tc.hex)
		if !Detect(protocols.FromServer, data) {
			t.Errorf("Test %d (%s): Detect = false, want true", i, tc.name)
		}
		got, err := decode(data)
		if err != nil {
			t.Errorf("Test %d (%s): unexpected error %v", i, tc.name, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Test %d (%s):\nexpected %+v\ngot      %+v", i, tc.name, tc.want, got)
		}
	}
}

// query is ndpi-android.pcap frame 88: a query for time.android.com A.
const query = "a0f4010000010000000000000474696d6507616e64726f696403636f6d0000010001"

// negatives must give no observation, and the named error (nil for none).
var negatives = []struct {
	name   string
	hex    string
	detect bool
	want   error
}{
	{"query", query, true, nil},
	{"empty", "", false, protocols.ErrMalformed},
	{"short header", "a0f48180", false, protocols.ErrMalformed},
	{"random bytes (opcode 3)", "9f3c1a7e55d2b0e4" + strings.Repeat("a5", 60), false, protocols.ErrUnsupported},
	// A DHCP BOOTREQUEST start: op 1, htype 1, hlen 6, hops 0.
	{"dhcp on port 53 (a query by its flags)", "01010600" + strings.Repeat("00", 300), false, nil},
	{"notify opcode", "a0f4a00000010000000000000474696d6507616e64726f696403636f6d0000010001", false, protocols.ErrUnsupported},
	// The question name is a pointer to itself.
	{"pointer loop", "123481800001000000000000c00c00010001", false, protocols.ErrMalformed},
	// The answer's RDATA length (0x0010) runs past the end.
	{"rdata past the end", "a0f4818000010001000000000474696d6507616e64726f696403636f6d0000010001c00c00010001000001180010d8ef2308", true, protocols.ErrMalformed},
	// A label of length 64.
	{"label too long", "123481800001000000000000" + "40" + strings.Repeat("61", 64) + "0000010001", false, protocols.ErrMalformed},
	// The answer count says 2, only one is there.
	{"missing answer", "a0f4818000010002000000000474696d6507616e64726f696403636f6d0000010001c00c00010001000001180004d8ef2308", true, protocols.ErrMalformed},
	{"over the length cap", "a0f48180" + strings.Repeat("00", MaxMessageLen), false, protocols.ErrTooLong},
}

func TestFeedNegative(t *testing.T) {
	for i, tc := range negatives {
		data := unhex(t, tc.hex)
		if d := Detect(protocols.FromClient, data); d != tc.detect {
			t.Errorf("Test %d (%s): expected Detect = %v, got %v", i, tc.name, tc.detect, d)
		}
		got, err := decode(data)
		if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
			t.Errorf("Test %d (%s): expected error wrapping %v, got %v", i, tc.name, tc.want, err)
		}
		if len(got) != 0 {
			t.Errorf("Test %d (%s): expected no observation, got %+v", i, tc.name, got)
		}
	}
}

func TestReverseAddr(t *testing.T) {
	tests := []struct {
		name, want string
	}{
		{"7.2.0.10.in-addr.arpa", "10.0.2.7"},
		{"7.2.0.10.IN-ADDR.ARPA", "10.0.2.7"},
		{"4.c.d.4.1.e.e.f.f.f.6.d.c.3.8.8.5.3.2.8.c.3.0.c.e.9.2.4.2.5.d.f.ip6.arpa", "fd52:429e:c03c:8235:883c:d6ff:fee1:4dc4"},
		{"2.0.10.in-addr.arpa", ""},
		{"256.2.0.10.in-addr.arpa", ""},
		{"07.2.0.10.in-addr.arpa", ""},
		{"a.2.0.10.in-addr.arpa", ""},
		{"in-addr.arpa", ""},
		{"4.c.d.4.ip6.arpa", ""},
		{"g.c.d.4.1.e.e.f.f.f.6.d.c.3.8.8.5.3.2.8.c.3.0.c.e.9.2.4.2.5.d.f.ip6.arpa", ""},
		{"4c.d.4.1.e.e.f.f.f.6.d.c.3.8.8.5.3.2.8.c.3.0.c.e.9.2.4.2.5.d.f..ip6.arpa", ""},
		{"example.com", ""},
	}
	for i, tc := range tests {
		a, ok := ReverseAddr([]byte(tc.name))
		got := ""
		if ok {
			got = a.String()
		}
		if got != tc.want {
			t.Errorf("Test %d (%s): expected %q, got %q", i, tc.name, tc.want, got)
		}
	}
}

func TestText(t *testing.T) {
	long := strings.Repeat("é", 200)
	tests := []struct {
		name, in, want string
	}{
		{"plain", "host.local", "host.local"},
		{"utf-8 kept", "Luca’s iMac", "Luca’s iMac"},
		{"controls dropped", "a\x00b\x1b[1m\x7fc", "ab[1mc"},
		{"invalid utf-8 dropped", "a\xffb\xc3", "ab"},
		{"trimmed", "  x  ", "x"},
		{"capped without a cut character", long, strings.Repeat("é", 127)},
	}
	for i, tc := range tests {
		if got := Text([]byte(tc.in)); got != tc.want {
			t.Errorf("Test %d (%s): expected %q, got %q", i, tc.name, tc.want, got)
		}
	}
}

func TestSpec(t *testing.T) {
	s := Spec()
	if s.Name != "dns" || s.Transport != protocols.UDP || !reflect.DeepEqual(s.Ports, []uint16{53}) || s.Detect == nil || s.New == nil {
		t.Errorf("unexpected spec %+v", s)
	}
}

// TestRecordCap checks that a message claiming many answers stops at
// MaxRecords without error.
func TestRecordCap(t *testing.T) {
	msg := unhex(t, "a0f4818000010050000000000474696d6507616e64726f696403636f6d0000010001")
	for range 80 {
		msg = append(msg, unhex(t, "c00c00010001000001180004d8ef2308")...)
	}
	got, err := decode(msg)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != MaxRecords { // the server observation plus MaxRecords-1 answers
		t.Errorf("expected %d observations, got %d", MaxRecords, len(got))
	}
}

func FuzzDecode(f *testing.F) {
	for _, tc := range fixtures {
		f.Add(unhex(f, tc.hex))
	}
	for _, tc := range negatives {
		if len(tc.hex) < 1000 {
			f.Add(unhex(f, tc.hex))
		}
	}
	corpustest.Seed(f, corpusFiles, func(path string) [][]byte {
		var out [][]byte
		for _, d := range corpustest.UDP(f, path, Port) {
			out = append(out, d.Payload)
		}
		return out
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		Detect(protocols.FromClient, data)
		got, err := decode(data)
		if err != nil {
			if len(got) != 0 {
				t.Fatalf("error %v with observations %+v", err, got)
			}
			if protocols.Reason(err) == "other" {
				t.Fatalf("error %v wraps no sentinel", err)
			}
			return
		}
		if len(got) > MaxRecords {
			t.Fatalf("%d observations, cap %d", len(got), MaxRecords)
		}
		for _, o := range got {
			if o.Protocol != "dns" || o.Source != "dns.response" {
				t.Fatalf("bad protocol or source in %+v", o)
			}
			checkText(t, "hostname", o.Hostname)
			for _, fct := range o.Facts {
				if fct.Value == "" {
					t.Fatalf("empty fact %s", fct.Name)
				}
				checkText(t, fct.Name, fct.Value)
			}
		}
	})
}

func checkText(t *testing.T, name, s string) {
	t.Helper()
	if len(s) > MaxName {
		t.Fatalf("%s: %d bytes, cap %d", name, len(s), MaxName)
	}
	if strings.ToValidUTF8(s, "") != s {
		t.Fatalf("%s: invalid UTF-8 in %q", name, s)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			t.Fatalf("%s: byte %#x in %q", name, s[i], s)
		}
	}
}

func BenchmarkFeed(b *testing.B) {
	for _, tc := range []struct{ name, hex string }{
		{"query", query},
		// The replay's typical response: pacs01.hosp.local A 10.0.10.21.
		{"one_A_answer", "1234818000010001000000000670616373303104686f7370056c6f63616c0000010001" +
			"c00c000100010000012c00040a000a15"},
		{"four_A_answers", fixtures[0].hex},
		{"cname_chain", fixtures[1].hex},
	} {
		b.Run(tc.name, func(b *testing.B) {
			data := unhex(b, tc.hex)
			d := New(protocols.FlowInfo{})
			emit := func(protocols.Observation) {}
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if err := d.Feed(protocols.FromServer, data, time.Time{}, emit); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestDependencies(t *testing.T) { corpustest.CheckDeps(t) }
