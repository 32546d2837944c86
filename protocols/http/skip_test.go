package http

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iomt-sensor/iomt-sensor/protocols"

	"github.com/iomt-sensor/iomt-sensor/protocols/internal/corpustest"
)

// TestCorpusSkip decodes each corpus capture with and without honouring the
// decoder's skips: the observations and errors are the same, and the bytes
// passed over are those of the bodies (per file: asked and passed, client
// then server; asked exceeds passed where the decoder stopped parsing and
// skips the rest of the connection).
func TestCorpusSkip(t *testing.T) {
	want := map[string]string{
		// Bodies come with their headers in these: nothing left to skip.
		"http/ndpi-http.pcapng":          "asked 0/0 passed 0/0",
		"device-mixed/ndpi-android.pcap": "asked 0/0 passed 0/0",
		"device-mixed/ndpi-iphone.pcap":  "asked 0/0 passed 0/0",
		// IPP print jobs: POST bodies of known length.
		"http/ndpi-ipp.pcap": "asked 228046/0 passed 228046/0",
	}
	for _, file := range corpusFiles {
		path := corpustest.File(t, file)
		plain, errs := decodeFile(t, file, path)
		var skipped, skipErrs []string
		var asked, passed [2]int
		for _, d := range corpustest.DecodeStreamsSkipping(t, Spec(), path) {
			for _, e := range d.Emitted {
				skipped = append(skipped, line(file, e))
			}
			if d.Err != nil {
				skipErrs = append(skipErrs, file+" "+d.Stream.Client.String()+" "+d.Err.Error())
			}
			for i := range asked {
				asked[i] += d.Asked[i]
				passed[i] += d.Passed[i]
			}
		}
		if !slices.Equal(plain, skipped) || !slices.Equal(errs, skipErrs) {
			t.Errorf("%s: expected the same observations and errors with skips:\n%q %q\ngot\n%q %q", file, plain, errs, skipped, skipErrs)
		}
		got := fmt.Sprintf("asked %d/%d passed %d/%d", asked[0], asked[1], passed[0], passed[1])
		t.Logf("%s: %s", file, got)
		if got != want[file] {
			t.Errorf("%s: expected skips %q, got %q", file, want[file], got)
		}
	}
}

// feedSkipping is feedAll honouring the decoder's skips: after each Feed the
// bytes Skip asks for are dropped from what follows in that direction.
func feedSkipping(parts []part, split int) ([]string, error) {
	d := New(protocols.FlowInfo{Transport: protocols.TCP})
	var got []string
	emit := func(o protocols.Observation) {
		l := []string{o.Source, o.Role}
		for _, f := range o.Facts {
			l = append(l, f.Name+"="+f.Value)
		}
		got = append(got, strings.Join(l, " "))
	}
	var skip [2]int
	for _, p := range parts {
		b := []byte(p.data)
		for len(b) > 0 {
			k := min(len(b), skip[p.dir])
			skip[p.dir] -= k
			b = b[k:]
			n := len(b)
			if split > 0 && n > split {
				n = split
			}
			if n == 0 {
				break
			}
			if err := d.Feed(p.dir, b[:n], time.Time{}, emit); err != nil {
				return got, err
			}
			b = b[n:]
			skip[p.dir] += d.(protocols.Skipper).Skip(p.dir)
		}
	}
	d.Close(time.Time{}, emit)
	return got, nil
}

func TestFixturesSkipping(t *testing.T) {
	for i, tc := range fixtures {
		for _, split := range []int{0, 1, 7} {
			got, err := feedSkipping(tc.parts, split)
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

func TestSkip(t *testing.T) {
	tests := []struct {
		name  string
		feeds []part
		want  []int // Skip after each feed
	}{
		{
			name:  "content length, body in a later segment",
			feeds: []part{{c, "POST / HTTP/1.1\r\nContent-Length: 1000\r\n\r\n"}, {c, "GET / HTTP/1.1\r\n\r\n"}},
			want:  []int{1000, 0},
		},
		{
			name:  "content length, body begun",
			feeds: []part{{c, "POST / HTTP/1.1\r\nContent-Length: 1000\r\n\r\nabcd"}},
			want:  []int{996},
		},
		{
			name:  "content length, whole body fed",
			feeds: []part{{s, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nabcd"}},
			want:  []int{0},
		},
		{
			name: "chunked: the data of each chunk",
			feeds: []part{
				{s, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n100\r\n"},
				{s, "\r\n10\r\nab"},
				{s, "\r\n0\r\n\r\n"},
			},
			want: []int{0x100, 0x10 - 2, 0},
		},
		{
			name:  "response to the connection's end: the rest",
			feeds: []part{{s, "HTTP/1.0 200 OK\r\n\r\nabc"}},
			want:  []int{protocols.MaxSkip},
		},
		{
			name:  "upgrade: both directions",
			feeds: []part{{s, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"}, {c, "\x81\x05hello"}},
			want:  []int{protocols.MaxSkip, protocols.MaxSkip},
		},
		{
			name:  "headers only",
			feeds: []part{{c, "GET / HTTP/1.1\r\nHost: a\r\n"}},
			want:  []int{0},
		},
	}
	for i, tc := range tests {
		d := New(protocols.FlowInfo{Transport: protocols.TCP}).(*Decoder)
		for j, f := range tc.feeds {
			if err := d.Feed(f.dir, []byte(f.data), time.Time{}, func(protocols.Observation) {}); err != nil {
				t.Fatalf("Test %d (%s): feed %d: %v", i, tc.name, j, err)
			}
			if got := d.Skip(f.dir); got != tc.want[j] {
				t.Errorf("Test %d (%s): feed %d: expected Skip %d, got %d", i, tc.name, j, tc.want[j], got)
			}
		}
	}
}
