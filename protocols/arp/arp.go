// Package arp decodes Ethernet/IPv4 ARP (RFC 826) requests and replies into
// MAC<->IP bindings of the sender.
package arp

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/iomt-sensor/iomt-sensor/protocols"
)

// EtherType is the EtherType of ARP frames.
const EtherType = 0x0806

// Operation codes (RFC 826).
const (
	OpRequest = 1
	OpReply   = 2
)

// headerLen is the size of an Ethernet/IPv4 ARP packet: the 8-byte fixed
// header plus two 6-byte hardware and two 4-byte protocol addresses.
const headerLen = 28

// Spec describes ARP to the sensor.
func Spec() protocols.Spec {
	return protocols.Spec{
		Name:       "arp",
		Transport:  protocols.Ethernet,
		EtherTypes: []uint16{EtherType},
		Detect:     Detect,
		New:        New,
	}
}

// Detect reports whether first looks like an Ethernet/IPv4 ARP request or reply.
func Detect(_ protocols.Direction, first []byte) bool {
	return len(first) >= headerLen && ethernetIPv4(first) &&
		(first[7] == OpRequest || first[7] == OpReply) && first[6] == 0
}

func ethernetIPv4(b []byte) bool {
	// htype 1 (Ethernet), ptype 0x0800 (IPv4), hlen 6, plen 4.
	return b[0] == 0 && b[1] == 1 && b[2] == 0x08 && b[3] == 0 && b[4] == 6 && b[5] == 4
}

// Packet is a decoded Ethernet/IPv4 ARP packet.
type Packet struct {
	Op        uint16
	SenderMAC protocols.MAC
	SenderIP  netip.Addr
	TargetMAC protocols.MAC
	TargetIP  netip.Addr
}

// Parse decodes an Ethernet/IPv4 ARP packet. Bytes after the 28 the packet
// needs (Ethernet padding) are ignored. Other hardware or protocol types and
// operations other than request and reply wrap protocols.ErrUnsupported.
func Parse(b []byte) (Packet, error) {
	if len(b) < 8 {
		return Packet{}, protocols.Malformedf("arp: %d bytes, header needs 8", len(b))
	}
	if !ethernetIPv4(b) {
		return Packet{}, unsupportedf("arp: htype %d ptype %#04x hlen %d plen %d, only Ethernet/IPv4 is decoded",
			uint16(b[0])<<8|uint16(b[1]), uint16(b[2])<<8|uint16(b[3]), b[4], b[5])
	}
	if len(b) < headerLen {
		return Packet{}, protocols.Malformedf("arp: %d bytes, Ethernet/IPv4 needs %d", len(b), headerLen)
	}
	p := Packet{Op: uint16(b[6])<<8 | uint16(b[7])}
	if p.Op != OpRequest && p.Op != OpReply {
		return Packet{}, unsupportedf("arp: operation %d", p.Op)
	}
	copy(p.SenderMAC[:], b[8:14])
	p.SenderIP = netip.AddrFrom4([4]byte(b[14:18]))
	copy(p.TargetMAC[:], b[18:24])
	p.TargetIP = netip.AddrFrom4([4]byte(b[24:28]))
	return p, nil
}

func unsupportedf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{protocols.ErrUnsupported}, args...)...)
}

// New returns the ARP decoder. It keeps no state, so every flow shares it.
func New(protocols.FlowInfo) protocols.Decoder { return Decoder{} }

// Decoder turns each ARP request or reply into one Observation about its
// sender. It is stateless.
type Decoder struct{}

// Feed decodes one ARP packet (the Ethernet payload after the EtherType) and
// emits an Observation about its sender: MAC is the sender hardware address,
// IP the sender protocol address unless it is 0.0.0.0 (an ARP probe, RFC 5227,
// whose target address becomes the fact arp.probe_target). A packet whose
// sender and target protocol addresses are equal carries arp.gratuitous=true.
func (Decoder) Feed(_ protocols.Direction, data []byte, _ time.Time, emit protocols.Emit) error {
	p, err := Parse(data)
	if err != nil {
		return err
	}
	if p.SenderMAC.IsZero() || p.SenderMAC.IsMulticast() {
		return protocols.Malformedf("arp: sender hardware address %s is not a unicast address", p.SenderMAC)
	}
	obs := protocols.Observation{
		Protocol: "arp",
		Source:   "arp.request",
		About:    protocols.Sender,
		MAC:      p.SenderMAC,
	}
	if p.Op == OpReply {
		obs.Source = "arp.reply"
	}
	switch {
	case p.SenderIP.IsUnspecified():
		obs.Facts = []protocols.Fact{{Name: "arp.probe_target", Value: p.TargetIP.String()}}
	case p.SenderIP == p.TargetIP:
		obs.IP = p.SenderIP
		obs.Facts = []protocols.Fact{{Name: "arp.gratuitous", Value: "true"}}
	default:
		obs.IP = p.SenderIP
	}
	emit(obs)
	return nil
}

// Gap does nothing: ARP is not a stream.
func (Decoder) Gap(protocols.Direction, int, time.Time, protocols.Emit) {}

// Close does nothing: the decoder keeps no state.
func (Decoder) Close(time.Time, protocols.Emit) {}
