package http

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/iomt-sensor/iomt-sensor/protocols"
	"github.com/iomt-sensor/iomt-sensor/protocols/internal/corpustest"
)

// part is one Feed call.
type part struct {
	dir  protocols.Direction
	data string
}

// feedAll feeds parts to a fresh decoder, each split into pieces of at most
// split bytes (0: whole), and returns the observations as compact lines
// "source role facts" and the first error.
func feedAll(parts []part, split int) ([]string, error) {
	d := New(protocols.FlowInfo{Transport: protocols.TCP})
	var got []string
	emit := func(o protocols.Observation) {
		l := []string{o.Source, o.Role}
		for _, f := range o.Facts {
			l = append(l, f.Name+"="+f.Value)
		}
		if o.Protocol != "http" || o.About != protocols.Sender {
			l = append(l, "BAD")
		}
		got = append(got, strings.Join(l, " "))
	}
	for _, p := range parts {
		b := []byte(p.data)
		for len(b) > 0 {
			n := len(b)
			if split > 0 && n > split {
				n = split
			}
			if err := d.Feed(p.dir, b[:n], time.Time{}, emit); err != nil {
				return got, err
			}
			b = b[n:]
		}
	}
	d.Close(time.Time{}, emit)
	return got, nil
}

const (
	c = protocols.FromClient
	s = protocols.FromServer
)

var fixtures = []struct {
	name  string
	parts []part
	want  []string
}{
	{
		// testdata/captures/http-curl.pcap frames 6 and 10.
		name: "curl and python http.server",
		parts: []part{
			{c, "GET /index.html HTTP/1.1\r\nHost: 10.77.0.10\r\nUser-Agent: BD-Alaris-Gateway/1.7 (iomt-testdata)\r\nAccept: */*\r\n\r\n"},
			{s, "HTTP/1.0 200 OK\r\nServer: SimpleHTTP/0.6 Python/3.11.2\r\nDate: Sun, 22 Nov 2026 10:00:00 GMT\r\nContent-type: text/html\r\nContent-Length: 5\r\n\r\nhello"},
		},
		want: []string{
			"http.request client http.host=10.77.0.10 http.user_agent=BD-Alaris-Gateway/1.7 (iomt-testdata)",
			"http.response server http.server=SimpleHTTP/0.6 Python/3.11.2",
		},
	},
	{
		name: "keep-alive with chunked and content-length bodies, facts once per flow",
		parts: []part{
			{c, "POST /a HTTP/1.1\r\nHost: h\r\nUser-Agent: UA\r\nContent-Length: 16\r\n\r\nGET / HTTP/1.1\r\n"},
			{s, "HTTP/1.1 200 OK\r\nServer: S\r\nTransfer-Encoding: gzip, chunked\r\n\r\n4;x=y\r\nHTTP\r\n10\r\nServer: not-this\r\n0\r\nTrailer: x\r\n\r\n"},
			{c, "GET /b HTTP/1.1\r\nHost: h\r\nUser-Agent: UA2\r\n\r\n"},
			{s, "HTTP/1.1 304 Not Modified\r\nServer: S\r\nContent-Length: 99\r\n\r\n"},
			{c, "GET /c HTTP/1.1\r\nHost: h\r\nUser-Agent: UA\r\n\r\n"},
			{s, "HTTP/1.1 200 OK\r\nServer: S2\r\nContent-Length: 0\r\n\r\n"},
		},
		want: []string{
			"http.request client http.host=h http.user_agent=UA",
			"http.response server http.server=S",
			"http.request client http.user_agent=UA2",
			"http.response server http.server=S2",
		},
	},
	{
		name: "pipelined HEAD: its response has no body despite Content-Length",
		parts: []part{
			{c, "HEAD / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: b\r\n\r\n"},
			{s, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nHTTP/1.1 200 OK\r\nServer: B\r\nContent-Length: 3\r\n\r\nabc"},
		},
		want: []string{
			"http.request client http.host=a",
			"http.request client http.host=b",
			"http.response server",
			"http.response server http.server=B",
		},
	},
	{
		name: "FHIR search: resource type only, never id or query",
		parts: []part{
			{c, "GET /fhir/r4/Patient/12345?name=Smith&birthdate=1970-01-01 HTTP/1.1\r\nHost: ehr\r\nAccept: application/fhir+json\r\nAuthorization: Basic dXNlcjpwYXNz\r\n\r\n"},
			{c, "POST /Observation HTTP/1.1\r\nHost: ehr\r\nAuthorization: Bearer eyJhbGciOi.secret\r\nContent-Length: 2\r\n\r\n{}"},
		},
		want: []string{
			"http.request client http.fhir=true http.fhir_resource=Patient http.host=ehr http.basic_auth=true",
			"http.request client http.fhir_resource=Observation http.auth_scheme=Bearer",
		},
	},
	{
		name: "IPP request and 100-continue",
		parts: []part{
			{c, "POST /ipp/print HTTP/1.1\r\nContent-Type: application/ipp\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n"},
			{s, "HTTP/1.1 100 Continue\r\n\r\n"},
			{c, "3\r\n\x01\x01\x00\r\n0\r\n\r\n"},
			{s, "HTTP/1.1 200 OK\r\nContent-Type: application/ipp\r\nServer: CUPS/2.4 IPP/2.1\r\nContent-Length: 3\r\n\r\n\x01\x01\x00"},
		},
		want: []string{
			"http.request client http.ipp=true",
			"http.response server http.ipp=true http.server=CUPS/2.4 IPP/2.1",
		},
	},
	{
		name: "response to the end of the connection, then nothing is parsed",
		parts: []part{
			{s, "HTTP/1.0 200 OK\r\nServer: old\r\n\r\nHTTP/1.0 200 OK\r\nServer: body\r\n\r\n"},
		},
		want: []string{"http.response server http.server=old"},
	},
	{
		name: "upgrade to websocket ends HTTP",
		parts: []part{
			{c, "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n"},
			{s, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello"},
			{c, "\x81\x85garbage that is not HTTP\r\n"},
		},
		want: []string{"http.request client http.host=h", "http.response server"},
	},
	{
		name: "control bytes dropped, long values capped",
		parts: []part{
			{c, "GET / HTTP/1.1\r\nUser-Agent: \x01a\x7fb \r\nHost: " + strings.Repeat("x", 300) + "\r\n\r\n"},
		},
		want: []string{"http.request client http.user_agent=ab http.host=" + strings.Repeat("x", maxString)},
	},
}

func TestFeedFixtures(t *testing.T) {
	for i, tc := range fixtures {
		for _, split := range []int{0, 1, 7} {
			got, err := feedAll(tc.parts, split)
			if err != nil {
				t.Errorf("Test %d (%s, split %d): unexpected error %v", i, tc.name, split, err)
				continue
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Test %d (%s, split %d):\nexpected %q\ngot      %q", i, tc.name, split, tc.want, got)
			}
		}
	}
}

// negatives must not be detected, or must fail with the given reason.
var negatives = []struct {
	name   string
	data   string
	reason string // "" when Detect alone must refuse it
}{
	{"TLS ClientHello", "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", ""},
	{"SSDP method over TCP", "M-SEARCH * HTTP/1.1\r\n\r\n", ""},
	{"HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", ""},
	{"request line without version", "GET /index.html\r\n\r\n", ""},
	{"FTP banner", "220 ProFTPD Server ready.\r\n", ""},
	{"bad status", "HTTP/1.1 2x0 OK\r\n", ""},
	{"header without colon", "GET / HTTP/1.1\r\nHost h\r\n\r\n", "malformed"},
	{"bad content length", "GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", "malformed"},
	{"bad chunk size", "GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "malformed"},
	{"huge chunk size", "GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + strings.Repeat("f", 16) + "\r\n", "too_long"},
	{"line over cap", "GET / HTTP/1.1\r\nX: " + strings.Repeat("a", MaxLineLen) + "\r\n", "too_long"},
	{"too many headers", "GET / HTTP/1.1\r\n" + strings.Repeat("X: y\r\n", MaxHeaders+1), "too_long"},
	{"header block over cap", "GET / HTTP/1.1\r\n" + strings.Repeat("X: "+strings.Repeat("y", 400)+"\r\n", 50), "too_long"},
}

func TestNegatives(t *testing.T) {
	for i, tc := range negatives {
		detected := Detect(protocols.FromClient, []byte(tc.data))
		if tc.reason == "" {
			if detected {
				t.Errorf("Test %d (%s): expected no detection", i, tc.name)
			}
			continue
		}
		if !detected {
			t.Errorf("Test %d (%s): expected detection", i, tc.name)
		}
		got, err := feedAll([]part{{c, tc.data}}, 0)
		if protocols.Reason(err) != tc.reason || len(got) != 0 {
			t.Errorf("Test %d (%s): expected %s and no observation, got %v, %q", i, tc.name, tc.reason, err, got)
		}
	}
}

func TestGap(t *testing.T) {
	d := New(protocols.FlowInfo{})
	var got []protocols.Observation
	emit := func(o protocols.Observation) { got = append(got, o) }
	feed := func(data string) {
		if err := d.Feed(c, []byte(data), time.Time{}, emit); err != nil {
			t.Fatal(err)
		}
	}
	feed("POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\n0123456789")
	d.Gap(c, 50, time.Time{}, emit) // inside the body: skipped
	feed(strings.Repeat("z", 40) + "GET / HTTP/1.1\r\nUser-Agent: A\r\n\r\n")
	d.Gap(c, 10, time.Time{}, emit) // between messages: direction given up
	feed("GET / HTTP/1.1\r\nUser-Agent: B\r\n\r\n")
	if len(got) != 1 || got[0].Facts[0].Value != "A" {
		t.Errorf("expected one observation with UA A, got %+v", got)
	}
}

func TestFHIRTarget(t *testing.T) {
	tests := []struct {
		target, resource string
		fhir             bool
	}{
		{"/fhir/Patient/123", "Patient", true},
		{"/FHIR/R4/Device?identifier=x", "Device", true},
		{"http://ehr.example/fhir-r4/Observation/_search", "Observation", true},
		{"/fhir/metadata", "", true},
		{"/api/Observation/99", "Observation", true},
		{"/Device/5", "", false}, // Device alone is too generic outside /fhir/
		{"/index.html?x=/fhir/Patient", "", false},
		{"/patient/1", "", false},
		{"*", "", false},
	}
	for i, tc := range tests {
		r, ok := fhirTarget([]byte(tc.target))
		if r != tc.resource || ok != tc.fhir {
			t.Errorf("Test %d (%s): expected %q %v, got %q %v", i, tc.target, tc.resource, tc.fhir, r, ok)
		}
	}
}

func TestSpec(t *testing.T) {
	sp := Spec()
	if sp.Name != "http" || sp.Transport != protocols.TCP || !reflect.DeepEqual(sp.Ports, []uint16{80, 8080, 8000, 631}) || sp.Detect == nil || sp.New == nil {
		t.Errorf("unexpected spec %+v", sp)
	}
	if !Detect(c, []byte("GET / HTTP/1.1\r\n")) || !Detect(s, []byte("HTTP/1.1 200 OK\r\n")) {
		t.Error("expected request and status lines to be detected")
	}
}

func FuzzDecode(f *testing.F) {
	for _, tc := range fixtures {
		var b []byte
		for _, p := range tc.parts {
			b = append(b, p.data...)
		}
		f.Add(b)
	}
	for _, tc := range negatives {
		f.Add([]byte(tc.data))
	}
	corpustest.Seed(f, corpusFiles[:2], func(path string) [][]byte {
		var out [][]byte
		for _, s := range corpustest.TCPStreams(f, path) {
			out = append(out, s.Bytes(protocols.FromClient), s.Bytes(protocols.FromServer))
		}
		return out
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		Detect(c, data)
		// The same bytes as one direction, and interleaved in small pieces.
		for _, split := range []int{0, 3} {
			got, err := feedAll([]part{{c, string(data)}, {s, string(data)}}, split)
			if err != nil && protocols.Reason(err) == "other" {
				t.Fatalf("error %v wraps no sentinel", err)
			}
			for _, l := range got {
				if strings.Contains(l, "BAD") {
					t.Fatalf("bad observation %q", l)
				}
			}
			// Honouring skips changes nothing.
			got2, err2 := feedSkipping([]part{{c, string(data)}, {s, string(data)}}, split)
			if !reflect.DeepEqual(got, got2) || fmt.Sprint(err) != fmt.Sprint(err2) {
				t.Fatalf("split %d: expected %q, %v with skips, got %q, %v", split, got, err, got2, err2)
			}
		}
		d := New(protocols.FlowInfo{})
		emit := func(o protocols.Observation) {
			for _, fct := range o.Facts {
				if fct.Value == "" || len(fct.Value) > maxString {
					t.Fatalf("bad fact %+v", fct)
				}
				for i := 0; i < len(fct.Value); i++ {
					if fct.Value[i] < 0x20 || fct.Value[i] > 0x7e {
						t.Fatalf("unprintable fact %+v", fct)
					}
				}
			}
		}
		if err := d.Feed(c, data, time.Time{}, emit); err != nil && errors.Is(err, protocols.ErrUnsupported) {
			t.Fatal("unexpected unsupported")
		}
	})
}

func BenchmarkFeed(b *testing.B) {
	req := []byte("GET /index.html HTTP/1.1\r\nHost: 10.77.0.10\r\nUser-Agent: BD-Alaris-Gateway/1.7 (iomt-testdata)\r\nAccept: */*\r\nConnection: keep-alive\r\n\r\n")
	resp := []byte("HTTP/1.1 200 OK\r\nServer: SimpleHTTP/0.6 Python/3.11.2\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
	d := New(protocols.FlowInfo{})
	var n int
	emit := func(o protocols.Observation) { n += len(o.Facts) }
	b.ReportAllocs()
	b.SetBytes(int64(len(req) + len(resp)))
	for b.Loop() {
		// A keep-alive flow: after the first exchange every fact is known.
		if err := d.Feed(c, req, time.Time{}, emit); err != nil {
			b.Fatal(err)
		}
		if err := d.Feed(s, resp, time.Time{}, emit); err != nil {
			b.Fatal(err)
		}
	}
	if n == 0 {
		b.Fatal("nothing emitted")
	}
}

// BenchmarkFeedNewFlow is a flow's first exchange: every fact is new.
func BenchmarkFeedNewFlow(b *testing.B) {
	req := []byte("GET /index.html HTTP/1.1\r\nHost: 10.77.0.10\r\nUser-Agent: BD-Alaris-Gateway/1.7 (iomt-testdata)\r\nAccept: */*\r\nConnection: keep-alive\r\n\r\n")
	resp := []byte("HTTP/1.1 200 OK\r\nServer: SimpleHTTP/0.6 Python/3.11.2\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
	emit := func(protocols.Observation) {}
	b.ReportAllocs()
	b.SetBytes(int64(len(req) + len(resp)))
	for b.Loop() {
		d := New(protocols.FlowInfo{})
		if d.Feed(c, req, time.Time{}, emit) != nil || d.Feed(s, resp, time.Time{}, emit) != nil {
			b.Fatal("error")
		}
	}
}
