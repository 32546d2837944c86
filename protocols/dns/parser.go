package dns

import (
	"encoding/binary"
	"net/netip"
	"strings"
	"unicode/utf8"

	"github.com/iomt-sensor/iomt-sensor/protocols"
)

// Limits of the wire format (RFC 1035 §2.3.4, §4.1.4) and the parser's caps.
const (
	// HeaderLen is the fixed message header.
	HeaderLen = 12
	// MaxName is the longest name in wire form, and so the largest buffer a
	// name in presentation form needs.
	MaxName = 255
	// MaxLabel is the longest label.
	MaxLabel = 63
	// MaxRecords caps how many questions and records Next returns for one
	// message; the rest are ignored.
	MaxRecords = 64
	// maxPointers caps the compression pointers followed for one name, so a
	// pointer loop ends.
	maxPointers = 32
)

// Record types and classes the decoders read (RFC 1035 §3.2.2, RFC 3596,
// RFC 2782).
const (
	TypeA    = 1
	TypePTR  = 12
	TypeTXT  = 16
	TypeAAAA = 28
	TypeSRV  = 33
	ClassIN  = 1
)

// Section says where in a message a record sits.
type Section uint8

// Sections of a message, in wire order.
const (
	Question Section = iota
	Answer
	Authority
	Additional
)

// Header is the fixed message header (RFC 1035 §4.1.1).
type Header struct {
	ID, Flags                                    uint16
	Questions, Answers, Authorities, Additionals uint16
}

// Response reports whether the QR bit is set.
func (h Header) Response() bool { return h.Flags&0x8000 != 0 }

// Opcode returns the 4-bit opcode (0 is a standard query).
func (h Header) Opcode() int { return int(h.Flags>>11) & 0xf }

// RCode returns the 4-bit response code (0 is no error).
func (h Header) RCode() int { return int(h.Flags & 0xf) }

// ParseHeader reads the header of msg.
func ParseHeader(msg []byte) (Header, bool) {
	if len(msg) < HeaderLen {
		return Header{}, false
	}
	u := func(i int) uint16 { return binary.BigEndian.Uint16(msg[i:]) }
	return Header{ID: u(0), Flags: u(2), Questions: u(4), Answers: u(6), Authorities: u(8), Additionals: u(10)}, true
}

// Plausible reports whether h's counts could fit a message of n bytes: a
// question takes at least 5 bytes, a record at least 11.
func (h Header) Plausible(n int) bool {
	min := HeaderLen + 5*int(h.Questions) + 11*(int(h.Answers)+int(h.Authorities)+int(h.Additionals))
	return min <= n
}

// Record is one question or resource record. Name is in presentation form
// (labels joined with '.', no trailing dot, "" for the root) and points into
// the Parser: it is valid until the next call to Next.
type Record struct {
	Section Section
	Name    []byte
	Type    uint16
	// Class has the mDNS cache-flush / unicast-response bit (0x8000) cleared;
	// CacheFlush holds it.
	Class      uint16
	CacheFlush bool
	TTL        uint32
	// Data is the RDATA (nil for a question); DataOff is its offset in the
	// message, for names inside it (PTR, SRV targets), read with Parser.Name.
	Data    []byte
	DataOff int
}

// Parser walks the questions and records of one message without
// allocating. The zero value is ready for Reset.
type Parser struct {
	msg    []byte
	hdr    Header
	off    int
	n      int
	counts [4]int
	sec    Section
	name   [MaxName]byte
}

// Reset starts parsing msg. It fails, wrapping protocols.ErrMalformed, when
// msg has no header.
func (p *Parser) Reset(msg []byte) (Header, error) {
	h, ok := ParseHeader(msg)
	if !ok {
		return Header{}, protocols.Malformedf("dns: %d-byte message, shorter than the header", len(msg))
	}
	// Field by field: the name buffer needs no clearing.
	p.msg, p.hdr, p.off, p.n, p.sec = msg, h, HeaderLen, 0, Question
	p.counts = [4]int{int(h.Questions), int(h.Answers), int(h.Authorities), int(h.Additionals)}
	return h, nil
}

// Next returns the next question or record. It returns false at the end
// of the message or after MaxRecords entries, and an error wrapping
// protocols.ErrMalformed when the bytes run out or a name is invalid.
func (p *Parser) Next() (Record, bool, error) {
	for p.sec < 4 && p.counts[p.sec] == 0 {
		p.sec++
	}
	if p.sec == 4 || p.n >= MaxRecords {
		return Record{}, false, nil
	}
	p.counts[p.sec]--
	p.n++
	name, off, err := p.Name(p.off, &p.name)
	if err != nil {
		return Record{}, false, err
	}
	r := Record{Section: p.sec, Name: name}
	fixed := 4
	if p.sec != Question {
		fixed = 10
	}
	if off+fixed > len(p.msg) {
		return Record{}, false, protocols.Malformedf("dns: record %d at offset %d: %d bytes left, need %d", p.n, p.off, len(p.msg)-off, fixed)
	}
	b := p.msg[off:]
	r.Type = binary.BigEndian.Uint16(b)
	class := binary.BigEndian.Uint16(b[2:])
	r.Class, r.CacheFlush = class&0x7fff, class&0x8000 != 0
	off += fixed
	if p.sec != Question {
		r.TTL = binary.BigEndian.Uint32(b[4:])
		n := int(binary.BigEndian.Uint16(b[8:]))
		if off+n > len(p.msg) {
			return Record{}, false, protocols.Malformedf("dns: record %d: RDATA length %d runs past the end", p.n, n)
		}
		r.Data, r.DataOff = p.msg[off:off+n:off+n], off
		off += n
	}
	p.off = off
	return r, true, nil
}

// Name reads the possibly compressed name at offset off of the message into
// dst, in presentation form, and returns it with the offset just past the
// name's bytes at off. Labels longer than MaxLabel, names longer than
// MaxName, more than 32 pointers (a loop) and names running past the end
// wrap protocols.ErrMalformed.
func (p *Parser) Name(off int, dst *[MaxName]byte) ([]byte, int, error) {
	msg := p.msg
	n, next, hops, wire := 0, -1, 0, 0
	for {
		if off >= len(msg) {
			return nil, 0, protocols.Malformedf("dns: name runs past the end")
		}
		l := int(msg[off])
		switch {
		case l == 0:
			if next < 0 {
				next = off + 1
			}
			return dst[:n], next, nil
		case l&0xc0 == 0xc0:
			if off+1 >= len(msg) {
				return nil, 0, protocols.Malformedf("dns: compression pointer runs past the end")
			}
			if hops++; hops > maxPointers {
				return nil, 0, protocols.Malformedf("dns: more than %d compression pointers (loop)", maxPointers)
			}
			if next < 0 {
				next = off + 2
			}
			off = int(binary.BigEndian.Uint16(msg[off:]) & 0x3fff)
			continue
		case l > MaxLabel:
			return nil, 0, protocols.Malformedf("dns: label length %#x", l)
		}
		wire += l + 1
		if wire+1 > MaxName {
			return nil, 0, protocols.Malformedf("dns: name longer than %d bytes", MaxName)
		}
		if off+1+l > len(msg) {
			return nil, 0, protocols.Malformedf("dns: label runs past the end")
		}
		if n > 0 {
			dst[n] = '.'
			n++
		}
		n += copy(dst[n:], msg[off+1:off+1+l])
		off += 1 + l
	}
}

// Addr returns the address of an A or AAAA record of class IN.
func (r *Record) Addr() (netip.Addr, bool) {
	if r.Class != ClassIN {
		return netip.Addr{}, false
	}
	switch {
	case r.Type == TypeA && len(r.Data) == 4:
		return netip.AddrFrom4([4]byte(r.Data)), true
	case r.Type == TypeAAAA && len(r.Data) == 16:
		return netip.AddrFrom16([16]byte(r.Data)), true
	}
	return netip.Addr{}, false
}

// ReverseAddr returns the address a reverse-lookup name stands for:
// "4.3.2.1.in-addr.arpa" is 1.2.3.4 (RFC 1035 §3.5) and 32 nibbles under
// "ip6.arpa" an IPv6 address (RFC 3596 §2.5). Anything else, including
// partial (classless) names, gives false. Case is ignored.
func ReverseAddr(name []byte) (netip.Addr, bool) {
	s := string(name) // no allocation: used only for comparisons below
	switch {
	case hasSuffixFold(s, ".in-addr.arpa"):
		s = s[:len(s)-len(".in-addr.arpa")]
		var a [4]byte
		for i := 3; i >= 0; i-- {
			part := s
			if i > 0 {
				j := strings.IndexByte(s, '.')
				if j < 0 {
					return netip.Addr{}, false
				}
				part, s = s[:j], s[j+1:]
			}
			v, ok := octet(part)
			if !ok {
				return netip.Addr{}, false
			}
			a[i] = v
		}
		return netip.AddrFrom4(a), true
	case hasSuffixFold(s, ".ip6.arpa"):
		s = s[:len(s)-len(".ip6.arpa")]
		if len(s) != 63 {
			return netip.Addr{}, false
		}
		var a [16]byte
		for i := 0; i < 32; i++ {
			if i < 31 && s[2*i+1] != '.' {
				return netip.Addr{}, false
			}
			v, ok := nibble(s[2*i])
			if !ok {
				return netip.Addr{}, false
			}
			// Nibble i is the i-th least significant of the address.
			k := 31 - i
			if k%2 == 0 {
				a[k/2] |= v << 4
			} else {
				a[k/2] |= v
			}
		}
		return netip.AddrFrom16(a), true
	}
	return netip.Addr{}, false
}

func hasSuffixFold(s, suffix string) bool {
	return len(s) > len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix)
}

func octet(s string) (byte, bool) {
	if len(s) == 0 || len(s) > 3 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	v := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		v = v*10 + int(s[i]-'0')
	}
	return byte(v), v <= 255
}

func nibble(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// Text turns wire bytes (a name or a TXT value) into a string safe to
// report: control bytes (below 0x20, and 0x7f) are dropped, invalid UTF-8 is
// removed, and the result is trimmed and capped at MaxName bytes without
// splitting a character.
func Text(b []byte) string {
	var buf [MaxName]byte
	return string(appendText(buf[:0], b))
}

// appendText appends Text(b) to dst.
func appendText(dst, b []byte) []byte {
	// Most names are printable ASCII without spaces, kept as they are.
	i := 0
	for i < len(b) && b[i] > ' ' && b[i] < 0x7f {
		i++
	}
	if i == len(b) && len(b) <= MaxName {
		return append(dst, b...)
	}
	start := len(dst)
	for _, c := range b {
		if c < 0x20 || c == 0x7f || (c == ' ' && len(dst) == start) {
			continue
		}
		if len(dst)-start == MaxName {
			break
		}
		dst = append(dst, c)
	}
	for len(dst) > start && dst[len(dst)-1] == ' ' {
		dst = dst[:len(dst)-1]
	}
	if out := dst[start:]; !utf8.Valid(out) {
		dst = append(dst[:start], strings.ToValidUTF8(string(out), "")...)
	}
	return dst
}
