package dhcpv6

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

func mac(s string) protocols.MAC {
	var m protocols.MAC
	b, err := hex.DecodeString(strings.ReplaceAll(s, ":", ""))
	if err != nil || len(b) != 6 {
		panic("bad MAC " + s)
	}
	copy(m[:], b)
	return m
}

func facts(kv ...string) []protocols.Fact {
	var out []protocols.Fact
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, protocols.Fact{Name: kv[i], Value: kv[i+1]})
	}
	return out
}

func decode(data []byte) ([]protocols.Observation, error) {
	var got []protocols.Observation
	d := Spec().New(protocols.FlowInfo{Transport: protocols.UDP})
	err := d.Feed(protocols.FromClient, data, time.Time{}, func(o protocols.Observation) { got = append(got, o) })
	return got, err
}

var fixtures = []struct {
	name string
	hex  string
	want []protocols.Observation
}{
	{
		// ndpi-android.pcap frame 69: Solicit, xid d8e4fe; client id DUID-LLT
		// (type 1, hw 1, time 25e5148e, 4c:6a:f6:9f:f6:27); IA_NA iaid 0e0008ca;
		// elapsed time 0; ORO 23, 24.
		name: "android solicit",
		hex: "01d8e4fe" + "0001000e0001000125e5148e4c6af69ff627" + "0003000c0e0008ca0000000000000000" +
			"000800020000" + "0006000400170018",
		want: []protocols.Observation{{
			Protocol: "dhcpv6", Source: "dhcpv6.solicit", About: protocols.Sender, Role: "client",
			MAC: mac("4c:6a:f6:9f:f6:27"),
			Facts: facts(FactMessageType, "solicit", FactDUID, "0001000125e5148e4c6af69ff627", FactDUIDType, "llt",
				FactORO, "23,24"),
		}},
	},
	{
		// Hand-made Request: client id DUID-LL 00:1b:21:77:00:07; server id
		// DUID-EN 9 (0c0b0a090807); FQDN flags 1 "infusion-07.icu.example";
		// vendor class enterprise 9, "BD-Alaris-PC"; ORO 23, 24, 39, 17.
		name: "request with fqdn and vendor class",
		hex: "03123456" + "0001000a00030001001b21770007" + "0002000c0002000000090c0b0a090807" +
			"0027001a010b696e667573696f6e2d303703696375076578616d706c6500" +
			"0010001200000009000c42442d416c617269732d5043" + "000600080017001800270011",
		want: []protocols.Observation{{
			Protocol: "dhcpv6", Source: "dhcpv6.request", About: protocols.Sender, Role: "client",
			MAC: mac("00:1b:21:77:00:07"), Hostname: "infusion-07.icu.example",
			Facts: facts(FactMessageType, "request", FactDUID, "00030001001b21770007", FactDUIDType, "ll",
				FactFQDN, "infusion-07.icu.example", FactVendorClass, "9:BD-Alaris-PC", FactORO, "23,24,39,17"),
		}},
	},
	{
		// Hand-made Reply: server id DUID-EN 9; client id DUID-LL
		// 00:1b:21:77:00:07; IA_NA with IA Address fd00::7.
		name: "reply",
		hex: "07123456" + "0002000c0002000000090c0b0a090807" + "0001000a00030001001b21770007" +
			"000300280e0008ca0000070800000b40" + "00050018fd00000000000000000000000000000700000e1000001c20",
		want: []protocols.Observation{
			{
				Protocol: "dhcpv6", Source: "dhcpv6.reply", About: protocols.Receiver, Role: "client",
				MAC: mac("00:1b:21:77:00:07"), IP: netip.MustParseAddr("fd00::7"),
				Facts: facts(FactMessageType, "reply", FactDUID, "00030001001b21770007", FactDUIDType, "ll"),
			},
			{
				Protocol: "dhcpv6", Source: "dhcpv6.reply", About: protocols.Sender, Role: "server",
				Facts: facts(FactMessageType, "reply", FactServerDUID, "0002000000090c0b0a090807", FactDUIDType, "en",
					FactEnterpriseNumber, "9"),
			},
		},
	},
}

func TestFeedFixtures(t *testing.T) {
	for i, tc := range fixtures {
		data := unhex(t, tc.hex)
		if !Detect(protocols.FromClient, data) {
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

var negatives = []struct {
	name   string
	hex    string
	detect bool
	want   error
}{
	{"empty", "", false, protocols.ErrMalformed},
	{"type 0", "00000000", false, protocols.ErrMalformed},
	{"dns query on 547", "a0f4010000010000000000000474696d6507616e64726f696403636f6d0000010001", false, protocols.ErrMalformed},
	{"relay-forw", "0c00" + strings.Repeat("00", 32), false, protocols.ErrUnsupported},
	{"option past the end", "01d8e4fe0001000e000100", false, protocols.ErrMalformed},
	{"trailing bytes", "01d8e4fe000800020000ff", false, protocols.ErrMalformed},
	{"over the length cap", "01d8e4fe" + strings.Repeat("00", MaxMessageLen), true, protocols.ErrTooLong},
}

func TestFeedNegative(t *testing.T) {
	for i, tc := range negatives {
		data := unhex(t, tc.hex)
		if d := Detect(protocols.FromClient, data); d != tc.detect {
			t.Errorf("Test %d (%s): expected Detect = %v, got %v", i, tc.name, tc.detect, d)
		}
		got, err := decode(data)
		if !errors.Is(err, tc.want) {
			t.Errorf("Test %d (%s): expected error wrapping %v, got %v", i, tc.name, tc.want, err)
		}
		if len(got) != 0 {
			t.Errorf("Test %d (%s): expected no observation, got %+v", i, tc.name, got)
		}
	}
}

func TestDUID(t *testing.T) {
	tests := []struct {
		name, hex, kind, mac, en string
	}{
		{"llt", "0001000125e5148e4c6af69ff627", "llt", "4c:6a:f6:9f:f6:27", ""},
		{"ll", "00030001001b21770007", "ll", "00:1b:21:77:00:07", ""},
		{"ll not ethernet", "00030006001b21770007", "ll", "", ""},
		{"ll multicast", "00030001011b21770007", "ll", "", ""},
		{"en", "0002000001370102", "en", "", "311"},
		{"en short", "00020000", "en", "", ""},
		{"uuid", "0004" + strings.Repeat("ab", 16), "uuid", "", ""},
		{"other", "0009aa", "9", "", ""},
		{"short", "00", "", "", ""},
	}
	for i, tc := range tests {
		d := parseDUID(unhex(t, tc.hex))
		m := ""
		if !d.mac.IsZero() {
			m = d.mac.String()
		}
		if d.kind != tc.kind || m != tc.mac || d.enterprise != tc.en {
			t.Errorf("Test %d (%s): expected %q %q %q, got %q %q %q", i, tc.name, tc.kind, tc.mac, tc.en, d.kind, m, d.enterprise)
		}
	}
}

func TestSpec(t *testing.T) {
	s := Spec()
	if s.Name != "dhcpv6" || s.Transport != protocols.UDP || !reflect.DeepEqual(s.Ports, []uint16{546, 547}) || s.Detect == nil || s.New == nil {
		t.Errorf("unexpected spec %+v", s)
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
		for _, d := range corpustest.UDP(f, path, ClientPort, ServerPort) {
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
		if len(got) == 0 || len(got) > 2 {
			t.Fatalf("expected one or two observations, got %d", len(got))
		}
		for _, o := range got {
			if o.Protocol != "dhcpv6" || !strings.HasPrefix(o.Source, "dhcpv6.") {
				t.Fatalf("bad protocol or source in %+v", o)
			}
			checkText(t, "hostname", o.Hostname, maxString)
			for _, fct := range o.Facts {
				if fct.Value == "" {
					t.Fatalf("empty fact %s", fct.Name)
				}
				checkText(t, fct.Name, fct.Value, 2*maxString)
			}
		}
	})
}

func checkText(t *testing.T, name, s string, limit int) {
	t.Helper()
	if len(s) > limit {
		t.Fatalf("%s: %d bytes, cap %d", name, len(s), limit)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			t.Fatalf("%s: byte %#x in %q", name, s[i], s)
		}
	}
}

func BenchmarkFeed(b *testing.B) {
	for _, tc := range fixtures {
		b.Run(strings.ReplaceAll(tc.name, " ", "_"), func(b *testing.B) {
			data := unhex(b, tc.hex)
			d := New(protocols.FlowInfo{})
			emit := func(protocols.Observation) {}
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if err := d.Feed(protocols.FromClient, data, time.Time{}, emit); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestDependencies(t *testing.T) { corpustest.CheckDeps(t) }
