package reassembly

import "testing"

// sink is a Handler that only counts.
type sink struct{ data, gaps int }

func (s *sink) Data(p []byte) { s.data += len(p) }
func (s *sink) Gap(n int)     { s.gaps += n }

const benchMSS = 1460

func BenchmarkInOrder(b *testing.B) {
	p := NewPool(Config{})
	h := &sink{}
	payload := make([]byte, benchMSS)
	var s Stream
	seq := uint32(0xfffff000) // crosses 2^32 during the run
	s.Add(seq, true, false, nil, h, p)
	seq++
	b.SetBytes(benchMSS)
	b.ReportAllocs()
	for b.Loop() {
		s.Add(seq, false, false, payload, h, p)
		seq += benchMSS
	}
	if h.gaps != 0 {
		b.Fatalf("expected no gap, got %d bytes", h.gaps)
	}
}

// BenchmarkOutOfOrder feeds windows of 8 segments whose first one arrives
// last: 7 segments are buffered, then all 8 are delivered.
func BenchmarkOutOfOrder(b *testing.B) {
	const window = 8
	p := NewPool(Config{})
	h := &sink{}
	payload := make([]byte, benchMSS)
	var s Stream
	seq := uint32(1)
	s.Add(seq, false, false, nil, h, p)
	feedWindow := func() {
		for i := 1; i < window; i++ {
			s.Add(seq+uint32(i*benchMSS), false, false, payload, h, p)
		}
		s.Add(seq, false, false, payload, h, p)
		seq += window * benchMSS
	}
	feedWindow() // warm-up: fills the pool's free list
	b.SetBytes(window * benchMSS)
	b.ReportAllocs()
	for b.Loop() {
		feedWindow()
	}
	if h.gaps != 0 || s.Buffered() != 0 {
		b.Fatalf("expected no gap and nothing buffered, got %d gap bytes, %d buffered", h.gaps, s.Buffered())
	}
}

// BenchmarkOverCap feeds segments that each leave a one-segment hole, so the
// per-stream segment cap keeps forcing gaps.
func BenchmarkOverCap(b *testing.B) {
	p := NewPool(Config{MaxPendingSegments: 4})
	h := &sink{}
	payload := make([]byte, benchMSS)
	var s Stream
	seq := uint32(1)
	s.Add(seq, false, false, nil, h, p)
	for range 8 {
		seq += 2 * benchMSS
		s.Add(seq, false, false, payload, h, p)
	}
	b.SetBytes(benchMSS)
	b.ReportAllocs()
	for b.Loop() {
		seq += 2 * benchMSS
		s.Add(seq, false, false, payload, h, p)
	}
	if h.gaps == 0 {
		b.Fatalf("expected gaps")
	}
}

// BenchmarkInOrderCold is BenchmarkInOrder over a ring of 8 MiB of payload,
// larger than the L2 cache, as a capture's packets are: each segment's bytes
// come cold from memory shared with the reader, not from a hot buffer.
func BenchmarkInOrderCold(b *testing.B) {
	const ring = 8 << 20
	p := NewPool(Config{})
	h := &sink{}
	buf := make([]byte, ring)
	for i := range buf {
		buf[i] = byte(i * 131 >> 3)
	}
	var s Stream
	seq := uint32(0xfffff000)
	s.Add(seq, true, false, nil, h, p)
	seq++
	off := 0
	b.SetBytes(benchMSS)
	b.ReportAllocs()
	for b.Loop() {
		if off+benchMSS > ring {
			off = 0
		}
		s.Add(seq, false, false, buf[off:off+benchMSS], h, p)
		seq += benchMSS
		off += benchMSS
	}
	if h.gaps != 0 {
		b.Fatalf("expected no gap, got %d bytes", h.gaps)
	}
}

// skipSink is a Handler that, like a decoder of messages with a 100-byte
// head and a body of bulk it does not need, skips all but the first 100
// bytes of every 64 KiB.
type skipSink struct {
	s    *Stream
	p    *Pool
	data int
}

func (k *skipSink) Data(p []byte) {
	k.data += len(p)
	k.s.Skip(64<<10-len(p), k.p)
}
func (k *skipSink) Gap(int) {}

// BenchmarkInOrderSkip feeds in-order segments of which most lie inside a
// skipped range: they cost a comparison or two.
func BenchmarkInOrderSkip(b *testing.B) {
	p := NewPool(Config{})
	var s Stream
	h := &skipSink{s: &s, p: p}
	payload := make([]byte, benchMSS)
	seq := uint32(0xfffff000)
	s.Add(seq, true, false, nil, h, p)
	seq++
	b.SetBytes(benchMSS)
	b.ReportAllocs()
	for b.Loop() {
		s.Add(seq, false, false, payload, h, p)
		seq += benchMSS
	}
	if p.Stats().Skipped == 0 {
		b.Fatal("nothing skipped")
	}
}
