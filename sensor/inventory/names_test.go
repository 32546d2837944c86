package inventory

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/iomt-sensor/iomt-sensor/protocols"
)

// TestNameForThirdAddress: a DNS answer names a host that is neither end of
// the flow carrying it; the name reaches the asset holding the address,
// whichever comes first.
func TestNameForThirdAddress(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	pacs := Endpoint{MAC: protocols.MAC{0, 9, 0xfb, 1, 1, 1}, IP: netip.MustParseAddr("10.0.0.5")}
	client := Endpoint{MAC: protocols.MAC{0, 0x1b, 0x21, 2, 2, 2}, IP: netip.MustParseAddr("10.0.0.9")}
	dns := Endpoint{MAC: protocols.MAC{0, 0x50, 0x56, 3, 3, 3}, IP: netip.MustParseAddr("10.0.0.53")}
	flow := func(inv *Inventory) {
		inv.Flow(FlowSeen{Time: t0, Client: client, Server: pacs, Transport: protocols.TCP, ServerPort: 104, Answered: true})
	}
	answer := func(inv *Inventory) {
		inv.Observe(t0, dns, client, protocols.Observation{Protocol: "dns", Source: "dns.response", About: protocols.Sender,
			IP: pacs.IP, Hostname: "pacs.icu.hospital.test", Facts: []protocols.Fact{{Name: "dns.name", Value: "pacs.icu.hospital.test"}}})
	}
	for i, order := range [][]func(*Inventory){{flow, answer}, {answer, flow}} {
		inv := New(Config{Sensor: "t"}, nil)
		for _, call := range order {
			call(inv)
		}
		var found bool
		for _, a := range inv.Assets() {
			if a.ID == "mac:00:09:fb:01:01:01" {
				found = slices.Contains(a.Hostnames, "pacs.icu.hospital.test")
			}
			if a.ID == "mac:00:50:56:03:03:03" && len(a.Hostnames) > 0 {
				t.Errorf("Test %d: the DNS server took the name: %v", i, a.Hostnames)
			}
		}
		if !found {
			t.Errorf("Test %d: expected the PACS asset to carry the DNS name", i)
		}
	}
}
