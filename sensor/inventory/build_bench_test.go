package inventory

import (
	"net/netip"
	"testing"

	"github.com/iomt-sensor/iomt-sensor/fingerprint"
	"github.com/iomt-sensor/iomt-sensor/protocols"
)

// BenchmarkAssetBuild measures building one busy asset: a server with a
// full peer set (internal clients and external hosts through a router),
// services and facts, as Advance and Flush do for every changed asset.
func BenchmarkAssetBuild(b *testing.B) {
	inv := New(Config{}, nil)
	srv := ep(pacsMAC, "10.0.0.20")
	router := protocols.MAC{0x00, 0x00, 0x5e, 0x00, 0x01, 0x01}
	for i := range 400 {
		client := Endpoint{MAC: protocols.MAC{0x02, 0, 0, 0, byte(i >> 8), byte(i)}, IP: netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)})}
		inv.Flow(FlowSeen{Time: at(i), Client: client, Server: srv, Transport: protocols.TCP, ServerPort: 104, Protocol: "dicom", Answered: true})
		inv.Flow(FlowSeen{Time: at(i), Client: srv, Server: Endpoint{MAC: router, IP: netip.AddrFrom4([4]byte{93, 184, byte(i >> 8), byte(i)})},
			Transport: protocols.TCP, ServerPort: 443, Protocol: "tls", Answered: true})
		inv.Observe(at(i), client, srv, protocols.Observation{Protocol: "dicom", Source: "dicom.associate", About: protocols.Receiver,
			Facts: []protocols.Fact{{Name: "dicom.ae_title", Value: "PACS"}, {Name: "dicom.sop_class", Value: "1.2.840.10008.5.1.4.1.1." + string(rune('0'+i%10))}}})
	}
	id := "mac:" + mac(pacsMAC).String()
	if _, ok := inv.Asset(id); !ok {
		b.Fatalf("no asset %s", id)
	}
	b.ReportAllocs()
	for b.Loop() {
		inv.Asset(id)
	}
}

// BenchmarkInputHash measures the identity cache key of an asset with many
// facts.
func BenchmarkInputHash(b *testing.B) {
	inv := New(Config{}, nil)
	in := fingerprint.Input{MAC: mac(pacsMAC), IPs: []string{"10.0.0.20"}, OUIVendor: "Vendor"}
	for i := range 200 {
		in.Facts = append(in.Facts, protocols.Fact{Name: "hl7.obx_code", Value: "8867-4^Heart rate^LN" + string(rune('A'+i%26))})
	}
	b.ReportAllocs()
	for b.Loop() {
		inputHash(inv.ev.seed, hashFacts(inv.ev.seed, [][]protocols.Fact{in.Facts}, inv.cfg.Fingerprint), &in)
	}
}

// BenchmarkAssetBuildTypical measures building an asset as most of a
// replay's are: one endpoint, a dozen peers, thirty evidence entries from
// a few messages.
func BenchmarkAssetBuildTypical(b *testing.B) {
	inv := New(Config{}, nil)
	host := ep(pacsMAC, "10.0.0.20")
	for i := range 12 {
		inv.Flow(FlowSeen{Time: at(i), Client: host, Server: Endpoint{MAC: protocols.MAC{0x02, 0, 0, 0, 1, byte(i)}, IP: netip.AddrFrom4([4]byte{10, 0, 1, byte(i)})},
			Transport: protocols.TCP, ServerPort: 443, Protocol: "tls", Answered: true})
	}
	for i := range 6 {
		var facts []protocols.Fact
		for k := range 5 {
			facts = append(facts, protocols.Fact{Name: "dhcp.option_" + string(rune('a'+k)), Value: "value-" + string(rune('0'+i))})
		}
		inv.Observe(at(i), host, Endpoint{}, protocols.Observation{Protocol: "dhcp", Source: "dhcp.message" + string(rune('0'+i)), About: protocols.Sender, Facts: facts})
	}
	id := "mac:" + mac(pacsMAC).String()
	if a, ok := inv.Asset(id); !ok || len(a.Evidence) < 30 {
		b.Fatalf("asset %s: %v, %d evidence entries", id, ok, len(a.Evidence))
	}
	b.ReportAllocs()
	for b.Loop() {
		inv.Asset(id)
	}
}
