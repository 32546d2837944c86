// Package gencap writes large, realistic captures of a hospital network
// segment for replay benchmarks: thousands of medical, imaging and IT hosts,
// two gateways, and interleaved DHCP, ARP, DNS, TLS, HTTP, DICOM, HL7/MLLP
// and SMB2 flows with correct TCP state and checksums. Output is a classic
// pcap and is a pure function of Config.
package gencap

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// StartUnix is the capture clock origin (2024-03-11 08:00:00 UTC) in Unix
// seconds; every packet is stamped strictly after it.
const StartUnix = 1710144000

const (
	pcapHeaderLen = 24
	fillMask      = 1<<16 - 1
	fillLen       = fillMask + 1 + 2048
	concurrency   = 256
	targetAvg     = 700
	minHosts      = 64
)

// ErrConfig reports an unusable Config.
var ErrConfig = errors.New("gencap: invalid config")

// Config says what to generate.
type Config struct {
	Size  int64  // stop before the file would exceed this many bytes
	Hosts int    // local hosts on the segment, servers and routers included
	Seed  uint64 // same seed, same bytes
}

// Stats summarises a generated capture.
type Stats struct {
	Packets    int64
	FileBytes  int64           // bytes written, pcap headers included
	FrameBytes int64           // sum of frame lengths
	Flows      [NumKinds]int64 // flows started, by kind
	Hosts      int             // hosts on the segment
	HostsSeen  int             // hosts that sent at least one frame
	Duration   time.Duration   // capture time span
}

// AvgPacketSize is the mean frame length in bytes.
func (s Stats) AvgPacketSize() float64 {
	if s.Packets == 0 {
		return 0
	}
	return float64(s.FrameBytes) / float64(s.Packets)
}

// String renders the summary printed by the command.
func (s Stats) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "packets: %d\nfile bytes: %d\naverage packet size: %.1f bytes\n", s.Packets, s.FileBytes, s.AvgPacketSize())
	fmt.Fprintf(&b, "hosts: %d (%d sent traffic)\ncapture span: %s\nflows:", s.Hosts, s.HostsSeen, s.Duration)
	for k := Kind(0); k < NumKinds; k++ {
		fmt.Fprintf(&b, " %s=%d", k, s.Flows[k])
	}
	b.WriteByte('\n')
	return b.String()
}

// ParseSize parses a byte count with an optional suffix: K, M, G, KB, MB,
// GB (powers of 1000) or KiB, MiB, GiB (powers of 1024).
func ParseSize(s string) (int64, error) {
	orig := s
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   int64
	}{
		{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30},
		{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9},
		{"K", 1e3}, {"M", 1e6}, {"G", 1e9}, {"B", 1},
	}
	mult := int64(1)
	for _, u := range units {
		if len(s) > len(u.suffix) && strings.EqualFold(s[len(s)-len(u.suffix):], u.suffix) {
			s, mult = s[:len(s)-len(u.suffix)], u.mult
			break
		}
	}
	n, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || !(n >= 0 && n*float64(mult) <= 1<<50) { // also rejects NaN
		return 0, fmt.Errorf("%w: size %q: want a number with an optional suffix such as 200MiB or 1GiB", ErrConfig, orig)
	}
	return int64(n * float64(mult)), nil
}

// Validate reports whether cfg can be generated; errors wrap ErrConfig.
func (cfg Config) Validate() error {
	switch {
	case cfg.Hosts < minHosts:
		return fmt.Errorf("%w: %d hosts, need at least %d", ErrConfig, cfg.Hosts, minHosts)
	case cfg.Hosts > 60000:
		return fmt.Errorf("%w: %d hosts do not fit in 10.0.0.0/16, use at most 60000", ErrConfig, cfg.Hosts)
	case cfg.Size < pcapHeaderLen:
		return fmt.Errorf("%w: size %d is below the pcap header size", ErrConfig, cfg.Size)
	}
	return nil
}

// gen is the state of one generation run.
type gen struct {
	rng     *rand.Rand
	seg     *segment
	w       *bufio.Writer
	pkt     []byte // pcap record header + frame
	frame   []byte // pkt[recLen:]
	rnd     []byte
	text    []byte
	now     int64 // microseconds since StartTime
	limit   int64
	stopped bool
	err     error
	stats   Stats
	seen    []bool
	free    []*flow
	msgID   uint32

	planBytes, planPkts int64 // estimated size of all flows started
}

// Generate writes a pcap to w according to cfg and returns what it wrote.
// Memory use does not depend on cfg.Size.
func Generate(w io.Writer, cfg Config) (Stats, error) {
	if err := cfg.Validate(); err != nil {
		return Stats{}, err
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))
	g := &gen{
		rng:   rng,
		seg:   newSegment(rng, cfg.Hosts),
		w:     bufio.NewWriterSize(w, 4<<20),
		pkt:   make([]byte, recLen+maxFrame+64),
		limit: cfg.Size,
	}
	g.frame = g.pkt[recLen:]
	g.seen = make([]bool, len(g.seg.hosts))
	g.rnd = make([]byte, fillLen)
	for i := range g.rnd {
		g.rnd[i] = byte(rng.Uint32())
	}
	g.text = makeText(fillLen)
	g.writeHeader()

	// Small captures get fewer concurrent flows so that they still hold
	// complete conversations.
	n := min(max(cfg.Size>>16, 16), concurrency)
	active := make([]*flow, n)
	for i := range active {
		active[i] = g.newFlow()
	}
	for !g.stopped {
		i := g.rng.IntN(len(active))
		f := active[i]
		// A flow in its data phase sends a short burst, as a sender with
		// an open window does.
		burst := 1
		if f.st == stData {
			burst = 1 + g.rng.IntN(24)
		}
		done := false
		for ; burst > 0 && !done; burst-- {
			done = g.step(f)
		}
		if done {
			g.free = append(g.free, f)
			active[i] = g.newFlow()
		}
	}
	if err := g.w.Flush(); err != nil && g.err == nil {
		g.err = err
	}
	g.stats.Hosts = len(g.seg.hosts)
	for _, s := range g.seen {
		if s {
			g.stats.HostsSeen++
		}
	}
	g.stats.Duration = time.Duration(g.now) * time.Microsecond
	if g.err != nil {
		return g.stats, fmt.Errorf("gencap: write capture: %w", g.err)
	}
	return g.stats, nil
}

func (g *gen) writeHeader() {
	var h [pcapHeaderLen]byte
	binary.LittleEndian.PutUint32(h[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], 65535)
	binary.LittleEndian.PutUint32(h[20:], 1) // LINKTYPE_ETHERNET
	_, g.err = g.w.Write(h[:])
	g.stats.FileBytes = pcapHeaderLen
}

// emit writes the frame of n bytes in g.frame, sent by local host src.
func (g *gen) emit(n int, src int) {
	if g.stopped {
		return
	}
	if n < 60 {
		clear(g.frame[n:60])
		n = 60
	}
	if g.err != nil || g.stats.FileBytes+recLen+int64(n) > g.limit {
		g.stopped = true
		return
	}
	g.now += 1 + int64(g.rng.IntN(40))
	t := StartUnix*1e6 + g.now
	binary.LittleEndian.PutUint32(g.pkt[0:], uint32(t/1e6))
	binary.LittleEndian.PutUint32(g.pkt[4:], uint32(t%1e6))
	binary.LittleEndian.PutUint32(g.pkt[8:], uint32(n))
	binary.LittleEndian.PutUint32(g.pkt[12:], uint32(n))
	if _, err := g.w.Write(g.pkt[:recLen+n]); err != nil {
		g.err = err
		g.stopped = true
		return
	}
	g.stats.Packets++
	g.stats.FileBytes += recLen + int64(n)
	g.stats.FrameBytes += int64(n)
	g.seen[src] = true
}

// kindWeights is the base flow mix, per kind.
var kindWeights = [NumKinds]int{
	KindARP: 16, KindDHCP: 3, KindDNS: 28, KindTLS: 24, KindHTTP: 8,
	KindDICOM: 2, KindHL7: 14, KindSMB: 2,
}

// pickKind draws a flow kind, steering bulk flows so that the mean frame
// size stays near targetAvg.
func (g *gen) pickKind() (Kind, bool) {
	// Steer on the planned composition of all flows started so far: bulk
	// flows take long to drain, so the written average lags behind.
	avg := float64(targetAvg)
	if g.planPkts > 0 {
		avg = float64(g.planBytes) / float64(g.planPkts)
	}
	// Flows still running hold back bulk bytes: correct the plan by how
	// far the written average trails it.
	target := float64(targetAvg)
	if g.stats.Packets > 1000 {
		target += min(max(targetAvg-g.stats.AvgPacketSize(), -60), 60)
	}
	// Without SMB and bulk TLS the mix averages about 650 bytes a frame,
	// with them well above 800.
	w := kindWeights
	bulkTLS := 1
	switch {
	case avg > target+15:
		bulkTLS, w[KindSMB] = 0, 0
	case avg < target-15:
		bulkTLS, w[KindSMB] = 4, 4
	}
	total := bulkTLS
	for _, x := range w {
		total += x
	}
	r := g.rng.IntN(total)
	if r < bulkTLS {
		return KindTLS, true
	}
	r -= bulkTLS
	for k, x := range w {
		if r < x {
			return Kind(k), false
		}
		r -= x
	}
	return KindDNS, false
}

func (g *gen) newFlow() *flow {
	var f *flow
	if n := len(g.free); n > 0 {
		f = g.free[n-1]
		g.free = g.free[:n-1]
	} else {
		f = &flow{}
	}
	f.reset()
	kind, bulk := g.pickKind()
	f.kind = kind
	f.xid = g.rng.Uint32()
	f.fillSeed = g.rng.IntN(fillMask)
	g.stats.Flows[kind]++
	switch kind {
	case KindARP:
		g.setupARP(f)
	case KindDHCP:
		g.setupDHCP(f)
	case KindDNS:
		g.setupDNS(f)
	case KindTLS:
		g.setupTLS(f, bulk)
	case KindHTTP:
		g.setupHTTP(f)
	case KindDICOM:
		g.setupDICOM(f)
	case KindHL7:
		g.setupHL7(f)
	case KindSMB:
		g.setupSMB(f)
	}
	g.plan(f)
	return f
}

// plan adds the estimated frame count and bytes of f to the totals that
// steer the flow mix.
func (g *gen) plan(f *flow) {
	const ack = ethLen + ipv4Len + tcpLenOpt
	switch f.kind {
	case KindARP:
		g.planPkts += 2
		g.planBytes += 120
		return
	case KindDNS:
		g.planPkts += 2
		g.planBytes += 180
		return
	case KindDHCP:
		g.planPkts += 4
		g.planBytes += 4 * 342
		return
	}
	// Handshake (two 74-byte SYNs, one ACK) and FIN teardown; then the
	// data segments and the ACKs stepData sends.
	pkts, bytes := int64(7), int64(5*ack+2*(ethLen+ipv4Len+tcpLenSyn))
	for i, m := range f.msgs {
		segs := int64((m.n + mss - 1) / mss)
		acks := (segs - 1) / 2
		if i == len(f.msgs)-1 || f.msgs[i+1].from == m.from {
			acks++
		}
		pkts += segs + acks
		bytes += int64(m.n) + (segs+acks)*ack
	}
	g.planPkts += pkts
	g.planBytes += bytes
}

// step emits the next packet of f and reports whether f is finished.
func (g *gen) step(f *flow) bool {
	switch f.kind {
	case KindARP:
		return g.stepARP(f)
	case KindDHCP:
		return g.stepDHCP(f)
	case KindDNS:
		return g.stepDNS(f)
	default:
		return g.stepTCP(f)
	}
}

// pickHost returns a random host of class c, or a workstation when the
// segment has none.
func (g *gen) pickHost(c hostClass) int {
	l := g.seg.byClass[c]
	if len(l) == 0 {
		l = g.seg.byClass[classWorkstation]
	}
	if len(l) == 0 {
		return g.seg.routers[0]
	}
	return l[g.rng.IntN(len(l))]
}

func (g *gen) pickServer(r serverRole) int {
	l := g.seg.servers[r]
	return l[g.rng.IntN(len(l))]
}

func (g *gen) local(hi int) endpoint {
	h := &g.seg.hosts[hi]
	return endpoint{mac: h.mac, ip: h.ip, host: hi, ttl: h.ttl}
}

// public returns an endpoint for a public server reached by client through
// its gateway, and the server's index.
func (g *gen) public(client int) (endpoint, int) {
	ri := g.rng.IntN(len(g.seg.remotes))
	r := &g.seg.remotes[ri]
	gw := g.seg.routers[g.seg.hosts[client].gw]
	return endpoint{mac: g.seg.hosts[gw].mac, ip: r.ip, host: gw, ttl: r.ttl}, ri
}

func (g *gen) ephemeral(hi int) uint16 {
	h := &g.seg.hosts[hi]
	p := h.nextPort
	h.nextPort++
	if h.nextPort < 49152 {
		h.nextPort = 49152
	}
	return p
}

// initTCP prepares the TCP state of a flow between cli and srv.
func (g *gen) initTCP(f *flow, cli, srv endpoint, dport uint16) {
	f.cli, f.srv = cli, srv
	f.cli.port = g.ephemeral(cli.host)
	f.srv.port = dport
	f.seq = [2]uint32{g.rng.Uint32(), g.rng.Uint32()}
	f.tsBase = [2]uint32{g.rng.Uint32(), g.rng.Uint32()}
	f.lastTS = [2]uint32{}
	f.win = [2]uint16{uint16(500 + g.rng.IntN(1500)), uint16(500 + g.rng.IntN(1500))}
	f.wscale = [2]byte{7, byte(7 + g.rng.IntN(3))}
	f.ipid = [2]uint16{uint16(g.rng.Uint32()), uint16(g.rng.Uint32())}
	f.rst = g.rng.IntN(20) == 0
	f.closer = g.rng.IntN(2)
}

// sendTCP emits a segment from side from whose n payload bytes are already
// in place after a header of hlen bytes.
func (g *gen) sendTCP(f *flow, from int, flags byte, n, hlen int) {
	src, dst := &f.cli, &f.srv
	if from == 1 {
		src, dst = dst, src
	}
	fr := g.frame
	l4 := hlen + n
	putEth(fr, dst.mac, src.mac, 0x0800)
	putIPv4(fr[ethLen:], src.ip, dst.ip, 6, l4, f.ipid[from], src.ttl, true)
	f.ipid[from]++
	ts := f.tsBase[from] + uint32(g.now/1000)
	h := tcpHdr{
		sport: src.port, dport: dst.port,
		seq: f.seq[from], flags: flags, win: f.win[from],
		tsval: ts, tsecr: f.lastTS[1-from], hlen: hlen, wscale: f.wscale[from],
	}
	if flags&flagACK != 0 {
		h.ack = f.seq[1-from]
	}
	if flags&flagSYN != 0 {
		h.win = 64240
	}
	f.lastTS[from] = ts
	putTCP(fr[ethLen+ipv4Len:ethLen+ipv4Len+l4], src.ip, dst.ip, &h)
	f.seq[from] += uint32(n)
	if flags&(flagSYN|flagFIN) != 0 {
		f.seq[from]++
	}
	g.emit(ethLen+ipv4Len+l4, src.host)
}

func (g *gen) stepTCP(f *flow) bool {
	switch f.st {
	case stSyn:
		g.sendTCP(f, 0, flagSYN, 0, tcpLenSyn)
		f.st = stSynAck
	case stSynAck:
		g.sendTCP(f, 1, flagSYN|flagACK, 0, tcpLenSyn)
		f.st = stAck
	case stAck:
		g.sendTCP(f, 0, flagACK, 0, tcpLenOpt)
		f.st = stData
		if len(f.msgs) == 0 {
			f.st = g.teardown(f)
		}
	case stData:
		g.stepData(f)
	case stFin1:
		g.sendTCP(f, f.closer, flagFIN|flagACK, 0, tcpLenOpt)
		f.st = stFin2
	case stFin2:
		g.sendTCP(f, 1-f.closer, flagACK, 0, tcpLenOpt)
		f.st = stFin3
	case stFin3:
		g.sendTCP(f, 1-f.closer, flagFIN|flagACK, 0, tcpLenOpt)
		f.st = stFin4
	case stFin4:
		g.sendTCP(f, f.closer, flagACK, 0, tcpLenOpt)
		f.st = stDone
	case stRst:
		g.sendTCP(f, f.closer, flagRST|flagACK, 0, tcpLenRst)
		f.st = stDone
	}
	return f.st == stDone
}

func (g *gen) teardown(f *flow) tcpState {
	if f.rst {
		return stRst
	}
	return stFin1
}

// stepData emits the next data segment or delayed ACK.
func (g *gen) stepData(f *flow) {
	if f.pendingAck >= 0 {
		side := f.pendingAck
		f.pendingAck = -1
		f.unacked = 0
		g.sendTCP(f, side, flagACK, 0, tcpLenOpt)
		if f.mi == len(f.msgs) {
			f.st = g.teardown(f)
		}
		return
	}
	m := &f.msgs[f.mi]
	from := m.from
	n := m.n - f.moff
	if n > mss {
		n = mss
	}
	off := ethLen + ipv4Len + tcpLenOpt
	f.copyOut(g.frame[off:off+n], g.rnd, g.text)
	f.moff += n
	last := f.moff == m.n
	flags := byte(flagACK)
	if last {
		flags |= flagPSH
	}
	g.sendTCP(f, from, flags, n, tcpLenOpt)
	f.unacked++
	if last {
		f.mi++
		f.moff = 0
		if f.mi == len(f.msgs) || f.msgs[f.mi].from == from {
			f.pendingAck = 1 - from
		} else {
			f.unacked = 0 // the reply carries the ACK
		}
	} else if f.unacked >= 2 {
		f.pendingAck = 1 - from
	}
}

// makeText returns n bytes of printable HTML-ish filler.
func makeText(n int) []byte {
	const para = "<p>Patient safety notice: infusion pump drug library updated. " +
		"Biomedical engineering schedules preventive maintenance for imaging suites, " +
		"ICU monitors and telemetry. Contact the service desk for access requests.</p>\n"
	b := make([]byte, 0, n)
	for len(b) < n {
		b = append(b, para...)
	}
	return b[:n]
}
