package capture

import (
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// Prefetch reads src in its own goroutine, a batch of packets ahead of the
// caller, so that reading and decompressing a file overlap the work done on
// each packet. Packet data is copied into recycled buffers (a classic pcap
// file from OpenFile is read in blocks straight into them, and its record
// headers parsed in place): steady state allocates nothing. The returned Source's Next keeps the contract: Data is
// valid until the next call. Close stops the reader and closes src.
func Prefetch(src Source) Source {
	p := &prefetch{
		src:   src,
		full:  make(chan *batch, prefetchDepth),
		empty: make(chan *batch, prefetchDepth+1),
		stop:  make(chan struct{}),
	}
	for range prefetchDepth + 1 {
		p.empty <- &batch{data: make([]byte, 0, batchBytes), pkts: make([]record, 0, batchPackets)}
	}
	p.wg.Add(1)
	go p.read()
	return p
}

const (
	prefetchDepth = 4
	batchPackets  = 512
	batchBytes    = 1 << 20
)

type batch struct {
	data   []byte
	pkts   []record
	ifaces []string // Interface names the records point into
	err    error    // ends the stream after pkts
}

// record is a packet of a batch without pointers, so that filling a batch
// costs the garbage collector nothing: its data is data[off:end].
type record struct {
	off, end int32
	length   uint32 // as read from a pcap record header, up to 2^32-1
	iface    int32
	link     LinkType
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

type prefetch struct {
	src         Source
	full, empty chan *batch
	stop        chan struct{}
	wg          sync.WaitGroup
	closed      atomic.Bool

	cur  *batch // being consumed
	next int
	err  error
}

func (p *prefetch) read() {
	defer p.wg.Done()
	defer close(p.full)
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

func (p *prefetch) send(b *batch) bool {
	select {
	case p.full <- b:
		return true
	case <-p.stop:
		return false
	}
}

// Next returns the next packet read ahead.
func (p *prefetch) Next() (Packet, error) {
	for {
		if p.cur != nil {
			if p.next < len(p.cur.pkts) {
				p.next++
				return p.cur.packet(p.next - 1), nil
			}
			if p.cur.err != nil {
				p.err = p.cur.err
			}
			p.empty <- p.cur
			p.cur = nil
		}
		if p.err != nil {
			return Packet{}, p.err
		}
		b, ok := <-p.full
		if !ok {
			return Packet{}, io.EOF
		}
		p.cur, p.next = b, 0
	}
}

// Stats returns the underlying source's counters.
func (p *prefetch) Stats() Stats { return p.src.Stats() }

// Close stops the reader and closes the underlying source.
func (p *prefetch) Close() error {
	if p.closed.Swap(true) {
		return nil
	}
	close(p.stop)
	p.wg.Wait()
	return p.src.Close()
}
