// Package dicom decodes the DICOM upper layer protocol (PS3.8) on TCP: the
// association PDUs (A-ASSOCIATE-RQ/AC/RJ, A-RELEASE, A-ABORT), the DIMSE
// command sets (PS3.7) carried in P-DATA-TF, and a few device attributes from
// the head of C-STORE data sets (PS3.5). It never keeps patient or study
// attributes: their values are skipped without being copied.
package dicom

import (
	"encoding/binary"
	"time"

	"github.com/iomt-sensor/iomt-sensor/protocols"
)

// Name is the protocol's name in observations and facts.
const Name = "dicom"

// PDU types (PS3.8 section 9.3.1).
const (
	pduAssociateRQ = 0x01
	pduAssociateAC = 0x02
	pduAssociateRJ = 0x03
	pduPData       = 0x04
	pduReleaseRQ   = 0x05
	pduReleaseRP   = 0x06
	pduAbort       = 0x07
)

// Caps on lengths read from the wire.
const (
	// MaxAssociatePDU is the largest A-ASSOCIATE-RQ/AC body accepted. Real
	// ones are a few KiB; one proposing every storage SOP class is ~16 KiB.
	MaxAssociatePDU = 1 << 20
	// minAssociatePDU is the fixed part of an A-ASSOCIATE-RQ/AC body: version,
	// reserved, called and calling AE titles, 32 reserved bytes.
	minAssociatePDU = 68
	// maxCommandSet caps the buffered DIMSE command set (real ones are ~200 bytes).
	maxCommandSet = 16 << 10
	// maxString caps every string value emitted.
	maxString = 256
	// maxSeen caps the per-flow memory of emitted DIMSE keys and data set facts.
	maxSeen = 128
	// maxContexts caps the presentation contexts remembered per flow (ids are
	// odd numbers 1-255, PS3.8 9.3.2.2).
	maxContexts = 128
)

// Spec returns the DICOM protocol for the sensor's protocol list.
func Spec() protocols.Spec {
	return protocols.Spec{
		Name:      Name,
		Transport: protocols.TCP,
		Ports:     []uint16{104, 11112, 2762},
		Detect:    Detect,
		New:       New,
	}
}

// Detect reports whether first starts like a DICOM association: an
// A-ASSOCIATE-RQ from the client, or an A-ASSOCIATE-AC or -RJ from the server
// (PS3.8 9.3.2-9.3.4): PDU type, reserved byte 0, a plausible length, and
// protocol version 1 (or the RJ's fixed shape).
func Detect(dir protocols.Direction, first []byte) bool {
	if len(first) < 10 || first[1] != 0 {
		return false
	}
	n := binary.BigEndian.Uint32(first[2:6])
	switch first[0] {
	case pduAssociateRQ, pduAssociateAC:
		if (first[0] == pduAssociateRQ) != (dir == protocols.FromClient) {
			return false
		}
		if n < minAssociatePDU || n > MaxAssociatePDU || binary.BigEndian.Uint16(first[6:8]) != 1 {
			return false
		}
		// Called and calling AE titles: 16 bytes each of printable ASCII
		// (PS3.5 AE value representation), space padded.
		ae := first[10:min(len(first), 42)]
		for _, c := range ae {
			if c < 0x20 || c > 0x7e {
				return false
			}
		}
		return true
	case pduAssociateRJ:
		return dir == protocols.FromServer && n == 4 && first[6] == 0 &&
			(first[7] == 1 || first[7] == 2) && first[8] >= 1 && first[8] <= 3
	}
	return false
}

// New returns a decoder for one flow.
func New(protocols.FlowInfo) protocols.Decoder { return &decoder{} }

// pctx is one presentation context of the flow's association.
type pctx struct {
	id       byte
	accepted bool
	syntax   ts
	abstract string // the proposed abstract syntax (SOP class UID)
}

// decoder holds a flow's state: one stream parser per direction and what the
// association negotiated.
type decoder struct {
	dirs     [2]stream
	contexts []pctx
	// seen remembers what was already emitted once per flow.
	seen     []seenKey
	released [2]bool
	aborted  bool
	failed   bool
}

// parse states of a stream.
const (
	stHeader = iota // reading a 6-byte PDU header
	stBody          // buffering an association PDU body
	stPData         // streaming a P-DATA-TF body
	stSkip          // discarding the rest of a PDU after a gap
	stDead          // lost sync: ignore the direction
)

// stream parses one direction.
type stream struct {
	state   int
	hdr     [6]byte
	nhdr    int
	pduType byte
	left    uint32 // body bytes left in the current PDU
	body    []byte

	// P-DATA-TF: PDV item framing (PS3.8 9.3.5.1).
	pdvHdr  [6]byte
	npdvHdr int
	pdvLeft uint32 // value bytes left in the current PDV
	pdvCtx  byte
	pdvMCH  byte // message control header (PS3.8 E.2)

	cmd     []byte
	cmdOver bool

	ds       dataset
	dsActive bool
	dsCtx    byte
}

// Feed implements protocols.Decoder.
func (d *decoder) Feed(dir protocols.Direction, data []byte, _ time.Time, emit protocols.Emit) error {
	if d.failed {
		return nil
	}
	s := &d.dirs[dir&1]
	for len(data) > 0 {
		switch s.state {
		case stDead:
			return nil
		case stHeader:
			k := copy(s.hdr[s.nhdr:], data)
			s.nhdr += k
			data = data[k:]
			if s.nhdr < len(s.hdr) {
				return nil
			}
			s.nhdr = 0
			if err := d.startPDU(s, dir, emit); err != nil {
				d.fail()
				return err
			}
		case stBody:
			k := min(uint32(len(data)), s.left)
			body := data[:k]
			s.left -= k
			data = data[k:]
			if len(s.body) > 0 || s.left > 0 {
				// The body came or comes in pieces: buffer them.
				s.body = append(s.body, body...)
				body = s.body
			}
			if s.left == 0 {
				if err := d.endPDU(s, dir, body, emit); err != nil {
					d.fail()
					return err
				}
			}
		case stPData:
			k := min(uint32(len(data)), s.left)
			if err := d.pdata(s, dir, data[:k], emit); err != nil {
				d.fail()
				return err
			}
			s.left -= k
			data = data[k:]
			if s.left == 0 {
				if s.npdvHdr != 0 || s.pdvLeft != 0 {
					d.fail()
					return protocols.Malformedf("dicom: PDV item runs past its P-DATA-TF PDU")
				}
				s.state = stHeader
			}
		case stSkip:
			k := min(uint32(len(data)), s.left)
			s.left -= k
			data = data[k:]
			if s.left == 0 {
				s.state = stHeader
			}
		}
	}
	return nil
}

func (d *decoder) fail() {
	d.failed = true
	for i := range d.dirs {
		d.dirs[i] = stream{state: stDead}
	}
}

// startPDU checks a complete PDU header (PS3.8 9.3.1) and picks the state
// for its body.
func (d *decoder) startPDU(s *stream, dir protocols.Direction, emit protocols.Emit) error {
	s.pduType = s.hdr[0]
	s.left = binary.BigEndian.Uint32(s.hdr[2:6])
	switch s.pduType {
	case pduAssociateRQ, pduAssociateAC:
		if s.left < minAssociatePDU {
			return protocols.Malformedf("dicom: A-ASSOCIATE PDU of %d bytes, under %d", s.left, minAssociatePDU)
		}
		if s.left > MaxAssociatePDU {
			return fmtTooLong(s.left)
		}
	case pduAssociateRJ, pduReleaseRQ, pduReleaseRP, pduAbort:
		if s.left != 4 {
			return protocols.Malformedf("dicom: PDU type %#x of %d bytes, expected 4", s.pduType, s.left)
		}
	case pduPData:
		s.state = stPData
		s.npdvHdr, s.pdvLeft = 0, 0
		if s.left == 0 {
			s.state = stHeader
		}
		return nil
	default:
		return protocols.Malformedf("dicom: unknown PDU type %#x", s.pduType)
	}
	s.state = stBody
	s.body = s.body[:0]
	return nil
}

// endPDU handles a complete association-level PDU: its body, read in
// place or from s.body.
func (d *decoder) endPDU(s *stream, dir protocols.Direction, body []byte, emit protocols.Emit) error {
	s.state = stHeader
	defer func() {
		// Keep nothing of the PDU (user identity items carry passwords),
		// and no large buffer for the life of the flow.
		clear(s.body)
		if cap(s.body) > 64<<10 {
			s.body = nil
		}
	}()
	switch s.pduType {
	case pduAssociateRQ:
		return d.associateRQ(body, emit)
	case pduAssociateAC:
		return d.associateAC(body, emit)
	case pduAssociateRJ:
		return d.associateRJ(body, emit)
	case pduReleaseRQ, pduReleaseRP:
		d.release(s.pduType, dir, emit)
	case pduAbort:
		d.abort(body, emit)
	}
	return nil
}

// pdata consumes part of a P-DATA-TF body: PDV items of a 4-byte length, a
// presentation context id, a message control header and a fragment (PS3.8
// 9.3.5.1, annex E.2).
func (d *decoder) pdata(s *stream, dir protocols.Direction, b []byte, emit protocols.Emit) error {
	for len(b) > 0 {
		if s.pdvLeft == 0 {
			k := copy(s.pdvHdr[s.npdvHdr:], b)
			s.npdvHdr += k
			b = b[k:]
			if s.npdvHdr < len(s.pdvHdr) {
				return nil
			}
			s.npdvHdr = 0
			n := binary.BigEndian.Uint32(s.pdvHdr[0:4])
			if n < 2 {
				return protocols.Malformedf("dicom: PDV item of %d bytes", n)
			}
			// The header bytes of this PDV were already counted out of
			// s.left by the caller only up to len(b): check the value fits.
			s.pdvCtx, s.pdvMCH = s.pdvHdr[4], s.pdvHdr[5]
			s.pdvLeft = n - 2
			if s.pdvLeft == 0 {
				d.fragmentEnd(s, dir, emit)
			}
			continue
		}
		k := min(uint32(len(b)), s.pdvLeft)
		frag := b[:k]
		b = b[k:]
		s.pdvLeft -= k
		if s.pdvMCH&1 != 0 {
			if s.pdvLeft == 0 && s.pdvMCH&2 != 0 && len(s.cmd) == 0 && !s.cmdOver && len(frag) <= maxCommandSet {
				// A whole command set in one fragment, the usual case:
				// read in place (what fragmentEnd would do).
				d.command(s, frag, s.pdvCtx, emit)
				continue
			}
			if !s.cmdOver {
				if len(s.cmd)+len(frag) > maxCommandSet {
					s.cmdOver = true
					s.cmd = s.cmd[:0]
				} else {
					s.cmd = append(s.cmd, frag...)
				}
			}
		} else if s.dsActive && s.pdvCtx == s.dsCtx {
			d.dataFragment(s, frag, emit)
		}
		if s.pdvLeft == 0 {
			d.fragmentEnd(s, dir, emit)
		}
	}
	return nil
}

// fragmentEnd runs at the end of each PDV: a last command fragment completes
// a command set; a last data fragment ends the data set.
func (d *decoder) fragmentEnd(s *stream, dir protocols.Direction, emit protocols.Emit) {
	if s.pdvMCH&2 == 0 {
		return
	}
	if s.pdvMCH&1 != 0 {
		if !s.cmdOver {
			d.command(s, s.cmd, s.pdvCtx, emit)
		}
		s.cmd = s.cmd[:0]
		s.cmdOver = false
		return
	}
	if s.dsActive && s.pdvCtx == s.dsCtx {
		s.dsActive = false
		d.flushDataset(s, emit)
	}
}

// Gap implements protocols.Decoder: a hole inside a PDU whose end is known
// skips to the next PDU; anything else loses the direction.
func (d *decoder) Gap(dir protocols.Direction, n int, _ time.Time, emit protocols.Emit) {
	s := &d.dirs[dir&1]
	if s.dsActive {
		s.dsActive = false
		d.flushDataset(s, emit)
	}
	switch s.state {
	case stBody, stPData, stSkip:
		if n >= 0 && uint64(n) <= uint64(s.left) {
			s.left -= uint32(n)
			s.state = stSkip
			s.body = s.body[:0]
			s.npdvHdr, s.pdvLeft = 0, 0
			s.cmd, s.cmdOver = s.cmd[:0], false
			s.dsActive = false
			if s.left == 0 {
				s.state = stHeader
			}
			return
		}
	}
	if n > 0 {
		*s = stream{state: stDead}
	}
}

// Skip implements protocols.Skipper: the decoder does not need the rest of
// a PDU it discards after a gap, nor the rest of a PDV value that is neither
// a command fragment nor part of a data set still being parsed (the bulk of
// a C-STORE: its data set stops being parsed past group 0018), nor anything
// of a direction it stopped parsing.
func (d *decoder) Skip(dir protocols.Direction) int {
	s := &d.dirs[dir&1]
	if d.failed || s.state == stDead {
		return protocols.MaxSkip
	}
	switch s.state {
	case stSkip:
		n := min(s.left, protocols.MaxSkip)
		if s.left -= n; s.left == 0 {
			s.state = stHeader
		}
		return int(n)
	case stPData:
		if s.pdvLeft == 0 || s.pdvMCH&1 != 0 || (s.dsActive && s.pdvCtx == s.dsCtx && !s.ds.done) {
			return 0
		}
		// The PDV value is skipped up to the PDU's end, short of its last
		// byte when the value runs past the PDU: Feed reports that as
		// malformed.
		n := s.pdvLeft
		if n >= s.left {
			n = s.left
			if s.pdvLeft > s.left {
				n--
			}
		}
		n = min(n, protocols.MaxSkip) // the rest at the next call
		s.pdvLeft -= n
		s.left -= n
		if s.pdvLeft == 0 && s.pdvMCH&2 != 0 && s.dsActive && s.pdvCtx == s.dsCtx {
			// The last fragment of a data set done parsing: fragmentEnd
			// would flush it, and a done data set has nothing left to emit.
			s.dsActive = false
		}
		if s.left == 0 {
			s.state = stHeader
		}
		return int(n)
	}
	return 0
}

// Close implements protocols.Decoder: it emits what a data set cut short
// had already taught.
func (d *decoder) Close(_ time.Time, emit protocols.Emit) {
	for i := range d.dirs {
		if d.dirs[i].dsActive {
			d.dirs[i].dsActive = false
			d.flushDataset(&d.dirs[i], emit)
		}
	}
}

// seenKey is something emitted once per flow: a DIMSE command (kind holds
// the command field and status) or a data set fact (name and value).
type seenKey struct {
	kind  uint32
	name  string
	value string
}

// once reports whether (kind, name, value) was not emitted yet on this flow,
// and remembers it. It allocates only for a new key. When the memory is full
// it reports false: the flow has said enough.
func (d *decoder) once(kind uint32, name string, value []byte) bool {
	for _, k := range d.seen {
		if k.kind == kind && k.name == name && k.value == string(value) {
			return false
		}
	}
	if len(d.seen) >= maxSeen {
		return false
	}
	if d.seen == nil {
		d.seen = make([]seenKey, 0, 16)
	}
	d.seen = append(d.seen, seenKey{kind, name, string(value)})
	return true
}

// context returns the flow's presentation context id, adding it when new
// (nil when the table is full).
func (d *decoder) context(id byte, add bool) *pctx {
	for i := range d.contexts {
		if d.contexts[i].id == id {
			return &d.contexts[i]
		}
	}
	if !add || len(d.contexts) >= maxContexts {
		return nil
	}
	if d.contexts == nil {
		d.contexts = make([]pctx, 0, 4)
	}
	d.contexts = append(d.contexts, pctx{id: id})
	return &d.contexts[len(d.contexts)-1]
}
