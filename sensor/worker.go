// Package sensor runs the packet path: decode, flows, reassembly and the
// protocol decoders, feeding observations into the inventory. Each Worker
// owns its flows and is driven by one goroutine; workers share only the
// inventory, which they touch per flow and per message, never per packet.
package sensor

import (
	"encoding/binary"
	"errors"
	"math/bits"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/iomt-sensor/iomt-sensor/protocols"
	"github.com/iomt-sensor/iomt-sensor/sensor/anomaly"
	"github.com/iomt-sensor/iomt-sensor/sensor/capture"
	"github.com/iomt-sensor/iomt-sensor/sensor/decode"
	"github.com/iomt-sensor/iomt-sensor/sensor/flow"
	"github.com/iomt-sensor/iomt-sensor/sensor/inventory"
	"github.com/iomt-sensor/iomt-sensor/sensor/reassembly"
)

// Config tunes a Worker.
type Config struct {
	Flow       flow.Config
	Reassembly reassembly.Config
	// Anomalies, if not nil, receives observations that can raise anomaly
	// events.
	Anomalies *anomaly.Detector
	// ReportInterval is how often, in packet time, a live flow is reported
	// to the inventory (flows are always reported when they end). Default
	// ten seconds.
	ReportInterval time.Duration
}

// Worker processes packets of the flows hashed to it.
type Worker struct {
	cfg     Config
	dec     *decode.Decoder
	pkt     decode.Packet
	flows   *flow.Table
	pool    *reassembly.Pool
	streams []*[2]reassembly.Stream // released, see release
	inv     *inventory.Inventory
	specs   []protocols.Spec
	byPort  map[portKey][]int // transport+port -> spec indexes, hinted first
	byTrans [4][]int          // transport -> spec indexes
	ether   map[uint16]int    // EtherType -> spec index
	etherD  []protocols.Decoder
	stats   *Stats
	recent  []recentReport // cache of recent flow reports, see report
	// Cache of recent observations, see observe.
	obsTags []obsTag    // by hash: the entry last inserted with that hash
	obsLog  []recentObs // the entries, a ring
	obsHand uint64      // entries of the ring visited to make room so far
	// Inventory updates go in batches to the feeder goroutine: the
	// worker's own or, when it shares a capture, the group's.
	batch []invOp
	ops   chan []invOp
	free  chan []invOp
	fed   chan struct{}
	index int // in the group

	// Packets and bytes so far, published to stats at sweeps: an atomic
	// add per packet costs more than the rest of the counting.
	packets, bytes uint64

	now   time.Time     // latest packet time
	clock capture.Clock // the same, ticking at sweeps
	seq   uint64        // packets of the capture so far, other shards' included
	// group, when the worker is one of several sharing a capture, makes
	// them advance the inventory together (see NewWorkers).
	group *group

	// last is the flow of the previous packet, nil when it ended (see flowOf).
	last *flow.Flow

	// Context of the decoder call in progress, for emit and the stream handler.
	cur    *flow.Flow
	curDir protocols.Direction
	curPkt bool // the call is about a frame with no flow (Ethernet protocols)
	emit   protocols.Emit
	stream streamHandler
}

type portKey struct {
	t    protocols.Transport
	port uint16
}

// NewWorker returns a worker that decodes with specs and reports into inv.
func NewWorker(cfg Config, specs []protocols.Spec, inv *inventory.Inventory) *Worker {
	return newWorker(cfg, specs, inv, nil)
}

func newWorker(cfg Config, specs []protocols.Spec, inv *inventory.Inventory, g *group) *Worker {
	if cfg.ReportInterval <= 0 {
		cfg.ReportInterval = 10 * time.Second
	}
	w := &Worker{
		cfg:     cfg,
		dec:     decode.New(),
		flows:   flow.NewTable(cfg.Flow),
		pool:    reassembly.NewPool(cfg.Reassembly),
		inv:     inv,
		specs:   specs,
		byPort:  make(map[portKey][]int),
		ether:   make(map[uint16]int),
		etherD:  make([]protocols.Decoder, len(specs)),
		stats:   newStats(specs),
		recent:  make([]recentReport, recentSlots),
		obsTags: make([]obsTag, 2*recentObsSlots),
		obsLog:  make([]recentObs, recentObsSlots),
		ops:     make(chan []invOp, 2),
		free:    make(chan []invOp, 3),
		fed:     make(chan struct{}),
		group:   g,
	}
	w.batch = make([]invOp, 0, opBatch)
	for range 3 {
		w.free <- make([]invOp, 0, opBatch)
	}
	if g == nil {
		go w.feeder()
	}
	w.emit = w.observe
	w.stream.w = w
	for i, s := range specs {
		if s.Transport == protocols.Ethernet {
			for _, et := range s.EtherTypes {
				w.ether[et] = i
			}
			w.etherD[i] = s.New(protocols.FlowInfo{Transport: protocols.Ethernet})
			continue
		}
		w.byTrans[s.Transport] = append(w.byTrans[s.Transport], i)
		for _, p := range s.Ports {
			k := portKey{s.Transport, p}
			w.byPort[k] = append(w.byPort[k], i)
		}
	}
	return w
}

// Stats returns the worker's counters, safe to read from other goroutines.
func (w *Worker) Stats() *Stats { return w.stats }

// Process handles one captured frame. A Foreign packet (another worker's,
// see NewWorkers) only moves the clock.
func (w *Worker) Process(p capture.Packet) {
	w.seq += 1 + uint64(p.Skipped)
	moved, ticked := w.clock.Advance(p.Timestamp.UnixNano())
	if moved {
		w.now = p.Timestamp
	}
	if ticked {
		w.sweep()
	}
	if p.Foreign {
		return
	}
	w.packets++
	w.bytes += uint64(p.Length)
	err := w.dec.Decode(p.Data, p.LinkType, p.Timestamp, p.Length, &w.pkt)
	if err != nil {
		e := err.(*decode.Error)
		w.stats.DecodeErrors[e.Layer][e.Reason].Add(1)
	}
	switch w.pkt.Transport {
	case protocols.TCP:
		w.tcp()
	case protocols.UDP:
		w.udp()
	case protocols.Ethernet:
		w.frame()
	}
}

// Close ends every flow (end of capture or shutdown), waits until the
// inventory has every update and publishes the final counters. The worker
// cannot be used afterwards.
func (w *Worker) Close() {
	w.flows.All(w.end)
	w.flushRecent()
	w.publishStats()
	w.handOver()
	if w.group != nil {
		w.group.ops <- heldBatch{worker: w.index, done: true}
	} else {
		close(w.ops)
	}
	<-w.fed
}

// sweep runs at every tick of the capture's clock, once a second of packet
// time: expire idle flows and publish counters. The shards of workers
// sharing a capture return the packets it ticks at (see NewWorkers).
func (w *Worker) sweep() {
	w.flows.Expire(w.now, w.end)
	w.publishStats()
	w.queue(invOp{advance: w.now})
	w.handOver()
}

func (w *Worker) publishStats() {
	w.stats.Packets.Store(w.packets)
	w.stats.Bytes.Store(w.bytes)
	w.stats.mu.Lock()
	w.stats.flow = w.flows.Stats()
	w.stats.reassembly = w.pool.Stats()
	w.stats.reassemblyBytes = w.pool.Held()
	w.stats.mu.Unlock()
}

func (w *Worker) tcp() {
	p := &w.pkt
	f := w.flowOf(protocols.TCP)
	syn, ack, fin, rst := p.TCPFlags&decode.SYN != 0, p.TCPFlags&decode.ACK != 0, p.TCPFlags&decode.FIN != 0, p.TCPFlags&decode.RST != 0
	if f != nil && syn && !ack && f.SYN[protocols.FromClient] && f.ISN[protocols.FromClient] != p.Seq {
		// A new connection reusing the ports of one we still hold.
		w.end(f)
		w.flows.Close(f)
		f = nil
	}
	if f == nil {
		if rst {
			return // a reset of a flow we never saw tells nothing
		}
		f = w.create()
		// The SYN's sender is the client; a SYN-ACK's receiver is. Joined
		// mid-stream, guess from the ports.
		srcIsClient := syn && !ack
		if !syn {
			srcIsClient = !w.serverSide(protocols.TCP, p.SrcPort, p.DstPort)
		}
		w.start(f, protocols.TCP, srcIsClient)
	}
	dir := w.direction(f)
	w.count(f, dir)
	if syn {
		f.SYN[dir], f.ISN[dir] = true, p.Seq
		if ack && dir == protocols.FromServer {
			f.Answered = true
		}
	}
	if fin {
		f.FIN[dir] = true
	}
	if len(p.Payload) > 0 && !f.Done && f.Decoder == nil {
		w.detect(f, dir, p.Payload)
	}
	if f.Decoder != nil && (len(p.Payload) > 0 || fin || p.Missing > 0) {
		w.cur, w.curDir = f, dir
		f.Streams[dir].Add(p.Seq, syn, fin, p.Payload, &w.stream, w.pool)
		if f.Decoder == nil { // gave up during the call
			w.release(f)
		}
	}
	if rst || f.FIN[0] && f.FIN[1] {
		w.end(f)
		w.flows.Close(f)
		return
	}
	w.keepalive(f)
}

func (w *Worker) udp() {
	p := &w.pkt
	f := w.flowOf(protocols.UDP)
	if f == nil {
		f = w.create()
		// The first datagram's sender is the client, unless its port looks
		// like the server's (a reply whose request we did not see, or a DHCP
		// server's unicast reply from 67 to 68).
		w.start(f, protocols.UDP, !w.serverSide(protocols.UDP, p.SrcPort, p.DstPort))
	}
	dir := w.direction(f)
	w.count(f, dir)
	if dir == protocols.FromServer && !p.DstIP.IsMulticast() {
		f.Answered = true
	}
	if len(p.Payload) > 0 && !f.Done {
		if f.Decoder == nil {
			w.detect(f, dir, p.Payload)
		}
		if f.Decoder != nil {
			w.cur, w.curDir = f, dir
			w.feed(f, dir, p.Payload)
		}
	}
	w.keepalive(f)
}

// flowOf returns the flow of the packet in w.pkt, marked seen, or nil. Most
// packets belong to the flow of the previous one (a burst of segments and
// their ACKs: four TCP packets in five in a replay), so that flow is
// compared first, which spares building the key and the table's lookup.
func (w *Worker) flowOf(t protocols.Transport) *flow.Flow {
	p := &w.pkt
	if f := w.last; f != nil && f.Transport == t &&
		(p.SrcPort == f.Client.Port && p.DstPort == f.Server.Port && p.SrcIP == f.Client.IP && p.DstIP == f.Server.IP ||
			p.SrcPort == f.Server.Port && p.DstPort == f.Client.Port && p.SrcIP == f.Server.IP && p.DstIP == f.Client.IP) {
		w.flows.Touch(f, p.Timestamp)
		return f
	}
	key, _ := flow.MakeKey(p.SrcIP, p.DstIP, p.SrcPort, p.DstPort, p.IPProto)
	w.last = w.flows.Get(key, p.Timestamp)
	return w.last
}

// create adds the flow of the packet in w.pkt to the table.
func (w *Worker) create() *flow.Flow {
	p := &w.pkt
	key, _ := flow.MakeKey(p.SrcIP, p.DstIP, p.SrcPort, p.DstPort, p.IPProto)
	w.last = w.flows.Create(key, p.Timestamp, w.end)
	w.last.ReportDue = p.Timestamp.Add(w.cfg.ReportInterval)
	return w.last
}

// frame hands a non-IP frame to the decoder of its EtherType.
func (w *Worker) frame() {
	i, ok := w.ether[w.pkt.EtherType]
	if !ok || len(w.pkt.Payload) == 0 {
		return
	}
	w.cur, w.curPkt = nil, true
	defer func() {
		w.curPkt = false
		if r := recover(); r != nil {
			w.stats.Panics.Add(1)
		}
	}()
	if err := w.etherD[i].Feed(protocols.FromClient, w.pkt.Payload, w.now, w.emit); err != nil {
		w.stats.protocolError(i, err)
	}
}

// start fills a new flow's endpoints from the packet that created it.
func (w *Worker) start(f *flow.Flow, t protocols.Transport, srcIsClient bool) {
	p := &w.pkt
	src := flow.Side{IP: p.SrcIP, Port: p.SrcPort, MAC: p.SrcMAC}
	dst := flow.Side{IP: p.DstIP, Port: p.DstPort, MAC: p.DstMAC}
	f.Transport, f.VLAN = t, p.VLAN
	f.Client, f.Server = src, dst
	if !srcIsClient {
		f.Client, f.Server = dst, src
	}
	// No report yet: the answer, the protocol's detection or the flow's end
	// (at the latest ReportInterval later) reports it, which saves the
	// inventory a call for most flows.
}

// serverSide reports whether the port src looks like the server's end of a
// conversation with port dst: a well-known or protocol-hinted port talking
// to one that is not, or the lower of two well-known ports (DHCP's 67 and 68).
func (w *Worker) serverSide(t protocols.Transport, src, dst uint16) bool {
	known := func(p uint16) bool {
		if p < 1024 {
			return true
		}
		_, ok := w.byPort[portKey{t, p}]
		return ok
	}
	ks, kd := known(src), known(dst)
	if ks != kd {
		return ks
	}
	return ks && src < dst
}

func (w *Worker) direction(f *flow.Flow) protocols.Direction {
	if w.pkt.SrcPort == f.Client.Port && w.pkt.SrcIP == f.Client.IP {
		return protocols.FromClient
	}
	return protocols.FromServer
}

func (w *Worker) count(f *flow.Flow, dir protocols.Direction) {
	f.Packets[dir]++
	f.Bytes[dir] += uint64(w.pkt.Length)
}

// keepalive reports a live flow once per ReportInterval.
func (w *Worker) keepalive(f *flow.Flow) {
	if !f.Last.Before(f.ReportDue) {
		w.report(f)
	}
}

// detect looks for a decoder for the flow on the first payload seen in dir:
// protocols hinted by the ports first, then every protocol of the transport.
// After both directions were tried without success, the flow is done: its
// packets are counted and nothing more.
func (w *Worker) detect(f *flow.Flow, dir protocols.Direction, first []byte) {
	if f.Tried[dir] {
		f.Done = f.Tried[dir.Reverse()]
		return
	}
	f.Tried[dir] = true
	i := w.match(f, dir, first)
	if i < 0 {
		f.Done = f.Tried[dir.Reverse()]
		return
	}
	s := &w.specs[i]
	f.Protocol = s.Name
	f.Decoder = s.New(protocols.FlowInfo{
		Transport: f.Transport,
		Client:    netip.AddrPortFrom(f.Client.IP, f.Client.Port),
		Server:    netip.AddrPortFrom(f.Server.IP, f.Server.Port),
		ClientMAC: f.Client.MAC,
		ServerMAC: f.Server.MAC,
	})
	w.stats.Detected[i].Add(1)
	if f.Transport == protocols.TCP {
		f.Streams = w.newStreams()
		// Start both streams at their ISN where the handshake was seen, so
		// that nothing before this segment is mistaken for a gap.
		for d := range f.Streams {
			if f.SYN[d] {
				f.Streams[d].Add(f.ISN[d], true, false, nil, &w.stream, w.pool)
			}
		}
	}
}

func (w *Worker) match(f *flow.Flow, dir protocols.Direction, first []byte) int {
	try := func(i int) bool {
		defer func() {
			if r := recover(); r != nil {
				w.stats.Panics.Add(1)
			}
		}()
		return w.specs[i].Detect(dir, first)
	}
	server := w.byPort[portKey{f.Transport, f.Server.Port}]
	client := w.byPort[portKey{f.Transport, f.Client.Port}]
	for _, i := range server {
		if try(i) {
			return i
		}
	}
	for _, i := range client {
		if !slices.Contains(server, i) && try(i) {
			return i
		}
	}
	for _, i := range w.byTrans[f.Transport] {
		if !slices.Contains(server, i) && !slices.Contains(client, i) && try(i) {
			return i
		}
	}
	return -1
}

// feed gives data to the flow's decoder, recovering from a panic in it.
func (w *Worker) feed(f *flow.Flow, dir protocols.Direction, data []byte) {
	defer func() {
		if r := recover(); r != nil {
			w.stats.Panics.Add(1)
			w.giveUp(f)
		}
	}()
	if err := f.Decoder.Feed(dir, data, w.now, w.emit); err != nil {
		w.stats.protocolError(w.specIndex(f.Protocol), err)
		if errors.Is(err, protocols.SkipFlow) {
			// Nothing more to learn: stop reassembling the flow.
			f.Decoder.Close(w.now, w.emit)
			w.giveUp(f)
			return
		}
		// A bad datagram spoils only itself: many hosts share a broadcast
		// flow (every DHCP DISCOVER). A bad TCP stream is given up on.
		if f.Transport == protocols.TCP {
			w.giveUp(f)
		}
		return
	}
	if f.Transport == protocols.TCP {
		// A decoder that does not need the next bytes has the stream pass
		// over them (this runs inside the stream's Handler.Data).
		if sk, ok := f.Decoder.(protocols.Skipper); ok {
			if n := sk.Skip(dir); n > 0 {
				f.Streams[dir].Skip(n, w.pool)
			}
		}
	}
}

func (w *Worker) gap(f *flow.Flow, dir protocols.Direction, n int) {
	defer func() {
		if r := recover(); r != nil {
			w.stats.Panics.Add(1)
			w.giveUp(f)
		}
	}()
	f.Decoder.Gap(dir, n, w.now, w.emit)
}

// giveUp detaches the decoder; buffers are released after the reassembler
// call in progress returns.
func (w *Worker) giveUp(f *flow.Flow) {
	f.Decoder, f.Done = nil, true
}

// release drops what the flow's streams hold and keeps them for another
// flow.
func (w *Worker) release(f *flow.Flow) {
	s := f.Streams
	if s == nil {
		return
	}
	s[0].Reset(w.pool)
	s[1].Reset(w.pool)
	f.Streams = nil
	if len(w.streams) < maxFreeStreams {
		w.streams = append(w.streams, s)
	}
}

// newStreams returns empty streams for a flow, released ones first.
func (w *Worker) newStreams() *[2]reassembly.Stream {
	if n := len(w.streams); n > 0 {
		s := w.streams[n-1]
		w.streams = w.streams[:n-1]
		return s
	}
	return new([2]reassembly.Stream)
}

// maxFreeStreams bounds the released streams kept for reuse.
const maxFreeStreams = 4096

// end finishes a flow leaving the table: deliver what reassembly holds,
// close the decoder, tell the inventory when the flow was last seen.
func (w *Worker) end(f *flow.Flow) {
	if f.Decoder != nil {
		if s := f.Streams; s != nil { // TCP
			for d := range s {
				w.cur, w.curDir = f, protocols.Direction(d)
				s[d].Flush(&w.stream, w.pool)
			}
		}
		if f.Decoder != nil {
			w.cur = f
			func() {
				defer func() {
					if r := recover(); r != nil {
						w.stats.Panics.Add(1)
					}
				}()
				f.Decoder.Close(f.Last, w.emit)
			}()
		}
	}
	w.release(f)
	w.report(f)
	// The table reuses f (see flow.Table).
	w.cur = nil
	if w.last == f {
		w.last = nil
	}
}

// report queues what the inventory should know of a flow: its endpoints,
// service port, protocol, whether it was answered, and its first and latest
// times. A flow is reported when it ends and, while it lives, once per
// ReportInterval.
//
// Busy segments repeat the same conversations (every DNS query is a new
// flow between the same two hosts), so reports pass through a small cache:
// the first report of a conversation is queued at once, later ones only
// widen its time span, which is queued when the slot is reused, when
// ReportInterval has passed, and at Close. Every time reaches the
// inventory, whose merges are min and max, so the result is the same.
func (w *Worker) report(f *flow.Flow) {
	f.ReportDue = f.Last.Add(w.cfg.ReportInterval)
	seen := w.seen(f, f.Last)
	seen.First = f.First
	slot := &w.recent[conversationHash(&seen)&(len(w.recent)-1)]
	if slot.used && sameConversation(&slot.seen, &seen) {
		if seen.First.Before(slot.seen.First) {
			slot.seen.First = seen.First
		}
		if seen.Time.After(slot.seen.Time) {
			slot.seen.Time = seen.Time
		}
		slot.dirty = true
		if !slot.seen.Time.Before(slot.due) {
			w.queueSlot(slot)
		}
		return
	}
	if slot.used && slot.dirty {
		w.queueSlot(slot)
	}
	*slot = recentReport{seen: seen, used: true}
	w.queueSlot(slot)
}

// recentReport is a slot of the report cache.
type recentReport struct {
	seen  inventory.FlowSeen
	due   time.Time // ReportInterval after the packet time the slot was last queued
	used  bool
	dirty bool // times widened since
}

// recentSlots sizes the report cache (a power of two).
const recentSlots = 1 << 12

func (w *Worker) queueSlot(slot *recentReport) {
	w.queue(invOp{flow: slot.seen})
	slot.due, slot.dirty = slot.seen.Time.Add(w.cfg.ReportInterval), false
}

// flushRecent queues every widened report and observation (end of
// capture).
func (w *Worker) flushRecent() {
	for i := range w.recent {
		if slot := &w.recent[i]; slot.used && slot.dirty {
			w.queueSlot(slot)
		}
	}
	for i := range w.obsLog {
		if e := &w.obsLog[i]; e.used && e.dirty {
			w.queueObs(e)
		}
	}
}

// sameConversation compares two reports but for their times.
func sameConversation(a, b *inventory.FlowSeen) bool {
	return a.Client == b.Client && a.Server == b.Server && a.Transport == b.Transport &&
		a.ServerPort == b.ServerPort && a.Protocol == b.Protocol && a.Answered == b.Answered && a.VLAN == b.VLAN
}

// conversationHash hashes a report's addresses and service port.
func conversationHash(s *inventory.FlowSeen) int {
	var h hash64
	h.addr(s.Client.IP)
	h.addr(s.Server.IP)
	h.mac(s.Client.MAC)
	h.word(uint64(s.ServerPort) | uint64(s.Transport)<<16)
	return h.index()
}

// hash64 hashes eight bytes at a step. The worker's caches hash with it,
// not with a randomly seeded hash, so that they fill and evict alike on
// every replay: which updates reach the inventory before each tick, and so
// its events, must not change from run to run.
type hash64 uint64

func (h *hash64) word(w uint64) {
	*h = hash64(bits.RotateLeft64(uint64(*h)^w, 29) * 0x9e3779b97f4a7c15)
}

// string hashes s and its length, so that consecutive fields do not run
// into each other. The last word holds the bytes left over, little-endian,
// and the length in its top byte; they are read with two loads, which may
// overlap, not one at a time.
func (h *hash64) string(s string) {
	n := len(s)
	if n < 8 {
		h.word(short(s) ^ uint64(n)<<56)
		return
	}
	for i := 0; i <= n-8; i += 8 {
		h.word(le64(s[i:]))
	}
	var t uint64
	if r := n % 8; r > 0 {
		t = le64(s[n-8:]) >> (64 - 8*r) // the last r bytes
	}
	h.word(t ^ uint64(n)<<56)
}

// addr hashes an address's 16-byte form as string would.
func (h *hash64) addr(a netip.Addr) {
	b := a.As16()
	h.word(binary.LittleEndian.Uint64(b[:8]))
	h.word(binary.LittleEndian.Uint64(b[8:]))
	h.word(16 << 56)
}

// mac hashes a MAC address as string would.
func (h *hash64) mac(m protocols.MAC) {
	h.word(uint64(binary.LittleEndian.Uint32(m[:4])) | uint64(binary.LittleEndian.Uint16(m[4:]))<<32 | 6<<56)
}

// le64 reads the first eight bytes of s as a little-endian word.
func le64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// short reads s, shorter than eight bytes, as a little-endian word: two
// loads of four or two bytes, which overlap unless s has eight or four.
func short(s string) uint64 {
	switch n := len(s); {
	case n >= 4:
		lo := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24
		hi := uint64(s[n-4]) | uint64(s[n-3])<<8 | uint64(s[n-2])<<16 | uint64(s[n-1])<<24
		return lo | hi<<(8*(n-4))
	case n >= 2:
		return uint64(s[0]) | uint64(s[1])<<8 | (uint64(s[n-2])|uint64(s[n-1])<<8)<<(8*(n-2))
	case n == 1:
		return uint64(s[0])
	}
	return 0
}

// index mixes the hash (MurmurHash3's finalizer) into a slot number.
func (h hash64) index() int {
	x := uint64(h)
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	return int(x >> 1)
}

func (w *Worker) seen(f *flow.Flow, t time.Time) inventory.FlowSeen {
	return inventory.FlowSeen{
		Time:       t,
		Client:     inventory.Endpoint{MAC: f.Client.MAC, IP: f.Client.IP},
		Server:     inventory.Endpoint{MAC: f.Server.MAC, IP: f.Server.IP},
		Transport:  f.Transport,
		ServerPort: f.Server.Port,
		Protocol:   f.Protocol,
		Answered:   f.Answered,
		VLAN:       f.VLAN,
	}
}

// invOp is one inventory update, applied in order by the feeder goroutine:
// a flow report, an observation (obs.Protocol set) or a clock advance.
type invOp struct {
	flow             inventory.FlowSeen
	obs              protocols.Observation
	sender, receiver inventory.Endpoint
	advance          time.Time
	seq              uint64 // of the packet, for the anomaly detector
}

// opBatch is the number of updates handed over at once.
const opBatch = 1024

// queue adds an update to the current batch, handing it over when full.
func (w *Worker) queue(op invOp) {
	w.batch = append(w.batch, op)
	if len(w.batch) >= opBatch {
		w.handOver()
	}
}

// handOver sends the current batch to the feeder and takes a recycled one.
func (w *Worker) handOver() {
	if len(w.batch) == 0 {
		return
	}
	if w.group != nil {
		w.group.ops <- heldBatch{worker: w.index, ops: w.batch}
	} else {
		w.ops <- w.batch
	}
	w.batch = (<-w.free)[:0]
}

// feeder applies the worker's batches to the inventory. It runs in its
// own goroutine so that inventory work, which takes a lock and merges
// sorted sets, overlaps the packet path instead of adding to it. Workers
// sharing a capture have one feeder for all (see group.feed).
func (w *Worker) feeder() {
	defer close(w.fed)
	for batch := range w.ops {
		for i := range batch {
			op := &batch[i]
			if !op.advance.IsZero() {
				w.inv.Advance(op.advance)
			} else if apply(w.inv, op) && w.cfg.Anomalies != nil {
				anomalies(w.inv, w.cfg.Anomalies, op)
			}
			*op = invOp{} // drop references to facts
		}
		w.free <- batch
	}
}

// apply applies a flow report or an observation to the inventory and
// reports whether it was an observation the anomaly detector wants.
func apply(inv *inventory.Inventory, op *invOp) bool {
	if op.obs.Protocol == "" {
		inv.Flow(op.flow)
		return false
	}
	inv.Observe(op.flow.Time, op.sender, op.receiver, op.obs)
	return anomaly.Interesting(&op.obs)
}

// anomalies passes an observation to the anomaly detector, with the asset
// it is about.
func anomalies(inv *inventory.Inventory, det *anomaly.Detector, op *invOp) {
	about := op.sender
	if op.obs.About == protocols.Receiver {
		about = op.receiver
	}
	if id := inv.AssetID(about, &op.obs); id != "" {
		det.Observe(op.flow.Time, id, op.obs)
	}
}

// observe receives a decoder's observation and passes it to the inventory
// with the endpoints of the data that produced it.
//
// The same observation repeats across flows and messages (every HL7
// connection of a sender carries the same MSH facts, DNS answers and ARP
// replies repeat), so observations pass through a small cache like flow
// reports do (see report): the first is queued at once, repeats only move
// the entry's latest time, which is queued when the entry leaves the cache,
// when ReportInterval has passed, and at Close. The inventory's merges of an
// observation's time are min and max, so the result is the same. Two
// observations are the same when they agree on everything Observe reads
// (see obsKey); observations the anomaly detector wants are never cached,
// as it needs every time.
//
// The cache is a ring of entries and a table of small tags by hash that
// point into it. A new observation (about half of them) reads one tag and
// takes the entry at the ring's hand, next to the one taken before and so
// likely in the CPU's cache, instead of a slot of its own anywhere in a
// few megabytes. The hand passes over the entries found again since it
// last came by (the CLOCK algorithm), so the cache keeps the observations
// that repeat; it takes an entry whose tag another observation took at
// once.
func (w *Worker) observe(o protocols.Observation) {
	w.stats.Observations[w.specIndex(o.Protocol)].Add(1)
	var sender, receiver inventory.Endpoint
	switch {
	case w.curPkt:
		sender = inventory.Endpoint{MAC: w.pkt.SrcMAC, IP: w.pkt.SrcIP}
		receiver = inventory.Endpoint{MAC: w.pkt.DstMAC, IP: w.pkt.DstIP}
	case w.cur != nil:
		f := w.cur
		sender = inventory.Endpoint{MAC: f.Client.MAC, IP: f.Client.IP, Transport: f.Transport, Port: f.Client.Port}
		receiver = inventory.Endpoint{MAC: f.Server.MAC, IP: f.Server.IP, Transport: f.Transport, Port: f.Server.Port}
		if w.curDir == protocols.FromServer {
			sender, receiver = receiver, sender
		}
	}
	if w.cfg.Anomalies != nil && anomaly.Interesting(&o) {
		w.queue(invOp{flow: inventory.FlowSeen{Time: w.now}, obs: o, sender: sender, receiver: receiver, seq: w.seq})
		return
	}
	about := obsAbout(&o, &sender, &receiver)
	sum := obsHashOf(&o, about)
	ti := sum & (len(w.obsTags) - 1)
	tag := &w.obsTags[ti]
	check := uint32(uint64(sum) >> 32) // bits the tag's index does not use
	// The check tells most other observations apart without reading the
	// entry; equal ones are compared in full.
	if tag.pos != 0 && tag.check == check {
		e := &w.obsLog[tag.pos-1]
		if sameObservation(&e.obs, &o) && obsAbout(&e.obs, &e.sender, &e.receiver) == about {
			e.hit = true
			if w.now.After(e.last) {
				e.last, e.dirty = w.now, true
				if !e.last.Before(e.due) {
					w.queueObs(e)
				}
			}
			return
		}
	}
	pos, e := w.obsEvict()
	*e = recentObs{obs: o, sender: sender, receiver: receiver, last: w.now, tag: uint32(ti), used: true}
	*tag = obsTag{check: check, pos: uint32(pos + 1)}
	w.queueObs(e)
}

// obsEvict moves the ring's hand to an entry it may take, that it
// empties, and returns its index and it.
func (w *Worker) obsEvict() (uint64, *recentObs) {
	for {
		pos := w.obsHand & uint64(len(w.obsLog)-1)
		w.obsHand++
		e := &w.obsLog[pos]
		if !e.used {
			return pos, e
		}
		tag := &w.obsTags[e.tag]
		live := tag.pos == uint32(pos+1)
		if live && e.hit {
			e.hit = false // a second chance: the hand comes by again after every other entry
			continue
		}
		if e.dirty {
			w.queueObs(e)
		}
		if live {
			*tag = obsTag{}
		}
		return pos, e
	}
}

// obsTag points to the cache entry of an observation by its hash.
type obsTag struct {
	check uint32 // the hash's high bits
	pos   uint32 // index in the ring plus one; 0: none
}

// recentObs is an entry of the observation cache.
type recentObs struct {
	obs              protocols.Observation // the first observation, as queued
	sender, receiver inventory.Endpoint
	last             time.Time // latest time seen
	due              time.Time // ReportInterval after the latest time queued
	tag              uint32    // index of its tag
	used, dirty      bool      // dirty: last is after the latest time queued
	hit              bool      // found again since the ring's hand came by
}

// recentObsSlots sizes the observation cache's ring, and half its tags
// (a power of two).
const recentObsSlots = 1 << 14

// queueObs queues the entry's observation at its latest time.
func (w *Worker) queueObs(e *recentObs) {
	w.queue(invOp{flow: inventory.FlowSeen{Time: e.last}, obs: e.obs, sender: e.sender, receiver: e.receiver})
	e.due, e.dirty = e.last.Add(w.cfg.ReportInterval), false
}

// obsKey is what Observe reads of an observation's endpoints: the MAC and IP
// of the endpoint the observation is about, and its port when the
// observation names it a server. The other endpoint and the ports of a
// client (a new one per connection) make no difference to the inventory.
type obsKey struct {
	mac       protocols.MAC
	ip        netip.Addr
	transport protocols.Transport
	port      uint16
}

func obsAbout(o *protocols.Observation, sender, receiver *inventory.Endpoint) obsKey {
	e := sender
	if o.About == protocols.Receiver {
		e = receiver
	}
	k := obsKey{mac: e.MAC, ip: e.IP}
	if o.Role == "server" {
		k.transport, k.port = e.Transport, e.Port
	}
	return k
}

// sameObservation compares two observations field by field.
func sameObservation(a, b *protocols.Observation) bool {
	return a.Protocol == b.Protocol && a.Source == b.Source && a.About == b.About && a.MAC == b.MAC &&
		a.IP == b.IP && a.Hostname == b.Hostname && a.Role == b.Role && slices.Equal(a.Facts, b.Facts)
}

// obsHashOf hashes an observation with the endpoint it is about.
func obsHashOf(o *protocols.Observation, k obsKey) int {
	var h hash64
	h.string(o.Source)
	h.addr(k.ip)
	h.mac(k.mac)
	h.word(uint64(k.transport) | uint64(k.port)<<8 | uint64(o.About)<<24)
	h.mac(o.MAC)
	h.addr(o.IP)
	h.string(o.Hostname)
	for _, f := range o.Facts {
		h.string(f.Name)
		h.string(f.Value)
	}
	return h.index()
}

func (w *Worker) specIndex(name string) int {
	for i := range w.specs {
		if w.specs[i].Name == name {
			return i
		}
	}
	return len(w.specs) // "other"
}

// streamHandler receives reassembled bytes for the flow and direction in
// w.cur and w.curDir.
type streamHandler struct{ w *Worker }

func (h *streamHandler) Data(p []byte) {
	if f := h.w.cur; f != nil && f.Decoder != nil {
		h.w.feed(f, h.w.curDir, p)
	}
}

func (h *streamHandler) Gap(n int) {
	if f := h.w.cur; f != nil && f.Decoder != nil {
		h.w.gap(f, h.w.curDir, n)
	}
}

// Stats are a worker's counters. Counters are atomic; Packets, Bytes and
// the flow and reassembly figures are copies refreshed once a second of
// packet time, when the capture is quiet and at Close.
type Stats struct {
	Packets, Bytes atomic.Uint64
	DecodeErrors   [decode.NumLayers][decode.NumReasons]atomic.Uint64
	Panics         atomic.Uint64 // decoder panics recovered
	// Indexed like the spec list, with one more slot for unknown names.
	Detected       []atomic.Uint64
	Observations   []atomic.Uint64
	ProtocolErrors [][4]atomic.Uint64 // by protocols.Reason: malformed, too_long, unsupported, other

	mu              sync.Mutex
	flow            flow.Stats
	reassembly      reassembly.Stats
	reassemblyBytes int
}

func newStats(specs []protocols.Spec) *Stats {
	n := len(specs) + 1
	return &Stats{
		Detected:       make([]atomic.Uint64, n),
		Observations:   make([]atomic.Uint64, n),
		ProtocolErrors: make([][4]atomic.Uint64, n),
	}
}

// ProtocolErrorReasons names the columns of Stats.ProtocolErrors.
var ProtocolErrorReasons = [4]string{"malformed", "too_long", "unsupported", "other"}

func (s *Stats) protocolError(i int, err error) {
	r := 3
	switch protocols.Reason(err) {
	case "":
		return // not an error (SkipFlow)
	case "malformed":
		r = 0
	case "too_long":
		r = 1
	case "unsupported":
		r = 2
	}
	s.ProtocolErrors[i][r].Add(1)
}

// Flows returns the latest flow table and reassembly figures.
func (s *Stats) Flows() (flow.Stats, reassembly.Stats, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.flow, s.reassembly, s.reassemblyBytes
}

// Now returns the latest packet time the worker has seen.
func (w *Worker) Now() time.Time { return w.now }
