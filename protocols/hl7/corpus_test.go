package hl7

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/iomt-sensor/iomt-sensor/protocols"
	"github.com/iomt-sensor/iomt-sensor/protocols/internal/corpustest"
)

const (
	ndpiFile      = "hl7/ndpi-hl7.pcap"
	syntheticFile = "hl7/synthetic-mpa-all_alerts.pcap"
	ndpiPort      = 6661
)

// decodeStream feeds one reassembled connection to a fresh decoder the way
// the sensor does, and returns the compact observations and the first error.
func decodeStream(s *corpustest.Stream) ([]string, error) {
	var cs []chunk
	for _, c := range s.Chunks {
		cs = append(cs, chunk{dir: c.Dir, data: string(c.Data), gap: c.Gap})
	}
	return run(cs)
}

// ndpiWant is what the decoder makes of each connection of ndpi-hl7.pcap
// (client 10.0.0.155 sends, server 10.0.0.126:6661 acknowledges). The ADT
// is sent three times with the same sequence number and different bytes;
// the reassembler delivers the first copy, which has no PRT or OBX.
var ndpiWant = [][]string{
	{
		"sender|hl7.adt^a01|sender|hl7.sending_application=SENDING_APPLICATION;hl7.sending_facility=SENDING_FACILITY;hl7.message_type=ADT^A01;hl7.version=2.3",
		"receiver|hl7.adt^a01|receiver|hl7.receiving_application=RECEIVING_APPLICATION;hl7.receiving_facility=RECEIVING_FACILITY",
		"sender|hl7.ack|receiver|hl7.sending_application=RECEIVING_APPLICATION;hl7.sending_facility=RECEIVING_FACILITY;hl7.message_type=ACK;hl7.version=2.3;hl7.ack_code=AA",
		"receiver|hl7.ack|sender|hl7.receiving_application=SENDING_APPLICATION;hl7.receiving_facility=SENDING_FACILITY",
	},
	{
		"sender|hl7.orm^o01|sender|hl7.sending_application=SendingApp;hl7.sending_facility=SendingFac;hl7.message_type=ORM^O01;hl7.version=2.3",
		"receiver|hl7.orm^o01|receiver|hl7.receiving_application=ReceivingApp;hl7.receiving_facility=ReceivingFac",
		"sender|hl7.ack|receiver|hl7.sending_application=ReceivingApp;hl7.sending_facility=ReceivingFac;hl7.message_type=ACK;hl7.version=2.3;hl7.ack_code=AA",
		"receiver|hl7.ack|sender|hl7.receiving_application=SendingApp;hl7.receiving_facility=SendingFac",
	},
	{
		"sender|hl7.oru^r01|sender|hl7.sending_application=SendingApp;hl7.sending_facility=SendingFac;hl7.message_type=ORU^R01;hl7.version=2.3;" +
			"hl7.obx_code=wbc^Wbc^Local;hl7.obx_code=neutros^Neutros^Local;hl7.obx_code=lymphs^Lymphs^Local;hl7.obx_code=monos^Monos^Local;" +
			"hl7.obx_code=eo^Eos^Local;hl7.obx_code=baso^Baso^Local;hl7.obx_code=ig^Imm Gran^Local;hl7.obx_code=rbc^Rbc^Local;" +
			"hl7.obx_code=hgb^Hgb^Local;hl7.obx_code=hct^Hct^Local;hl7.obx_code=mcv^Mcv^Local;hl7.obx_code=mch^Mch;hl7.obx_code=mchc^Mchc;" +
			"hl7.obx_code=plt^Platelets",
		"receiver|hl7.oru^r01|receiver|hl7.receiving_application=ReceivingApp;hl7.receiving_facility=ReceivingFac",
		"sender|hl7.ack|receiver|hl7.sending_application=ReceivingApp;hl7.sending_facility=ReceivingFac;hl7.message_type=ACK;hl7.version=2.3;hl7.ack_code=AA",
		"receiver|hl7.ack|sender|hl7.receiving_application=SendingApp;hl7.receiving_facility=SendingFac",
	},
}

// ndpiPHI is patient data present in ndpi-hl7.pcap (placeholder names, but
// in PID, NK1, PV1, AL1 and OBX-5): none may come out.
var ndpiPHI = []string{"MOUSE", "MICKEY", "MINNIE", "19281118", "19240101", "135769", "Main St", "MOUSEHOLE", "407", "ohtoodles", "Penicillin", "Anaphylactic", "DUCK", "DONALD", "Fasting", "13.7", "7.0"}

func TestCorpusNDPI(t *testing.T) {
	streams := corpustest.TCPStreams(t, corpustest.File(t, ndpiFile), ndpiPort)
	if len(streams) != len(ndpiWant) {
		t.Fatalf("expected %d connections, got %d", len(ndpiWant), len(streams))
	}
	for i, s := range streams {
		if !Detect(protocols.FromClient, s.Bytes(protocols.FromClient)) || !Detect(protocols.FromServer, s.Bytes(protocols.FromServer)) {
			t.Errorf("Test %d: expected both directions detected", i)
		}
		got, err := decodeStream(s)
		if err != nil {
			t.Errorf("Test %d: unexpected error %v", i, err)
		}
		if !reflect.DeepEqual(got, ndpiWant[i]) {
			t.Errorf("Test %d:\nexpected %q\ngot      %q", i, ndpiWant[i], got)
		}
		all := strings.Join(got, "\n")
		for _, p := range ndpiPHI {
			if strings.Contains(all, p) {
				t.Errorf("Test %d: patient data %q in observations", i, p)
			}
		}
	}
}

// TestCorpusNDPIRetransmissions decodes the two later copies of the ADT
// (frames 11 and 12), which the reassembler drops: nDPI planted device
// identifiers in them, in PRT-16 and in OBX-18.
func TestCorpusNDPIRetransmissions(t *testing.T) {
	path := corpustest.File(t, ndpiFile)
	want := map[int][]string{
		11: {
			"sender|hl7.adt^a01|sender|hl7.sending_application=SENDING_APPLICATION;hl7.sending_facility=SENDING_FACILITY;hl7.message_type=ADT^A01;hl7.version=2.3;hl7.device_udi=Hospira Plum A+",
			"receiver|hl7.adt^a01|receiver|hl7.receiving_application=RECEIVING_APPLICATION;hl7.receiving_facility=RECEIVING_FACILITY",
		},
		12: {
			"sender|hl7.adt^a01|sender|hl7.sending_application=SENDING_APPLICATION;hl7.sending_facility=SENDING_FACILITY;hl7.message_type=ADT^A01;hl7.version=2.3;hl7.device_id=Hospira Plum A+;hl7.obx_code=C",
			"receiver|hl7.adt^a01|receiver|hl7.receiving_application=RECEIVING_APPLICATION;hl7.receiving_facility=RECEIVING_FACILITY",
		},
	}
	seen := 0
	for _, p := range corpustest.ReadPackets(t, path) {
		w, ok := want[p.Frame]
		if !ok {
			continue
		}
		seen++
		tcp, _ := gopacket.NewPacket(p.Data, p.Link, gopacket.Default).Layer(layers.LayerTypeTCP).(*layers.TCP)
		if tcp == nil {
			t.Fatalf("frame %d: no TCP", p.Frame)
		}
		got, err := run([]chunk{{dir: cli, data: string(tcp.Payload)}})
		if err != nil || !reflect.DeepEqual(got, w) {
			t.Errorf("frame %d: expected %q, got %q (err %v)", p.Frame, w, got, err)
		}
	}
	if seen != len(want) {
		t.Errorf("expected frames 11 and 12, found %d of them", seen)
	}
}

// TestCorpusSynthetic: HL7 text without MLLP framing (scapy-made) must give
// nothing: not detected, and nothing decoded even if forced.
func TestCorpusSynthetic(t *testing.T) {
	streams := corpustest.TCPStreams(t, corpustest.File(t, syntheticFile))
	if len(streams) == 0 {
		t.Fatal("no TCP in the synthetic capture")
	}
	for i, s := range streams {
		for _, dir := range []protocols.Direction{protocols.FromClient, protocols.FromServer} {
			for _, c := range s.Chunks {
				if c.Dir == dir && len(c.Data) > 0 {
					if Detect(dir, c.Data) {
						t.Errorf("Test %d: detected on %s's first payload", i, dir)
					}
					break
				}
			}
		}
		if got, _ := decodeStream(s); len(got) != 0 {
			t.Errorf("Test %d: expected no observations, got %q", i, got)
		}
	}
}

// tsharkMessage is one HL7 message as tshark decodes it.
type tsharkMessage struct {
	stream int
	dir    protocols.Direction
	msh    []string // MSH fields split on "|": msh[n-1] is MSH-n for n >= 2
	msa    []string
}

// ndpiTshark is tshark 4.0's decoding of ndpi-hl7.pcap (-2 -d
// tcp.port==6661,hl7), reduced to the fields the decoder reads: stream,
// direction, MSH-3, MSH-4, MSH-5, MSH-6, MSH-9, MSH-12, MSA-1.
var ndpiTshark = []string{
	"0 client SENDING_APPLICATION SENDING_FACILITY RECEIVING_APPLICATION RECEIVING_FACILITY ADT^A01 2.3 -",
	"0 server RECEIVING_APPLICATION RECEIVING_FACILITY SENDING_APPLICATION SENDING_FACILITY ACK 2.3 AA",
	"1 client SendingApp SendingFac ReceivingApp ReceivingFac ORM^O01 2.3 -",
	"1 server ReceivingApp ReceivingFac SendingApp SendingFac ACK 2.3 AA",
	"2 client SendingApp SendingFac ReceivingApp ReceivingFac ORU^R01 2.3 -",
	"2 server ReceivingApp ReceivingFac SendingApp SendingFac ACK 2.3 AA",
}

func (m tsharkMessage) String() string {
	f := func(n int) string {
		if n-1 < len(m.msh) {
			return m.msh[n-1]
		}
		return ""
	}
	ack := "-"
	if len(m.msa) > 1 {
		ack = m.msa[1]
	}
	return strings.Join([]string{strconv.Itoa(m.stream), m.dir.String(), f(3), f(4), f(5), f(6), f(9), f(12), ack}, " ")
}

// sideFacts decodes a connection and returns its facts as "stream side
// name=value", side being the flow side ("client", "server") the fact is
// about. OBX codes are left out: tshark's fields do not list them.
func sideFacts(stream int, s *corpustest.Stream) []string {
	d := New(protocols.FlowInfo{Transport: protocols.TCP})
	var out []string
	for _, c := range s.Chunks {
		emit := func(o protocols.Observation) {
			side := c.Dir
			if o.About == protocols.Receiver {
				side = side.Reverse()
			}
			for _, f := range o.Facts {
				if f.Name != FactObservationCode {
					out = append(out, strconv.Itoa(stream)+" "+side.String()+" "+f.Name+"="+f.Value)
				}
			}
		}
		if c.Gap > 0 {
			d.Gap(c.Dir, c.Gap, time.Time{}, emit)
		} else if err := d.Feed(c.Dir, c.Data, time.Time{}, emit); err != nil {
			out = append(out, "error "+err.Error())
		}
	}
	return out
}

// TestCorpusAgainstTshark checks the expected table against tshark when it
// is installed, and the decoder against the table: the facts the decoder
// emits per connection are those tshark's fields give, once each.
func TestCorpusAgainstTshark(t *testing.T) {
	path := corpustest.File(t, ndpiFile)
	streams := corpustest.TCPStreams(t, path, ndpiPort)

	var table []tsharkMessage
	for _, line := range ndpiTshark {
		f := strings.Fields(line)
		st, _ := strconv.Atoi(f[0])
		m := tsharkMessage{stream: st, dir: protocols.FromClient, msh: []string{"MSH", `^~\&`, f[2], f[3], f[4], f[5], "", "", f[6], "", "", f[7]}}
		if f[1] == "server" {
			m.dir = protocols.FromServer
		}
		if f[8] != "-" {
			m.msa = []string{"MSA", f[8]}
		}
		table = append(table, m)
	}

	if live := runTshark(t, path, streams); live != nil {
		var got []string
		for _, m := range live {
			got = append(got, m.String())
		}
		if !reflect.DeepEqual(got, ndpiTshark) {
			t.Errorf("tshark disagrees with the table:\nexpected %q\ngot      %q", ndpiTshark, got)
		}
	}

	for i, s := range streams {
		got := sideFacts(i, s)
		var want []string
		for _, m := range table {
			if m.stream != i {
				continue
			}
			add := func(side protocols.Direction, name, v string) {
				f := strconv.Itoa(i) + " " + side.String() + " " + name + "=" + v
				if v != "" && !slices.Contains(want, f) {
					want = append(want, f)
				}
			}
			add(m.dir, FactSendingApplication, m.msh[2])
			add(m.dir, FactSendingFacility, m.msh[3])
			add(m.dir, FactMessageType, m.msh[8])
			add(m.dir, FactVersion, m.msh[11])
			if len(m.msa) > 1 {
				add(m.dir, FactAckCode, m.msa[1])
			}
			add(m.dir.Reverse(), FactReceivingApplication, m.msh[4])
			add(m.dir.Reverse(), FactReceivingFacility, m.msh[5])
		}
		slices.Sort(got)
		slices.Sort(want)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Test %d:\nexpected %q\ngot      %q", i, want, got)
		}
	}
}

// runTshark decodes path with tshark and returns its messages, or nil when
// tshark is not installed.
func runTshark(t *testing.T, path string, streams []*corpustest.Stream) []tsharkMessage {
	t.Helper()
	bin, err := exec.LookPath("tshark")
	if err != nil {
		t.Log("tshark not installed: checking the decoder against the recorded table only")
		return nil
	}
	cmd := exec.Command(bin, "-r", path, "-2", "-d", "tcp.port=="+strconv.Itoa(ndpiPort)+",hl7",
		"-T", "fields", "-E", "occurrence=a", "-E", "separator=/t", "-E", "aggregator=\x01",
		"-e", "tcp.stream", "-e", "tcp.srcport", "-e", "hl7.segment")
	cmd.Env = append(os.Environ(), "TSHARK_RUN_AS_ROOT=1")
	cmd.Dir = filepath.Dir(path)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	var msgs []tsharkMessage
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 3 || f[2] == "" {
			continue
		}
		st, err1 := strconv.Atoi(f[0])
		port, err2 := strconv.Atoi(f[1])
		if err1 != nil || err2 != nil || st >= len(streams) {
			t.Fatalf("unexpected tshark line %q", line)
		}
		m := tsharkMessage{stream: st, dir: protocols.FromClient}
		if uint16(port) == streams[st].Server.Port() {
			m.dir = protocols.FromServer
		}
		for _, seg := range strings.Split(f[2], "\x01") {
			seg = strings.TrimSuffix(seg, `\r`)
			switch {
			case strings.HasPrefix(seg, "MSH|"):
				m.msh = strings.Split(seg, "|")
				m.msh[0] = "MSH"
			case strings.HasPrefix(seg, "MSA|"):
				m.msa = strings.Split(seg, "|")
			}
		}
		msgs = append(msgs, m)
	}
	return msgs
}

// capturePHI is the PHI planted in testdata/captures (testdata/README.md),
// beyond the planted list of the fixtures.
var capturePHI = []string{"RICHARD", "SMITH", "555-0142", "555-0143", "Jane Doe", "restless", "4711", "ELM STREET"}

// captureFacts are facts the testdata README lists per capture: each must
// appear, as "side name=value" with side the flow side it is about.
var captureFacts = map[string][]string{
	"hl7-mllp.pcap": {
		"client hl7.sending_application=HIS_ADT", "client hl7.sending_facility=ST_ELSEWHERE",
		"client hl7.message_type=ADT^A01", "client hl7.message_type=ADT^A08", "client hl7.version=2.5",
		"server hl7.receiving_application=HL7_ENGINE", "server hl7.sending_application=HL7_ENGINE",
		"client hl7.sending_application=IntelliVue MX800^00095CFFFE770033^EUI-64",
		"client hl7.sending_facility=ICU_EAST^ST_ELSEWHERE", "client hl7.message_type=ORU^R01", "client hl7.version=2.6",
		"client hl7.device_id=DE55501234^PHILIPS^00095CFFFE770033^EUI-64",
		"server hl7.ack_code=AA", "server hl7.ack_code=AE", "server hl7.acked_message_type=ORU^R01",
	},
}

// TestCaptures decodes the captures of real HL7 tools made for this repo
// (testdata/captures/hl7-*.pcap, python3-hl7's mllp_send to a listener),
// when present: every connection gives MSH facts and no error, the facts
// the testdata README lists appear, and planted PHI does not.
func TestCaptures(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "captures", "hl7-*.pcap"))
	if len(files) == 0 {
		t.Skip("no testdata/captures/hl7-*.pcap yet")
	}
	for _, file := range files {
		n := 0
		var facts []string
		for i, s := range corpustest.TCPStreams(t, file) {
			if !Detect(protocols.FromClient, s.Bytes(protocols.FromClient)) {
				continue
			}
			n++
			got, err := decodeStream(s)
			if err != nil {
				t.Errorf("%s connection %d: %v", file, i, err)
			}
			all := strings.Join(got, "\n")
			if !strings.Contains(all, FactSendingApplication+"=") && !strings.Contains(all, FactMessageType+"=") {
				t.Errorf("%s connection %d: no MSH facts in %q", file, i, got)
			}
			for _, p := range append(slices.Clone(planted), capturePHI...) {
				if strings.Contains(strings.ToUpper(all), strings.ToUpper(p)) {
					t.Errorf("%s connection %d: planted PHI %q leaked", file, i, p)
				}
			}
			for _, f := range sideFacts(i, s) {
				facts = append(facts, strings.SplitN(f, " ", 2)[1])
			}
			t.Logf("%s connection %d: %q", filepath.Base(file), i, got)
		}
		if n == 0 {
			t.Errorf("%s: no HL7 connection detected", file)
		}
		for _, want := range captureFacts[filepath.Base(file)] {
			if !slices.Contains(facts, want) {
				t.Errorf("%s: expected fact %q, not found in %q", file, want, facts)
			}
		}
	}
}
