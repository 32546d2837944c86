package tls

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/iomt-sensor/iomt-sensor/protocols"
	"github.com/iomt-sensor/iomt-sensor/protocols/internal/corpustest"
)

// ext is one extension of a hand-built hello.
type ext struct {
	typ  uint16
	data []byte
}

func be16(vs ...uint16) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.BigEndian.AppendUint16(b, v)
	}
	return b
}

func vec16(b []byte) []byte { return append(be16(uint16(len(b))), b...) }
func vec8(b []byte) []byte  { return append([]byte{byte(len(b))}, b...) }

// clientHello builds a ClientHello handshake message (with its 4-byte
// header) from its parts.
func clientHello(version uint16, ciphers []uint16, exts []ext) []byte {
	body := be16(version)
	body = append(body, make([]byte, 32)...) // random
	body = append(body, vec8(make([]byte, 32))...)
	body = append(body, vec16(be16(ciphers...))...)
	body = append(body, 1, 0) // null compression
	var e []byte
	for _, x := range exts {
		e = append(e, be16(x.typ)...)
		e = append(e, vec16(x.data)...)
	}
	if exts != nil {
		body = append(body, vec16(e)...)
	}
	return append([]byte{hsClientHello, 0, byte(len(body) >> 8), byte(len(body))}, body...)
}

// records wraps handshake bytes into handshake records of at most size bytes.
func records(hs []byte, size int) []byte {
	var out []byte
	for len(hs) > 0 {
		n := min(size, len(hs))
		out = append(out, recHandshake, 3, 1)
		out = append(out, be16(uint16(n))...)
		out = append(out, hs[:n]...)
		hs = hs[n:]
	}
	return out
}

func sniExt(name string) ext {
	return ext{extServerName, vec16(append([]byte{0}, vec16([]byte(name))...))}
}

func alpnExt(protos ...string) ext {
	var l []byte
	for _, p := range protos {
		l = append(l, vec8([]byte(p))...)
	}
	return ext{extALPN, vec16(l)}
}

// ja4SpecHello is the ClientHello of FoxIO's JA4 specification example
// (technical_details/JA4.md, "Raw Output", JA4_ro order): 15 ciphers,
// 16 extensions, ALPN h2, TLS 1.3 in supported_versions, plus GREASE in
// every list, which must be ignored.
func ja4SpecHello() []byte {
	ciphers := []uint16{0x3a3a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035}
	sigs := []uint16{0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601}
	var exts []ext
	exts = append(exts, ext{0x2a2a, nil})
	for _, t := range []uint16{0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d, 0x0005, 0x0023, 0x0012, 0x002b, 0xff01, 0x000b, 0x000a, 0x0015} {
		switch t {
		case 0x0000:
			exts = append(exts, sniExt("example.com"))
		case 0x0010:
			exts = append(exts, alpnExt("h2", "http/1.1"))
		case 0x000d:
			exts = append(exts, ext{t, vec16(be16(sigs...))})
		case 0x002b:
			exts = append(exts, ext{t, vec8(be16(0x7a7a, 0x0304, 0x0303))})
		case 0x000a:
			exts = append(exts, ext{t, vec16(be16(0x8a8a, 0x001d, 0x0017, 0x0018))})
		case 0x000b:
			exts = append(exts, ext{t, vec8([]byte{0})})
		default:
			exts = append(exts, ext{t, nil})
		}
	}
	exts = append(exts, ext{0x1a1a, []byte{0}})
	return clientHello(0x0303, ciphers, exts)
}

// TestPublishedVectors checks the fingerprints against the examples their
// authors published.
func TestPublishedVectors(t *testing.T) {
	// JA4: FoxIO JA4.md example and its raw form.
	h, err := parseClientHello(ja4SpecHello()[4:])
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, got, want string }{
		{"JA4 spec example", ja4(h, 't'), "t13d1516h2_8daaf6152771_e5627efa2ab1"},
		{"JA4_r spec example", ja4Raw(h, 't'), "t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_0403,0804,0401,0503,0805,0501,0806,0601"},
		{"JA4 spec cipher hash", ja4Hash("002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9"), "8daaf6152771"},
		{"JA4 spec extension hash without signature algorithms", ja4Hash("0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01"), "6d807ffa2a79"},
		{"JA4 empty list", ja4Hash(""), "000000000000"},
		// JA3: the two examples of the salesforce/ja3 README.
		{"JA3 README example", ja3String(&hello{version: 769, ciphers: []uint16{47, 53, 5, 10, 49161, 49162, 49171, 49172, 50, 56, 19, 4}, extensions: []uint16{0, 10, 11}, groups: []uint16{23, 24, 25}, pointFormats: []byte{0}}),
			"769,47-53-5-10-49161-49162-49171-49172-50-56-19-4,0-10-11,23-24-25,0"},
		{"JA3 README hash", ja3Hash("769,47-53-5-10-49161-49162-49171-49172-50-56-19-4,0-10-11,23-24-25,0"), "ada70206e40642a3e4461f35503241d5"},
		{"JA3 README no extensions", ja3String(&hello{version: 769, ciphers: []uint16{4, 5, 10, 9, 100, 98, 3, 6, 19, 18, 99}}), "769,4-5-10-9-100-98-3-6-19-18-99,,,"},
		{"JA3 README no extensions hash", ja3Hash("769,4-5-10-9-100-98-3-6-19-18-99,,,"), "de350869b8c85de67a350c8d186f11e6"},
		{"JA3 of the spec hello drops GREASE", ja3String(h), "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,27-0-51-16-17513-23-45-13-5-35-18-43-65281-11-10-21,29-23-24,0"},
	}
	for i, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("Test %d (%s): expected %q, got %q", i, tc.name, tc.want, tc.got)
		}
	}
}

func TestALPNChars(t *testing.T) {
	// The examples of JA4.md "ALPN Extension Value".
	tests := []struct {
		alpn [][]byte
		want string
	}{
		{[][]byte{[]byte("h2")}, "h2"},
		{[][]byte{[]byte("http/1.1"), []byte("h2")}, "h1"},
		{[][]byte{[]byte("h")}, "hh"},
		{nil, "00"},
		{[][]byte{{}}, "00"},
		{[][]byte{{0xab}}, "ab"},
		{[][]byte{{0xab, 0xcd}}, "ad"},
		{[][]byte{{0x30, 0xab}}, "3b"},
		{[][]byte{{0x30, 0x31, 0xab, 0xcd}}, "3d"},
		{[][]byte{{0x30, 0xab, 0xcd, 0x31}}, "01"},
	}
	for i, tc := range tests {
		if got := alpnChars(tc.alpn); got != tc.want {
			t.Errorf("Test %d: expected %q, got %q", i, tc.want, got)
		}
	}
}

// feed runs data (one direction) through a fresh decoder for a flow to
// server port port, in pieces of at most split bytes (0: whole).
func feed(data []byte, dir protocols.Direction, port uint16, split int) ([]protocols.Observation, error) {
	return feedNew(New, data, dir, port, split)
}

// feedNew is feed with decoders from newDecoder.
func feedNew(newDecoder func(protocols.FlowInfo) protocols.Decoder, data []byte, dir protocols.Direction, port uint16, split int) ([]protocols.Observation, error) {
	d := newDecoder(protocols.FlowInfo{Transport: protocols.TCP,
		Client: netip.MustParseAddrPort("10.0.0.1:50000"), Server: netip.AddrPortFrom(netip.MustParseAddr("10.0.0.2"), port)})
	var got []protocols.Observation
	emit := func(o protocols.Observation) { got = append(got, o) }
	for len(data) > 0 {
		n := len(data)
		if split > 0 && n > split {
			n = split
		}
		if err := d.Feed(dir, data[:n], time.Time{}, emit); err != nil {
			return got, err
		}
		data = data[n:]
	}
	return got, nil
}

func facts(kv ...string) []protocols.Fact {
	var out []protocols.Fact
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, protocols.Fact{Name: kv[i], Value: kv[i+1]})
	}
	return out
}

// serverHello builds a ServerHello message with the given extensions.
func serverHello(version, cipher uint16, exts []ext) []byte {
	body := be16(version)
	body = append(body, make([]byte, 32)...)
	body = append(body, vec8(nil)...)
	body = append(body, be16(cipher)...)
	body = append(body, 0)
	var e []byte
	for _, x := range exts {
		e = append(e, be16(x.typ)...)
		e = append(e, vec16(x.data)...)
	}
	body = append(body, vec16(e)...)
	return append([]byte{hsServerHello, 0, byte(len(body) >> 8), byte(len(body))}, body...)
}

var specClient = protocols.Observation{Protocol: "tls", Source: "tls.client_hello", About: protocols.Sender, Role: "client",
	Facts: facts(FactSNI, "example.com", FactALPN, "h2,http/1.1", FactSupportedVersions, "1.3,1.2",
		FactJA3, "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,27-0-51-16-17513-23-45-13-5-35-18-43-65281-11-10-21,29-23-24,0",
		FactJA3Hash, ja3Hash("771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,27-0-51-16-17513-23-45-13-5-35-18-43-65281-11-10-21,29-23-24,0"),
		FactJA4, "t13d1516h2_8daaf6152771_e5627efa2ab1")}

var fixtures = []struct {
	name string
	dir  protocols.Direction
	port uint16
	data []byte
	want []protocols.Observation
}{
	{"JA4 spec hello in one record", protocols.FromClient, 443, records(ja4SpecHello(), 1<<14), []protocols.Observation{specClient}},
	{"JA4 spec hello over 3 records", protocols.FromClient, 443, records(ja4SpecHello(), 100), []protocols.Observation{specClient}},
	{"hello on the DICOM TLS port", protocols.FromClient, DICOMTLSPort, records(ja4SpecHello(), 1<<14), []protocols.Observation{specClient,
		{Protocol: "tls", Source: "tls.client_hello", About: protocols.Receiver, Role: "server", Facts: facts(FactDICOM, "true")}}},
	{"TLS 1.3 server hello, then encrypted records ignored", protocols.FromServer, 443,
		append(records(serverHello(0x0303, 0x1301, []ext{{extSupportedVersions, be16(0x0304)}}), 1<<14), recApplicationData, 3, 3, 0, 2, 0xde, 0xad),
		[]protocols.Observation{{Protocol: "tls", Source: "tls.server_hello", About: protocols.Sender, Role: "server", Facts: facts(FactVersion, "1.3", FactCipher, "0x1301")}}},
	{"TLS 1.2 server hello with ALPN on an HL7 port", protocols.FromServer, 6661,
		records(serverHello(0x0303, 0xc02f, []ext{alpnExt("h2")}), 1<<14),
		[]protocols.Observation{{Protocol: "tls", Source: "tls.server_hello", About: protocols.Sender, Role: "server", Facts: facts(FactVersion, "1.2", FactCipher, "0xc02f", FactALPN, "h2", FactHL7, "true")}}},
	{"hello without extensions", protocols.FromClient, 443, records(clientHello(0x0300, []uint16{4, 5}, nil), 1<<14),
		[]protocols.Observation{{Protocol: "tls", Source: "tls.client_hello", About: protocols.Sender, Role: "client",
			Facts: facts(FactJA3, "768,4-5,,,", FactJA3Hash, ja3Hash("768,4-5,,,"), FactJA4, "ts3i020000_6e254592683c_000000000000")}}},
}

func TestFeedFixtures(t *testing.T) {
	for i, tc := range fixtures {
		for _, split := range []int{0, 1, 13} {
			got, err := feed(tc.data, tc.dir, tc.port, split)
			if err != nil {
				t.Errorf("Test %d (%s, split %d): unexpected error %v", i, tc.name, split, err)
				continue
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Test %d (%s, split %d):\nexpected %+v\ngot      %+v", i, tc.name, split, tc.want, got)
			}
		}
	}
}

var negatives = []struct {
	name   string
	data   []byte
	reason string // "" when Detect must refuse it
}{
	{"application data record (ndpi-443-chrome.pcap frame 1 starts so)", []byte{0x17, 3, 3, 5, 0x24, 0x1e, 0xd4}, ""},
	{"HTTP request", []byte("GET / HTTP/1.1\r\n"), ""},
	{"SSLv2 hello", []byte{0x80, 0x2e, 0x01, 0x03, 0x01, 0x00, 0x15}, ""},
	{"handshake record with a finished message", []byte{0x16, 3, 3, 0, 0x10, 0x14}, ""},
	{"record over the cap", append([]byte{0x16, 3, 1, 0x48, 0x01}, clientHello(0x0303, nil, nil)...), "too_long"},
	{"truncated ClientHello body", records([]byte{1, 0, 0, 5, 3, 3, 0, 0, 0}, 100), "malformed"},
	{"odd cipher suite length", records(func() []byte { b := clientHello(0x0303, []uint16{1}, nil); b[4+2+32+33+1] = 3; return b }(), 1<<14), "malformed"},
	{"extension overruns", records(func() []byte { b := clientHello(0x0303, []uint16{1}, []ext{{5, []byte{1, 2}}}); b[82] = 0xff; return b }(), 1<<14), "malformed"},
	{"handshake message over the cap", records([]byte{1, 1, 0, 0}, 100), "too_long"},
	{"bad record type after a fragment", append(records([]byte{1, 0, 0, 200, 3, 3}, 100), 0x99, 3, 3, 0, 1, 0), "malformed"},
}

func TestNegatives(t *testing.T) {
	for i, tc := range negatives {
		detected := Detect(protocols.FromClient, tc.data)
		if tc.reason == "" {
			if detected {
				t.Errorf("Test %d (%s): expected no detection", i, tc.name)
			}
			continue
		}
		got, err := feed(tc.data, protocols.FromClient, 443, 0)
		if protocols.Reason(err) != tc.reason || len(got) != 0 {
			t.Errorf("Test %d (%s): expected %s and no observation, got %v, %+v", i, tc.name, tc.reason, err, got)
		}
	}
}

func TestSpec(t *testing.T) {
	s := Spec()
	if s.Name != "tls" || s.Transport != protocols.TCP || s.Ports[0] != 443 || s.Detect == nil || s.New == nil {
		t.Errorf("unexpected spec %+v", s)
	}
	if !Detect(protocols.FromClient, records(ja4SpecHello(), 1<<14)) {
		t.Error("expected the spec hello to be detected")
	}
}

// fuzzSpec's fingerprint cache is shared by every input of FuzzDecode: hits,
// misses and inputs replacing one another in a slot must all give what New's
// decoders compute.
var fuzzSpec = Spec()

func FuzzDecode(f *testing.F) {
	for _, tc := range fixtures {
		f.Add(tc.data)
	}
	for _, tc := range negatives {
		f.Add(tc.data)
	}
	corpustest.Seed(f, corpusFiles, func(path string) [][]byte {
		var out [][]byte
		for _, s := range corpustest.TCPStreams(f, path, 443) {
			for _, dir := range []protocols.Direction{protocols.FromClient, protocols.FromServer} {
				b := s.Bytes(dir)
				out = append(out, b[:min(len(b), 8000)])
			}
		}
		return out
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		Detect(protocols.FromClient, data)
		for _, dir := range []protocols.Direction{protocols.FromClient, protocols.FromServer} {
			got, err := feed(data, dir, DICOMTLSPort, 0)
			if err != nil && protocols.Reason(err) == "other" {
				t.Fatalf("error %v wraps no sentinel", err)
			}
			// Segmentation changes nothing: messages read in place and
			// messages reassembled give the same observations.
			if split, err2 := feed(data, dir, DICOMTLSPort, 7); err == nil && err2 == nil && !reflect.DeepEqual(got, split) {
				t.Fatalf("in one piece %+v, in 7-byte pieces %+v", got, split)
			}
			// The fingerprint cache, shared by every input, changes nothing.
			if cached, err2 := feedNew(fuzzSpec.New, data, dir, DICOMTLSPort, 0); !reflect.DeepEqual(got, cached) || fmt.Sprint(err) != fmt.Sprint(err2) {
				t.Fatalf("uncached %+v, %v; cached %+v, %v", got, err, cached, err2)
			}
			for _, o := range got {
				if o.Protocol != "tls" || !strings.HasPrefix(o.Source, "tls.") {
					t.Fatalf("bad observation %+v", o)
				}
				for _, fct := range o.Facts {
					if fct.Value == "" || len(fct.Value) > 2*maxString {
						t.Fatalf("bad fact %+v", fct)
					}
				}
			}
		}
	})
}

// BenchmarkClientHello is a client's hello on a fresh flow, its
// fingerprints cached as in the sensor.
func BenchmarkClientHello(b *testing.B) { benchmarkClientHello(b, Spec().New) }

// BenchmarkClientHelloUncached computes the fingerprints every time.
func BenchmarkClientHelloUncached(b *testing.B) { benchmarkClientHello(b, New) }

func benchmarkClientHello(b *testing.B, newDecoder func(protocols.FlowInfo) protocols.Decoder) {
	data := records(ja4SpecHello(), 1<<14)
	emit := func(protocols.Observation) {}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		d := newDecoder(protocols.FlowInfo{})
		if err := d.Feed(protocols.FromClient, data, time.Time{}, emit); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncrypted is the steady state: records after the handshake.
func BenchmarkEncrypted(b *testing.B) {
	d := New(protocols.FlowInfo{})
	emit := func(protocols.Observation) {}
	if err := d.Feed(protocols.FromClient, records(ja4SpecHello(), 1<<14), time.Time{}, emit); err != nil {
		b.Fatal(err)
	}
	data := append([]byte{recApplicationData, 3, 3, 0x05, 0xdc}, make([]byte, 1500)...)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if err := d.Feed(protocols.FromClient, data, time.Time{}, emit); err != nil {
			b.Fatal(err)
		}
	}
}

func TestDependencies(t *testing.T) { corpustest.CheckDeps(t) }

// BenchmarkServerHello is a server's first flight on a fresh flow.
func BenchmarkServerHello(b *testing.B) {
	data := records(serverHello(0x0303, 0xc02f, []ext{alpnExt("h2")}), 1<<14)
	emit := func(protocols.Observation) {}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		d := New(protocols.FlowInfo{})
		if err := d.Feed(protocols.FromServer, data, time.Time{}, emit); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSkipFlow: once both directions are past what the decoder reads (the
// client's hello, the server's cleartext flight up to its certificate or
// ChangeCipherSpec), the flow has nothing more to tell and Feed says so,
// not before.
func TestSkipFlow(t *testing.T) {
	ccs := []byte{recChangeCipherSpec, 3, 3, 0, 1, 1}
	appData := []byte{recApplicationData, 3, 3, 0, 4, 1, 2, 3, 4}
	steps := []struct {
		dir  protocols.Direction
		data []byte
		want error
	}{
		{protocols.FromClient, records(ja4SpecHello(), 1<<14), nil}, // the client is done
		{protocols.FromClient, appData, nil},
		{protocols.FromServer, records(serverHello(0x0303, 0xc02f, nil), 1<<14), nil}, // TLS 1.2: a certificate may follow
		{protocols.FromServer, append(ccs, appData...), protocols.SkipFlow},
	}
	d := New(protocols.FlowInfo{})
	emit := func(protocols.Observation) {}
	for i, s := range steps {
		if err := d.Feed(s.dir, s.data, time.Time{}, emit); err != s.want {
			t.Fatalf("step %d: Feed returned %v, want %v", i, err, s.want)
		}
	}
}

// TestCipherName: every name of the fixed table is what hex4 would write.
func TestCipherName(t *testing.T) {
	for v := range 1 << 16 {
		if got := cipherName(uint16(v)); got != "" && got != hex4("0x", uint16(v)) {
			t.Errorf("cipherName(%#04x) = %q, want %q", v, got, hex4("0x", uint16(v)))
		}
	}
}

// TestJA4Version: JA4's version comes from supported_versions whenever the
// extension lists a value, even one that is all GREASE ("00"), and from
// legacy_version otherwise.
func TestJA4Version(t *testing.T) {
	tests := []struct {
		name     string
		versions []byte // supported_versions body; nil: no extension
		want     string // JA4's a section
	}{
		{"no extension", nil, "t12i010000"},
		{"empty list", vec8(nil), "t12i010100"},
		{"GREASE only", vec8(be16(0x7a7a)), "t00i010100"},
		{"GREASE and TLS 1.2", vec8(be16(0x7a7a, 0x0303)), "t12i010100"},
		{"TLS 1.3 before GREASE", vec8(be16(0x0304, 0x1a1a, 0x0302)), "t13i010100"},
		{"odd length", []byte{3, 3, 4, 3}, "t13i010100"},
	}
	for i, tc := range tests {
		exts := []ext{{0x1a1a, nil}}
		if tc.versions != nil {
			exts = append(exts, ext{extSupportedVersions, tc.versions})
		}
		h, err := parseClientHello(clientHello(0x0303, []uint16{0x2a2a, 0x1301}, exts)[4:])
		if err != nil {
			t.Fatalf("Test %d (%s): unexpected error %v", i, tc.name, err)
		}
		if got, _, _ := strings.Cut(ja4(h, 't'), "_"); got != tc.want {
			t.Errorf("Test %d (%s): expected %q, got %q", i, tc.name, tc.want, got)
		}
	}
}

// TestAppendDecimal: every 16-bit value is written as strconv writes it.
func TestAppendDecimal(t *testing.T) {
	for v := range 1 << 16 {
		if got, want := string(appendDecimal([]byte("x"), uint16(v))), "x"+strconv.Itoa(v); got != want {
			t.Errorf("appendDecimal(%d): expected %q, got %q", v, want, got)
		}
	}
}

// TestSortShort: sortShort sorts like slices.Sort on both sides of its
// insertion-sort threshold.
func TestSortShort(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := range 80 {
		for range 20 {
			s := make([]uint16, n)
			for i := range s {
				s[i] = uint16(rng.IntN(64)) * 0x0401 // few distinct values: duplicates
			}
			want := slices.Sorted(slices.Values(s))
			if sortShort(s); !slices.Equal(s, want) {
				t.Fatalf("Test n=%d: expected %v, got %v", n, want, s)
			}
		}
	}
}

// TestFactsApart: the ClientHello's and the ServerHello's facts share one
// allocation, so the sensor appending to one observation's facts must not
// touch the other's.
func TestFactsApart(t *testing.T) {
	var got []protocols.Observation
	emit := func(o protocols.Observation) { got = append(got, o) }
	d := New(protocols.FlowInfo{})
	if err := d.Feed(protocols.FromClient, records(ja4SpecHello(), 1<<14), time.Time{}, emit); err != nil {
		t.Fatal(err)
	}
	if err := d.Feed(protocols.FromServer, records(serverHello(0x0303, 0x1301, []ext{{extSupportedVersions, be16(0x0304)}}), 1<<14), time.Time{}, emit); err != protocols.SkipFlow {
		t.Fatalf("expected SkipFlow, got %v", err)
	}
	if len(got) != 2 {
		t.Fatalf("expected 2 observations, got %d", len(got))
	}
	want := slices.Clone(got[1].Facts)
	_ = append(got[0].Facts, protocols.Fact{Name: "x", Value: "y"})
	if !slices.Equal(got[1].Facts, want) {
		t.Errorf("expected %v, got %v", want, got[1].Facts)
	}
	if cap(got[0].Facts) != len(got[0].Facts) {
		t.Errorf("expected the ClientHello's facts capped at their length, got len %d cap %d", len(got[0].Facts), cap(got[0].Facts))
	}
}
