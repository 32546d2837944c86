package syslog

import (
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/iomt-sensor/iomt-sensor/protocols"
	"github.com/iomt-sensor/iomt-sensor/protocols/internal/corpustest"
)

// corpusFiles are the corpus captures with syslog over UDP.
var corpusFiles = []string{
	"syslog/ndpi-syslog.pcap",
	"syslog/tcpdump-syslog_udp.pcap",
	"syslog/zeek-syslog-single-udp.pcap",
}

// tcpFile holds syslog over TCP 514 (raw IP link type).
const tcpFile = "syslog/zeek-tcp-syslog.pcap"

// msgFields is one message reduced to what is compared with tshark:
// facility number, host name and application.
type msgFields struct {
	file, frame         string
	facility, host, app string
	hostname            string // Observation.Hostname
}

func reduce(file, frame string, o protocols.Observation) msgFields {
	m := msgFields{file: file, frame: frame, hostname: o.Hostname}
	for _, f := range o.Facts {
		switch f.Name {
		case FactHostname:
			m.host = f.Value
		case FactApp:
			m.app = f.Value
		case FactFacility:
			for i, n := range facilityNames {
				if n == f.Value {
					m.facility = strconv.Itoa(i)
				}
			}
		}
	}
	return m
}

// decodeCorpus decodes every UDP 514 datagram with a fresh decoder (no
// de-duplication) and every TCP 514 stream with one decoder per stream.
func decodeCorpus(t *testing.T) []msgFields {
	t.Helper()
	var out []msgFields
	for _, file := range corpusFiles {
		for _, d := range corpustest.UDP(t, corpustest.File(t, file), Port) {
			if !Detect(protocols.FromClient, d.Payload) {
				t.Errorf("%s frame %d: Detect = false", file, d.Frame)
			}
			got, err := decode(d.Payload)
			if err != nil {
				t.Errorf("%s frame %d: %v", file, d.Frame, err)
			}
			for _, o := range got {
				out = append(out, reduce(file, strconv.Itoa(d.Frame), o))
			}
		}
	}
	for _, s := range corpustest.TCPStreams(t, corpustest.RawIPAsLinkRaw(t, corpustest.File(t, tcpFile)), Port) {
		d := TCPSpec().New(protocols.FlowInfo{Transport: protocols.TCP, Client: s.Client, Server: s.Server})
		var frame int
		emit := func(o protocols.Observation) { out = append(out, reduce(tcpFile, strconv.Itoa(frame), o)) }
		first := true
		for _, c := range s.Chunks {
			frame = c.Frame
			if c.Gap > 0 {
				d.Gap(c.Dir, c.Gap, time.Time{}, emit)
				continue
			}
			if first && !DetectTCP(c.Dir, c.Data) {
				t.Errorf("%s frame %d: DetectTCP = false", tcpFile, c.Frame)
			}
			first = false
			if err := d.Feed(c.Dir, c.Data, time.Time{}, emit); err != nil {
				t.Errorf("%s frame %d: %v", tcpFile, c.Frame, err)
			}
		}
		d.Close(time.Time{}, emit)
	}
	return out
}

func compare(t *testing.T, got, want []msgFields) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("expected %d messages, got %d", len(want), len(got))
	}
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			t.Errorf("Test %d: expected %+v, got %+v", i, want[i], got[i])
		}
	}
}

// tsharkMessages runs tshark over file (TCP 514 decoded as syslog) and
// returns per message frame, facility, hostname and appname.
func tsharkMessages(t *testing.T, tshark, file string) [][]string {
	t.Helper()
	cmd := exec.Command(tshark, "-r", corpustest.File(t, file), "-d", "tcp.port==514,syslog", "-Y", "syslog",
		"-T", "fields", "-E", "separator=|", "-e", "frame.number", "-e", "syslog.facility",
		"-e", "syslog.hostname", "-e", "syslog.appname", "-e", "syslog.procid")
	cmd.Env = append(os.Environ(), "TSHARK_RUN_AS_ROOT=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark %s: %v: %s", file, err, stderr.String())
	}
	var rows [][]string
	for line := range strings.Lines(strings.TrimSpace(string(out))) {
		f := strings.Split(strings.TrimRight(line, "\r\n"), "|")
		if len(f) != 5 {
			t.Fatalf("tshark %s: unexpected line %q", file, line)
		}
		rows = append(rows, f)
	}
	return rows
}

// corpusWant is every message of the corpus as the decoder reads it, in runs
// of frames with equal fields: facility number, host name fact, application,
// Observation.Hostname. tshark 4.0.17 agrees on every field it decodes
// (TestCorpusTshark); where it decodes less, the stored values are the
// decoder's, by the rules in README.md:
//   - tcpdump-syslog_udp.pcap frames 3-4 have an RFC 3339 time stamp, which
//     tshark does not parse; "localhost" is kept as a fact, not a host name.
//   - zeek-syslog-single-udp.pcap: tshark takes "robin:" for the host name
//     and "Hello" for the process; it is the tag, and there is no host name.
//   - ndpi-syslog.pcap frames 26-31 ("ssg:") and 52-71 ("snmpd[6956]:") have
//     a tag but no time stamp or host name; tshark reads neither.
//   - zeek-tcp-syslog.pcap frames 4 and 6 are octet-counted (RFC 6587 §3.4.1),
//     which tshark does not frame; frames 5 and 6 repeat the header of 4 and
//     so give no observation on the same TCP flow.
var corpusWant = []struct {
	file                          string
	first, last                   int
	facility, host, app, hostname string
}{
	{"syslog/ndpi-syslog.pcap", 1, 2, "3", "nb6", "nbd", "nb6"},
	{"syslog/ndpi-syslog.pcap", 3, 17, "16", "", "", ""},
	{"syslog/ndpi-syslog.pcap", 18, 19, "18", "nb6", "chillispot", "nb6"},
	{"syslog/ndpi-syslog.pcap", 20, 25, "23", "", "", ""},
	{"syslog/ndpi-syslog.pcap", 26, 31, "16", "", "ssg", ""},
	{"syslog/ndpi-syslog.pcap", 32, 33, "23", "", "", ""},
	{"syslog/ndpi-syslog.pcap", 34, 35, "1", "", "", ""},
	{"syslog/ndpi-syslog.pcap", 36, 51, "23", "", "", ""},
	{"syslog/ndpi-syslog.pcap", 52, 71, "3", "", "snmpd", ""},
	{"syslog/ndpi-syslog.pcap", 83, 83, "16", "", "", ""},
	{"syslog/ndpi-syslog.pcap", 84, 84, "23", "", "", ""},
	{"syslog/ndpi-syslog.pcap", 85, 88, "5", "pfSense.localdomain", "suricata", "pfSense.localdomain"},
	{"syslog/ndpi-syslog.pcap", 89, 91, "0", "NDC3CLNDMVA22", "kernel", "NDC3CLNDMVA22"},
	{"syslog/ndpi-syslog.pcap", 92, 92, "3", "NDC3CLNDMVA22", "NetworkManager", "NDC3CLNDMVA22"},
	{"syslog/ndpi-syslog.pcap", 93, 93, "0", "NDC3CLNDMVA22", "kernel", "NDC3CLNDMVA22"},
	{"syslog/ndpi-syslog.pcap", 94, 94, "3", "ndc3lvmsdptd2", "filebeat", "ndc3lvmsdptd2"},
	{"syslog/tcpdump-syslog_udp.pcap", 1, 1, "0", "through", "logger", "through"},
	{"syslog/tcpdump-syslog_udp.pcap", 2, 2, "1", "through", "logger", "through"},
	{"syslog/tcpdump-syslog_udp.pcap", 3, 4, "1", "localhost", "", ""},
	{"syslog/zeek-syslog-single-udp.pcap", 1, 1, "16", "", "robin", ""},
	{tcpFile, 4, 4, "1", "mymachine", "su", "mymachine"},
	{tcpFile, 7, 7, "2", "mymachine", "su", "mymachine"},
}

func TestCorpus(t *testing.T) {
	var want []msgFields
	for _, w := range corpusWant {
		for f := w.first; f <= w.last; f++ {
			want = append(want, msgFields{w.file, strconv.Itoa(f), w.facility, w.host, w.app, w.hostname})
		}
	}
	compare(t, decodeCorpus(t), want)
}

// TestCorpusTshark compares every message with a live tshark run over the
// same files, when tshark is installed: the facility always, host name and
// application where tshark parses a header (tshark 4.0 names the RFC 3164
// tag syslog.procid).
func TestCorpusTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not on PATH")
	}
	got := map[[2]string]msgFields{}
	for _, m := range decodeCorpus(t) {
		got[[2]string{m.file, m.frame}] = m
	}
	var n int
	for _, file := range append(corpusFiles, tcpFile) {
		for _, r := range tsharkMessages(t, tshark, file) {
			m, ok := got[[2]string{file, r[0]}]
			if !ok {
				if file != tcpFile { // TCP: repeated headers are not emitted
					t.Errorf("%s frame %s: tshark shows syslog, decoder gave nothing", file, r[0])
				}
				continue
			}
			n++
			if r[1] == "" {
				continue // tshark did not parse the frame (octet counting)
			}
			host, app := r[2], r[3]
			if app == "" {
				app = r[4]
			}
			if m.facility != r[1] {
				t.Errorf("%s frame %s: expected facility %s, got %s", file, r[0], r[1], m.facility)
			}
			switch {
			case host == "":
				// Header not parsed by tshark: checked by TestCorpus.
			case strings.HasSuffix(host, ":"):
				// tshark takes the tag for the host name.
				if m.host != "" || m.app != strings.TrimSuffix(host, ":") {
					t.Errorf("%s frame %s: expected tag %s and no host, got %+v", file, r[0], host, m)
				}
			case m.host != host || m.app != app:
				t.Errorf("%s frame %s: expected host %q app %q, got %+v", file, r[0], host, app, m)
			}
		}
	}
	if n != len(got) {
		t.Errorf("tshark matched %d of the decoder's %d messages", n, len(got))
	}
}
