package reassembly

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"unsafe"
)

// recorder is a Handler that writes data as is and a gap of n bytes as
// "<gap n>".
type recorder struct {
	out      strings.Builder
	data     int
	gapBytes int
}

func (r *recorder) Data(p []byte) { r.out.Write(p); r.data += len(p) }
func (r *recorder) Gap(n int) {
	if n <= 0 {
		panic(fmt.Sprintf("Gap(%d)", n))
	}
	fmt.Fprintf(&r.out, "<gap %d>", n)
	r.gapBytes += n
}

type seg struct {
	stream   int // index of the stream (0 or 1) for tests with two streams
	seq      uint32
	syn, fin bool
	data     string
}

// hl7Header is an MLLP start byte and an HL7 v2 MSH segment.
const hl7Header = "\x0bMSH|^~\\&|PUMP|ICU|EMR|HOSP|20110613083617||ADT^A01|934576120110613083617|P|2.3\r"

func TestStream(t *testing.T) {
	var wrapISN uint32 = 0xfffffffc // SYN at ...fc, first byte at ...fd, wraps after 3 bytes
	big := strings.Repeat("0123456789abcdef", 70000/16)
	tests := []struct {
		name    string
		cfg     Config
		segs    []seg
		noFlush bool
		want    [2]string
		stats   Stats
	}{
		{
			name:  "in order",
			segs:  []seg{{seq: 1000, syn: true}, {seq: 1001, data: "hello "}, {seq: 1007, data: "world"}},
			want:  [2]string{"hello world"},
			stats: Stats{Delivered: 11},
		},
		{
			name:  "retransmission",
			segs:  []seg{{seq: 1, data: "abc"}, {seq: 1, data: "abc"}, {seq: 4, data: "def"}, {seq: 2, data: "bc"}},
			want:  [2]string{"abcdef"},
			stats: Stats{Delivered: 6, Retransmitted: 2},
		},
		{
			name:  "overlap trim",
			segs:  []seg{{seq: 1, data: "abcd"}, {seq: 3, data: "cdef"}},
			want:  [2]string{"abcdef"},
			stats: Stats{Delivered: 6, Overlaps: 1},
		},
		{
			name:  "out of order then fill",
			segs:  []seg{{seq: 1, data: "a"}, {seq: 5, data: "ef"}, {seq: 2, data: "bcd"}},
			want:  [2]string{"abcdef"},
			stats: Stats{Delivered: 6, OutOfOrder: 1},
		},
		{
			name: "reorder of many segments",
			segs: []seg{
				{seq: 100, syn: true},
				{seq: 108, data: "h"}, {seq: 103, data: "c"}, {seq: 110, data: "j"}, {seq: 105, data: "e"},
				{seq: 102, data: "b"}, {seq: 109, data: "i"}, {seq: 104, data: "d"}, {seq: 107, data: "g"},
				{seq: 106, data: "f"}, {seq: 101, data: "a"},
			},
			want:  [2]string{"abcdefghij"},
			stats: Stats{Delivered: 10, OutOfOrder: 9},
		},
		{
			name:  "new segment spans buffered ones and holes",
			segs:  []seg{{seq: 3, syn: true}, {seq: 6, data: "c"}, {seq: 8, data: "e"}, {seq: 5, data: "bcdef"}, {seq: 4, data: "a"}},
			want:  [2]string{"abcdef"},
			stats: Stats{Delivered: 6, OutOfOrder: 5, Overlaps: 1},
		},
		{
			name:  "in-order segment covering buffered ones",
			segs:  []seg{{seq: 1, data: "a"}, {seq: 3, data: "c"}, {seq: 5, data: "e"}, {seq: 2, data: "bcdef"}},
			want:  [2]string{"abcdef"},
			stats: Stats{Delivered: 6, OutOfOrder: 2, Overlaps: 1},
		},
		{
			name:  "hole never filled, flush reports the gap",
			segs:  []seg{{seq: 1, data: "abc"}, {seq: 7, data: "ghi"}, {seq: 12, data: "l"}},
			want:  [2]string{"abc<gap 3>ghi<gap 2>l"},
			stats: Stats{Delivered: 7, OutOfOrder: 2, Gaps: 2, GapBytes: 5},
		},
		{
			name:    "hole never filled, no flush holds the data",
			segs:    []seg{{seq: 1, data: "abc"}, {seq: 7, data: "ghi"}},
			noFlush: true,
			want:    [2]string{"abc"},
			stats:   Stats{Delivered: 3, OutOfOrder: 1},
		},
		{
			name:  "per-stream byte cap: gap then delivery",
			cfg:   Config{MaxBufferedPerStream: 4},
			segs:  []seg{{seq: 1, data: "abc"}, {seq: 7, data: "ghi"}, {seq: 10, data: "jkl"}},
			want:  [2]string{"abc<gap 3>ghijkl"},
			stats: Stats{Delivered: 9, OutOfOrder: 1, DroppedOverCap: 1, Gaps: 1, GapBytes: 3},
		},
		{
			name:  "per-stream segment cap: gap then delivery, oldest first",
			cfg:   Config{MaxPendingSegments: 2},
			segs:  []seg{{seq: 1, syn: true}, {seq: 5, data: "d"}, {seq: 3, data: "b"}, {seq: 7, data: "f"}},
			want:  [2]string{"<gap 1>b<gap 1>d<gap 1>f"},
			stats: Stats{Delivered: 3, OutOfOrder: 3, DroppedOverCap: 1, Gaps: 3, GapBytes: 3},
		},
		{
			name:  "segment larger than the stream cap goes through at once",
			cfg:   Config{MaxBufferedPerStream: 4},
			segs:  []seg{{seq: 1, data: "a"}, {seq: 3, data: "cdefgh"}, {seq: 2, data: "b"}},
			want:  [2]string{"a<gap 1>cdefgh"},
			stats: Stats{Delivered: 7, DroppedOverCap: 1, Gaps: 1, GapBytes: 1, Retransmitted: 1},
		},
		{
			name: "global pool cap: a stream with nothing buffered stops waiting",
			cfg:  Config{MaxPoolBytes: 256},
			segs: []seg{
				{stream: 0, seq: 1, data: "a"}, {stream: 0, seq: 3, data: "c"}, {stream: 0, seq: 5, data: "e"},
				{stream: 1, seq: 1, data: "A"}, {stream: 1, seq: 3, data: "C"},
				{stream: 0, seq: 2, data: "b"}, {stream: 0, seq: 4, data: "d"},
				{stream: 1, seq: 5, data: "E"},
			},
			want:  [2]string{"abcde", "A<gap 1>C<gap 1>E"},
			stats: Stats{Delivered: 8, OutOfOrder: 3, DroppedOverCap: 1, Gaps: 2, GapBytes: 2},
		},
		{
			name:  "wraparound across 2^32 in order",
			segs:  []seg{{seq: wrapISN, syn: true}, {seq: wrapISN + 1, data: "abcd"}, {seq: wrapISN + 5, data: "ef"}},
			want:  [2]string{"abcdef"},
			stats: Stats{Delivered: 6},
		},
		{
			name: "wraparound across 2^32 out of order",
			segs: []seg{
				{seq: wrapISN, syn: true}, {seq: 2, data: "f"}, {seq: 0, data: "d"},
				{seq: wrapISN + 2, data: "bc"}, {seq: 1, data: "e"}, {seq: wrapISN + 1, data: "a"},
			},
			want:  [2]string{"abcdef"},
			stats: Stats{Delivered: 6, OutOfOrder: 4},
		},
		{
			name:  "hole across 2^32 reported at flush",
			segs:  []seg{{seq: 0xfffffffe, data: "a"}, {seq: 3, data: "z"}},
			want:  [2]string{"a<gap 4>z"},
			stats: Stats{Delivered: 2, OutOfOrder: 1, Gaps: 1, GapBytes: 4},
		},
		{
			name:  "SYN with data",
			segs:  []seg{{seq: 7, syn: true, data: "GET"}, {seq: 11, data: " /"}},
			want:  [2]string{"GET /"},
			stats: Stats{Delivered: 5},
		},
		{
			name:  "mid-stream start: earlier bytes are old",
			segs:  []seg{{seq: 5000, data: "xyz"}, {seq: 4990, data: "0123456789"}, {seq: 5003, data: "!"}},
			want:  [2]string{"xyz!"},
			stats: Stats{Delivered: 4, Retransmitted: 1},
		},
		{
			name: "inconsistent retransmission (HL7): first received wins",
			segs: []seg{
				{seq: 100, syn: true},
				{seq: 110, data: "ADT^A01|"},           // arrives first, out of order
				{seq: 101, data: "MSH|^~\\&|ORU^R01|"}, // covers it with other bytes
				{seq: 118, data: "1\r"},
			},
			want:  [2]string{"MSH|^~\\&|ADT^A01|1\r"},
			stats: Stats{Delivered: 19, OutOfOrder: 1, Overlaps: 1, Inconsistent: 1},
		},
		{
			name: "ambiguous retransmission of delivered data (HL7): first received wins",
			segs: []seg{
				{seq: 100, syn: true},
				{seq: 101, data: hl7Header + "PID|1||135769||MOUSE^MICKEY^||19281118|M\r\x1c\r"},
				{seq: 101, data: hl7Header + "PID|1||135770||MOUSE^MINNIE^||19281118|F\r\x1c\r"},
				{seq: 101, data: hl7Header + "PID|1||135769||MOUSE^MICKEY^||19281118|M\r\x1c\r"},
			},
			want:  [2]string{hl7Header + "PID|1||135769||MOUSE^MICKEY^||19281118|M\r\x1c\r"},
			stats: Stats{Delivered: uint64(len(hl7Header) + 43), Retransmitted: 2, Inconsistent: 1},
		},
		{
			name:  "inconsistent copies both out of order: first received wins",
			segs:  []seg{{seq: 1, data: "x"}, {seq: 5, data: "BBBB"}, {seq: 5, data: "CCCC"}, {seq: 2, data: "yyy"}},
			want:  [2]string{"xyyyBBBB"},
			stats: Stats{Delivered: 8, OutOfOrder: 1, Retransmitted: 1, Inconsistent: 1},
		},
		{
			// One Add delivers "abcd" then the drained "efgh": only the last
			// chunk's fingerprint is kept, as for in-order chunks.
			name: "ambiguous retransmission of the last drained chunk",
			segs: []seg{
				{seq: 1, data: "x"},
				{seq: 6, data: "efgh"},
				{seq: 2, data: "abcd"},
				{seq: 6, data: "EFGH"}, // the last delivered chunk, other bytes
				{seq: 2, data: "ABCD"}, // an earlier chunk: its bytes are gone
			},
			want:  [2]string{"xabcdefgh"},
			stats: Stats{Delivered: 9, OutOfOrder: 1, Retransmitted: 2, Inconsistent: 1},
		},
		{
			name:  "data after FIN ignored",
			segs:  []seg{{seq: 1, data: "abc", fin: true}, {seq: 4, data: "def"}, {seq: 3, data: "cX"}},
			want:  [2]string{"abc"},
			stats: Stats{Delivered: 3, AfterFIN: 2, Retransmitted: 1},
		},
		{
			name:  "FIN out of order trims buffered data past it",
			segs:  []seg{{seq: 1, data: "a"}, {seq: 5, data: "efgh"}, {seq: 4, data: "d", fin: true}, {seq: 2, data: "bc"}},
			want:  [2]string{"abcd"},
			stats: Stats{Delivered: 4, OutOfOrder: 2, AfterFIN: 1},
		},
		{
			name:  "flush reports the missing tail before FIN",
			segs:  []seg{{seq: 1, data: "abc"}, {seq: 10, fin: true}},
			want:  [2]string{"abc<gap 6>"},
			stats: Stats{Delivered: 3, Gaps: 1, GapBytes: 6},
		},
		{
			name:  "segment implausibly far ahead ignored",
			segs:  []seg{{seq: 1, data: "abc"}, {seq: 4 + 1<<30 + 1, data: "zz"}, {seq: 4, data: "d"}},
			want:  [2]string{"abcd"},
			stats: Stats{Delivered: 4, OutOfWindow: 1},
		},
		{
			name:  "out-of-order segment larger than a buffer is split",
			cfg:   Config{MaxBufferedPerStream: 1 << 20},
			segs:  []seg{{seq: 1, data: "a"}, {seq: 3, data: big}, {seq: 2, data: "b"}},
			want:  [2]string{"ab" + big},
			stats: Stats{Delivered: uint64(2 + len(big)), OutOfOrder: 2},
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewPool(tt.cfg)
			var streams [2]Stream
			var recs [2]recorder
			for _, sg := range tt.segs {
				streams[sg.stream].Add(sg.seq, sg.syn, sg.fin, []byte(sg.data), &recs[sg.stream], p)
			}
			if !tt.noFlush {
				for k := range streams {
					streams[k].Flush(&recs[k], p)
				}
			}
			for k := range recs {
				if got := recs[k].out.String(); got != tt.want[k] {
					t.Errorf("Test %d: stream %d: expected %.80q, got %.80q", i, k, tt.want[k], got)
				}
			}
			if got := p.Stats(); got != tt.stats {
				t.Errorf("Test %d: expected stats %+v, got %+v", i, tt.stats, got)
			}
			if !tt.noFlush && p.InUse() != 0 {
				t.Errorf("Test %d: expected no buffer in use after Flush, got %d bytes", i, p.InUse())
			}
			if p.Held() > p.Config().MaxPoolBytes {
				t.Errorf("Test %d: pool holds %d bytes, over its cap %d", i, p.Held(), p.Config().MaxPoolBytes)
			}
		})
	}
}

func TestStreamSize(t *testing.T) {
	if n := unsafe.Sizeof(Stream{}); n > 48 {
		t.Errorf("expected a Stream of at most 48 bytes, got %d", n)
	}
}

func TestFlushThenAddIgnored(t *testing.T) {
	p := NewPool(Config{})
	var s Stream
	var r recorder
	s.Add(1, false, false, []byte("ab"), &r, p)
	s.Flush(&r, p)
	if !s.Finished() {
		t.Errorf("expected Finished after Flush")
	}
	s.Add(3, false, false, []byte("cd"), &r, p)
	s.Flush(&r, p)
	if got := r.out.String(); got != "ab" {
		t.Errorf("expected %q, got %q", "ab", got)
	}
	s.Reset(p)
	s.Add(9, false, false, []byte("new"), &r, p)
	if got := r.out.String(); got != "abnew" {
		t.Errorf("expected %q after Reset, got %q", "abnew", got)
	}
}

func TestResetReleasesBuffers(t *testing.T) {
	p := NewPool(Config{})
	var s Stream
	var r recorder
	s.Add(1, false, false, []byte("a"), &r, p)
	s.Add(3, false, false, []byte("c"), &r, p)
	s.Add(5, false, false, bytes.Repeat([]byte("e"), 1000), &r, p)
	if s.Buffered() != 1001 || p.InUse() != 128+1024 {
		t.Fatalf("expected 1001 bytes buffered in 1152 bytes of buffers, got %d in %d", s.Buffered(), p.InUse())
	}
	s.Reset(p)
	if s.Buffered() != 0 || p.InUse() != 0 || s.Started() {
		t.Errorf("expected an empty stream and pool after Reset, got %d buffered, %d in use", s.Buffered(), p.InUse())
	}
	if got := r.out.String(); got != "a" {
		t.Errorf("expected %q, got %q", "a", got)
	}
	if p.Held() != 128+1024 {
		t.Errorf("expected the free lists to keep 1152 bytes, got %d", p.Held())
	}
	p.Trim()
	if p.Held() != 0 {
		t.Errorf("expected nothing held after Trim, got %d", p.Held())
	}
}

func TestFinished(t *testing.T) {
	p := NewPool(Config{})
	var s Stream
	var r recorder
	s.Add(1, false, false, []byte("ab"), &r, p)
	s.Add(4, false, true, []byte("d"), &r, p)
	if s.Finished() {
		t.Errorf("expected not Finished with a hole before the FIN")
	}
	s.Add(3, false, false, []byte("c"), &r, p)
	if !s.Finished() {
		t.Errorf("expected Finished once the FIN is reached")
	}
	if got := r.out.String(); got != "abcd" {
		t.Errorf("expected %q, got %q", "abcd", got)
	}
}

func TestPoolEvictsFreeBuffersOfOtherClasses(t *testing.T) {
	p := NewPool(Config{MaxPoolBytes: 1024})
	var s Stream
	var r recorder
	s.Add(1, false, false, []byte("a"), &r, p)
	s.Add(3, false, false, bytes.Repeat([]byte("c"), 1000), &r, p)
	s.Flush(&r, p)
	if p.Held() != 1024 || p.InUse() != 0 {
		t.Fatalf("expected 1024 bytes held on the free list, got %d held, %d in use", p.Held(), p.InUse())
	}
	var s2 Stream
	s2.Add(1, false, false, []byte("a"), &r, p)
	s2.Add(3, false, false, []byte("c"), &r, p)
	if p.Held() != 128 || p.InUse() != 128 || s2.Buffered() != 1 {
		t.Errorf("expected the 1024-byte free buffer evicted for a 128-byte one, got %d held, %d in use, %d buffered",
			p.Held(), p.InUse(), s2.Buffered())
	}
}

func TestSteadyStateAllocatesNothing(t *testing.T) {
	p := NewPool(Config{})
	h := &sink{}
	payload := make([]byte, benchMSS)
	var s Stream
	seq := uint32(1)
	window := func() {
		for i := 3; i >= 0; i-- { // reverse order: three buffered, then all delivered
			s.Add(seq+uint32(i*benchMSS), false, false, payload, h, p)
		}
		seq += 4 * benchMSS
	}
	window()
	if n := testing.AllocsPerRun(100, window); n != 0 {
		t.Errorf("expected 0 allocations per out-of-order window, got %v", n)
	}
	if n := testing.AllocsPerRun(100, func() {
		s.Add(seq, false, false, payload, h, p)
		seq += benchMSS
	}); n != 0 {
		t.Errorf("expected 0 allocations per in-order segment, got %v", n)
	}
}

func TestSampleOfCoverage(t *testing.T) {
	buf := make([]byte, 1460)
	for i := range buf {
		buf[i] = byte(i*31 + 7)
	}
	// Up to 256 bytes every byte is read.
	for n := 1; n <= 256; n++ {
		b := buf[:n]
		want := sampleOf(b)
		for i := range n {
			b[i] ^= 0x20
			if sampleOf(b) == want {
				t.Fatalf("length %d: a change at offset %d goes unseen", n, i)
			}
			b[i] ^= 0x20
		}
	}
	// Longer: any changed run of (n-8)/31 bytes is seen.
	n := len(buf)
	run := (n - 8) / 31
	want := sampleOf(buf)
	for i := 0; i+run <= n; i++ {
		for k := i; k < i+run; k++ {
			buf[k] ^= 0x20
		}
		if sampleOf(buf) == want {
			t.Fatalf("length %d: a change of bytes [%d,%d) goes unseen", n, i, i+run)
		}
		for k := i; k < i+run; k++ {
			buf[k] ^= 0x20
		}
	}
}

func TestSampleStrideExact(t *testing.T) {
	steps := []uint64{1<<32 - 1, 1<<32 - 2, 1<<31 + 12345, 1 << 31}
	for step := range uint64(1 << 17) {
		steps = append(steps, step)
	}
	for _, step := range steps {
		f := sampleStride(step)
		for i := range uint64(32) {
			if got, want := i*f>>32, i*step/31; got != want {
				t.Fatalf("step %d, word %d: offset %d, want %d", step, i, got, want)
			}
		}
	}
}
