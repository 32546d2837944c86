// Package ssdp decodes the Simple Service Discovery Protocol of UPnP (UPnP
// Device Architecture 1.1/2.0 §1): HTTP-over-UDP announcements (NOTIFY),
// searches (M-SEARCH) and search responses (HTTP/1.1 200 OK), into
// observations of the device's server string, unique service name, device
// and service types, description URL and, for searches, its user agent.
package ssdp

import (
	"bytes"
	"fmt"
	"time"

	"github.com/iomt-sensor/iomt-sensor/protocols"
)

// Port is the SSDP multicast port (UDA 1.1 §1.1.2).
const Port = 1900

// Caps on what the decoder reads.
const (
	// MaxMessageLen caps the datagram: SSDP messages fit one frame, anything
	// larger than a jumbo frame wraps protocols.ErrTooLong.
	MaxMessageLen = 9000
	// MaxHeaders is how many header lines are read; further lines are ignored.
	MaxHeaders = 32
	// MaxLineLen caps one header line; a longer line wraps protocols.ErrTooLong.
	MaxLineLen = 2048
	// maxValue caps every fact value.
	maxValue = 255
)

// Fact names.
const (
	FactMethod    = "ssdp.method"     // notify, m-search, response
	FactNTS       = "ssdp.nts"        // ssdp:alive, ssdp:byebye, ssdp:update
	FactServer    = "ssdp.server"     // SERVER: OS/version UPnP/1.x product/version
	FactUSN       = "ssdp.usn"        // the uuid:... part of USN
	FactNT        = "ssdp.nt"         // notification type (NOTIFY)
	FactST        = "ssdp.st"         // search target (M-SEARCH, response)
	FactLocation  = "ssdp.location"   // device description URL (never fetched)
	FactUserAgent = "ssdp.user_agent" // USER-AGENT of a search
)

// Message kinds, by start line.
const (
	kindNone = iota
	kindNotify
	kindSearch
	kindResponse
)

var (
	prefixNotify   = []byte("NOTIFY * HTTP/1.")
	prefixSearch   = []byte("M-SEARCH * HTTP/1.")
	prefixResponse = []byte("HTTP/1.")
)

// Spec describes SSDP to the sensor.
func Spec() protocols.Spec {
	return protocols.Spec{
		Name:      "ssdp",
		Transport: protocols.UDP,
		Ports:     []uint16{Port},
		Detect:    Detect,
		New:       New,
	}
}

// kind returns the message kind of data's start line. A response counts
// only when it carries an ST or USN header within its first MaxLineLen
// bytes, so that other HTTP over UDP is not taken for SSDP.
func kind(data []byte) int {
	switch {
	case bytes.HasPrefix(data, prefixNotify):
		return kindNotify
	case bytes.HasPrefix(data, prefixSearch):
		return kindSearch
	case bytes.HasPrefix(data, prefixResponse):
		head := data[:min(len(data), MaxLineLen)]
		if hasHeaderLine(head, "st:") || hasHeaderLine(head, "usn:") {
			return kindResponse
		}
	}
	return kindNone
}

// hasHeaderLine reports whether a line of b starts with name, ignoring case.
func hasHeaderLine(b []byte, name string) bool {
	for i := 0; i+len(name) < len(b); i++ {
		if b[i] == '\n' && bytes.EqualFold(b[i+1:i+1+len(name)], []byte(name)) {
			return true
		}
	}
	return false
}

// Detect reports whether first starts like an SSDP message: "NOTIFY *
// HTTP/1.x", "M-SEARCH * HTTP/1.x", or an HTTP/1.x response with an ST or
// USN header. It does not look at ports, so searches on other ports (Plex
// uses 32412) are recognised too.
func Detect(_ protocols.Direction, first []byte) bool { return kind(first) != kindNone }

// New returns the SSDP decoder. It keeps no state, so every flow shares it.
func New(protocols.FlowInfo) protocols.Decoder { return Decoder{} }

// Decoder turns each SSDP datagram into one observation of its sender. It is
// stateless: an error concerns one datagram only.
type Decoder struct{}

// Gap does nothing: SSDP runs over UDP.
func (Decoder) Gap(protocols.Direction, int, time.Time, protocols.Emit) {}

// Close does nothing: the decoder keeps no state.
func (Decoder) Close(time.Time, protocols.Emit) {}

// header is one header line's name and value, both trimmed.
type header struct{ name, value []byte }

// Feed decodes one SSDP datagram into one Observation about its sender:
// Role "server" for NOTIFY and search responses, "client" for M-SEARCH.
func (Decoder) Feed(_ protocols.Direction, data []byte, _ time.Time, emit protocols.Emit) error {
	if len(data) > MaxMessageLen {
		return fmt.Errorf("%w: ssdp: %d-byte datagram, cap %d", protocols.ErrTooLong, len(data), MaxMessageLen)
	}
	k := kind(data)
	if k == kindNone {
		return protocols.Malformedf("ssdp: not an SSDP start line (%d bytes)", len(data))
	}
	var (
		hdrs [MaxHeaders]header
		n    int
	)
	rest := data
	start := true
	for len(rest) > 0 {
		line := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i], rest[i+1:]
		} else {
			rest = nil
		}
		if len(line) > MaxLineLen {
			return fmt.Errorf("%w: ssdp: %d-byte line, cap %d", protocols.ErrTooLong, len(line), MaxLineLen)
		}
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if start {
			start = false
			continue
		}
		if len(line) == 0 {
			break // end of headers
		}
		if n == len(hdrs) {
			continue // over the header cap: ignored, lines still length-checked
		}
		name, value, ok := bytes.Cut(line, []byte{':'})
		if !ok {
			return protocols.Malformedf("ssdp: header line without colon: %.40q", line)
		}
		hdrs[n] = header{bytes.TrimSpace(name), bytes.TrimSpace(value)}
		n++
	}

	o := protocols.Observation{Protocol: "ssdp", About: protocols.Sender}
	facts := make([]protocols.Fact, 1, 1+n)
	switch k {
	case kindNotify:
		o.Source, o.Role = "ssdp.notify", "server"
		facts[0] = protocols.Fact{Name: FactMethod, Value: "notify"}
	case kindSearch:
		o.Source, o.Role = "ssdp.m-search", "client"
		facts[0] = protocols.Fact{Name: FactMethod, Value: "m-search"}
	default:
		o.Source, o.Role = "ssdp.response", "server"
		facts[0] = protocols.Fact{Name: FactMethod, Value: "response"}
	}
	var seen [8]bool // per fact kind below: the first instance counts
	add := func(slot int, name string, value []byte) {
		if seen[slot] {
			return
		}
		seen[slot] = true
		if v := sanitize(value); v != "" {
			facts = append(facts, protocols.Fact{Name: name, Value: v})
		}
	}
	for _, h := range hdrs[:n] {
		switch {
		case bytes.EqualFold(h.name, []byte("SERVER")) && k != kindSearch:
			add(0, FactServer, h.value)
		case bytes.EqualFold(h.name, []byte("USN")) && k != kindSearch:
			usn, _, _ := bytes.Cut(h.value, []byte("::"))
			add(1, FactUSN, usn)
		case bytes.EqualFold(h.name, []byte("NT")) && k == kindNotify:
			add(2, FactNT, h.value)
		case bytes.EqualFold(h.name, []byte("NTS")) && k == kindNotify:
			add(3, FactNTS, h.value)
		case bytes.EqualFold(h.name, []byte("ST")) && k != kindNotify:
			add(4, FactST, h.value)
		case bytes.EqualFold(h.name, []byte("LOCATION")) && k != kindSearch:
			add(5, FactLocation, h.value)
		case bytes.EqualFold(h.name, []byte("USER-AGENT")) && k == kindSearch:
			add(6, FactUserAgent, h.value)
		}
	}
	o.Facts = facts
	emit(o)
	return nil
}

// sanitize turns a header value into a printable fact value: printable
// ASCII only (0x20-0x7e), trimmed, capped at maxValue bytes.
func sanitize(b []byte) string {
	var buf [maxValue]byte
	n := 0
	for _, c := range b {
		if c < 0x20 || c > 0x7e || (c == ' ' && n == 0) {
			continue
		}
		if n == len(buf) {
			break
		}
		buf[n] = c
		n++
	}
	for n > 0 && buf[n-1] == ' ' {
		n--
	}
	return string(buf[:n])
}
