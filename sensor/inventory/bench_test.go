package inventory

import (
	"net/netip"
	"testing"

	"github.com/iomt-sensor/iomt-sensor/protocols"
)

// BenchmarkFlow measures the steady state: the same flow reported again
// (periodic updates while it lives), which must not allocate.
func BenchmarkFlow(b *testing.B) {
	inv := New(Config{}, nil)
	f := FlowSeen{Time: t0, Client: ep(ctMAC, "10.0.0.30"), Server: ep(pacsMAC, "10.0.0.20"),
		Transport: protocols.TCP, ServerPort: 104, Protocol: "dicom", Answered: true}
	inv.Flow(f)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		f.Time = at(i)
		inv.Flow(f)
	}
}

// BenchmarkFlowNewPeers measures flows from ever new internal clients to
// one server, up to its peer cap and beyond.
func BenchmarkFlowNewPeers(b *testing.B) {
	inv := New(Config{}, nil)
	f := FlowSeen{Time: t0, Server: ep(pacsMAC, "10.0.0.20"), Transport: protocols.TCP, ServerPort: 104, Protocol: "dicom", Answered: true}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		f.Client.IP = netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)})
		inv.Flow(f)
	}
}

// BenchmarkObserve measures a known device repeating a message (a DHCP
// request with its facts), which must not allocate.
func BenchmarkObserve(b *testing.B) {
	inv := New(Config{}, nil)
	o := protocols.Observation{Protocol: "dhcp", Source: "dhcp.request", MAC: mac(pumpMAC),
		IP: netip.MustParseAddr("10.0.0.50"), Hostname: "PUMP-7", Role: "client",
		Facts: []protocols.Fact{{Name: "dhcp.message_type", Value: "REQUEST"}, {Name: "dhcp.vendor_class", Value: "BD Alaris"},
			{Name: "dhcp.parameter_list", Value: "1,3,6,15,28"}}}
	sender, receiver := ep(pumpMAC, "10.0.0.50"), ep(dhcpMAC, "10.0.0.2")
	inv.Observe(t0, sender, receiver, o)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		inv.Observe(at(i), sender, receiver, o)
	}
}

// BenchmarkAdvance measures Advance when nothing is due (the common call).
func BenchmarkAdvance(b *testing.B) {
	inv := run(Config{}, mixedCalls())
	inv.Advance(at(0))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		inv.Advance(at(1))
	}
}

// BenchmarkAssets measures a full snapshot of a small inventory.
func BenchmarkAssets(b *testing.B) {
	inv := run(Config{}, mixedCalls())
	b.ReportAllocs()
	for b.Loop() {
		inv.Assets()
	}
}

// BenchmarkReplay models a segment: 1000 hosts, each opening flows to a
// server and to the internet through a router, with Advance after every
// call as a replay does. It reports the cost per call, events included.
func BenchmarkReplay(b *testing.B) {
	srv := ep(pacsMAC, "10.0.0.20")
	router := protocols.MAC{0x00, 0x00, 0x5e, 0x00, 0x01, 0x01}
	b.ReportAllocs()
	for b.Loop() {
		inv := New(Config{}, func(Event) {})
		for i := range 20000 {
			h := i % 1000
			host := Endpoint{MAC: protocols.MAC{0x02, 0, 0, 0, byte(h >> 8), byte(h)}, IP: netip.AddrFrom4([4]byte{10, 0, byte(h >> 8), byte(h)})}
			ts := at(i / 10)
			inv.Flow(FlowSeen{Time: ts, Client: host, Server: srv, Transport: protocols.TCP, ServerPort: 104, Protocol: "dicom", Answered: true})
			inv.Flow(FlowSeen{Time: ts, Client: host, Server: Endpoint{MAC: router, IP: netip.AddrFrom4([4]byte{93, 184, byte(i >> 8), byte(i)})},
				Transport: protocols.TCP, ServerPort: 443, Protocol: "tls", Answered: true})
			inv.Advance(ts)
		}
		inv.Flush(at(3000))
	}
}
