package hl7

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/iomt-sensor/iomt-sensor/protocols"
	"github.com/iomt-sensor/iomt-sensor/protocols/internal/corpustest"
)

// mllp frames the segments as one HL7 message: 0x0B, segments each ended by
// CR, 0x1C 0x0D.
func mllp(segments ...string) string {
	return "\x0b" + strings.Join(segments, "\r") + "\r\x1c\r"
}

// chunk is one Feed (Data) or Gap call.
type chunk struct {
	dir  protocols.Direction
	data string
	gap  int
}

// compact renders an observation as "about|source|role|fact=value;...".
func compact(o protocols.Observation) string {
	var facts []string
	for _, f := range o.Facts {
		facts = append(facts, f.Name+"="+f.Value)
	}
	about := "sender"
	if o.About == protocols.Receiver {
		about = "receiver"
	}
	p := ""
	if o.Protocol != "hl7" {
		p = "BAD PROTOCOL " + o.Protocol
	}
	return p + about + "|" + o.Source + "|" + o.Role + "|" + strings.Join(facts, ";")
}

// run feeds chunks to a fresh decoder and returns the compact observations
// and the first error.
func run(chunks []chunk) ([]string, error) {
	d := New(protocols.FlowInfo{Transport: protocols.TCP})
	var got []string
	emit := func(o protocols.Observation) { got = append(got, compact(o)) }
	var first error
	for _, c := range chunks {
		if c.gap > 0 {
			d.Gap(c.dir, c.gap, time.Time{}, emit)
			continue
		}
		if err := d.Feed(c.dir, []byte(c.data), time.Time{}, emit); err != nil && first == nil {
			first = err
		}
	}
	d.Close(time.Time{}, emit)
	return got, first
}

const (
	cli = protocols.FromClient
	srv = protocols.FromServer
)

// Messages used by several tests.
var (
	// A PCD-01 ORU^R01 from a patient monitor (IHE PCD TF-2 example shape),
	// with planted PHI in PID, PV1, NK1, NTE and OBX-5.
	pcdORU = mllp(
		`MSH|^~\&|MONITOR01^0009FB0000ABCDEF^EUI-64|ICU_WEST|GATEWAY|HOSP|20260101120000||ORU^R01^ORU_R01|MSG00001|P|2.6|||AL|NE||8859/1|||IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO`,
		`PID|||PID-778899^^^HOSP^MR||DOE^JANE^^^^^L||19700101|F|||12 ELM STREET^^SPRINGFIELD^IL^62701`,
		`PV1||I|ICU^BED3`,
		`NK1|1|DOE^JOHN|SPO`,
		`OBR|1|||69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|||20260101120000`,
		`NTE|1||patient DOE JANE is anxious`,
		`OBX|1|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.1.1.1|97|262688^MDC_DIM_PERCENT^MDC|||||R|||20260101120000||||MONITOR01^0009FB0000ABCDEF^EUI-64`,
		`OBX|2|NM|147842^MDC_ECG_HEART_RATE^MDC|1.1.2.1|72|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R|||20260101120000||||MONITOR01^0009FB0000ABCDEF^EUI-64`,
		`OBX|3|ST|0^MDC_ATTR_NOTE^MDC|1.1.3.1|DOE JANE 19700101 PID-778899||||||R`,
	)
	// The same monitor's next message: nothing new but the OBX code.
	pcdORU2 = mllp(
		`MSH|^~\&|MONITOR01^0009FB0000ABCDEF^EUI-64|ICU_WEST|GATEWAY|HOSP|20260101120100||ORU^R01^ORU_R01|MSG00002|P|2.6`,
		`PID|||PID-778899^^^HOSP^MR||DOE^JANE||19700101|F`,
		`OBX|1|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.1.1.1|96|262688^MDC_DIM_PERCENT^MDC|||||R|||20260101120100||||MONITOR01^0009FB0000ABCDEF^EUI-64`,
		`OBX|2|NM|150021^MDC_PRESS_BLD_NONINV_SYS^MDC|1.1.4.1|120|266016^MDC_DIM_MMHG^MDC|||||R|||20260101120100||||MONITOR01^0009FB0000ABCDEF^EUI-64`,
	)
	ackAA = mllp(
		`MSH|^~\&|GATEWAY|HOSP|MONITOR01^0009FB0000ABCDEF^EUI-64|ICU_WEST|20260101120001||ACK^R01^ACK|ACK00001|P|2.6`,
		`MSA|AA|MSG00001`,
	)
	ackAE = mllp(
		`MSH|^~\&|GATEWAY|HOSP|MONITOR01^0009FB0000ABCDEF^EUI-64|ICU_WEST|20260101120101||ACK^R01^ACK|ACK00002|P|2.6`,
		`MSA|AE|MSG00002|Unknown patient DOE^JANE PID-778899`,
		`ERR|||204^Unknown key identifier^HL70357|E||||patient DOE JANE not found`,
	)
)

// Expected observations for pcdORU on a fresh flow.
var pcdORUWant = []string{
	"sender|hl7.oru^r01|sender|hl7.sending_application=MONITOR01^0009FB0000ABCDEF^EUI-64;hl7.sending_facility=ICU_WEST;hl7.message_type=ORU^R01;hl7.version=2.6;" +
		"hl7.device_id=MONITOR01^0009FB0000ABCDEF^EUI-64;" +
		"hl7.obx_code=150456^MDC_PULS_OXIM_SAT_O2^MDC;hl7.obx_code=147842^MDC_ECG_HEART_RATE^MDC;hl7.obx_code=0^MDC_ATTR_NOTE^MDC",
	"receiver|hl7.oru^r01|receiver|hl7.receiving_application=GATEWAY;hl7.receiving_facility=HOSP",
}

func TestFeedFixtures(t *testing.T) {
	tests := []struct {
		name   string
		chunks []chunk
		want   []string
		err    string // protocols.Reason of the first error
	}{
		{
			name:   "PCD-01 ORU^R01 in one segment",
			chunks: []chunk{{dir: cli, data: pcdORU}},
			want:   pcdORUWant,
		},
		{
			name: "ORU then ACK AA: ACK sender is the receiving system; a second ORU adds only its new code; a second AA is not repeated",
			chunks: []chunk{
				{dir: cli, data: pcdORU}, {dir: srv, data: ackAA},
				{dir: cli, data: pcdORU2}, {dir: srv, data: strings.Replace(ackAA, "MSG00001", "MSG00002", 1)},
			},
			want: append(append([]string{}, pcdORUWant...),
				"sender|hl7.ack|receiver|hl7.sending_application=GATEWAY;hl7.sending_facility=HOSP;hl7.message_type=ACK^R01;hl7.version=2.6;hl7.ack_code=AA",
				"receiver|hl7.ack|sender|hl7.receiving_application=MONITOR01^0009FB0000ABCDEF^EUI-64;hl7.receiving_facility=ICU_WEST",
				"sender|hl7.oru^r01|sender|hl7.obx_code=150021^MDC_PRESS_BLD_NONINV_SYS^MDC",
			),
		},
		{
			name: "negative ACKs are emitted every time, with the acknowledged message type; MSA-3 and ERR are not read",
			chunks: []chunk{
				{dir: cli, data: pcdORU2}, {dir: srv, data: ackAE}, {dir: srv, data: ackAE},
			},
			want: []string{
				"sender|hl7.oru^r01|sender|hl7.sending_application=MONITOR01^0009FB0000ABCDEF^EUI-64;hl7.sending_facility=ICU_WEST;hl7.message_type=ORU^R01;hl7.version=2.6;" +
					"hl7.device_id=MONITOR01^0009FB0000ABCDEF^EUI-64;hl7.obx_code=150456^MDC_PULS_OXIM_SAT_O2^MDC;hl7.obx_code=150021^MDC_PRESS_BLD_NONINV_SYS^MDC",
				"receiver|hl7.oru^r01|receiver|hl7.receiving_application=GATEWAY;hl7.receiving_facility=HOSP",
				"sender|hl7.ack|receiver|hl7.sending_application=GATEWAY;hl7.sending_facility=HOSP;hl7.message_type=ACK^R01;hl7.version=2.6;hl7.ack_code=AE;hl7.acked_message_type=ORU^R01",
				"receiver|hl7.ack|sender|hl7.receiving_application=MONITOR01^0009FB0000ABCDEF^EUI-64;hl7.receiving_facility=ICU_WEST",
				"sender|hl7.ack|receiver|hl7.ack_code=AE;hl7.acked_message_type=ORU^R01",
			},
		},
		{
			name: "message split byte by byte across Feeds",
			chunks: func() []chunk {
				var cs []chunk
				for i := range len(pcdORU) {
					cs = append(cs, chunk{dir: cli, data: pcdORU[i : i+1]})
				}
				return cs
			}(),
			want: pcdORUWant,
		},
		{
			name:   "two messages in one segment, the second split into the next",
			chunks: []chunk{{dir: cli, data: pcdORU + pcdORU2[:40]}, {dir: cli, data: pcdORU2[40:]}},
			want:   append(append([]string{}, pcdORUWant...), "sender|hl7.oru^r01|sender|hl7.obx_code=150021^MDC_PRESS_BLD_NONINV_SYS^MDC"),
		},
		{
			name: "a gap drops the partial message; decoding resumes at the next start block",
			chunks: []chunk{
				{dir: cli, data: pcdORU[:100]}, {dir: cli, gap: 500},
				{dir: cli, data: "STREET^^SPRINGFIELD\r\x1c\r"}, {dir: cli, data: pcdORU2},
			},
			want: []string{
				"sender|hl7.oru^r01|sender|hl7.sending_application=MONITOR01^0009FB0000ABCDEF^EUI-64;hl7.sending_facility=ICU_WEST;hl7.message_type=ORU^R01;hl7.version=2.6;" +
					"hl7.device_id=MONITOR01^0009FB0000ABCDEF^EUI-64;hl7.obx_code=150456^MDC_PULS_OXIM_SAT_O2^MDC;hl7.obx_code=150021^MDC_PRESS_BLD_NONINV_SYS^MDC",
				"receiver|hl7.oru^r01|receiver|hl7.receiving_application=GATEWAY;hl7.receiving_facility=HOSP",
			},
		},
		{
			name:   "a start block inside a block (lost end): the partial message is dropped",
			chunks: []chunk{{dir: cli, data: pcdORU[:200] + pcdORU2}},
			want: []string{
				"sender|hl7.oru^r01|sender|hl7.sending_application=MONITOR01^0009FB0000ABCDEF^EUI-64;hl7.sending_facility=ICU_WEST;hl7.message_type=ORU^R01;hl7.version=2.6;" +
					"hl7.device_id=MONITOR01^0009FB0000ABCDEF^EUI-64;hl7.obx_code=150456^MDC_PULS_OXIM_SAT_O2^MDC;hl7.obx_code=150021^MDC_PRESS_BLD_NONINV_SYS^MDC",
				"receiver|hl7.oru^r01|receiver|hl7.receiving_application=GATEWAY;hl7.receiving_facility=HOSP",
			},
		},
		{
			name: "custom delimiters: field #, component $, repetition *, escape !, subcomponent %; escapes !F! !S! !T! !E! resolved",
			chunks: []chunk{{dir: cli, data: mllp(
				`MSH#$*!%#PUMP!S!A$1.2.3$ISO#WARD!F!5#IE#HOSP!T!X#2026##RAS$O17$RAS_O17#C1#P#2.7`,
				`PRT#1#UC##EQUIP$Equipment$HL70912######PUMP7$ACME$00-11-22$EUI-64*PUMP7B$ACME######UDI!E!01####SN-4455`,
				`OBX#1#NM#158776$MDC_FLOW_FLUID_PUMP$MDC$ALT$Alt$L#1#5.0`,
			)}},
			want: []string{
				"sender|hl7.ras^o17|sender|hl7.sending_application=PUMP$A^1.2.3^ISO;hl7.sending_facility=WARD#5;hl7.message_type=RAS^O17;hl7.version=2.7;" +
					"hl7.device_id=PUMP7^ACME^00-11-22^EUI-64;hl7.device_id=PUMP7B^ACME;hl7.device_udi=UDI!01;hl7.device_serial=SN-4455;" +
					"hl7.obx_code=158776^MDC_FLOW_FLUID_PUMP^MDC",
				"receiver|hl7.ras^o17|receiver|hl7.receiving_application=IE;hl7.receiving_facility=HOSP%X",
			},
		},
		{
			name:   "LF segment terminators, hex escape, non-printable bytes dropped, values capped at 256 bytes",
			chunks: []chunk{{dir: cli, data: "\x0bMSH|^~\\&|APP\\X41\\\x01|" + strings.Repeat("F", 300) + "|||20260101||ADT^A01|1|P|2.5.1\nEVN|A01\n\x1c\r"}},
			want: []string{
				"sender|hl7.adt^a01|sender|hl7.sending_application=APPA;hl7.sending_facility=" + strings.Repeat("F", 256) + ";hl7.message_type=ADT^A01;hl7.version=2.5.1",
			},
		},
		{
			name:   "invalid message type and version are not emitted; Source hl7.unknown",
			chunks: []chunk{{dir: cli, data: mllp(`MSH|^~\&|APP|FAC|||||oru^r01|1|P|two`)}},
			want:   []string{"sender|hl7.unknown|sender|hl7.sending_application=APP;hl7.sending_facility=FAC"},
		},
		{
			name: "batch: FHS/BHS header, two messages in one block",
			chunks: []chunk{{dir: cli, data: mllp(
				`FHS|^~\&|BATCHAPP`, `BHS|^~\&|BATCHAPP`,
				`MSH|^~\&|LAB|FAC|||||ORU^R01|1|P|2.3`, `OBX|1|NM|wbc^Wbc^Local^6690-2^Wbc^LN||7.0`,
				`MSH|^~\&|LAB|FAC|||||ORU^R01|2|P|2.3`, `OBX|1|NM|hgb^Hgb^Local^718-7^Hgb^LN||13.7`,
				`BTS|2`, `FTS|1`,
			)}},
			want: []string{
				"sender|hl7.oru^r01|sender|hl7.sending_application=LAB;hl7.sending_facility=FAC;hl7.message_type=ORU^R01;hl7.version=2.3;hl7.obx_code=wbc^Wbc^Local",
				"sender|hl7.oru^r01|sender|hl7.obx_code=hgb^Hgb^Local",
			},
		},
		{
			name:   "bad delimiters (alphanumeric encoding characters): nothing",
			chunks: []chunk{{dir: cli, data: mllp(`MSH|ABCD|APP|FAC`)}},
		},
		{
			name:   "junk before and between blocks is skipped",
			chunks: []chunk{{dir: cli, data: "\r\n  " + mllp(`MSH|^~\&|APP`) + "xx"}},
			want:   []string{"sender|hl7.unknown|sender|hl7.sending_application=APP"},
		},
		{
			name:   "blocks without MSH: the eighth makes Feed give up",
			chunks: []chunk{{dir: cli, data: strings.Repeat("\x0bPID|1||X\r\x1c\r", 8)}},
			err:    "malformed",
		},
		{
			name:   "a stream without start blocks: Feed gives up past the junk cap",
			chunks: []chunk{{dir: cli, data: strings.Repeat("MSH|^~\\&|APP\r", maxJunk/13+1)}},
			err:    "malformed",
		},
		{
			name: "oversized messages are skipped; the fourth makes Feed give up",
			chunks: []chunk{
				{dir: cli, data: "\x0bMSH|^~\\&|BIG\r" + strings.Repeat("OBX|1|ST|||x\r", MaxMessageLen/13+1) + "\x1c\r"},
				{dir: cli, data: mllp(`MSH|^~\&|SMALL`)},
				{dir: cli, data: "\x0bMSH|^~\\&|BIG\r" + strings.Repeat("x", MaxMessageLen+1) + "\x1c\r"},
				{dir: cli, data: "\x0bMSH|^~\\&|BIG\r" + strings.Repeat("x", MaxMessageLen+1) + "\x1c\r"},
				{dir: cli, data: "\x0bMSH|^~\\&|BIG\r" + strings.Repeat("x", MaxMessageLen+1) + "\x1c\r"},
			},
			want: []string{"sender|hl7.unknown|sender|hl7.sending_application=SMALL"},
			err:  "too_long",
		},
	}
	for i, tc := range tests {
		got, err := run(tc.chunks)
		if r := protocols.Reason(err); r != tc.err {
			t.Errorf("Test %d (%s): expected error %q, got %v", i, tc.name, tc.err, err)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Test %d (%s):\nexpected %q\ngot      %q", i, tc.name, tc.want, got)
		}
	}
}

func TestDetect(t *testing.T) {
	tests := []struct {
		name  string
		first string
		want  bool
	}{
		{"MLLP block with MSH", mllp(`MSH|^~\&|APP`), true},
		{"custom field separator", "\x0bMSH#$*!%#APP", true},
		{"joined mid-way: end of one block, start of the next", "1|P|2.3\r\x1c\r\x0bMSH|^~\\&|APP", true},
		{"short", "\x0bMSH", false},
		{"HL7 without MLLP framing", "MSH|^~\\&|SYS|HOSP|||20240101||ADT^A01|1|P|2.5\r", false},
		{"alphanumeric field separator", "\x0bMSHA^~\\&", false},
		{"same field and component separator", "\x0bMSH||~\\&", false},
		{"HTTP on 2575", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", false},
		{"TLS ClientHello", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", false},
		{"start block then other text", "\x0bHELLO", false},
		{"random bytes", "\x8a\x13\x0b\x1c\x0d\x0b\x00\xff\x02", false},
	}
	for i, tc := range tests {
		if got := Detect(cli, []byte(tc.first)); got != tc.want {
			t.Errorf("Test %d (%s): expected %v, got %v", i, tc.name, tc.want, got)
		}
	}
}

func TestSpec(t *testing.T) {
	s := Spec()
	if s.Name != "hl7" || s.Transport != protocols.TCP || !reflect.DeepEqual(s.Ports, []uint16{2575}) || s.Detect == nil || s.New == nil {
		t.Errorf("unexpected spec %+v", s)
	}
}

// planted is the PHI the tests put in messages: none may leave the decoder.
var planted = []string{"DOE", "JANE", "PID-778899", "778899", "19700101", "ELM STREET", "SPRINGFIELD", "62701", "anxious", "Unknown patient", "not found"}

// TestNoPHI feeds messages carrying planted PHI (PID, PV1, NK1, NTE, OBX-5,
// MSA-3, ERR), whole and split, including malformed variants, and checks
// that no planted value appears in any observation or error.
func TestNoPHI(t *testing.T) {
	phiSegs := []string{
		`PID|||PID-778899^^^HOSP^MR||DOE^JANE||19700101|F|||12 ELM STREET^^SPRINGFIELD^IL^62701`,
		`PD1|||DOE JANE`, `NK1|1|DOE^JANE`, `PV1||I|DOE`, `PV2|||JANE`, `GT1|1||DOE^JANE`,
		`IN1|1|PID-778899`, `IN2|1|19700101`, `DG1|1||DOE`, `AL1|1||JANE`, `NTE|1||DOE JANE anxious`,
		`OBX|1|ST|0^MDC_ATTR_NOTE^MDC||DOE JANE 19700101 PID-778899`,
	}
	streams := []string{
		pcdORU + ackAE + pcdORU2,
		mllp(append([]string{`MSH|^~\&|APP|FAC|||||ADT^A01|1|P|2.3`}, phiSegs...)...),
		// PHI where a header field would be if a parser miscounted.
		mllp(`MSH|^~\&|APP|FAC|||||ADT^A01|1|P|2.3`, `PID|DOE|JANE|19700101|PID-778899|x|x|x|x|x|x|x|x|x|x|x|x|x|x|x`),
		// Truncated and garbled variants.
		pcdORU[:300] + "\x1c\r",
		"\x0bPID|||PID-778899||DOE^JANE\r\x1c\r",
		strings.ReplaceAll(pcdORU, "\r", "\n"),
	}
	for i, s := range streams {
		for _, step := range []int{len(s), 1, 7, 100} {
			var cs []chunk
			for j := 0; j < len(s); j += step {
				cs = append(cs, chunk{dir: protocols.Direction(i & 1), data: s[j:min(j+step, len(s))]})
			}
			got, err := run(cs)
			all := strings.Join(got, "\n")
			if err != nil {
				all += "\n" + err.Error()
			}
			for _, p := range planted {
				if strings.Contains(strings.ToUpper(all), strings.ToUpper(p)) {
					t.Errorf("Test %d step %d: planted PHI %q leaked:\n%s", i, step, p, all)
				}
			}
		}
	}
}

// TestErrorsCarryNoWireBytes checks that every error is a sentinel and holds
// none of the bytes fed.
func TestErrorsCarryNoWireBytes(t *testing.T) {
	for i, data := range []string{
		strings.Repeat("\x0bPID|DOE^JANE\r\x1c\r", 10),
		strings.Repeat("DOE^JANE ", maxJunk/9+1),
	} {
		_, err := run([]chunk{{dir: cli, data: data}})
		if err == nil || protocols.Reason(err) == "other" {
			t.Fatalf("Test %d: expected a sentinel error, got %v", i, err)
		}
		if strings.Contains(err.Error(), "DOE") || strings.Contains(err.Error(), "JANE") {
			t.Errorf("Test %d: error %q carries wire bytes", i, err)
		}
		if !errors.Is(err, protocols.ErrMalformed) {
			t.Errorf("Test %d: expected ErrMalformed, got %v", i, err)
		}
	}
}

// TestCapsPerFlow checks that distinct OBX codes and devices are capped per
// flow.
func TestCapsPerFlow(t *testing.T) {
	var cs []chunk
	for i := range 200 {
		n := string(rune('A'+i%26)) + string(rune('A'+i/26))
		cs = append(cs, chunk{dir: cli, data: mllp(`MSH|^~\&|APP|||||`, `OBX|1|NM|C`+n+`^X^MDC|||||||||||||||DEV`+n)})
	}
	got, err := run(cs)
	if err != nil {
		t.Fatal(err)
	}
	codes := strings.Count(strings.Join(got, ";"), "hl7.obx_code=")
	devices := strings.Count(strings.Join(got, ";"), "hl7.device_id=")
	if codes != maxCodes || devices != maxDevices {
		t.Errorf("expected %d codes and %d devices, got %d and %d", maxCodes, maxDevices, codes, devices)
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{pcdORU, pcdORU + ackAA + pcdORU2, ackAE, mllp(`MSH#$*!%#PUMP!S!A$1.2.3$ISO#WARD!F!5#IE#HOSP!T!X#2026##RAS$O17$RAS_O17#C1#P#2.7`, `PRT#1#UC##EQUIP######PUMP7$ACME*B######UDI!E!01!X4142!##SN`)} {
		f.Add(append([]byte{7}, s...))
	}
	corpustest.Seed(f, []string{"hl7/ndpi-hl7.pcap"}, func(path string) [][]byte {
		var out [][]byte
		for _, s := range corpustest.TCPStreams(f, path) {
			out = append(out, append([]byte{0}, s.Bytes(cli)...), append([]byte{0}, s.Bytes(srv)...), append([]byte{3}, s.Bytes(cli)...))
		}
		return out
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		Detect(cli, data)
		var split uint8
		if len(data) > 0 {
			split, data = data[0], data[1:]
		}
		// The first byte picks the split: chunk sizes follow the bytes of
		// data itself, the direction alternates every split-th chunk, and
		// split 1 puts a gap before every chunk.
		d := New(protocols.FlowInfo{})
		emit := func(o protocols.Observation) {
			if o.Protocol != "hl7" || !strings.HasPrefix(o.Source, "hl7.") || len(o.Facts) == 0 {
				t.Fatalf("bad observation %+v", o)
			}
			for _, fc := range o.Facts {
				if fc.Value == "" || len(fc.Value) > maxValue || !strings.HasPrefix(fc.Name, "hl7.") {
					t.Fatalf("bad fact %+v", fc)
				}
				for _, c := range []byte(fc.Value) {
					if c < 0x20 || c > 0x7e {
						t.Fatalf("non-printable fact %q", fc.Value)
					}
				}
			}
		}
		dir := cli
		for i, n := 0, 0; len(data) > 0; n++ {
			size := 1 + int(data[i%len(data)])%64
			if split != 0 && n%int(split) == 0 {
				dir = dir.Reverse()
			}
			if split == 1 {
				d.Gap(dir, 10, time.Time{}, emit)
			}
			size = min(size, len(data))
			if err := d.Feed(dir, data[:size], time.Time{}, emit); err != nil && protocols.Reason(err) == "other" {
				t.Fatalf("error %v wraps no sentinel", err)
			}
			data = data[size:]
			i++
		}
		d.Close(time.Time{}, emit)
	})
}

func BenchmarkDecode(b *testing.B) {
	// A stream of 100 PCD-01 ORU^R01 messages, each with fresh PHI-free
	// content but the same device: the steady state of a monitor feed.
	var stream []byte
	for range 100 {
		stream = append(stream, pcdORU2...)
	}
	d := New(protocols.FlowInfo{})
	emit := func(protocols.Observation) {}
	b.ReportAllocs()
	b.SetBytes(int64(len(stream)))
	for b.Loop() {
		for off := 0; off < len(stream); off += 1460 {
			if err := d.Feed(cli, stream[off:min(off+1460, len(stream))], time.Time{}, emit); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*100), "ns/msg")
}

func TestDependencies(t *testing.T) { corpustest.CheckDeps(t) }

// BenchmarkDecodeNewFlow measures a flow's first ORU^R01 and its ACK: the
// cost of emitting, which steady-state messages do not pay.
func BenchmarkDecodeNewFlow(b *testing.B) {
	oru, ack := []byte(pcdORU), []byte(ackAA)
	emit := func(protocols.Observation) {}
	b.ReportAllocs()
	b.SetBytes(int64(len(oru) + len(ack)))
	for b.Loop() {
		d := New(protocols.FlowInfo{})
		if d.Feed(cli, oru, time.Time{}, emit) != nil || d.Feed(srv, ack, time.Time{}, emit) != nil {
			b.Fatal("error")
		}
	}
}

// BenchmarkDecodeFlow measures a whole short flow as the replay benchmark's
// capture carries them: a new decoder, then four PCD-01 ORU^R01 messages of
// one monitor (same MSH facts, device and codes; new timestamps and control
// ids), each acknowledged by an ACK AA.
func BenchmarkDecodeFlow(b *testing.B) {
	var orus, acks [][]byte
	size := 0
	for i := range 4 {
		id := "MSG0000" + string(rune('1'+i))
		ts := "2026010112000" + string(rune('0'+i))
		orus = append(orus, []byte(mllp(
			`MSH|^~\&|MONITOR01^0009FB0000ABCDEF^EUI-64|ICU_WEST|GATEWAY|HOSP|`+ts+`||ORU^R01^ORU_R01|`+id+`|P|2.6|||AL|NE||UNICODE UTF-8|||IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO`,
			`PID|||778899^^^HOSP^MR||TEST^PATIENT^^^^^L||19700101|U`,
			`PV1||I|ICU^^BED3`,
			`OBR|1|`+id+`^DEVICE|||182777000^monitoring of patient^SNOMED-CT|||`+ts,
			`OBX|1|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.1.1.150456|97|262688^MDC_DIM_PERCENT^MDC|||||F|||`+ts+`||||0009FB0000ABCDEF^^0009FB0000ABCDEF^EUI-64`,
			`OBX|2|NM|147842^MDC_ECG_HEART_RATE^MDC|1.1.1.147842|72|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||F|||`+ts,
		)))
		acks = append(acks, []byte(mllp(
			`MSH|^~\&|GATEWAY|HOSP|MONITOR01|ICU_WEST|`+ts+`||ACK^R01^ACK|A`+id+`|P|2.6`,
			`MSA|AA|`+id,
		)))
		size += len(orus[i]) + len(acks[i])
	}
	emit := func(protocols.Observation) {}
	b.ReportAllocs()
	b.SetBytes(int64(size))
	for b.Loop() {
		d := New(protocols.FlowInfo{})
		for i := range orus {
			if d.Feed(cli, orus[i], time.Time{}, emit) != nil || d.Feed(srv, acks[i], time.Time{}, emit) != nil {
				b.Fatal("error")
			}
		}
		d.Close(time.Time{}, emit)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(orus)*2), "ns/msg")
}

// TestMSH9And12: messageType and versionID read components 1 and 2 of the
// first repetition in place; they give what cutting the repetition and
// the components off first gives, whatever the delimiters.
func TestMSH9And12(t *testing.T) {
	// component returns component n (1-based) of v.
	component := func(m *message, v []byte, n int) []byte {
		for i := 1; ; i++ {
			j := -1
			if m.enc.comp != noDelim {
				j = bytes.IndexByte(v, byte(m.enc.comp))
			}
			switch {
			case i == n && j < 0:
				return v
			case i == n:
				return v[:j]
			case j < 0:
				return nil
			}
			v = v[j+1:]
		}
	}
	wantType := func(m *message) string {
		v := m.firstRepeat(m.typ)
		typ := component(m, v, 1)
		if !isCode(typ) {
			return ""
		}
		if ev := component(m, v, 2); isCode(ev) {
			return string(typ) + "^" + string(ev)
		}
		return string(typ)
	}
	wantVersion := func(m *message) string {
		v := component(m, m.firstRepeat(m.version), 1)
		if len(v) == 0 || len(v) > 8 || strings.Trim(string(v), "0123456789.") != "" {
			return ""
		}
		return string(v)
	}
	rng := rand.New(rand.NewPCG(9, 12))
	const alphabet = "ORUACK0125.^~&#a"
	for _, delims := range []string{`|^~\&`, `|^`, `|.~`, `#$*!%`, `|~^`} {
		var m message
		if !m.header([]byte("MSH" + delims)) {
			t.Fatalf("delimiters %q refused", delims)
		}
		for range 20000 {
			b := make([]byte, rng.IntN(11))
			for i := range b {
				b[i] = alphabet[rng.IntN(len(alphabet))]
			}
			m.typ, m.version = b, b
			if got, want := string(m.messageType(nil)), wantType(&m); got != want {
				t.Errorf("delimiters %q, MSH-9 %q: type %q, want %q", delims, b, got, want)
			}
			if got, want := string(m.versionID(nil)), wantVersion(&m); got != want {
				t.Errorf("delimiters %q, MSH-12 %q: version %q, want %q", delims, b, got, want)
			}
		}
	}
}

// TestPlainKeys: a field the flow repeats is found among the plain keys of
// the seen set without being rendered, but only under the delimiters it
// was rendered with: the same bytes under other delimiters are a new
// value. Each direction has its own delimiters.
func TestPlainKeys(t *testing.T) {
	std, dollar := `MSH|^~\&|A$B|F`, `MSH|$~\&|A$B|F`
	for _, tc := range []struct {
		name string
		cs   []chunk
		want []string
	}{
		{"repeated", []chunk{{dir: cli, data: mllp(std)}, {dir: cli, data: mllp(std)}}, []string{
			"sender|hl7.unknown|sender|hl7.sending_application=A$B;hl7.sending_facility=F",
		}},
		{"delimiters changed", []chunk{{dir: cli, data: mllp(std)}, {dir: cli, data: mllp(dollar)}, {dir: cli, data: mllp(std)}}, []string{
			"sender|hl7.unknown|sender|hl7.sending_application=A$B;hl7.sending_facility=F",
			"sender|hl7.unknown|sender|hl7.sending_application=A^B",
		}},
		{"other direction's delimiters", []chunk{{dir: cli, data: mllp(std)}, {dir: srv, data: mllp(dollar)}, {dir: cli, data: mllp(std)}, {dir: srv, data: mllp(dollar)}}, []string{
			"sender|hl7.unknown|sender|hl7.sending_application=A$B;hl7.sending_facility=F",
			"sender|hl7.unknown|sender|hl7.sending_application=A^B;hl7.sending_facility=F",
		}},
		{"value of another field", []chunk{{dir: cli, data: mllp(`MSH|^~\&|A\E\S|F`)}, {dir: cli, data: mllp(`MSH|^~\&|A\S|F`)}}, []string{
			`sender|hl7.unknown|sender|hl7.sending_application=A\S;hl7.sending_facility=F`,
			"sender|hl7.unknown|sender|hl7.sending_application=AS",
		}},
		{"not plain", []chunk{{dir: cli, data: mllp(`MSH|^~\&|A\S\B^|F`)}, {dir: cli, data: mllp(`MSH|^~\&|A^B|F`)}, {dir: cli, data: mllp(`MSH|^~\&|A\S\B^|F`)}}, []string{
			"sender|hl7.unknown|sender|hl7.sending_application=A^B;hl7.sending_facility=F",
		}},
	} {
		got, err := run(tc.cs)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: expected\n%q\ngot\n%q", tc.name, tc.want, got)
		}
	}
}

// TestSourceName: the names returned without building them are the ones
// the general rule builds.
func TestSourceName(t *testing.T) {
	for _, typ := range []string{"ORU^R01", "ADT^A01", "ADT^A03", "ADT^A04", "ADT^A08", "ORM^O01", "ADT^A40", "QRY", "MDM^T02"} {
		if got, want := sourceName([]byte(typ)), "hl7."+strings.ToLower(typ); got != want {
			t.Errorf("sourceName(%q) = %q, want %q", typ, got, want)
		}
	}
	if got := sourceName([]byte("ACK^R01")); got != SourceAck {
		t.Errorf("sourceName(ACK^R01) = %q, want %q", got, SourceAck)
	}
}

// TestSeenSet: a fact is emitted once per flow and side, however many
// facts the flow has remembered (in the set itself, its overflow slice or
// its map), up to maxSeen of them.
func TestSeenSet(t *testing.T) {
	for _, n := range []int{1, 2, 3, 10, seenSmall, seenSmall + 1, seenLinear, seenLinear + 1, 40, maxSeen + 50} {
		var cs []chunk
		for range 2 {
			for i := range n {
				cs = append(cs, chunk{dir: cli, data: mllp(`MSH|^~\&|APP` + strconv.Itoa(i) + `|||||`)})
			}
		}
		got, err := run(cs)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]int{}
		for _, o := range got {
			seen[o]++
		}
		if want := min(n, maxSeen); len(got) != want || len(seen) != want {
			t.Errorf("%d applications twice: %d observations, %d distinct, want %d", n, len(got), len(seen), want)
		}
	}
}

// refRing is the fixed-slot ring of sent messages stream.sent replaced:
// the reference for which message a control id names.
type refRing struct {
	ids, typs [][]byte
	next      int
}

func (r *refRing) remember(id, typ []byte) {
	id = id[:min(len(id), maxControlID)]
	if len(r.ids) < ackRing {
		r.ids, r.typs = append(r.ids, nil), append(r.typs, nil)
	}
	r.ids[r.next], r.typs[r.next] = id, typ
	r.next = (r.next + 1) % ackRing
}

func (r *refRing) lookup(id []byte) []byte {
	if len(id) == 0 {
		return nil
	}
	id = id[:min(len(id), maxControlID)]
	for i := range r.ids {
		if string(r.ids[i]) == string(id) {
			return r.typs[i]
		}
	}
	return nil
}

// TestSentRing: stream.lookup names the same message as a ring of ackRing
// fixed slots would, repeated and over-long control ids included.
func TestSentRing(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	id := func() []byte {
		if rng.IntN(8) == 0 {
			return []byte(strings.Repeat("L", maxControlID-2+rng.IntN(4)))
		}
		return []byte("ID" + strconv.Itoa(rng.IntN(24)))
	}
	for run := range 50 {
		var s stream
		var ref refRing
		for i := range 150 {
			typ := []byte("ORU^R" + strconv.Itoa(10+i%90))
			k := id()
			s.remember(k, typ)
			ref.remember(k, typ)
			for range 3 {
				q := id()
				if got, want := s.lookup(q), ref.lookup(q); string(got) != string(want) {
					t.Fatalf("run %d, message %d: lookup(%s) = %q, want %q", run, i, q, got, want)
				}
			}
		}
	}
}

// TestManyPerMessage: codes and devices beyond a message's own room keep
// their order, in one message, in a batch of two, and in the next block.
func TestManyPerMessage(t *testing.T) {
	msg := func(from, to int) []string {
		segs := []string{`MSH|^~\&|APP`}
		for i := from; i <= to; i++ {
			n := strconv.Itoa(i)
			segs = append(segs, `OBX|`+n+`|NM|C`+n+`^X^MDC|||||||||||||||D`+n)
		}
		return segs
	}
	want := func(from, to int, app bool) string {
		var f []string
		if app {
			f = append(f, "hl7.sending_application=APP")
		}
		for i := from; i <= to; i++ {
			f = append(f, "hl7.device_id=D"+strconv.Itoa(i))
		}
		for i := from; i <= to; i++ {
			f = append(f, "hl7.obx_code=C"+strconv.Itoa(i)+"^X^MDC")
		}
		return "sender|hl7.unknown|sender|" + strings.Join(f, ";")
	}
	batch := mllp(append(msg(1, 7), msg(8, 13)...)...)
	got, err := run([]chunk{{dir: cli, data: batch}, {dir: cli, data: mllp(msg(12, 20)...)}})
	if err != nil {
		t.Fatal(err)
	}
	if w := []string{want(1, 7, true), want(8, 13, false), want(14, 20, false)}; !reflect.DeepEqual(got, w) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(w, "\n"))
	}
}

// TestFieldScan compares cutField, nextField and fieldEnds, which look at
// eight bytes at a time, with a byte-by-byte split of random segments of
// separators, bytes that differ from one only in bit 7 or the low bits, and
// others.
func TestFieldScan(t *testing.T) {
	const sep = '|'
	alphabet := []byte{sep, sep ^ 0x80, sep ^ 1, sep - 1, 0, 0xff, 'A'}
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		b := make([]byte, r.IntN(80))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		fields := bytes.Split(b, []byte{sep})
		v, rest, last := cutField(b, sep)
		if !bytes.Equal(v, fields[0]) || last != (len(fields) == 1) || !last && !bytes.Equal(rest, b[len(v)+1:]) {
			t.Fatalf("cutField(%q) = %q, %q, %v", b, v, rest, last)
		}
		var ends [12]int
		fieldEnds(b, sep, ends[:])
		for k := range ends {
			want := []byte{}
			if k < len(fields) {
				want = fields[k]
			}
			if got := field(b, ends[:], k); !bytes.Equal(got, want) {
				t.Fatalf("field(%q, %d) = %q, want %q", b, k, got, want)
			}
		}
		for skip := range 12 {
			v, rest, ok := nextField(b, sep, skip)
			if ok != (skip < len(fields)) {
				t.Fatalf("nextField(%q, %d) ok = %v", b, skip, ok)
			}
			if !ok {
				continue
			}
			want := bytes.Join(fields[skip+1:], []byte{sep})
			if !bytes.Equal(v, fields[skip]) || skip+1 < len(fields) && !bytes.Equal(rest, want) || skip+1 == len(fields) && rest != nil {
				t.Fatalf("nextField(%q, %d) = %q, %q", b, skip, v, rest)
			}
		}
	}
}

// TestStandardEncoding checks that the encoding header copies for
// "|^~\&" is the one it builds for any other MSH-1 and MSH-2.
func TestStandardEncoding(t *testing.T) {
	var m message
	if _, ok := m.delimiters([]byte(`MSH|^~\&|`)); !ok || m.enc != standard {
		t.Fatalf("delimiters built %+v, want %+v", m.enc, standard)
	}
}
