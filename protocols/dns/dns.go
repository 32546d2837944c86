// Package dns decodes DNS responses (RFC 1035) on UDP 53 into observations
// of the hosts they name: each A/AAAA answer gives the answered address its
// name, and each reverse PTR answer gives the address the PTR target.
//
// It also exports Parser, a small allocation-free walker over a message's
// questions and records with name decompression, shared with the mDNS
// decoder.
package dns

import (
	"bytes"
	"fmt"
	"time"

	"github.com/iomt-sensor/iomt-sensor/protocols"
)

// Port is the well-known DNS port.
const Port = 53

// MaxMessageLen caps the datagram the decoder reads: the largest UDP payload.
const MaxMessageLen = 65535

// Fact names.
const (
	// FactName is the owner name of an A/AAAA answer.
	FactName = "dns.name"
	// FactAlias is the name asked for, when a CNAME chain led to another owner.
	FactAlias = "dns.alias"
	// FactPTR is the target of a reverse (in-addr.arpa / ip6.arpa) PTR answer.
	FactPTR = "dns.ptr"
)

// Spec describes DNS to the sensor.
func Spec() protocols.Spec {
	return protocols.Spec{
		Name:      "dns",
		Transport: protocols.UDP,
		Ports:     []uint16{Port},
		Detect:    Detect,
		New:       New,
	}
}

// Detect reports whether first looks like a standard DNS query or response:
// opcode 0, the reserved Z bit clear, exactly one question that parses, and
// record counts that fit the datagram.
func Detect(_ protocols.Direction, first []byte) bool {
	h, ok := ParseHeader(first)
	if !ok || h.Opcode() != 0 || h.Flags&0x0040 != 0 || h.Questions != 1 || !h.Plausible(len(first)) {
		return false
	}
	var p Parser
	if _, err := p.Reset(first); err != nil {
		return false
	}
	r, ok, err := p.Next()
	return ok && err == nil && (r.Class == ClassIN || r.Class == 255)
}

// New returns the DNS decoder. It keeps no state, so every flow shares it.
func New(protocols.FlowInfo) protocols.Decoder { return Decoder{} }

// Decoder turns each DNS response into observations. It is stateless: an
// error concerns one datagram only.
type Decoder struct{}

// Gap does nothing: the decoder reads UDP.
func (Decoder) Gap(protocols.Direction, int, time.Time, protocols.Emit) {}

// Close does nothing: the decoder keeps no state.
func (Decoder) Close(time.Time, protocols.Emit) {}

// Feed decodes one DNS datagram. Queries give nothing. A standard response
// gives one Observation about its sender (Role "server", no facts: the host
// answers DNS) and then, for each answer (at most MaxRecords records are
// read):
//   - A/AAAA of class IN: IP = the address, Hostname and fact dns.name = the
//     owner name, and fact dns.alias = the question name when it differs
//     (a CNAME chain);
//   - PTR under in-addr.arpa / ip6.arpa: IP = the reversed address,
//     Hostname and fact dns.ptr = the target.
//
// These observations are about the host that has the address, neither side
// of the flow: MAC is zero and the sensor must route them by IP (About is
// left at its zero value and means nothing for them).
func (Decoder) Feed(_ protocols.Direction, data []byte, _ time.Time, emit protocols.Emit) error {
	if len(data) > MaxMessageLen {
		return fmt.Errorf("%w: dns: %d-byte datagram, cap %d", protocols.ErrTooLong, len(data), MaxMessageLen)
	}
	var p Parser
	h, err := p.Reset(data)
	if err != nil {
		return err
	}
	if h.Opcode() != 0 {
		return fmt.Errorf("%w: dns: opcode %d", protocols.ErrUnsupported, h.Opcode())
	}
	if !h.Response() {
		return nil
	}
	// First pass: check the whole message, so that a malformed one emits
	// nothing, and keep the question name.
	var (
		qbuf  [MaxName]byte
		qname []byte
		tbuf  [MaxName]byte
	)
	for {
		r, ok, err := p.Next()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		if r.Section == Question && qname == nil {
			qname = qbuf[:copy(qbuf[:], r.Name)]
		}
		if r.Section == Answer && r.Type == TypePTR {
			if _, _, err := p.Name(r.DataOff, &tbuf); err != nil {
				return err
			}
		}
	}
	emit(protocols.Observation{Protocol: "dns", Source: "dns.response", About: protocols.Sender, Role: "server"})
	p.Reset(data)
	// Answers usually repeat one owner name: its text is made once.
	var (
		lbuf  [MaxName]byte
		last  []byte
		lastT string
	)
	for {
		r, ok, _ := p.Next()
		if !ok {
			return nil
		}
		if r.Section != Answer {
			continue
		}
		if addr, ok := r.Addr(); ok {
			if last == nil || !bytes.Equal(last, r.Name) {
				last, lastT = lbuf[:copy(lbuf[:], r.Name)], Text(r.Name)
			}
			name := lastT
			if name == "" {
				continue
			}
			o := protocols.Observation{Protocol: "dns", Source: "dns.response", IP: addr, Hostname: name}
			if alias := aliasOf(qname, r.Name); alias != "" {
				o.Facts = []protocols.Fact{{Name: FactName, Value: name}, {Name: FactAlias, Value: alias}}
			} else {
				o.Facts = []protocols.Fact{{Name: FactName, Value: name}}
			}
			emit(o)
			continue
		}
		if r.Type != TypePTR || r.Class != ClassIN {
			continue
		}
		addr, ok := ReverseAddr(r.Name)
		if !ok {
			continue
		}
		target, _, _ := p.Name(r.DataOff, &tbuf)
		if t := Text(target); t != "" {
			emit(protocols.Observation{Protocol: "dns", Source: "dns.response", IP: addr, Hostname: t,
				Facts: []protocols.Fact{{Name: FactPTR, Value: t}}})
		}
	}
}

// aliasOf returns the question name as text when it differs from the owner
// name, or "".
func aliasOf(qname, owner []byte) string {
	if qname == nil || bytes.EqualFold(qname, owner) {
		return ""
	}
	return Text(qname)
}
