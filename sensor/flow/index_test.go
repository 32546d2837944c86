package flow

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"
)

// checkIndex verifies that every entry of x is found from its home slot
// without crossing an empty slot, and that the count is right.
func checkIndex(t *testing.T, x *index) {
	t.Helper()
	n := 0
	for i, s := range x.slots {
		if s.f == nil {
			continue
		}
		n++
		for j := s.hash & x.mask; j != uint64(i); j = (j + 1) & x.mask {
			if x.slots[j].f == nil {
				t.Fatalf("expected slot %d to be reachable from %d, slot %d is empty", i, s.hash&x.mask, j)
			}
		}
		if got := x.get(&s.f.Key, s.hash); got != s.f {
			t.Fatalf("expected get to find the flow in slot %d", i)
		}
	}
	if n != x.n {
		t.Fatalf("expected %d entries counted, got %d", n, x.n)
	}
}

func portKey(port uint16) Key {
	k, _ := MakeKey(a, b, 1, port, 6)
	return k
}

func TestIndexCollisions(t *testing.T) {
	last := uint64(1<<10 - 1)
	tests := []struct {
		hashes []uint64 // of flows 0, 1, ...
		del    []int    // flows to delete, in order
	}{
		{[]uint64{5, 5, 5, 5}, []int{0, 1, 2, 3}},
		{[]uint64{5, 5, 5, 5}, []int{3, 2, 1, 0}},
		{[]uint64{5, 5, 6, 5}, []int{1}},
		{[]uint64{5, 6, 5, 7, 6}, []int{0, 2}},
		{[]uint64{last, last, 0, last, 1}, []int{0}}, // wraps around
		{[]uint64{last, last, 0, last, 1}, []int{1, 3}},
		{[]uint64{last - 1, last, 0, last - 1, last}, []int{2, 0, 4}},
		// Same full hash, different keys.
		{[]uint64{7 << 40, 7 << 40, 7 << 40}, []int{1}},
	}
	for i, tc := range tests {
		x := newIndex(700)
		if len(x.slots) != 1<<10 {
			t.Fatalf("expected 1024 slots for 700 flows, got %d", len(x.slots))
		}
		flows := make([]*Flow, len(tc.hashes))
		for j, h := range tc.hashes {
			flows[j] = &Flow{Key: portKey(uint16(j))}
			x.insert(flows[j], h)
		}
		checkIndex(t, &x)
		gone := map[int]bool{}
		for _, j := range tc.del {
			x.delete(flows[j], tc.hashes[j])
			gone[j] = true
			checkIndex(t, &x)
		}
		for j, f := range flows {
			got := x.get(&f.Key, tc.hashes[j])
			if gone[j] && got != nil || !gone[j] && got != f {
				t.Errorf("Test %d: flow %d: expected found=%v, got %v", i, j, !gone[j], got != nil)
			}
		}
	}
}

// TestIndexRandom inserts and deletes flows whose hashes fall in a few
// clusters, through growth, and checks the index against a map.
func TestIndexRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	x := newIndex(0)
	live := map[Key]*Flow{}
	hash := map[*Flow]uint64{} // the index takes any hash: these cluster on purpose
	var order []*Flow
	for op := range 20000 {
		if r.UintN(3) != 0 || len(order) == 0 {
			k := portKey(uint16(op))
			// Few distinct homes, some full-hash collisions.
			h := uint64(r.UintN(64))*97 + uint64(r.UintN(2))<<50
			f := &Flow{Key: k}
			hash[f] = h
			x.insert(f, h)
			live[k] = f
			order = append(order, f)
		} else {
			i := r.IntN(len(order))
			f := order[i]
			order[i] = order[len(order)-1]
			order = order[:len(order)-1]
			x.delete(f, hash[f])
			delete(live, f.Key)
			if x.get(&f.Key, hash[f]) != nil {
				t.Fatalf("op %d: expected a deleted flow to be gone", op)
			}
		}
		if op%997 == 0 {
			checkIndex(t, &x)
		}
	}
	checkIndex(t, &x)
	for k, f := range live {
		if x.get(&k, hash[f]) != f {
			t.Fatalf("expected flow %v to be found", k)
		}
	}
}

func TestIndexHashSpreads(t *testing.T) {
	x := newIndex(0)
	seen := map[uint64]bool{}
	for i := range 1 << 12 {
		k, _ := MakeKey(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), b, 40000, 443, 6)
		seen[x.hash(&k)&1023] = true
	}
	// 4096 keys over 1024 homes leave about 1024/e^4 (19) homes unused.
	if len(seen) < 950 {
		t.Errorf("expected the hash to spread keys over most of 1024 homes, got %d", len(seen))
	}
}

// refTable is the flow table as it was before the index: a Go map and the
// same list. TestTableMatchesReference runs both on the same operations.
type refTable struct {
	cfg   Config
	flows map[Key]*refFlow
	list  []*refFlow // most recently moved first
	stats Stats
}

type refFlow struct {
	key         Key
	last, moved time.Time
}

func (t *refTable) front(f *refFlow) {
	for i, g := range t.list {
		if g == f {
			t.list = append(t.list[:i], t.list[i+1:]...)
			break
		}
	}
	t.list = append([]*refFlow{f}, t.list...)
}

func (t *refTable) remove(f *refFlow) {
	for i, g := range t.list {
		if g == f {
			t.list = append(t.list[:i], t.list[i+1:]...)
			break
		}
	}
	delete(t.flows, f.key)
}

func (t *refTable) get(k Key, ts time.Time) bool {
	f := t.flows[k]
	if f == nil {
		return false
	}
	f.last = ts
	if t.list[0] != f && ts.Sub(f.moved) >= time.Second {
		t.front(f)
		f.moved = ts
	}
	return true
}

func (t *refTable) create(k Key, ts time.Time, gone func(Key)) {
	if len(t.flows) >= t.cfg.MaxFlows && len(t.list) > 0 {
		old := t.list[len(t.list)-1]
		gone(old.key)
		t.remove(old)
		t.stats.Evicted++
	}
	f := &refFlow{key: k, last: ts, moved: ts}
	t.flows[k] = f
	t.list = append([]*refFlow{f}, t.list...)
	t.stats.Created++
}

func (t *refTable) expire(now time.Time, gone func(Key)) {
	deadline := now.Add(-t.cfg.IdleTimeout)
	for len(t.list) > 0 && t.list[len(t.list)-1].moved.Before(deadline) {
		f := t.list[len(t.list)-1]
		if !f.last.Before(deadline) {
			t.front(f)
			f.moved = now
			continue
		}
		gone(f.key)
		t.remove(f)
		t.stats.Expired++
	}
}

func TestTableMatchesReference(t *testing.T) {
	tests := []struct {
		maxFlows, keys int
		step           time.Duration // mean packet gap
	}{
		{8, 12, 300 * time.Millisecond},
		{64, 200, 100 * time.Millisecond},
		{2000, 1500, 40 * time.Millisecond}, // never full, grows
		{300, 5000, time.Millisecond},
	}
	for i, tc := range tests {
		r := rand.New(rand.NewPCG(uint64(i), 9))
		cfg := Config{MaxFlows: tc.maxFlows, IdleTimeout: 30 * time.Second}
		tab := NewTable(cfg)
		ref := &refTable{cfg: cfg, flows: map[Key]*refFlow{}}
		var got, want []Key
		gotFn := func(f *Flow) { got = append(got, f.Key) }
		wantFn := func(k Key) { want = append(want, k) }
		now := time.Unix(1000, 0)
		for op := range 30000 {
			now = now.Add(time.Duration(r.Int64N(2 * int64(tc.step))))
			if r.IntN(1000) == 0 { // a quiet spell: some flows idle out
				now = now.Add(time.Duration(r.Int64N(int64(40 * time.Second))))
			}
			// Skewed key choice: some flows are busy, most are rare.
			k := portKey(uint16(min(r.IntN(tc.keys), r.IntN(tc.keys))))
			switch n := r.IntN(100); {
			case n < 2:
				tab.Expire(now, gotFn)
				ref.expire(now, wantFn)
			case n < 6:
				if f := tab.Get(k, now); f != nil {
					tab.Close(f)
					ref.remove(ref.flows[k])
					ref.stats.Closed++
				} else if ref.flows[k] != nil {
					t.Fatalf("Test %d op %d: expected flow %d found", i, op, k.pb)
				}
			default:
				f := tab.Get(k, now)
				if (f != nil) != ref.get(k, now) {
					t.Fatalf("Test %d op %d: expected found=%v for flow %d", i, op, f == nil, k.pb)
				}
				if f == nil {
					f = tab.Create(k, now, gotFn)
					ref.create(k, now, wantFn)
				}
				if f.Key != k || f.Last != now {
					t.Fatalf("Test %d op %d: flow has key %v last %v", i, op, f.Key, f.Last)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("Test %d op %d: expected flows to leave in order %v, got %v", i, op, want, got)
			}
			got, want = got[:0], want[:0]
		}
		st := tab.Stats()
		ref.stats.Active = len(ref.flows)
		if st != ref.stats {
			t.Errorf("Test %d: expected stats %+v, got %+v", i, ref.stats, st)
		}
		if st.Evicted == 0 && tc.maxFlows < tc.keys || st.Expired == 0 {
			t.Errorf("Test %d: expected evictions and expiries to be exercised, got %+v", i, st)
		}
		got, want = got[:0], want[:0]
		tab.All(gotFn)
		for j := len(ref.list) - 1; j >= 0; j-- {
			want = append(want, ref.list[j].key)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) || tab.Len() != 0 {
			t.Errorf("Test %d: expected All in order %v, got %v (%d left)", i, want, got, tab.Len())
		}
	}
}
