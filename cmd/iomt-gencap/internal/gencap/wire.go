package gencap

import "encoding/binary"

// Header sizes of the frames the generator writes.
const (
	ethLen    = 14
	ipv4Len   = 20
	udpLen    = 8
	tcpLenOpt = 32 // TCP header with NOP, NOP, timestamps
	tcpLenSyn = 40 // TCP header with MSS, SACK-permitted, timestamps, NOP, window scale
	tcpLenRst = 20 // bare TCP header
	mss       = 1448
	recLen    = 16 // pcap record header
	maxFrame  = ethLen + ipv4Len + tcpLenSyn + 1500
)

// TCP flag bits.
const (
	flagFIN = 0x01
	flagSYN = 0x02
	flagRST = 0x04
	flagPSH = 0x08
	flagACK = 0x10
)

type macAddr [6]byte

type ip4 [4]byte

var broadcastMAC = macAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// csumAdd adds b to the running one's-complement sum s. b must start at an
// even offset of the checksummed area.
func csumAdd(s uint64, b []byte) uint64 {
	for len(b) >= 8 {
		v := binary.BigEndian.Uint64(b)
		s += v>>32 + v&0xffffffff
		b = b[8:]
	}
	for len(b) >= 2 {
		s += uint64(b[0])<<8 | uint64(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint64(b[0]) << 8
	}
	return s
}

// csumFold folds a running sum into the final 16-bit checksum.
func csumFold(s uint64) uint16 {
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

// putEth writes an Ethernet II header with EtherType typ.
func putEth(b []byte, dst, src macAddr, typ uint16) {
	copy(b[0:6], dst[:])
	copy(b[6:12], src[:])
	binary.BigEndian.PutUint16(b[12:14], typ)
}

// putIPv4 writes an IPv4 header (no options) for a datagram of l4len bytes
// and computes its header checksum.
func putIPv4(b []byte, src, dst ip4, proto byte, l4len int, id uint16, ttl byte, df bool) {
	b[0] = 0x45
	b[1] = 0
	binary.BigEndian.PutUint16(b[2:4], uint16(ipv4Len+l4len))
	binary.BigEndian.PutUint16(b[4:6], id)
	if df {
		b[6], b[7] = 0x40, 0
	} else {
		b[6], b[7] = 0, 0
	}
	b[8] = ttl
	b[9] = proto
	b[10], b[11] = 0, 0
	copy(b[12:16], src[:])
	copy(b[16:20], dst[:])
	binary.BigEndian.PutUint16(b[10:12], csumFold(csumAdd(0, b[:ipv4Len])))
}

// pseudoSum is the checksum contribution of the IPv4 pseudo-header.
func pseudoSum(src, dst ip4, proto byte, l4len int) uint64 {
	return uint64(src[0])<<8 | uint64(src[1]) +
		(uint64(src[2])<<8 | uint64(src[3])) +
		(uint64(dst[0])<<8 | uint64(dst[1])) +
		(uint64(dst[2])<<8 | uint64(dst[3])) +
		uint64(proto) + uint64(l4len)
}

// putUDP writes a UDP header in front of an already written payload of n
// bytes (b covers header and payload) and computes its checksum.
func putUDP(b []byte, src, dst ip4, sport, dport uint16) {
	binary.BigEndian.PutUint16(b[0:2], sport)
	binary.BigEndian.PutUint16(b[2:4], dport)
	binary.BigEndian.PutUint16(b[4:6], uint16(len(b)))
	b[6], b[7] = 0, 0
	c := csumFold(csumAdd(pseudoSum(src, dst, 17, len(b)), b))
	if c == 0 {
		c = 0xffff
	}
	binary.BigEndian.PutUint16(b[6:8], c)
}

// tcpHdr describes one TCP segment header.
type tcpHdr struct {
	sport, dport uint16
	seq, ack     uint32
	flags        byte
	win          uint16
	tsval, tsecr uint32
	hlen         int // tcpLenOpt, tcpLenSyn or tcpLenRst
	wscale       byte
}

// putTCP writes the TCP header described by h at the start of b, where b
// covers header and payload, and computes the checksum.
func putTCP(b []byte, src, dst ip4, h *tcpHdr) {
	binary.BigEndian.PutUint16(b[0:2], h.sport)
	binary.BigEndian.PutUint16(b[2:4], h.dport)
	binary.BigEndian.PutUint32(b[4:8], h.seq)
	binary.BigEndian.PutUint32(b[8:12], h.ack)
	b[12] = byte(h.hlen/4) << 4
	b[13] = h.flags
	binary.BigEndian.PutUint16(b[14:16], h.win)
	b[16], b[17], b[18], b[19] = 0, 0, 0, 0
	switch h.hlen {
	case tcpLenSyn:
		o := b[20:40]
		o[0], o[1], o[2], o[3] = 2, 4, 0x05, 0xb4 // MSS 1460
		o[4], o[5] = 4, 2                         // SACK permitted
		o[6], o[7] = 8, 10
		binary.BigEndian.PutUint32(o[8:12], h.tsval)
		binary.BigEndian.PutUint32(o[12:16], h.tsecr)
		o[16] = 1
		o[17], o[18], o[19] = 3, 3, h.wscale
	case tcpLenOpt:
		o := b[20:32]
		o[0], o[1], o[2], o[3] = 1, 1, 8, 10
		binary.BigEndian.PutUint32(o[4:8], h.tsval)
		binary.BigEndian.PutUint32(o[8:12], h.tsecr)
	}
	binary.BigEndian.PutUint16(b[16:18], csumFold(csumAdd(pseudoSum(src, dst, 6, len(b)), b)))
}
