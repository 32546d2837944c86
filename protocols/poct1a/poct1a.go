// Package poct1a decodes POCT1-A device messaging (CLSI POCT1-A2, "Point-of-
// Care Connectivity"; the device messaging layer of IEEE 11073 for point of
// care testing) on TCP: XML messages between a point-of-care device
// (glucose meter, blood gas analyser, rapid test reader) and its data
// manager. From the device's Hello (HEL.R01) it learns the device id,
// vendor, model, serial number, manufacturer and software and hardware
// versions; Device Status (DST.R01) and Acknowledgement (ACK.R01) messages
// are noted by type.
//
// Patient and result data are never read: only HEL.R01, DST.R01 and ACK.R01
// messages are parsed, and of those only the elements listed in README.md.
// Observation messages (OBS.R01, OBS.R02: SVC, PT, OBS, OPR, ORD, RGT, NTE)
// and every other message are framed by their root element and skipped
// without being parsed.
package poct1a

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/iomt-sensor/iomt-sensor/protocols"
)

// Limits.
const (
	// MaxMessageLen caps one XML message (root element, start to end tag).
	// A longer message is dropped; after maxOversized of them per direction
	// Feed gives up with protocols.ErrTooLong.
	MaxMessageLen = 64 << 10
	maxOversized  = 3
	// maxJunk is how many bytes outside any message a direction may carry in
	// a row before Feed gives up with ErrMalformed.
	maxJunk = 64 << 10
	// maxBad consecutive parsed messages that are not well-formed make Feed
	// give up with ErrMalformed.
	maxBad = 8
	// maxTokens and maxDepth cap the XML tokens read from one message and
	// the element nesting.
	maxTokens = 4096
	maxDepth  = 32
	// maxValue caps every emitted value, in bytes.
	maxValue = 128
)

// Fact names.
const (
	FactMessageType     = "poct1a.message_type"
	FactVersion         = "poct1a.version"
	FactDeviceID        = "poct1a.device_id"
	FactVendor          = "poct1a.vendor"
	FactModel           = "poct1a.model"
	FactSerial          = "poct1a.serial"
	FactManufacturer    = "poct1a.manufacturer"
	FactSoftwareVersion = "poct1a.software_version"
	FactHardwareVersion = "poct1a.hardware_version"
	FactDeviceName      = "poct1a.device_name"
	FactAckType         = "poct1a.ack_type"
	FactCondition       = "poct1a.condition"
)

// Sources.
const (
	SourceHello  = "poct1a.hello"
	SourceStatus = "poct1a.status"
	SourceAck    = "poct1a.ack"
)

// Spec describes POCT1-A to the sensor. POCT1-A2 names no TCP port (each
// data manager configures its own), so there are no port hints: content
// decides.
func Spec() protocols.Spec {
	return protocols.Spec{
		Name:      "poct1a",
		Transport: protocols.TCP,
		Detect:    Detect,
		New:       New,
	}
}

// Detect reports whether first starts (after white space, control
// characters and an XML declaration) with a POCT1-A message root element,
// "<XXX.Rnn", followed by its header object "<HDR" (POCT1-A2: every message
// begins with HDR).
func Detect(_ protocols.Direction, first []byte) bool {
	b := skipProlog(first)
	n := rootLen(b)
	if n == 0 {
		return false
	}
	rest := b[n:]
	if len(rest) > 512 {
		rest = rest[:512]
	}
	return bytes.Contains(rest, []byte("<HDR"))
}

// skipProlog drops leading white space, control characters (some devices
// frame with STX/ESC/EOT) and XML declarations or comments.
func skipProlog(b []byte) []byte {
	for {
		for len(b) > 0 && b[0] <= ' ' {
			b = b[1:]
		}
		switch {
		case bytes.HasPrefix(b, []byte("<?")):
			i := bytes.Index(b, []byte("?>"))
			if i < 0 {
				return nil
			}
			b = b[i+2:]
		case bytes.HasPrefix(b, []byte("<!--")):
			i := bytes.Index(b, []byte("-->"))
			if i < 0 {
				return nil
			}
			b = b[i+3:]
		default:
			return b
		}
	}
}

// rootLen returns the length of "<XXX.Rnn" (8) at the start of b when it
// is followed by '>', '/' or white space, else 0.
func rootLen(b []byte) int {
	if len(b) < 10 || b[0] != '<' || b[4] != '.' || b[5] != 'R' {
		return 0
	}
	for _, c := range b[1:4] {
		if c < 'A' || c > 'Z' {
			return 0
		}
	}
	if b[6] < '0' || b[6] > '9' || b[7] < '0' || b[7] > '9' {
		return 0
	}
	switch b[8] {
	case '>', '/', ' ', '\t', '\r', '\n':
		return 8
	}
	return 0
}

// New returns a decoder for one flow.
func New(protocols.FlowInfo) protocols.Decoder {
	return &Decoder{}
}

// Message kinds that are parsed; others are skipped.
const (
	kindHello = iota
	kindStatus
	kindAck
	kindOther
)

// stream is the state of one direction.
type stream struct {
	buf       []byte
	junk      int
	oversized int
	bad       int
	seen      uint8   // kinds already emitted in this direction
	dropping  bool    // inside an oversized message: discard until its end tag
	dropped   int     // bytes discarded since the last oversized count
	root      [7]byte // root element name, "HEL.R01"
}

// Decoder decodes one POCT1-A flow. Each message kind is emitted once per
// direction: a device repeats DST.R01 as a heartbeat and those repeats are
// framed but not parsed.
type Decoder struct {
	streams [2]stream
}

// Feed frames data into XML messages by their root element and decodes the
// complete ones.
func (d *Decoder) Feed(dir protocols.Direction, data []byte, _ time.Time, emit protocols.Emit) error {
	s := &d.streams[dir&1]
	s.buf = append(s.buf, data...)
	for {
		b := s.buf
		if s.dropping {
			end := bytes.Index(b, endTag(s.root[:]))
			if end < 0 {
				// Keep a tail long enough to hold a split end tag; every
				// further MaxMessageLen bytes dropped count as one more
				// oversized message.
				s.dropped += max(0, len(b)-tagLen)
				s.keep(len(b) - tagLen)
				if s.dropped > MaxMessageLen {
					s.dropped = 0
					s.oversized++
					if s.oversized > maxOversized {
						return fmt.Errorf("%w: poct1a: more than %d messages over %d bytes", protocols.ErrTooLong, maxOversized, MaxMessageLen)
					}
				}
				return nil
			}
			s.dropping = false
			s.keep(end + tagLen)
			continue
		}
		start := findRoot(b)
		if start < 0 {
			s.junk += max(0, len(b)-tagLen)
			s.keep(len(b) - tagLen)
			if s.junk > maxJunk {
				return protocols.Malformedf("poct1a: %d bytes outside messages", s.junk)
			}
			return nil
		}
		s.junk += start
		if s.junk > maxJunk {
			return protocols.Malformedf("poct1a: %d bytes outside messages", s.junk)
		}
		copy(s.root[:], b[start+1:start+8])
		end := bytes.Index(b[start:], endTag(s.root[:]))
		if end < 0 {
			if len(b)-start > MaxMessageLen {
				s.oversized++
				if s.oversized > maxOversized {
					return fmt.Errorf("%w: poct1a: more than %d messages over %d bytes", protocols.ErrTooLong, maxOversized, MaxMessageLen)
				}
				s.dropping, s.dropped = true, 0
				s.keep(len(b) - tagLen)
				continue
			}
			s.keep(start)
			return nil
		}
		s.junk = 0
		msg := b[start : start+end+tagLen]
		if err := d.message(dir, s, msg, emit); err != nil {
			s.bad++
			if s.bad >= maxBad {
				return err
			}
		} else {
			s.bad = 0
		}
		s.keep(start + end + tagLen)
	}
}

// tagLen is the length of an end tag "</XXX.Rnn>".
const tagLen = 10

// endTag returns "</XXX.Rnn>" for the 7-byte root name.
func endTag(root []byte) []byte {
	var t [tagLen]byte
	t[0], t[1], t[tagLen-1] = '<', '/', '>'
	copy(t[2:tagLen-1], root)
	return t[:]
}

// findRoot returns the offset of the first POCT1-A root start tag in b, or -1.
func findRoot(b []byte) int {
	for off := 0; ; {
		i := bytes.IndexByte(b[off:], '<')
		if i < 0 {
			return -1
		}
		off += i
		if len(b)-off < 10 {
			return -1
		}
		if rootLen(b[off:]) > 0 {
			return off
		}
		off++
	}
}

// keep drops the first n bytes of the buffer, reusing its storage.
func (s *stream) keep(n int) {
	if n <= 0 {
		return
	}
	if n >= len(s.buf) {
		s.buf = s.buf[:0]
		return
	}
	s.buf = s.buf[:copy(s.buf, s.buf[n:])]
}

// message decodes one complete message whose root is s.root.
func (d *Decoder) message(dir protocols.Direction, s *stream, msg []byte, emit protocols.Emit) error {
	kind, src := kindOther, ""
	switch string(s.root[:]) { // no allocation: compared in place
	case "HEL.R01":
		kind, src = kindHello, SourceHello
	case "DST.R01":
		kind, src = kindStatus, SourceStatus
	case "ACK.R01":
		kind, src = kindAck, SourceAck
	}
	if kind == kindOther || s.seen&(1<<kind) != 0 {
		return nil
	}
	facts, err := parse(kind, msg)
	if err != nil {
		return err
	}
	s.seen |= 1 << kind
	role := "client"
	if dir == protocols.FromServer {
		role = "server"
	}
	o := protocols.Observation{Protocol: "poct1a", Source: src, About: protocols.Sender, Role: role, Facts: facts}
	if kind == kindHello {
		for _, f := range facts {
			if f.Name == FactDeviceID {
				if m, ok := parseMAC(f.Value); ok {
					o.MAC = m
				}
			}
		}
	}
	emit(o)
	return nil
}

// wanted maps the elements read, by parent object, to fact names
// (POCT1-A2 HDR, DEV, DST and ACK objects).
func wanted(parent, name string) string {
	switch parent {
	case "HDR":
		switch name {
		case "HDR.version_id":
			return FactVersion
		}
	case "DEV":
		switch name {
		case "DEV.device_id":
			return FactDeviceID
		case "DEV.vendor_id":
			return FactVendor
		case "DEV.model_id":
			return FactModel
		case "DEV.serial_id":
			return FactSerial
		case "DEV.manufacturer_name":
			return FactManufacturer
		case "DEV.sw_version":
			return FactSoftwareVersion
		case "DEV.hw_version":
			return FactHardwareVersion
		case "DEV.device_name":
			return FactDeviceName
		}
	case "DST":
		if name == "DST.condition_cd" {
			return FactCondition
		}
	case "ACK":
		if name == "ACK.type_id" {
			return FactAckType
		}
	}
	return ""
}

var errTooDeep = errors.New("too deep")

// parse reads msg with encoding/xml (Token: end tags must match), bounded
// in tokens and depth, and
// returns the facts of the wanted elements whose parent is the object named
// above and whose grandparent is the root: the V attribute (POCT1-A2
// carries every value in V) or, failing that, the element's text.
func parse(kind int, msg []byte) ([]protocols.Fact, error) {
	dec := xml.NewDecoder(bytes.NewReader(msg))
	dec.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	facts := make([]protocols.Fact, 0, 10)
	facts = append(facts, protocols.Fact{Name: FactMessageType, Value: [...]string{"HEL.R01", "DST.R01", "ACK.R01"}[kind]})
	var stack [maxDepth]string
	depth := 0
	pending := ""   // fact awaiting element text
	var text []byte // text of the pending element
	done := map[string]bool{}
	for n := 0; n < maxTokens; n++ {
		tok, err := dec.Token()
		if err == io.EOF {
			return facts, nil
		}
		if err != nil {
			return nil, protocols.Malformedf("poct1a: %v", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == maxDepth {
				return nil, protocols.Malformedf("poct1a: %v: nesting over %d", errTooDeep, maxDepth)
			}
			name := t.Name.Local
			if t.Name.Space != "" {
				name = t.Name.Space + ":" + name
			}
			stack[depth] = name
			depth++
			pending = ""
			if depth != 3 {
				continue
			}
			fact := wanted(stack[1], name)
			if fact == "" || done[fact] {
				continue
			}
			got := false
			for _, a := range t.Attr {
				if a.Name.Local == "V" && a.Name.Space == "" {
					if v := clean(a.Value); v != "" {
						facts = append(facts, protocols.Fact{Name: fact, Value: v})
						done[fact] = true
					}
					got = true
				}
			}
			if !got {
				pending, text = fact, text[:0]
			}
		case xml.CharData:
			if pending != "" && len(text) < maxValue*4 {
				text = append(text, t...)
			}
		case xml.EndElement:
			if pending != "" {
				if v := clean(string(text)); v != "" && !done[pending] {
					facts = append(facts, protocols.Fact{Name: pending, Value: v})
					done[pending] = true
				}
				pending = ""
			}
			if depth > 0 {
				depth--
			}
		}
	}
	return nil, protocols.Malformedf("poct1a: more than %d XML tokens", maxTokens)
}

// clean keeps printable ASCII, trims and caps at maxValue bytes.
func clean(v string) string {
	out := make([]byte, 0, min(len(v), maxValue))
	for i := 0; i < len(v) && len(out) < maxValue; i++ {
		if c := v[i]; c >= 0x20 && c <= 0x7e {
			out = append(out, c)
		}
	}
	return string(bytes.TrimSpace(out))
}

// parseMAC reads six hex pairs separated by ':' or '-' (POCT1-A devices
// often use their MAC address as DEV.device_id).
func parseMAC(s string) (protocols.MAC, bool) {
	var m protocols.MAC
	if len(s) != 17 {
		return m, false
	}
	for i := range m {
		if i > 0 && s[i*3-1] != ':' && s[i*3-1] != '-' {
			return m, false
		}
		hi, ok1 := unhex(s[i*3])
		lo, ok2 := unhex(s[i*3+1])
		if !ok1 || !ok2 {
			return m, false
		}
		m[i] = hi<<4 | lo
	}
	if m.IsZero() || m.IsMulticast() {
		return m, false
	}
	return m, true
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

// Gap drops the direction's partial message: the stream resynchronises on
// the next root start tag.
func (d *Decoder) Gap(dir protocols.Direction, _ int, _ time.Time, _ protocols.Emit) {
	s := &d.streams[dir&1]
	s.buf = s.buf[:0]
	s.dropping = false
}

// Close does nothing: incomplete messages are not decoded.
func (d *Decoder) Close(time.Time, protocols.Emit) {}
