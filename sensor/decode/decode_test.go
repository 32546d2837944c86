package decode

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/iomt-sensor/iomt-sensor/protocols"
	"github.com/iomt-sensor/iomt-sensor/sensor/capture"
)

var (
	macA = net.HardwareAddr{0x00, 0x09, 0xfb, 0x01, 0x02, 0x03}
	macB = net.HardwareAddr{0x00, 0x1b, 0x21, 0x3a, 0x4f, 0x10}
	ipA  = net.IP{10, 20, 3, 14}
	ipB  = net.IP{10, 20, 3, 1}
	ip6A = net.ParseIP("fe80::209:fbff:fe01:203")
	ip6B = net.ParseIP("2001:db8::1")
)

func serialize(t testing.TB, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	for _, l := range ls {
		if n, ok := l.(gopacket.NetworkLayer); ok {
			for _, x := range ls {
				switch tr := x.(type) {
				case *layers.TCP:
					tr.SetNetworkLayerForChecksum(n)
				case *layers.UDP:
					tr.SetNetworkLayerForChecksum(n)
				}
			}
		}
	}
	if err := gopacket.SerializeLayers(buf, opts, ls...); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func eth(t layers.EthernetType) *layers.Ethernet {
	return &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: t}
}
func ip4(p layers.IPProtocol) *layers.IPv4 {
	return &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: p, SrcIP: ipA, DstIP: ipB}
}
func tcp() *layers.TCP {
	return &layers.TCP{SrcPort: 50000, DstPort: 104, Seq: 1000, Ack: 2000, SYN: true, ACK: true, Window: 1000}
}
func udp() *layers.UDP { return &layers.UDP{SrcPort: 68, DstPort: 67} }

var payload = gopacket.Payload([]byte("hello"))

func TestDecode(t *testing.T) {
	tcpFrame := serialize(t, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolTCP), tcp(), payload)
	vlanFrame := serialize(t, eth(layers.EthernetTypeDot1Q),
		&layers.Dot1Q{VLANIdentifier: 30, Type: layers.EthernetTypeIPv4}, ip4(layers.IPProtocolUDP), udp(), payload)
	qinqFrame := serialize(t, eth(layers.EthernetTypeQinQ),
		&layers.Dot1Q{VLANIdentifier: 100, Type: layers.EthernetTypeDot1Q},
		&layers.Dot1Q{VLANIdentifier: 30, Type: layers.EthernetTypeIPv4}, ip4(layers.IPProtocolUDP), udp(), payload)
	ip6Frame := serialize(t, eth(layers.EthernetTypeIPv6),
		&layers.IPv6{Version: 6, HopLimit: 255, NextHeader: layers.IPProtocolUDP, SrcIP: ip6A, DstIP: ip6B}, udp(), payload)
	arpFrame := serialize(t, eth(layers.EthernetTypeARP), &layers.ARP{AddrType: 1, Protocol: 0x0800, HwAddressSize: 6, ProtAddressSize: 4,
		Operation: 1, SourceHwAddress: macA, SourceProtAddress: ipA, DstHwAddress: make([]byte, 6), DstProtAddress: ipB})
	rawIP := serialize(t, ip4(layers.IPProtocolTCP), tcp(), payload)
	null := append([]byte{2, 0, 0, 0}, rawIP...) // AF_INET, little endian
	loop := append([]byte{0, 0, 0, 2}, rawIP...)
	// Linux cooked v1: packet type, ARPHRD type, address length, 8 address bytes, protocol.
	sll := append([]byte{0, 0, 0, 1, 0, 6}, macA...)
	sll = append(append(sll, 0, 0, 0x08, 0x00), rawIP...)
	sll2 := make([]byte, 20)
	binary.BigEndian.PutUint16(sll2[0:], 0x0800)
	binary.BigEndian.PutUint16(sll2[8:], 1)
	sll2[10], sll2[11] = 0, 6
	copy(sll2[12:], macA)
	sll2 = append(sll2, rawIP...)
	pppoe := append(append(append([]byte{}, macB...), macA...), 0x88, 0x64, 0x11, 0x00, 0x00, 0x01, 0, 0)
	binary.BigEndian.PutUint16(pppoe[len(pppoe)-2:], uint16(len(rawIP)+2))
	pppoe = append(append(pppoe, 0x00, 0x21), rawIP...)

	frag := ip4(layers.IPProtocolUDP)
	frag.Flags = layers.IPv4MoreFragments
	fragFrame := serialize(t, eth(layers.EthernetTypeIPv4), frag, gopacket.Payload(make([]byte, 16)))

	// IPv6 with a destination-options header, then a fragment header.
	ip6Ext := serialize(t, eth(layers.EthernetTypeIPv6),
		&layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolIPv6Destination, SrcIP: ip6A, DstIP: ip6B},
		gopacket.Payload([]byte{byte(layers.IPProtocolUDP), 0, 1, 4, 0, 0, 0, 0}), udp(), payload)
	ip6Frag := serialize(t, eth(layers.EthernetTypeIPv6),
		&layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolIPv6Fragment, SrcIP: ip6A, DstIP: ip6B},
		gopacket.Payload([]byte{byte(layers.IPProtocolUDP), 0, 0, 1, 0, 0, 0, 7}), udp(), payload)

	badIHL := append([]byte(nil), tcpFrame...)
	badIHL[14] = 0x44 // IHL 4: a header that claims fewer than 20 bytes

	mA, mB := protocols.MAC(macA), protocols.MAC(macB)
	a4, b4 := netip.MustParseAddr("10.20.3.14"), netip.MustParseAddr("10.20.3.1")
	a6, b6 := netip.MustParseAddr("fe80::209:fbff:fe01:203"), netip.MustParseAddr("2001:db8::1")

	tests := []struct {
		name    string
		link    capture.LinkType
		frame   []byte
		want    Packet
		wantErr *Error
	}{
		{"ethernet ipv4 tcp", capture.LinkEthernet, tcpFrame, Packet{SrcMAC: mA, DstMAC: mB, EtherType: 0x0800, SrcIP: a4, DstIP: b4, IPProto: 6, TTL: 64,
			SrcPort: 50000, DstPort: 104, TCPFlags: SYN | ACK, Seq: 1000, Ack: 2000, Transport: protocols.TCP, Payload: []byte("hello")}, nil},
		{"802.1Q", capture.LinkEthernet, vlanFrame, Packet{SrcMAC: mA, DstMAC: mB, VLAN: 30, EtherType: 0x0800, SrcIP: a4, DstIP: b4, IPProto: 17, TTL: 64,
			SrcPort: 68, DstPort: 67, Transport: protocols.UDP, Payload: []byte("hello")}, nil},
		{"QinQ", capture.LinkEthernet, qinqFrame, Packet{SrcMAC: mA, DstMAC: mB, VLAN: 100, InnerVLAN: 30, EtherType: 0x0800, SrcIP: a4, DstIP: b4, IPProto: 17, TTL: 64,
			SrcPort: 68, DstPort: 67, Transport: protocols.UDP, Payload: []byte("hello")}, nil},
		{"ipv6 udp", capture.LinkEthernet, ip6Frame, Packet{SrcMAC: mA, DstMAC: mB, EtherType: 0x86dd, SrcIP: a6, DstIP: b6, IPProto: 17, TTL: 255,
			SrcPort: 68, DstPort: 67, Transport: protocols.UDP, Payload: []byte("hello")}, nil},
		{"ipv6 extension header", capture.LinkEthernet, ip6Ext, Packet{SrcMAC: mA, DstMAC: mB, EtherType: 0x86dd, SrcIP: a6, DstIP: b6, IPProto: 17, TTL: 64,
			SrcPort: 68, DstPort: 67, Transport: protocols.UDP, Payload: []byte("hello")}, nil},
		{"arp", capture.LinkEthernet, arpFrame, Packet{SrcMAC: mA, DstMAC: mB, EtherType: 0x0806, Transport: protocols.Ethernet, Payload: arpFrame[14:]}, nil},
		{"raw ip", capture.LinkRaw, rawIP, Packet{EtherType: 0x0800, SrcIP: a4, DstIP: b4, IPProto: 6, TTL: 64,
			SrcPort: 50000, DstPort: 104, TCPFlags: SYN | ACK, Seq: 1000, Ack: 2000, Transport: protocols.TCP, Payload: []byte("hello")}, nil},
		{"bsd null", capture.LinkNull, null, Packet{EtherType: 0x0800, SrcIP: a4, DstIP: b4, IPProto: 6, TTL: 64,
			SrcPort: 50000, DstPort: 104, TCPFlags: SYN | ACK, Seq: 1000, Ack: 2000, Transport: protocols.TCP, Payload: []byte("hello")}, nil},
		{"openbsd loop", capture.LinkLoop, loop, Packet{EtherType: 0x0800, SrcIP: a4, DstIP: b4, IPProto: 6, TTL: 64,
			SrcPort: 50000, DstPort: 104, TCPFlags: SYN | ACK, Seq: 1000, Ack: 2000, Transport: protocols.TCP, Payload: []byte("hello")}, nil},
		{"linux sll", capture.LinkSLL, sll, Packet{SrcMAC: mA, EtherType: 0x0800, SrcIP: a4, DstIP: b4, IPProto: 6, TTL: 64,
			SrcPort: 50000, DstPort: 104, TCPFlags: SYN | ACK, Seq: 1000, Ack: 2000, Transport: protocols.TCP, Payload: []byte("hello")}, nil},
		{"linux sll2", capture.LinkSLL2, sll2, Packet{SrcMAC: mA, EtherType: 0x0800, SrcIP: a4, DstIP: b4, IPProto: 6, TTL: 64,
			SrcPort: 50000, DstPort: 104, TCPFlags: SYN | ACK, Seq: 1000, Ack: 2000, Transport: protocols.TCP, Payload: []byte("hello")}, nil},
		{"pppoe session", capture.LinkEthernet, pppoe, Packet{SrcMAC: mA, DstMAC: mB, EtherType: 0x0800, SrcIP: a4, DstIP: b4, IPProto: 6, TTL: 64,
			SrcPort: 50000, DstPort: 104, TCPFlags: SYN | ACK, Seq: 1000, Ack: 2000, Transport: protocols.TCP, Payload: []byte("hello")}, nil},
		{"ipv4 fragment", capture.LinkEthernet, fragFrame, Packet{SrcMAC: mA, DstMAC: mB, EtherType: 0x0800, SrcIP: a4, DstIP: b4, IPProto: 17, TTL: 64},
			&Error{LayerIPv4, Fragment}},
		{"ipv6 fragment", capture.LinkEthernet, ip6Frag, Packet{SrcMAC: mA, DstMAC: mB, EtherType: 0x86dd, SrcIP: a6, DstIP: b6, IPProto: 44, TTL: 64},
			&Error{LayerIPv6, Fragment}},
		{"truncated ip header", capture.LinkEthernet, tcpFrame[:20], Packet{SrcMAC: mA, DstMAC: mB, EtherType: 0x0800, Payload: tcpFrame[14:20]},
			&Error{LayerIPv4, Truncated}},
		{"ipv4 header length below 20", capture.LinkEthernet, badIHL, Packet{SrcMAC: mA, DstMAC: mB, EtherType: 0x0800, Payload: badIHL[14:]},
			&Error{LayerIPv4, Malformed}},
		{"unknown link", capture.LinkType(147), tcpFrame, Packet{}, &Error{LayerLink, UnsupportedLink}},
		{"empty", capture.LinkEthernet, nil, Packet{}, &Error{LayerLink, Truncated}},
	}
	d := New()
	ts := time.Unix(1700000000, 0)
	for i, tc := range tests {
		var p Packet
		err := d.Decode(tc.frame, tc.link, ts, len(tc.frame), &p)
		var got *Error
		if err != nil && !errors.As(err, &got) {
			t.Fatalf("Test %d (%s): error %v is not *Error", i, tc.name, err)
		}
		if (got == nil) != (tc.wantErr == nil) || (got != nil && *got != *tc.wantErr) {
			t.Errorf("Test %d (%s): expected error %v, got %v", i, tc.name, tc.wantErr, err)
		}
		tc.want.Timestamp, tc.want.Length = ts, len(tc.frame)
		if !equalPacket(p, tc.want) {
			t.Errorf("Test %d (%s):\nexpected %+v\ngot      %+v", i, tc.name, tc.want, p)
		}
	}
}

func equalPacket(a, b Packet) bool {
	ap, bp := a.Payload, b.Payload
	a.Payload, b.Payload = nil, nil
	return a.Timestamp.Equal(b.Timestamp) && a.SrcIP == b.SrcIP && a.DstIP == b.DstIP &&
		a.Length == b.Length && a.SrcMAC == b.SrcMAC && a.DstMAC == b.DstMAC && a.VLAN == b.VLAN &&
		a.InnerVLAN == b.InnerVLAN && a.EtherType == b.EtherType && a.IPProto == b.IPProto && a.TTL == b.TTL &&
		a.SrcPort == b.SrcPort && a.DstPort == b.DstPort && a.TCPFlags == b.TCPFlags && a.Seq == b.Seq &&
		a.Ack == b.Ack && a.Transport == b.Transport && a.Missing == b.Missing && string(ap) == string(bp)
}

func TestDecodeMissing(t *testing.T) {
	frame := serialize(t, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolTCP), tcp(), gopacket.Payload(make([]byte, 1000)))
	var p Packet
	if err := New().Decode(frame[:200], capture.LinkEthernet, time.Time{}, len(frame), &p); err != nil {
		t.Fatal(err)
	}
	if want := len(frame) - 200; p.Missing != want || p.Transport != protocols.TCP {
		t.Errorf("expected %d missing bytes of a TCP segment, got %d (%v)", want, p.Missing, p.Transport)
	}
}

func BenchmarkDecode(b *testing.B) {
	frame := serialize(b, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolTCP), tcp(), gopacket.Payload(make([]byte, 600)))
	d := New()
	var p Packet
	ts := time.Unix(1700000000, 0)
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		if err := d.Decode(frame, capture.LinkEthernet, ts, len(frame), &p); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(uint16(1), serialize(f, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolTCP), tcp(), payload))
	f.Add(uint16(1), serialize(f, eth(layers.EthernetTypeIPv6),
		&layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolIPv6Destination, SrcIP: ip6A, DstIP: ip6B},
		gopacket.Payload([]byte{byte(layers.IPProtocolUDP), 0, 1, 4, 0, 0, 0, 0}), udp(), payload))
	f.Add(uint16(276), make([]byte, 40))
	f.Add(uint16(0), []byte{2, 0, 0, 0, 0x45})
	d := New()
	f.Fuzz(func(t *testing.T, link uint16, frame []byte) {
		var p Packet
		err := d.Decode(frame, capture.LinkType(link), time.Time{}, len(frame), &p)
		var e *Error
		if err != nil && !errors.As(err, &e) {
			t.Fatalf("error %v is not *Error", err)
		}
		if p.Missing < 0 {
			t.Fatalf("negative missing %d", p.Missing)
		}
	})
}
