package dicom

import (
	"encoding/binary"

	"github.com/iomt-sensor/iomt-sensor/protocols"
)

// Command set elements read (PS3.7 E.1, table E.1-1). The command set is
// always implicit VR little endian (PS3.7 6.3.1).
const (
	tagAffectedSOPClass  = 0x00000002
	tagRequestedSOPClass = 0x00000003
	tagCommandField      = 0x00000100
	tagDataSetType       = 0x00000800
	tagStatus            = 0x00000900

	cmdCStoreRQ = 0x0001
	noDataSet   = 0x0101
	maxDepth    = 16
	maxValue    = 1024 // longer wanted values are skipped, not truncated
)

// command decodes a complete command set b and emits its command once per
// flow (per command, status and SOP class). A C-STORE-RQ with a data set
// arms the data set parser of s for the same presentation context.
func (d *decoder) command(s *stream, b []byte, ctx byte, emit protocols.Emit) {
	var (
		field, status, dsType uint16
		hasField, hasStatus   bool
		sop, requested        []byte
	)
	dsType = noDataSet
	for len(b) >= 8 {
		tag := uint32(binary.LittleEndian.Uint16(b[0:2]))<<16 | uint32(binary.LittleEndian.Uint16(b[2:4]))
		n := binary.LittleEndian.Uint32(b[4:8])
		if tag>>16 != 0 || uint64(n) > uint64(len(b)-8) {
			return // not a command set: ignore it
		}
		v := b[8 : 8+n]
		switch tag {
		case tagAffectedSOPClass:
			sop = v
		case tagRequestedSOPClass:
			requested = v
		case tagCommandField:
			if n == 2 {
				field, hasField = binary.LittleEndian.Uint16(v), true
			}
		case tagDataSetType:
			if n == 2 {
				dsType = binary.LittleEndian.Uint16(v)
			}
		case tagStatus:
			if n == 2 {
				status, hasStatus = binary.LittleEndian.Uint16(v), true
			}
		}
		b = b[8+n:]
	}
	name, source := commandName(field)
	if !hasField || name == "" {
		return
	}
	if field == cmdCStoreRQ && dsType != noDataSet {
		syntax := tsUnknown
		if c := d.context(ctx, false); c != nil && c.accepted {
			syntax = c.syntax
		}
		if syntax != tsUnsupported {
			s.dsActive, s.dsCtx = true, ctx
			s.ds.reset(syntax)
		}
	}
	if sop == nil {
		sop = requested
	}
	sop = trimPad(sop)
	isRSP := field&0x8000 != 0
	kind := uint32(field) << 16
	if isRSP && hasStatus {
		kind |= uint32(status)
	}
	if !d.once(kind, FactCommand, sop) {
		return
	}
	facts := make([]protocols.Fact, 0, 3)
	facts = append(facts, protocols.Fact{Name: FactCommand, Value: name})
	if isRSP && hasStatus {
		facts = append(facts, protocols.Fact{Name: FactStatus, Value: hex16(status)})
	}
	// The key once kept is the value, unless cleaning changes it.
	value := d.seen[len(d.seen)-1].value
	if string(cleanView(sop)) != value {
		value = clean(sop)
	}
	facts = addFact(facts, FactSOPClass, value)
	emit(protocols.Observation{Protocol: Name, Source: source, About: protocols.Sender, Facts: facts})
}

func trimPad(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == 0 || b[len(b)-1] == ' ') {
		b = b[:len(b)-1]
	}
	return b
}

// wanted are the data set attributes read (PS3.6 data dictionary), in tag
// order. Everything else, patient and study attributes included, is skipped
// without being copied.
var wanted = [...]struct {
	tag  uint32
	fact string
}{
	{0x00080060, FactModality},
	{0x00080070, FactManufacturer},
	{0x00080080, FactInstitution},
	{0x00081010, FactStationName},
	{0x00081040, FactDepartment},
	{0x00081090, FactModel},
	{0x00181000, FactSerial},
	{0x00181020, FactSoftwareVersions},
}

const allWanted = 1<<len(wanted) - 1

// dataset parses the head of a data set incrementally (PS3.5 section 7):
// element headers are buffered, wanted values are buffered up to maxValue,
// all other values are skipped by count. It stops at the first top-level
// element past group 0018, when every wanted attribute was found, or on
// anything it cannot parse.
type dataset struct {
	syntax  ts
	hdr     [12]byte
	nhdr    int
	skip    uint32
	want    int // index into wanted of the value being read, -1 for none
	vleft   uint32
	val     []byte
	depth   int
	found   uint16
	done    bool
	pending []protocols.Fact
}

func (ds *dataset) reset(syntax ts) {
	*ds = dataset{syntax: syntax, want: -1, val: ds.val[:0]}
}

// longVR reports whether an explicit VR has a 4-byte length after two
// reserved bytes (PS3.5 7.1.2).
func longVR(a, b byte) bool {
	switch string([]byte{a, b}) {
	case "OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV":
		return true
	}
	return false
}

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }

// dataFragment feeds data set bytes to the stream's data set parser.
func (d *decoder) dataFragment(s *stream, b []byte, emit protocols.Emit) {
	ds := &s.ds
	for len(b) > 0 && !ds.done {
		if ds.skip > 0 {
			k := min(uint32(len(b)), ds.skip)
			ds.skip -= k
			b = b[k:]
			continue
		}
		if ds.want >= 0 {
			k := min(uint32(len(b)), ds.vleft)
			ds.val = append(ds.val, b[:k]...)
			ds.vleft -= k
			b = b[k:]
			if ds.vleft == 0 {
				d.attribute(ds)
			}
			continue
		}
		need := ds.headerLen()
		for ds.nhdr < need && len(b) > 0 {
			k := copy(ds.hdr[ds.nhdr:need], b)
			ds.nhdr += k
			b = b[k:]
			need = ds.headerLen()
		}
		if ds.nhdr < need {
			return
		}
		ds.nhdr = 0
		d.element(ds, need)
	}
	if ds.done {
		d.flushDataset(s, emit)
	}
}

// headerLen returns the length of the element header being read: 8 bytes,
// or 12 for an explicit VR with a 4-byte length (PS3.5 7.1.2). It settles an
// unknown encoding once 6 bytes are in: an explicit VR shows as two
// upper-case letters after the tag.
func (ds *dataset) headerLen() int {
	if ds.nhdr < 6 {
		return 8
	}
	if ds.syntax == tsUnknown {
		ds.syntax = tsImplicitLE
		if isUpper(ds.hdr[4]) && isUpper(ds.hdr[5]) {
			ds.syntax = tsExplicitLE
		}
	}
	if ds.syntax == tsExplicitLE && binary.LittleEndian.Uint16(ds.hdr[0:2]) != 0xFFFE && longVR(ds.hdr[4], ds.hdr[5]) {
		return 12
	}
	return 8
}

// element acts on a complete element header of n bytes.
func (d *decoder) element(ds *dataset, n int) {
	h := ds.hdr[:n]
	group := binary.LittleEndian.Uint16(h[0:2])
	elem := binary.LittleEndian.Uint16(h[2:4])
	var length uint32
	switch {
	case ds.syntax != tsExplicitLE || group == 0xFFFE:
		length = binary.LittleEndian.Uint32(h[4:8])
	case n == 12:
		length = binary.LittleEndian.Uint32(h[8:12])
	default:
		length = uint32(binary.LittleEndian.Uint16(h[6:8]))
	}
	const undefined = 0xFFFFFFFF
	if group == 0xFFFE {
		// Item and delimiters (PS3.5 7.5).
		switch elem {
		case 0xE000:
			if length != undefined {
				ds.skip = length
			}
		case 0xE00D:
		case 0xE0DD:
			if ds.depth == 0 {
				ds.done = true
			}
			ds.depth--
		default:
			ds.done = true
		}
		return
	}
	if ds.depth == 0 && group > 0x0018 {
		ds.done = true
		return
	}
	if length == undefined {
		// A sequence of undefined length: read into it (nothing is kept
		// below the top level) until its delimiter.
		ds.depth++
		if ds.depth > maxDepth {
			ds.done = true
		}
		return
	}
	if ds.depth == 0 && length <= maxValue {
		tag := uint32(group)<<16 | uint32(elem)
		for i, w := range wanted {
			if w.tag < tag {
				continue
			}
			if w.tag == tag && ds.found&(1<<i) == 0 {
				ds.want, ds.vleft, ds.val = i, length, ds.val[:0]
				if length == 0 {
					d.attribute(ds)
				}
				return
			}
			break // wanted is in tag order
		}
	}
	ds.skip = length
}

// attribute handles a complete wanted value: cleaned, and kept for the data
// set's observation when new on the flow.
func (d *decoder) attribute(ds *dataset) {
	w := wanted[ds.want]
	ds.found |= 1 << ds.want
	ds.want = -1
	if ds.found == allWanted {
		ds.done = true
	}
	v := cleanMulti(ds.val)
	ds.val = ds.val[:0]
	if len(v) == 0 || !d.once(0, w.fact, v) {
		return
	}
	if ds.pending == nil {
		ds.pending = make([]protocols.Fact, 0, 8)
	}
	ds.pending = append(ds.pending, protocols.Fact{Name: w.fact, Value: d.seen[len(d.seen)-1].value})
}

// flushDataset emits what the data set taught, once.
func (d *decoder) flushDataset(s *stream, emit protocols.Emit) {
	ds := &s.ds
	ds.done = true
	ds.skip, ds.want = 0, -1
	if len(ds.pending) == 0 {
		return
	}
	emit(protocols.Observation{Protocol: Name, Source: "dicom.c-store-rq", About: protocols.Sender, Facts: ds.pending})
	ds.pending = nil
}

// cleanMulti cleans a possibly multi-valued string in place: each value
// (separated by a backslash, PS3.5 6.4) trimmed of spaces and NULs, bytes
// outside printable ASCII replaced by '?', empty values dropped, the whole
// capped at maxString bytes.
func cleanMulti(b []byte) []byte {
	// Most values are one printable value without padding: kept as they are.
	if len(b) <= maxString && len(b) > 0 && b[0] != ' ' && b[len(b)-1] != ' ' {
		plain := true
		for _, c := range b {
			if c < 0x20 || c > 0x7e || c == '\\' {
				plain = false
				break
			}
		}
		if plain {
			return b
		}
	}
	out := b[:0]
	start := 0
	for i := 0; i <= len(b); i++ {
		if i < len(b) && b[i] != '\\' {
			continue
		}
		v := b[start:i]
		start = i + 1
		for len(v) > 0 && (v[0] == ' ' || v[0] == 0) {
			v = v[1:]
		}
		for len(v) > 0 && (v[len(v)-1] == ' ' || v[len(v)-1] == 0) {
			v = v[:len(v)-1]
		}
		if len(v) == 0 {
			continue
		}
		if len(out) > 0 {
			out = append(out, '\\')
		}
		for _, c := range v {
			if c < 0x20 || c > 0x7e {
				c = '?'
			}
			out = append(out, c)
		}
	}
	if len(out) > maxString {
		out = out[:maxString]
	}
	return out
}
