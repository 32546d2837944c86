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
	if len(data) < 8 {
		df.SetTruncated()
		return errShortExt
	}
	n := int(data[1])*8 + 8
	e.fragment = false
	switch cur {
	case layers.IPProtocolIPv6Fragment:
		n = 8
		offset := binary.BigEndian.Uint16(data[2:4])
		e.fragment = offset&0xfff9 != 0 // offset or the M flag
	case layers.IPProtocolAH:
		n = (int(data[1]) + 2) * 4
	}
	if len(data) < n {
		df.SetTruncated()
		return errShortExt
	}
	e.NextHeader = layers.IPProtocol(data[0])
	e.BaseLayer = layers.BaseLayer{Contents: data[:n], Payload: data[n:]}
	return nil
}

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
	case 0x0021:
		return layers.LayerTypeIPv4
	case 0x0057:
		return layers.LayerTypeIPv6
	}
	return layers.LayerTypePPP
}
