package corpustest

import (
	"errors"
	"testing"
	"time"

	"github.com/iomt-sensor/iomt-sensor/protocols"
)

// Skipping is what DecodeStreamsSkipping adds to a Decoded: the bytes the
// decoder asked to skip per direction, and how many of them were passed over
// (the rest lay beyond the end of the capture's stream).
type Skipping struct {
	Decoded
	Asked, Passed [2]int
}

// DecodeStreamsSkipping is DecodeStreams for a decoder implementing
// protocols.Skipper, honouring its skips as the sensor does: after each Feed
// it asks Skip for the direction and drops that many of the direction's next
// bytes, data or gap alike, without feeding or reporting them.
func DecodeStreamsSkipping(tb testing.TB, spec protocols.Spec, path string, ports ...uint16) []Skipping {
	tb.Helper()
	var out []Skipping
	for _, s := range TCPStreams(tb, path, ports...) {
		d := Skipping{Decoded: Decoded{Stream: s}}
		var tried [2]bool
		for _, c := range s.Chunks {
			if len(c.Data) == 0 || tried[c.Dir] {
				continue
			}
			tried[c.Dir] = true
			if spec.Detect(c.Dir, c.Data) {
				d.Detected = true
				break
			}
		}
		if d.Detected {
			dec := spec.New(protocols.FlowInfo{Transport: protocols.TCP, Client: s.Client, Server: s.Server,
				ClientMAC: s.ClientMAC, ServerMAC: s.ServerMAC})
			sk, ok := dec.(protocols.Skipper)
			if !ok {
				tb.Fatalf("%s decoder does not implement protocols.Skipper", spec.Name)
			}
			var frame int
			var dir protocols.Direction
			emit := func(o protocols.Observation) {
				from := s.Client
				if dir == protocols.FromServer {
					from = s.Server
				}
				d.Emitted = append(d.Emitted, Emitted{Frame: frame, Dir: dir, From: from, Obs: o})
			}
			var skip [2]int
			for _, c := range s.Chunks {
				frame, dir = c.Frame, c.Dir
				if c.Gap > 0 {
					k := min(c.Gap, skip[c.Dir])
					skip[c.Dir] -= k
					d.Passed[c.Dir] += k
					if c.Gap > k {
						dec.Gap(c.Dir, c.Gap-k, time.Time{}, emit)
					}
					continue
				}
				k := min(len(c.Data), skip[c.Dir])
				skip[c.Dir] -= k
				d.Passed[c.Dir] += k
				if k == len(c.Data) {
					continue
				}
				if err := dec.Feed(c.Dir, c.Data[k:], time.Time{}, emit); err != nil {
					if !errors.Is(err, protocols.SkipFlow) {
						d.Err, d.ErrDir = err, c.Dir
					}
					break
				}
				n := sk.Skip(c.Dir)
				if n < 0 || n > protocols.MaxSkip {
					tb.Fatalf("%s: Skip returned %d", spec.Name, n)
				}
				skip[c.Dir] += n
				d.Asked[c.Dir] += n
			}
			frame = 0
			dec.Close(time.Time{}, emit)
		}
		out = append(out, d)
	}
	return out
}
