package inventory

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/iomt-sensor/iomt-sensor/protocols"
)

// BenchmarkObserveFull measures a device repeating messages whose facts
// are among the 60 evidence entries it holds, in cache: the steady state
// of a busy endpoint. Every value is a copy, as a decoder makes.
func BenchmarkObserveFull(b *testing.B) {
	inv := New(Config{}, nil)
	sender, receiver := ep(pumpMAC, "10.0.0.50"), ep(dhcpMAC, "10.0.0.2")
	var obs []protocols.Observation
	for k := range 20 {
		obs = append(obs, protocols.Observation{Protocol: "http", Source: "http.request", Role: "client", Facts: []protocols.Fact{
			{Name: "http.user_agent", Value: fmt.Sprintf("Agent/%d", k%3)},
			{Name: "http.host", Value: fmt.Sprintf("host-%d.example.org", k)},
			{Name: "http.uri", Value: fmt.Sprintf("/api/v1/device/item/%d", k)},
		}})
	}
	for _, o := range obs {
		inv.Observe(t0, sender, receiver, o)
	}
	for i := range obs {
		for k, f := range obs[i].Facts {
			obs[i].Facts[k].Value = strings.Clone(f.Value)
		}
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		inv.Observe(at(i), sender, receiver, obs[i%len(obs)])
	}
}

// BenchmarkFlowFull measures a server reporting flows of 200 known
// clients, in cache.
func BenchmarkFlowFull(b *testing.B) {
	inv := New(Config{}, nil)
	var clients []Endpoint
	for i := range 200 {
		clients = append(clients, Endpoint{MAC: protocols.MAC{0x02, 0, 0, 0, byte(i >> 8), byte(i)}, IP: netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)})})
	}
	f := FlowSeen{Time: t0, Server: ep(pacsMAC, "10.0.0.20"), Transport: protocols.TCP, ServerPort: 104, Protocol: "dicom", Answered: true}
	for _, c := range clients {
		f.Client = c
		inv.Flow(f)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		f.Time, f.Client = at(i), clients[(i*7)%len(clients)]
		inv.Flow(f)
	}
}
