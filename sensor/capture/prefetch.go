package capture

import (
	"io"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// Prefetch reads src in its own goroutine, a batch of packets ahead of the
// caller, so that reading and decompressing a file overlap the work done on
// each packet. Packet data is copied into recycled buffers (a classic pcap
// file from OpenFile is read in blocks straight into them, and its record
// headers parsed in place): steady state allocates nothing. The returned
// Source's Next keeps the contract: Data is valid until the next call.
// Close stops the reader and closes src.
func Prefetch(src Source) Source { return PrefetchShards(src, 1, nil)[0] }

// PrefetchShards is Prefetch for n workers that share one capture: the
// reader puts each packet in the shard hash(Data, LinkType) mod n, and
// every shard reads the same batches, without copying them again.
//
// Each shard's Next returns its own packets in full, in order. Of the
// others' packets it returns only those a consumer's clock needs, with
// Foreign set and only their Timestamp: the clock is the latest timestamp
// seen, and it ticks (ShardTick) where it first reaches ShardTick past the
// previous tick, the first packet ticking. A shard returns every packet of
// another shard at which the clock ticks, and before one of its own, or the
// end, a Foreign packet with the latest time passed over when that is later
// than anything returned. So a consumer that takes the latest Timestamp it
// was given as its clock, and ticks the same way, ticks at the same packets
// as if it saw every packet, and its clock is the capture's whenever it
// gets a packet of its own. Every packet counts 1+Skipped packets of the
// capture. This saves each of n consumers the (n-1)/n of the packets that
// are not its own.
//
// Closing a shard lets the reader go on for the others; closing the last
// stops it and closes src. n is between 1 and MaxShards; hash may be nil
// when n is 1.
func PrefetchShards(src Source, n int, hash func(data []byte, link LinkType) uint64) []Source {
	if n < 1 || n > MaxShards || n > 1 && hash == nil {
		panic("capture: PrefetchShards needs 1 to MaxShards shards and a hash for more than one")
	}
	depth := prefetchDepth
	if n > 1 {
		depth *= 2 // room for one shard to run ahead of another
	}
	p := &prefetch{
		src:   src,
		hash:  hash,
		empty: make(chan *batch, depth+1),
		stop:  make(chan struct{}),
	}
	for range depth + 1 {
		p.empty <- &batch{data: make([]byte, 0, batchBytes), pkts: make([]record, 0, batchPackets)}
	}
	out := make([]Source, n)
	for i := range n {
		s := &shard{p: p, i: uint8(i), full: make(chan *batch, depth), told: math.MinInt64}
		p.shards = append(p.shards, s)
		out[i] = s
	}
	p.open.Store(int32(n))
	p.wg.Add(1)
	go p.read()
	return out
}

// MaxShards is the most shards PrefetchShards makes.
const MaxShards = 64

// The reader stays one batch ahead (two when shards share it, so that one
// may run ahead of another). More depth does not make it faster but
// slower: the consumer should find a batch still in the caches the reader
// filled, and with four batches of a megabyte ahead (eight for shards) it
// found them in main memory. In a replay of a 1 GiB capture by two
// workers, depth 1 instead of 4 took 7% less CPU, and the profile's time
// on the first read of each packet's header fell from 6.2% to 1.9%.
const (
	prefetchDepth = 1
	batchPackets  = 512
	batchBytes    = 1 << 20
)

type batch struct {
	data   []byte
	pkts   []record
	ifaces []string // Interface names the records point into
	err    error    // ends the stream after pkts
	refs   atomic.Int32
}

// record is a packet of a batch without pointers, so that filling a batch
// costs the garbage collector nothing: its data is data[off:end].
type record struct {
	off, end int32
	length   uint32 // as read from a pcap record header, up to 2^32-1
	iface    int32
	link     LinkType
	shard    uint8
	ts       int64 // Unix nanoseconds
}

// add appends pkt, whose data is already at the end of b.data.
func (b *batch) add(pkt Packet, off int) {
	iface := len(b.ifaces) - 1
	if iface < 0 || b.ifaces[iface] != pkt.Interface {
		b.ifaces = append(b.ifaces, pkt.Interface)
		iface++
	}
	b.pkts = append(b.pkts, record{off: int32(off), end: int32(len(b.data)), length: uint32(pkt.Length),
		iface: int32(iface), link: pkt.LinkType, ts: pkt.Timestamp.UnixNano()})
}

// packet rebuilds the i-th packet.
func (b *batch) packet(i int) Packet {
	r := &b.pkts[i]
	return Packet{Data: b.data[r.off:r.end:r.end], Timestamp: time.Unix(0, r.ts), Length: int(r.length),
		LinkType: r.link, Interface: b.ifaces[r.iface]}
}

// prefetch is the reader shared by the shards of one source.
type prefetch struct {
	src    Source
	hash   func([]byte, LinkType) uint64
	shards []*shard
	empty  chan *batch
	stop   chan struct{}
	wg     sync.WaitGroup
	open   atomic.Int32 // shards not closed
}

// shard is one consumer of a prefetch.
type shard struct {
	p      *prefetch
	i      uint8
	full   chan *batch
	closed bool

	cur        *batch // being consumed
	next       int
	err        error
	closedFull bool // full was closed: no batch will come

	clock   Clock // the capture's, over the packets read
	told    int64 // latest timestamp returned, Unix nanoseconds
	skipped int   // packets passed over since the last one returned
}

func (p *prefetch) read() {
	defer p.wg.Done()
	defer func() {
		for _, s := range p.shards {
			close(s.full)
		}
	}()
	fill, _ := p.src.(batchFiller)
	if fill != nil && !fill.canFillBatch() {
		fill = nil
	}
	for {
		var b *batch
		select {
		case b = <-p.empty:
		case <-p.stop:
			return
		}
		b.data, b.pkts, b.ifaces, b.err = b.data[:0], b.pkts[:0], b.ifaces[:0], nil
		if fill != nil {
			b.err = fill.fillBatch(b)
			if !p.send(b) || b.err != nil {
				return
			}
			continue
		}
		for len(b.pkts) < batchPackets {
			pkt, err := p.src.Next()
			if err != nil {
				b.err = err
				break
			}
			if len(b.data)+len(pkt.Data) > cap(b.data) {
				if len(b.pkts) > 0 {
					// Full: hand this packet to the next batch.
					p.send(b)
					select {
					case b = <-p.empty:
					case <-p.stop:
						return
					}
					b.data, b.pkts, b.ifaces, b.err = b.data[:0], b.pkts[:0], b.ifaces[:0], nil
				}
				if len(pkt.Data) > cap(b.data) {
					b.data = make([]byte, 0, len(pkt.Data))
				}
			}
			start := len(b.data)
			b.data = append(b.data, pkt.Data...) // fits: checked above
			b.add(pkt, start)
		}
		if !p.send(b) || b.err != nil {
			return
		}
	}
}

// send assigns b's packets to shards and hands b to every shard.
func (p *prefetch) send(b *batch) bool {
	if n := len(p.shards); n > 1 {
		for i := range b.pkts {
			r := &b.pkts[i]
			r.shard = uint8(p.hash(b.data[r.off:r.end], r.link) % uint64(n))
		}
	}
	b.refs.Store(int32(len(p.shards)))
	for _, s := range p.shards {
		select {
		case s.full <- b:
		case <-p.stop:
			return false
		}
	}
	return true
}

// release gives b back to the reader once every shard is done with it.
func (p *prefetch) release(b *batch) {
	if b.refs.Add(-1) == 0 {
		p.empty <- b // never blocks: it has room for every batch
	}
}

// Next returns the next packet read ahead: see PrefetchShards for which.
func (s *shard) Next() (Packet, error) {
	for {
		if s.cur != nil {
			for s.next < len(s.cur.pkts) {
				r := &s.cur.pkts[s.next]
				if r.shard == s.i {
					if now := s.clock.Now(); s.told < now && r.ts < now {
						// The clock is later than what this packet
						// tells: give it first (the record stays next).
						return s.foreign(now), nil
					}
					s.next++
					s.clock.Advance(r.ts)
					p := s.cur.packet(s.next - 1)
					p.Skipped, s.skipped, s.told = s.skipped, 0, s.clock.Now()
					return p, nil
				}
				s.next++
				if _, ticked := s.clock.Advance(r.ts); ticked {
					s.skipped++
					return s.foreign(r.ts), nil
				}
				s.skipped++
			}
			if s.cur.err != nil {
				s.err = s.cur.err
			}
			s.p.release(s.cur)
			s.cur = nil
		}
		if s.err != nil || s.cur == nil && s.closedFull {
			if s.skipped > 0 {
				return s.foreign(s.clock.Now()), nil
			}
			if s.err != nil {
				return Packet{}, s.err
			}
			return Packet{}, io.EOF
		}
		b, ok := <-s.full
		if !ok {
			s.closedFull = true
			continue
		}
		s.cur, s.next = b, 0
	}
}

// foreign returns a Foreign packet at ts standing for the packets passed
// over (at least one).
func (s *shard) foreign(ts int64) Packet {
	p := Packet{Timestamp: time.Unix(0, ts), Foreign: true, Skipped: s.skipped - 1}
	s.skipped, s.told = 0, max(s.told, ts)
	return p
}

// Stats returns the underlying source's counters (of every shard).
func (s *shard) Stats() Stats { return s.p.src.Stats() }

// Close gives up the shard's batches, now and to come; closing the last
// shard stops the reader and closes the underlying source. The shard must
// not be used afterwards.
func (s *shard) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	if s.cur != nil {
		s.p.release(s.cur)
		s.cur = nil
	}
	if s.p.open.Add(-1) > 0 {
		go func() { // the reader goes on for the other shards
			for b := range s.full {
				s.p.release(b)
			}
		}()
		return nil
	}
	close(s.p.stop)
	s.p.wg.Wait()
	return s.p.src.Close()
}
