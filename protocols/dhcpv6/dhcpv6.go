// Package dhcpv6 decodes DHCPv6 (RFC 8415) client and server messages into
// observations of the client (DUID, hardware address, FQDN, vendor class,
// option request fingerprint) and of the server.
package dhcpv6

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"github.com/iomt-sensor/iomt-sensor/protocols"
)

// Well-known ports (RFC 8415 §7.2).
const (
	ClientPort = 546
	ServerPort = 547
)

// MaxMessageLen caps the datagram the decoder reads.
const MaxMessageLen = 9000

// maxString caps every text value the decoder emits.
const maxString = 255

// Message types (RFC 8415 §7.3).
const (
	Solicit            = 1
	Advertise          = 2
	Request            = 3
	Confirm            = 4
	Renew              = 5
	Rebind             = 6
	Reply              = 7
	Release            = 8
	Decline            = 9
	Reconfigure        = 10
	InformationRequest = 11
	RelayForw          = 12
	RelayRepl          = 13
)

// Option codes the decoder reads.
const (
	optClientID    = 1  // RFC 8415 §21.2
	optServerID    = 2  // RFC 8415 §21.3
	optIANA        = 3  // RFC 8415 §21.4
	optIAAddr      = 5  // RFC 8415 §21.6
	optORO         = 6  // RFC 8415 §21.7
	optUserClass   = 15 // RFC 8415 §21.15
	optVendorClass = 16 // RFC 8415 §21.16
	optClientFQDN  = 39 // RFC 4704 §4
)

// Fact names.
const (
	FactMessageType      = "dhcpv6.message_type"
	FactDUID             = "dhcpv6.duid"
	FactDUIDType         = "dhcpv6.duid_type"
	FactEnterpriseNumber = "dhcpv6.enterprise_number"
	FactFQDN             = "dhcpv6.fqdn"
	FactVendorClass      = "dhcpv6.vendor_class"
	FactUserClass        = "dhcpv6.user_class"
	FactORO              = "dhcpv6.oro"
	FactServerDUID       = "dhcpv6.server_duid"
)

var typeNames = [...]string{"", "solicit", "advertise", "request", "confirm", "renew", "rebind", "reply",
	"release", "decline", "reconfigure", "information-request", "relay-forw", "relay-repl"}

// Spec describes DHCPv6 to the sensor.
func Spec() protocols.Spec {
	return protocols.Spec{
		Name:      "dhcpv6",
		Transport: protocols.UDP,
		Ports:     []uint16{ClientPort, ServerPort},
		Detect:    Detect,
		New:       New,
	}
}

// Detect reports whether first looks like a DHCPv6 client/server message: a
// known type, and options whose lengths exactly fill the datagram.
func Detect(_ protocols.Direction, first []byte) bool {
	if len(first) < 4 || first[0] == 0 || first[0] > InformationRequest {
		return false
	}
	return walk(first[4:], func(uint16, []byte) {}) == nil
}

// walk calls fn for each option of b, checking every length.
func walk(b []byte, fn func(code uint16, v []byte)) error {
	for i := 0; i < len(b); {
		if i+4 > len(b) {
			return protocols.Malformedf("dhcpv6: %d trailing bytes after the options", len(b)-i)
		}
		code := binary.BigEndian.Uint16(b[i:])
		n := int(binary.BigEndian.Uint16(b[i+2:]))
		if i+4+n > len(b) {
			return protocols.Malformedf("dhcpv6: option %d: length %d runs past the end", code, n)
		}
		fn(code, b[i+4:i+4+n])
		i += 4 + n
	}
	return nil
}

// New returns the DHCPv6 decoder. It keeps no state, so every flow shares it.
func New(protocols.FlowInfo) protocols.Decoder { return Decoder{} }

// Decoder turns each DHCPv6 datagram into observations. It is stateless.
type Decoder struct{}

// Gap does nothing: DHCPv6 runs over UDP.
func (Decoder) Gap(protocols.Direction, int, time.Time, protocols.Emit) {}

// Close does nothing: the decoder keeps no state.
func (Decoder) Close(time.Time, protocols.Emit) {}

// Feed decodes one DHCPv6 datagram. Client messages (solicit, request,
// confirm, renew, rebind, release, decline, information-request) give one
// Observation About Sender, Role client. Server messages (advertise, reply,
// reconfigure) give one About Receiver (the client: MAC from its DUID, IP
// from the IA_NA address of a reply) and one About Sender, Role server.
// Relay messages wrap protocols.ErrUnsupported.
func (Decoder) Feed(_ protocols.Direction, data []byte, _ time.Time, emit protocols.Emit) error {
	if len(data) > MaxMessageLen {
		return fmt.Errorf("%w: dhcpv6: %d-byte datagram, cap %d", protocols.ErrTooLong, len(data), MaxMessageLen)
	}
	if len(data) < 4 {
		return protocols.Malformedf("dhcpv6: %d-byte datagram", len(data))
	}
	t := data[0]
	if t == RelayForw || t == RelayRepl {
		return fmt.Errorf("%w: dhcpv6: relay message %d", protocols.ErrUnsupported, t)
	}
	if t == 0 || int(t) >= len(typeNames) {
		return protocols.Malformedf("dhcpv6: message type %d", t)
	}
	var clientID, serverID, iana, oro, vendor, user, fqdn []byte
	seen := func(p *[]byte, v []byte) {
		if *p == nil {
			*p = v[:len(v):len(v)]
		}
	}
	err := walk(data[4:], func(code uint16, v []byte) {
		switch code {
		case optClientID:
			seen(&clientID, v)
		case optServerID:
			seen(&serverID, v)
		case optIANA:
			seen(&iana, v)
		case optORO:
			seen(&oro, v)
		case optVendorClass:
			seen(&vendor, v)
		case optUserClass:
			seen(&user, v)
		case optClientFQDN:
			seen(&fqdn, v)
		}
	})
	if err != nil {
		return err
	}
	name := typeNames[t]
	source := "dhcpv6." + name
	server := t == Advertise || t == Reply || t == Reconfigure

	c := protocols.Observation{Protocol: "dhcpv6", Source: source, About: protocols.Sender, Role: "client"}
	facts := make([]protocols.Fact, 1, 8)
	facts[0] = protocols.Fact{Name: FactMessageType, Value: name}
	add := func(name, value string) {
		if value != "" {
			facts = append(facts, protocols.Fact{Name: name, Value: value})
		}
	}
	if clientID != nil {
		d := parseDUID(clientID)
		c.MAC = d.mac
		add(FactDUID, hexString(clientID))
		add(FactDUIDType, d.kind)
		add(FactEnterpriseNumber, d.enterprise)
	}
	if server {
		c.About = protocols.Receiver
		if t == Reply && iana != nil {
			c.IP = ianaAddr(iana)
		}
		c.Facts = facts
		emit(c)
		s := protocols.Observation{Protocol: "dhcpv6", Source: source, About: protocols.Sender, Role: "server"}
		facts = make([]protocols.Fact, 1, 4)
		facts[0] = protocols.Fact{Name: FactMessageType, Value: name}
		if serverID != nil {
			d := parseDUID(serverID)
			s.MAC = d.mac
			add(FactServerDUID, hexString(serverID))
			add(FactDUIDType, d.kind)
			add(FactEnterpriseNumber, d.enterprise)
		}
		if vendor != nil {
			add(FactVendorClass, vendorClass(vendor))
		}
		s.Facts = facts
		emit(s)
		return nil
	}
	if fqdn != nil {
		c.Hostname = fqdnName(fqdn)
		add(FactFQDN, c.Hostname)
	}
	if vendor != nil {
		add(FactVendorClass, vendorClass(vendor))
	}
	if user != nil {
		add(FactUserClass, classData(user))
	}
	if oro != nil {
		add(FactORO, oroString(oro))
	}
	c.Facts = facts
	emit(c)
	return nil
}

// duid is what a DUID (RFC 8415 §11) says.
type duid struct {
	kind       string // "llt", "en", "ll", "uuid" or the decimal type
	mac        protocols.MAC
	enterprise string
}

func parseDUID(b []byte) duid {
	if len(b) < 2 {
		return duid{}
	}
	t := binary.BigEndian.Uint16(b)
	var d duid
	switch t {
	case 1: // DUID-LLT: hardware type, time, link-layer address (§11.2)
		d.kind = "llt"
		if len(b) == 14 && binary.BigEndian.Uint16(b[2:]) == 1 {
			d.mac = protocols.MAC(b[8:14])
		}
	case 2: // DUID-EN: enterprise number, identifier (§11.3)
		d.kind = "en"
		if len(b) >= 6 {
			d.enterprise = strconv.FormatUint(uint64(binary.BigEndian.Uint32(b[2:])), 10)
		}
	case 3: // DUID-LL: hardware type, link-layer address (§11.4)
		d.kind = "ll"
		if len(b) == 10 && binary.BigEndian.Uint16(b[2:]) == 1 {
			d.mac = protocols.MAC(b[4:10])
		}
	case 4: // DUID-UUID (RFC 6355)
		d.kind = "uuid"
	default:
		d.kind = strconv.Itoa(int(t))
	}
	if d.mac.IsMulticast() || d.mac.IsZero() {
		d.mac = protocols.MAC{}
	}
	return d
}

// ianaAddr returns the first IA Address inside an IA_NA option (RFC 8415
// §21.4: IAID, T1, T2, then options).
func ianaAddr(b []byte) netip.Addr {
	if len(b) < 12 {
		return netip.Addr{}
	}
	var a netip.Addr
	walk(b[12:], func(code uint16, v []byte) {
		if code == optIAAddr && len(v) >= 24 && !a.IsValid() {
			a = netip.AddrFrom16([16]byte(v[:16]))
		}
	})
	return a
}

const hexDigits = "0123456789abcdef"

// hexString formats b as lower-case hex, capped at maxString-1 digits.
func hexString(b []byte) string {
	var out [maxString - 1]byte
	n := 0
	for _, c := range b {
		if n+2 > len(out) {
			break
		}
		out[n], out[n+1] = hexDigits[c>>4], hexDigits[c&0xf]
		n += 2
	}
	return string(out[:n])
}

// oroString formats the option request option (RFC 8415 §21.7) as
// comma-separated decimal codes in wire order: the fingerprint string.
func oroString(b []byte) string {
	var buf [maxString * 2]byte
	out := buf[:0]
	for i := 0; i+1 < len(b); i += 2 {
		if len(out)+6 > len(buf) {
			break
		}
		if i > 0 {
			out = append(out, ',')
		}
		out = strconv.AppendUint(out, uint64(binary.BigEndian.Uint16(b[i:])), 10)
	}
	return string(out)
}

// vendorClass formats the vendor class option (RFC 8415 §21.16): the
// enterprise number, a colon, and the class data joined with ",".
func vendorClass(b []byte) string {
	if len(b) < 4 {
		return ""
	}
	en := strconv.FormatUint(uint64(binary.BigEndian.Uint32(b)), 10)
	data := classData(b[4:])
	if data == "" {
		return en
	}
	return en + ":" + data
}

// classData joins the 2-byte-length-prefixed instances of a user or vendor
// class option with ",", as sanitized text.
func classData(b []byte) string {
	var buf [maxString]byte
	n := 0
	for i := 0; i+2 <= len(b); {
		l := int(binary.BigEndian.Uint16(b[i:]))
		i += 2
		if i+l > len(b) {
			l = len(b) - i
		}
		if n > 0 && n < len(buf) {
			buf[n] = ','
			n++
		}
		n += copy(buf[n:], b[i:i+l])
		i += l
	}
	return sanitize(buf[:n])
}

// fqdnName returns the name of the client FQDN option (RFC 4704 §4: flags,
// then a DNS wire-format name, possibly partial, without compression).
func fqdnName(b []byte) string {
	if len(b) < 2 {
		return ""
	}
	name := b[1:]
	var buf [maxString]byte
	n := 0
	for i := 0; i < len(name); {
		l := int(name[i])
		i++
		if l == 0 {
			break
		}
		if l > 63 || i+l > len(name) {
			return ""
		}
		if n > 0 && n < len(buf) {
			buf[n] = '.'
			n++
		}
		n += copy(buf[n:], name[i:i+l])
		i += l
	}
	return sanitize(buf[:n])
}

// sanitize keeps printable ASCII only, cut at the first NUL, trimmed and
// capped at maxString bytes.
func sanitize(b []byte) string {
	var buf [maxString]byte
	n := 0
	for _, c := range b {
		if c == 0 {
			break
		}
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
