package reassembly

import (
	"fmt"
	"testing"
)

// skipRecorder is a recorder that, like a decoder reading a message head,
// asks its Stream to skip at[off] bytes when a delivered chunk ends at
// stream offset off (counted from the first byte), and writes "<skip n>".
type skipRecorder struct {
	recorder
	s   *Stream
	p   *Pool
	at  map[int]int
	pos int
}

func (r *skipRecorder) Data(b []byte) {
	r.recorder.Data(b)
	r.pos += len(b)
	if n, ok := r.at[r.pos]; ok {
		r.s.Skip(n, r.p)
		fmt.Fprintf(&r.out, "<skip %d>", n)
		r.pos += n
	}
}

func (r *skipRecorder) Gap(n int) {
	r.recorder.Gap(n)
	r.pos += n
}

// TestSkip checks Stream.Skip called from Handler.Data: the stream starts at
// sequence number 100 ("HEAD" at 100-103) and the handler skips the 6 bytes
// "bbbbbb" after "HEAD" (104-109) unless a test says otherwise.
func TestSkip(t *testing.T) {
	tests := []struct {
		name     string
		cfg      Config
		at       map[int]int
		segs     []seg
		finished bool // the stream is Finished before Flush
		want     string
		stats    Stats
		buffered int // bytes buffered before Flush
	}{
		{
			name:  "in order",
			segs:  []seg{{seq: 100, data: "HEAD"}, {seq: 104, data: "bbb"}, {seq: 107, data: "bbb"}, {seq: 110, data: "TAIL"}},
			want:  "HEAD<skip 6>TAIL",
			stats: Stats{Delivered: 8, Skipped: 6},
		},
		{
			name:  "segment across the end of the skip",
			segs:  []seg{{seq: 100, data: "HEAD"}, {seq: 104, data: "bbbbbbTA"}, {seq: 112, data: "IL"}},
			want:  "HEAD<skip 6>TAIL",
			stats: Stats{Delivered: 8, Skipped: 6},
		},
		{
			name:  "skip from the middle of a segment",
			segs:  []seg{{seq: 100, data: "HE"}, {seq: 102, data: "ADbbbbbbTAIL"}},
			at:    map[int]int{2: 2}, // skip "AD"; the rest of the segment is delivered
			want:  "HE<skip 2>bbbbbbTAIL",
			stats: Stats{Delivered: 12, Skipped: 2},
		},
		{
			name:  "out of order inside the skip is dropped",
			segs:  []seg{{seq: 100, data: "HEAD"}, {seq: 107, data: "bbb"}},
			want:  "HEAD<skip 6>",
			stats: Stats{Delivered: 4, Skipped: 3},
		},
		{
			name:  "out of order inside the skip, then the rest",
			segs:  []seg{{seq: 100, data: "HEAD"}, {seq: 107, data: "bbb"}, {seq: 104, data: "bbb"}, {seq: 110, data: "TAIL"}},
			want:  "HEAD<skip 6>TAIL",
			stats: Stats{Delivered: 8, Skipped: 6},
		},
		{
			name:  "across the end of the skip after a hole: delivered at once",
			segs:  []seg{{seq: 100, data: "HEAD"}, {seq: 107, data: "bbbTA"}, {seq: 112, data: "IL"}},
			want:  "HEAD<skip 6>TAIL",
			stats: Stats{Delivered: 8, Skipped: 3},
		},
		{
			name:  "out of order across the end, hole filled",
			segs:  []seg{{seq: 100, data: "HEAD"}, {seq: 107, data: "bbbTA"}, {seq: 104, data: "bbb"}, {seq: 112, data: "IL"}},
			want:  "HEAD<skip 6>TAIL",
			stats: Stats{Delivered: 8, Skipped: 6},
		},
		{
			name:  "buffered before the skip was known: trimmed by it",
			segs:  []seg{{seq: 100, data: "H"}, {seq: 106, data: "bbbbTAIL"}, {seq: 101, data: "EAD"}},
			want:  "HEAD<skip 6>TAIL",
			stats: Stats{Delivered: 8, Skipped: 4, OutOfOrder: 1},
		},
		{
			name:  "buffered before the skip was known, hole filled",
			segs:  []seg{{seq: 100, data: "H"}, {seq: 106, data: "bbbbTAIL"}, {seq: 101, data: "EAD"}, {seq: 104, data: "bb"}},
			want:  "HEAD<skip 6>TAIL",
			stats: Stats{Delivered: 8, Skipped: 6, OutOfOrder: 1},
		},
		{
			name: "drained chunk asks to skip the next buffered chunk",
			segs: []seg{{seq: 100, data: "H"}, {seq: 104, data: "bbbbbb"}, {seq: 110, data: "TAIL"}, {seq: 101, data: "EAD"}},
			want: "HEAD<skip 6>TAIL",
			// The 6 buffered bytes are dropped by the skip, not delivered.
			stats: Stats{Delivered: 8, Skipped: 6, OutOfOrder: 2},
		},
		{
			name: "retransmission inside the skip",
			segs: []seg{{seq: 100, data: "HEAD"}, {seq: 104, data: "bbb"}, {seq: 104, data: "bbb"}, {seq: 107, data: "bbb"}, {seq: 110, data: "TAIL"}},
			want: "HEAD<skip 6>TAIL",
			// Every copy of a skipped byte is a skipped byte.
			stats: Stats{Delivered: 8, Skipped: 9},
		},
		{
			name:     "FIN inside the skip",
			at:       map[int]int{4: 100},
			segs:     []seg{{seq: 100, data: "HEAD"}, {seq: 104, data: "bbb"}, {seq: 107, data: "bbb", fin: true}},
			finished: true,
			want:     "HEAD<skip 100>",
			stats:    Stats{Delivered: 4, Skipped: 6},
		},
		{
			name:     "FIN inside the skip, after a hole: no gap",
			at:       map[int]int{4: 100},
			segs:     []seg{{seq: 100, data: "HEAD"}, {seq: 107, data: "bbb", fin: true}},
			finished: true,
			want:     "HEAD<skip 100>",
			stats:    Stats{Delivered: 4, Skipped: 3},
		},
		{
			name:  "hole inside the skip is no gap",
			segs:  []seg{{seq: 100, data: "HEAD"}, {seq: 110, data: "TAIL"}},
			want:  "HEAD<skip 6>TAIL",
			stats: Stats{Delivered: 8},
		},
		{
			name:     "hole across the end of the skip: only its tail is a gap",
			segs:     []seg{{seq: 100, data: "HEAD"}, {seq: 111, data: "AIL"}},
			want:     "HEAD<skip 6><gap 1>AIL",
			stats:    Stats{Delivered: 7, OutOfOrder: 1, Gaps: 1, GapBytes: 1},
			buffered: 3,
		},
		{
			name:  "cap reached while skipping",
			cfg:   Config{MaxPendingSegments: 1},
			segs:  []seg{{seq: 100, data: "HEAD"}, {seq: 111, data: "IL"}, {seq: 113, data: "X"}},
			want:  "HEAD<skip 6><gap 1>ILX",
			stats: Stats{Delivered: 7, OutOfOrder: 1, Gaps: 1, GapBytes: 1, DroppedOverCap: 1},
		},
		{
			name:  "two skips in one Add",
			at:    map[int]int{4: 2, 9: 1},
			segs:  []seg{{seq: 100, data: "HEAD"}, {seq: 109, data: "MSG"}, {seq: 104, data: "bbxyz"}},
			want:  "HEAD<skip 2>xyz<skip 1>SG",
			stats: Stats{Delivered: 9, Skipped: 3, OutOfOrder: 1},
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewPool(tt.cfg)
			var s Stream
			at := tt.at
			if at == nil {
				at = map[int]int{4: 6}
			}
			r := &skipRecorder{s: &s, p: p, at: at}
			for _, sg := range tt.segs {
				s.Add(sg.seq, sg.syn, sg.fin, []byte(sg.data), r, p)
			}
			if s.Finished() != tt.finished {
				t.Errorf("Test %d: expected Finished %v before Flush", i, tt.finished)
			}
			if s.Buffered() != tt.buffered {
				t.Errorf("Test %d: expected %d bytes buffered before Flush, got %d", i, tt.buffered, s.Buffered())
			}
			s.Flush(r, p)
			if got := r.out.String(); got != tt.want {
				t.Errorf("Test %d: expected %q, got %q", i, tt.want, got)
			}
			if got := p.Stats(); got != tt.stats {
				t.Errorf("Test %d: expected stats %+v, got %+v", i, tt.stats, got)
			}
			if p.InUse() != 0 {
				t.Errorf("Test %d: expected no buffer in use after Flush, got %d bytes", i, p.InUse())
			}
		})
	}
}

// TestSkipOutsideData checks Skip called between Adds, before the first one,
// and its cap.
func TestSkipOutsideData(t *testing.T) {
	p := NewPool(Config{})
	var s Stream
	var r recorder
	s.Skip(3, p) // before the first Add: nothing to skip from
	s.Add(100, false, false, []byte("abc"), &r, p)
	s.Skip(3, p)
	s.Add(103, false, false, []byte("defghi"), &r, p)
	s.Skip(2, p)
	s.Skip(0, p)
	s.Skip(-5, p)
	s.Add(109, false, false, []byte("jkl"), &r, p)
	if got := r.out.String(); got != "abcghil" {
		t.Errorf("expected %q, got %q", "abcghil", got)
	}
	s.Skip(1<<62, p) // counts as 1 GiB
	s.Skip(1<<30, p) // all of it too: a second range
	s.Add(112+1<<31-1, false, false, []byte("yz"), &r, p)
	if got := r.out.String(); got != "abcghilz" {
		t.Errorf("expected %q after two 1 GiB skips, got %q", "abcghilz", got)
	}
	if got := p.Stats().Skipped; got != 6 {
		t.Errorf("expected 6 bytes skipped, got %d", got)
	}
}
