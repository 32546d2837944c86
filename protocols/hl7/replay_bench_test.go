package hl7

import (
	"flag"
	"fmt"
	"testing"
	"time"

	"github.com/iomt-sensor/iomt-sensor/protocols"
)

// replayFlow is one HL7 conversation as the replay benchmark's capture
// carries it: per direction, the in-order chunks the sensor feeds.
type replayFlow struct {
	chunks []replayChunk
}

type replayChunk struct {
	dir  protocols.Direction
	data []byte
}

// replayFlows builds n distinct HL7 flows shaped like the generator's
// (cmd/iomt-gencap): a monitor or pump sends 1 to 5 PCD-01 ORU^R01
// messages, each acknowledged by an ACK AA; every flow has its own device
// name and EUI-64, so no two flows share a fact value.
func replayFlows(n int) []replayFlow {
	flows := make([]replayFlow, n)
	id := 0
	for i := range flows {
		name := fmt.Sprintf("MON-%03d-%04d", i%200, i)
		eui := fmt.Sprintf("0009FBFFFE%06X", i)
		ts := fmt.Sprintf("202601011%05d", i%60000)
		for range 1 + i%5 {
			id++
			oru := mllp(
				`MSH|^~\&|`+name+`^`+eui+`^EUI-64|ICU|HIS|HOSP|`+ts+`||ORU^R01^ORU_R01|`+fmt.Sprint(id)+`|P|2.6|||AL|NE||UNICODE UTF-8|||IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO`,
				fmt.Sprintf(`PID|||%d^^^HOSP^MR||TEST^PATIENT^^^^^L||19700101|U`, 100000+id%900000),
				fmt.Sprintf(`PV1||I|ICU^^BED%d`, i%40+1),
				fmt.Sprintf(`OBR|1|%d^DEVICE|||182777000^monitoring of patient^SNOMED-CT|||%s`, id, ts),
				fmt.Sprintf(`OBX|1|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.1.1.150456|%d|262688^MDC_DIM_PERCENT^MDC|||||F|||%s||||%s^^%s^EUI-64`, 92+id%8, ts, eui, eui),
				fmt.Sprintf(`OBX|2|NM|147842^MDC_ECG_HEART_RATE^MDC|1.1.1.147842|%d|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||F|||%s`, 55+id%60, ts),
			)
			ack := mllp(
				`MSH|^~\&|HIS|HOSP|`+name+`|ICU|`+ts+`||ACK^R01^ACK|A`+fmt.Sprint(id)+`|P|2.6`,
				`MSA|AA|`+fmt.Sprint(id),
			)
			flows[i].chunks = append(flows[i].chunks, replayChunk{cli, []byte(oru)}, replayChunk{srv, []byte(ack)})
		}
	}
	return flows
}

// observationSink keeps observations as the sensor does (it owns them
// once emitted), recycling its slice now and then so memory stays bounded.
type observationSink struct {
	kept  []protocols.Observation
	facts int
}

func (s *observationSink) emit(o protocols.Observation) {
	if len(s.kept) == cap(s.kept) && len(s.kept) > 0 {
		clear(s.kept)
		s.kept = s.kept[:0]
	}
	s.kept = append(s.kept, o)
	s.facts += len(o.Facts)
}

var replayN = flag.Int("replayflows", 4096, "distinct flows BenchmarkReplayFlows cycles through")

// BenchmarkReplayFlows models the replay: every flow is new (New, the whole
// conversation, Close), flows follow one another out of cache, and the
// observations are kept. One op is one flow.
func BenchmarkReplayFlows(b *testing.B) {
	flows := replayFlows(*replayN)
	sink := &observationSink{kept: make([]protocols.Observation, 0, 1024)}
	emit := sink.emit
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		f := &flows[i%len(flows)]
		i++
		d := New(protocols.FlowInfo{Transport: protocols.TCP})
		for _, c := range f.chunks {
			if err := d.Feed(c.dir, c.data, time.Time{}, emit); err != nil {
				b.Fatal(err)
			}
		}
		d.Close(time.Time{}, emit)
	}
	if sink.facts == 0 {
		b.Fatal("nothing emitted")
	}
}
