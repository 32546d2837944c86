package http

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/iomt-sensor/iomt-sensor/protocols"
	"github.com/iomt-sensor/iomt-sensor/protocols/internal/corpustest"
)

// corpusFiles are the corpus captures holding HTTP over TCP.
var corpusFiles = []string{
	"http/ndpi-http.pcapng",
	"http/ndpi-ipp.pcap",
	"device-mixed/ndpi-android.pcap",
	"device-mixed/ndpi-iphone.pcap",
}

// line formats one emitted observation compactly:
// "file frame sender-ip source role facts..." separated by tabs.
func line(file string, e corpustest.Emitted) string {
	o := e.Obs
	about := "sender"
	if o.About != protocols.Sender || o.Protocol != "http" {
		about = "bad about/protocol"
	}
	parts := []string{file, itoa(e.Frame), e.From.Addr().String(), about, o.Source, o.Role}
	for _, f := range o.Facts {
		parts = append(parts, f.Name+"="+f.Value)
	}
	return strings.Join(parts, "\t")
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// decodeFile runs the decoder over every TCP connection of path (all ports:
// content decides) and returns the emitted observations and the errors.
func decodeFile(t *testing.T, file, path string) (lines, errs []string) {
	t.Helper()
	for _, d := range corpustest.DecodeStreams(t, Spec(), path) {
		for _, e := range d.Emitted {
			lines = append(lines, line(file, e))
		}
		if d.Err != nil {
			errs = append(errs, file+" "+d.Stream.Client.String()+" "+d.Err.Error())
		}
	}
	return lines, errs
}

func decodeCorpus(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, file := range corpusFiles {
		lines, errs := decodeFile(t, file, corpustest.File(t, file))
		for _, e := range errs {
			t.Errorf("unexpected decoder error: %s", e)
		}
		out = append(out, lines...)
	}
	return out
}

// corpusWant is every observation the decoder makes of the corpus, in
// stream order. Each value was checked against tshark 4.0 (http.user_agent,
// http.host, http.server, http.content_type of the same frames; see
// TestCorpusTshark for the live comparison).
var corpusWant = []string{
	"http/ndpi-http.pcapng\t4\t192.168.1.128\tsender\thttp.request\tclient\thttp.host=google.com\thttp.user_agent=curl/7.68.0",
	"http/ndpi-http.pcapng\t6\t216.58.208.142\tsender\thttp.response\tserver\thttp.server=gws",
	"http/ndpi-ipp.pcap\t6\t10.10.10.49\tsender\thttp.request\tclient\thttp.ipp=true\thttp.host=10.10.10.251\thttp.user_agent=CUPS/1.3.4",
	"http/ndpi-ipp.pcap\t11\t10.10.10.251\tsender\thttp.response\tserver\thttp.server=Virata-EmWeb/R6_2_1\thttp.ipp=true",
	"http/ndpi-ipp.pcap\t22\t10.10.10.49\tsender\thttp.request\tclient\thttp.ipp=true\thttp.host=10.10.10.251\thttp.user_agent=CUPS/1.3.4",
	"http/ndpi-ipp.pcap\t247\t10.10.10.251\tsender\thttp.response\tserver\thttp.server=Virata-EmWeb/R6_2_1\thttp.ipp=true",
	"http/ndpi-ipp.pcap\t256\t10.10.10.49\tsender\thttp.request\tclient\thttp.ipp=true\thttp.host=10.10.10.251\thttp.user_agent=CUPS/1.3.4",
	"http/ndpi-ipp.pcap\t263\t10.10.10.251\tsender\thttp.response\tserver\thttp.server=Virata-EmWeb/R6_2_1\thttp.ipp=true",
	"device-mixed/ndpi-android.pcap\t83\t192.168.2.16\tsender\thttp.request\tclient\thttp.user_agent=Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/60.0.3112.32 Safari/537.36\thttp.host=captive.apple.com",
	"device-mixed/ndpi-android.pcap\t85\t17.253.53.201\tsender\thttp.response\tserver\thttp.server=ATS/8.0.6",
	"device-mixed/ndpi-android.pcap\t227\t192.168.2.16\tsender\thttp.request\tclient\thttp.host=check.googlezip.net\thttp.user_agent=Mozilla/5.0 (Linux; Android 9; Nokia 2.2) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/79.0.3945.93 Mobile Safari/537.36",
	"device-mixed/ndpi-android.pcap\t245\t173.194.79.114\tsender\thttp.response\tserver\thttp.server=sffe",
	"device-mixed/ndpi-android.pcap\t382\t192.168.2.16\tsender\thttp.request\tclient\thttp.host=check.googlezip.net\thttp.user_agent=Mozilla/5.0 (Linux; Android 9; Nokia 2.2) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/79.0.3945.93 Mobile Safari/537.36",
	"device-mixed/ndpi-android.pcap\t399\t173.194.79.114\tsender\thttp.response\tserver\thttp.server=sffe",
	"device-mixed/ndpi-iphone.pcap\t87\t192.168.2.17\tsender\thttp.request\tclient\thttp.host=captive.apple.com\thttp.user_agent=CaptiveNetworkSupport-390.60.1 wispr",
	"device-mixed/ndpi-iphone.pcap\t119\t17.253.105.202\tsender\thttp.response\tserver\thttp.server=ATS/8.0.6",
}

func TestCorpus(t *testing.T) {
	got := decodeCorpus(t)
	if os.Getenv("HTTP_PRINT_WANT") == "1" {
		for _, l := range got {
			t.Logf("%q,", l)
		}
	}
	if !slices.Equal(got, corpusWant) {
		for i := range max(len(got), len(corpusWant)) {
			var g, w string
			if i < len(got) {
				g = got[i]
			}
			if i < len(corpusWant) {
				w = corpusWant[i]
			}
			if g != w {
				t.Errorf("Test %d:\nexpected %s\ngot      %s", i, w, g)
			}
		}
	}
}

// tsharkFacts returns, per sender address, the facts tshark's decoding of
// path implies (deduplicated as the decoder does per flow, here per file).
func tsharkFacts(t *testing.T, tshark, path string) []string {
	t.Helper()
	cmd := exec.Command(tshark, "-r", path, "-Y", "http.request or http.response", "-T", "fields",
		"-E", "separator=/t", "-E", "aggregator=|", "-e", "ip.src", "-e", "http.request.method",
		"-e", "http.user_agent", "-e", "http.host", "-e", "http.server", "-e", "http.content_type",
		"-e", "http.request.uri", "-e", "udp.srcport")
	cmd.Env = append(os.Environ(), "TSHARK_RUN_AS_ROOT=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark: %v: %s", err, stderr.String())
	}
	var facts []string
	for l := range strings.Lines(string(out)) {
		f := strings.Split(strings.TrimRight(l, "\r\n"), "\t")
		if len(f) != 8 || f[7] != "" { // SSDP over UDP is not this decoder's
			continue
		}
		add := func(name, v string) {
			if v != "" {
				facts = append(facts, f[0]+" "+name+"="+v)
			}
		}
		if f[1] != "" {
			add(FactUserAgent, f[2])
			add(FactHost, f[3])
			if r, ok := fhirTarget([]byte(f[6])); ok {
				add(FactFHIR, "true")
				add(FactFHIRResource, r)
			}
		} else {
			add(FactServer, f[4])
		}
		if strings.HasPrefix(f[5], "application/ipp") {
			add(FactIPP, "true")
		}
	}
	slices.Sort(facts)
	return slices.Compact(facts)
}

// factSet reduces decoder output lines to sorted unique "ip fact" strings.
func factSet(lines []string) []string {
	var out []string
	for _, l := range lines {
		f := strings.Split(l, "\t")
		for _, kv := range f[6:] {
			out = append(out, f[2]+" "+kv)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// TestCorpusTshark compares the facts per sender with a live tshark run over
// the corpus and the repository's curl capture, when tshark is installed.
func TestCorpusTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not on PATH")
	}
	files := map[string]string{"http-curl.pcap": repoCapture(t, "http-curl.pcap")}
	for _, f := range corpusFiles {
		files[f] = corpustest.File(t, f)
	}
	for file, path := range files {
		lines, errs := decodeFile(t, file, path)
		if len(errs) > 0 {
			t.Errorf("%s: decoder errors %v", file, errs)
		}
		got, want := factSet(lines), tsharkFacts(t, tshark, path)
		if !slices.Equal(got, want) {
			t.Errorf("%s:\nexpected %q\ngot      %q", file, want, got)
		}
	}
}

// repoCapture returns the path of the repository's own testdata/captures
// file name, found by walking up to go.mod, or skips.
func repoCapture(t *testing.T, name string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			p := filepath.Join(dir, "testdata", "captures", name)
			if _, err := os.Stat(p); err != nil {
				t.Skipf("repository capture missing: %v", err)
			}
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("repository root (go.mod) not found")
		}
		dir = parent
	}
}

func TestDependencies(t *testing.T) { corpustest.CheckDeps(t) }
