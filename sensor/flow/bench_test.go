package flow

import (
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"
)

// endpoints are a packet's addresses and ports, as the worker passes them
// to MakeKey.
type endpoints struct {
	src, dst netip.Addr
	sp, dp   uint16
}

func (e *endpoints) key() Key {
	k, _ := MakeKey(e.src, e.dst, e.sp, e.dp, 6)
	return k
}

// benchEndpoints returns n distinct flows' endpoints, half of them seen from
// the server's side.
func benchEndpoints(n int) []endpoints {
	r := rand.New(rand.NewPCG(1, 2))
	eps := make([]endpoints, n)
	for i := range eps {
		e := endpoints{
			src: netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}),
			dst: netip.AddrFrom4([4]byte{10, 1, byte(r.UintN(256)), byte(r.UintN(256))}),
			sp:  uint16(1024 + r.UintN(60000)),
			dp:  443,
		}
		if i&1 == 1 {
			e.src, e.dst, e.sp, e.dp = e.dst, e.src, e.dp, e.sp
		}
		eps[i] = e
	}
	return eps
}

// BenchmarkGetRandom looks up flows of a table of 20k in random order, as
// the worker does per packet (MakeKey, then Get): the table and the flows
// are larger than the CPU's first caches.
func BenchmarkGetRandom(b *testing.B) {
	const n = 20000
	eps := benchEndpoints(n)
	tab := NewTable(Config{})
	t0 := time.Unix(1000, 0)
	for i := range n {
		k := eps[i].key()
		tab.Create(k, t0, func(*Flow) {})
	}
	order := rand.New(rand.NewPCG(3, 4)).Perm(n)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		j := order[i]
		k := eps[j].key()
		if tab.Get(k, t0.Add(time.Duration(i)*time.Microsecond)) == nil {
			b.Fatal("missing")
		}
		if i++; i == n {
			i = 0
		}
	}
}

// BenchmarkCreateClose churns a table of 20k flows: each op looks up a new
// flow (a miss), creates it and closes the oldest one.
func BenchmarkCreateClose(b *testing.B) {
	const n = 20000
	eps := benchEndpoints(2 * n)
	tab := NewTable(Config{})
	t0 := time.Unix(1000, 0)
	live := make([]*Flow, n)
	for i := range n {
		k := eps[i].key()
		live[i] = tab.Create(k, t0, func(*Flow) {})
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		j := (i + n) % (2 * n)
		k := eps[j].key()
		if tab.Get(k, t0) != nil {
			b.Fatal("flow already present")
		}
		tab.Close(live[i%n])
		live[i%n] = tab.Create(k, t0, func(*Flow) {})
		if i++; i == 2*n {
			i = 0
		}
	}
}

// BenchmarkEvict creates flows in a full table of 20k: each op evicts the
// least recently seen flow.
func BenchmarkEvict(b *testing.B) {
	const n = 20000
	eps := benchEndpoints(2 * n)
	tab := NewTable(Config{MaxFlows: n})
	t0 := time.Unix(1000, 0)
	evict := func(*Flow) {}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		k := eps[i].key()
		tab.Create(k, t0, evict)
		if i++; i == 2*n {
			i = 0
		}
	}
}
