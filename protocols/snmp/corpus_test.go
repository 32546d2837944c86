package snmp

import (
	"bytes"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/iomt-sensor/iomt-sensor/protocols"
	"github.com/iomt-sensor/iomt-sensor/protocols/internal/corpustest"
)

// corpusFiles are the corpus captures that hold SNMP.
var corpusFiles = []string{
	"snmp/ndpi-snmp.pcap",
	"snmp/zeek-snmpv1_get.pcap",
	"snmp/zeek-snmpv1_trap.pcap",
	"snmp/zeek-snmpv2_get_next.pcap",
	"snmp/zeek-snmpv3_get_next.pcap",
	"snmp/zeek-snmpwalk-short.pcap",
}

// secrets are the community strings and v3 user names in the corpus
// (tshark snmp.community, snmp.msgUserName): no fact may contain them.
var secrets = []string{"public", "public2c", "adsl", "R0_C@cti!", "username"}

// obsLine is one observation in a compact comparable form.
type obsLine struct {
	file, frame string
	text        string // source about role hostname facts...
}

func (o obsLine) String() string { return o.file + " " + o.frame + ": " + o.text }

func line(file, frame string, o protocols.Observation) obsLine {
	parts := []string{o.Source, [...]string{"sender", "receiver"}[o.About&1], o.Role, o.Hostname}
	for _, f := range o.Facts {
		parts = append(parts, f.Name+"="+f.Value)
	}
	return obsLine{file, frame, strings.Join(parts, "|")}
}

// decodeCorpus feeds every SNMP datagram (UDP 161/162) of the corpus to a
// decoder for its flow and returns the observations.
func decodeCorpus(t *testing.T) []obsLine {
	t.Helper()
	var out []obsLine
	for _, file := range corpusFiles {
		for _, d := range corpustest.UDP(t, corpustest.File(t, file), AgentPort, TrapPort) {
			fi := protocols.FlowInfo{Transport: protocols.UDP, Client: d.Src, Server: d.Dst}
			dir := protocols.FromClient
			if p := d.Src.Port(); p == AgentPort || p == TrapPort && d.Dst.Port() != TrapPort {
				fi.Client, fi.Server, dir = d.Dst, d.Src, protocols.FromServer
			}
			if !Detect(dir, d.Payload) {
				t.Errorf("%s frame %d: Detect = false", file, d.Frame)
			}
			var got []protocols.Observation
			err := New(fi).Feed(dir, d.Payload, time.Time{}, func(o protocols.Observation) { got = append(got, o) })
			if err != nil {
				t.Errorf("%s frame %d: %v", file, d.Frame, err)
			}
			for _, o := range got {
				for _, f := range o.Facts {
					for _, s := range secrets {
						if strings.Contains(f.Value, s) {
							t.Errorf("%s frame %d: fact %s leaks %q", file, d.Frame, f.Name, s)
						}
					}
				}
				out = append(out, line(file, strconv.Itoa(d.Frame), o))
			}
		}
	}
	return out
}

// pdmlPacket is what TestCorpusTshark reads of one packet in tshark's PDML.
type pdmlPacket struct {
	frame, srcPort, dstPort, version, pdu, msgData, engineID, enterprise, trapEnterprise string
	binds                                                                                [][3]string // name, kind (octets/oid), value
}

// readPDML parses tshark -T pdml output into packets with an SNMP layer.
func readPDML(r io.Reader) ([]pdmlPacket, error) {
	dec := xml.NewDecoder(r)
	var (
		out  []pdmlPacket
		cur  *pdmlPacket
		name string
	)
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		attr := func(k string) string {
			for _, a := range se.Attr {
				if a.Name.Local == k {
					return a.Value
				}
			}
			return ""
		}
		switch se.Name.Local {
		case "packet":
			out = append(out, pdmlPacket{})
			cur, name = &out[len(out)-1], ""
		case "field":
			if cur == nil {
				continue
			}
			switch attr("name") {
			case "frame.number":
				cur.frame = attr("show")
			case "udp.srcport":
				cur.srcPort = attr("show")
			case "udp.dstport":
				cur.dstPort = attr("show")
			case "snmp.version", "snmp.msgVersion":
				cur.version = attr("show")
			case "snmp.data":
				cur.pdu = attr("show")
			case "snmp.msgData":
				cur.msgData = attr("show")
			case "snmp.msgAuthoritativeEngineID":
				if cur.engineID == "" {
					cur.engineID = attr("value")
				}
			case "snmp.engineid.enterprise":
				if cur.enterprise == "" && cur.engineID != "" {
					cur.enterprise = attr("show")
				}
			case "snmp.enterprise":
				cur.trapEnterprise = attr("show")
			case "snmp.name":
				name = attr("show")
			case "snmp.value.octets":
				cur.binds = append(cur.binds, [3]string{name, "octets", attr("value")})
			case "snmp.value.oid":
				cur.binds = append(cur.binds, [3]string{name, "oid", attr("show")})
			}
		}
	}
}

// sysFacts maps the system group OIDs (and snmpTrapOID.0) to facts.
var sysFacts = map[string]string{
	"1.3.6.1.2.1.1.1.0": FactSysDescr, "1.3.6.1.2.1.1.2.0": FactSysObjectID, "1.3.6.1.2.1.1.4.0": FactSysContact,
	"1.3.6.1.2.1.1.5.0": FactSysName, "1.3.6.1.2.1.1.6.0": FactSysLocation, "1.3.6.1.6.3.1.1.4.1.0": FactTrapOID,
}

var pduSources = map[string]string{"0": "snmp.get-request", "1": "snmp.get-next-request", "2": "snmp.response",
	"3": "snmp.set-request", "4": "snmp.trap", "5": "snmp.get-bulk-request", "6": "snmp.inform-request",
	"7": "snmp.trap", "8": "snmp.report"}

// expect is the observation the decoder should give for p, if any.
func expect(p pdmlPacket) (protocols.Observation, bool, error) {
	o := protocols.Observation{Protocol: "snmp", About: protocols.Sender, Source: pduSources[p.pdu]}
	ver := map[string]string{"0": "1", "1": "2c", "3": "3"}[p.version]
	if ver == "" {
		return o, false, fmt.Errorf("frame %s: version %q", p.frame, p.version)
	}
	o.Facts = []protocols.Fact{{Name: FactVersion, Value: ver}}
	request := p.pdu == "0" || p.pdu == "1" || p.pdu == "3" || p.pdu == "5"
	switch {
	case ver == "3" && p.msgData == "1":
		// Encrypted: the agent sends from 161 or to 162.
		o.Source = "snmp.encrypted"
		if p.srcPort != "161" && p.dstPort != "162" {
			o.About = protocols.Receiver
		}
	case ver == "3" && (request || p.pdu == "6"):
		o.About = protocols.Receiver
	case request:
		o.Role = "client"
	default:
		if p.pdu == "2" || p.pdu == "8" {
			o.Role = "server"
		}
		if p.trapEnterprise != "" {
			o.Facts = append(o.Facts, protocols.Fact{Name: FactTrapEnterprise, Value: p.trapEnterprise})
		}
		for _, b := range p.binds {
			fact := sysFacts[b[0]]
			if fact == "" || (b[1] == "oid") != (fact == FactSysObjectID || fact == FactTrapOID) {
				continue
			}
			v := b[2]
			if b[1] == "octets" {
				raw, err := hex.DecodeString(v)
				if err != nil {
					return o, false, err
				}
				if v = protocols.Text(raw, maxString, fact == FactSysDescr); v == "" {
					continue
				}
			}
			o.Facts = append(o.Facts, protocols.Fact{Name: fact, Value: v})
			if fact == FactSysName && o.Hostname == "" && protocols.IsHostname(v) {
				o.Hostname = v
			}
		}
	}
	if ver == "3" {
		if p.engineID == "" {
			if o.About == protocols.Receiver {
				return o, false, nil
			}
		} else {
			o.Facts = append(o.Facts, protocols.Fact{Name: FactEngineID, Value: p.engineID})
			if p.enterprise != "" {
				o.Facts = append(o.Facts, protocols.Fact{Name: FactEngineEnterprise, Value: p.enterprise})
			}
		}
	}
	return o, true, nil
}

// tsharkExpect runs tshark over file and returns the expected observations.
func tsharkExpect(t *testing.T, tshark, file string) []obsLine {
	t.Helper()
	cmd := exec.Command(tshark, "-r", corpustest.File(t, file), "-Y", "snmp", "-T", "pdml")
	cmd.Env = append(os.Environ(), "TSHARK_RUN_AS_ROOT=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark %s: %v: %s", file, err, stderr.String())
	}
	pkts, err := readPDML(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("tshark %s: %v", file, err)
	}
	var want []obsLine
	for _, p := range pkts {
		o, ok, err := expect(p)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if ok {
			want = append(want, line(file, p.frame, o))
		}
	}
	return want
}

func compare(t *testing.T, got, want []obsLine) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("expected %d observations, got %d", len(want), len(got))
	}
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			t.Errorf("Test %d: expected %s, got %s", i, want[i], got[i])
		}
	}
}

// TestCorpusTshark compares the decoder with a live tshark run over the same
// files, when tshark is installed.
func TestCorpusTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not on PATH")
	}
	got := decodeCorpus(t)
	var want []obsLine
	for _, file := range corpusFiles {
		want = append(want, tsharkExpect(t, tshark, file)...)
	}
	compare(t, got, want)
}

// corpusWant is every distinct observation of the corpus that says more
// than the SNMP version (first frame of each), as the decoder gives it and
// as tshark 4.0.17 decodes the same packets (TestCorpusTshark derives them
// from tshark -T pdml). Text is source|about|role|hostname|facts.
var corpusWant = []obsLine{
	{"snmp/ndpi-snmp.pcap", "2", "snmp.response|sender|server||snmp.version=1|snmp.sys_location=GlobomanticsHQ"},
	{"snmp/ndpi-snmp.pcap", "4", "snmp.response|sender|server|R1.lab.local|snmp.version=1|snmp.sys_name=R1.lab.local"},
	{"snmp/ndpi-snmp.pcap", "6", "snmp.response|sender|server||snmp.version=2c|snmp.sys_location=GlobomanticsHQ"},
	{"snmp/ndpi-snmp.pcap", "8", "snmp.response|sender|server|R1.lab.local|snmp.version=2c|snmp.sys_name=R1.lab.local"},
	{"snmp/ndpi-snmp.pcap", "12", "snmp.response|sender|server||snmp.version=1|snmp.sys_contact=nick@globomantics.com"},
	{"snmp/ndpi-snmp.pcap", "16", "snmp.response|sender|server||snmp.version=2c|snmp.sys_contact=nick@globomantics.com"},
	{"snmp/ndpi-snmp.pcap", "18", "snmp.report|sender|server||snmp.version=3|snmp.engine_id=800000090300aabbcc000100|snmp.engine_enterprise=9"},
	{"snmp/ndpi-snmp.pcap", "19", "snmp.get-next-request|receiver|||snmp.version=3|snmp.engine_id=800000090300aabbcc000100|snmp.engine_enterprise=9"},
	{"snmp/ndpi-snmp.pcap", "20", "snmp.response|sender|server||snmp.version=3|snmp.sys_location=GlobomanticsHQ|snmp.engine_id=800000090300aabbcc000100|snmp.engine_enterprise=9"},
	{"snmp/ndpi-snmp.pcap", "21", "snmp.get-request|receiver|||snmp.version=3|snmp.engine_id=800000090300aabbcc000100|snmp.engine_enterprise=9"},
	{"snmp/ndpi-snmp.pcap", "22", "snmp.response|sender|server|R1.lab.local|snmp.version=3|snmp.sys_name=R1.lab.local|snmp.engine_id=800000090300aabbcc000100|snmp.engine_enterprise=9"},
	{"snmp/ndpi-snmp.pcap", "28", "snmp.response|sender|server||snmp.version=3|snmp.sys_contact=nick@globomantics.com|snmp.engine_id=800000090300aabbcc000100|snmp.engine_enterprise=9"},
	{"snmp/ndpi-snmp.pcap", "43", "snmp.encrypted|receiver|||snmp.version=3|snmp.engine_id=800000090300aabbcc000100|snmp.engine_enterprise=9"},
	{"snmp/ndpi-snmp.pcap", "44", "snmp.encrypted|sender|||snmp.version=3|snmp.engine_id=800000090300aabbcc000100|snmp.engine_enterprise=9"},
	{"snmp/ndpi-snmp.pcap", "53", "snmp.trap|sender|||snmp.version=2c|snmp.trap_oid=1.3.6.1.6.3.1.1.5.3"},
	{"snmp/ndpi-snmp.pcap", "54", "snmp.trap|sender|||snmp.version=2c|snmp.trap_oid=1.3.6.1.6.3.1.1.5.4"},
	{"snmp/ndpi-snmp.pcap", "55", "snmp.trap|sender|||snmp.version=1|snmp.trap_enterprise=1.3.6.1.6.3.1.1.5"},
	{"snmp/ndpi-snmp.pcap", "57", "snmp.trap|sender|||snmp.version=3|snmp.trap_oid=1.3.6.1.6.3.1.1.5.3|snmp.engine_id=800000090300aabbcc000100|snmp.engine_enterprise=9"},
	{"snmp/ndpi-snmp.pcap", "58", "snmp.trap|sender|||snmp.version=3|snmp.trap_oid=1.3.6.1.6.3.1.1.5.4|snmp.engine_id=800000090300aabbcc000100|snmp.engine_enterprise=9"},
	{"snmp/zeek-snmpv1_get.pcap", "2", "snmp.response|sender|server||snmp.version=1|snmp.sys_object_id=1.3.6.1.4.1.2001.1.1.1.297.93.1.27.2.2.1"},
	{"snmp/zeek-snmpv1_get.pcap", "4", "snmp.response|sender|server|B6300|snmp.version=1|snmp.sys_name=B6300|snmp.sys_location=Chandra's cube"},
	{"snmp/zeek-snmpv1_trap.pcap", "1", "snmp.trap|sender|||snmp.version=1|snmp.trap_enterprise=1.3.6.1.4.1.31337.0"},
	{"snmp/zeek-snmpv3_get_next.pcap", "2", "snmp.report|sender|server||snmp.version=3|snmp.engine_id=80001f8880a9498e5e3a2c3043|snmp.engine_enterprise=8072"},
	{"snmp/zeek-snmpv3_get_next.pcap", "3", "snmp.get-next-request|receiver|||snmp.version=3|snmp.engine_id=80001f8880a9498e5e3a2c3043|snmp.engine_enterprise=8072"},
	{"snmp/zeek-snmpv3_get_next.pcap", "4", "snmp.response|sender|server||snmp.version=3|snmp.engine_id=80001f8880a9498e5e3a2c3043|snmp.engine_enterprise=8072"},
	{"snmp/zeek-snmpwalk-short.pcap", "2", "snmp.response|sender|server||snmp.version=2c|snmp.sys_descr=Linux ubuntu-512mb-sfo2-01 4.4.0-31-generic #50~14.04.1-Ubuntu SMP Wed Jul 13 01:07:32 UTC 2016 x86_64"},
	{"snmp/zeek-snmpwalk-short.pcap", "4", "snmp.response|sender|server||snmp.version=2c|snmp.sys_object_id=1.3.6.1.4.1.8072.3.2.10"},
	{"snmp/zeek-snmpwalk-short.pcap", "8", "snmp.response|sender|server||snmp.version=2c|snmp.sys_contact=Me <me@example.org>"},
	{"snmp/zeek-snmpwalk-short.pcap", "10", "snmp.response|sender|server|ubuntu-512mb-sfo2-01|snmp.version=2c|snmp.sys_name=ubuntu-512mb-sfo2-01"},
	{"snmp/zeek-snmpwalk-short.pcap", "12", "snmp.response|sender|server||snmp.version=2c|snmp.sys_location=Sitting on the Dock of the Bay"},
}

// corpusCounts is the number of observations per file (requests and
// version-only responses included; v3 discovery requests give none).
var corpusCounts = map[string]int{
	"snmp/ndpi-snmp.pcap":            66,
	"snmp/zeek-snmpv1_get.pcap":      58,
	"snmp/zeek-snmpv1_trap.pcap":     1,
	"snmp/zeek-snmpv2_get_next.pcap": 8,
	"snmp/zeek-snmpv3_get_next.pcap": 3,
	"snmp/zeek-snmpwalk-short.pcap":  400,
}

func TestCorpus(t *testing.T) {
	got := decodeCorpus(t)
	counts := map[string]int{}
	have := map[obsLine]bool{}
	for _, l := range got {
		counts[l.file]++
		have[l] = true
	}
	for file, n := range corpusCounts {
		if counts[file] != n {
			t.Errorf("%s: expected %d observations, got %d", file, n, counts[file])
		}
	}
	known := map[string]bool{}
	for _, w := range corpusWant {
		known[w.file+" "+w.text] = true
		if !have[w] {
			t.Errorf("missing %s", w)
		}
	}
	for _, l := range got {
		informative := strings.Count(l.text, "=") > 1 || strings.Split(l.text, "|")[3] != ""
		if informative && !known[l.file+" "+l.text] {
			t.Errorf("unexpected %s", l)
		}
	}
}
