// Package dhcp decodes DHCPv4 (RFC 2131, options RFC 2132) client and server
// messages into observations of the client (hardware address, address,
// hostname and the option fingerprint) and of the server.
package dhcp

import (
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"github.com/iomt-sensor/iomt-sensor/protocols"
)

// Well-known ports (RFC 2131 §4.1).
const (
	ServerPort = 67
	ClientPort = 68
)

// Offsets into the fixed BOOTP header (RFC 2131 §2, figure 1).
const (
	offOp     = 0
	offHtype  = 1
	offHlen   = 2
	offCiaddr = 12
	offYiaddr = 16
	offChaddr = 28
	offCookie = 236
	// HeaderLen is the fixed header plus the magic cookie: options start here.
	HeaderLen = 240
)

// MaxMessageLen caps the datagram the decoder reads. DHCP messages fit one
// frame (RFC 2131 §2: 576 bytes at least, rarely over 1500); anything larger
// than a jumbo frame is refused with protocols.ErrTooLong.
const MaxMessageLen = 9000

// maxString caps every text value the decoder emits.
const maxString = 255

// Message types (option 53, RFC 2132 §9.6).
const (
	Discover = 1
	Offer    = 2
	Request  = 3
	Decline  = 4
	Ack      = 5
	Nak      = 6
	Release  = 7
	Inform   = 8
)

// Option codes the decoder reads.
const (
	optPad         = 0
	optHostname    = 12  // RFC 2132 §3.14
	optRequestedIP = 50  // RFC 2132 §9.1
	optMessageType = 53  // RFC 2132 §9.6
	optServerID    = 54  // RFC 2132 §9.7
	optParamList   = 55  // RFC 2132 §9.8
	optMaxMsgSize  = 57  // RFC 2132 §9.10
	optVendorClass = 60  // RFC 2132 §9.13
	optClientID    = 61  // RFC 2132 §9.14, RFC 4361
	optUserClass   = 77  // RFC 3004
	optClientFQDN  = 81  // RFC 4702
	optMUDURL      = 161 // RFC 8520 §10
	optEnd         = 255
)

// Fact names.
const (
	FactMessageType    = "dhcp.message_type"
	FactHostname       = "dhcp.hostname"
	FactClientID       = "dhcp.client_id"
	FactVendorClass    = "dhcp.vendor_class"
	FactParamList      = "dhcp.param_list"
	FactRequestedIP    = "dhcp.requested_ip"
	FactFQDN           = "dhcp.fqdn"
	FactUserClass      = "dhcp.user_class"
	FactMUDURL         = "dhcp.mud_url"
	FactMaxMessageSize = "dhcp.max_message_size"
	FactServerID       = "dhcp.server_id"
)

// names returns the lower-case name of message type t and the Observation
// source for it, or "" for types the decoder does not describe.
func names(t byte) (name, source string) {
	switch t {
	case Discover:
		return "discover", "dhcp.discover"
	case Offer:
		return "offer", "dhcp.offer"
	case Request:
		return "request", "dhcp.request"
	case Decline:
		return "decline", "dhcp.decline"
	case Ack:
		return "ack", "dhcp.ack"
	case Nak:
		return "nak", "dhcp.nak"
	case Release:
		return "release", "dhcp.release"
	case Inform:
		return "inform", "dhcp.inform"
	}
	return "", ""
}

// Spec describes DHCPv4 to the sensor.
func Spec() protocols.Spec {
	return protocols.Spec{
		Name:      "dhcp",
		Transport: protocols.UDP,
		Ports:     []uint16{ServerPort, ClientPort},
		Detect:    Detect,
		New:       New,
	}
}

// Detect reports whether first looks like a DHCP message: a BOOTREQUEST or
// BOOTREPLY with a plausible hardware address length and the DHCP magic
// cookie 99.130.83.99 at offset 236.
func Detect(_ protocols.Direction, first []byte) bool {
	return len(first) >= HeaderLen &&
		(first[offOp] == 1 || first[offOp] == 2) &&
		first[offHtype] != 0 && first[offHlen] <= 16 &&
		first[offCookie] == 99 && first[offCookie+1] == 130 &&
		first[offCookie+2] == 83 && first[offCookie+3] == 99
}

// New returns the DHCP decoder. It keeps no state, so every flow shares it.
func New(protocols.FlowInfo) protocols.Decoder { return Decoder{} }

// Decoder turns each DHCP datagram into observations. It is stateless: an
// error concerns one datagram only.
type Decoder struct{}

// Gap does nothing: DHCP runs over UDP.
func (Decoder) Gap(protocols.Direction, int, time.Time, protocols.Emit) {}

// Close does nothing: the decoder keeps no state.
func (Decoder) Close(time.Time, protocols.Emit) {}

// numOptsRecorded is how many distinct option codes recorded accepts.
const numOptsRecorded = 10

// options holds the first instance of each option the decoder reads, in
// wire order (RFC 3396 concatenation of split options is not done).
type options struct {
	msgType byte
	n       int
	code    [numOptsRecorded]byte
	val     [numOptsRecorded][]byte
}

func (o *options) get(code byte) ([]byte, bool) {
	for i := range o.n {
		if o.code[i] == code {
			return o.val[i], true
		}
	}
	return nil, false
}

func recorded(code byte) bool {
	switch code {
	case optHostname, optRequestedIP, optServerID, optParamList, optMaxMsgSize,
		optVendorClass, optClientID, optUserClass, optClientFQDN, optMUDURL:
		return true
	}
	return false
}

// parseOptions walks the options field (RFC 2132 §2) checking every length.
// Option overload (52) is not followed: options in sname and file are ignored.
func parseOptions(b []byte, o *options) error {
	for i := 0; i < len(b); {
		code := b[i]
		if code == optPad {
			i++
			continue
		}
		if code == optEnd {
			return nil
		}
		if i+1 >= len(b) {
			return protocols.Malformedf("dhcp: option %d at offset %d has no length", code, HeaderLen+i)
		}
		n := int(b[i+1])
		if i+2+n > len(b) {
			return protocols.Malformedf("dhcp: option %d at offset %d: length %d runs past the end", code, HeaderLen+i, n)
		}
		v := b[i+2 : i+2+n]
		i += 2 + n
		switch {
		case code == optMessageType:
			if n != 1 {
				return protocols.Malformedf("dhcp: message type option length %d, want 1", n)
			}
			if o.msgType == 0 {
				o.msgType = v[0]
			}
		case recorded(code):
			if _, dup := o.get(code); !dup && o.n < len(o.code) {
				o.code[o.n], o.val[o.n] = code, v
				o.n++
			}
		}
	}
	// A missing end option is tolerated: the datagram ended.
	return nil
}

// Feed decodes one DHCP datagram. Client messages (BOOTREQUEST: DISCOVER,
// REQUEST, DECLINE, RELEASE, INFORM) give one Observation about the sender;
// server messages (BOOTREPLY: OFFER, ACK, NAK) give one about the client
// (About Receiver) and one about the server (About Sender). Other message
// types (lease query, RFC 4388) and BOOTP without option 53 wrap
// protocols.ErrUnsupported.
func (Decoder) Feed(_ protocols.Direction, data []byte, _ time.Time, emit protocols.Emit) error {
	if len(data) > MaxMessageLen {
		return fmt.Errorf("%w: dhcp: %d-byte datagram, cap %d", protocols.ErrTooLong, len(data), MaxMessageLen)
	}
	if !Detect(protocols.FromClient, data) {
		return protocols.Malformedf("dhcp: not a DHCP message (%d bytes, no BOOTP header with magic cookie)", len(data))
	}
	var o options
	if err := parseOptions(data[HeaderLen:], &o); err != nil {
		return err
	}
	op, t := data[offOp], o.msgType
	if t == 0 {
		return fmt.Errorf("%w: dhcp: no message type option (plain BOOTP)", protocols.ErrUnsupported)
	}
	name, source := names(t)
	if name == "" {
		return fmt.Errorf("%w: dhcp: message type %d", protocols.ErrUnsupported, t)
	}
	client := t == Discover || t == Request || t == Decline || t == Release || t == Inform
	if client != (op == 1) {
		return protocols.Malformedf("dhcp: message type %s with op %d", name, op)
	}

	var chaddr protocols.MAC
	if data[offHtype] == 1 && data[offHlen] == 6 {
		copy(chaddr[:], data[offChaddr:offChaddr+6])
	}
	if client {
		emit(clientObservation(data, &o, chaddr, name, source))
		return nil
	}

	c := protocols.Observation{
		Protocol: "dhcp",
		Source:   source,
		About:    protocols.Receiver,
		MAC:      chaddr,
		Role:     "client",
		Facts:    []protocols.Fact{{Name: FactMessageType, Value: name}},
	}
	if t == Ack {
		if ip := addr4(data[offYiaddr : offYiaddr+4]); !ip.IsUnspecified() {
			c.IP = ip
		}
	}
	emit(c)

	s := protocols.Observation{
		Protocol: "dhcp",
		Source:   source,
		About:    protocols.Sender,
		Role:     "server",
	}
	facts := make([]protocols.Fact, 1, 3)
	facts[0] = protocols.Fact{Name: FactMessageType, Value: name}
	for i := range o.n {
		v := o.val[i]
		switch o.code[i] {
		case optServerID:
			if len(v) == 4 {
				s.IP = addr4(v)
				facts = append(facts, protocols.Fact{Name: FactServerID, Value: s.IP.String()})
			}
		case optVendorClass:
			if str := sanitize(v); str != "" {
				facts = append(facts, protocols.Fact{Name: FactVendorClass, Value: str})
			}
		}
	}
	s.Facts = facts
	emit(s)
	return nil
}

func clientObservation(data []byte, o *options, chaddr protocols.MAC, name, source string) protocols.Observation {
	obs := protocols.Observation{
		Protocol: "dhcp",
		Source:   source,
		About:    protocols.Sender,
		MAC:      chaddr,
		Role:     "client",
	}
	if ip := addr4(data[offCiaddr : offCiaddr+4]); !ip.IsUnspecified() {
		obs.IP = ip
	}
	facts := make([]protocols.Fact, 1, 1+o.n)
	facts[0] = protocols.Fact{Name: FactMessageType, Value: name}
	add := func(name, value string) {
		if value != "" {
			facts = append(facts, protocols.Fact{Name: name, Value: value})
		}
	}
	for i := range o.n {
		v := o.val[i]
		switch o.code[i] {
		case optHostname:
			obs.Hostname = sanitize(v)
			add(FactHostname, obs.Hostname)
		case optClientID:
			add(FactClientID, clientID(v))
		case optVendorClass:
			add(FactVendorClass, sanitize(v))
		case optParamList:
			add(FactParamList, paramList(v))
		case optRequestedIP:
			if len(v) == 4 {
				add(FactRequestedIP, addr4(v).String())
			}
		case optClientFQDN:
			add(FactFQDN, fqdn(v))
		case optUserClass:
			add(FactUserClass, userClass(v))
		case optMUDURL:
			add(FactMUDURL, sanitize(v))
		case optMaxMsgSize:
			if len(v) == 2 {
				add(FactMaxMessageSize, strconv.Itoa(int(v[0])<<8|int(v[1])))
			}
		}
	}
	obs.Facts = facts
	return obs
}

func addr4(b []byte) netip.Addr { return netip.AddrFrom4([4]byte(b)) }
