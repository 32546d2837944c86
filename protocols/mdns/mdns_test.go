package mdns

import (
	"encoding/hex"
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/iomt-sensor/iomt-sensor/protocols"
	"github.com/iomt-sensor/iomt-sensor/protocols/dns"
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

func addr(ip, name string) protocols.Observation {
	return protocols.Observation{Protocol: "mdns", Source: "mdns.response", IP: netip.MustParseAddr(ip), Hostname: name, Facts: facts(FactHostname, name)}
}

const johanna = "johanna-QEMU-Virtual-Machine.local"

var fixtures = []struct {
	name string
	hex  string
	want []protocols.Observation
}{
	{
		// zeek-mdns.pcap frame 4 (from 10.0.2.7): response, 6 answers, all cache
		// flush: AAAA fd52:...:4dc4, PTR 4.c.d.4...ip6.arpa -> johanna-QEMU-
		// Virtual-Machine.local, AAAA fd52:...:f82f, PTR f.2.8.f...ip6.arpa ->
		// same, A 10.0.2.7, PTR 7.2.0.10.in-addr.arpa -> same. Each reverse PTR
		// names an address already given, so it adds nothing.
		name: "host announcement",
		hex: "0000840000000006000000001c6a6f68616e6e612d51454d552d5669727475616c2d4d616368696e65056c6f63616c00001c8001000000000010fd52429ec03c8235883cd6fffee14dc4" +
			"0134016301640134013101650165016601660166013601640163013301380138013501330132013801630133013001630165013901320134013201350164016603697036046172706100000c8001000000000002c00c" +
			"c00c001c8001000000000010fd52429ec03c823559685bc61563f82f" +
			"0166013201380166013301360135013101360163016201350138013601390135c06a000c8001000000000002c00c" +
			"c00c000180010000000000040a000207" +
			"01370132013002313007696e2d61646472c08e000c8001000000000002c00c",
		want: []protocols.Observation{
			addr("fd52:429e:c03c:8235:883c:d6ff:fee1:4dc4", johanna),
			addr("fd52:429e:c03c:8235:5968:5bc6:1563:f82f", johanna),
			addr("10.0.2.7", johanna),
		},
	},
	{
		// ndpi-android.pcap frame 43: query PTR _spotify-connect._tcp.local.
		name: "service query",
		hex:  "000000000001000000000000105f73706f746966792d636f6e6e656374045f746370056c6f63616c00000c0001",
		want: []protocols.Observation{{Protocol: "mdns", Source: "mdns.query", About: protocols.Sender, Role: "client",
			Facts: facts(FactQuery, "_spotify-connect._tcp")}},
	},
	{
		// Hand-made printer announcement: PTR _ipp._tcp.local -> "ICU Printer._ipp.
		// _tcp.local"; SRV 0 0 631 icu-printer.local; TXT txtvers=1, ty=HP
		// LaserJet 400, usb_MFG=HP, usb_MDL=LaserJet 400, adminurl=http://x/,
		// rp=ipp/print; A icu-printer.local 10.0.2.9. No compression.
		name: "printer announcement",
		hex: "000084000000000400000000" +
			"045f697070045f746370056c6f63616c00000c000100001194001d0b494355205072696e746572045f697070045f746370056c6f63616c00" +
			"0b494355205072696e746572045f697070045f746370056c6f63616c00002180010000007800190000000002770b6963752d7072696e746572056c6f63616c00" +
			"0b494355205072696e746572045f697070045f746370056c6f63616c000010800100000078005d09747874766572733d311274793d4850204c617365724a6574203430300a7573625f4d46473d4850147573625f4d444c3d4c617365724a6574203430301261646d696e75726c3d687474703a2f2f782f0c72703d6970702f7072696e74" +
			"0b6963752d7072696e746572056c6f63616c00000180010000007800040a000209",
		want: []protocols.Observation{
			addr("10.0.2.9", "icu-printer.local"),
			{Protocol: "mdns", Source: "mdns.response", About: protocols.Sender, Hostname: "icu-printer.local",
				Facts: facts(FactService, "_ipp._tcp", FactInstance, "ICU Printer", FactSRV, "_ipp._tcp:631",
					FactTXTPrefix+"ty", "HP LaserJet 400", FactTXTPrefix+"usb_mfg", "HP", FactTXTPrefix+"usb_mdl", "LaserJet 400")},
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
	{"no entries", "000084000000000000000000", false, nil},
	// An SSDP NOTIFY start on 5353.
	{"ssdp text", hex.EncodeToString([]byte("NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n\r\n")), false, protocols.ErrUnsupported},
	{"query for a host name", "00000000000100000000000004686f7374056c6f63616c0000010001", true, nil},
	{"pointer loop", "000084000000000100000000c00c000180010000000000040a000207", false, protocols.ErrMalformed},
	// SRV with 3 bytes of RDATA.
	{"short SRV", "000084000000000100000000" + "03616263045f697070045f746370056c6f63616c00" + "0021800100000078000300000a", true, protocols.ErrMalformed},
	// PTR whose target runs past the end.
	{"PTR target past the end", "000084000000000100000000" + "045f697070045f746370056c6f63616c00" + "000c800100000078000205ff", true, protocols.ErrMalformed},
	{"over the length cap", "00008400" + strings.Repeat("00", MaxMessageLen), false, protocols.ErrTooLong},
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

func TestServiceType(t *testing.T) {
	tests := []struct{ name, st, prefix string }{
		{"_ipp._tcp.local", "_ipp._tcp", ""},
		{"ICU Printer._ipp._tcp.local", "_ipp._tcp", "ICU Printer"},
		{"_printer._sub._ipp._tcp.local", "_ipp._tcp", "_printer._sub"},
		{"_services._dns-sd._udp.local", "_dns-sd._udp", "_services"},
		{"_ipp._TCP.LOCAL", "_ipp._TCP", ""},
		{"_ipp._tcp.example.com", "", ""},
		{"host.local", "", ""},
		{"ipp._tcp.local", "", ""},
		{"_._tcp.local", "", ""},
		{"._tcp.local", "", ""},
		{"_tcp.local", "", ""},
	}
	for i, tc := range tests {
		st, prefix, ok := serviceType([]byte(tc.name))
		if st != tc.st || prefix != tc.prefix || ok != (tc.st != "") {
			t.Errorf("Test %d (%s): expected %q %q, got %q %q %v", i, tc.name, tc.st, tc.prefix, st, prefix, ok)
		}
	}
}

func TestSpec(t *testing.T) {
	s := Spec()
	if s.Name != "mdns" || s.Transport != protocols.UDP || !reflect.DeepEqual(s.Ports, []uint16{5353}) || s.Detect == nil || s.New == nil {
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
		if len(got) > dns.MaxRecords+1 {
			t.Fatalf("%d observations", len(got))
		}
		for _, o := range got {
			if o.Protocol != "mdns" || !strings.HasPrefix(o.Source, "mdns.") {
				t.Fatalf("bad protocol or source in %+v", o)
			}
			checkText(t, "hostname", o.Hostname)
			if len(o.Facts) > maxFacts {
				t.Fatalf("%d facts", len(o.Facts))
			}
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
	if len(s) > dns.MaxName+6 { // a service type plus ":65535"
		t.Fatalf("%s: %d bytes", name, len(s))
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
	for _, i := range []int{0, 1, 2} {
		tc := fixtures[i]
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

func TestDependencies(t *testing.T) {
	corpustest.CheckDepsAllowing(t, "github.com/iomt-sensor/iomt-sensor/protocols/dns")
}
