package corpustest

import (
	"net/netip"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/iomt-sensor/iomt-sensor/protocols"
	"github.com/iomt-sensor/iomt-sensor/sensor/reassembly"
)

// Chunk is one in-order piece of a TCP stream, as a decoder would be fed it:
// Data from direction Dir, or a gap of Gap bytes.
type Chunk struct {
	Frame int // the frame whose arrival delivered it
	Dir   protocols.Direction
	Data  []byte
	Gap   int
}

// Stream is one TCP connection of a capture, reassembled.
type Stream struct {
	Client, Server       netip.AddrPort
	ClientMAC, ServerMAC [6]byte
	Chunks               []Chunk
}

// Bytes returns the concatenated data of direction dir.
func (s *Stream) Bytes(dir protocols.Direction) []byte {
	var b []byte
	for _, c := range s.Chunks {
		if c.Dir == dir {
			b = append(b, c.Data...)
		}
	}
	return b
}

type collector struct {
	s     *Stream
	dir   protocols.Direction
	frame int
}

func (c *collector) Data(p []byte) {
	c.s.Chunks = append(c.s.Chunks, Chunk{Frame: c.frame, Dir: c.dir, Data: append([]byte(nil), p...)})
}
func (c *collector) Gap(n int) {
	c.s.Chunks = append(c.s.Chunks, Chunk{Frame: c.frame, Dir: c.dir, Gap: n})
}

// TCPStreams returns the TCP connections of path with a port in ports (all
// when empty), reassembled per direction with the sensor's own reassembler,
// in the order their first segment appears. The client is the SYN's sender,
// or the sender of the first segment seen.
func TCPStreams(tb testing.TB, path string, ports ...uint16) []*Stream {
	tb.Helper()
	type key struct{ a, b netip.AddrPort }
	type conn struct {
		s       *Stream
		streams [2]reassembly.Stream
	}
	pool := reassembly.NewPool(reassembly.Config{MaxBufferedPerStream: 1 << 22, MaxPendingSegments: 4096, MaxPoolBytes: 1 << 28})
	conns := map[key]*conn{}
	var order []*conn
	for _, p := range ReadPackets(tb, path) {
		pkt := gopacket.NewPacket(p.Data, p.Link, gopacket.Default)
		tcp, ok := pkt.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if !ok {
			continue
		}
		if len(ports) > 0 && !contains(ports, uint16(tcp.SrcPort)) && !contains(ports, uint16(tcp.DstPort)) {
			continue
		}
		var src, dst netip.Addr
		switch ip := pkt.NetworkLayer().(type) {
		case *layers.IPv4:
			src, _ = netip.AddrFromSlice(ip.SrcIP.To4())
			dst, _ = netip.AddrFromSlice(ip.DstIP.To4())
		case *layers.IPv6:
			src, _ = netip.AddrFromSlice(ip.SrcIP)
			dst, _ = netip.AddrFromSlice(ip.DstIP)
		default:
			continue
		}
		from := netip.AddrPortFrom(src, uint16(tcp.SrcPort))
		to := netip.AddrPortFrom(dst, uint16(tcp.DstPort))
		c := conns[key{from, to}]
		dir := protocols.FromClient
		if c == nil {
			if c = conns[key{to, from}]; c != nil {
				dir = protocols.FromServer
			}
		}
		if c == nil {
			s := &Stream{Client: from, Server: to}
			if tcp.SYN && tcp.ACK { // we missed the SYN: the sender is the server
				s.Client, s.Server = to, from
				dir = protocols.FromServer
			}
			c = &conn{s: s}
			conns[key{s.Client, s.Server}] = c
			order = append(order, c)
		}
		if eth, ok := pkt.LinkLayer().(*layers.Ethernet); ok {
			if dir == protocols.FromClient {
				copy(c.s.ClientMAC[:], eth.SrcMAC)
				copy(c.s.ServerMAC[:], eth.DstMAC)
			} else {
				copy(c.s.ServerMAC[:], eth.SrcMAC)
				copy(c.s.ClientMAC[:], eth.DstMAC)
			}
		}
		h := &collector{s: c.s, dir: dir, frame: p.Frame}
		c.streams[dir].Add(tcp.Seq, tcp.SYN, tcp.FIN, tcp.Payload, h, pool)
	}
	out := make([]*Stream, 0, len(order))
	for _, c := range order {
		for d := range c.streams {
			c.streams[d].Flush(&collector{s: c.s, dir: protocols.Direction(d)}, pool)
		}
		out = append(out, c.s)
	}
	return out
}
