// Package flow keeps the bounded table of live flows of one worker: both
// directions of a conversation share one Flow, flows expire after an idle
// time measured in packet time, and the oldest flow is evicted when the table
// is full. A Table belongs to one goroutine.
package flow

import (
	"encoding/binary"
	"net/netip"
	"time"

	"github.com/iomt-sensor/iomt-sensor/protocols"
	"github.com/iomt-sensor/iomt-sensor/sensor/reassembly"
)

// Key identifies a flow in both directions: the endpoints are stored in a
// canonical order.
type Key struct {
	a, b   [16]byte
	pa, pb uint16
	proto  uint8
}

// MakeKey returns the key of the flow a packet belongs to, and whether the
// packet's source is the key's first endpoint.
func MakeKey(src, dst netip.Addr, srcPort, dstPort uint16, proto uint8) (Key, bool) {
	s, d := src.As16(), dst.As16()
	srcFirst := less(s, srcPort, d, dstPort)
	if srcFirst {
		return Key{a: s, b: d, pa: srcPort, pb: dstPort, proto: proto}, true
	}
	return Key{a: d, b: s, pa: dstPort, pb: srcPort, proto: proto}, false
}

// less orders endpoints by address bytes, then port. Big-endian words
// compare as the bytes they hold.
func less(a [16]byte, pa uint16, b [16]byte, pb uint16) bool {
	a0, b0 := binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(b[:8])
	if a0 != b0 {
		return a0 < b0
	}
	a1, b1 := binary.BigEndian.Uint64(a[8:]), binary.BigEndian.Uint64(b[8:])
	if a1 != b1 {
		return a1 < b1
	}
	return pa < pb
}

// Side is one endpoint of a flow.
type Side struct {
	IP   netip.Addr
	Port uint16
	MAC  protocols.MAC
}

// Flow is one conversation. The flow's owner (a worker) reads and writes its
// fields; the Table only links it. The fields most packets read or write
// come first, so that they share a few cache lines.
type Flow struct {
	Key Key

	// Table links.
	movable    time.Time // packet time it may move to the front again: a second after it last moved
	prev, next *Flow

	Last time.Time // packet time last seen
	// Client opened the flow (sent the SYN, or the first datagram); Server
	// is the other side.
	Client, Server Side
	Packets        [2]uint64 // by protocols.Direction
	Bytes          [2]uint64
	// ReportDue is the packet time from which the owner reports the live
	// flow again (the worker's keepalive); Create leaves it zero.
	ReportDue time.Time

	// TCP state; Streams is below.
	ISN      [2]uint32
	SYN      [2]bool
	FIN      [2]bool
	RST      bool
	Answered bool // SYN-ACK seen (TCP) or a reply datagram (UDP)

	// Protocol detection and decoding.
	Tried     [2]bool // detection was tried on the first payload of each direction
	Done      bool    // no decoder will be attached (or it gave up)
	Transport protocols.Transport
	VLAN      uint16
	Decoder   protocols.Decoder
	Protocol  string // detected protocol, "" until known

	First time.Time // packet time first seen

	// Streams reassembles both directions of a TCP flow for its decoder;
	// nil while it has none. The owner attaches and releases it, so that
	// most flows, without one, take less memory.
	Streams *[2]reassembly.Stream
}

// Config bounds a Table.
type Config struct {
	MaxFlows    int           // default 262144
	IdleTimeout time.Duration // in packet time; default 2 minutes
}

// Stats count what a Table did.
type Stats struct {
	Active  int
	Created uint64
	Expired uint64 // idle timeout
	Evicted uint64 // table full: the least recently seen flow made room
	Closed  uint64 // removed by their owner (FIN, RST)
}

// Table holds flows, most recently moved first. It recycles the Flows it
// removes: once Close returns, or the fn of Expire or All or Create's evict
// that was given a flow, the flow is zeroed and may come back from Create
// as another, so its owner must keep no pointer to it (the worker's
// decoders get values, not the Flow, and its pointer to the flow in
// progress is cleared when the flow ends). A flow moves to the front
// at most once per second of packet time (moving it on every packet costs
// pointer writes for nothing: idle timeouts are minutes), so the list is in
// last-seen order to within a second; Expire allows for that.
type Table struct {
	cfg        Config
	flows      index
	head, tail *Flow // head: most recently seen
	free       []*Flow
	stats      Stats
}

// NewTable returns an empty table.
func NewTable(cfg Config) *Table {
	if cfg.MaxFlows <= 0 {
		cfg.MaxFlows = 1 << 18
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 2 * time.Minute
	}
	return &Table{cfg: cfg, flows: newIndex(min(cfg.MaxFlows, 1<<14))}
}

// Stats returns the table's counters.
func (t *Table) Stats() Stats {
	s := t.stats
	s.Active = t.flows.n
	return s
}

// Len returns the number of flows.
func (t *Table) Len() int { return t.flows.n }

// Get returns the flow for k and marks it most recently seen at ts, or nil.
func (t *Table) Get(k Key, ts time.Time) *Flow {
	f := t.flows.get(&k, t.flows.hash(&k))
	if f != nil {
		t.Touch(f, ts)
	}
	return f
}

// Touch marks f, a flow of the table, most recently seen at ts, as Get
// does: for an owner that found f without a lookup.
func (t *Table) Touch(f *Flow, ts time.Time) {
	f.Last = ts
	// Before, not Sub: Sub's overflow check costs more than the comparison.
	if t.head != f && !ts.Before(f.movable) {
		t.unlink(f)
		t.pushFront(f)
		f.movable = ts.Add(time.Second)
	}
}

// Create adds a flow for k seen first at ts. When the table is full, the
// least recently seen flow is passed to evict (which must release what the
// flow holds) and its slot reused.
func (t *Table) Create(k Key, ts time.Time, evict func(*Flow)) *Flow {
	if t.flows.n >= t.cfg.MaxFlows && t.tail != nil {
		old := t.tail
		evict(old)
		t.remove(old)
		t.stats.Evicted++
	}
	var f *Flow
	if n := len(t.free); n > 0 {
		f = t.free[n-1]
		t.free = t.free[:n-1]
	} else {
		f = new(Flow)
	}
	// f is zero: new, or cleared by remove.
	f.Key, f.First, f.Last, f.movable = k, ts, ts, ts.Add(time.Second)
	t.flows.insert(f, t.flows.hash(&k))
	t.pushFront(f)
	t.stats.Created++
	return f
}

// Close removes f, which its owner has finished with.
func (t *Table) Close(f *Flow) {
	t.remove(f)
	t.stats.Closed++
}

// Expire passes every flow idle since before now-IdleTimeout to fn, then
// removes it.
func (t *Table) Expire(now time.Time, fn func(*Flow)) {
	deadline := now.Add(-t.cfg.IdleTimeout)
	// Flows that last moved before deadline: movable a second after it.
	movedBefore := deadline.Add(time.Second)
	for t.tail != nil && t.tail.movable.Before(movedBefore) {
		f := t.tail
		if !f.Last.Before(deadline) { // seen since it last moved: still alive
			t.unlink(f)
			t.pushFront(f)
			f.movable = now.Add(time.Second) // keeps the list in order of moves
			continue
		}
		fn(f)
		t.remove(f)
		t.stats.Expired++
	}
}

// All passes every flow to fn, least recently seen first, then empties the
// table (end of capture).
func (t *Table) All(fn func(*Flow)) {
	for t.tail != nil {
		f := t.tail
		fn(f)
		t.remove(f)
	}
}

func (t *Table) remove(f *Flow) {
	t.unlink(f)
	t.flows.delete(f, t.flows.hash(&f.Key))
	*f = Flow{}
	if len(t.free) < 4096 {
		t.free = append(t.free, f)
	}
}

func (t *Table) unlink(f *Flow) {
	if f.prev != nil {
		f.prev.next = f.next
	} else {
		t.head = f.next
	}
	if f.next != nil {
		f.next.prev = f.prev
	} else {
		t.tail = f.prev
	}
	f.prev, f.next = nil, nil
}

func (t *Table) pushFront(f *Flow) {
	f.next = t.head
	if t.head != nil {
		t.head.prev = f
	}
	t.head = f
	if t.tail == nil {
		t.tail = f
	}
}
