// Package wsdiscovery decodes WS-Discovery (SOAP over UDP 3702: the April
// 2005 draft Windows uses and OASIS WS-Discovery 1.1, on which IEEE 11073
// SDC builds) Hello, Bye, Probe, ProbeMatches, Resolve and ResolveMatches
// messages into observations of the endpoint, its types, scopes and
// transport addresses.
package wsdiscovery

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/iomt-sensor/iomt-sensor/protocols"
)

// Port is the WS-Discovery multicast port (WS-Discovery 1.1 §2.4).
const Port = 3702

// Caps on what the decoder reads.
const (
	// MaxMessageLen caps the datagram; larger ones wrap protocols.ErrTooLong.
	MaxMessageLen = 32 * 1024
	// MaxTokens caps the XML tokens read from one message; a message with
	// more wraps protocols.ErrTooLong.
	MaxTokens = 1024
	// MaxDepth caps element nesting.
	MaxDepth = 32
	// maxValue caps every fact value.
	maxValue = 255
)

// Fact names.
const (
	FactAction          = "wsd.action"           // Hello, Bye, Probe, ProbeMatches, Resolve, ResolveMatches
	FactVersion         = "wsd.version"          // 2005/04 or 1.1
	FactEndpoint        = "wsd.endpoint"         // EndpointReference Address: urn:uuid:...
	FactTypes           = "wsd.types"            // QNames: dpws:Device mdpws:MedicalDevice
	FactScopes          = "wsd.scopes"           // scope URIs
	FactXAddrs          = "wsd.xaddrs"           // transport addresses
	FactMetadataVersion = "wsd.metadata_version" // MetadataVersion
	FactSDC             = "wsd.sdc"              // true for IEEE 11073 SDC endpoints
	FactProbeTypes      = "wsd.probe_types"      // the types a Probe seeks
	FactProbeScopes     = "wsd.probe_scopes"     // the scopes a Probe seeks
	FactResolveEndpoint = "wsd.resolve_endpoint" // the endpoint a Resolve seeks
)

// Discovery namespaces.
const (
	ns2005 = "http://schemas.xmlsoap.org/ws/2005/04/discovery"
	ns11   = "http://docs.oasis-open.org/ws-dd/ns/discovery/2009/01"
)

// Spec describes WS-Discovery to the sensor.
func Spec() protocols.Spec {
	return protocols.Spec{
		Name:      "wsdiscovery",
		Transport: protocols.UDP,
		Ports:     []uint16{Port},
		Detect:    Detect,
		New:       New,
	}
}

// Detect reports whether first looks like a WS-Discovery message: XML
// (a '<' after optional byte order mark and white space) naming a
// discovery namespace within its first 2048 bytes.
func Detect(_ protocols.Direction, first []byte) bool {
	b := bytes.TrimPrefix(first, []byte("\xef\xbb\xbf"))
	b = bytes.TrimLeft(b, " \t\r\n")
	if len(b) == 0 || b[0] != '<' {
		return false
	}
	head := b[:min(len(b), 2048)]
	return bytes.Contains(head, []byte(ns2005)) || bytes.Contains(head, []byte(ns11))
}

// New returns the WS-Discovery decoder. It keeps no state, so every flow
// shares it.
func New(protocols.FlowInfo) protocols.Decoder { return Decoder{} }

// Decoder turns each WS-Discovery datagram into one observation of its
// sender. It is stateless: an error concerns one datagram only.
type Decoder struct{}

// Gap does nothing: WS-Discovery runs over UDP.
func (Decoder) Gap(protocols.Direction, int, time.Time, protocols.Emit) {}

// Close does nothing: the decoder keeps no state.
func (Decoder) Close(time.Time, protocols.Emit) {}

// message is what the scan keeps of one SOAP envelope: the first instance
// of each field.
type message struct {
	action, version                        string // body element local name, version
	endpoint, types, scopes, xaddrs, mdver string
}

// Feed decodes one SOAP envelope. Hello, Bye, ProbeMatches and
// ResolveMatches describe the sender (Role "server"); Probe and Resolve
// describe what the sender looks for (Role "client").
func (Decoder) Feed(_ protocols.Direction, data []byte, _ time.Time, emit protocols.Emit) error {
	if len(data) > MaxMessageLen {
		return fmt.Errorf("%w: wsdiscovery: %d-byte datagram, cap %d", protocols.ErrTooLong, len(data), MaxMessageLen)
	}
	if !Detect(protocols.FromClient, data) {
		return protocols.Malformedf("wsdiscovery: not a WS-Discovery message (%d bytes)", len(data))
	}
	m, err := scan(data)
	if err != nil {
		return err
	}
	switch {
	case bytes.Contains(data, []byte(ns11)):
		m.version = "1.1"
	case bytes.Contains(data, []byte(ns2005)):
		m.version = "2005/04"
	}
	o := protocols.Observation{Protocol: "wsdiscovery", About: protocols.Sender, Source: "wsd." + strings.ToLower(m.action)}
	facts := make([]protocols.Fact, 0, 8)
	add := func(name, value string) {
		if value != "" {
			facts = append(facts, protocols.Fact{Name: name, Value: value})
		}
	}
	add(FactAction, m.action)
	add(FactVersion, m.version)
	switch m.action {
	case "Probe":
		o.Role = "client"
		add(FactProbeTypes, m.types)
		add(FactProbeScopes, m.scopes)
	case "Resolve":
		o.Role = "client"
		add(FactResolveEndpoint, m.endpoint)
	default:
		o.Role = "server"
		add(FactEndpoint, m.endpoint)
		add(FactTypes, m.types)
		add(FactScopes, m.scopes)
		add(FactXAddrs, m.xaddrs)
		add(FactMetadataVersion, m.mdver)
		if isSDC(m.types) || isSDC(m.scopes) {
			add(FactSDC, "true")
		}
	}
	o.Facts = facts
	emit(o)
	return nil
}

// isSDC reports whether types or scopes name IEEE 11073 SDC: "sdc",
// "11073" or "MedicalDevice" (mdpws:MedicalDevice, sdc.mds.pkp scopes).
func isSDC(s string) bool {
	l := strings.ToLower(s)
	return strings.Contains(l, "sdc") || strings.Contains(l, "11073") || strings.Contains(l, "medicaldevice")
}

// scan walks the envelope's tokens, at most MaxTokens, MaxDepth deep. It
// finds the Body's first child in a discovery namespace and, inside it,
// the first EndpointReference Address, Types, Scopes, XAddrs and
// MetadataVersion.
func scan(data []byte) (message, error) {
	var (
		m        message
		stack    [MaxDepth]string
		depth    int
		inBody   bool
		bodyAt   = -1
		want     *string // field whose text is being read
		wantAt   int
		text     [maxValue]byte
		textLen  int
		dec      = xml.NewDecoder(bytes.NewReader(data))
		finished bool
	)
	dec.CharsetReader = func(charset string, r io.Reader) (io.Reader, error) {
		if strings.EqualFold(charset, "us-ascii") || strings.EqualFold(charset, "iso-8859-1") {
			return r, nil
		}
		return nil, errors.New("unsupported charset " + charset)
	}
	for n := 0; !finished; n++ {
		if n == MaxTokens {
			return m, fmt.Errorf("%w: wsdiscovery: over %d XML tokens", protocols.ErrTooLong, MaxTokens)
		}
		tok, err := dec.RawToken()
		if err == io.EOF {
			if m.action == "" {
				return m, protocols.Malformedf("wsdiscovery: no SOAP Body element")
			}
			return m, protocols.Malformedf("wsdiscovery: message ends inside the %s element", m.action)
		}
		if err != nil {
			return m, protocols.Malformedf("wsdiscovery: %v", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == MaxDepth {
				return m, fmt.Errorf("%w: wsdiscovery: XML nested over %d deep", protocols.ErrTooLong, MaxDepth)
			}
			local := t.Name.Local
			stack[depth] = local
			depth++
			switch {
			case local == "Body" && depth == 2:
				inBody = true
			case inBody && bodyAt < 0 && depth == 3:
				bodyAt = depth
				m.action = local
			case bodyAt >= 0 && want == nil:
				var f *string
				switch local {
				case "Address":
					if depth >= 2 && stack[depth-2] == "EndpointReference" {
						f = &m.endpoint
					}
				case "Types":
					f = &m.types
				case "Scopes":
					f = &m.scopes
				case "XAddrs":
					f = &m.xaddrs
				case "MetadataVersion":
					f = &m.mdver
				}
				if f != nil && *f == "" {
					want, wantAt, textLen = f, depth, 0
				}
			}
		case xml.CharData:
			if want != nil {
				textLen = appendText(&text, textLen, t)
			}
		case xml.EndElement:
			if want != nil && depth == wantAt {
				*want = strings.TrimSpace(string(text[:textLen]))
				want = nil
			}
			if depth == bodyAt {
				finished = true
			}
			if depth > 0 {
				depth--
			}
		}
	}
	switch m.action {
	case "Hello", "Bye", "Probe", "ProbeMatches", "Resolve", "ResolveMatches":
		return m, nil
	case "":
		return m, protocols.Malformedf("wsdiscovery: no SOAP Body element")
	}
	return m, fmt.Errorf("%w: wsdiscovery: body element %.40q", protocols.ErrUnsupported, m.action)
}

// appendText appends c to buf after n bytes, folding white space runs to
// one space and keeping printable ASCII only, up to the buffer's size.
func appendText(buf *[maxValue]byte, n int, c []byte) int {
	for _, ch := range c {
		if ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' {
			if n == 0 || buf[n-1] == ' ' {
				continue
			}
			ch = ' '
		} else if ch < 0x20 || ch > 0x7e {
			continue
		}
		if n == len(buf) {
			break
		}
		buf[n] = ch
		n++
	}
	return n
}
