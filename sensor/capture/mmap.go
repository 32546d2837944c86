package capture

import (
	"fmt"
	"io"
	"math"
	"os"
	"runtime/debug"
	"sync"
	"unsafe"
)

// mapping is a plain classic pcap file mapped into memory (on Linux, see
// mapFile), as of its size at open: fillBatch points batches at their
// packets in it instead of copying them, and the pages of the batches every
// shard is done with are dropped, so that the process keeps only the pages
// of the batches in flight however large the file.
//
// A file cut short by someone else while mapped makes any access to its
// lost pages fault (SIGBUS), and its last page reads as zeros after the new
// end. The reader goroutine reads with debug.SetPanicOnFault, touches every
// page of a batch, then checks the file's size, before handing it on; a
// fault or a smaller size ends the stream with an error wrapping
// ErrTruncated that says the file "changed while being read", after the
// packets that end before the cut. The window that remains: a cut landing
// after the reader checked a batch and before a worker is done with its
// packets crashes the worker that reads them (the runtime's "unexpected
// fault address"), as would reading a cut file through any mapping.
// Replaying a capture that another program is cutting short is not
// supported; one that grows is read as of its size at open.
type mapping struct {
	data []byte // the file; read without locking until unmap
	page int
	fd   int

	mu    sync.Mutex
	live  bool // false once unmapped
	freed int  // the pages before this offset were dropped
}

// mapPlain maps s's file when it is a regular file (of classic pcap, not
// compressed), and keeps reading it otherwise or when the mapping fails.
func (s *fileSource) mapPlain() {
	st, err := s.f.Stat()
	if err != nil || !st.Mode().IsRegular() || st.Size() < 24 || st.Size() > math.MaxInt {
		return
	}
	data, err := mapFile(s.f, int(st.Size()))
	if err != nil {
		return
	}
	s.mm = &mapping{data: data, page: os.Getpagesize(), fd: int(s.f.Fd()), live: true}
	s.pos = 24 // after the file header
}

// drop gives back the whole pages before end: every batch up to end is
// done with. Batches are released in order, but their last release may
// run on different goroutines: the latest end wins.
func (m *mapping) drop(end int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	end -= end % m.page
	if !m.live || end <= m.freed {
		return
	}
	dropPages(m.data[m.freed:end])
	m.freed = end
}

// unmap ends the mapping; drop does nothing afterwards.
func (m *mapping) unmap() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.live {
		return nil
	}
	m.live = false
	return unmapFile(m.data)
}

// isMapped reports whether fillBatch points batches into a mapping.
func (s *fileSource) isMapped() bool { return s.mm != nil }

// releaseMapped drops the pages of b and of every batch before it.
func (s *fileSource) releaseMapped(b *batch) {
	if b.mapEnd > 0 {
		s.mm.drop(b.mapEnd)
	}
}

// fillMapped is fillBatch for a mapped file: b.data becomes the part of the
// mapping that holds the next records, whole ones up to the capacity of
// the batch's own buffer (kept aside in b.buf) or one larger record. The
// records are parsed and checked exactly as fillBatch does after a read.
func (s *fileSource) fillMapped(b *batch) (err error) {
	if b.mapEnd == 0 {
		b.buf = b.data[:0] // the batch's own buffer, for a later source
	}
	m := s.mm.data
	start := s.pos
	end := start + min(cap(b.buf), len(m)-start)
	b.ifaces = append(b.ifaces, s.name)
	b.mapStart, b.mapEnd = start, start
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if err = s.mappedFault(b, r); err == nil {
				panic(r)
			}
		}
	}()
	for {
		if n := s.stream(start, end); start+n < end {
			// The file lost pages since it was mapped: deliver the
			// records before the first lost one.
			b.data = m[start : start+n : start+n]
			if _, _, perr := s.parseRecords(b, 0); perr != nil {
				s.err = s.readErr(perr)
				return s.err
			}
			return s.cut(b, start+n)
		}
		b.data = m[start:end:end]
		pos, need, perr := s.parseRecords(b, 0)
		s.pos = start + pos
		b.mapEnd = s.pos
		if size := fileSize(s.mm.fd); size >= 0 && size < s.pos {
			return s.cut(b, size)
		}
		switch {
		case perr != nil:
			s.err = s.readErr(perr)
			return s.err
		case end == len(m) && s.pos == end:
			s.err = io.EOF // a clean end between two records
			return s.err
		case end == len(m):
			s.err = s.readErr(io.ErrUnexpectedEOF)
			return s.err
		case len(b.pkts) > 0:
			return nil
		}
		// No complete record from start to end: it is larger than the batch.
		end = min(start+need, len(m))
	}
}

// stream reads a byte of every cache line of the mapping from start to
// end, in order and independently, before the records are parsed: the
// processor fetches the lines ahead as it would for a copy, where parsing
// alone would wait for each record header in turn, and a page lost since
// the file was mapped faults here, in the reader. It returns how many
// bytes it read before such a fault (end-start without one).
func (s *fileSource) stream(start, end int) (n int) {
	defer func() {
		if r := recover(); r != nil {
			at, ok := s.faultAt(r)
			if !ok {
				panic(r)
			}
			n = max(at, start) - start
		}
	}()
	m := s.mm.data[start:end]
	var x0, x1, x2, x3 byte
	i := 0
	for ; i+256 <= len(m); i += 256 {
		x0 ^= m[i]
		x1 ^= m[i+64]
		x2 ^= m[i+128]
		x3 ^= m[i+192]
	}
	for ; i < len(m); i += 64 {
		x0 ^= m[i]
	}
	if len(m) > 0 {
		x0 ^= m[len(m)-1]
	}
	s.touched = x0 ^ x1 ^ x2 ^ x3
	return len(m)
}

// faultAt returns the offset in the file of the memory fault r, recovered
// with debug.SetPanicOnFault, or false when r is not a fault in the
// mapping.
func (s *fileSource) faultAt(r any) (int, bool) {
	f, ok := r.(interface{ Addr() uintptr })
	if !ok || s.mm == nil {
		return 0, false
	}
	base, a := uintptr(unsafe.Pointer(unsafe.SliceData(s.mm.data))), f.Addr()
	if a < base || a-base >= uintptr(len(s.mm.data)) {
		return 0, false
	}
	return int(a - base), true
}

// mappedFault turns r, a panic recovered while reading b's packets from the
// mapping, into the error that ends the stream, and keeps in b only the
// packets that end before the lost page. It returns nil when r is not a
// memory fault in the mapping.
func (s *fileSource) mappedFault(b *batch, r any) error {
	at, ok := s.faultAt(r)
	if !ok {
		return nil
	}
	return s.cut(b, at)
}

// cut ends the stream of a mapped file found cut short at or before at:
// it keeps in b only the packets that end before at (and before the
// file's end now) and returns the error.
func (s *fileSource) cut(b *batch, at int) error {
	if size := fileSize(s.mm.fd); size >= 0 {
		at = min(at, size)
	}
	keep := len(b.pkts)
	for keep > 0 && b.mapStart+int(b.pkts[keep-1].end) > at {
		keep--
	}
	for _, r := range b.pkts[keep:] {
		s.count.packets.Add(^uint64(0))
		s.count.bytes.Add(^uint64(r.end - r.off - 1))
	}
	b.pkts = b.pkts[:keep]
	b.mapEnd = b.mapStart
	if keep > 0 {
		b.mapEnd += int(b.pkts[keep-1].end)
	}
	s.err = fmt.Errorf("read capture %s after %d packets: %w: changed while being read", s.path, s.count.packets.Load(), ErrTruncated)
	return s.err
}
