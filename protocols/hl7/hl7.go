// Package hl7 decodes HL7 version 2 messages carried over MLLP (the Minimal
// Lower Layer Protocol: 0x0B, message, 0x1C 0x0D) into observations of the
// applications that send and receive them: MSH sending and receiving
// application and facility, message type and version, MSA acknowledgement
// codes, and the device identities of IHE PCD-01 messages (OBX-18, PRT-10)
// with the observation codes (OBX-3) that say what kind of device it is.
//
// Patient data is never read: only the MSH, MSA, OBX and PRT segments are
// looked at, and of those only the fields listed in README.md. Every other
// segment (PID, PD1, NK1, PV1, PV2, GT1, IN1, IN2, DG1, AL1, NTE, ORC, OBR,
// ...) and OBX-5 are skipped without their bytes being copied anywhere, and
// no error message carries bytes from the wire.
package hl7

import (
	"bytes"
	"fmt"
	"time"

	"github.com/iomt-sensor/iomt-sensor/protocols"
)

// DefaultPort is the IANA port for HL7 over MLLP. It is only a hint: content
// decides.
const DefaultPort = 2575

// MLLP framing bytes (HL7 v2.5.1 Implementation Guide: Transport
// Specification, MLLP Release 2, §1.3).
const (
	startBlock = 0x0B
	endBlock   = 0x1C
	cr         = 0x0D
)

// Limits.
const (
	// MaxMessageLen caps one MLLP block. A longer message is skipped up to its
	// end block; see maxOversized.
	MaxMessageLen = 1 << 20
	// maxOversized oversized messages per direction are skipped quietly; the
	// next one makes Feed give up with protocols.ErrTooLong.
	maxOversized = 3
	// maxJunk is how many bytes outside any block (or dropped after a gap) a
	// direction may carry in a row before Feed gives up with ErrMalformed.
	maxJunk = MaxMessageLen + 64<<10
	// maxBadBlocks consecutive blocks that hold no parsable MSH make Feed give
	// up with ErrMalformed.
	maxBadBlocks = 8
	// maxValue caps every emitted value, in bytes.
	maxValue = 256
	// maxSeen caps the distinct facts remembered (and so emitted) per flow.
	maxSeen = 512
	// seenLinear is how many remembered facts of a flow are searched
	// linearly, more go to a map; the first seenSmall are held in the
	// decoder itself.
	seenLinear = 32
	seenSmall  = 16
	// maxCodes caps the distinct OBX-3 codes, and maxDevices the distinct
	// device identifiers, emitted per flow.
	maxCodes   = 64
	maxDevices = 64
	// maxRepeats is how many repetitions of a repeating field are read.
	maxRepeats = 4
	// maxPerMessage caps the OBX-3 codes and device identifiers taken from
	// one message.
	maxPerMessage = 64
	// keepBuf is the largest reassembly buffer kept between messages.
	keepBuf = 64 << 10
	// arenaHint is the room for the fact records of one message that
	// emitMessage keeps on its stack.
	arenaHint = 512
	// sentHint is the room, in bytes, a direction first has for the
	// messages it sent: five with control ids of up to 7 bytes.
	sentHint = 80
	// ackRing is how many sent messages per direction are remembered to name
	// the message type an ACK acknowledges.
	ackRing = 16
	// maxControlID caps the MSH-10 / MSA-2 bytes compared.
	maxControlID = 64
)

// Fact names.
const (
	FactSendingApplication   = "hl7.sending_application"
	FactSendingFacility      = "hl7.sending_facility"
	FactReceivingApplication = "hl7.receiving_application"
	FactReceivingFacility    = "hl7.receiving_facility"
	FactMessageType          = "hl7.message_type"
	FactVersion              = "hl7.version"
	FactAckCode              = "hl7.ack_code"
	FactAckedMessageType     = "hl7.acked_message_type"
	FactDeviceID             = "hl7.device_id"
	FactDeviceUDI            = "hl7.device_udi"
	FactDeviceSerial         = "hl7.device_serial"
	FactObservationCode      = "hl7.obx_code"
)

// SourceAck is the Source of observations that carry an MSA acknowledgement.
const SourceAck = "hl7.ack"

// Spec describes HL7 v2 over MLLP to the sensor.
func Spec() protocols.Spec {
	return protocols.Spec{
		Name:      "hl7",
		Transport: protocols.TCP,
		Ports:     []uint16{DefaultPort},
		Detect:    Detect,
		New:       New,
	}
}

// Detect reports whether first starts an MLLP block holding an MSH segment
// (0x0B "MSH" and a field separator followed by the first encoding
// character), or, for a stream picked up mid-way, holds such a block right
// after an end block (0x1C 0x0D). HL7 text without MLLP framing is not
// detected.
func Detect(_ protocols.Direction, first []byte) bool {
	if isBlockStart(first) {
		return true
	}
	for b := first; ; {
		i := bytes.Index(b, []byte{endBlock, cr, startBlock})
		if i < 0 {
			return false
		}
		b = b[i+2:]
		if isBlockStart(b) {
			return true
		}
	}
}

// isBlockStart reports whether b is 0x0B "MSH", a field separator and, when
// present, a distinct first encoding character.
func isBlockStart(b []byte) bool {
	if len(b) < 5 || b[0] != startBlock || b[1] != 'M' || b[2] != 'S' || b[3] != 'H' || !isDelimiter(b[4]) {
		return false
	}
	return len(b) < 6 || (isDelimiter(b[5]) && b[5] != b[4])
}

// isDelimiter reports whether c may serve as an HL7 delimiter: printable,
// not a letter, digit or space (HL7 v2.5 §2.5.4 recommends |^~\&).
func isDelimiter(c byte) bool {
	return c > 0x20 && c < 0x7f && !isAlnum(c)
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}

// New returns a decoder for one flow.
func New(protocols.FlowInfo) protocols.Decoder {
	return &Decoder{}
}

// frameState says where a direction's stream is relative to MLLP blocks.
type frameState uint8

const (
	hunting  frameState = iota // outside a block: looking for 0x0B
	inBlock                    // inside a block: collecting until 0x1C
	skipping                   // inside an oversized block: discarding until 0x1C
)

// stream is the state of one direction.
type stream struct {
	state     frameState
	nsent     uint8 // messages in sent
	next      uint8 // messages sent in all, modulo ackRing
	oversized int32
	badBlocks int32
	buf       []byte // the current block when it spans Feeds
	junk      int
	// sent remembers the control id (MSH-10) and type (MSH-9) of the last
	// ackRing (to 2*ackRing) messages sent, to name the message an ACK
	// coming back acknowledges: oldest first, each as its id's length, its
	// type's length, the id and the type. Most ids are short: back to back
	// they take a fraction of the room of fixed-size entries.
	sent []byte
}

// Decoder decodes one HL7 flow: both directions, each framed independently.
// Facts are remembered per flow and direction so that each is emitted once;
// negative acknowledgements are emitted every time.
//
// A decoder is allocated for every flow, and most flows are short: it holds
// only what lives from one message to the next. The scratch space of a
// message (its codes and devices, its fact records) lives on the stack.
type Decoder struct {
	streams [2]stream
	seen    seenSet
	codes   int
	devices int
	// over holds the codes and devices of a message beyond those its own
	// room holds, allocated for the first such message and kept.
	over *overflow
}

// Feed frames data into MLLP blocks and decodes each complete block. It
// returns an error, giving up on the flow, only when the stream plainly is
// not HL7 over MLLP: too many bytes outside blocks, too many blocks without
// an MSH, or more than maxOversized oversized messages.
func (d *Decoder) Feed(dir protocols.Direction, data []byte, _ time.Time, emit protocols.Emit) error {
	s := &d.streams[dir&1]
	// Positions of the next 0x0B and 0x1C in data, each byte scanned once
	// whatever the number of blocks in data.
	starts, ends := finder{b: data, c: startBlock, next: unknown}, finder{b: data, c: endBlock, next: unknown}
	for pos := 0; pos < len(data); {
		switch s.state {
		case hunting:
			i := starts.at(pos)
			if i < 0 {
				s.junk += len(data) - pos
				if s.junk > maxJunk {
					return protocols.Malformedf("hl7: %d bytes outside MLLP blocks", s.junk)
				}
				return nil
			}
			s.junk += i - pos
			if s.junk > maxJunk {
				return protocols.Malformedf("hl7: %d bytes outside MLLP blocks", s.junk)
			}
			pos = i + 1
			s.state, s.buf = inBlock, s.buf[:0]
		case skipping:
			i := ends.at(pos)
			if i < 0 {
				return nil
			}
			pos = i + 1
			s.state = hunting
		case inBlock:
			i := earliest(ends.at(pos), starts.at(pos))
			if i < 0 {
				if len(s.buf)+len(data)-pos > MaxMessageLen {
					if err := s.oversize(); err != nil {
						return err
					}
					continue
				}
				s.buf = append(s.buf, data[pos:]...)
				return nil
			}
			if len(s.buf)+i-pos > MaxMessageLen {
				if err := s.oversize(); err != nil {
					return err
				}
				continue
			}
			block := data[pos:i]
			if len(s.buf) > 0 {
				s.buf = append(s.buf, block...)
				block = s.buf
			}
			pos = i + 1
			if data[i] == startBlock {
				// A start block inside a block: the end was lost. Drop
				// the partial message and begin the new one.
				s.reset(inBlock)
				continue
			}
			s.junk = 0
			err := d.block(dir, block, emit)
			s.reset(hunting)
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// oversize drops the current block and skips to its end.
func (s *stream) oversize() error {
	s.oversized++
	s.reset(skipping)
	if s.oversized > maxOversized {
		return fmt.Errorf("%w: hl7: %d messages over %d bytes", protocols.ErrTooLong, s.oversized, MaxMessageLen)
	}
	return nil
}

// reset empties the block buffer, releasing a large one, and sets state.
func (s *stream) reset(state frameState) {
	s.state = state
	if cap(s.buf) > keepBuf {
		s.buf = nil
	}
	s.buf = s.buf[:0]
}

// Gap drops the partial message of dir and resynchronises on the next start
// block.
func (d *Decoder) Gap(dir protocols.Direction, _ int, _ time.Time, _ protocols.Emit) {
	d.streams[dir&1].reset(hunting)
}

// Close drops partial messages: a block without its end is not decoded.
func (d *Decoder) Close(time.Time, protocols.Emit) {
	for i := range d.streams {
		d.streams[i].reset(hunting)
	}
}

// block decodes one MLLP block: normally one message; a batch (FHS/BHS)
// may hold several, each starting with MSH.
func (d *Decoder) block(dir protocols.Direction, b []byte, emit protocols.Emit) error {
	s := &d.streams[dir&1]
	found := false
	// The message lives on the stack (the decoder stays small, and filling
	// the message in costs no write barriers), with room for the codes and
	// devices of a typical message; more go to the decoder's overflow.
	m := message{over: d.over}
	for len(b) > 0 {
		i := indexMSH(b)
		if i < 0 {
			break
		}
		b = b[i:]
		n := m.parse(b)
		b = b[n:]
		if m.ok {
			found = true
			d.emitMessage(dir, &m, emit)
		}
	}
	// Keep the (grown) overflow, without references into the block.
	if m.over != nil {
		m.over.reset()
		d.over = m.over
	}
	if !found {
		s.badBlocks++
		if s.badBlocks >= maxBadBlocks {
			return protocols.Malformedf("hl7: %d MLLP blocks in a row without a valid MSH segment", s.badBlocks)
		}
		return nil
	}
	s.badBlocks = 0
	return nil
}

// indexMSH returns the offset of the first segment of b that is an MSH
// (at the start or after a CR or LF), or -1.
func indexMSH(b []byte) int {
	if len(b) > 3 && string(b[:3]) == "MSH" {
		return 0 // the usual block: one message, found without finders
	}
	crs, lfs := finder{b: b, c: '\r', next: unknown}, finder{b: b, c: '\n', next: unknown}
	for i := 0; i+3 < len(b); {
		if b[i] == 'M' && b[i+1] == 'S' && b[i+2] == 'H' && (i == 0 || b[i-1] == '\r' || b[i-1] == '\n') {
			return i
		}
		j := earliest(crs.at(i), lfs.at(i))
		if j < 0 {
			return -1
		}
		i = j + 1
	}
	return -1
}

// unknown marks a finder position not searched yet.
const unknown = -2

// finder returns the successive positions of byte c in b, scanning each
// byte of b at most once: callers that look for several delimiters in turn
// stay linear in len(b).
type finder struct {
	b    []byte
	c    byte
	next int // position of the next c at or after the last query, -1 for none, unknown
}

// at returns the position of the first c at or after pos, or -1.
func (f *finder) at(pos int) int {
	if f.next == -1 || f.next >= pos {
		return f.next
	}
	if j := bytes.IndexByte(f.b[pos:], f.c); j >= 0 {
		f.next = pos + j
	} else {
		f.next = -1
	}
	return f.next
}

// earliest returns the smaller of two positions, -1 meaning none.
func earliest(a, b int) int {
	if a < 0 || (b >= 0 && b < a) {
		return b
	}
	return a
}
