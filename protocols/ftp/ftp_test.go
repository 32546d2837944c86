package ftp

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
		if o.Protocol != "ftp" {
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
		// zeek-ftp-ipv4.pcap frames 4-17 (login values replaced).
		name: "NetBSD anonymous session",
		parts: []part{
			{s, "220 ftp.NetBSD.org FTP server (NetBSD-ftpd 20100320) ready.\r\n"},
			{c, "USER anonymous\r\n"},
			{s, "331 Guest login ok, type your name as password.\r\n"},
			{c, "PASS secret@example.org\r\n"},
			{s, "230-\r\n    The NetBSD Project FTP Server\r\n215 not a reply: inside the 230\r\n230 Guest login ok.\r\n"},
			{c, "SYST\r\n"},
			{s, "215 UNIX Type: L8 Version: NetBSD-ftpd 20100320\r\n"},
		},
		want: []string{
			"sender ftp.banner server ftp.banner=ftp.NetBSD.org FTP server (NetBSD-ftpd 20100320) ready.",
			"sender ftp.login client ftp.cleartext_login=true ftp.anonymous_login=true",
			"receiver ftp.login server ftp.cleartext_login=true ftp.anonymous_login=true",
			"sender ftp.syst server ftp.system=UNIX Type: L8 Version: NetBSD-ftpd 20100320",
		},
	},
	{
		name: "multi-line greeting, named user, lower-case commands",
		parts: []part{
			{s, "220-Welcome to the PACS archive\r\n220-Authorized use only\r\n220 ready\r\n"},
			{c, "user radiology\r\npass hunter2\r\n"},
		},
		want: []string{
			"sender ftp.banner server ftp.banner=Welcome to the PACS archive",
			"sender ftp.login client ftp.cleartext_login=true",
			"receiver ftp.login server ftp.cleartext_login=true",
		},
	},
	{
		name: "AUTH TLS: nothing after the 234 is read",
		parts: []part{
			{s, "220 (vsFTPd 3.0.3)\r\n"},
			{c, "AUTH TLS\r\n"},
			{s, "234 Proceed with negotiation.\r\n"},
			{c, "USER x\r\nPASS y\r\n"},
		},
		want: []string{"sender ftp.banner server ftp.banner=(vsFTPd 3.0.3)"},
	},
	{
		name: "PASS without USER, over-long line skipped, control bytes dropped",
		parts: []part{
			{s, "220 \x01ok\x7f\r\n"},
			{c, "PASS x\r\n" + strings.Repeat("A", MaxLineLen+10) + "\r\n"},
		},
		want: []string{"sender ftp.banner server ftp.banner=ok"},
	},
}

func TestFeedFixtures(t *testing.T) {
	for i, tc := range fixtures {
		for _, split := range []int{0, 1, 5} {
			if got := feedAll(tc.parts, split); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Test %d (%s, split %d):\nexpected %q\ngot      %q", i, tc.name, split, tc.want, got)
			}
		}
	}
}

func TestDetect(t *testing.T) {
	tests := []struct {
		dir  protocols.Direction
		data string
		want bool
	}{
		{s, "220 (vsFTPd 3.0.3)\r\n", true},
		{s, "220-multi\r\n", true},
		{s, "220 mail.example.com ESMTP Postfix\r\n", false},
		{s, "2200 x", false},
		{c, "220 (vsFTPd 3.0.3)\r\n", false},
		{s, "HTTP/1.1 200 OK\r\n", false},
		{s, "\xff\xfb\x01", false},
		{s, "220", false},
	}
	for i, tc := range tests {
		if got := Detect(tc.dir, []byte(tc.data)); got != tc.want {
			t.Errorf("Test %d (%q): expected %v, got %v", i, tc.data, tc.want, got)
		}
	}
}

func TestSpec(t *testing.T) {
	sp := Spec()
	if sp.Name != "ftp" || sp.Transport != protocols.TCP || !reflect.DeepEqual(sp.Ports, []uint16{21}) || sp.Detect == nil || sp.New == nil {
		t.Errorf("unexpected spec %+v", sp)
	}
}

var corpusFiles = []string{"telnet-ftp/ndpi-ftp.pcap", "telnet-ftp/zeek-ftp-ipv4.pcap"}

func decodeCorpus(t *testing.T, file string) []string {
	t.Helper()
	var out []string
	for _, d := range corpustest.DecodeStreams(t, Spec(), corpustest.File(t, file)) {
		if d.Err != nil {
			t.Errorf("%s: unexpected error %v", file, d.Err)
		}
		for _, e := range d.Emitted {
			l := []string{file, strconv.Itoa(e.Frame), e.From.Addr().String(), []string{"sender", "receiver"}[e.Obs.About&1], e.Obs.Source, e.Obs.Role}
			for _, f := range e.Obs.Facts {
				l = append(l, f.Name+"="+f.Value)
			}
			out = append(out, strings.Join(l, "\t"))
		}
	}
	return out
}

// corpusWant is every observation of the corpus FTP captures; banner and
// system values equal tshark's ftp.response.arg of the 220 and 215 replies,
// the logins follow tshark's USER and PASS requests (TestCorpusTshark).
var corpusWant = []string{
	"telnet-ftp/ndpi-ftp.pcap\t4\t90.130.70.73\tsender\tftp.banner\tserver\tftp.banner=(vsFTPd 3.0.3)",
	"telnet-ftp/ndpi-ftp.pcap\t10\t192.168.1.212\tsender\tftp.login\tclient\tftp.cleartext_login=true\tftp.anonymous_login=true",
	"telnet-ftp/ndpi-ftp.pcap\t10\t192.168.1.212\treceiver\tftp.login\tserver\tftp.cleartext_login=true\tftp.anonymous_login=true",
	"telnet-ftp/zeek-ftp-ipv4.pcap\t4\t199.233.217.249\tsender\tftp.banner\tserver\tftp.banner=ftp.NetBSD.org FTP server (NetBSD-ftpd 20100320) ready.",
	"telnet-ftp/zeek-ftp-ipv4.pcap\t9\t141.142.220.235\tsender\tftp.login\tclient\tftp.cleartext_login=true\tftp.anonymous_login=true",
	"telnet-ftp/zeek-ftp-ipv4.pcap\t9\t141.142.220.235\treceiver\tftp.login\tserver\tftp.cleartext_login=true\tftp.anonymous_login=true",
	"telnet-ftp/zeek-ftp-ipv4.pcap\t17\t199.233.217.249\tsender\tftp.syst\tserver\tftp.system=UNIX Type: L8 Version: NetBSD-ftpd 20100320",
}

func TestCorpus(t *testing.T) {
	var got []string
	for _, f := range corpusFiles {
		got = append(got, decodeCorpus(t, f)...)
	}
	if !slices.Equal(got, corpusWant) {
		t.Errorf("expected\n%s\ngot\n%s", strings.Join(corpusWant, "\n"), strings.Join(got, "\n"))
	}
}

// TestCorpusTshark derives the expected banner, system and login facts per
// frame from a live tshark run.
func TestCorpusTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not on PATH")
	}
	for _, file := range corpusFiles {
		cmd := exec.Command(tshark, "-r", corpustest.File(t, file), "-Y", "ftp.response.code==220 or ftp.response.code==215 or ftp.request.command==\"USER\" or ftp.request.command==\"PASS\"",
			"-T", "fields", "-E", "separator=/t", "-E", "occurrence=f", "-e", "frame.number", "-e", "ip.src", "-e", "ftp.request.command", "-e", "ftp.request.arg", "-e", "ftp.response.code", "-e", "ftp.response.arg")
		cmd.Env = append(os.Environ(), "TSHARK_RUN_AS_ROOT=1")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("tshark: %v: %s", err, stderr.String())
		}
		var want []string
		user, anonymous := false, ""
		for l := range strings.Lines(string(out)) {
			f := strings.Split(strings.TrimRight(l, "\r\n"), "\t")
			pre := file + "\t" + f[0] + "\t" + f[1] + "\t"
			switch {
			case f[4] == "220":
				want = append(want, pre+"sender\tftp.banner\tserver\tftp.banner="+f[5])
			case f[4] == "215":
				want = append(want, pre+"sender\tftp.syst\tserver\tftp.system="+f[5])
			case f[2] == "USER":
				user = true
				if a := strings.ToLower(f[3]); a == "anonymous" || a == "ftp" {
					anonymous = "\tftp.anonymous_login=true"
				}
			case f[2] == "PASS" && user:
				want = append(want, pre+"sender\tftp.login\tclient\tftp.cleartext_login=true"+anonymous,
					pre+"receiver\tftp.login\tserver\tftp.cleartext_login=true"+anonymous)
				user = false
			}
		}
		if got := decodeCorpus(t, file); !slices.Equal(got, want) {
			t.Errorf("%s: expected\n%s\ngot\n%s", file, strings.Join(want, "\n"), strings.Join(got, "\n"))
		}
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
			for _, l := range feedAll([]part{{s, string(data)}, {c, string(data)}}, split) {
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

// BenchmarkFeed measures a control connection after login: commands and
// replies that produce nothing.
func BenchmarkFeed(b *testing.B) {
	d := New(protocols.FlowInfo{})
	emit := func(protocols.Observation) {}
	d.Feed(s, []byte("220 (vsFTPd 3.0.3)\r\n"), time.Time{}, emit)
	cmd := []byte("PASV\r\nRETR image-0001.dcm\r\n")
	rep := []byte("227 Entering Passive Mode (90,130,70,73,100,85).\r\n150 Opening BINARY mode data connection.\r\n226 Transfer complete.\r\n")
	b.ReportAllocs()
	b.SetBytes(int64(len(cmd) + len(rep)))
	for b.Loop() {
		d.Feed(c, cmd, time.Time{}, emit)
		d.Feed(s, rep, time.Time{}, emit)
	}
}

func TestDependencies(t *testing.T) { corpustest.CheckDeps(t) }
