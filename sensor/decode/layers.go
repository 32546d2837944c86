package decode

import (
	"encoding/binary"
	"errors"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// ipv6Extension skips IPv6 extension headers (hop-by-hop, routing,
// destination options, authentication) and stops at a fragment header, so
// that a fragment is counted rather than misread as a transport header.
type ipv6Extension struct {
	layers.BaseLayer
	ip6        *layers.IPv6
	NextHeader layers.IPProtocol
	fragment   bool
}

var errShortExt = errors.New("IPv6 extension header too short")

func (e *ipv6Extension) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	// Which header is this? The first extension follows the fixed header;
	// later ones follow the previous extension.
	cur := e.NextHeader
	if e.ip6 != nil && len(e.ip6.Payload) > 0 && len(data) > 0 && &data[0] == &e.ip6.Payload[0] {
		cur = e.ip6.NextHeader
	}
	n, fragment, ok := ipv6ExtLen(byte(cur), data)
	if !ok {
		df.SetTruncated()
		return errShortExt
	}
	e.fragment = fragment
	e.NextHeader = layers.IPProtocol(data[0])
	e.BaseLayer = layers.BaseLayer{Contents: data[:n], Payload: data[n:]}
	return nil
}

// ipv6ExtLen returns the length of the IPv6 extension header of type typ
// (hop-by-hop, routing, destination options, fragment or authentication)
// at the start of data, and whether it is the fragment header of a
// fragment (an offset, or more to come); ok is false when data is short.
// FlowHash walks the headers with it too, so that it finds the ports
// decode does.
func ipv6ExtLen(typ byte, data []byte) (n int, fragment, ok bool) {
	if len(data) < 8 {
		return 0, false, false
	}
	n = int(data[1])*8 + 8
	switch layers.IPProtocol(typ) {
	case layers.IPProtocolIPv6Fragment:
		n = 8
		fragment = binary.BigEndian.Uint16(data[2:4])&0xfff9 != 0
	case layers.IPProtocolAH:
		n = (int(data[1]) + 2) * 4
	}
	return n, fragment, len(data) >= n
}

// PPP protocol numbers of IPv4 and IPv6 (RFC 1332, RFC 5072).
const (
	pppIPv4 = 0x0021
	pppIPv6 = 0x0057
)

func (e *ipv6Extension) CanDecode() gopacket.LayerClass { return layers.LayerClassIPv6Extension }

func (e *ipv6Extension) NextLayerType() gopacket.LayerType {
	if e.fragment {
		return gopacket.LayerTypeFragment
	}
	return e.NextHeader.LayerType()
}

// pppoeSession decodes a PPPoE session header and the PPP protocol field
// that follows it (RFC 2516), as seen on DSL uplinks mirrored to a sensor.
type pppoeSession struct {
	layers.BaseLayer
	pppProtocol uint16
}

var errShortPPPoE = errors.New("PPPoE session header too short")

func (s *pppoeSession) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 8 {
		df.SetTruncated()
		return errShortPPPoE
	}
	length := int(binary.BigEndian.Uint16(data[4:6]))
	end := 6 + length
	if length < 2 || end > len(data) {
		end = len(data)
	}
	s.pppProtocol = binary.BigEndian.Uint16(data[6:8])
	s.BaseLayer = layers.BaseLayer{Contents: data[:8], Payload: data[8:end]}
	return nil
}

func (s *pppoeSession) CanDecode() gopacket.LayerClass { return layers.LayerTypePPPoE }

func (s *pppoeSession) NextLayerType() gopacket.LayerType {
	switch s.pppProtocol {
	case pppIPv4:
		return layers.LayerTypeIPv4
	case pppIPv6:
		return layers.LayerTypeIPv6
	}
	return layers.LayerTypePPP
}
