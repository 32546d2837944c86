// Package reassembly puts the segments of one direction of a TCP stream back
// in order, with bounded memory.
//
// A Stream is a small value, kept with its flow; a Pool holds the
// out-of-order buffers of all the streams of one worker. Neither has a lock
// nor starts a goroutine: both belong to the worker goroutine that owns the
// flow table.
//
// Policy, in short: the first segment seen fixes the next expected sequence
// number; in-order bytes are handed to the Handler straight from the caller's
// slice; out-of-order bytes are copied into pooled buffers until the hole
// before them fills; already-seen bytes are dropped, and where a later copy of
// a range differs from the first one, the first received wins and the
// Inconsistent counter grows; when a cap would be exceeded the stream stops
// waiting, reports the hole through Handler.Gap and goes on from the oldest
// data it has. A Handler that does not need the next bytes says so through
// Stream.Skip: the stream moves past them at once, so that their segments,
// when they come, are dropped like old ones: neither delivered, buffered nor
// fingerprinted, and a hole among them is never reported.
package reassembly

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/bits"
)

// Handler receives the in-order bytes of one direction of a stream.
// Its methods must not call back into the Stream or Pool that calls them,
// except that Data may call Skip on the Stream.
type Handler interface {
	// Data receives the next in-order bytes. p is valid only during the call:
	// it may alias the caller's packet buffer or a pooled buffer that is
	// reused afterwards. Copy what you keep.
	Data(p []byte)
	// Gap says that n bytes (n > 0) of the stream were lost: they never
	// arrived, or were given up on because a cap was reached. The next Data
	// call continues after them.
	Gap(n int)
}

// maxWindow is how far ahead of the next expected byte a segment may start
// and still be believed: the largest window TCP window scaling allows.
const maxWindow = 1 << 30

// Stream flags.
const (
	flagStarted uint8 = 1 << iota // next is set
	flagFIN                       // fin is set
	flagClosed                    // Flush was called; Add ignores everything until Reset
)

// maxSkip caps the bytes of a skipped range: like maxWindow, it keeps every
// sequence number compared within 2^31 of next.
const maxSkip = 1 << 30

// Stream reassembles one direction of a TCP stream. The zero value is ready
// to use: the first Add starts it. A Stream with nothing buffered is 48 bytes.
// Pass the same Pool to every call on a Stream.
type Stream struct {
	head     *segment // buffered out-of-order segments, sorted, not overlapping, all after next
	sample   uint64   // sample of the bytes of the last delivered chunk
	next     uint32   // sequence number of the next byte to deliver
	fin      uint32   // sequence number just after the last byte, when flagFIN is set
	buffered uint32   // payload bytes in the head list
	lastSeq  uint32   // sequence number of the last delivered chunk
	lastLen  uint32   // length of the last delivered chunk
	skipFrom uint32   // sequence number of the latest skipped range
	skipLen  uint32   // length of that range (0: none); it ends at or before next
	nseg     uint16   // segments in the head list
	flags    uint8
}

// sampleOf returns a cheap fingerprint of b: 32 little-endian 64-bit words
// at evenly spaced offsets (the first and last 8 bytes included), folded. It
// covers all of a chunk up to 256 bytes and leaves at most (len(b)-8)/31-8
// bytes unread between two words of a longer one, so two copies that differ
// in a field longer than that are told apart. It tells an ambiguous
// retransmission (same sequence number, other bytes) from a true one.
func sampleOf(b []byte) uint64 {
	n := uint64(len(b))
	if n < 8 {
		var v uint64
		for _, c := range b {
			v = v<<8 | uint64(c)
		}
		return v
	}
	step := n - 8
	if step > math.MaxUint32 {
		step = math.MaxUint32 // beyond any TCP chunk: keeps the fixed point below exact
	}
	f := sampleStride(step)
	// Four independent chains run faster than one. Each step is a bijection
	// of the chain's state, so a change in one word always changes the
	// result; words overlap on short chunks, and a plain XOR could cancel there.
	var x, y, z, w uint64
	var acc uint64
	for range 8 {
		o0 := acc >> 32
		o1 := (acc + f) >> 32
		o2 := (acc + 2*f) >> 32
		o3 := (acc + 3*f) >> 32
		acc += 4 * f
		x = bits.RotateLeft64((x^word(b, o0))*0x9e3779b97f4a7c15, 29)
		y = bits.RotateLeft64((y^word(b, o1))*0xc2b2ae3d27d4eb4f, 29)
		z = bits.RotateLeft64((z^word(b, o2))*0x165667b19e3779f9, 29)
		w = bits.RotateLeft64((w^word(b, o3))*0xd6e8feb86659fd93, 29)
	}
	return x ^ bits.RotateLeft64(y, 31) ^ bits.RotateLeft64(z, 17) ^ bits.RotateLeft64(w, 47)
}

// sampleStride returns step/31 in 32.32 fixed point, rounded up, for step
// below 2^32: word i of sampleOf starts at i*f>>32, which is exactly
// i*step/31 for i <= 31 (the rounding error stays below 31/2^32, smaller than
// the 1/31 steps of the exact quotient's fraction), without a division per
// word.
func sampleStride(step uint64) uint64 { return (step<<32 + 30) / 31 }

// word returns the little-endian 64-bit word of b at offset o. The
// fixed-length slice costs one bounds check and no pointer mask.
func word(b []byte, o uint64) uint64 { return binary.LittleEndian.Uint64(b[o : o+8]) }

// seqLT reports whether a comes before b in sequence space (modulo 2^32).
func seqLT(a, b uint32) bool { return int32(a-b) < 0 }

// Buffered returns the out-of-order payload bytes s holds.
func (s *Stream) Buffered() int { return int(s.buffered) }

// Started reports whether s has seen its first segment.
func (s *Stream) Started() bool { return s.flags&flagStarted != 0 }

// Finished reports whether every byte up to the FIN has been delivered (or
// reported as a gap), or Flush was called.
func (s *Stream) Finished() bool {
	return s.flags&flagClosed != 0 || (s.flags&flagFIN != 0 && s.next == s.fin)
}

// Add feeds one segment: its sequence number, its SYN and FIN flags and its
// payload (which Add never keeps: out-of-order bytes are copied). In-order
// bytes reach h before Add returns.
func (s *Stream) Add(seq uint32, syn, fin bool, payload []byte, h Handler, p *Pool) {
	if seq == s.next && s.flags == flagStarted && s.head == nil && !syn && !fin && len(payload) > 0 {
		// The common case, in order with nothing buffered and no FIN: all of
		// payload is new and goes straight to h, as the general path below
		// would do it.
		s.deliver(payload, false, h, p)
		return
	}
	if off := seq - s.skipFrom; off < s.skipLen && uint32(len(payload)) <= s.skipLen-off && s.flags == flagStarted && !syn && !fin {
		// Wholly inside the skipped range: drop it.
		p.stats.Skipped += uint64(len(payload))
		return
	}
	if s.flags&flagClosed != 0 {
		return
	}
	if syn {
		seq++ // the SYN takes one sequence number; data starts after it
	}
	if s.flags&flagStarted == 0 {
		s.next = seq
		s.flags |= flagStarted
	}
	if d := seq - s.next; d > maxWindow && int32(d) > 0 {
		p.stats.OutOfWindow++
		return
	}
	if fin && s.flags&flagFIN == 0 {
		end := seq + uint32(len(payload))
		if !seqLT(end, s.next) { // a FIN before bytes already delivered is nonsense: ignore it
			s.fin = end
			s.flags |= flagFIN
			s.trimAfterFIN(p)
		} else if s.skipLen > 0 && !seqLT(end, s.skipFrom) {
			// The stream ends inside the skipped range: it ends there.
			s.fin, s.next, s.skipLen = end, end, end-s.skipFrom
			s.flags |= flagFIN
			s.trimAfterFIN(p)
		}
	}
	if len(payload) == 0 {
		return
	}
	if s.flags&flagFIN != 0 {
		if !seqLT(seq, s.fin) {
			p.stats.AfterFIN++
			return
		}
		if d := s.fin - seq; uint32(len(payload)) > d {
			payload = payload[:d]
			p.stats.AfterFIN++
		}
	}
	var st addState
	s.add(seq, payload, &st, h, p)
	p.stats.Skipped += uint64(st.skipped)
	switch {
	case st.fresh == 0 && st.skipped == 0:
		p.stats.Retransmitted++
	case st.old > 0:
		p.stats.Overlaps++
	}
	if st.inconsistent {
		p.stats.Inconsistent++
	}
}

// addState tallies what became of one segment's bytes.
type addState struct {
	fresh        int  // bytes delivered or buffered
	old          int  // bytes already delivered or buffered
	skipped      int  // bytes inside the skipped range
	inconsistent bool // some old bytes differed from the buffered copy
}

func (s *Stream) add(seq uint32, data []byte, st *addState, h Handler, p *Pool) {
	if seq == s.lastSeq && s.lastLen > 0 && uint32(len(data)) >= s.lastLen && seqLT(seq, s.next) &&
		sampleOf(data[:s.lastLen]) != s.sample {
		st.inconsistent = true // resends the last delivered chunk with other bytes
	}
	for len(data) > 0 {
		if d := s.next - seq; int32(d) > 0 { // starts before next
			k := min(d, uint32(len(data)))
			sk := s.skipped(seq, k)
			st.skipped += int(sk)
			st.old += int(k - sk)
			if uint32(len(data)) <= d {
				return
			}
			data = data[d:]
			seq = s.next
		}
		if seq == s.next {
			n := len(data)
			if s.head != nil {
				if d := s.head.seq - seq; d < uint32(n) {
					n = int(d)
				}
			}
			if n > 0 {
				s.deliver(data[:n], s.head != nil && s.head.seq == s.next+uint32(n), h, p)
				st.fresh += n
				data = data[n:]
				seq += uint32(n)
			}
			// A Skip during delivery may have moved next past seq: the loop
			// then drops what data holds of the skipped range.
			seq, data = s.drain(seq, data, st, h, p)
			continue
		}
		var ok bool
		seq, data, ok = s.insert(seq, data, st, p)
		if ok {
			return
		}
		// A cap is reached: stop waiting for the hole before the oldest data.
		p.stats.DroppedOverCap++
		if s.head == nil || seqLT(seq, s.head.seq) {
			s.gap(seq-s.next, p, h) // the new data is the oldest: it goes next
			s.next = seq
		} else {
			s.skipToHead(h, p)
		}
	}
}

// deliver hands in-order bytes to h and advances next. more says that
// another chunk is delivered right after this one in the same call, which
// makes this one's fingerprint useless: only the last chunk's is kept. A
// Skip called by h.Data may cancel that next chunk: then this one keeps its
// fingerprint after all.
func (s *Stream) deliver(b []byte, more bool, h Handler, p *Pool) {
	seq := s.next
	end := seq + uint32(len(b))
	s.next = end
	p.stats.Delivered += uint64(len(b))
	h.Data(b)
	if !more || s.next != end {
		s.lastSeq, s.lastLen, s.sample = seq, uint32(len(b)), sampleOf(b)
	}
}

// skipped returns how many of the n bytes from seq lie in the skipped range.
func (s *Stream) skipped(seq, n uint32) uint32 {
	if s.skipLen == 0 {
		return 0
	}
	lo, hi, end := seq, seq+n, s.skipFrom+s.skipLen
	if seqLT(lo, s.skipFrom) {
		lo = s.skipFrom
	}
	if seqLT(end, hi) {
		hi = end
	}
	if seqLT(lo, hi) {
		return hi - lo
	}
	return 0
}

// Skip says that the next n bytes of the stream, after those delivered or
// skipped so far, are not wanted. The stream moves past them at once: their
// segments are dropped as they come, what is buffered of them is released,
// and no hole among them is ever reported. n above 1 GiB counts as 1 GiB
// (protocols.MaxSkip, the most a decoder asks for at once); short of a FIN
// already seen, where the stream ends, all n bytes are passed over, so that
// the caller and the stream agree on where the next byte is. Consecutive
// calls extend one range up to 1 GiB, then start another. Skip does nothing
// before the first Add. A Handler's Data may call Skip on the Stream
// delivering to it.
func (s *Stream) Skip(n int, p *Pool) {
	if n <= 0 || s.flags&flagStarted == 0 || s.flags&flagClosed != 0 {
		return
	}
	k := uint32(min(n, maxSkip))
	if s.skipLen == 0 || s.skipFrom+s.skipLen != s.next || s.skipLen+k > maxSkip {
		s.skipFrom, s.skipLen = s.next, 0 // a new range
	}
	if s.flags&flagFIN != 0 {
		k = min(k, s.fin-s.next)
	}
	s.skipLen += k
	s.next += k
	// Release what is buffered before the new next.
	for g := s.head; g != nil && seqLT(g.seq, s.next); g = s.head {
		if k := s.next - g.seq; k < uint32(len(g.data)) {
			// Partly inside: keep the tail, moved to the buffer's start
			// (put finds the size class by the capacity).
			copy(g.data, g.data[k:])
			g.data = g.data[:uint32(len(g.data))-k]
			g.seq = s.next
			s.buffered -= k
			p.stats.Skipped += uint64(k)
			break
		}
		s.head = g.next
		s.buffered -= uint32(len(g.data))
		s.nseg--
		p.stats.Skipped += uint64(len(g.data))
		p.put(g)
	}
}

func (s *Stream) gap(n uint32, p *Pool, h Handler) {
	if n == 0 {
		return
	}
	h.Gap(int(n))
	p.stats.Gaps++
	p.stats.GapBytes += uint64(n)
}

// drain delivers the buffered segments that have become contiguous. data, if
// not empty, is new bytes starting at seq, at or before next: where they
// start at a buffered segment, they are compared with it (the buffered bytes
// win) and the compared part is cut from what is returned.
func (s *Stream) drain(seq uint32, data []byte, st *addState, h Handler, p *Pool) (uint32, []byte) {
	for g := s.head; g != nil && g.seq == s.next; g = s.head {
		if len(data) > 0 && seq == g.seq {
			n := min(len(g.data), len(data))
			if !bytes.Equal(g.data[:n], data[:n]) {
				st.inconsistent = true
			}
			st.old += n
			data = data[n:]
			seq += uint32(n)
		}
		s.head = g.next
		s.buffered -= uint32(len(g.data))
		s.nseg--
		s.deliver(g.data, g.next != nil && g.next.seq == g.end(), h, p)
		p.put(g)
	}
	return seq, data
}

// skipToHead reports the hole before the first buffered segment as a gap and
// delivers from there.
func (s *Stream) skipToHead(h Handler, p *Pool) {
	s.gap(s.head.seq-s.next, p, h)
	s.next = s.head.seq
	s.drain(s.next, nil, nil, h, p)
}

// insert buffers the parts of data (which starts after next) that no buffered
// segment holds yet, comparing the parts that one does. It returns ok=false
// and what is left of data when a cap stops it.
func (s *Stream) insert(seq uint32, data []byte, st *addState, p *Pool) (uint32, []byte, bool) {
	cfg := &p.cfg
	link := &s.head
	for len(data) > 0 {
		for *link != nil && !seqLT(seq, (*link).end()) { // segment ends at or before seq
			link = &(*link).next
		}
		cur := *link
		if cur != nil && !seqLT(seq, cur.seq) { // seq falls inside cur
			off := seq - cur.seq
			n := min(len(cur.data)-int(off), len(data))
			if !bytes.Equal(cur.data[off:int(off)+n], data[:n]) {
				st.inconsistent = true
			}
			st.old += n
			data = data[n:]
			seq += uint32(n)
			continue
		}
		n := min(len(data), maxClassSize)
		if cur != nil {
			if d := cur.seq - seq; d < uint32(n) {
				n = int(d)
			}
		}
		if int(s.buffered)+n > cfg.MaxBufferedPerStream || int(s.nseg) >= cfg.MaxPendingSegments {
			return seq, data, false
		}
		g := p.get(n)
		if g == nil {
			return seq, data, false
		}
		copy(g.data, data[:n])
		g.seq = seq
		g.next = cur
		*link = g
		link = &g.next
		s.buffered += uint32(n)
		s.nseg++
		st.fresh += n
		p.stats.OutOfOrder++
		data = data[n:]
		seq += uint32(n)
	}
	return seq, data, true
}

// trimAfterFIN drops buffered bytes at or after the FIN.
func (s *Stream) trimAfterFIN(p *Pool) {
	link := &s.head
	for g := *link; g != nil; g = *link {
		if seqLT(g.seq, s.fin) {
			if d := s.fin - g.seq; uint32(len(g.data)) > d {
				s.buffered -= uint32(len(g.data)) - d
				g.data = g.data[:d]
				p.stats.AfterFIN++
			}
			link = &g.next
			continue
		}
		*link = g.next
		s.buffered -= uint32(len(g.data))
		s.nseg--
		p.stats.AfterFIN++
		p.put(g)
	}
}

// Flush ends the stream: it delivers everything buffered, reporting the holes
// before, between and after the buffered segments (up to a FIN seen) as gaps,
// and releases the buffers. Later calls to Add are ignored until Reset.
func (s *Stream) Flush(h Handler, p *Pool) {
	if s.flags&flagClosed != 0 {
		return
	}
	for s.head != nil {
		s.skipToHead(h, p)
	}
	if s.flags&flagFIN != 0 && seqLT(s.next, s.fin) {
		s.gap(s.fin-s.next, p, h)
		s.next = s.fin
	}
	s.flags |= flagClosed
}

// Reset releases the buffers of s without delivering them and returns s to
// its zero value, ready for a new stream.
func (s *Stream) Reset(p *Pool) {
	for g := s.head; g != nil; {
		next := g.next
		p.put(g)
		g = next
	}
	*s = Stream{}
}
