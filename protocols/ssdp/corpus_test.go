package ssdp

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/iomt-sensor/iomt-sensor/protocols"
	"github.com/iomt-sensor/iomt-sensor/protocols/internal/corpustest"
)

// corpusFiles are the corpus captures that hold SSDP.
var corpusFiles = []string{
	"ssdp-upnp/ndpi-ssdp-m-search-ua.pcap",
	"ssdp-upnp/ndpi-ssdp-m-search.pcap",
	"device-mixed/ndpi-android.pcap",
	"device-mixed/ndpi-iphone.pcap",
}

// localFiles are captures kept in testdata: minidlna 1.3.0 answering an
// M-SEARCH (ssdp:all) from a Python socket and announcing itself
// (ssdp:alive, then ssdp:byebye at exit), between two network namespaces.
var localFiles = []string{"testdata/minidlna.pcap"}

// filePath returns the path of a corpus or testdata file.
func filePath(t *testing.T, file string) string {
	if strings.HasPrefix(file, "testdata/") {
		return file
	}
	return corpustest.File(t, file)
}

// corpusPorts are the UDP ports the corpus SSDP uses: 1900 and Plex's 32412.
var corpusPorts = []uint16{Port, 32412}

// wantMsg is what the decoder must make of one datagram: Err is the
// protocols.Reason of the error, Obs the observation in compact form
// ("source|role|name=value ...").
type wantMsg struct {
	File  string
	Frame int
	Err   string
	Obs   string
}

func compact(o protocols.Observation) string {
	var b strings.Builder
	b.WriteString(o.Protocol + "|" + o.Source + "|" + o.Role + "|")
	if o.About != protocols.Sender || !o.MAC.IsZero() || o.IP.IsValid() || o.Hostname != "" {
		b.WriteString("UNEXPECTED|")
	}
	// tshark does not keep header order across its fields: the facts after
	// the first (ssdp.method) are compared sorted here; TestFeedFixtures
	// checks the order.
	var fs []string
	for _, f := range o.Facts {
		fs = append(fs, f.Name+"="+f.Value)
	}
	if len(fs) > 0 {
		slices.Sort(fs[1:])
	}
	b.WriteString(strings.Join(fs, " "))
	return b.String()
}

// decodeFile feeds every SSDP datagram of path (UDP 1900 or 32412, the
// ones Detect accepts) to the decoder.
func decodeFile(t *testing.T, file, path string) []wantMsg {
	t.Helper()
	var out []wantMsg
	for _, d := range corpustest.UDP(t, path, corpusPorts...) {
		if !Detect(protocols.FromClient, d.Payload) {
			continue // DNS from port 32412 in ndpi-android.pcap
		}
		got, err := decode(d.Payload)
		m := wantMsg{File: file, Frame: d.Frame, Err: protocols.Reason(err)}
		for _, o := range got {
			m.Obs += compact(o)
		}
		out = append(out, m)
	}
	return out
}

func decodeCorpus(t *testing.T) []wantMsg {
	t.Helper()
	var out []wantMsg
	for _, file := range append(localFiles, corpusFiles...) {
		out = append(out, decodeFile(t, file, filePath(t, file))...)
	}
	return out
}

func compareMsgs(t *testing.T, got, want []wantMsg) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("expected %d datagrams, got %d", len(want), len(got))
	}
	for i := range min(len(got), len(want)) {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("Test %d:\nexpected %+v\ngot      %+v", i, want[i], got[i])
		}
	}
}

func TestCorpus(t *testing.T) {
	compareMsgs(t, decodeCorpus(t), corpusWant)
}

// tsharkFields are the fields TestCorpusTshark asks tshark for. tshark's
// SSDP dissector is its HTTP one: SERVER, USER-AGENT and LOCATION have
// fields of their own; NT, NTS, ST and USN are only header lines (request
// or response lines, or unknown headers when a known header precedes them).
var tsharkFields = []string{
	"frame.number", "http.request.method", "http.response.code", "http.server", "http.user_agent",
	"http.location", "http.request.line", "http.response.line", "http.unknown_header",
}

// expectFromTshark turns one line of tshark output (tsharkFields, tab
// separated, occurrences joined by "\x1f") into what the decoder must
// produce, following the README's rules.
func expectFromTshark(file, line string) (wantMsg, error) {
	f := strings.Split(line, "\t")
	if len(f) != len(tsharkFields) {
		return wantMsg{}, errors.New("unexpected field count")
	}
	frame, err := strconv.Atoi(f[0])
	if err != nil {
		return wantMsg{}, err
	}
	m := wantMsg{File: file, Frame: frame}
	first := func(s string) string { v, _, _ := strings.Cut(s, "\x1f"); return v }
	hdr := map[string]string{}
	for _, l := range strings.Split(f[6]+"\x1f"+f[7]+"\x1f"+f[8], "\x1f") {
		name, value, ok := strings.Cut(strings.TrimSuffix(l, `\r\n`), ":")
		if !ok {
			continue
		}
		name = strings.ToUpper(strings.TrimSpace(name))
		if _, dup := hdr[name]; !dup {
			hdr[name] = strings.TrimSpace(value)
		}
	}
	type kv struct{ name, value string }
	var want []kv
	switch {
	case f[1] == "M-SEARCH":
		m.Obs = "ssdp|ssdp.m-search|client|ssdp.method=m-search"
		want = []kv{{FactST, hdr["ST"]}, {FactUserAgent, first(f[4])}}
	case f[1] == "NOTIFY":
		m.Obs = "ssdp|ssdp.notify|server|ssdp.method=notify"
		usn, _, _ := strings.Cut(hdr["USN"], "::")
		want = []kv{{FactServer, first(f[3])}, {FactUSN, usn}, {FactNT, hdr["NT"]}, {FactNTS, hdr["NTS"]}, {FactLocation, first(f[5])}}
	case f[2] != "":
		m.Obs = "ssdp|ssdp.response|server|ssdp.method=response"
		usn, _, _ := strings.Cut(hdr["USN"], "::")
		want = []kv{{FactServer, first(f[3])}, {FactUSN, usn}, {FactST, hdr["ST"]}, {FactLocation, first(f[5])}}
	default:
		return wantMsg{}, errors.New("neither request nor response")
	}
	var fs []string
	for _, w := range want {
		if w.value != "" {
			fs = append(fs, w.name+"="+w.value)
		}
	}
	slices.Sort(fs)
	for _, f := range fs {
		m.Obs += " " + f
	}
	return m, nil
}

// tsharkExpect runs tshark over file (UDP 32412 decoded as SSDP) and
// returns the expected messages.
func tsharkExpect(t testing.TB, tshark, file, path string) []wantMsg {
	t.Helper()
	args := []string{"-r", path, "-d", "udp.port==32412,ssdp", "-Y", "ssdp", "-T", "fields", "-E", "separator=/t", "-E", "aggregator=\x1f"}
	for _, f := range tsharkFields {
		args = append(args, "-e", f)
	}
	cmd := exec.Command(tshark, args...)
	cmd.Env = append(os.Environ(), "TSHARK_RUN_AS_ROOT=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark %s: %v: %s", file, err, stderr.String())
	}
	var msgs []wantMsg
	for line := range strings.Lines(string(out)) {
		m, err := expectFromTshark(file, strings.TrimRight(line, "\r\n"))
		if err != nil {
			t.Fatalf("tshark %s: %v in %q", file, err, line)
		}
		msgs = append(msgs, m)
	}
	return msgs
}

// TestCorpusTshark compares the decoder with a live tshark run over the same
// files, when tshark is installed.
func TestCorpusTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not on PATH")
	}
	var want []wantMsg
	for _, file := range append(localFiles, corpusFiles...) {
		want = append(want, tsharkExpect(t, tshark, file, filePath(t, file))...)
	}
	if os.Getenv("SSDP_PRINT_WANT") == "1" {
		for _, m := range want {
			t.Logf("%#v,", m)
		}
	}
	compareMsgs(t, decodeCorpus(t), want)
}

// corpusWant is generated from tshark 4.0.17 by expectFromTshark (run
// TestCorpusTshark with -v and SSDP_PRINT_WANT=1 to print it again).
var corpusWant = []wantMsg{
	{File: "testdata/minidlna.pcap", Frame: 1, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.nt=uuid:4d696e69-444c-164e-9d41-fa7005f16692 ssdp.nts=ssdp:byebye ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 2, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.nt=upnp:rootdevice ssdp.nts=ssdp:byebye ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 3, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.nt=urn:schemas-upnp-org:device:MediaServer:1 ssdp.nts=ssdp:byebye ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 4, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.nt=urn:schemas-upnp-org:service:ContentDirectory:1 ssdp.nts=ssdp:byebye ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 5, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.nt=urn:schemas-upnp-org:service:ConnectionManager:1 ssdp.nts=ssdp:byebye ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 6, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.nt=urn:microsoft.com:service:X_MS_MediaReceiverRegistrar:1 ssdp.nts=ssdp:byebye ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 7, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.nt=uuid:4d696e69-444c-164e-9d41-fa7005f16692 ssdp.nts=ssdp:byebye ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 8, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.nt=upnp:rootdevice ssdp.nts=ssdp:byebye ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 9, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.nt=urn:schemas-upnp-org:device:MediaServer:1 ssdp.nts=ssdp:byebye ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 10, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.nt=urn:schemas-upnp-org:service:ContentDirectory:1 ssdp.nts=ssdp:byebye ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 11, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.nt=urn:schemas-upnp-org:service:ConnectionManager:1 ssdp.nts=ssdp:byebye ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 12, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.nt=urn:microsoft.com:service:X_MS_MediaReceiverRegistrar:1 ssdp.nts=ssdp:byebye ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 13, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.nt=uuid:4d696e69-444c-164e-9d41-fa7005f16692 ssdp.nts=ssdp:alive ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 14, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.nt=upnp:rootdevice ssdp.nts=ssdp:alive ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 15, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.nt=urn:schemas-upnp-org:device:MediaServer:1 ssdp.nts=ssdp:alive ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 16, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.nt=urn:schemas-upnp-org:service:ContentDirectory:1 ssdp.nts=ssdp:alive ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 17, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.nt=urn:schemas-upnp-org:service:ConnectionManager:1 ssdp.nts=ssdp:alive ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 18, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.nt=urn:microsoft.com:service:X_MS_MediaReceiverRegistrar:1 ssdp.nts=ssdp:alive ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 19, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.nt=uuid:4d696e69-444c-164e-9d41-fa7005f16692 ssdp.nts=ssdp:alive ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 20, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.nt=upnp:rootdevice ssdp.nts=ssdp:alive ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 21, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.nt=urn:schemas-upnp-org:device:MediaServer:1 ssdp.nts=ssdp:alive ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 22, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.nt=urn:schemas-upnp-org:service:ContentDirectory:1 ssdp.nts=ssdp:alive ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 23, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.nt=urn:schemas-upnp-org:service:ConnectionManager:1 ssdp.nts=ssdp:alive ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 24, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.nt=urn:microsoft.com:service:X_MS_MediaReceiverRegistrar:1 ssdp.nts=ssdp:alive ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 25, Err: "", Obs: "ssdp|ssdp.m-search|client|ssdp.method=m-search ssdp.st=ssdp:all ssdp.user_agent=Linux/6.1 UPnP/1.1 iomt-test/1.0"},
	{File: "testdata/minidlna.pcap", Frame: 26, Err: "", Obs: "ssdp|ssdp.response|server|ssdp.method=response ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.st=uuid:4d696e69-444c-164e-9d41-fa7005f16692 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 27, Err: "", Obs: "ssdp|ssdp.response|server|ssdp.method=response ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.st=upnp:rootdevice ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 28, Err: "", Obs: "ssdp|ssdp.response|server|ssdp.method=response ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.st=urn:schemas-upnp-org:device:MediaServer:1 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 29, Err: "", Obs: "ssdp|ssdp.response|server|ssdp.method=response ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.st=urn:schemas-upnp-org:service:ContentDirectory:1 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 30, Err: "", Obs: "ssdp|ssdp.response|server|ssdp.method=response ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.st=urn:schemas-upnp-org:service:ConnectionManager:1 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 31, Err: "", Obs: "ssdp|ssdp.response|server|ssdp.method=response ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.st=urn:microsoft.com:service:X_MS_MediaReceiverRegistrar:1 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 32, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.nt=uuid:4d696e69-444c-164e-9d41-fa7005f16692 ssdp.nts=ssdp:alive ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 33, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.nt=upnp:rootdevice ssdp.nts=ssdp:alive ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 34, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.nt=urn:schemas-upnp-org:device:MediaServer:1 ssdp.nts=ssdp:alive ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 35, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.nt=urn:schemas-upnp-org:service:ContentDirectory:1 ssdp.nts=ssdp:alive ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 36, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.nt=urn:schemas-upnp-org:service:ConnectionManager:1 ssdp.nts=ssdp:alive ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 37, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.nt=urn:microsoft.com:service:X_MS_MediaReceiverRegistrar:1 ssdp.nts=ssdp:alive ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 38, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.nt=uuid:4d696e69-444c-164e-9d41-fa7005f16692 ssdp.nts=ssdp:alive ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 39, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.nt=upnp:rootdevice ssdp.nts=ssdp:alive ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 40, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.nt=urn:schemas-upnp-org:device:MediaServer:1 ssdp.nts=ssdp:alive ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 41, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.nt=urn:schemas-upnp-org:service:ContentDirectory:1 ssdp.nts=ssdp:alive ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 42, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.nt=urn:schemas-upnp-org:service:ConnectionManager:1 ssdp.nts=ssdp:alive ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 43, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.nt=urn:microsoft.com:service:X_MS_MediaReceiverRegistrar:1 ssdp.nts=ssdp:alive ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 44, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.nt=uuid:4d696e69-444c-164e-9d41-fa7005f16692 ssdp.nts=ssdp:alive ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 45, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.nt=upnp:rootdevice ssdp.nts=ssdp:alive ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 46, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.nt=urn:schemas-upnp-org:device:MediaServer:1 ssdp.nts=ssdp:alive ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 47, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.nt=urn:schemas-upnp-org:service:ContentDirectory:1 ssdp.nts=ssdp:alive ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 48, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.nt=urn:schemas-upnp-org:service:ConnectionManager:1 ssdp.nts=ssdp:alive ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 49, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.nt=urn:microsoft.com:service:X_MS_MediaReceiverRegistrar:1 ssdp.nts=ssdp:alive ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 50, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.nt=uuid:4d696e69-444c-164e-9d41-fa7005f16692 ssdp.nts=ssdp:alive ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 51, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.nt=upnp:rootdevice ssdp.nts=ssdp:alive ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 52, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.nt=urn:schemas-upnp-org:device:MediaServer:1 ssdp.nts=ssdp:alive ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 53, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.nt=urn:schemas-upnp-org:service:ContentDirectory:1 ssdp.nts=ssdp:alive ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 54, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.nt=urn:schemas-upnp-org:service:ConnectionManager:1 ssdp.nts=ssdp:alive ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 55, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.nt=urn:microsoft.com:service:X_MS_MediaReceiverRegistrar:1 ssdp.nts=ssdp:alive ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 56, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.nt=uuid:4d696e69-444c-164e-9d41-fa7005f16692 ssdp.nts=ssdp:alive ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 57, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.nt=upnp:rootdevice ssdp.nts=ssdp:alive ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 58, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.nt=urn:schemas-upnp-org:device:MediaServer:1 ssdp.nts=ssdp:alive ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 59, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.nt=urn:schemas-upnp-org:service:ContentDirectory:1 ssdp.nts=ssdp:alive ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 60, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.nt=urn:schemas-upnp-org:service:ConnectionManager:1 ssdp.nts=ssdp:alive ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 61, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.nt=urn:microsoft.com:service:X_MS_MediaReceiverRegistrar:1 ssdp.nts=ssdp:alive ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 62, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.nt=uuid:4d696e69-444c-164e-9d41-fa7005f16692 ssdp.nts=ssdp:alive ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 63, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.nt=upnp:rootdevice ssdp.nts=ssdp:alive ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 64, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.nt=urn:schemas-upnp-org:device:MediaServer:1 ssdp.nts=ssdp:alive ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 65, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.nt=urn:schemas-upnp-org:service:ContentDirectory:1 ssdp.nts=ssdp:alive ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 66, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.nt=urn:schemas-upnp-org:service:ConnectionManager:1 ssdp.nts=ssdp:alive ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 67, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.nt=urn:microsoft.com:service:X_MS_MediaReceiverRegistrar:1 ssdp.nts=ssdp:alive ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 68, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.nt=uuid:4d696e69-444c-164e-9d41-fa7005f16692 ssdp.nts=ssdp:alive ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 69, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.nt=upnp:rootdevice ssdp.nts=ssdp:alive ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 70, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.nt=urn:schemas-upnp-org:device:MediaServer:1 ssdp.nts=ssdp:alive ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 71, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.nt=urn:schemas-upnp-org:service:ContentDirectory:1 ssdp.nts=ssdp:alive ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 72, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.nt=urn:schemas-upnp-org:service:ConnectionManager:1 ssdp.nts=ssdp:alive ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 73, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.nt=urn:microsoft.com:service:X_MS_MediaReceiverRegistrar:1 ssdp.nts=ssdp:alive ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 74, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.nt=uuid:4d696e69-444c-164e-9d41-fa7005f16692 ssdp.nts=ssdp:alive ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 75, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.nt=upnp:rootdevice ssdp.nts=ssdp:alive ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 76, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.nt=urn:schemas-upnp-org:device:MediaServer:1 ssdp.nts=ssdp:alive ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 77, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.nt=urn:schemas-upnp-org:service:ContentDirectory:1 ssdp.nts=ssdp:alive ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 78, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.nt=urn:schemas-upnp-org:service:ConnectionManager:1 ssdp.nts=ssdp:alive ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 79, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.location=http://10.77.0.2:8200/rootDesc.xml ssdp.nt=urn:microsoft.com:service:X_MS_MediaReceiverRegistrar:1 ssdp.nts=ssdp:alive ssdp.server=Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0 ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 80, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.nt=uuid:4d696e69-444c-164e-9d41-fa7005f16692 ssdp.nts=ssdp:byebye ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 81, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.nt=upnp:rootdevice ssdp.nts=ssdp:byebye ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 82, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.nt=urn:schemas-upnp-org:device:MediaServer:1 ssdp.nts=ssdp:byebye ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 83, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.nt=urn:schemas-upnp-org:service:ContentDirectory:1 ssdp.nts=ssdp:byebye ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 84, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.nt=urn:schemas-upnp-org:service:ConnectionManager:1 ssdp.nts=ssdp:byebye ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 85, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.nt=urn:microsoft.com:service:X_MS_MediaReceiverRegistrar:1 ssdp.nts=ssdp:byebye ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 86, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.nt=uuid:4d696e69-444c-164e-9d41-fa7005f16692 ssdp.nts=ssdp:byebye ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 87, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.nt=upnp:rootdevice ssdp.nts=ssdp:byebye ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 88, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.nt=urn:schemas-upnp-org:device:MediaServer:1 ssdp.nts=ssdp:byebye ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 89, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.nt=urn:schemas-upnp-org:service:ContentDirectory:1 ssdp.nts=ssdp:byebye ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 90, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.nt=urn:schemas-upnp-org:service:ConnectionManager:1 ssdp.nts=ssdp:byebye ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "testdata/minidlna.pcap", Frame: 91, Err: "", Obs: "ssdp|ssdp.notify|server|ssdp.method=notify ssdp.nt=urn:microsoft.com:service:X_MS_MediaReceiverRegistrar:1 ssdp.nts=ssdp:byebye ssdp.usn=uuid:4d696e69-444c-164e-9d41-fa7005f16692"},
	{File: "ssdp-upnp/ndpi-ssdp-m-search-ua.pcap", Frame: 1, Err: "", Obs: "ssdp|ssdp.m-search|client|ssdp.method=m-search ssdp.st=urn:dial-multiscreen-org:service:dial:1 ssdp.user_agent=Google Chrome/99.0.4844.74 Mac OS X"},
	{File: "ssdp-upnp/ndpi-ssdp-m-search-ua.pcap", Frame: 2, Err: "", Obs: "ssdp|ssdp.m-search|client|ssdp.method=m-search ssdp.st=urn:dial-multiscreen-org:service:dial:1 ssdp.user_agent=Google Chrome/99.0.4844.74 Mac OS X"},
	{File: "ssdp-upnp/ndpi-ssdp-m-search-ua.pcap", Frame: 3, Err: "", Obs: "ssdp|ssdp.m-search|client|ssdp.method=m-search ssdp.st=urn:dial-multiscreen-org:service:dial:1 ssdp.user_agent=Google Chrome/99.0.4844.74 Mac OS X"},
	{File: "ssdp-upnp/ndpi-ssdp-m-search-ua.pcap", Frame: 4, Err: "", Obs: "ssdp|ssdp.m-search|client|ssdp.method=m-search ssdp.st=urn:dial-multiscreen-org:service:dial:1 ssdp.user_agent=Google Chrome/99.0.4844.74 Mac OS X"},
	{File: "ssdp-upnp/ndpi-ssdp-m-search.pcap", Frame: 1, Err: "", Obs: "ssdp|ssdp.m-search|client|ssdp.method=m-search"},
	{File: "ssdp-upnp/ndpi-ssdp-m-search.pcap", Frame: 2, Err: "", Obs: "ssdp|ssdp.m-search|client|ssdp.method=m-search"},
	{File: "ssdp-upnp/ndpi-ssdp-m-search.pcap", Frame: 3, Err: "", Obs: "ssdp|ssdp.m-search|client|ssdp.method=m-search"},
	{File: "ssdp-upnp/ndpi-ssdp-m-search.pcap", Frame: 4, Err: "", Obs: "ssdp|ssdp.m-search|client|ssdp.method=m-search"},
	{File: "ssdp-upnp/ndpi-ssdp-m-search.pcap", Frame: 5, Err: "", Obs: "ssdp|ssdp.m-search|client|ssdp.method=m-search"},
	{File: "ssdp-upnp/ndpi-ssdp-m-search.pcap", Frame: 6, Err: "", Obs: "ssdp|ssdp.m-search|client|ssdp.method=m-search"},
	{File: "ssdp-upnp/ndpi-ssdp-m-search.pcap", Frame: 7, Err: "", Obs: "ssdp|ssdp.m-search|client|ssdp.method=m-search"},
	{File: "ssdp-upnp/ndpi-ssdp-m-search.pcap", Frame: 8, Err: "", Obs: "ssdp|ssdp.m-search|client|ssdp.method=m-search"},
	{File: "ssdp-upnp/ndpi-ssdp-m-search.pcap", Frame: 9, Err: "", Obs: "ssdp|ssdp.m-search|client|ssdp.method=m-search"},
	{File: "ssdp-upnp/ndpi-ssdp-m-search.pcap", Frame: 10, Err: "", Obs: "ssdp|ssdp.m-search|client|ssdp.method=m-search"},
	{File: "ssdp-upnp/ndpi-ssdp-m-search.pcap", Frame: 11, Err: "", Obs: "ssdp|ssdp.m-search|client|ssdp.method=m-search"},
	{File: "ssdp-upnp/ndpi-ssdp-m-search.pcap", Frame: 12, Err: "", Obs: "ssdp|ssdp.m-search|client|ssdp.method=m-search"},
	{File: "ssdp-upnp/ndpi-ssdp-m-search.pcap", Frame: 13, Err: "", Obs: "ssdp|ssdp.m-search|client|ssdp.method=m-search"},
	{File: "ssdp-upnp/ndpi-ssdp-m-search.pcap", Frame: 14, Err: "", Obs: "ssdp|ssdp.m-search|client|ssdp.method=m-search"},
	{File: "ssdp-upnp/ndpi-ssdp-m-search.pcap", Frame: 15, Err: "", Obs: "ssdp|ssdp.m-search|client|ssdp.method=m-search"},
	{File: "ssdp-upnp/ndpi-ssdp-m-search.pcap", Frame: 16, Err: "", Obs: "ssdp|ssdp.m-search|client|ssdp.method=m-search"},
	{File: "ssdp-upnp/ndpi-ssdp-m-search.pcap", Frame: 17, Err: "", Obs: "ssdp|ssdp.m-search|client|ssdp.method=m-search"},
	{File: "ssdp-upnp/ndpi-ssdp-m-search.pcap", Frame: 18, Err: "", Obs: "ssdp|ssdp.m-search|client|ssdp.method=m-search"},
	{File: "ssdp-upnp/ndpi-ssdp-m-search.pcap", Frame: 19, Err: "", Obs: "ssdp|ssdp.m-search|client|ssdp.method=m-search"},
	{File: "device-mixed/ndpi-android.pcap", Frame: 45, Err: "", Obs: "ssdp|ssdp.m-search|client|ssdp.method=m-search ssdp.st=urn:dial-multiscreen-org:service:dial:1"},
	{File: "device-mixed/ndpi-android.pcap", Frame: 46, Err: "", Obs: "ssdp|ssdp.m-search|client|ssdp.method=m-search ssdp.st=urn:dial-multiscreen-org:service:dial:1"},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 18, Err: "", Obs: "ssdp|ssdp.m-search|client|ssdp.method=m-search ssdp.st=urn:dial-multiscreen-org:service:dial:1"},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 19, Err: "", Obs: "ssdp|ssdp.m-search|client|ssdp.method=m-search ssdp.st=urn:dial-multiscreen-org:service:dial:1"},
}
