package publish

import "testing"

// TestOldestPos: the outbox may only forget what every flight before it
// settled; a settled (nil) head must not hide the oldest unsettled flight.
func TestOldestPos(t *testing.T) {
	at := func(seg uint64, off int64) *flight { return &flight{e: entry{pos: loc{seg, off}}} }
	tests := []struct {
		window []*flight
		retry  []entry
		want   *loc
	}{
		{nil, nil, nil},
		{[]*flight{at(1, 10), at(1, 20)}, nil, &loc{1, 10}},
		{[]*flight{nil, at(2, 5), at(2, 9)}, nil, &loc{2, 5}},
		{[]*flight{nil, nil}, nil, nil},
		{[]*flight{nil, at(3, 0)}, []entry{{pos: loc{1, 1}}}, &loc{1, 1}},
	}
	for i, tc := range tests {
		got := oldestPos(tc.window, tc.retry)
		if (got == nil) != (tc.want == nil) || (got != nil && *got != *tc.want) {
			t.Errorf("Test %d: expected %v, got %v", i, tc.want, got)
		}
	}
}
