// Package syslog decodes the headers of syslog messages (RFC 3164 BSD
// syslog and RFC 5424) sent over UDP or TCP (RFC 6587 octet counting or
// newline framing) into observations of the sender: the host name it calls
// itself, the application (tag or APP-NAME) and the facility.
//
// The message text is never stored or emitted: it may hold patient data.
package syslog

import (
	"time"

	"github.com/iomt-sensor/iomt-sensor/protocols"
)

// Port is the well-known syslog port (UDP, RFC 5426; TCP by custom, RFC 6587).
const Port = 514

// MaxHeaderLen is how much of a message the decoder keeps to read its
// header; the rest of a longer message is skipped unread.
const MaxHeaderLen = 1024

// maxFrameLen caps an RFC 6587 octet count: larger counts wrap
// protocols.ErrTooLong.
const maxFrameLen = 1 << 20

// Caps on header fields (RFC 5424 §6).
const (
	maxHostname = 255
	maxApp      = 48
)

// Fact names.
const (
	FactHostname = "syslog.hostname"
	FactApp      = "syslog.app"
	FactFacility = "syslog.facility"
)

// Spec describes syslog over UDP to the sensor.
func Spec() protocols.Spec {
	return protocols.Spec{
		Name:      "syslog",
		Transport: protocols.UDP,
		Ports:     []uint16{Port},
		Detect:    Detect,
		New:       New,
	}
}

// TCPSpec describes syslog over TCP (RFC 6587) to the sensor.
func TCPSpec() protocols.Spec {
	return protocols.Spec{
		Name:      "syslog",
		Transport: protocols.TCP,
		Ports:     []uint16{Port},
		Detect:    DetectTCP,
		New:       New,
	}
}

// Detect reports whether first starts with a syslog PRI part: "<", one to
// three digits of a value up to 191, ">".
func Detect(_ protocols.Direction, first []byte) bool {
	_, n := pri(first)
	return n > 0
}

// DetectTCP reports whether first starts with a PRI part, or with an RFC
// 6587 octet count followed by one.
func DetectTCP(dir protocols.Direction, first []byte) bool {
	i := 0
	for i < len(first) && i < 7 && first[i] >= '0' && first[i] <= '9' {
		i++
	}
	if i > 0 && first[0] != '0' && i < len(first) && first[i] == ' ' {
		return Detect(dir, first[i+1:])
	}
	return Detect(dir, first)
}

// pri parses a PRI part and returns its value and length, or n == 0.
func pri(b []byte) (value, n int) {
	if len(b) < 3 || b[0] != '<' {
		return 0, 0
	}
	for i := 1; i < len(b) && i <= 4; i++ {
		c := b[i]
		switch {
		case c == '>' && i > 1:
			if value > 191 || b[1] == '0' && i > 2 {
				return 0, 0
			}
			return value, i + 1
		case c >= '0' && c <= '9':
			value = value*10 + int(c-'0')
		default:
			return 0, 0
		}
	}
	return 0, 0
}

// New returns a decoder for one flow.
func New(fi protocols.FlowInfo) protocols.Decoder {
	return &Decoder{tcp: fi.Transport == protocols.TCP}
}

// Decoder reads syslog messages of one flow: one per UDP datagram, or the
// framed messages of each direction of a TCP stream. It emits an
// Observation when a message's header (host name, application, facility)
// differs from the last one it emitted for the flow, so a chatty device
// costs one observation, not one per message.
type Decoder struct {
	tcp    bool
	stream [2]stream
	// last is the header of the last observation emitted.
	last    [maxHostname + maxApp + 2]byte
	lastLen int
}

// stream is the framing state of one direction of a TCP flow.
type stream struct {
	state     int // stateStart, stateCount, stateCounted, stateLine, stateResync
	count     int // octet count being read, or bytes left of a counted frame
	countLen  int
	buf       [MaxHeaderLen]byte
	n         int
	truncated bool
}

const (
	stateStart = iota
	stateCount
	stateCounted
	stateLine
	stateResync
)

// Feed decodes one UDP datagram, or the next bytes of a TCP stream.
func (d *Decoder) Feed(dir protocols.Direction, data []byte, _ time.Time, emit protocols.Emit) error {
	if !d.tcp {
		msg := data
		if len(msg) > MaxHeaderLen {
			msg = msg[:MaxHeaderLen]
		}
		return d.message(msg, emit)
	}
	return d.stream[dir&1].feed(d, data, emit)
}

func (s *stream) feed(d *Decoder, data []byte, emit protocols.Emit) error {
	for len(data) > 0 {
		switch s.state {
		case stateStart:
			c := data[0]
			switch {
			case c == '<':
				s.state, s.n = stateLine, 0
			case c >= '1' && c <= '9':
				s.state, s.count, s.countLen = stateCount, 0, 0
			case c == '\n' || c == '\r' || c == 0:
				data = data[1:] // stray terminators between messages
			default:
				s.state = stateResync
				return protocols.Malformedf("syslog: frame starts with %q, want a PRI or an octet count", c)
			}
		case stateCount:
			c := data[0]
			data = data[1:]
			switch {
			case c >= '0' && c <= '9':
				s.count = s.count*10 + int(c-'0')
				if s.countLen++; s.count > maxFrameLen {
					s.state = stateResync
					return protocols.TooLongf("syslog: octet count over %d", maxFrameLen)
				}
			case c == ' ' && s.count > 0:
				s.state, s.n, s.truncated = stateCounted, 0, false
			default:
				s.state = stateResync
				return protocols.Malformedf("syslog: octet count followed by %q", c)
			}
		case stateCounted:
			k := min(s.count, len(data))
			s.keep(data[:k])
			data, s.count = data[k:], s.count-k
			if s.count == 0 {
				s.state = stateStart
				if err := d.message(s.buf[:s.n], emit); err != nil {
					return err
				}
			}
		case stateLine:
			k := 0
			for k < len(data) && data[k] != '\n' {
				k++
			}
			s.keep(data[:k])
			if k == len(data) {
				return nil
			}
			data = data[k+1:]
			s.state = stateStart
			if err := d.message(s.buf[:s.n], emit); err != nil {
				return err
			}
		case stateResync:
			k := 0
			for k < len(data) && data[k] != '\n' {
				k++
			}
			if k == len(data) {
				return nil
			}
			data, s.state = data[k+1:], stateStart
		}
	}
	return nil
}

// keep appends what fits of p to the header buffer.
func (s *stream) keep(p []byte) {
	s.n += copy(s.buf[s.n:], p)
}

// Gap drops the message the hole fell into and resynchronises on the next
// newline.
func (d *Decoder) Gap(dir protocols.Direction, _ int, _ time.Time, _ protocols.Emit) {
	if d.tcp {
		s := &d.stream[dir&1]
		s.state, s.n = stateResync, 0
	}
}

// Close decodes a last newline-framed message that lacked its newline.
func (d *Decoder) Close(_ time.Time, emit protocols.Emit) {
	for i := range d.stream {
		s := &d.stream[i]
		if s.state == stateLine && s.n > 0 {
			_ = d.message(s.buf[:s.n], emit) // nothing to report an error to at close
		}
		s.state, s.n = stateStart, 0
	}
}

// message decodes one message (header bytes at least) and emits an
// Observation when its header differs from the last one emitted.
func (d *Decoder) message(b []byte, emit protocols.Emit) error {
	h, err := Parse(b)
	if err != nil {
		return err
	}
	var key [len(Decoder{}.last)]byte
	n := copy(key[:], h.Hostname)
	key[n] = 0
	n++
	n += copy(key[n:], h.App)
	key[n] = byte(h.Facility)
	n++
	if n == d.lastLen && key == d.last {
		return nil
	}
	d.last, d.lastLen = key, n
	obs := protocols.Observation{Protocol: "syslog", Source: "syslog.message", About: protocols.Sender}
	facts := make([]protocols.Fact, 0, 3)
	if len(h.Hostname) > 0 {
		host := string(h.Hostname)
		facts = append(facts, protocols.Fact{Name: FactHostname, Value: host})
		if isName(host) {
			obs.Hostname = host
		}
	}
	if len(h.App) > 0 {
		facts = append(facts, protocols.Fact{Name: FactApp, Value: string(h.App)})
	}
	facts = append(facts, protocols.Fact{Name: FactFacility, Value: facilityNames[h.Facility]})
	obs.Facts = facts
	emit(obs)
	return nil
}
