// Package decode turns captured frames into Packet summaries: link, network
// and transport headers and the payload a protocol decoder needs. It uses
// gopacket's DecodingLayerParser with preallocated layers, so decoding a frame
// allocates nothing.
package decode

import (
	"encoding/binary"
	"net/netip"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/iomt-sensor/iomt-sensor/protocols"
	"github.com/iomt-sensor/iomt-sensor/sensor/capture"
)

// TCP flag bits as they appear in Packet.TCPFlags.
const (
	FIN = 1 << iota
	SYN
	RST
	PSH
	ACK
	URG
)

// Packet is the decoded summary of one frame. Payload aliases the frame's
// bytes: it is valid as long as the frame is.
type Packet struct {
	Timestamp time.Time
	// Length is the frame's length on the wire.
	Length int

	// SrcMAC and DstMAC are zero when the link layer has none (raw IP,
	// loopback, SLL without a hardware address).
	SrcMAC, DstMAC protocols.MAC
	// VLAN is the outermost 802.1Q VLAN id (0: untagged); InnerVLAN the
	// second tag of QinQ.
	VLAN, InnerVLAN uint16
	// EtherType of the payload after all tags (0x0800, 0x86dd, 0x0806 ...);
	// 0 for 802.3 frames with an LLC header.
	EtherType uint16

	// SrcIP and DstIP are invalid for non-IP frames.
	SrcIP, DstIP netip.Addr
	// IPProto is the transport protocol number (6 TCP, 17 UDP).
	IPProto uint8
	TTL     uint8

	SrcPort, DstPort uint16
	TCPFlags         uint8
	Seq, Ack         uint32

	// Transport says what Payload holds: protocols.TCP or UDP (the
	// transport payload) or protocols.Ethernet (the frame's payload after
	// its EtherType, for ARP, LLDP ...). Zero for packets with nothing
	// further to decode.
	Transport protocols.Transport
	Payload   []byte
	// Missing counts transport payload bytes cut off by the snap length.
	Missing int
}

// Layer names a decoding stage, for error counters.
type Layer uint8

// Decoding stages.
const (
	LayerLink Layer = iota
	LayerVLAN
	LayerIPv4
	LayerIPv6
	LayerTCP
	LayerUDP
	LayerOther
	numLayers
)

var layerNames = [numLayers]string{"link", "vlan", "ipv4", "ipv6", "tcp", "udp", "other"}

func (l Layer) String() string { return layerNames[l] }

// Reason says why a frame was not fully decoded.
type Reason uint8

// Reasons a frame stops decoding. Only Malformed and Truncated are errors;
// the others are counted as "not decoded further".
const (
	Malformed Reason = iota
	Truncated
	UnsupportedLink
	UnsupportedEtherType
	UnsupportedIPProto
	Fragment
	numReasons
)

var reasonNames = [numReasons]string{"malformed", "truncated", "unsupported_link", "unsupported_ethertype", "unsupported_ip_protocol", "fragment"}

func (r Reason) String() string { return reasonNames[r] }

// NumLayers and NumReasons size counter arrays indexed by Layer and Reason.
const (
	NumLayers  = int(numLayers)
	NumReasons = int(numReasons)
)

// Error reports where and why decoding stopped.
type Error struct {
	Layer  Layer
	Reason Reason
}

func (e *Error) Error() string { return e.Layer.String() + ": " + e.Reason.String() }

// Decoder decodes frames of any supported link type. It is not safe for
// concurrent use: give each worker its own.
type Decoder struct {
	eth    layers.Ethernet
	dot1q  layers.Dot1Q
	sll    layers.LinuxSLL
	loop   layers.Loopback
	pppoe  pppoeSession
	ip4    layers.IPv4
	ip6    layers.IPv6
	ip6ext ipv6Extension
	tcp    layers.TCP
	udp    layers.UDP

	fromEth, fromIPv4, fromIPv6, fromSLL, fromLoop *gopacket.DecodingLayerParser
	decoded                                        []gopacket.LayerType
	errs                                           [numLayers][numReasons]Error
	isIPv6                                         bool
}

// New returns a Decoder.
func New() *Decoder {
	d := &Decoder{decoded: make([]gopacket.LayerType, 0, 16)}
	all := []gopacket.DecodingLayer{&d.eth, &d.dot1q, &d.sll, &d.loop, &d.pppoe, &d.ip4, &d.ip6, &d.ip6ext, &d.tcp, &d.udp}
	parser := func(first gopacket.LayerType) *gopacket.DecodingLayerParser {
		p := gopacket.NewDecodingLayerParser(first)
		// A slice indexed by layer type: no map lookup per layer.
		var c gopacket.DecodingLayerContainer = gopacket.DecodingLayerSparse(nil)
		for _, l := range all {
			c = c.Put(l)
		}
		p.SetDecodingLayerContainer(c)
		// Unsupported layers end decoding without an error value (which
		// would allocate); run works out where decoding stopped.
		p.IgnoreUnsupported = true
		return p
	}
	d.fromEth = parser(layers.LayerTypeEthernet)
	d.fromIPv4 = parser(layers.LayerTypeIPv4)
	d.fromIPv6 = parser(layers.LayerTypeIPv6)
	d.fromSLL = parser(layers.LayerTypeLinuxSLL)
	d.fromLoop = parser(layers.LayerTypeLoopback)
	for l := range d.errs {
		for r := range d.errs[l] {
			d.errs[l][r] = Error{Layer(l), Reason(r)}
		}
	}
	return d
}

func (d *Decoder) fail(l Layer, r Reason) error { return &d.errs[l][r] }

// Decode fills p from one frame. On error p still holds what was decoded
// (addresses of a fragment, say); the error is an *Error.
func (d *Decoder) Decode(data []byte, link capture.LinkType, ts time.Time, wireLen int, p *Packet) error {
	*p = Packet{Timestamp: ts, Length: wireLen}
	var parser *gopacket.DecodingLayerParser
	switch link {
	case capture.LinkEthernet:
		parser = d.fromEth
	case capture.LinkRaw, capture.LinkRawDLT12, capture.LinkRawDLT14, capture.LinkIPv4, capture.LinkIPv6:
		if len(data) == 0 {
			return d.fail(LayerLink, Truncated)
		}
		switch data[0] >> 4 {
		case 4:
			parser = d.fromIPv4
		case 6:
			parser = d.fromIPv6
		default:
			return d.fail(LayerLink, Malformed)
		}
	case capture.LinkNull, capture.LinkLoop:
		parser = d.fromLoop
	case capture.LinkSLL:
		parser = d.fromSLL
	case capture.LinkSLL2:
		return d.decodeSLL2(data, p)
	default:
		return d.fail(LayerLink, UnsupportedLink)
	}
	return d.run(parser, data, p)
}

// decodeSLL2 strips the 20-byte Linux cooked v2 header (protocol type,
// reserved, interface index, ARPHRD type, packet type, address length,
// address) and decodes what follows.
func (d *Decoder) decodeSLL2(data []byte, p *Packet) error {
	if len(data) < 20 {
		return d.fail(LayerLink, Truncated)
	}
	proto := binary.BigEndian.Uint16(data[0:2])
	hatype := binary.BigEndian.Uint16(data[8:10])
	pkttype := data[10]
	if hatype == 1 && data[11] == 6 && pkttype != 4 { // Ethernet, and not "sent by us"
		copy(p.SrcMAC[:], data[12:18])
	}
	payload := data[20:]
	switch proto {
	case uint16(layers.EthernetTypeIPv4):
		return d.run(d.fromIPv4, payload, p)
	case uint16(layers.EthernetTypeIPv6):
		return d.run(d.fromIPv6, payload, p)
	}
	p.EtherType = proto
	p.Transport = protocols.Ethernet
	p.Payload = payload
	return nil
}

func (d *Decoder) run(parser *gopacket.DecodingLayerParser, data []byte, p *Packet) error {
	err := parser.DecodeLayers(data, &d.decoded)
	// Layer types are variables, so the switch compares them in order: the
	// common ones come first.
	for _, t := range d.decoded {
		switch t {
		case layers.LayerTypeEthernet:
			p.SrcMAC, p.DstMAC = mac(d.eth.SrcMAC), mac(d.eth.DstMAC)
			p.EtherType = uint16(d.eth.EthernetType)
			if d.eth.EthernetType < 0x0600 { // 802.3 length field: LLC follows
				p.EtherType = 0
			}
			p.Payload = d.eth.Payload
		case layers.LayerTypeIPv4:
			d.isIPv6 = false
			p.SrcIP = addr4(d.ip4.SrcIP)
			p.DstIP = addr4(d.ip4.DstIP)
			p.IPProto = uint8(d.ip4.Protocol)
			p.TTL = d.ip4.TTL
			p.EtherType = uint16(layers.EthernetTypeIPv4)
		case layers.LayerTypeTCP:
			p.SrcPort, p.DstPort = uint16(d.tcp.SrcPort), uint16(d.tcp.DstPort)
			p.Seq, p.Ack = d.tcp.Seq, d.tcp.Ack
			p.TCPFlags = tcpFlags(&d.tcp)
			p.Transport = protocols.TCP
			p.Payload = d.tcp.Payload
			p.Missing = d.missing(d.tcp.Contents, d.tcp.Payload)
		case layers.LayerTypeUDP:
			p.SrcPort, p.DstPort = uint16(d.udp.SrcPort), uint16(d.udp.DstPort)
			p.Transport = protocols.UDP
			p.Payload = d.udp.Payload
			p.Missing = d.missing(d.udp.Contents, d.udp.Payload)
		case layers.LayerTypeDot1Q:
			// One Dot1Q layer decodes every tag, so read the ids from the
			// frame: the outer tag follows the Ethernet header.
			if tags := d.eth.Payload; p.VLAN == 0 && len(tags) >= 4 {
				p.VLAN = binary.BigEndian.Uint16(tags) & 0x0fff
				if inner := binary.BigEndian.Uint16(tags[2:]); (inner == 0x8100 || inner == 0x88a8) && len(tags) >= 8 {
					p.InnerVLAN = binary.BigEndian.Uint16(tags[4:]) & 0x0fff
				}
			}
			p.EtherType = uint16(d.dot1q.Type)
			p.Payload = d.dot1q.Payload
		case layers.LayerTypeIPv6:
			d.isIPv6 = true
			d.ip6ext.ip6 = &d.ip6
			p.SrcIP = addr16(d.ip6.SrcIP)
			p.DstIP = addr16(d.ip6.DstIP)
			p.IPProto = uint8(d.ip6.NextHeader)
			if d.ip6.HopByHop != nil {
				p.IPProto = uint8(d.ip6.HopByHop.NextHeader)
			}
			p.TTL = d.ip6.HopLimit
			p.EtherType = uint16(layers.EthernetTypeIPv6)
		case layers.LayerTypeIPv6HopByHop, layers.LayerTypeIPv6Routing, layers.LayerTypeIPv6Destination, layers.LayerTypeIPSecAH:
			p.IPProto = uint8(d.ip6ext.NextHeader)
		case layers.LayerTypeLinuxSLL:
			if d.sll.AddrType == 1 && d.sll.AddrLen == 6 && d.sll.PacketType != layers.LinuxSLLPacketTypeOutgoing {
				copy(p.SrcMAC[:], d.sll.Addr)
			}
			p.EtherType = uint16(d.sll.EthernetType)
			p.Payload = d.sll.Payload
		}
	}
	if err == nil {
		if n := len(d.decoded); n > 0 {
			if t := d.next(d.decoded[n-1]); t != gopacket.LayerTypeZero {
				return d.unsupported(t, p)
			}
			return nil
		}
		return d.fail(LayerLink, Malformed)
	}
	// A layer's DecodeFromBytes failed: the one after the last decoded. It
	// was truncated when fewer bytes were left than its smallest header
	// (gopacket's errors are untyped, and not every layer flags it).
	layer, failing, rest := firstLayer(parser, d), d.firstType(parser), data
	if n := len(d.decoded); n > 0 {
		if l := d.layerFor(d.decoded[n-1]); l != nil {
			failing, rest = l.NextLayerType(), l.LayerPayload()
		}
		layer = layerOf(failing)
	}
	if parser.Truncated || len(rest) < minHeader(failing) {
		return d.fail(layer, Truncated)
	}
	return d.fail(layer, Malformed)
}

// firstType is the layer type parser starts with.
func (d *Decoder) firstType(parser *gopacket.DecodingLayerParser) gopacket.LayerType {
	switch parser {
	case d.fromIPv4:
		return layers.LayerTypeIPv4
	case d.fromIPv6:
		return layers.LayerTypeIPv6
	case d.fromSLL:
		return layers.LayerTypeLinuxSLL
	case d.fromLoop:
		return layers.LayerTypeLoopback
	}
	return layers.LayerTypeEthernet
}

// minHeader is the smallest header of a layer type, in bytes.
func minHeader(t gopacket.LayerType) int {
	switch t {
	case layers.LayerTypeEthernet:
		return 14
	case layers.LayerTypeLinuxSLL:
		return 16
	case layers.LayerTypeDot1Q, layers.LayerTypeLoopback:
		return 4
	case layers.LayerTypePPPoE, layers.LayerTypeUDP:
		return 8
	case layers.LayerTypeIPv4, layers.LayerTypeTCP:
		return 20
	case layers.LayerTypeIPv6:
		return 40
	}
	if layers.LayerClassIPv6Extension.Contains(t) {
		return 8
	}
	return 0
}

// next returns the layer type that follows decoded layer t.
func (d *Decoder) next(t gopacket.LayerType) gopacket.LayerType {
	if t == layers.LayerTypeTCP || t == layers.LayerTypeUDP {
		return gopacket.LayerTypeZero // most frames, spared layerFor's cases
	}
	if l := d.layerFor(t); l != nil {
		return l.NextLayerType()
	}
	return gopacket.LayerTypeZero
}

// layerFor returns the decoding layer that decodes t, or nil for the
// transport layers, after which nothing is decoded.
func (d *Decoder) layerFor(t gopacket.LayerType) gopacket.DecodingLayer {
	switch t {
	case layers.LayerTypeEthernet:
		return &d.eth
	case layers.LayerTypeDot1Q:
		return &d.dot1q
	case layers.LayerTypeLinuxSLL:
		return &d.sll
	case layers.LayerTypeLoopback:
		return &d.loop
	case layers.LayerTypePPPoE:
		return &d.pppoe
	case layers.LayerTypeIPv4:
		return &d.ip4
	case layers.LayerTypeIPv6:
		return &d.ip6
	}
	if layers.LayerClassIPv6Extension.Contains(t) {
		return &d.ip6ext
	}
	return nil
}

func layerOf(t gopacket.LayerType) Layer {
	switch t {
	case layers.LayerTypeDot1Q:
		return LayerVLAN
	case layers.LayerTypeIPv4:
		return LayerIPv4
	case layers.LayerTypeIPv6:
		return LayerIPv6
	case layers.LayerTypeTCP:
		return LayerTCP
	case layers.LayerTypeUDP:
		return LayerUDP
	}
	if layers.LayerClassIPv6Extension.Contains(t) {
		return LayerIPv6
	}
	return LayerOther
}

// unsupported handles a frame whose next layer we do not decode with
// gopacket. Frames with a payload for an Ethernet-level protocol decoder
// (ARP, LLDP, LLC) are not errors.
func (d *Decoder) unsupported(t gopacket.LayerType, p *Packet) error {
	if p.Transport == protocols.TCP || p.Transport == protocols.UDP {
		return nil // the rest is application payload, ours to decode later
	}
	switch t {
	case gopacket.LayerTypeFragment:
		p.Payload = nil
		if p.EtherType == uint16(layers.EthernetTypeIPv6) {
			return d.fail(LayerIPv6, Fragment)
		}
		return d.fail(LayerIPv4, Fragment)
	case layers.LayerTypeARP, layers.LayerTypeLLC, layers.LayerTypeLinkLayerDiscovery, layers.LayerTypeEAPOL:
		p.Transport = protocols.Ethernet
		return nil
	}
	if p.SrcIP.IsValid() {
		p.Payload = nil
		return d.fail(LayerOther, UnsupportedIPProto)
	}
	if p.EtherType != 0 || p.Payload != nil {
		p.Transport = protocols.Ethernet
		return d.fail(LayerOther, UnsupportedEtherType)
	}
	return d.fail(LayerLink, UnsupportedLink)
}

// missing returns how many bytes of the transport segment (header and
// payload) the IP header announces but the capture lacks.
func (d *Decoder) missing(header, payload []byte) int {
	have := len(header) + len(payload)
	var want int
	if d.isIPv6 {
		// Bytes between the end of the fixed IPv6 header and the transport
		// header are extension headers; all slices share one backing array,
		// so capacities give offsets.
		ext := cap(d.ip6.Contents) - 40 - cap(header)
		want = int(d.ip6.Length) - ext
	} else {
		want = int(d.ip4.Length) - int(d.ip4.IHL)*4
	}
	if want > have {
		return want - have
	}
	return 0
}

func firstLayer(parser *gopacket.DecodingLayerParser, d *Decoder) Layer {
	switch parser {
	case d.fromIPv4:
		return LayerIPv4
	case d.fromIPv6:
		return LayerIPv6
	}
	return LayerLink
}

func mac(b []byte) protocols.MAC {
	if len(b) != 6 {
		return protocols.MAC{}
	}
	return protocols.MAC(b)
}

func addr4(b []byte) netip.Addr {
	if len(b) != 4 {
		return netip.Addr{}
	}
	return netip.AddrFrom4([4]byte(b))
}

func addr16(b []byte) netip.Addr {
	if len(b) != 16 {
		return netip.Addr{}
	}
	return netip.AddrFrom16([16]byte(b))
}

func tcpFlags(t *layers.TCP) uint8 {
	var f uint8
	if t.FIN {
		f |= FIN
	}
	if t.SYN {
		f |= SYN
	}
	if t.RST {
		f |= RST
	}
	if t.PSH {
		f |= PSH
	}
	if t.ACK {
		f |= ACK
	}
	if t.URG {
		f |= URG
	}
	return f
}
