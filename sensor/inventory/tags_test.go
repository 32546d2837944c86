package inventory

import (
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"testing"
)

// naiveFindTag is findTag one tag at a time.
func naiveFindTag(tags []byte, tag uint16, i int) int {
	for ; 2*i < len(tags); i++ {
		if binary.LittleEndian.Uint16(tags[2*i:]) == tag {
			return i
		}
	}
	return -1
}

func TestFindTag(t *testing.T) {
	mk := func(ts ...uint16) []byte {
		var b []byte
		for i, v := range ts {
			b = insertTag(b, i, v)
		}
		return b
	}
	tests := []struct {
		name string
		tags []byte
		tag  uint16
		from int
		want int
	}{
		{"empty", nil, 7, 0, -1},
		{"one", mk(7), 7, 0, 0},
		{"one miss", mk(7), 8, 0, -1},
		{"in the tail", mk(1, 2, 3, 4, 5, 6), 6, 0, 5},
		{"first lane", mk(9, 1, 2, 3, 4, 5), 9, 0, 0},
		{"last lane", mk(1, 2, 3, 9, 4), 9, 0, 3},
		{"second word", mk(1, 2, 3, 4, 5, 9, 7, 8), 9, 0, 5},
		{"from past a match", mk(9, 1, 9, 3, 4, 9), 9, 1, 2},
		{"from past all", mk(9, 1, 9, 3, 4, 9), 9, 6, -1},
		{"zero tag", mk(1, 0, 2, 3), 0, 0, 1},
		{"all ones", mk(0xfffe, 0xffff, 0x7fff), 0xffff, 0, 1},
		// A lane that differs only in its top bit, or only below it, must
		// not match, nor carry into the next lane.
		{"top bit", mk(0x8005, 0x0005, 1, 2), 0x0005, 0, 1},
		{"low bits", mk(0x8000, 0x8001, 0x0001, 0x7fff), 0x8000, 0, 0},
		{"no carry", mk(0x0001, 0x0000, 0xffff, 0x8000), 0x8000, 0, 3},
	}
	for _, tt := range tests {
		if got := findTag(tt.tags, tt.tag, tt.from); got != tt.want {
			t.Errorf("%s: findTag = %d, want %d", tt.name, got, tt.want)
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		n := rng.IntN(40)
		var tags []byte
		for i := range n {
			tags = insertTag(tags, i, uint16(rng.IntN(6))<<uint(rng.IntN(16)))
		}
		tag, from := uint16(rng.IntN(6))<<uint(rng.IntN(16)), rng.IntN(n+1)
		if got, want := findTag(tags, tag, from), naiveFindTag(tags, tag, from); got != want {
			t.Fatalf("findTag(%x, %#x, %d) = %d, want %d", tags, tag, from, got, want)
		}
	}
}

// TestTaggedSets checks addEvidence against insertSorted, the definition
// of a capped set, with the tags following the set. The names collide in
// their tags (equal values, names of equal length), so that the tags match
// where the evidence differs.
func TestTaggedSets(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	names := []string{"a", "b", "c"}
	for _, max := range []int{1, 2, 3, 5, 8, 64} {
		inv := New(Config{MaxEvidence: max}, nil)
		ep := &endpoint{}
		var wantEv []evidence
		for i := range 3000 {
			e := evidence{source: names[rng.IntN(3)], fact: names[rng.IntN(3)], value: names[rng.IntN(3)], first: at(rng.IntN(100))}
			inv.addEvidence(ep, e.source, e.fact, e.value, inv.evidenceTag(e.source, e.fact, e.value), e.first)
			var k int
			wantEv, k, _ = insertSorted(wantEv, e, compareEvidence, max)
			if k >= 0 && e.first.Before(wantEv[k].first) {
				wantEv[k].first = e.first
			}

			if !slices.Equal(ep.evidence, wantEv) {
				t.Fatalf("max %d offer %d: evidence %v, want %v", max, i, ep.evidence, wantEv)
			}
			checkTags(t, inv, ep)
		}
	}
}

// checkTags fails unless the tags of ep are those of its evidence.
func checkTags(t *testing.T, inv *Inventory, ep *endpoint) {
	t.Helper()
	if len(ep.evidenceTags) != 2*len(ep.evidence) {
		t.Fatalf("%d tag bytes for %d entries", len(ep.evidenceTags), len(ep.evidence))
	}
	for i, e := range ep.evidence {
		if got, want := binary.LittleEndian.Uint16(ep.evidenceTags[2*i:]), inv.evidenceTag(e.source, e.fact, e.value); got != want {
			t.Fatalf("evidence %d: tag %#x, want %#x", i, got, want)
		}
	}
}

// TestTagsFollowEndpoints checks the tags of every endpoint after the
// calls of TestOrder, capped and not.
func TestTagsFollowEndpoints(t *testing.T) {
	for _, cfg := range []Config{
		{Sensor: "s"},
		{Sensor: "s", MaxAssets: 4, MaxEndpoints: 9, MaxEvidence: 2, MaxPeers: 3, MaxServices: 1, MaxHostnames: 1, MaxIPs: 1, RouterMinIPs: 2},
	} {
		inv := run(cfg, append(mixedCalls(), capCalls()...))
		for _, it := range inv.endpoints.items {
			checkTags(t, inv, &it.val)
		}
	}
}
