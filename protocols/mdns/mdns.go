// Package mdns decodes multicast DNS (RFC 6762) and DNS-based service
// discovery (RFC 6763) on UDP 5353: the host names and addresses a device
// announces, the services it offers and the identity keys of their TXT
// records. Messages are parsed with protocols/dns.
package mdns

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/iomt-sensor/iomt-sensor/protocols"
	"github.com/iomt-sensor/iomt-sensor/protocols/dns"
)

// Port is the mDNS port (RFC 6762 §3).
const Port = 5353

// MaxMessageLen caps the datagram the decoder reads (RFC 6762 §17: up to
// 9000 bytes; any UDP payload is accepted up to its maximum).
const MaxMessageLen = 65535

// maxFacts caps the facts of one observation.
const maxFacts = 64

// Fact names.
const (
	// FactHostname is the owner name of an A/AAAA record, or the target of a
	// reverse PTR record.
	FactHostname = "mdns.hostname"
	// FactService is a service type the sender offers ("_ipp._tcp").
	FactService = "mdns.service"
	// FactInstance is a service instance name ("Luca’s iMac").
	FactInstance = "mdns.instance"
	// FactSRV is a service type and port from an SRV record ("_ipp._tcp:631").
	FactSRV = "mdns.srv"
	// FactQuery is a service type the sender looks for.
	FactQuery = "mdns.query"
	// FactTXTPrefix prefixes a TXT key of interest, lower case ("mdns.txt.model").
	FactTXTPrefix = "mdns.txt."
)

// txtKeys are the TXT keys that identify a device (printers: ty, product,
// usb_MFG, usb_MDL; Apple: model, am, rpVr, osxvers; others: md,
// manufacturer). They are matched without regard to case.
var txtKeys = [...]string{"model", "md", "ty", "usb_mfg", "usb_mdl", "product", "manufacturer", "am", "rpvr", "osxvers"}

// Spec describes mDNS to the sensor.
func Spec() protocols.Spec {
	return protocols.Spec{
		Name:      "mdns",
		Transport: protocols.UDP,
		Ports:     []uint16{Port},
		Detect:    Detect,
		New:       New,
	}
}

// Detect reports whether first looks like an mDNS message: opcode 0,
// response code 0, at least one question or record, counts that fit the
// datagram, and a first entry that parses.
func Detect(_ protocols.Direction, first []byte) bool {
	h, ok := dns.ParseHeader(first)
	if !ok || h.Opcode() != 0 || h.RCode() != 0 || !h.Plausible(len(first)) ||
		int(h.Questions)+int(h.Answers)+int(h.Authorities)+int(h.Additionals) == 0 {
		return false
	}
	var p dns.Parser
	if _, err := p.Reset(first); err != nil {
		return false
	}
	_, ok, err := p.Next()
	return ok && err == nil
}

// New returns the mDNS decoder. It keeps no state, so every flow shares it.
func New(protocols.FlowInfo) protocols.Decoder { return Decoder{} }

// Decoder turns each mDNS message into observations. It is stateless: an
// error concerns one datagram only.
type Decoder struct{}

// Gap does nothing: mDNS runs over UDP.
func (Decoder) Gap(protocols.Direction, int, time.Time, protocols.Emit) {}

// Close does nothing: the decoder keeps no state.
func (Decoder) Close(time.Time, protocols.Emit) {}

// Feed decodes one mDNS message; the package README lists what each record
// gives. A response gives one Observation per distinct address (A/AAAA or
// reverse PTR: IP and Hostname, MAC zero, routed by IP) and one About Sender
// with the services, SRV ports and TXT keys. A query gives one About Sender
// with the service types asked for, if any.
func (Decoder) Feed(_ protocols.Direction, data []byte, _ time.Time, emit protocols.Emit) error {
	if len(data) > MaxMessageLen {
		return fmt.Errorf("%w: mdns: %d-byte datagram, cap %d", protocols.ErrTooLong, len(data), MaxMessageLen)
	}
	var p dns.Parser
	h, err := p.Reset(data)
	if err != nil {
		return err
	}
	if h.Opcode() != 0 {
		return fmt.Errorf("%w: mdns: opcode %d", protocols.ErrUnsupported, h.Opcode())
	}
	// First pass: check the whole message, names inside RDATA included, so
	// that a malformed message emits nothing.
	var buf [dns.MaxName]byte
	for {
		r, ok, err := p.Next()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		switch r.Type {
		case dns.TypePTR:
			if _, _, err := p.Name(r.DataOff, &buf); err != nil {
				return err
			}
		case dns.TypeSRV:
			if len(r.Data) < 7 {
				return protocols.Malformedf("mdns: %d-byte SRV record", len(r.Data))
			}
			if _, _, err := p.Name(r.DataOff+6, &buf); err != nil {
				return err
			}
		}
	}
	p.Reset(data)
	if !h.Response() {
		return query(&p, emit)
	}
	return response(&p, emit)
}

// query emits the service types asked for in PTR questions.
func query(p *dns.Parser, emit protocols.Emit) error {
	var facts []protocols.Fact
	for {
		r, ok, _ := p.Next()
		if !ok {
			break
		}
		if r.Section != dns.Question || r.Type != dns.TypePTR {
			continue
		}
		if st, _, ok := serviceType(r.Name); ok {
			facts = addFact(facts, FactQuery, st)
		}
	}
	if len(facts) > 0 {
		emit(protocols.Observation{Protocol: "mdns", Source: "mdns.query", About: protocols.Sender, Role: "client", Facts: facts})
	}
	return nil
}

func response(p *dns.Parser, emit protocols.Emit) error {
	var (
		buf   [dns.MaxName]byte
		facts []protocols.Fact
		addrs []protocols.Observation
		host  string
	)
	addAddr := func(o protocols.Observation) {
		for _, a := range addrs {
			if a.IP == o.IP && a.Hostname == o.Hostname {
				return
			}
		}
		addrs = append(addrs, o)
	}
	for {
		r, ok, _ := p.Next()
		if !ok {
			break
		}
		// Authority records of a query are probes (RFC 6762 §8.2); a
		// response has none, and questions carry no data.
		if r.Section == dns.Question || r.Section == dns.Authority || r.Class != dns.ClassIN {
			continue
		}
		switch r.Type {
		case dns.TypeA, dns.TypeAAAA:
			addr, ok := r.Addr()
			name := dns.Text(r.Name)
			if ok && name != "" {
				addAddr(protocols.Observation{Protocol: "mdns", Source: "mdns.response", IP: addr, Hostname: name,
					Facts: []protocols.Fact{{Name: FactHostname, Value: name}}})
			}
		case dns.TypePTR:
			target, _, _ := p.Name(r.DataOff, &buf)
			if addr, ok := dns.ReverseAddr(r.Name); ok {
				if t := dns.Text(target); t != "" {
					addAddr(protocols.Observation{Protocol: "mdns", Source: "mdns.response", IP: addr, Hostname: t,
						Facts: []protocols.Fact{{Name: FactHostname, Value: t}}})
				}
				continue
			}
			st, prefix, ok := serviceType(r.Name)
			if !ok {
				continue
			}
			if st == "_dns-sd._udp" && strings.EqualFold(prefix, "_services") {
				// Service type enumeration (RFC 6763 §9): the target is a type.
				if tt, _, ok := serviceType(target); ok {
					facts = addFact(facts, FactService, tt)
				}
				continue
			}
			facts = addFact(facts, FactService, st)
			if tt, inst, ok := serviceType(target); ok && tt == st && inst != "" {
				facts = addFact(facts, FactInstance, dns.Text([]byte(inst)))
			}
		case dns.TypeSRV:
			st, _, ok := serviceType(r.Name)
			target, _, _ := p.Name(r.DataOff+6, &buf)
			if !ok {
				continue
			}
			port := int(r.Data[4])<<8 | int(r.Data[5])
			facts = addFact(facts, FactSRV, st+":"+strconv.Itoa(port))
			if host == "" {
				host = dns.Text(target)
			}
		case dns.TypeTXT:
			facts = txt(facts, r.Data)
		}
	}
	for _, o := range addrs {
		emit(o)
	}
	if len(facts) > 0 || host != "" {
		emit(protocols.Observation{Protocol: "mdns", Source: "mdns.response", About: protocols.Sender, Hostname: host, Facts: facts})
	}
	return nil
}

// txt adds the keys of interest of a TXT record's strings (RFC 6763 §6).
func txt(facts []protocols.Fact, data []byte) []protocols.Fact {
	for i := 0; i < len(data); {
		l := int(data[i])
		i++
		if i+l > len(data) {
			return facts
		}
		s := data[i : i+l]
		i += l
		eq := -1
		for j, c := range s {
			if c == '=' {
				eq = j
				break
			}
		}
		if eq <= 0 {
			continue
		}
		key := string(s[:eq]) // compared only; not kept
		for _, k := range txtKeys {
			if strings.EqualFold(key, k) {
				if v := dns.Text(s[eq+1:]); v != "" {
					facts = addFact(facts, FactTXTPrefix+k, v)
				}
				break
			}
		}
	}
	return facts
}

// addFact appends name=value unless it is already there or the cap is reached.
func addFact(facts []protocols.Fact, name, value string) []protocols.Fact {
	if value == "" || len(facts) >= maxFacts {
		return facts
	}
	for _, f := range facts {
		if f.Name == name && f.Value == value {
			return facts
		}
	}
	return append(facts, protocols.Fact{Name: name, Value: value})
}

// serviceType splits a DNS-SD name "<prefix>._<service>._<tcp|udp>.local"
// (RFC 6763 §4.1, §7) into the service type "_<service>._<tcp|udp>" and the
// prefix before it (an instance name, "_<subtype>._sub", or ""). Names not
// under .local, or without a service type, give false.
func serviceType(name []byte) (st, prefix string, ok bool) {
	s := string(name)
	const local = ".local"
	if len(s) <= len(local) || !strings.EqualFold(s[len(s)-len(local):], local) {
		return "", "", false
	}
	s = s[:len(s)-len(local)]
	if len(s) < 6 || s[len(s)-5] != '.' || (!strings.EqualFold(s[len(s)-4:], "_tcp") && !strings.EqualFold(s[len(s)-4:], "_udp")) {
		return "", "", false
	}
	start := strings.LastIndexByte(s[:len(s)-5], '.') + 1
	if s[start] != '_' || len(s)-5-start < 2 {
		return "", "", false
	}
	st = dns.Text([]byte(s[start:]))
	if start > 0 {
		prefix = s[:start-1]
	}
	return st, prefix, st != ""
}
