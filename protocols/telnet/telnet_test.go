package telnet

import (
	"bytes"
	"os"
	"os/exec"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/iomt-sensor/iomt-sensor/protocols"
	"github.com/iomt-sensor/iomt-sensor/protocols/internal/corpustest"
)

const (
	c = protocols.FromClient
	s = protocols.FromServer
)

type part struct {
	dir  protocols.Direction
	data string
}

// feedAll feeds parts to a fresh decoder in pieces of at most split bytes
// (0: whole) and returns the observations as "about source role facts".
func feedAll(parts []part, split int) []string {
	d := New(protocols.FlowInfo{})
	var got []string
	emit := func(o protocols.Observation) {
		l := []string{[]string{"sender", "receiver"}[o.About&1], o.Source, o.Role}
		for _, f := range o.Facts {
			l = append(l, f.Name+"="+f.Value)
		}
		if o.Protocol != "telnet" {
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
				got = append(got, "error "+err.Error())
			}
			b = b[n:]
		}
	}
	d.Close(time.Time{}, emit)
	return got
}

var fixtures = []struct {
	name  string
	parts []part
	want  []string
}{
	{
		// ndpi-telnet.pcap frames 1-38: negotiation (with a terminal-type
		// subnegotiation), banner, prompts, typed answers (replaced).
		name: "OpenBSD login",
		parts: []part{
			{s, "\xff\xfd\x18\xff\xfd\x20\xff\xfd\x23\xff\xfd\x27"},
			{c, "\xff\xfb\x18\xff\xfb\x20\xff\xfb\x23\xff\xfb\x27"},
			{s, "\xff\xfa\x18\x01\xff\xf0"},
			{c, "\xff\xfa\x18\x00xterm-color\xff\xf0"},
			{s, "\xff\xfb\x03\xff\xfd\x01\xff\xfb\x01\r\nOpenBSD/i386 (oof) (ttyp2)\r\n\r\n"},
			{s, "login: "},
			{c, "someone\r\n"},
			{s, "Password:"},
			{c, "secret\r\n"},
			{s, "\r\nLast login: Sat Nov 27 20:11:43 on ttyp2\r\n"},
		},
		want: []string{
			"sender telnet.banner server telnet.banner=OpenBSD/i386 (oof) (ttyp2)",
			"sender telnet.login client telnet.cleartext_login=true",
			"receiver telnet.login server telnet.cleartext_login=true",
		},
	},
	{
		name: "multi-line banner capped at 3 lines, IAC IAC is data, prompt in subnegotiation ignored",
		parts: []part{
			{s, "\xff\xfb\x01Infusion Gateway\r\nModel \xff\xffX\r\n\r\nFirmware 1.7\r\nSerial 42\r\n\xff\xfa\x18login: \xff\xf0"},
			{c, "x"},
			{s, "Username: "},
			{c, "\xff\xfb\x01"}, // negotiation only: not an answer
		},
		want: []string{"sender telnet.banner server telnet.banner=Infusion Gateway | Model X | Firmware 1.7"},
	},
	{
		name: "answer after the prompt only",
		parts: []part{
			{c, "early typing\r\n"},
			{s, "\xff\xfd\x01Welcome\r\nuser name: "},
			{c, "a"},
		},
		want: []string{
			"sender telnet.banner server telnet.banner=Welcome",
			"sender telnet.login client telnet.cleartext_login=true",
			"receiver telnet.login server telnet.cleartext_login=true",
		},
	},
}

func TestFeedFixtures(t *testing.T) {
	for i, tc := range fixtures {
		for _, split := range []int{0, 1, 5} {
			// Byte-by-byte delivery can split a banner across Feeds: the
			// banner then ends at the first Feed with a complete line.
			if split > 0 && i == 1 {
				continue
			}
			if got := feedAll(tc.parts, split); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Test %d (%s, split %d):\nexpected %q\ngot      %q", i, tc.name, split, tc.want, got)
			}
		}
	}
}

func TestDetect(t *testing.T) {
	tests := []struct {
		data string
		want bool
	}{
		{"\xff\xfd\x18", true},
		{"\xff\xfb\x01", true},
		{"\xff\xfa\x18\x01\xff\xf0", true},
		{"\xff\xf1\x00", false}, // NOP alone
		{"\xff\xfd", false},
		{"220 (vsFTPd 3.0.3)\r\n", false},
		{"login: ", false},
	}
	for i, tc := range tests {
		if got := Detect(s, []byte(tc.data)); got != tc.want {
			t.Errorf("Test %d (%q): expected %v, got %v", i, tc.data, tc.want, got)
		}
	}
}

func TestSpec(t *testing.T) {
	sp := Spec()
	if sp.Name != "telnet" || sp.Transport != protocols.TCP || !reflect.DeepEqual(sp.Ports, []uint16{23}) || sp.Detect == nil || sp.New == nil {
		t.Errorf("unexpected spec %+v", sp)
	}
}

const corpusFile = "telnet-ftp/ndpi-telnet.pcap"

func decodeCorpus(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, d := range corpustest.DecodeStreams(t, Spec(), corpustest.File(t, corpusFile)) {
		if d.Err != nil {
			t.Errorf("unexpected error %v", d.Err)
		}
		for _, e := range d.Emitted {
			l := []string{strconv.Itoa(e.Frame), e.From.Addr().String(), []string{"sender", "receiver"}[e.Obs.About&1], e.Obs.Source, e.Obs.Role}
			for _, f := range e.Obs.Facts {
				l = append(l, f.Name+"="+f.Value)
			}
			out = append(out, strings.Join(l, "\t"))
		}
	}
	return out
}

// corpusWant is what the decoder makes of ndpi-telnet.pcap, as tshark's
// telnet.data shows it (TestCorpusTshark): the banner line of frame 27 and
// the answer of frame 31 to the "login: " prompt of frame 29.
var corpusWant = []string{
	"27\t192.168.0.1\tsender\ttelnet.banner\tserver\ttelnet.banner=OpenBSD/i386 (oof) (ttyp2)",
	"31\t192.168.0.2\tsender\ttelnet.login\tclient\ttelnet.cleartext_login=true",
	"31\t192.168.0.2\treceiver\ttelnet.login\tserver\ttelnet.cleartext_login=true",
}

func TestCorpus(t *testing.T) {
	if got := decodeCorpus(t); !slices.Equal(got, corpusWant) {
		t.Errorf("expected\n%s\ngot\n%s", strings.Join(corpusWant, "\n"), strings.Join(got, "\n"))
	}
}

// TestCorpusTshark derives the banner (first server frame with a non-empty
// line) and the login (first client data after a server prompt) from
// tshark's telnet.data of the same capture.
func TestCorpusTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not on PATH")
	}
	cmd := exec.Command(tshark, "-r", corpustest.File(t, corpusFile), "-Y", "telnet.data", "-T", "fields",
		"-E", "separator=/t", "-E", "aggregator=\x01", "-e", "frame.number", "-e", "ip.src", "-e", "tcp.srcport", "-e", "telnet.data")
	cmd.Env = append(os.Environ(), "TSHARK_RUN_AS_ROOT=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark: %v: %s", err, stderr.String())
	}
	var want []string
	banner, prompted, login := false, false, false
	for l := range strings.Lines(string(out)) {
		f := strings.Split(strings.TrimRight(l, "\n"), "\t")
		// tshark prints control characters escaped.
		data := strings.NewReplacer(`\r`, "\r", `\n`, "\n").Replace(strings.ReplaceAll(f[3], "\x01", ""))
		if f[2] == "23" {
			var lines []string
			pieces := strings.Split(data, "\n")
			for _, ln := range pieces[:len(pieces)-1] { // the last piece is no complete line
				if ln = strings.TrimSpace(ln); ln != "" {
					lines = append(lines, ln)
				}
			}
			if !banner && len(lines) > 0 {
				banner = true
				want = append(want, f[0]+"\t"+f[1]+"\tsender\ttelnet.banner\tserver\ttelnet.banner="+strings.Join(lines[:min(len(lines), maxBannerLines)], " | "))
			}
			d := strings.ToLower(strings.TrimSpace(data))
			prompted = strings.HasSuffix(d, "login:") || strings.HasSuffix(d, "password:") || strings.HasSuffix(d, "username:")
		} else if prompted && !login {
			login = true
			want = append(want, f[0]+"\t"+f[1]+"\tsender\ttelnet.login\tclient\ttelnet.cleartext_login=true",
				f[0]+"\t"+f[1]+"\treceiver\ttelnet.login\tserver\ttelnet.cleartext_login=true")
		}
	}
	if got := decodeCorpus(t); !slices.Equal(got, want) {
		t.Errorf("expected\n%s\ngot\n%s", strings.Join(want, "\n"), strings.Join(got, "\n"))
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
	f.Fuzz(func(t *testing.T, data []byte) {
		Detect(s, data)
		for _, split := range []int{0, 7} {
			for _, l := range feedAll([]part{{s, string(data)}, {c, string(data)}, {s, string(data)}}, split) {
				if strings.Contains(l, "BAD") || strings.HasPrefix(l, "error") {
					t.Fatalf("bad observation %q", l)
				}
			}
		}
		d := New(protocols.FlowInfo{})
		d.Feed(s, data, time.Time{}, func(o protocols.Observation) {
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
		})
	})
}

// BenchmarkFeed measures a session after login: shell output with an
// occasional command.
func BenchmarkFeed(b *testing.B) {
	d := New(protocols.FlowInfo{})
	emit := func(protocols.Observation) {}
	for _, p := range fixtures[0].parts {
		d.Feed(p.dir, []byte(p.data), time.Time{}, emit)
	}
	out := []byte("64 bytes from 204.71.200.67: icmp_seq=0 ttl=241 time=69.885 ms\r\n\xff\xf1")
	in := []byte("ls\r\n")
	b.ReportAllocs()
	b.SetBytes(int64(len(out) + len(in)))
	for b.Loop() {
		d.Feed(s, out, time.Time{}, emit)
		d.Feed(c, in, time.Time{}, emit)
	}
}

func TestDependencies(t *testing.T) { corpustest.CheckDeps(t) }
