package decode

import (
	"encoding/binary"
	"math/bits"

	"github.com/iomt-sensor/iomt-sensor/sensor/capture"
)

// FlowHash returns a hash of the flow a frame belongs to that is the same
// for both directions: of the IP addresses and, for TCP and UDP, the ports.
// It reads only headers, through VLAN tags and PPPoE, and allocates
// nothing, so a reader can spread packets over workers with it before they
// are decoded. Frames without IP (ARP, LLDP) and those it cannot read hash
// to 0; IP fragments after the first hash by their addresses alone.
func FlowHash(data []byte, link capture.LinkType) uint64 {
	switch link {
	case capture.LinkEthernet:
		return hashEthernet(data)
	case capture.LinkRaw, capture.LinkRawDLT12, capture.LinkRawDLT14, capture.LinkIPv4, capture.LinkIPv6:
		return hashIP(data)
	case capture.LinkNull, capture.LinkLoop:
		if len(data) < 4 {
			return 0
		}
		return hashIP(data[4:]) // the family tells no more than the version nibble
	case capture.LinkSLL:
		if len(data) < 16 {
			return 0
		}
		return hashEtherType(binary.BigEndian.Uint16(data[14:16]), data[16:])
	case capture.LinkSLL2:
		if len(data) < 20 {
			return 0
		}
		return hashEtherType(binary.BigEndian.Uint16(data[0:2]), data[20:])
	}
	return 0
}

func hashEthernet(data []byte) uint64 {
	if len(data) < 14 {
		return 0
	}
	return hashEtherType(binary.BigEndian.Uint16(data[12:14]), data[14:])
}

// hashEtherType hashes the payload of a frame of type et, skipping VLAN
// tags and a PPPoE session header.
func hashEtherType(et uint16, data []byte) uint64 {
	for range 4 { // stacked VLAN tags, as many as decode accepts and some
		switch et {
		case 0x8100, 0x88a8: // the tags decode reads
			if len(data) < 4 {
				return 0
			}
			et, data = binary.BigEndian.Uint16(data[2:4]), data[4:]
			continue
		case 0x8864: // PPPoE session: 6-byte header, then the PPP protocol
			if len(data) < 8 {
				return 0
			}
			switch binary.BigEndian.Uint16(data[6:8]) {
			case pppIPv4, pppIPv6:
				return hashIP(data[8:])
			}
			return 0
		case 0x0800, 0x86dd:
			return hashIP(data)
		}
		return 0
	}
	return 0
}

// hashIP hashes an IPv4 or IPv6 packet's addresses and, for TCP and UDP,
// its ports, following decode: IPv6 extension headers are skipped, a
// fragment hashes by its addresses, and IP in IP (6in4, 4in6 ...) hashes
// by the inner packet, whose addresses decode reports.
func hashIP(data []byte) uint64 {
	for range maxTunnels {
		h, inner := hashIPHeader(data)
		if inner == nil {
			return h
		}
		data = inner
	}
	return 0
}

// maxTunnels bounds IP in IP nesting.
const maxTunnels = 4

// hashIPHeader hashes one IP packet, or returns the packet it carries.
func hashIPHeader(data []byte) (h uint64, inner []byte) {
	if len(data) < 1 {
		return 0, nil
	}
	var a, b uint64 // the addresses, folded
	var proto byte
	var l4 []byte
	switch data[0] >> 4 {
	case 4:
		if len(data) < 20 {
			return 0, nil
		}
		ihl := int(data[0]&0x0f) * 4
		a = uint64(binary.BigEndian.Uint32(data[12:16]))
		b = uint64(binary.BigEndian.Uint32(data[16:20]))
		proto = data[9]
		fragment := binary.BigEndian.Uint16(data[6:8])&0x3fff != 0 // MF or an offset
		if ihl >= 20 && len(data) >= ihl && !fragment {
			l4 = data[ihl:]
		}
	case 6:
		if len(data) < 40 {
			return 0, nil
		}
		a = binary.BigEndian.Uint64(data[8:16]) ^ bits.RotateLeft64(binary.BigEndian.Uint64(data[16:24]), 17)
		b = binary.BigEndian.Uint64(data[24:32]) ^ bits.RotateLeft64(binary.BigEndian.Uint64(data[32:40]), 17)
		proto, l4 = data[6], data[40:]
	ext: // each header is at least 8 bytes: the walk ends
		for {
			switch proto {
			case 0, 43, 44, 51, 60: // as decode's ipv6Extension
			default:
				break ext
			}
			n, fragment, ok := ipv6ExtLen(proto, l4)
			if !ok || fragment {
				l4 = nil // no ports to read, as decode finds none
				break ext
			}
			proto, l4 = l4[0], l4[n:]
		}
	default:
		return 0, nil
	}
	if (proto == 4 || proto == 41) && len(l4) > 0 {
		return 0, l4
	}
	// Each address goes with its port: a sum is the same both ways.
	var pa, pb uint64
	if (proto == 6 || proto == 17) && len(l4) >= 4 {
		pa, pb = uint64(binary.BigEndian.Uint16(l4[0:2])), uint64(binary.BigEndian.Uint16(l4[2:4]))
	}
	return mix(a^pa<<48) + mix(b^pb<<48) + uint64(proto), nil
}

// mix is the finalizer of SplitMix64: every input bit affects every output
// bit.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}
