package decode

import (
	"errors"
	"io"
	"io/fs"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/iomt-sensor/iomt-sensor/protocols"
	"github.com/iomt-sensor/iomt-sensor/sensor/capture"
	"github.com/iomt-sensor/iomt-sensor/sensor/capture/capturetest"
)

// reversed returns a copy of the layers with addresses and ports swapped.
func reversed(ls []gopacket.SerializableLayer) []gopacket.SerializableLayer {
	out := make([]gopacket.SerializableLayer, len(ls))
	for i, l := range ls {
		switch x := l.(type) {
		case *layers.Ethernet:
			c := *x
			c.SrcMAC, c.DstMAC = x.DstMAC, x.SrcMAC
			out[i] = &c
		case *layers.IPv4:
			c := *x
			c.SrcIP, c.DstIP = x.DstIP, x.SrcIP
			out[i] = &c
		case *layers.IPv6:
			c := *x
			c.SrcIP, c.DstIP = x.DstIP, x.SrcIP
			out[i] = &c
		case *layers.TCP:
			c := *x
			c.SrcPort, c.DstPort = x.DstPort, x.SrcPort
			out[i] = &c
		case *layers.UDP:
			c := *x
			c.SrcPort, c.DstPort = x.DstPort, x.SrcPort
			out[i] = &c
		default:
			out[i] = l
		}
	}
	return out
}

func TestFlowHash(t *testing.T) {
	vlan := func(id uint16, next layers.EthernetType) *layers.Dot1Q {
		return &layers.Dot1Q{VLANIdentifier: id, Type: next}
	}
	ip6 := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolIPv6Destination, SrcIP: ip6A, DstIP: ip6B}
	destOpts := gopacket.Payload([]byte{byte(layers.IPProtocolUDP), 0, 1, 4, 0, 0, 0, 0})
	tests := []struct {
		name string
		link capture.LinkType
		ls   []gopacket.SerializableLayer
	}{
		{"ipv4 tcp", capture.LinkEthernet, []gopacket.SerializableLayer{eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolTCP), tcp(), payload}},
		{"ipv4 udp", capture.LinkEthernet, []gopacket.SerializableLayer{eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolUDP), udp(), payload}},
		{"vlan", capture.LinkEthernet, []gopacket.SerializableLayer{eth(layers.EthernetTypeDot1Q), vlan(20, layers.EthernetTypeIPv4), ip4(layers.IPProtocolTCP), tcp(), payload}},
		{"qinq", capture.LinkEthernet, []gopacket.SerializableLayer{eth(layers.EthernetTypeQinQ), vlan(100, layers.EthernetTypeDot1Q), vlan(20, layers.EthernetTypeIPv4), ip4(layers.IPProtocolUDP), udp(), payload}},
		{"ipv6 options udp", capture.LinkEthernet, []gopacket.SerializableLayer{eth(layers.EthernetTypeIPv6), ip6, destOpts, udp(), payload}},
		{"raw ipv4", capture.LinkRaw, []gopacket.SerializableLayer{ip4(layers.IPProtocolTCP), tcp(), payload}},
		{"raw ipv6", capture.LinkIPv6, []gopacket.SerializableLayer{ip6, destOpts, udp(), payload}},
		{"sll", capture.LinkSLL, []gopacket.SerializableLayer{gopacket.Payload([]byte{0, 0, 0, 1, 0, 6, 0, 9, 0xfb, 1, 2, 3, 0, 0, 0x08, 0x00}), ip4(layers.IPProtocolTCP), tcp(), payload}},
		{"null", capture.LinkNull, []gopacket.SerializableLayer{&layers.Loopback{Family: layers.ProtocolFamilyIPv4}, ip4(layers.IPProtocolUDP), udp(), payload}},
	}
	seen := map[uint64]string{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fwd := FlowHash(serialize(t, tt.ls...), tt.link)
			rev := FlowHash(serialize(t, reversed(tt.ls)...), tt.link)
			if fwd == 0 || fwd != rev {
				t.Errorf("hash %x one way, %x the other; want the same, not 0", fwd, rev)
			}
			seen[fwd] = tt.name
		})
	}
	// Another port is another flow.
	other := tcp()
	other.SrcPort++
	if h := FlowHash(serialize(t, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolTCP), other, payload), capture.LinkEthernet); seen[h] != "" {
		t.Errorf("another port hashes like %q", seen[h])
	}
	arp := serialize(t, eth(layers.EthernetTypeARP), &layers.ARP{AddrType: 1, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
		SourceHwAddress: macA, SourceProtAddress: ipA, DstHwAddress: macB, DstProtAddress: ipB})
	if h := FlowHash(arp, capture.LinkEthernet); h != 0 {
		t.Errorf("ARP hashes to %x, want 0", h)
	}
}

// TestFlowHashTestdata and TestFlowHashCorpus decode every packet of the
// captures in testdata and in the corpus: all packets of one TCP or UDP
// flow (both directions, as the flow table keys them) must hash alike, or
// a worker would see half a conversation.
func TestFlowHashTestdata(t *testing.T) { checkFlowHashes(t, filepath.Join("..", "..", "testdata")) }

func TestFlowHashCorpus(t *testing.T) { checkFlowHashes(t, capturetest.Dir(t)) }

func checkFlowHashes(t *testing.T, root string) {
	var files []string
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.Contains(d.Name(), ".pcap") || strings.HasSuffix(d.Name(), ".cap")) {
			files = append(files, path)
		}
		return nil
	})
	type key struct {
		a, b  netip.AddrPort
		proto uint8
	}
	flows, packets := 0, 0
	d := New()
	for _, path := range files {
		src, err := capture.OpenFile(path)
		if err != nil {
			continue // not a capture (the corpus has a few on purpose)
		}
		hashes := map[key]uint64{}
		for {
			pkt, err := src.Next()
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, capture.ErrTruncated) {
					t.Errorf("%s: %v", path, err)
				}
				break
			}
			var p Packet
			if d.Decode(pkt.Data, pkt.LinkType, time.Time{}, pkt.Length, &p) != nil || (p.Transport != protocols.TCP && p.Transport != protocols.UDP) {
				continue
			}
			k := key{netip.AddrPortFrom(p.SrcIP, p.SrcPort), netip.AddrPortFrom(p.DstIP, p.DstPort), p.IPProto}
			if k.b.Compare(k.a) < 0 {
				k.a, k.b = k.b, k.a
			}
			h := FlowHash(pkt.Data, pkt.LinkType)
			packets++
			if old, ok := hashes[k]; !ok {
				hashes[k] = h
				flows++
			} else if old != h {
				t.Errorf("%s: flow %v: hash %x, then %x", path, k, old, h)
			}
		}
		src.Close()
	}
	if packets == 0 {
		t.Fatal("no TCP or UDP packet read")
	}
	t.Logf("%d files, %d flows, %d packets", len(files), flows, packets)
}

func BenchmarkFlowHash(b *testing.B) {
	frame := serialize(b, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolTCP), tcp(), gopacket.Payload(make([]byte, 600)))
	b.ReportAllocs()
	var h uint64
	for b.Loop() {
		h += FlowHash(frame, capture.LinkEthernet)
	}
	_ = h
}

func FuzzFlowHash(f *testing.F) {
	f.Add(uint16(1), serialize(f, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolTCP), tcp(), payload))
	f.Add(uint16(1), serialize(f, eth(layers.EthernetTypeIPv6),
		&layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolIPv6Destination, SrcIP: ip6A, DstIP: ip6B},
		gopacket.Payload([]byte{byte(layers.IPProtocolUDP), 0, 1, 4, 0, 0, 0, 0}), udp(), payload))
	f.Add(uint16(1), []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x88, 0x64, 0x11, 0, 0, 1, 0, 0x20, 0, 0x21, 0x45})
	f.Add(uint16(276), make([]byte, 40))
	f.Add(uint16(113), make([]byte, 20))
	f.Add(uint16(0), []byte{2, 0, 0, 0, 0x45})
	f.Fuzz(func(t *testing.T, link uint16, frame []byte) {
		FlowHash(frame, capture.LinkType(link)) // must not panic
	})
}
