package corpustest

import (
	"testing"

	"github.com/google/gopacket/layers"
)

// LLC returns the payloads of the IEEE 802.3 frames in path (a length, not
// an EtherType, after the addresses and any 802.1Q tags) as the sensor hands
// them to a decoder: starting at the LLC header, cut to the length field,
// with EtherType 0. Ethernet (which skips nothing for such frames) would
// return them with the length as EtherType.
func LLC(tb testing.TB, path string) []Frame {
	tb.Helper()
	var out []Frame
	for _, p := range ReadPackets(tb, path) {
		if p.Link != layers.LinkTypeEthernet || len(p.Data) < 14 {
			continue
		}
		b := p.Data[12:]
		et := uint16(b[0])<<8 | uint16(b[1])
		b = b[2:]
		for (et == 0x8100 || et == 0x88a8) && len(b) >= 4 {
			et = uint16(b[2])<<8 | uint16(b[3])
			b = b[4:]
		}
		if et >= 0x0600 {
			continue
		}
		if int(et) < len(b) {
			b = b[:et]
		}
		out = append(out, Frame{Frame: p.Frame, EtherType: 0, Payload: b})
	}
	return out
}
