package inventory

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/iomt-sensor/iomt-sensor/protocols"
)

// spread is a segment of spreadHosts assets, each with 10 to 250 peers and
// 60 evidence entries, and the calls that built it in random order: what a
// replay's inventory holds, too large for the cache, so that every call
// misses it as in a replay. The benchmarks repeat the calls in that order.
type spread struct {
	hosts []Endpoint
	flows []spreadFlow
	obs   []spreadObs
}

type spreadFlow struct {
	client, server uint16
	svc            uint8
}

type spreadObs struct {
	host uint16
	o    protocols.Observation
}

const spreadHosts = 3000

var spreadServices = []struct {
	port     uint16
	protocol string
}{{104, "dicom"}, {443, "tls"}, {80, "http"}, {2575, "hl7"}, {445, "smb"}}

func newSpread() *spread {
	rng := rand.New(rand.NewPCG(1, 2))
	s := &spread{}
	for i := range spreadHosts {
		m := protocols.MAC{0x02, byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256)), byte(i >> 8), byte(i)}
		s.hosts = append(s.hosts, Endpoint{MAC: m, IP: netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)})})
	}
	for i := range spreadHosts {
		for range 10 + rng.IntN(121) { // half the peers offered by others
			s.flows = append(s.flows, spreadFlow{client: uint16(i), server: uint16(rng.IntN(spreadHosts)), svc: uint8(rng.IntN(len(spreadServices)))})
		}
		for k := range 20 {
			o := protocols.Observation{Protocol: "http", Source: "http.request", Role: "client", Facts: []protocols.Fact{
				{Name: "http.user_agent", Value: fmt.Sprintf("Agent/%d.%d", i%40, k%3)},
				{Name: "http.host", Value: fmt.Sprintf("host-%d.example.org", (i+k)%500)},
				{Name: "http.uri", Value: fmt.Sprintf("/api/v1/device/%d/item/%d", i, k)},
			}}
			s.obs = append(s.obs, spreadObs{host: uint16(i), o: o})
		}
	}
	rng.Shuffle(len(s.flows), func(i, j int) { s.flows[i], s.flows[j] = s.flows[j], s.flows[i] })
	rng.Shuffle(len(s.obs), func(i, j int) { s.obs[i], s.obs[j] = s.obs[j], s.obs[i] })
	return s
}

func (s *spread) flow(inv *Inventory, i int) {
	f := &s.flows[i%len(s.flows)]
	svc := spreadServices[f.svc]
	inv.Flow(FlowSeen{Time: at(i / 64), Client: s.hosts[f.client], Server: s.hosts[f.server],
		Transport: protocols.TCP, ServerPort: svc.port, Protocol: svc.protocol, Answered: true})
}

func (s *spread) observe(inv *Inventory, i int) {
	o := &s.obs[i%len(s.obs)]
	h := s.hosts[o.host]
	inv.Observe(at(i/64), h, s.hosts[0], o.o)
}

// cloneValues gives every fact value a new copy, as a decoder does for
// every message: a stored value is then never the offered string itself.
func (s *spread) cloneValues() {
	for i := range s.obs {
		fs := make([]protocols.Fact, len(s.obs[i].o.Facts))
		for k, f := range s.obs[i].o.Facts {
			fs[k] = protocols.Fact{Name: f.Name, Value: strings.Clone(f.Value)}
		}
		s.obs[i].o.Facts = fs
	}
}

// newSpreadInventory returns an inventory holding the whole spread.
func newSpreadInventory(s *spread) *Inventory {
	inv := New(Config{}, nil)
	for i := range s.flows {
		s.flow(inv, i)
	}
	for i := range s.obs {
		s.observe(inv, i)
	}
	s.cloneValues()
	return inv
}

// nextGen does what Advance does to the dirty marks, every 256 calls.
func nextGen(inv *Inventory, i int) {
	if i%256 == 0 {
		inv.mu.Lock()
		clear(inv.ev.fresh)
		clear(inv.ev.urgent)
		inv.ev.gen++
		inv.mu.Unlock()
	}
}

// BenchmarkSpreadFlow repeats the flows of a replay-sized inventory in
// random order: every call finds its endpoints and peers present, out of
// cache.
func BenchmarkSpreadFlow(b *testing.B) {
	s := newSpread()
	inv := newSpreadInventory(s)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		nextGen(inv, i)
		s.flow(inv, i)
	}
}

// BenchmarkSpreadObserve is BenchmarkSpreadFlow for observations of three
// facts each.
func BenchmarkSpreadObserve(b *testing.B) {
	s := newSpread()
	inv := newSpreadInventory(s)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		nextGen(inv, i)
		s.observe(inv, i)
	}
}

// BenchmarkSpreadBuild builds the spread's inventory from nothing: the
// calls of BenchmarkSpreadFlow and BenchmarkSpreadObserve, each set first
// seen. It reports the cost per call.
func BenchmarkSpreadBuild(b *testing.B) {
	s := newSpread()
	n := len(s.flows) + len(s.obs)
	for b.Loop() {
		inv := New(Config{}, nil)
		for i := range s.flows {
			nextGen(inv, i)
			s.flow(inv, i)
		}
		for i := range s.obs {
			nextGen(inv, i)
			s.observe(inv, i)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/call")
}

// BenchmarkSpreadAssets builds every asset of the spread's inventory one
// by one, as Advance does for changed assets (the caches warm). It reports
// the cost per asset.
func BenchmarkSpreadAssets(b *testing.B) {
	s := newSpread()
	inv := newSpreadInventory(s)
	var keys []assetKey
	for k := range inv.buildAll() {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y assetKey) int { return strings.Compare(x.String(), y.String()) })
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		inv.mu.Lock()
		bl, _ := inv.buildOne(keys[i%len(keys)])
		var a Asset
		inv.build.asset(&a, bl)
		inv.mu.Unlock()
	}
}
