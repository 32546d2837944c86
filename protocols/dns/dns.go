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
	"net/netip"
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
	// One pass reads the whole message and keeps the answers, so that a
	// malformed message emits nothing. The answers' texts go back to back
	// into vals, which becomes one string, and their facts into one slice:
	// a response costs two allocations, one more when its texts pass 256
	// bytes and one more when it has over 16 answers (both rare). The
	// buffers are small because every call clears them.
	var (
		back     [256]byte
		vals     = back[:0]
		small    [16]pendingAnswer
		answers  = small[:0]
		nfacts   int
		qbuf     [MaxName]byte
		qname    []byte
		tbuf     [MaxName]byte
		lbuf     [MaxName]byte
		last     []byte // the last owner name, whose text is vals[lastText[0]:lastText[1]]
		lastText [2]uint16
		alias    [2]uint16 // the question name's text, once made
		aliasSet bool
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
		if r.Section != Answer {
			continue
		}
		if addr, ok := r.Addr(); ok {
			// Answers usually repeat one owner name: its text is made once.
			if last == nil || !bytes.Equal(last, r.Name) {
				start := len(vals)
				vals = appendText(vals, r.Name)
				last, lastText = lbuf[:copy(lbuf[:], r.Name)], [2]uint16{uint16(start), uint16(len(vals))}
			}
			if lastText[1] == lastText[0] {
				continue
			}
			a := pendingAnswer{addr: addr, name: lastText}
			if qname != nil && !bytes.Equal(qname, r.Name) && !bytes.EqualFold(qname, r.Name) {
				if !aliasSet {
					start := len(vals)
					vals = appendText(vals, qname)
					alias, aliasSet = [2]uint16{uint16(start), uint16(len(vals))}, true
				}
				a.alias = alias[1] > alias[0]
			}
			nfacts++
			if a.alias {
				nfacts++
			}
			answers = append(answers, a)
			continue
		}
		if r.Type != TypePTR {
			continue
		}
		target, _, err := p.Name(r.DataOff, &tbuf)
		if err != nil {
			return err
		}
		if r.Class != ClassIN {
			continue
		}
		addr, ok := ReverseAddr(r.Name)
		if !ok {
			continue
		}
		start := len(vals)
		vals = appendText(vals, target)
		if len(vals) == start {
			continue
		}
		answers = append(answers, pendingAnswer{addr: addr, name: [2]uint16{uint16(start), uint16(len(vals))}, ptr: true})
		nfacts++
	}
	emit(protocols.Observation{Protocol: "dns", Source: "dns.response", About: protocols.Sender, Role: "server"})
	if len(answers) == 0 {
		return nil
	}
	all := string(vals)
	facts := make([]protocols.Fact, nfacts)
	for _, a := range answers {
		name := all[a.name[0]:a.name[1]]
		o := protocols.Observation{Protocol: "dns", Source: "dns.response", IP: a.addr, Hostname: name}
		switch {
		case a.ptr:
			facts[0] = protocols.Fact{Name: FactPTR, Value: name}
			o.Facts, facts = facts[:1:1], facts[1:]
		case a.alias:
			facts[0] = protocols.Fact{Name: FactName, Value: name}
			facts[1] = protocols.Fact{Name: FactAlias, Value: all[alias[0]:alias[1]]}
			o.Facts, facts = facts[:2:2], facts[2:]
		default:
			facts[0] = protocols.Fact{Name: FactName, Value: name}
			o.Facts, facts = facts[:1:1], facts[1:]
		}
		emit(o)
	}
	return nil
}

// pendingAnswer is an observation to emit. Its name is a range of the
// response's one string (which holds at most MaxRecords texts of MaxName
// bytes: uint16 offsets do); alias says it has fact dns.alias, the question
// name's text.
type pendingAnswer struct {
	addr       netip.Addr
	name       [2]uint16
	alias, ptr bool
}
