package hl7

import (
	"bytes"
	"encoding/binary"
	"math/bits"

	"github.com/iomt-sensor/iomt-sensor/protocols"
)

// noDelim marks an encoding character the message does not define.
const noDelim = -1

// encoding holds a message's delimiters, from MSH-1 and MSH-2 (HL7 v2.5
// §2.5.4): field, component, repetition, escape and subcomponent.
type encoding struct {
	field               byte
	comp, rep, esc, sub int
	// special has a bit set for every byte render does not copy as it is:
	// the component, subcomponent, repetition and escape characters and
	// the bytes outside 0x20-0x7e.
	special [4]uint64
}

// setSpecial fills e.special from the encoding characters.
func (e *encoding) setSpecial() {
	e.special = [4]uint64{1<<0x20 - 1, 1 << (0x7f - 64), ^uint64(0), ^uint64(0)}
	for _, c := range [...]int{e.comp, e.rep, e.esc, e.sub} {
		if c != noDelim {
			e.special[c>>6] |= 1 << (c & 63)
		}
	}
}

// isSpecial reports whether render treats c other than as a plain
// character.
func (e *encoding) isSpecial(c byte) bool {
	return e.special[c>>6]&(1<<(c&63)) != 0
}

// rawDevice is a device identifier field as found in a segment.
type rawDevice struct {
	v    []byte
	kind uint8 // kindDeviceID, kindDeviceUDI or kindDeviceSerial
	comp uint8 // components rendered; 0 for all
}

// message is what the decoder reads of one message. The byte slices point
// into the block being decoded and are used before it is released.
type message struct {
	ok        bool
	enc       encoding
	sendApp   []byte
	sendFac   []byte
	recvApp   []byte
	recvFac   []byte
	typ       []byte // MSH-9
	controlID []byte // MSH-10
	version   []byte // MSH-12
	hasMSA    bool
	ackCode   []byte // MSA-1
	ackID     []byte // MSA-2
	// OBX-3 fields and device identifiers, at most maxPerMessage of each:
	// the first ones in the message itself, the rest in over. (Slices into
	// room of the message would make it escape to the heap.)
	ncodes, ndevices int
	codes            [4][]byte
	devices          [2]rawDevice
	over             *overflow
}

// overflow holds the codes and devices of a message beyond its own room.
type overflow struct {
	codes   [][]byte
	devices []rawDevice
}

// reset empties o, keeping no reference into the block.
func (o *overflow) reset() {
	clear(o.codes)
	clear(o.devices)
	o.codes, o.devices = o.codes[:0], o.devices[:0]
}

// addCode records OBX-3 field v.
func (m *message) addCode(v []byte) {
	if m.ncodes < len(m.codes) {
		m.codes[m.ncodes] = v
	} else {
		if m.over == nil {
			m.over = new(overflow)
		}
		m.over.codes = append(m.over.codes, v)
	}
	m.ncodes++
}

// code returns code i.
func (m *message) code(i int) []byte {
	if i < len(m.codes) {
		return m.codes[i]
	}
	return m.over.codes[i-len(m.codes)]
}

// addDevice records device identifier dv.
func (m *message) addDevice(dv rawDevice) {
	if m.ndevices < len(m.devices) {
		m.devices[m.ndevices] = dv
	} else {
		if m.over == nil {
			m.over = new(overflow)
		}
		m.over.devices = append(m.over.devices, dv)
	}
	m.ndevices++
}

// device returns device i.
func (m *message) device(i int) *rawDevice {
	if i < len(m.devices) {
		return &m.devices[i]
	}
	return &m.over.devices[i-len(m.devices)]
}

// shortField is how many bytes of a field cutField looks at a word at a
// time before handing the rest to bytes.IndexByte.
const shortField = 32

// Word-at-a-time byte search: a byte of x is zero exactly when its bit 7 is
// set in zeroBytes(x). Adding 0x7f to the low seven bits of a byte sets bit
// 7 unless they are all clear, and never carries into the next byte.
const (
	ones = 0x0101010101010101
	low7 = 0x7f7f7f7f7f7f7f7f
)

func zeroBytes(x uint64) uint64 { return ^((x&low7 + low7) | x | low7) }

// cutField splits the next field off the fields b of a segment, separated
// by sep: it returns the field, the fields after it, and last when it is
// the last field. Returning values rather than updating an iterator through
// a pointer keeps the loops of its callers free of GC write barriers.
func cutField(b []byte, sep byte) (v, rest []byte, last bool) {
	// Most fields are short or empty: looking at their first bytes eight at
	// a time costs less than a call to bytes.IndexByte.
	i, pat := 0, uint64(sep)*ones
	for ; i+8 <= len(b) && i < shortField; i += 8 {
		if z := zeroBytes(binary.LittleEndian.Uint64(b[i:i+8]) ^ pat); z != 0 {
			i += bits.TrailingZeros64(z) >> 3
			return b[:i], b[i+1:], false
		}
	}
	if i < shortField {
		for ; i < len(b); i++ {
			if b[i] == sep {
				return b[:i], b[i+1:], false
			}
		}
		return b, nil, true
	}
	if j := bytes.IndexByte(b[i:], sep); j >= 0 {
		return b[:i+j], b[i+j+1:], false
	}
	return b, nil, true
}

// fieldEnds sets ends[k] to the offset in b of the separator sep that ends
// field k of the fields b, or to len(b) when b has no such separator. One
// pass over the bytes, eight at a time, costs less than a cutField call
// per field.
func fieldEnds(b []byte, sep byte, ends []int) {
	n, i, pat := 0, 0, uint64(sep)*ones
	for ; i+8 <= len(b); i += 8 {
		z := zeroBytes(binary.LittleEndian.Uint64(b[i:i+8]) ^ pat)
		for ; z != 0; z &= z - 1 {
			if n == len(ends) {
				return
			}
			ends[n] = i + bits.TrailingZeros64(z)>>3
			n++
		}
	}
	for ; i < len(b) && n < len(ends); i++ {
		if b[i] == sep {
			ends[n] = i
			n++
		}
	}
	for ; n < len(ends); n++ {
		ends[n] = len(b)
	}
}

// field returns field k of the fields b, given the ends of its fields
// from fieldEnds: empty when b lacks it.
func field(b []byte, ends []int, k int) []byte {
	start := 0
	if k > 0 {
		start = min(ends[k-1]+1, len(b))
	}
	return b[start:ends[k]]
}

// parse reads the message that starts at b (with "MSH") and returns how many
// bytes it spans: up to the next MSH segment (a batch) or the end of b.
// m.ok reports whether the MSH segment was valid.
func (m *message) parse(b []byte) int {
	m.reset()
	crs, lfs := finder{b: b, c: '\r', next: unknown}, finder{b: b, c: '\n', next: unknown}
	for pos := 0; pos < len(b); {
		end := earliest(crs.at(pos), lfs.at(pos))
		if end < 0 {
			end = len(b)
		}
		seg := b[pos:end]
		if pos > 0 && len(seg) >= 3 && seg[0] == 'M' && seg[1] == 'S' && seg[2] == 'H' {
			return pos
		}
		if pos == 0 {
			m.ok = m.header(seg)
		} else if m.ok {
			m.segment(seg)
		}
		pos = end + 1
	}
	return len(b)
}

// reset clears m, keeping no reference into earlier blocks.
func (m *message) reset() {
	m.codes, m.devices, m.ncodes, m.ndevices = [4][]byte{}, [2]rawDevice{}, 0, 0
	if m.over != nil {
		m.over.reset()
	}
	m.ok, m.hasMSA = false, false
	m.sendApp, m.sendFac, m.recvApp, m.recvFac = nil, nil, nil, nil
	m.typ, m.controlID, m.version, m.ackCode, m.ackID = nil, nil, nil, nil, nil
}

// standard is the encoding of nearly every message, MSH-1 and MSH-2 being
// "|^~\&": header copies it rather than checking and building it again.
var standard = func() encoding {
	e := encoding{field: '|', comp: '^', rep: '~', esc: '\\', sub: '&'}
	e.setSpecial()
	return e
}()

// header reads the MSH segment: the delimiters from MSH-1 and MSH-2, then
// MSH-3 to MSH-6, MSH-9, MSH-10 and MSH-12. It reports whether the
// delimiters are valid.
func (m *message) header(seg []byte) bool {
	var rest []byte
	if len(seg) >= 9 && string(seg[3:9]) == "|^~\\&|" {
		m.enc, rest = standard, seg[9:]
	} else {
		var ok bool
		if rest, ok = m.delimiters(seg); !ok {
			return false
		}
	}
	sep := m.enc.field
	// MSH-3 to MSH-6, MSH-9, MSH-10 and MSH-12; fields a message lacks
	// are left empty.
	var ends [10]int // of MSH-3 to MSH-12
	fieldEnds(rest, sep, ends[:])
	m.sendApp = field(rest, ends[:], 0)
	m.sendFac = field(rest, ends[:], 1)
	m.recvApp = field(rest, ends[:], 2)
	m.recvFac = field(rest, ends[:], 3)
	m.typ = field(rest, ends[:], 6)
	m.controlID = field(rest, ends[:], 7)
	m.version = field(rest, ends[:], 9)
	return true
}

// delimiters reads MSH-1 and MSH-2 of the MSH segment seg into m.enc and
// returns the fields after them. It reports whether the delimiters are
// valid: printable non-alphanumeric characters, all distinct.
func (m *message) delimiters(seg []byte) (rest []byte, ok bool) {
	if len(seg) < 4 || !isDelimiter(seg[3]) {
		return nil, false
	}
	m.enc = encoding{field: seg[3], comp: noDelim, rep: noDelim, esc: noDelim, sub: noDelim}
	sep := seg[3]
	enc, rest, _ := cutField(seg[4:], sep) // MSH-2
	if len(enc) == 0 || len(enc) > 5 {
		return nil, false
	}
	for i, c := range enc {
		if !isDelimiter(c) || c == sep {
			return nil, false
		}
		for _, e := range enc[:i] {
			if e == c {
				return nil, false
			}
		}
	}
	slots := [...]*int{&m.enc.comp, &m.enc.rep, &m.enc.esc, &m.enc.sub}
	for i := 0; i < len(enc) && i < len(slots); i++ {
		*slots[i] = int(enc[i])
	}
	m.enc.setSpecial()
	return rest, true
}

// segment reads the fields the decoder uses of MSA, OBX and PRT segments.
// Every other segment is skipped unread: this is where PID, NK1, PV1, NTE
// and the rest are dropped.
func (m *message) segment(seg []byte) {
	if len(seg) < 4 || seg[3] != m.enc.field {
		return
	}
	sep, rest := m.enc.field, seg[4:]
	switch string(seg[:3]) {
	case "MSA":
		m.hasMSA = true
		var last bool
		m.ackCode, rest, last = cutField(rest, sep)
		if !last {
			m.ackID, _, _ = cutField(rest, sep)
		}
	case "OBX":
		// OBX-3 observation identifier and OBX-18 equipment instance
		// identifier (IHE PCD TF-2 §B.8). OBX-5, the value, is stepped over.
		v, rest, ok := nextField(rest, sep, 2)
		if ok && len(v) > 0 && m.ncodes < maxPerMessage {
			m.addCode(v)
		}
		if v, _, ok = nextField(rest, sep, 14); ok {
			m.addDevices(kindDeviceID, v, 0)
		}
	case "PRT":
		// PRT-10 participation device, PRT-16 UDI device identifier,
		// PRT-20 serial number (HL7 v2.8 §7.4.4). PRT-5 (a person) and the
		// address and telecom fields are stepped over.
		v, rest, ok := nextField(rest, sep, 9)
		if !ok {
			return
		}
		m.addDevices(kindDeviceID, v, 0)
		if v, rest, ok = nextField(rest, sep, 5); !ok {
			return
		}
		m.addDevices(kindDeviceUDI, v, 0)
		if v, _, ok = nextField(rest, sep, 3); ok {
			m.addDevices(kindDeviceSerial, v, 1)
		}
	}
}

// nextField steps over the first skip fields of the fields b, unread but
// for their separators sep, and cuts off the field after them: it returns
// that field, the fields after it (nil when it is the last) and whether b
// has it. One loop over the bytes skipped costs less than a cutField call
// per field.
func nextField(b []byte, sep byte, skip int) (v, rest []byte, ok bool) {
	if skip > 0 {
		// Eight bytes at a time: the separators of a word are counted, and
		// the one that ends the skipped fields is its skip-th.
		i, pat := 0, uint64(sep)*ones
		for ; i+8 <= len(b); i += 8 {
			z := zeroBytes(binary.LittleEndian.Uint64(b[i:i+8]) ^ pat)
			if n := bits.OnesCount64(z); n < skip {
				skip -= n
				continue
			}
			for ; skip > 1; skip-- {
				z &= z - 1
			}
			i += bits.TrailingZeros64(z)>>3 + 1
			skip = 0
			break
		}
		for ; skip > 0; i++ {
			if i == len(b) {
				return nil, nil, false
			}
			if b[i] == sep {
				skip--
			}
		}
		b = b[i:]
	}
	v, rest, _ = cutField(b, sep)
	return v, rest, true
}

// addDevices records up to maxRepeats repetitions of field v.
func (m *message) addDevices(kind uint8, v []byte, comps uint8) {
	for r := 0; r < maxRepeats && len(v) > 0 && m.ndevices < maxPerMessage; r++ {
		rep := v
		if m.enc.rep != noDelim {
			if i := bytes.IndexByte(v, byte(m.enc.rep)); i >= 0 {
				rep, v = v[:i], v[i+1:]
			} else {
				v = nil
			}
		} else {
			v = nil
		}
		if len(rep) > 0 {
			m.addDevice(rawDevice{v: rep, kind: kind, comp: comps})
		}
	}
}

// firstRepeat returns the first repetition of field v.
func (m *message) firstRepeat(v []byte) []byte {
	if m.enc.rep != noDelim {
		if i := bytes.IndexByte(v, byte(m.enc.rep)); i >= 0 {
			return v[:i]
		}
	}
	return v
}

// render appends to dst the printable text of field value v: components
// joined with "^" and subcomponents with "&" whatever the message's own
// delimiters, escape sequences \F\ \S\ \T\ \R\ \E\ and \Xhh..\ resolved
// (HL7 v2.5 §2.7), other escape sequences (formatting) dropped, bytes
// outside 0x20-0x7e dropped, at most comps components (0 for all), capped
// at maxValue bytes, trimmed of spaces and of empty trailing components.
func (m *message) render(dst, v []byte, comps int) []byte {
	start := len(dst)
	put := func(c byte) {
		if c >= 0x20 && c <= 0x7e && len(dst)-start < maxValue {
			dst = append(dst, c)
		}
	}
	comp := 1
	enc := &m.enc
	for i := 0; i < len(v); i++ {
		// A run of plain characters, copied at once up to the cap.
		room := maxValue - (len(dst) - start)
		j, lim := i, min(len(v), i+room)
		for j < lim && !enc.isSpecial(v[j]) {
			j++
		}
		dst = append(dst, v[i:j]...)
		if j == lim {
			break
		}
		i = j
		c := int(v[i])
		switch c {
		case m.enc.comp:
			comp++
			if comps > 0 && comp > comps {
				return trim(dst, start)
			}
			put('^')
		case m.enc.sub:
			put('&')
		case m.enc.rep:
			return trim(dst, start)
		case m.enc.esc:
			j := bytes.IndexByte(v[i+1:], v[i])
			if j < 0 {
				continue // a lone escape character: dropped
			}
			seq := v[i+1 : i+1+j]
			i += j + 1
			switch {
			case len(seq) == 1 && seq[0] == 'F':
				put(m.enc.field)
			case len(seq) == 1 && seq[0] == 'S':
				put(byte(m.enc.comp))
			case len(seq) == 1 && seq[0] == 'T':
				put(byte(m.enc.sub))
			case len(seq) == 1 && seq[0] == 'R':
				put(byte(m.enc.rep))
			case len(seq) == 1 && seq[0] == 'E':
				put(byte(m.enc.esc))
			case len(seq) > 1 && seq[0] == 'X':
				for k := 1; k+1 < len(seq); k += 2 {
					hi, ok1 := unhex(seq[k])
					lo, ok2 := unhex(seq[k+1])
					if ok1 && ok2 {
						put(hi<<4 | lo)
					}
				}
			}
		default:
			put(v[i])
		}
	}
	return trim(dst, start)
}

// trim removes spaces from both ends of dst[start:] and empty trailing
// components and subcomponents.
func trim(dst []byte, start int) []byte {
	for len(dst) > start && (dst[len(dst)-1] == ' ' || dst[len(dst)-1] == '^' || dst[len(dst)-1] == '&') {
		dst = dst[:len(dst)-1]
	}
	lead := start
	for lead < len(dst) && dst[lead] == ' ' {
		lead++
	}
	if lead > start {
		n := copy(dst[start:], dst[lead:])
		dst = dst[:start+n]
	}
	return dst
}

func unhex(c byte) (byte, bool) {
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

// isCode reports whether b is a 3-character message code or trigger event:
// upper-case letters and digits (HL7 tables 0076 and 0003).
func isCode(b []byte) bool {
	if len(b) != 3 {
		return false
	}
	for _, c := range b {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// messageType appends to dst MSH-9 as "TYPE^EVENT" (or "TYPE" alone when
// the trigger event is absent or invalid); it appends nothing when the
// message code is invalid. Both are components (1 and 2) of the first
// repetition, of 3 characters each.
func (m *message) messageType(dst []byte) []byte {
	v := m.typ
	if len(v) < 3 || !isCode(v[:3]) || !m.componentEnd(v, 3) {
		return dst
	}
	dst = append(dst, v[:3]...)
	if len(v) >= 7 && int(v[3]) == m.enc.comp && isCode(v[4:7]) && m.componentEnd(v, 7) {
		dst = append(dst, '^')
		dst = append(dst, v[4:7]...)
	}
	return dst
}

// componentEnd reports whether a component of field v ends at offset i: v
// ends there or has a component or repetition separator.
func (m *message) componentEnd(v []byte, i int) bool {
	return i == len(v) || int(v[i]) == m.enc.comp || int(v[i]) == m.enc.rep
}

// versionID appends to dst MSH-12's version id (component 1 of the first
// repetition) when it is made of digits and dots ("2.3", "2.5.1"), at most
// 8 of them.
func (m *message) versionID(dst []byte) []byte {
	v, i := m.version, 0
	for ; !m.componentEnd(v, i); i++ {
		if c := v[i]; i == 8 || !(c >= '0' && c <= '9' || c == '.') {
			return dst
		}
	}
	return append(dst, v[:i]...)
}

// ackCode returns MSA-1 when it is one of the acknowledgement codes of HL7
// table 0008, and whether it is negative.
func (m *message) ackCodeValue() (code []byte, negative bool) {
	switch string(m.ackCode) {
	case "AA", "CA":
		return m.ackCode, false
	case "AE", "AR", "CE", "CR":
		return m.ackCode, true
	}
	return nil, false
}

// Fact kinds: the second byte of a seen-set key, standing for the fact name.
// Those a message may give several of come last (see several).
const (
	kindSendingApplication uint8 = iota + 1
	kindSendingFacility
	kindReceivingApplication
	kindReceivingFacility
	kindMessageType
	kindVersion
	kindAckCode
	kindAckedMessageType
	kindDeviceID
	kindDeviceUDI
	kindDeviceSerial
	kindObservationCode
)

// several reports whether a message may give several facts of kind k: the
// device identifiers and codes of its OBX and PRT segments. It gives at
// most one fact of any other kind.
func several(k uint8) bool { return k >= kindDeviceID }

// kindName returns the fact name of kind k.
func kindName(k uint8) string {
	switch k {
	case kindSendingApplication:
		return FactSendingApplication
	case kindSendingFacility:
		return FactSendingFacility
	case kindReceivingApplication:
		return FactReceivingApplication
	case kindReceivingFacility:
		return FactReceivingFacility
	case kindMessageType:
		return FactMessageType
	case kindVersion:
		return FactVersion
	case kindAckCode:
		return FactAckCode
	case kindAckedMessageType:
		return FactAckedMessageType
	case kindDeviceID:
		return FactDeviceID
	case kindDeviceUDI:
		return FactDeviceUDI
	case kindDeviceSerial:
		return FactDeviceSerial
	}
	return FactObservationCode
}

// seenSet holds the keys (side, kind, value) of the facts emitted on a flow:
// the first seenSmall in the set itself, so that a typical flow allocates
// nothing for them, up to seenLinear in a slice beyond, all searched
// linearly, more in a map. Keys are substrings of the strings the facts'
// values are cut from.
//
// The messages of a flow mostly repeat their fields (a device's MSH, its
// OBX-3 codes and OBX-18 identity), and most values are their field's bytes
// as they are: rendering changes nothing (no escape sequence, repetition,
// trailing empty component or space). The first seenSmall keys that are
// such values are marked plain, per direction of the messages they came
// from, so that the next messages find those fields without rendering them
// or searching the whole set. A field renders the same only under the same
// delimiters: plain keys are those of the direction's delimiters enc, and
// are all forgotten when a direction changes its delimiters, which is rare.
// (A key's side and kind tell the direction of the messages it can come
// from: a direction's plain keys are all its messages can find.)
type seenSet struct {
	small [seenSmall]string
	more  []string
	big   map[string]struct{}
	n     uint16     // keys
	from  [2]uint16  // per direction, bit i set: small[i] came from its messages (seenSmall is 16)
	plain [2]uint16  // per direction, bit i set: small[i] is one of its plain keys
	next  [2]uint8   // per direction, the key after its last plain key found
	enc   [2][5]byte // per direction, the delimiters of its plain keys
}

func (s *seenSet) len() int { return int(s.n) }

// has reports whether the set has key, of a fact of a message sent in
// direction dir. A key's side and kind tell the direction of the messages
// it can come from: only the keys from dir are compared.
func (s *seenSet) has(dir protocols.Direction, key []byte) bool {
	if s.big != nil {
		_, ok := s.big[string(key)]
		return ok
	}
	for p := s.from[dir&1]; p != 0; p &= p - 1 {
		if s.small[bits.TrailingZeros16(p)] == string(key) {
			return true
		}
	}
	for _, k := range s.more {
		if k == string(key) {
			return true
		}
	}
	return false
}

// hasPlain reports whether the set has a plain key (side, kind, v) of
// direction dir. The search starts after the last key found: messages that
// repeat their fields in the same order find each at the first key looked
// at.
func (s *seenSet) hasPlain(dir, side protocols.Direction, kind uint8, v []byte) bool {
	d, next := dir&1, int(s.next[dir&1])
	// The plain keys from next on, then those before it.
	for p := bits.RotateLeft16(s.plain[d], -next); p != 0; p &= p - 1 {
		i := (bits.TrailingZeros16(p) + next) % seenSmall
		if k := s.small[i]; len(k) == len(v)+2 && k[0] == byte(side) && k[1] == kind && k[2:] == string(v) {
			s.next[d] = uint8(i + 1)
			return true
		}
	}
	return false
}

// usePlain readies the plain keys for a message sent in direction dir with
// delimiters e.
func (s *seenSet) usePlain(dir protocols.Direction, e *encoding) {
	enc := [5]byte{e.field, byte(e.comp), byte(e.rep), byte(e.esc), byte(e.sub)}
	if prev := &s.enc[dir&1]; enc != *prev {
		if *prev != ([5]byte{}) {
			s.plain = [2]uint16{}
		}
		*prev = enc
	}
}

// add adds key, a plain key of direction dir when plain.
func (s *seenSet) add(key string, dir protocols.Direction, plain bool) {
	switch {
	case s.big != nil:
		s.big[key] = struct{}{}
	case s.n < seenSmall:
		s.small[s.n] = key
		s.from[dir&1] |= 1 << s.n
		if plain {
			s.plain[dir&1] |= 1 << s.n
		}
	case s.n < seenLinear:
		if s.more == nil {
			s.more = make([]string, 0, seenLinear-seenSmall)
		}
		s.more = append(s.more, key)
	default:
		s.big = make(map[string]struct{}, 2*seenLinear)
		for _, k := range s.small {
			s.big[k] = struct{}{}
		}
		for _, k := range s.more {
			s.big[k] = struct{}{}
		}
		s.big[key] = struct{}{}
		s.small, s.more, s.from, s.plain = [seenSmall]string{}, nil, [2]uint16{}, [2]uint16{}
	}
	s.n++
}

// hasRecord reports whether key is the key of a record of a that is not
// marked unseen. A record's first four bytes, its header then the side and
// kind its key starts with, are compared at once: only a record of the
// same side, kind and length has its value compared.
func hasRecord(a, key []byte) bool {
	want := uint32(len(key)-2) | uint32(key[0])<<16 | uint32(key[1])<<24
	for i := 0; i < len(a); {
		w := binary.LittleEndian.Uint32(a[i:])
		end := i + recordHead + int(uint16(w)&^flags)
		if w&^plainValue == want && string(a[i+recordHead:end]) == string(key[2:]) {
			return true
		}
		i = end
	}
	return false
}

// A collector record in its arena is a little-endian uint16 header (the
// value's length, unseen and plain), the side and the kind (the seen-set
// key begins there), then the value.
const (
	recordHead = 4
	unseen     = 1 << 15 // the record is emitted but not remembered
	plainValue = 1 << 14 // the value is its field's bytes as they are
	flags      = unseen | plainValue
)

// collector gathers the facts of the observations of one message, skipping
// those already emitted on the flow. The new facts are written as records
// to an arena and become one string when the collector finishes: one
// allocation for all the values of a message's observations, which also
// serve as the seen-set keys, and one for their facts.
//
// The arena is passed to each method and returned rather than kept in the
// collector: appending through a pointer would make the room it starts in,
// on the caller's stack, escape to the heap.
type collector struct {
	d     *Decoder
	dir   protocols.Direction // the direction the message was sent in
	side  protocols.Direction // the side of the flow the facts are about
	n     int                 // records
	keyed int                 // records to remember
}

// add renders the first repetition of field v of message m and adds it as
// fact kind unless seen before on this side of the flow. limit, when
// non-nil, counts distinct values of a capped kind. A field that is a
// plain key of the seen set is not rendered.
func (c *collector) add(arena []byte, m *message, kind uint8, v []byte, comps int, limit *int, max int) []byte {
	if len(v) == 0 || c.d.seen.hasPlain(c.dir, c.side, kind, v) {
		return arena
	}
	off := len(arena)
	arena = append(arena, 0, 0, byte(c.side), kind)
	arena = m.render(arena, m.firstRepeat(v), comps)
	var flag uint16
	if string(arena[off+recordHead:]) == string(v) {
		flag = plainValue
	}
	return c.commit(arena, off, limit, max, false, flag)
}

// addText adds value as fact kind unless seen before (always when force).
// Its key is plain: a value that is a plain key of the seen set needs no
// other look-up.
func (c *collector) addText(arena []byte, kind uint8, value []byte, force bool) []byte {
	if len(value) == 0 || !force && c.d.seen.hasPlain(c.dir, c.side, kind, value) {
		return arena
	}
	off := len(arena)
	arena = append(arena, 0, 0, byte(c.side), kind)
	arena = append(arena, value...)
	return c.commit(arena, off, nil, 0, force, plainValue)
}

// addRaw adds value as fact kind without looking at or remembering it.
func (c *collector) addRaw(arena []byte, kind uint8, value []byte) []byte {
	off := len(arena)
	arena = append(arena, 0, 0, byte(c.side), kind)
	arena = append(arena, value...)
	c.setHead(arena, off, unseen)
	return arena
}

// commit decides on the record written at off, the last in arena: kept
// when new (or forced), dropped otherwise. A record kept as new gets
// header flags flag.
func (c *collector) commit(arena []byte, off int, limit *int, max int, force bool, flag uint16) []byte {
	d := c.d
	if len(arena) == off+recordHead {
		return arena[:off]
	}
	key := arena[off+2:]
	if d.seen.has(c.dir, key) || several(key[1]) && hasRecord(arena[:off], key) || d.seen.len()+c.keyed >= maxSeen || (limit != nil && *limit >= max) {
		if force {
			c.setHead(arena, off, unseen)
			return arena
		}
		return arena[:off]
	}
	if limit != nil {
		*limit++
	}
	c.keyed++
	c.setHead(arena, off, flag)
	return arena
}

// setHead writes the header of the record at off, the last in arena.
func (c *collector) setHead(arena []byte, off int, flags uint16) {
	h := uint16(len(arena)-off-recordHead) | flags
	arena[off], arena[off+1] = byte(h), byte(h>>8)
	c.n++
}

// finish turns the records of arena into facts, in order, remembering
// their keys. It returns nil when there is no fact.
func (c *collector) finish(arena []byte) []protocols.Fact {
	if c.n == 0 {
		return nil
	}
	s := string(arena)
	facts := make([]protocols.Fact, 0, c.n)
	for i := 0; i < len(s); {
		h := uint16(s[i]) | uint16(s[i+1])<<8
		end := i + recordHead + int(h&^flags)
		if h&unseen == 0 {
			c.d.seen.add(s[i+2:end], c.dir, h&plainValue != 0)
		}
		facts = append(facts, protocols.Fact{Name: kindName(s[i+3]), Value: s[i+recordHead : end]})
		i = end
	}
	return facts
}

// emitMessage turns the parsed message sent in direction dir into
// observations of its sender and receiver.
func (d *Decoder) emitMessage(dir protocols.Direction, m *message, emit protocols.Emit) {
	s := &d.streams[dir&1]

	var typBuf [7]byte
	typ := m.messageType(typBuf[:0])
	isAck := len(typ) >= 3 && string(typ[:3]) == "ACK"
	senderRole, receiverRole := "sender", "receiver"
	if isAck {
		// An ACK goes back from the system that received a message.
		senderRole, receiverRole = "receiver", "sender"
	} else if len(m.controlID) > 0 && len(typ) > 0 {
		s.remember(m.controlID, typ)
	}

	// One collector gathers the facts of up to three observations, one
	// after the other: the sender's, the acknowledgement's, the receiver's.
	// A record is checked against the seen set and the records before it,
	// so the outcome is the same as with one collector per observation.
	var room [arenaHint]byte
	a := room[:0]
	d.seen.usePlain(dir, &m.enc)
	c := collector{d: d, dir: dir, side: dir}
	a = c.add(a, m, kindSendingApplication, m.sendApp, 0, nil, 0)
	a = c.add(a, m, kindSendingFacility, m.sendFac, 0, nil, 0)
	a = c.addText(a, kindMessageType, typ, false)
	var verBuf [8]byte
	a = c.addText(a, kindVersion, m.versionID(verBuf[:0]), false)
	for i := range m.ndevices {
		dv := m.device(i)
		a = c.add(a, m, dv.kind, dv.v, int(dv.comp), &d.devices, maxDevices)
	}
	for i := range m.ncodes {
		// OBX-3 is a CE/CWE: identifier^text^coding system; the alternate
		// triplet (components 4-6) is not kept.
		a = c.add(a, m, kindObservationCode, m.code(i), 3, &d.codes, maxCodes)
	}

	// An ACK's acknowledgement facts join its sender's observation; any
	// other message's go to an observation of their own.
	sndEnd := c.n
	if m.hasMSA {
		if code, negative := m.ackCodeValue(); len(code) > 0 {
			a = c.addText(a, kindAckCode, code, negative)
			if negative {
				if acked := d.streams[dir.Reverse()&1].lookup(m.ackID); len(acked) > 0 {
					a = c.addRaw(a, kindAckedMessageType, acked)
				}
			}
		}
	}
	if isAck {
		sndEnd = c.n
	}
	ackEnd := c.n

	c.side = dir.Reverse()
	a = c.add(a, m, kindReceivingApplication, m.recvApp, 0, nil, 0)
	a = c.add(a, m, kindReceivingFacility, m.recvFac, 0, nil, 0)

	facts := c.finish(a)
	if len(facts) == 0 {
		return
	}
	// Each observation gets its part of facts, capped so that appending to
	// one cannot write into the next.
	sndFacts, ackFacts, rcvFacts := facts[:sndEnd:sndEnd], facts[sndEnd:ackEnd:ackEnd], facts[ackEnd:]
	source := sourceName(typ)
	if len(sndFacts) > 0 {
		emit(protocols.Observation{Protocol: "hl7", Source: source, About: protocols.Sender, Role: senderRole, Facts: sndFacts})
	}
	if len(ackFacts) > 0 {
		emit(protocols.Observation{Protocol: "hl7", Source: SourceAck, About: protocols.Sender, Role: senderRole, Facts: ackFacts})
	}
	if len(rcvFacts) > 0 {
		emit(protocols.Observation{Protocol: "hl7", Source: source, About: protocols.Receiver, Role: receiverRole, Facts: rcvFacts})
	}
}

// remember records that this direction sent a message with control id id
// (capped at maxControlID bytes) and type typ. The last ackRing are the ones
// lookup searches; older ones are dropped ackRing at a time, so that a
// long flow moves bytes once every ackRing messages, not at each.
func (s *stream) remember(id, typ []byte) {
	id = id[:min(len(id), maxControlID)]
	if s.nsent == 2*ackRing {
		off := 0
		for range ackRing {
			off += 2 + int(s.sent[off]) + int(s.sent[off+1])
		}
		s.sent = s.sent[:copy(s.sent, s.sent[off:])]
		s.nsent -= ackRing
	}
	if s.sent == nil {
		s.sent = make([]byte, 0, sentHint)
	}
	s.sent = append(s.sent, byte(len(id)), byte(len(typ)))
	s.sent = append(s.sent, id...)
	s.sent = append(s.sent, typ...)
	s.nsent++
	s.next = (s.next + 1) % ackRing
}

// lookup returns the message type of the message with control id id that
// this direction sent recently (one of the last ackRing), or nil. When
// several match, it returns the one a ring of ackRing slots, filled in
// turn, would hold in its first slot: message k of the flow went to slot k
// modulo ackRing.
func (s *stream) lookup(id []byte) []byte {
	if len(id) == 0 {
		return nil
	}
	if len(id) > maxControlID {
		id = id[:maxControlID]
	}
	// The last ackRing messages start at record skip. The one in slot 0 is
	// the oldest until ackRing were sent, then the one after the last
	// next-1.
	nsent := int(s.nsent)
	skip := max(0, nsent-ackRing)
	first := 0
	if nsent >= ackRing {
		first = (ackRing - int(s.next)) % ackRing
	}
	if typ := s.find(id, skip+first, nsent); typ != nil {
		return typ
	}
	return s.find(id, skip, skip+first)
}

// find returns the type of the first of records from to to-1 of sent with
// control id id, or nil.
func (s *stream) find(id []byte, from, to int) []byte {
	for i, k := 0, 0; i < len(s.sent) && k < to; k++ {
		idEnd := i + 2 + int(s.sent[i])
		end := idEnd + int(s.sent[i+1])
		if k >= from && string(s.sent[i+2:idEnd]) == string(id) {
			return s.sent[idEnd:end]
		}
		i = end
	}
	return nil
}

// sourceName returns the Source for a message of type typ ("ORU^R01"):
// "hl7.oru^r01", "hl7.ack" for any ACK, "hl7.unknown" without a valid type.
func sourceName(typ []byte) string {
	if len(typ) == 0 {
		return "hl7.unknown"
	}
	switch string(typ) {
	case "ORU^R01":
		return "hl7.oru^r01"
	case "ADT^A01":
		return "hl7.adt^a01"
	case "ADT^A03":
		return "hl7.adt^a03"
	case "ADT^A04":
		return "hl7.adt^a04"
	case "ADT^A08":
		return "hl7.adt^a08"
	case "ORM^O01":
		return "hl7.orm^o01"
	}
	if string(typ[:3]) == "ACK" {
		return SourceAck
	}
	var b [4 + 7]byte
	n := copy(b[:], "hl7.")
	for _, c := range typ {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[n] = c
		n++
	}
	return string(b[:n])
}
