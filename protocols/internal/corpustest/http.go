package corpustest

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/iomt-sensor/iomt-sensor/protocols"
)

// Emitted is one observation a decoder made of a TCP stream: the frame whose
// data produced it, the direction and address of the bytes' sender.
type Emitted struct {
	Frame int
	Dir   protocols.Direction
	From  netip.AddrPort
	Obs   protocols.Observation
}

// Decoded is one TCP connection offered to a decoder.
type Decoded struct {
	Stream *Stream
	// Detected says whether spec.Detect accepted the first data of either
	// direction.
	Detected bool
	// Err is the Feed error that detached the decoder, nil for none.
	Err     error
	ErrDir  protocols.Direction
	Emitted []Emitted
}

// DecodeStreams runs spec over the TCP connections of path with a port in
// ports (all when empty) as the sensor does: the first data of each
// direction is offered to Detect; on a match the decoder gets every chunk of
// the connection (both directions, from their start: the corpus captures hold
// the handshakes) until a Feed error detaches it, then Close. It is the
// helper of the http, tls, telnet and ftp decoder tests.
func DecodeStreams(tb testing.TB, spec protocols.Spec, path string, ports ...uint16) []Decoded {
	tb.Helper()
	ss := decodeStreams(tb, spec, path, false, ports)
	out := make([]Decoded, len(ss))
	for i := range ss {
		out[i] = ss[i].Decoded
	}
	return out
}

// decodeStreams is DecodeStreams, and DecodeStreamsSkipping when skipping.
func decodeStreams(tb testing.TB, spec protocols.Spec, path string, skipping bool, ports []uint16) []Skipping {
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
			if skipping && !ok {
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
			var skip [2]int // bytes still to pass over, per direction
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
				if k > 0 && k == len(c.Data) {
					continue
				}
				if err := dec.Feed(c.Dir, c.Data[k:], time.Time{}, emit); err != nil {
					if !errors.Is(err, protocols.SkipFlow) { // the sensor stops there too
						d.Err, d.ErrDir = err, c.Dir
					}
					break
				}
				if skipping {
					n := sk.Skip(c.Dir)
					if n < 0 || n > protocols.MaxSkip {
						tb.Fatalf("%s: Skip returned %d", spec.Name, n)
					}
					skip[c.Dir] += n
					d.Asked[c.Dir] += n
				}
			}
			frame = 0
			dec.Close(time.Time{}, emit)
		}
		out = append(out, d)
	}
	return out
}
