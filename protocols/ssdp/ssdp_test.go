package ssdp

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/iomt-sensor/iomt-sensor/protocols"
	"github.com/iomt-sensor/iomt-sensor/protocols/internal/corpustest"
)

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
	err := d.Feed(protocols.FromClient, data, time.Time{}, func(o protocols.Observation) { got = append(got, o) })
	return got, err
}

// fixtures are real messages from the corpus (file and frame named) and
// hand-made ones in the shapes UPnP devices send (UDA 1.1 §1.2.2, §1.3.3).
// SSDP is text, so the bytes are given as Go strings.
var fixtures = []struct {
	name string
	data string
	want []protocols.Observation
}{
	{
		// ndpi-ssdp-m-search-ua.pcap frame 1 (UDP 56446 -> 1900).
		name: "m-search with user agent",
		data: "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\n" +
			"ST: urn:dial-multiscreen-org:service:dial:1\r\nUSER-AGENT: Google Chrome/99.0.4844.74 Mac OS X\r\n\r\n",
		want: []protocols.Observation{{
			Protocol: "ssdp", Source: "ssdp.m-search", About: protocols.Sender, Role: "client",
			Facts: facts(FactMethod, "m-search", FactST, "urn:dial-multiscreen-org:service:dial:1",
				FactUserAgent, "Google Chrome/99.0.4844.74 Mac OS X"),
		}},
	},
	{
		// ndpi-android.pcap frame 45 (169.254.225.216:60538 -> 1900).
		name: "m-search without user agent",
		data: "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\n" +
			"ST: urn:dial-multiscreen-org:service:dial:1\r\n\r\n",
		want: []protocols.Observation{{
			Protocol: "ssdp", Source: "ssdp.m-search", About: protocols.Sender, Role: "client",
			Facts: facts(FactMethod, "m-search", FactST, "urn:dial-multiscreen-org:service:dial:1"),
		}},
	},
	{
		// ndpi-ssdp-m-search.pcap frame 1: a bare start line to broadcast UDP
		// 32412 (Plex GDM), no headers and no terminating empty line.
		name: "bare m-search on a non-standard port",
		data: "M-SEARCH * HTTP/1.1\r\n",
		want: []protocols.Observation{{
			Protocol: "ssdp", Source: "ssdp.m-search", About: protocols.Sender, Role: "client",
			Facts: facts(FactMethod, "m-search"),
		}},
	},
	{
		// Hand-made NOTIFY ssdp:alive of a root device, headers as libupnp
		// (pupnp) sends them.
		name: "notify alive",
		data: "NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nCACHE-CONTROL: max-age=1800\r\n" +
			"LOCATION: http://10.1.2.3:49152/description.xml\r\nNT: urn:schemas-upnp-org:device:MediaRenderer:1\r\n" +
			"NTS: ssdp:alive\r\nSERVER: Linux/3.10.0 UPnP/1.0 Portable SDK for UPnP devices/1.6.22\r\n" +
			"X-User-Agent: redsonic\r\nUSN: uuid:2fac1234-31f8-11b4-a222-08002b34c003::urn:schemas-upnp-org:device:MediaRenderer:1\r\n\r\n",
		want: []protocols.Observation{{
			Protocol: "ssdp", Source: "ssdp.notify", About: protocols.Sender, Role: "server",
			Facts: facts(FactMethod, "notify",
				FactLocation, "http://10.1.2.3:49152/description.xml",
				FactNT, "urn:schemas-upnp-org:device:MediaRenderer:1",
				FactNTS, "ssdp:alive",
				FactServer, "Linux/3.10.0 UPnP/1.0 Portable SDK for UPnP devices/1.6.22",
				FactUSN, "uuid:2fac1234-31f8-11b4-a222-08002b34c003"),
		}},
	},
	{
		// Hand-made search response, lower-case header names, LF line ends,
		// a repeated SERVER header (the first counts) and an empty EXT.
		name: "search response",
		data: "HTTP/1.1 200 OK\ncache-control: max-age=120\next:\nlocation: http://[fe80::1]:8200/rootDesc.xml\n" +
			"server: MyOS/1.0 UPnP/1.1 Pump/2.3\nserver: second/1\nst: upnp:rootdevice\n" +
			"usn: uuid:4d696e69-444c-164e-9d41-b827eb123456::upnp:rootdevice\n\n",
		want: []protocols.Observation{{
			Protocol: "ssdp", Source: "ssdp.response", About: protocols.Sender, Role: "server",
			Facts: facts(FactMethod, "response",
				FactLocation, "http://[fe80::1]:8200/rootDesc.xml",
				FactServer, "MyOS/1.0 UPnP/1.1 Pump/2.3",
				FactST, "upnp:rootdevice",
				FactUSN, "uuid:4d696e69-444c-164e-9d41-b827eb123456"),
		}},
	},
	{
		// Hand-made NOTIFY ssdp:byebye with control bytes in a value and
		// headers after the empty line (ignored).
		name: "notify byebye",
		data: "NOTIFY * HTTP/1.1\r\nNT: upnp:rootdevice\r\nNTS: ssdp:byebye\r\nUSN: uuid:abc\x1b[1m\r\n\r\nSERVER: ignored\r\n",
		want: []protocols.Observation{{
			Protocol: "ssdp", Source: "ssdp.notify", About: protocols.Sender, Role: "server",
			Facts: facts(FactMethod, "notify", FactNT, "upnp:rootdevice", FactNTS, "ssdp:byebye", FactUSN, "uuid:abc[1m"),
		}},
	},
}

func TestFeedFixtures(t *testing.T) {
	for i, tc := range fixtures {
		data := []byte(tc.data)
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

// negatives are not SSDP messages the decoder describes: each must give an
// error wrapping the named sentinel and no observation.
var negatives = []struct {
	name   string
	data   string
	detect bool
	want   error
}{
	{"empty", "", false, protocols.ErrMalformed},
	{"dns query on 1900", "\xab\xcd\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01", false, protocols.ErrMalformed},
	{"http request over udp", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", false, protocols.ErrMalformed},
	{"http response without ST or USN", "HTTP/1.1 200 OK\r\nServer: x\r\n\r\n", false, protocols.ErrMalformed},
	{"lower-case method", "notify * HTTP/1.1\r\n\r\n", false, protocols.ErrMalformed},
	{"header without colon", "NOTIFY * HTTP/1.1\r\nNT upnp-rootdevice\r\n\r\n", true, protocols.ErrMalformed},
	{"line over the cap", "NOTIFY * HTTP/1.1\r\nSERVER: " + strings.Repeat("x", MaxLineLen) + "\r\n\r\n", true, protocols.ErrTooLong},
	{"over the length cap", "NOTIFY * HTTP/1.1\r\n" + strings.Repeat("X: y\r\n", MaxMessageLen/6+1), true, protocols.ErrTooLong},
}

func TestFeedNegative(t *testing.T) {
	for i, tc := range negatives {
		data := []byte(tc.data)
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

// TestHeaderCap checks that headers past MaxHeaders are ignored.
func TestHeaderCap(t *testing.T) {
	data := "NOTIFY * HTTP/1.1\r\n" + strings.Repeat("X-Pad: y\r\n", MaxHeaders) + "SERVER: late/1\r\n\r\n"
	got, err := decode([]byte(data))
	if err != nil || len(got) != 1 {
		t.Fatalf("expected one observation, got %v, %v", got, err)
	}
	if want := facts(FactMethod, "notify"); !reflect.DeepEqual(got[0].Facts, want) {
		t.Errorf("expected %v, got %v", want, got[0].Facts)
	}
}

func TestSanitize(t *testing.T) {
	long := strings.Repeat("x", 300)
	tests := []struct{ name, got, want string }{
		{"trims", sanitize([]byte("  a b  ")), "a b"},
		{"drops controls and non-ASCII", sanitize([]byte("a\tb\x7f\xffc")), "abc"},
		{"caps", sanitize([]byte(long)), long[:maxValue]},
		{"empty", sanitize(nil), ""},
	}
	for i, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("Test %d (%s): expected %q, got %q", i, tc.name, tc.want, tc.got)
		}
	}
}

func TestSpec(t *testing.T) {
	s := Spec()
	if s.Name != "ssdp" || s.Transport != protocols.UDP || !reflect.DeepEqual(s.Ports, []uint16{1900}) {
		t.Errorf("unexpected spec %+v", s)
	}
	if s.Detect == nil || s.New == nil {
		t.Fatal("spec lacks Detect or New")
	}
}

func FuzzDecode(f *testing.F) {
	for _, tc := range fixtures {
		f.Add([]byte(tc.data))
	}
	for _, tc := range negatives {
		f.Add([]byte(tc.data))
	}
	corpustest.Seed(f, corpusFiles, func(path string) [][]byte {
		var out [][]byte
		for _, d := range corpustest.UDP(f, path, corpusPorts...) {
			out = append(out, d.Payload)
		}
		return out
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		detect := Detect(protocols.FromClient, data)
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
		if !detect {
			t.Fatal("decoded what Detect refused")
		}
		if len(got) != 1 {
			t.Fatalf("expected one observation, got %d", len(got))
		}
		o := got[0]
		if o.Protocol != "ssdp" || !strings.HasPrefix(o.Source, "ssdp.") || len(o.Facts) == 0 {
			t.Fatalf("bad observation %+v", o)
		}
		for _, fct := range o.Facts {
			if fct.Value == "" || len(fct.Value) > maxValue {
				t.Fatalf("fact %s: %d bytes", fct.Name, len(fct.Value))
			}
			for i := 0; i < len(fct.Value); i++ {
				if c := fct.Value[i]; c < 0x20 || c > 0x7e {
					t.Fatalf("fact %s: byte %#x", fct.Name, c)
				}
			}
		}
	})
}

func BenchmarkFeed(b *testing.B) {
	for _, i := range []int{0, 3} {
		tc := fixtures[i]
		b.Run(strings.ReplaceAll(tc.name, " ", "_"), func(b *testing.B) {
			data := []byte(tc.data)
			d := New(protocols.FlowInfo{})
			var n int
			emit := func(o protocols.Observation) { n += len(o.Facts) }
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if err := d.Feed(protocols.FromClient, data, time.Time{}, emit); err != nil {
					b.Fatal(err)
				}
			}
			if n == 0 {
				b.Fatal("nothing emitted")
			}
		})
	}
}

func TestDependencies(t *testing.T) { corpustest.CheckDeps(t) }
