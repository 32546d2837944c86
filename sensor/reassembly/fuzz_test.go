package reassembly

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"
)

// checker is a Handler that checks every delivered byte against the original
// stream at its offset (gaps skip ahead). With skipSeed set it also acts like
// a decoder skipping message bodies: after some chunks it asks the stream to
// skip a number of bytes drawn from the seed and the offset, so that what is
// delivered after a skip is checked against the bytes at that offset of the
// whole stream.
type checker struct {
	want     []byte
	pos      int
	data     int
	gapBytes int
	mismatch int // offset of the first delivered byte that differs, or -1

	skipSeed uint64 // 0: never skip
	s        *Stream
	p        *Pool
	skipped  int // bytes of want asked to be skipped
}

func (c *checker) Data(p []byte) {
	if c.mismatch < 0 && (c.pos+len(p) > len(c.want) || !bytes.Equal(c.want[c.pos:c.pos+len(p)], p)) {
		c.mismatch = c.pos
	}
	c.pos += len(p)
	c.data += len(p)
	if c.skipSeed == 0 || c.s == nil {
		return
	}
	h := (uint64(c.pos) + 1) * c.skipSeed * 0x9e3779b97f4a7c15
	if h>>60 < 6 {
		n := int(h>>32) % 80
		c.s.Skip(n, c.p)
		c.skipped += max(0, min(n, len(c.want)-c.pos))
		c.pos += n
	}
}

func (c *checker) Gap(n int) {
	if n <= 0 && c.mismatch < 0 {
		c.mismatch = c.pos
	}
	c.pos += n
	c.gapBytes += n
}

// fuzzSeg is one segment cut from the original stream: bytes [off, off+n).
type fuzzSeg struct {
	off, n  int
	corrupt bool
}

// cutStream cuts data into segments of random sizes, adds duplicates that
// cover random ranges (so they overlap segment boundaries) and shuffles them.
func cutStream(rng *rand.Rand, n int) []fuzzSeg {
	maxLen := 1 + rng.IntN(200)
	var segs []fuzzSeg
	for off := 0; off < n; {
		l := min(1+rng.IntN(maxLen), n-off)
		segs = append(segs, fuzzSeg{off: off, n: l})
		off += l
	}
	for range rng.IntN(len(segs)/2 + 2) {
		if n == 0 {
			break
		}
		off := rng.IntN(n)
		segs = append(segs, fuzzSeg{off: off, n: 1 + rng.IntN(n-off)})
	}
	rng.Shuffle(len(segs), func(i, j int) { segs[i], segs[j] = segs[j], segs[i] })
	return segs
}

// feed sends segs through one Stream and flushes it.
func feed(data []byte, segs []fuzzSeg, isn uint32, syn bool, corrupt []byte, h Handler, p *Pool) {
	var s Stream
	if c, ok := h.(*checker); ok {
		c.s, c.p = &s, p
	}
	if syn {
		s.Add(isn, true, false, nil, h, p)
	}
	for _, g := range segs {
		payload := data[g.off : g.off+g.n]
		if g.corrupt {
			payload = corrupt[g.off : g.off+g.n]
		}
		s.Add(isn+1+uint32(g.off), false, g.off+g.n == len(data), payload, h, p)
	}
	s.Flush(h, p)
}

func FuzzStream(f *testing.F) {
	f.Add([]byte("MSH|^~\\&|MONITOR|ICU|EMR|HOSP|20240101120000||ORU^R01|123|P|2.5\rPID|1||42\r"), uint64(1))
	f.Add(bytes.Repeat([]byte{0x02, 0x00, 0x00, 0x00, 0x00, 0x44}, 50), uint64(7))
	f.Add([]byte("GET / HTTP/1.1\r\nHost: pump\r\n\r\n"), uint64(0xfffffff0))
	f.Add([]byte{}, uint64(3))
	f.Fuzz(func(t *testing.T, data []byte, seed uint64) {
		if len(data) > 1<<12 {
			data = data[:1<<12]
		}
		rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
		isn := rng.Uint32()
		if rng.IntN(2) == 0 {
			isn = 0xffffffff - uint32(rng.IntN(len(data)+2)) // make the stream cross 2^32
		}
		segs := cutStream(rng, len(data))
		syn := rng.IntN(4) != 0
		if !syn {
			// Mid-stream start: the first segment seen fixes the start, so it
			// must be one that starts at the stream's first byte.
			for i, g := range segs {
				if g.off == 0 {
					segs[0], segs[i] = segs[i], segs[0]
					break
				}
			}
		}

		for _, skipSeed := range []uint64{0, seed | 1} {
			checkStream(t, data, segs, isn, syn, rng, skipSeed)
		}
	})
}

// checkStream feeds the segments with big caps, small caps and corrupt
// duplicates, and checks what is delivered.
func checkStream(t *testing.T, data []byte, segs []fuzzSeg, isn uint32, syn bool, rng *rand.Rand, skipSeed uint64) {
	t.Helper()
	segs = slices.Clone(segs)
	{
		// No losses and caps big enough: the exact stream, no gap.
		p := NewPool(Config{MaxBufferedPerStream: len(data) + 1, MaxPendingSegments: 0xffff, MaxPoolBytes: 1 << 30})
		c := &checker{want: data, mismatch: -1, skipSeed: skipSeed}
		feed(data, segs, isn, syn, nil, c, p)
		if c.mismatch >= 0 || c.data+c.skipped != len(data) || c.gapBytes != 0 {
			t.Fatalf("big caps, skip seed %#x: mismatch at %d, delivered %d, skipped %d and %d gap bytes of %d", skipSeed, c.mismatch, c.data, c.skipped, c.gapBytes, len(data))
		}
		if st := p.Stats(); st.GapBytes != 0 || st.Delivered != uint64(c.data) || (c.skipped == 0 && st.Skipped != 0) {
			t.Fatalf("big caps, skip seed %#x: stats %+v", skipSeed, st)
		}
		if p.InUse() != 0 {
			t.Fatalf("big caps: %d bytes of buffers still in use after Flush", p.InUse())
		}

		// Small caps: what is delivered is right, and delivered + gaps covers the stream.
		cfg := Config{
			MaxBufferedPerStream: 1 + rng.IntN(300),
			MaxPendingSegments:   1 + rng.IntN(4),
			MaxPoolBytes:         128 * (1 + rng.IntN(4)),
		}
		p = NewPool(cfg)
		c = &checker{want: data, mismatch: -1, skipSeed: skipSeed}
		feed(data, segs, isn, syn, nil, c, p)
		if c.mismatch >= 0 || c.data+c.gapBytes+c.skipped != len(data) {
			t.Fatalf("small caps %+v, skip seed %#x: mismatch at %d, delivered %d + %d gap bytes, want %d", cfg, skipSeed, c.mismatch, c.data, c.gapBytes, len(data))
		}
		if p.InUse() != 0 || p.Held() > p.Config().MaxPoolBytes {
			t.Fatalf("small caps: %d bytes in use after Flush, %d held over cap %d", p.InUse(), p.Held(), p.Config().MaxPoolBytes)
		}

		// Duplicates with other bytes: no panic, and the length still adds up.
		corrupt := bytes.Clone(data)
		for i := range corrupt {
			corrupt[i] ^= byte(rng.IntN(2))
		}
		for i := range segs {
			segs[i].corrupt = rng.IntN(3) == 0
		}
		p = NewPool(cfg)
		c = &checker{want: data, mismatch: -1, skipSeed: skipSeed}
		feed(data, segs, isn, syn, corrupt, c, p)
		if c.data+c.gapBytes+c.skipped != len(data) {
			t.Fatalf("corrupt duplicates: delivered %d + %d gap bytes, want %d", c.data, c.gapBytes, len(data))
		}
	}
}
