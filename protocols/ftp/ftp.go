// Package ftp decodes the control connection of FTP (RFC 959): the server's
// greeting banner, its SYST reply, and whether a cleartext login (USER then
// PASS) happened. User names and passwords are never kept or emitted.
package ftp

import (
	"bytes"
	"time"

	"github.com/iomt-sensor/iomt-sensor/protocols"
)

// Caps on what the decoder reads from the wire.
const (
	// MaxLineLen caps a command or reply line; longer lines are skipped.
	MaxLineLen = 1024
	// maxString caps every text value the decoder emits.
	maxString = 255
)

// Fact names.
const (
	FactBanner         = "ftp.banner"
	FactSystem         = "ftp.system"
	FactCleartextLogin = "ftp.cleartext_login"
	FactAnonymousLogin = "ftp.anonymous_login"
)

// Spec describes FTP control connections to the sensor.
func Spec() protocols.Spec {
	return protocols.Spec{
		Name:      "ftp",
		Transport: protocols.TCP,
		Ports:     []uint16{21},
		Detect:    Detect,
		New:       New,
	}
}

// Detect reports whether first is a server greeting: "220" followed by a
// space or "-" (RFC 959 §4.2) on a line that does not name SMTP, whose
// greeting has the same form.
func Detect(dir protocols.Direction, first []byte) bool {
	if dir != protocols.FromServer || len(first) < 5 || !bytes.HasPrefix(first, []byte("220")) || (first[3] != ' ' && first[3] != '-') {
		return false
	}
	line := first
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	return !bytes.Contains(line, []byte("SMTP")) && !bytes.Contains(line, []byte("smtp"))
}

// side is the line reader of one direction.
type side struct {
	line     []byte
	skipping bool // inside a line over MaxLineLen
}

// Decoder reads one FTP control connection.
type Decoder struct {
	sides [2]side
	// multi is the reply code of a multi-line reply in progress (0: none).
	multi                    [3]byte
	bannerSeen, systemSeen   bool
	userSeen, anonymous      bool
	loginSeen, authRequested bool
	done                     bool // after AUTH TLS/SSL succeeded: the rest is TLS
}

// New returns a decoder for one flow.
func New(protocols.FlowInfo) protocols.Decoder { return &Decoder{} }

// Feed reads the next in-order bytes of direction dir.
func (d *Decoder) Feed(dir protocols.Direction, data []byte, _ time.Time, emit protocols.Emit) error {
	s := &d.sides[dir&1]
	for len(data) > 0 && !d.done {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			if s.skipping || len(s.line)+len(data) > MaxLineLen {
				s.skipping, s.line = true, s.line[:0]
			} else {
				s.line = append(s.line, data...)
			}
			return nil
		}
		line := data[:i]
		data = data[i+1:]
		if s.skipping || len(s.line)+len(line) > MaxLineLen {
			s.skipping, s.line = false, s.line[:0]
			continue
		}
		if len(s.line) > 0 {
			s.line = append(s.line, line...)
			line = s.line
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if dir == protocols.FromClient {
			d.command(line, emit)
		} else {
			d.reply(line, emit)
		}
		s.line = s.line[:0]
	}
	return nil
}

// command reads one client command line (RFC 959 §5.3.1).
func (d *Decoder) command(line []byte, emit protocols.Emit) {
	verb, arg, _ := bytes.Cut(line, []byte(" "))
	switch {
	case equalFold(verb, "USER"):
		d.userSeen = true
		// Compared, never kept: anonymous FTP (RFC 1635).
		arg = bytes.TrimSpace(arg)
		d.anonymous = equalFold(arg, "anonymous") || equalFold(arg, "ftp")
	case equalFold(verb, "PASS"):
		if !d.userSeen || d.loginSeen {
			return
		}
		d.loginSeen = true
		facts := func() []protocols.Fact {
			f := []protocols.Fact{{Name: FactCleartextLogin, Value: "true"}}
			if d.anonymous {
				f = append(f, protocols.Fact{Name: FactAnonymousLogin, Value: "true"})
			}
			return f
		}
		emit(protocols.Observation{Protocol: "ftp", Source: "ftp.login", About: protocols.Sender, Role: "client", Facts: facts()})
		emit(protocols.Observation{Protocol: "ftp", Source: "ftp.login", About: protocols.Receiver, Role: "server", Facts: facts()})
	case equalFold(verb, "AUTH"):
		d.authRequested = true // RFC 4217: TLS follows a 234 reply
	}
}

// reply reads one server reply line (RFC 959 §4.2).
func (d *Decoder) reply(line []byte, emit protocols.Emit) {
	if d.multi[0] != 0 {
		// Inside a multi-line reply: it ends with "code " (RFC 959 §4.2).
		if len(line) >= 4 && [3]byte(line[:3]) == d.multi && line[3] == ' ' {
			d.multi = [3]byte{}
		}
		return
	}
	if len(line) < 3 || !isDigit(line[0]) || !isDigit(line[1]) || !isDigit(line[2]) || (len(line) > 3 && line[3] != ' ' && line[3] != '-') {
		return
	}
	var text []byte
	if len(line) > 4 {
		text = line[4:]
	}
	if len(line) > 3 && line[3] == '-' {
		d.multi = [3]byte(line[:3])
	}
	switch string(line[:3]) {
	case "220":
		if !d.bannerSeen {
			d.bannerSeen = true
			o := protocols.Observation{Protocol: "ftp", Source: "ftp.banner", About: protocols.Sender, Role: "server"}
			if v := sanitize(text); v != "" {
				o.Facts = []protocols.Fact{{Name: FactBanner, Value: v}}
			}
			emit(o)
		}
	case "215":
		if v := sanitize(text); v != "" && !d.systemSeen {
			d.systemSeen = true
			emit(protocols.Observation{Protocol: "ftp", Source: "ftp.syst", About: protocols.Sender, Role: "server",
				Facts: []protocols.Fact{{Name: FactSystem, Value: v}}})
		}
	case "234":
		if d.authRequested {
			d.done = true
		}
	}
}

// Gap drops the partial line of dir; FTP resynchronizes at the next line.
func (d *Decoder) Gap(dir protocols.Direction, _ int, _ time.Time, _ protocols.Emit) {
	s := &d.sides[dir&1]
	s.line, s.skipping = s.line[:0], true
	if dir == protocols.FromServer {
		d.multi = [3]byte{}
	}
}

// Close does nothing: observations are emitted as lines complete.
func (d *Decoder) Close(time.Time, protocols.Emit) {}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// equalFold compares b with the ASCII string s, ignoring case.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		x, y := b[i], s[i]
		if x >= 'A' && x <= 'Z' {
			x += 'a' - 'A'
		}
		if y >= 'A' && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// sanitize keeps the printable ASCII (0x20-0x7e) of b, trimmed, capped at
// maxString bytes.
func sanitize(b []byte) string {
	b = bytes.TrimSpace(b)
	out := make([]byte, 0, min(len(b), maxString))
	for _, c := range b {
		if len(out) == maxString {
			break
		}
		if c >= 0x20 && c <= 0x7e {
			out = append(out, c)
		}
	}
	return string(bytes.TrimSpace(out))
}
