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
	var out []Decoded
	for _, s := range TCPStreams(tb, path, ports...) {
		d := Decoded{Stream: s}
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
			var frame int
			var dir protocols.Direction
			emit := func(o protocols.Observation) {
				from := s.Client
				if dir == protocols.FromServer {
					from = s.Server
				}
				d.Emitted = append(d.Emitted, Emitted{Frame: frame, Dir: dir, From: from, Obs: o})
			}
			for _, c := range s.Chunks {
				frame, dir = c.Frame, c.Dir
				if c.Gap > 0 {
					dec.Gap(c.Dir, c.Gap, time.Time{}, emit)
					continue
				}
				if err := dec.Feed(c.Dir, c.Data, time.Time{}, emit); err != nil {
					if !errors.Is(err, protocols.SkipFlow) { // the sensor stops there too
						d.Err, d.ErrDir = err, c.Dir
					}
					break
				}
			}
			frame = 0
			dec.Close(time.Time{}, emit)
		}
		out = append(out, d)
	}
	return out
}
