// Package protocols holds the contract between the sensor and its protocol
// decoders. A decoder turns the bytes of one flow (a datagram, one direction of
// a reassembled TCP stream, or an Ethernet payload) into Observations: typed
// facts about the devices that sent them.
//
// Decoders import only the standard library and this package. They know
// nothing of capture, flows, the inventory or NATS, never log, never panic on
// hostile input, and cap every length they read from the wire.
package protocols

import (
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// Transport says how a protocol's bytes reach its decoder.
type Transport uint8

const (
	// TCP decoders see one direction of a reassembled stream at a time, in order.
	TCP Transport = iota + 1
	// UDP decoders see one datagram at a time.
	UDP
	// Ethernet decoders see the payload of a frame after its EtherType (ARP, LLDP).
	Ethernet
)

func (t Transport) String() string {
	switch t {
	case TCP:
		return "tcp"
	case UDP:
		return "udp"
	case Ethernet:
		return "ethernet"
	}
	return "unknown"
}

// Direction says which side of a flow sent the bytes.
type Direction uint8

const (
	// FromClient is data sent by the side that opened the flow (sent the SYN,
	// or the first datagram).
	FromClient Direction = iota
	// FromServer is data sent by the other side.
	FromServer
)

// Reverse returns the other direction.
func (d Direction) Reverse() Direction { return d ^ 1 }

func (d Direction) String() string {
	if d == FromClient {
		return "client"
	}
	return "server"
}

// MAC is an IEEE 802 48-bit hardware address. The zero value means "unknown".
type MAC [6]byte

// IsZero reports whether m is unset.
func (m MAC) IsZero() bool { return m == MAC{} }

// IsBroadcast reports whether m is ff:ff:ff:ff:ff:ff.
func (m MAC) IsBroadcast() bool { return m == MAC{0xff, 0xff, 0xff, 0xff, 0xff, 0xff} }

// IsMulticast reports whether m is a group address (broadcast included).
func (m MAC) IsMulticast() bool { return m[0]&1 == 1 }

// IsLocal reports whether m is locally administered (randomized MACs are).
func (m MAC) IsLocal() bool { return m[0]&2 == 2 }

const hexDigits = "0123456789abcdef"

// String formats m as six lower-case colon-separated hex bytes.
func (m MAC) String() string {
	var b [17]byte
	for i, v := range m {
		if i > 0 {
			b[i*3-1] = ':'
		}
		b[i*3] = hexDigits[v>>4]
		b[i*3+1] = hexDigits[v&0xf]
	}
	return string(b[:])
}

// FlowInfo describes the flow a decoder is attached to.
type FlowInfo struct {
	Transport Transport
	// Client and Server are the endpoints; Client opened the flow. Zero for
	// Ethernet transport.
	Client, Server netip.AddrPort
	// ClientMAC and ServerMAC are the hardware addresses on the frames, zero
	// where the link layer has none (raw IP, loopback).
	ClientMAC, ServerMAC MAC
	// EtherType is set for Ethernet transport.
	EtherType uint16
}

// Party says whom an observation is about, relative to the bytes that
// produced it.
type Party uint8

const (
	// Sender is the side that sent the bytes.
	Sender Party = iota
	// Receiver is the side they were sent to.
	Receiver
)

// Fact is one named value learned from the wire. Names are dotted,
// "<protocol>.<field>", and match the fields of the fingerprint rules
// (dhcp.vendor_class, dicom.implementation_class_uid, ...).
type Fact struct {
	Name  string
	Value string
}

// Observation is what a decoder learned from one message.
type Observation struct {
	// Protocol is the decoder's name ("dhcp").
	Protocol string
	// Source names the message that carried the facts ("dhcp.request"); it
	// becomes the evidence source in the inventory.
	Source string
	// About says which side of the flow the observation describes.
	About Party
	// MAC and IP, when set, are the device's own addresses as the message
	// states them (ARP sender, DHCP client hardware address and assigned
	// address). They bind the IP to the MAC more strongly than frame headers
	// do, and name the device when the frame's addresses do not (a DHCP
	// DISCOVER comes from 0.0.0.0).
	MAC MAC
	IP  netip.Addr
	// Hostname is a name the device calls itself, if the message gives one.
	Hostname string
	// Role is the application-level role of the device in this protocol
	// ("client", "server", "scu", "scp", "sender", "receiver"), if known.
	Role string
	// Facts are the values learned, in message order.
	Facts []Fact
}

// Emit receives observations from a decoder. The sensor owns the value once
// Emit returns; decoders must not reuse Facts slices they passed.
type Emit func(Observation)

// Decoder parses one flow. It is used by one goroutine at a time.
type Decoder interface {
	// Feed hands the decoder the next bytes sent in direction dir: the next
	// in-order part of a TCP stream, one UDP datagram, or one Ethernet
	// payload. data is valid only during the call; copy what you keep. A
	// non-nil error means the decoder gives up on the flow; wrap one of the
	// sentinel errors below so the sensor can count it by reason, or return
	// SkipFlow when the flow has nothing more to tell.
	Feed(dir Direction, data []byte, ts time.Time, emit Emit) error
	// Gap tells a TCP decoder that n bytes of dir's stream were lost.
	Gap(dir Direction, n int, ts time.Time, emit Emit)
	// Close ends the flow (FIN, RST, idle timeout, eviction or end of capture).
	Close(ts time.Time, emit Emit)
}

// Skipper is implemented by TCP decoders that can tell when they do not need
// the next bytes of a direction: the rest of a message body they would only
// count past. After each Feed of dir's bytes, the sensor may call Skip(dir).
// The decoder returns n, 0 <= n <= MaxSkip, and counts the next n bytes of
// dir as consumed: the sensor passes over them without calling Feed, and
// reports no Gap for bytes lost among them. A sensor that never calls Skip
// feeds every byte, so a decoder must reach the same state either way;
// observations differ only in that holes inside skipped bytes go unnoticed.
type Skipper interface {
	Skip(dir Direction) int
}

// MaxSkip is the most bytes Skipper.Skip returns at once; a decoder skipping
// more returns MaxSkip and the rest at its next call.
const MaxSkip = 1 << 30

// Spec describes one protocol to the sensor. The list of Specs is built
// explicitly in cmd; nothing registers itself.
type Spec struct {
	// Name is the protocol's short name, used in observations, services and metrics.
	Name      string
	Transport Transport
	// Ports are hints: flows on these ports try this protocol first. Content decides.
	Ports []uint16
	// EtherTypes select frames for Ethernet transport.
	EtherTypes []uint16
	// Detect reports whether the first bytes seen in direction dir look like
	// this protocol. It must be cheap and must not keep data.
	Detect func(dir Direction, first []byte) bool
	// New returns a decoder for one flow. Stateless decoders may return a
	// shared value.
	New func(FlowInfo) Decoder
}

// Sentinel errors that decoders wrap; the sensor counts errors by them.
var (
	// ErrMalformed: the bytes break the protocol's grammar.
	ErrMalformed = errors.New("malformed")
	// ErrTooLong: a length on the wire exceeds the decoder's cap.
	ErrTooLong = errors.New("length over cap")
	// ErrUnsupported: a valid message the decoder does not handle.
	ErrUnsupported = errors.New("unsupported")
)

// SkipFlow is what Feed returns when the rest of the flow can teach the
// decoder nothing (it is encrypted from here on, say). The sensor then
// closes the decoder and stops reassembling and feeding the flow; it is
// not an error and is not counted as one.
//
//lint:ignore ST1012 a signal, not an error, named like fs.SkipAll
var SkipFlow = errors.New("nothing more to learn from the flow")

// Reason maps err to a short, bounded label for metrics: "" for no error
// and for SkipFlow, which is none.
func Reason(err error) string {
	switch {
	case err == nil, errors.Is(err, SkipFlow):
		return ""
	case errors.Is(err, ErrMalformed):
		return "malformed"
	case errors.Is(err, ErrTooLong):
		return "too_long"
	case errors.Is(err, ErrUnsupported):
		return "unsupported"
	}
	return "other"
}

// Malformedf returns an error wrapping ErrMalformed.
func Malformedf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
}
