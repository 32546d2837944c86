package flow

import (
	"net/netip"
	"testing"
	"time"
)

var (
	a = netip.MustParseAddr("10.0.0.1")
	b = netip.MustParseAddr("10.0.0.2")
)

func TestMakeKeySymmetric(t *testing.T) {
	tests := []struct {
		src, dst netip.Addr
		sp, dp   uint16
	}{
		{a, b, 40000, 104},
		{b, a, 104, 40000},
		{a, a, 1, 2},
		{netip.MustParseAddr("fe80::1"), a, 5353, 5353},
	}
	for i, tc := range tests {
		k1, first1 := MakeKey(tc.src, tc.dst, tc.sp, tc.dp, 6)
		k2, first2 := MakeKey(tc.dst, tc.src, tc.dp, tc.sp, 6)
		if k1 != k2 {
			t.Errorf("Test %d: expected the same key both ways, got %v and %v", i, k1, k2)
		}
		if first1 == first2 {
			t.Errorf("Test %d: expected exactly one direction to be first", i)
		}
	}
	k1, _ := MakeKey(a, b, 1, 2, 6)
	k2, _ := MakeKey(a, b, 1, 2, 17)
	if k1 == k2 {
		t.Error("expected TCP and UDP flows to differ")
	}
}

func TestTableExpireAndEvict(t *testing.T) {
	tab := NewTable(Config{MaxFlows: 3, IdleTimeout: time.Minute})
	t0 := time.Unix(1000, 0)
	var gone []uint16
	record := func(f *Flow) { gone = append(gone, f.Key.pb) }
	key := func(port uint16) Key { k, _ := MakeKey(a, b, 1, port, 6); return k }

	for i := uint16(1); i <= 3; i++ {
		tab.Create(key(i), t0.Add(time.Duration(i)*time.Second), record)
	}
	if tab.Get(key(1), t0.Add(10*time.Second)) == nil { // 1 is now the most recent
		t.Fatal("flow 1 not found")
	}
	tab.Create(key(4), t0.Add(11*time.Second), record) // full: evicts 2, the least recent
	if len(gone) != 1 || gone[0] != 2 {
		t.Fatalf("expected flow 2 evicted, got %v", gone)
	}
	tab.Expire(t0.Add(70*time.Second), record) // idle since before 10s: flow 3
	if len(gone) != 2 || gone[1] != 3 {
		t.Fatalf("expected flow 3 expired, got %v", gone)
	}
	st := tab.Stats()
	if st.Active != 2 || st.Evicted != 1 || st.Expired != 1 || st.Created != 4 {
		t.Errorf("unexpected stats %+v", st)
	}
	tab.All(record)
	if tab.Len() != 0 || len(gone) != 4 {
		t.Errorf("expected an empty table after All, got %d flows, %v", tab.Len(), gone)
	}
}

func BenchmarkGet(b *testing.B) {
	tab := NewTable(Config{MaxFlows: 1 << 16})
	keys := make([]Key, 4096)
	t0 := time.Unix(1000, 0)
	for i := range keys {
		keys[i], _ = MakeKey(a, netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), uint16(i), 443, 6)
		tab.Create(keys[i], t0, func(*Flow) {})
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		k, _ := MakeKey(a, netip.AddrFrom4([4]byte{10, 1, byte(i >> 8 & 15), byte(i)}), uint16(i&4095), 443, 6)
		_ = k
		if tab.Get(keys[i&4095], t0) == nil {
			b.Fatal("missing")
		}
		i++
	}
}
