package wsdiscovery

import (
	"bytes"
	"encoding/hex"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/iomt-sensor/iomt-sensor/protocols"
	"github.com/iomt-sensor/iomt-sensor/protocols/internal/corpustest"
)

// corpusFiles are the corpus captures that hold WS-Discovery: despite its
// name, ndpi-upnp.pcap is WS-Discovery Resolve over IPv4 and IPv6.
var corpusFiles = []string{"ssdp-upnp/ndpi-upnp.pcap"}

// localFiles are captures kept in testdata: wsdd 0.7 announcing a host
// (Hello over IPv4 and IPv6) and wsdd -D in a second network namespace
// probing and resolving it (Hello, Probe, ProbeMatches, Resolve,
// ResolveMatches).
var localFiles = []string{"testdata/wsdd.pcap"}

func filePath(t *testing.T, file string) string {
	if strings.HasPrefix(file, "testdata/") {
		return file
	}
	return corpustest.File(t, file)
}

func compact(o protocols.Observation) string {
	s := o.Source + "|" + o.Role + "|"
	if o.About != protocols.Sender || o.IP.IsValid() || !o.MAC.IsZero() || o.Hostname != "" {
		s += "UNEXPECTED|"
	}
	for i, f := range o.Facts {
		if i > 0 {
			s += " "
		}
		s += f.Name + "=" + f.Value
	}
	return s
}

// decodeFile decodes every UDP 3702 datagram of path, by frame.
func decodeFile(t *testing.T, path string) map[int]string {
	t.Helper()
	out := map[int]string{}
	for _, d := range corpustest.UDP(t, path, Port) {
		got, err := decode(d.Payload)
		if err != nil {
			out[d.Frame] = "error " + protocols.Reason(err)
			continue
		}
		for _, o := range got {
			out[d.Frame] += compact(o)
		}
	}
	return out
}

// TestCorpusShapes checks the observation shapes of the captures.
func TestCorpusShapes(t *testing.T) {
	tests := []struct {
		file  string
		frame int
		want  string
	}{
		{"ssdp-upnp/ndpi-upnp.pcap", 1, "wsd.resolve|client|wsd.action=Resolve wsd.version=2005/04 wsd.resolve_endpoint=urn:uuid:e3248000-80ce-11db-8000-001ba99ec956"},
		{"ssdp-upnp/ndpi-upnp.pcap", 2, "wsd.resolve|client|wsd.action=Resolve wsd.version=2005/04 wsd.resolve_endpoint=urn:uuid:e3248000-80ce-11db-8000-001ba99ec956"},
		{"testdata/wsdd.pcap", 1, "wsd.hello|server|wsd.action=Hello wsd.version=2005/04 wsd.endpoint=urn:uuid:3b5a6f1e-0c1d-4e2f-9a8b-7c6d5e4f3a2b wsd.xaddrs=http://10.77.0.2:5357/3b5a6f1e-0c1d-4e2f-9a8b-7c6d5e4f3a2b wsd.metadata_version=1"},
		{"testdata/wsdd.pcap", 2, "wsd.hello|server|wsd.action=Hello wsd.version=2005/04 wsd.endpoint=urn:uuid:3b5a6f1e-0c1d-4e2f-9a8b-7c6d5e4f3a2b wsd.xaddrs=http://[fe80::f870:5ff:fef1:6692]:5357/3b5a6f1e-0c1d-4e2f-9a8b-7c6d5e4f3a2b wsd.metadata_version=1"},
		{"testdata/wsdd.pcap", 10, "wsd.probe|client|wsd.action=Probe wsd.version=2005/04 wsd.probe_types=wsdp:Device"},
		{"testdata/wsdd.pcap", 11, "wsd.probematches|server|wsd.action=ProbeMatches wsd.version=2005/04 wsd.endpoint=urn:uuid:3b5a6f1e-0c1d-4e2f-9a8b-7c6d5e4f3a2b wsd.types=wsdp:Device pub:Computer wsd.metadata_version=1"},
	}
	got := map[string]map[int]string{}
	for i, tc := range tests {
		if got[tc.file] == nil {
			got[tc.file] = decodeFile(t, filePath(t, tc.file))
		}
		if g := got[tc.file][tc.frame]; g != tc.want {
			t.Errorf("Test %d (%s frame %d):\nexpected %s\ngot      %s", i, tc.file, tc.frame, tc.want, g)
		}
	}
}

var (
	reBody  = regexp.MustCompile(`<(?:\w+:)?Body>\s*<(?:\w+:)?(\w+)[\s/>]`)
	reField = func(name string) *regexp.Regexp {
		return regexp.MustCompile(`<(?:\w+:)?` + name + `(?:\s[^>]*)?>([^<]*)</`)
	}
	reAddress  = regexp.MustCompile(`<(?:\w+:)?EndpointReference>\s*<(?:\w+:)?Address>([^<]*)</`)
	reTypes    = reField("Types")
	reScopes   = reField("Scopes")
	reXAddrs   = reField("XAddrs")
	reMDVer    = reField("MetadataVersion")
	reSpaceRun = regexp.MustCompile(`\s+`)
)

// expectFromText derives the observation from a message's raw text (tshark
// shows WS-Discovery as data) with regular expressions, independently of
// the decoder's XML scan.
func expectFromText(text string) string {
	body := text
	if i := strings.Index(text, "Body>"); i >= 0 {
		body = text[i:]
	}
	get := func(re *regexp.Regexp) string {
		m := re.FindStringSubmatch(body)
		if m == nil {
			return ""
		}
		return strings.TrimSpace(reSpaceRun.ReplaceAllString(m[1], " "))
	}
	action := ""
	if m := reBody.FindStringSubmatch(text); m != nil {
		action = m[1]
	}
	version := "2005/04"
	if strings.Contains(text, ns11) {
		version = "1.1"
	}
	s := "wsd." + strings.ToLower(action) + "|"
	kv := func(name, v string) {
		if v != "" {
			s += " " + name + "=" + v
		}
	}
	switch action {
	case "Probe":
		s += "client|wsd.action=Probe wsd.version=" + version
		kv(FactProbeTypes, get(reTypes))
		kv(FactProbeScopes, get(reScopes))
	case "Resolve":
		s += "client|wsd.action=Resolve wsd.version=" + version
		kv(FactResolveEndpoint, get(reAddress))
	default:
		s += "server|wsd.action=" + action + " wsd.version=" + version
		kv(FactEndpoint, get(reAddress))
		kv(FactTypes, get(reTypes))
		kv(FactScopes, get(reScopes))
		kv(FactXAddrs, get(reXAddrs))
		kv(FactMetadataVersion, get(reMDVer))
		if isSDC(get(reTypes)) || isSDC(get(reScopes)) {
			kv(FactSDC, "true")
		}
	}
	return s
}

// TestCorpusTshark compares every UDP 3702 datagram with the raw text
// tshark extracts (data.data), field by field.
func TestCorpusTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not on PATH")
	}
	n := 0
	for _, file := range append(localFiles, corpusFiles...) {
		path := filePath(t, file)
		cmd := exec.Command(tshark, "-r", path, "-Y", "udp.port==3702", "-T", "fields", "-E", "separator=/t", "-e", "frame.number", "-e", "data.data")
		cmd.Env = append(os.Environ(), "TSHARK_RUN_AS_ROOT=1")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("tshark %s: %v: %s", file, err, stderr.String())
		}
		got := decodeFile(t, path)
		for line := range strings.Lines(string(out)) {
			frame, h, _ := strings.Cut(strings.TrimSpace(line), "\t")
			raw, err := hex.DecodeString(h)
			if err != nil {
				t.Fatalf("%s frame %s: %v", file, frame, err)
			}
			var fr int
			for _, c := range frame {
				fr = fr*10 + int(c-'0')
			}
			if want := expectFromText(string(raw)); got[fr] != want {
				t.Errorf("%s frame %d:\nexpected %s\ngot      %s", file, fr, want, got[fr])
			}
			n++
		}
	}
	if n != 28+14 {
		t.Errorf("expected 42 WS-Discovery datagrams from tshark, compared %d", n)
	}
}
