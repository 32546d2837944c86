// Package telnet decodes Telnet (RFC 854) sessions: option negotiation is
// skipped, the server's banner (its first text lines) is reported, and a
// login prompt answered by the client is reported as a cleartext login.
// What the client types is never kept or emitted.
package telnet

import (
	"time"

	"github.com/iomt-sensor/iomt-sensor/protocols"
)

// Telnet commands (RFC 854, RFC 855).
const (
	cmdSE   = 240
	cmdSB   = 250
	cmdWILL = 251
	cmdDONT = 254
	cmdIAC  = 255
)

// Caps.
const (
	// maxBannerLines and maxString cap the banner.
	maxBannerLines = 3
	maxString      = 255
	// maxTail is how much of the server's latest text is kept to recognise
	// a prompt.
	maxTail = 16
)

// Fact names.
const (
	FactBanner         = "telnet.banner"
	FactCleartextLogin = "telnet.cleartext_login"
)

// Spec describes Telnet to the sensor.
func Spec() protocols.Spec {
	return protocols.Spec{
		Name:      "telnet",
		Transport: protocols.TCP,
		Ports:     []uint16{23},
		Detect:    Detect,
		New:       New,
	}
}

// Detect reports whether first starts with Telnet option negotiation: IAC
// followed by WILL, WONT, DO, DONT or SB. Servers that print text without
// negotiating cannot be told from other text protocols by content.
func Detect(_ protocols.Direction, first []byte) bool {
	return len(first) >= 3 && first[0] == cmdIAC && (first[1] == cmdSB || (first[1] >= cmdWILL && first[1] <= cmdDONT))
}

// Parser states of the IAC filter.
const (
	stData   = iota
	stIAC    // after IAC
	stOption // after IAC WILL/WONT/DO/DONT: the option byte
	stSB     // inside a subnegotiation
	stSBIAC  // IAC inside a subnegotiation
)

// filter strips Telnet commands from one direction, across Feed calls.
type filter struct{ state uint8 }

// next consumes b and reports whether it is a data byte.
func (f *filter) next(b byte) bool {
	switch f.state {
	case stData:
		if b == cmdIAC {
			f.state = stIAC
			return false
		}
		return true
	case stIAC:
		switch {
		case b == cmdIAC: // escaped 0xff data byte
			f.state = stData
			return true
		case b == cmdSB:
			f.state = stSB
		case b >= cmdWILL && b <= cmdDONT:
			f.state = stOption
		default: // two-byte command (NOP, GA, AYT, ...)
			f.state = stData
		}
	case stOption:
		f.state = stData
	case stSB:
		if b == cmdIAC {
			f.state = stSBIAC
		}
	case stSBIAC:
		if b == cmdSE {
			f.state = stData
		} else {
			f.state = stSB // IAC IAC inside SB, or a malformed one: keep skipping
		}
	}
	return false
}

// Decoder reads one Telnet session.
type Decoder struct {
	filters [2]filter
	// Banner: the server's first non-empty text lines.
	banner     []byte
	line       []byte
	lines      int
	bannerFull bool
	bannerDone bool
	tail       [maxTail]byte // server's latest text, lower case, for prompts
	tailN      int
	prompted   bool // the server's text ends with a login or password prompt
	loginSeen  bool
}

// New returns a decoder for one flow.
func New(protocols.FlowInfo) protocols.Decoder { return &Decoder{} }

// Feed reads the next in-order bytes of direction dir. Telnet has no
// grammar to break: Feed never fails.
func (d *Decoder) Feed(dir protocols.Direction, data []byte, _ time.Time, emit protocols.Emit) error {
	f := &d.filters[dir&1]
	if dir == protocols.FromClient {
		for _, b := range data {
			if f.next(b) && d.prompted && !d.loginSeen {
				d.loginSeen = true
				facts := func() []protocols.Fact { return []protocols.Fact{{Name: FactCleartextLogin, Value: "true"}} }
				emit(protocols.Observation{Protocol: "telnet", Source: "telnet.login", About: protocols.Sender, Role: "client", Facts: facts()})
				emit(protocols.Observation{Protocol: "telnet", Source: "telnet.login", About: protocols.Receiver, Role: "server", Facts: facts()})
			}
		}
		return nil
	}
	text := false
	for _, b := range data {
		if !f.next(b) || b == 0 {
			continue
		}
		text = true
		d.remember(b)
		if !d.bannerDone && !d.bannerFull {
			d.bannerByte(b)
		}
	}
	if text {
		d.prompted = d.endsWithPrompt()
	}
	// The banner ends where the server waits: at the end of the first chunk
	// that completed a non-empty line, with at most maxBannerLines lines.
	if !d.bannerDone && d.lines > 0 {
		d.emitBanner(emit)
	}
	return nil
}

// bannerByte adds a server text byte to the banner lines.
func (d *Decoder) bannerByte(b byte) {
	switch {
	case b == '\n':
		line := trimSpace(d.line)
		d.line = d.line[:0]
		if len(line) == 0 {
			return
		}
		if len(d.banner) > 0 {
			d.banner = append(d.banner, " | "...)
		}
		d.banner = append(d.banner, line...)
		d.lines++
		if d.lines == maxBannerLines || len(d.banner) >= maxString {
			d.bannerFull = true // emitted at the end of this Feed
		}
	case b >= 0x20 && b <= 0x7e:
		if len(d.line) < maxString {
			d.line = append(d.line, b)
		}
	}
}

func (d *Decoder) emitBanner(emit protocols.Emit) {
	d.bannerDone = true
	v := d.banner
	if len(v) > maxString {
		v = trimSpace(v[:maxString])
	}
	emit(protocols.Observation{Protocol: "telnet", Source: "telnet.banner", About: protocols.Sender, Role: "server",
		Facts: []protocols.Fact{{Name: FactBanner, Value: string(v)}}})
	d.banner, d.line = nil, nil
}

// remember keeps the last maxTail text bytes of the server, lower case.
func (d *Decoder) remember(b byte) {
	if b >= 'A' && b <= 'Z' {
		b += 'a' - 'A'
	}
	d.tail[d.tailN%maxTail] = b
	d.tailN++
}

// endsWithPrompt reports whether the server's text ends with a login or
// password prompt ("login:", "username:", "user name:", "password:").
func (d *Decoder) endsWithPrompt() bool {
	var buf [maxTail]byte
	n := min(d.tailN, maxTail)
	for i := range n {
		buf[i] = d.tail[(d.tailN-n+i)%maxTail]
	}
	t := trimSpace(buf[:n])
	for _, p := range []string{"login:", "username:", "user name:", "password:"} {
		if len(t) >= len(p) && string(t[len(t)-len(p):]) == p {
			return true
		}
	}
	return false
}

// Gap resets the filter of dir: the lost bytes may have held a command.
func (d *Decoder) Gap(dir protocols.Direction, _ int, _ time.Time, _ protocols.Emit) {
	d.filters[dir&1] = filter{}
	if dir == protocols.FromServer {
		d.tailN, d.prompted = 0, false
		d.line = d.line[:0]
	}
}

// Close does nothing: observations are emitted as they are seen.
func (d *Decoder) Close(time.Time, protocols.Emit) {}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r' || b[0] == '\n') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t' || b[len(b)-1] == '\r' || b[len(b)-1] == '\n') {
		b = b[:len(b)-1]
	}
	return b
}
