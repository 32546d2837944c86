package syslog

import (
	"bytes"
	"github.com/iomt-sensor/iomt-sensor/protocols"
	"net/netip"
)

// Header is what the decoder reads of a syslog message. Hostname and App
// alias the message bytes.
type Header struct {
	// Format is "rfc5424" or "rfc3164".
	Format   string
	Facility int
	Severity int
	Hostname []byte
	App      []byte
}

// Facility names (RFC 5424 §6.2.1 table 1).
var (
	facilityNames = [24]string{"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
		"uucp", "cron", "authpriv", "ftp", "ntp", "audit", "alert", "clock",
		"local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"}
)

// Parse reads the header of one syslog message. A message without a PRI
// part wraps protocols.ErrUnsupported. Fields that are absent or do not
// parse are left empty: RFC 3164 §4.3.3 treats a message without a valid
// TIMESTAMP as content only.
func Parse(b []byte) (Header, error) {
	p, n := pri(b)
	if n == 0 {
		return Header{}, protocols.Unsupportedf("syslog: no PRI part")
	}
	h := Header{Facility: p >> 3, Severity: p & 7}
	b = b[n:]
	if len(b) >= 2 && b[0] == '1' && b[1] == ' ' {
		h.Format = "rfc5424"
		parse5424(b[2:], &h)
		return h, nil
	}
	h.Format = "rfc3164"
	parse3164(b, &h)
	return h, nil
}

// parse5424 reads TIMESTAMP SP HOSTNAME SP APP-NAME (RFC 5424 §6.2).
func parse5424(b []byte, h *Header) {
	_, b = token(b, 64) // TIMESTAMP
	host, b := token(b, maxHostname)
	app, _ := token(b, maxApp)
	if printASCII(host) && string(host) != "-" {
		h.Hostname = host
	}
	if printASCII(app) && string(app) != "-" {
		h.App = app
	}
}

// parse3164 reads TIMESTAMP SP HOSTNAME SP TAG (RFC 3164 §4.1.2, §4.1.3).
// TIMESTAMP is "Mmm dd hh:mm:ss" or, as rsyslog and syslog-ng send it, an
// RFC 3339 time stamp. Without one, a leading "tag:" or "tag[pid]:" is
// still read as the application.
func parse3164(b []byte, h *Header) {
	rest, ok := timestamp(b)
	if !ok {
		h.App = tag(b)
		return
	}
	host, after := token(rest, maxHostname)
	if len(host) == 0 {
		return
	}
	if t := tag(rest); t != nil {
		// "Apr  5 12:56:51 robin: Hello": the word after the time stamp
		// is a tag, there is no host name.
		h.App = t
		return
	}
	if !printASCII(host) {
		return
	}
	h.Hostname = host
	h.App = tag(after)
}

var months = [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// timestamp skips an RFC 3164 or RFC 3339 time stamp and the space after it.
func timestamp(b []byte) ([]byte, bool) {
	// Mmm dd hh:mm:ss, day space-padded (RFC 3164) or zero-padded (seen).
	if len(b) >= 16 && b[15] == ' ' && b[3] == ' ' && b[9] == ':' && b[12] == ':' {
		for _, m := range months {
			if string(b[:3]) == m {
				if digitOrSpace(b[4]) && digit(b[5]) && digit(b[7]) && digit(b[8]) &&
					digit(b[10]) && digit(b[11]) && digit(b[13]) && digit(b[14]) && b[6] == ' ' {
					return b[16:], true
				}
				break
			}
		}
		return nil, false
	}
	// YYYY-MM-DDThh:mm:ss[.frac](Z|+hh:mm)
	if len(b) >= 20 && digit(b[0]) && digit(b[1]) && digit(b[2]) && digit(b[3]) && b[4] == '-' && b[7] == '-' && b[10] == 'T' {
		if i := bytes.IndexByte(b[:min(len(b), 40)], ' '); i > 0 {
			return b[i+1:], true
		}
	}
	return nil, false
}

// token returns the bytes up to the next space (at most limit of them;
// longer words give nil) and what follows the space.
func token(b []byte, limit int) (word, rest []byte) {
	i := bytes.IndexByte(b, ' ')
	if i < 0 {
		i = len(b)
	}
	word, rest = b[:i], b[min(i+1, len(b)):]
	if len(word) > limit {
		return nil, rest
	}
	return word, rest
}

// tag returns the RFC 3164 TAG at the start of b when it is followed by
// ":" or "[pid]:": a letter, then up to 47 letters, digits and "-_./".
func tag(b []byte) []byte {
	if len(b) == 0 || digit(b[0]) {
		return nil
	}
	i := 0
	for i < len(b) && i <= maxApp && (alnum(b[i]) || b[i] == '-' || b[i] == '_' || b[i] == '.' || b[i] == '/') {
		i++
	}
	if i == 0 || i > maxApp || i == len(b) {
		return nil
	}
	switch b[i] {
	case ':':
		return b[:i]
	case '[':
		if j := bytes.IndexByte(b[i:min(len(b), i+24)], ']'); j > 1 && i+j+1 < len(b) && b[i+j+1] == ':' {
			return b[:i]
		}
	}
	return nil
}

// isName reports whether s names a host: a DNS-style name that is neither
// an IP address nor localhost.
func isName(s string) bool {
	if s == "" || len(s) > 253 || s == "localhost" || s == "localhost.localdomain" || s[0] == '-' || s[0] == '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(alnum(c) || c == '-' || c == '.' || c == '_') {
			return false
		}
	}
	_, err := netip.ParseAddr(s)
	return err != nil
}

func printASCII(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < 33 || c > 126 {
			return false
		}
	}
	return true
}

func digit(c byte) bool        { return c >= '0' && c <= '9' }
func digitOrSpace(c byte) bool { return c == ' ' || digit(c) }
func alnum(c byte) bool        { return digit(c) || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
