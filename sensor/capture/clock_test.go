package capture

import (
	"math"
	"testing"
	"time"
)

func TestClock(t *testing.T) {
	const s = int64(time.Second)
	tests := []struct {
		ts            int64
		moved, ticked bool
		now           int64
	}{
		{-5 * s, true, true, -5 * s}, // the first packet ticks, whatever its time
		{-5 * s, false, false, -5 * s},
		{-4*s - 1, true, false, -4*s - 1},
		{-9 * s, false, false, -4*s - 1}, // back in time: stays
		{-4 * s, true, true, -4 * s},     // ShardTick after the last tick
		{-3*s + 1, true, true, -3*s + 1},
		{-3*s + 2, true, false, -3*s + 2},
		{10 * s, true, true, 10 * s},
	}
	var c Clock
	if got := c.Now(); got != math.MinInt64 {
		t.Fatalf("a new clock says %d", got)
	}
	for i, tc := range tests {
		moved, ticked := c.Advance(tc.ts)
		if moved != tc.moved || ticked != tc.ticked || c.Now() != tc.now {
			t.Errorf("Test %d: Advance(%d) = %v, %v, now %d; want %v, %v, %d", i, tc.ts, moved, ticked, c.Now(), tc.moved, tc.ticked, tc.now)
		}
	}
}
