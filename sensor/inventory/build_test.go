package inventory

import (
	"bytes"
	"math/rand"
	"testing"
)

// TestBuildLeavesStateAlone: building assets (snapshots, events) between
// calls does not change what the inventory ends up with. Asset building
// shares some of an endpoint's lists instead of copying them.
func TestBuildLeavesStateAlone(t *testing.T) {
	calls := append(mixedCalls(), capCalls()...)
	for _, cfg := range []Config{{}, {MaxEvidence: 3, MaxPeers: 2, MaxHostnames: 1}} {
		want := assetsJSON(t, run(cfg, calls))
		for seed := range 5 {
			order := append([]call(nil), calls...)
			rand.New(rand.NewSource(int64(seed))).Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
			inv := New(cfg, func(Event) {})
			for i, c := range order {
				c(inv)
				inv.Assets()
				inv.Advance(at(i * 40))
				for _, a := range inv.Assets() {
					inv.Asset(a.ID)
					inv.Identity(a.ID)
				}
			}
			inv.Flush(at(100000))
			if got := assetsJSON(t, inv); !bytes.Equal(got, want) {
				t.Errorf("cfg %+v seed %d: assets differ after interleaved builds:\n%s\nwant\n%s", cfg, seed, got, want)
			}
		}
	}
}
