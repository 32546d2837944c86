// Package inventory merges flows and decoder observations into the asset
// inventory of SPEC.md ("Asset", schema iomt.asset/v1) and emits asset.new
// and asset.update events, coalesced by packet time.
//
// Packet workers call it concurrently, in whatever order their packets come,
// so the inventory is built to give byte-identical output for the same set of
// calls in any order:
//
//   - State is kept per endpoint, a (MAC, IP) pair as seen on the wire or as a
//     message states it, not per asset. Every merge into that state is a set
//     union, a minimum (first seen) or a maximum (last seen).
//   - Grouping endpoints into assets happens only when assets are output: an
//     endpoint of a unicast MAC is asset "mac:<mac>", unless that MAC is a
//     router (it carries more than RouterMinIPs IPv4 addresses not bound to it
//     by ARP or DHCP); then endpoints whose IP is not bound to the router
//     become "ip:<ip>" assets when the IP is internal, and are no asset at all
//     (only a peer "ip:<ip>" of the assets that talked to them) when it is
//     external. Endpoints without a MAC (raw IP, loopback) are "ip:<ip>"
//     assets when internal.
//   - Every bounded set keeps its smallest elements by a total order (see
//     sets.go), so which elements survive a cap does not depend on order
//     either. Counts of what was dropped (Stats) are approximate in that
//     respect: they count drop events.
//
// Calls are rare (per flow event and per decoded message, never per packet),
// so one mutex guards everything.
package inventory

import (
	"cmp"
	"encoding/binary"
	"math"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/iomt-sensor/iomt-sensor/fingerprint"
	"github.com/iomt-sensor/iomt-sensor/protocols"
)

// Endpoint is one side of a flow or message as seen on the wire. Either
// address may be zero: raw-IP links have no MAC, a DHCP DISCOVER has no IP.
type Endpoint struct {
	MAC protocols.MAC
	IP  netip.Addr
	// Transport and Port, when set, are the transport-layer port of this
	// endpoint. Observe uses them to record a server-role observation as a
	// service (a DHCP server answering from udp/67). Flow ignores them: a
	// FlowSeen has its own Transport and ServerPort.
	Transport protocols.Transport
	Port      uint16
}

// Config tunes the inventory. Zero values take the defaults documented on
// each field.
type Config struct {
	// Sensor is the sensor name, copied into every asset.
	Sensor string
	// InternalNets are the networks of the site. Default: 10/8, 172.16/12,
	// 192.168/16, 100.64/10, 169.254/16, 127/8, fc00::/7, fe80::/10, ::1/128.
	InternalNets []netip.Prefix
	// RouterMinIPs: a MAC that carries more than this many distinct IPv4
	// addresses, not counting those bound to it by ARP or DHCP, is a router.
	// Default 4.
	RouterMinIPs int
	// MaxAssets caps the assets output (default 16384). The endpoint table
	// behind them holds at most MaxEndpoints entries (default 4*MaxAssets);
	// endpoints with external addresses are the first to go.
	MaxAssets    int
	MaxEndpoints int
	// Per-asset caps: evidence entries (default 64), peers (256), services
	// (64), hostnames (16) and IP addresses (32).
	MaxEvidence  int
	MaxPeers     int
	MaxServices  int
	MaxHostnames int
	MaxIPs       int
	// UpdateInterval is the least packet time between two asset.update events
	// of one asset (default 30s).
	UpdateInterval time.Duration
	// Fingerprint identifies assets; nil uses the embedded default rules.
	Fingerprint *fingerprint.Engine
}

// maxName caps the length of hostnames and evidence strings kept.
const maxName = 255

func (c Config) withDefaults() Config {
	if c.Fingerprint == nil {
		e, err := fingerprint.New(fingerprint.Defaults()...)
		if err != nil {
			panic("inventory: the embedded fingerprint rules do not load: " + err.Error()) // a build defect; tests catch it
		}
		c.Fingerprint = e
	}
	if c.InternalNets == nil {
		for _, s := range []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10",
			"169.254.0.0/16", "127.0.0.0/8", "fc00::/7", "fe80::/10", "::1/128"} {
			c.InternalNets = append(c.InternalNets, netip.MustParsePrefix(s))
		}
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.RouterMinIPs, 4)
	def(&c.MaxAssets, 16384)
	def(&c.MaxEndpoints, 4*c.MaxAssets)
	def(&c.MaxEvidence, 64)
	def(&c.MaxPeers, 256)
	def(&c.MaxServices, 64)
	def(&c.MaxHostnames, 16)
	def(&c.MaxIPs, 32)
	if c.UpdateInterval <= 0 {
		c.UpdateInterval = 30 * time.Second
	}
	return c
}

// FlowSeen reports a flow to the inventory.
type FlowSeen struct {
	// Time is the packet time of the event (the last packet's when it ends).
	Time time.Time
	// First, when set, is the flow's first packet time, so that one report
	// can cover a whole flow.
	First time.Time
	// Client opened the flow; Server is the other side.
	Client, Server Endpoint
	// Transport is protocols.TCP or protocols.UDP.
	Transport  protocols.Transport
	ServerPort uint16
	// Protocol is the detected application protocol, "" while unknown.
	Protocol string
	// Answered says the server answered (SYN-ACK for TCP, a reply datagram for
	// UDP): the port is then a service of Server.
	Answered bool
	VLAN     uint16
}

// Stats counts what the inventory holds and what it dropped over its caps.
type Stats struct {
	Assets     int
	ByCategory map[string]int
	Medical    int
	NonMedical int
	// Endpoints is the size of the endpoint table.
	Endpoints int
	// Drop events over caps.
	EndpointsDropped uint64
	AssetsDropped    uint64
	EvidenceDropped  uint64
	PeersDropped     uint64
	ServicesDropped  uint64
	HostnamesDropped uint64
	IPsDropped       uint64
}

// epKey names an endpoint: a unicast MAC and/or a unicast IP.
type epKey struct {
	mac protocols.MAC
	ip  netip.Addr
}

// endpoint is what the inventory knows about one (MAC, IP) pair. Every slice
// is sorted and capped (see insertSorted).
//
// A call mostly finds its endpoint out of cache, so the fields are ordered
// by use, a 64-byte cache line at a time: every call reads the first line,
// Flow the second (peers), Observe the second (evidence) and often the
// third (facts).
type endpoint struct {
	first, last time.Time
	// dirty is the events generation in which the endpoint's asset was last
	// marked fresh: marking it again before the next Advance is a no-op.
	dirty uint64
	// offered has bit i set once the protocol name of index i (below 64,
	// see protocolID) was offered to protocols: offering it again changes
	// nothing, as the name is there or was refused or pushed out, and
	// would be refused again.
	offered uint64

	// carried and bound are the Inventory.groupGen in which the
	// endpoint's address was last carried and bound (see carryOnce).
	carried, bound uint64
	peers          []peer
	evidence       []evidence

	// facts are the distinct facts learned, for identity and the dicom and
	// hl7 sections; unlike evidence they carry no source or time, so that
	// a device's 120 proposed SOP classes do not crowd out the rest.
	facts []protocols.Fact
	// group and inGroup are inv.group of the endpoint's key, cached in
	// Inventory.groupGen groupedAt.
	groupedAt uint64
	inGroup   bool
	group     assetKey

	protocols []string
	hostnames []string
	services  []service
	vlans     []vlanSeen

	// The padding puts the table's item in the 384-byte size class, six
	// cache lines: the endpoint then starts a line (see TestEndpointLayout).
	_ [24]byte
}

// maxFacts caps the facts kept per endpoint.
const maxFacts = 512

// nameInfo is what a name service said about an address it does not carry
// itself (a DNS answer names a third host): kept apart from endpoints and
// merged into whichever asset holds the address when assets are built.
type nameInfo struct {
	hostnames []string
	evidence  []evidence
}

// maxNamedAddrs caps the addresses kept in the name table.
const maxNamedAddrs = 65536

// vlanSeen is an 802.1Q VLAN an endpoint was seen on, from when.
type vlanSeen struct {
	id    uint16
	first time.Time
}

func compareVLAN(a, b vlanSeen) int { return int(a.id) - int(b.id) }

// maxVLANs caps the VLANs kept per endpoint.
const maxVLANs = 8

type service struct {
	transport protocols.Transport
	port      uint16
	protocol  string // "" while unknown
	role      string
	first     time.Time
}

// peer is a peer of an endpoint, packed without pointers: peer sets are
// the largest sets, and the busiest (two offers per flow report). Packed,
// an entry takes 32 bytes instead of 72, moving entries costs no write
// barriers and the garbage collector never scans the sets.
type peer struct {
	ip        [16]byte // the key's IP as 16 bytes (see ipBits)
	mac       protocols.MAC
	ipBits    uint8 // the IP's BitLen: 0 (none), 32 or 128
	transport protocols.Transport
	port      uint16 // the server port of the flow
	protocol  uint16 // index in Inventory.protocols; 0 is "" (unknown)
	server    bool   // the peer is the server of the flow (role "server")
}

// key returns the endpoint key of the peer.
func (p *peer) key() epKey {
	k := epKey{mac: p.mac}
	switch p.ipBits {
	case 32:
		k.ip = netip.AddrFrom4([4]byte(p.ip[12:]))
	case 128:
		k.ip = netip.AddrFrom16(p.ip)
	}
	return k
}

// newPeer packs a peer at k.
func newPeer(k epKey, transport protocols.Transport, port, protocol uint16, server bool) peer {
	return peer{ip: k.ip.As16(), mac: k.mac, ipBits: uint8(k.ip.BitLen()), transport: transport, port: port, protocol: protocol, server: server}
}

// protocolID returns the index of name in the inventory's protocol names,
// adding it, or false when the table is full. Names come from the decoder
// list, so the table stays small.
func (inv *Inventory) protocolID(name string) (uint16, bool) {
	if name == "" {
		return 0, true
	}
	if name == inv.lastProtocol {
		return inv.lastProtocolID, true
	}
	if id, ok := inv.protocolIDs[name]; ok {
		inv.lastProtocol, inv.lastProtocolID = name, id
		return id, true
	}
	if len(inv.protocolNames) >= math.MaxUint16 { // MaxUint16 marks "none"
		return 0, false
	}
	id := uint16(len(inv.protocolNames))
	inv.protocolNames = append(inv.protocolNames, name)
	inv.protocolIDs[name] = id
	return id, true
}

type evidence struct {
	source, fact, value string
	first               time.Time
}

// macInfo is what decides whether a MAC is a router.
type macInfo struct {
	carried []netip.Addr // smallest IPv4 addresses carried by the MAC
	bound   []netip.Addr // addresses strongly bound to it (ARP, DHCP ACK)
	router  bool
}

// Inventory is the asset inventory. It is safe for concurrent use.
type Inventory struct {
	cfg  Config
	emit func(Event)

	mu        sync.Mutex
	endpoints *table[epKey, endpoint]
	macs      *table[protocols.MAC, macInfo]
	// groupGen counts, from 1, the changes that may regroup endpoints into
	// other assets: a MAC pushed out of macs, a router found or lost, an
	// address bound to a router (see regroup).
	groupGen uint64
	// Indexes from an address to the endpoints holding it, to build one
	// asset without scanning the table.
	byMAC map[protocols.MAC][]netip.Addr
	byIP  map[netip.Addr][]protocols.MAC
	names map[netip.Addr]*nameInfo
	// protocolNames are the protocol names of peers, by the index a peer
	// holds ("" first); protocolIDs is the reverse.
	protocolNames []string
	protocolIDs   map[string]uint16
	// nets4 and nets6 are cfg.InternalNets split for internal.
	nets4 []net4
	nets6 []netip.Prefix
	// lastProtocol is the name protocolID last found, of index
	// lastProtocolID: names repeat, and are mostly the same string.
	lastProtocol   string
	lastProtocolID uint16
	// build holds the caches and scratch space of building assets.
	build buildCtx
	stats Stats
	ev    events

	// emitMu serialises Advance and Flush so that events reach emit in
	// order while Flow and Observe go on.
	emitMu sync.Mutex
}

// New returns an empty inventory. emit receives the events of Advance and
// Flush, outside the inventory's lock but one at a time; it may call Assets
// and Stats but not Advance or Flush. emit may be nil.
func New(cfg Config, emit func(Event)) *Inventory {
	cfg = cfg.withDefaults()
	inv := &Inventory{
		cfg:       cfg,
		emit:      emit,
		endpoints: newTable[epKey, endpoint](cfg.MaxEndpoints, nil),
		macs:      newTable[protocols.MAC, macInfo](cfg.MaxEndpoints, compareMAC),
		byMAC:     make(map[protocols.MAC][]netip.Addr),
		byIP:      make(map[netip.Addr][]protocols.MAC),
		names:     make(map[netip.Addr]*nameInfo),

		groupGen:      1,
		protocolNames: []string{""},
		protocolIDs:   make(map[string]uint16),
	}
	inv.nets4, inv.nets6 = splitNets(cfg.InternalNets)
	inv.endpoints.heap.cmp = inv.compareEndpoints
	inv.ev.init()
	inv.build = buildCtx{inv: inv, ids: make(map[assetKey]string), times: make(map[int64]string)}
	return inv
}

// internal reports whether ip is in one of the site's networks. Every
// endpoint comparison of the table's heap asks it twice: an IPv4 address is
// matched against the IPv4 networks as numbers, a few instructions each
// where Prefix.Contains is a call.
func (inv *Inventory) internal(ip netip.Addr) bool {
	if ip.Is4() {
		a4 := ip.As4()
		a := binary.BigEndian.Uint32(a4[:])
		for _, n := range inv.nets4 {
			if (a^n.addr)&n.mask == 0 {
				return true
			}
		}
		return false
	}
	for _, p := range inv.nets6 {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// net4 is an IPv4 network as numbers: an address is in it when its bits
// under mask are those of addr.
type net4 struct{ addr, mask uint32 }

// splitNets splits the site's networks into IPv4 networks, as numbers, and
// the others, which alone can hold an address that is not IPv4.
func splitNets(nets []netip.Prefix) (v4 []net4, others []netip.Prefix) {
	for _, p := range nets {
		if !p.IsValid() {
			continue // contains nothing
		}
		if !p.Addr().Is4() {
			others = append(others, p)
			continue
		}
		a4 := p.Addr().As4()
		v4 = append(v4, net4{addr: binary.BigEndian.Uint32(a4[:]), mask: ^uint32(0) << (32 - p.Bits())})
	}
	return v4, others
}

// compareEndpoints orders endpoint keys for the table's cap: endpoints with
// an external IP come last (they are pushed out first), then by MAC and IP.
func (inv *Inventory) compareEndpoints(a, b epKey) int {
	ea := a.ip.IsValid() && !inv.internal(a.ip)
	eb := b.ip.IsValid() && !inv.internal(b.ip)
	if ea != eb {
		if ea {
			return 1
		}
		return -1
	}
	return compareKeys(a, b)
}

func compareKeys(a, b epKey) int {
	if c := compareMAC(a.mac, b.mac); c != 0 {
		return c
	}
	return a.ip.Compare(b.ip)
}

func compareMAC(a, b protocols.MAC) int { return cmp.Compare(macBits(a), macBits(b)) }

// macBits is a MAC as a number: comparing numbers orders MACs as bytes.
func macBits(m protocols.MAC) uint64 {
	return uint64(m[0])<<40 | uint64(m[1])<<32 | uint64(m[2])<<24 | uint64(m[3])<<16 | uint64(m[4])<<8 | uint64(m[5])
}

// normalize returns the key of e, or false when e can never be an asset:
// group MACs, and IPs that are unspecified, multicast or the limited
// broadcast, are dropped; an endpoint left with neither address is none.
func normalize(mac protocols.MAC, ip netip.Addr) (epKey, bool) {
	if mac.IsMulticast() {
		return epKey{}, false
	}
	ip = ip.Unmap().WithZone("")
	if !ip.IsValid() || ip.IsUnspecified() || ip.IsMulticast() || ip == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		ip = netip.Addr{}
	}
	k := epKey{mac: mac, ip: ip}
	return k, !mac.IsZero() || ip.IsValid()
}

// touch returns the endpoint of k, creating it, and updates its times. It
// returns nil when the table is full of smaller keys.
func (inv *Inventory) touch(k epKey, ts time.Time) *endpoint { return inv.touchSpan(k, ts, ts) }

// touchSpan is touch for an endpoint seen from first to last.
func (inv *Inventory) touchSpan(k epKey, first, last time.Time) *endpoint {
	ep, evicted, dropped := inv.endpoints.add(k)
	if dropped {
		inv.stats.EndpointsDropped++
		if ep != nil {
			// The evicted endpoint's asset lost its part. Peers naming it
			// are unaffected: a peer's ID depends on its key alone.
			inv.unindex(evicted)
			inv.markDirty(evicted)
		}
	}
	if ep == nil {
		return nil
	}
	inv.touched(k, ep, first, last)
	return ep
}

// touched is touchSpan for the endpoint ep found at k.
func (inv *Inventory) touched(k epKey, ep *endpoint, first, last time.Time) {
	if ep.first.IsZero() {
		inv.index(k)
		ep.first, ep.last = first, last
	}
	if first.Before(ep.first) {
		ep.first = first
	}
	if last.After(ep.last) {
		ep.last = last
	}
	if ep.dirty != inv.ev.gen {
		ep.dirty = inv.ev.gen
		inv.markEndpointDirty(k, ep)
	}
}

// index adds k to the address indexes; unindex removes it.
func (inv *Inventory) index(k epKey) {
	if !k.mac.IsZero() {
		inv.byMAC[k.mac], _, _ = insertSorted(inv.byMAC[k.mac], k.ip, netip.Addr.Compare, 1<<30)
	}
	if k.ip.IsValid() {
		inv.byIP[k.ip], _, _ = insertSorted(inv.byIP[k.ip], k.mac, compareMAC, 1<<30)
	}
}

func (inv *Inventory) unindex(k epKey) {
	remove := func(s []netip.Addr) []netip.Addr {
		if i, ok := slicesIndex(s, k.ip, netip.Addr.Compare); ok {
			return append(s[:i], s[i+1:]...)
		}
		return s
	}
	if !k.mac.IsZero() {
		if s := remove(inv.byMAC[k.mac]); len(s) > 0 {
			inv.byMAC[k.mac] = s
		} else {
			delete(inv.byMAC, k.mac)
		}
	}
	if k.ip.IsValid() {
		s := inv.byIP[k.ip]
		if i, ok := slicesIndex(s, k.mac, compareMAC); ok {
			s = append(s[:i], s[i+1:]...)
		}
		if len(s) > 0 {
			inv.byIP[k.ip] = s
		} else {
			delete(inv.byIP, k.ip)
		}
	}
}

// carry records that mac carried the IPv4 address ip on the wire. It
// reports false when the MAC table refused the MAC.
func (inv *Inventory) carry(k epKey) bool {
	if k.mac.IsZero() || !k.ip.Is4() {
		return true
	}
	mi, _, dropped := inv.macs.add(k.mac)
	if mi == nil {
		return false
	}
	if dropped {
		inv.regroup() // the MAC pushed out lost its addresses
	}
	var added bool
	mi.carried, added = addAddr(mi.carried, k.ip, inv.cfg.RouterMinIPs+1+inv.cfg.MaxIPs)
	if added {
		inv.updateRouter(mi)
	}
	return true
}

// carryOnce is carry for the endpoint ep at k, skipped when ep was carried
// since a MAC was last pushed out of the MAC table (which regroups): its
// address is then in its MAC's carried set, or was refused or pushed out
// and would be again.
func (inv *Inventory) carryOnce(k epKey, ep *endpoint) {
	if ep.carried == inv.groupGen {
		return
	}
	if inv.carry(k) {
		ep.carried = inv.groupGen
	}
}

// bind records a strong binding of ip to mac (ARP, DHCP ACK). It reports
// false when the MAC table refused the MAC.
func (inv *Inventory) bind(k epKey) bool {
	mi, _, dropped := inv.macs.add(k.mac)
	if mi == nil {
		return false
	}
	if dropped {
		inv.regroup()
	}
	var added bool
	mi.bound, added = addAddr(mi.bound, k.ip, inv.cfg.MaxIPs)
	if added {
		inv.markUrgent(k) // a new MAC/IP pairing is an identity change
		if mi.router {
			inv.regroup() // an ip: asset folds into the router's
		}
		inv.updateRouter(mi)
	}
	return true
}

// bindOnce is bind for the endpoint ep at k, skipped like carryOnce when
// ep was bound since a MAC was last pushed out of the MAC table.
func (inv *Inventory) bindOnce(k epKey, ep *endpoint) {
	if ep.bound == inv.groupGen {
		return
	}
	if inv.bind(k) {
		ep.bound = inv.groupGen
	}
}

// addAddr offers ip to the capped set s and reports whether s changed.
func addAddr(s []netip.Addr, ip netip.Addr, max int) ([]netip.Addr, bool) {
	n := len(s)
	s, i, dropped := insertSorted(s, ip, netip.Addr.Compare, max)
	return s, i >= 0 && (dropped || len(s) != n)
}

// updateRouter recomputes whether mi is a router; a change regroups
// endpoints, so every asset is rebuilt at the next Advance.
func (inv *Inventory) updateRouter(mi *macInfo) {
	n := 0
	for _, ip := range mi.carried {
		if _, ok := slicesIndex(mi.bound, ip, netip.Addr.Compare); !ok {
			n++
		}
	}
	if r := n > inv.cfg.RouterMinIPs; r != mi.router {
		mi.router = r
		inv.regroup()
	}
}

// regroup notes a change that may move endpoints to other assets: every
// asset is reconsidered at the next Advance, and the groups cached in
// endpoints are stale.
func (inv *Inventory) regroup() {
	inv.ev.allDirty = true
	inv.groupGen++
}

// Flow records a flow event: the endpoints, their peer relation, the
// detected protocol and, once the server answered, the service.
func (inv *Inventory) Flow(f FlowSeen) {
	ck, cok := normalize(f.Client.MAC, f.Client.IP)
	sk, sok := normalize(f.Server.MAC, f.Server.IP)
	first := f.Time
	if !f.First.IsZero() && f.First.Before(first) {
		first = f.First
	}
	inv.mu.Lock()
	defer inv.mu.Unlock()
	proto, protoOK := inv.protocolID(f.Protocol)
	if !protoOK {
		proto = math.MaxUint16 // no bit in endpoint.offered; peers refused
	}
	// Both endpoints are looked up, and touched when both are there, before
	// working on either: each is mostly out of cache, and the misses then
	// overlap. With both there, touching one cannot push the other out.
	var cep, sep *endpoint
	if cok {
		cep = inv.endpoints.get(ck)
	}
	if sok {
		sep = inv.endpoints.get(sk)
	}
	found := (cep != nil || !cok) && (sep != nil || !sok)
	if found {
		if cok {
			inv.touched(ck, cep, first, f.Time)
		}
		if sok {
			inv.touched(sk, sep, first, f.Time)
		}
	}
	if cok {
		ep := cep
		if !found {
			ep = inv.touchSpan(ck, first, f.Time)
		}
		if ep == nil {
			inv.carry(ck)
		} else {
			inv.carryOnce(ck, ep)
			inv.addProtocol(ep, f.Protocol, proto)
			inv.addVLAN(ep, f.VLAN, f.Time)
			if sok {
				inv.addPeer(ep, newPeer(sk, f.Transport, f.ServerPort, proto, true), protoOK)
			}
		}
	}
	if sok {
		ep := sep
		if !found {
			ep = inv.touchSpan(sk, first, f.Time)
		}
		if ep == nil {
			inv.carry(sk)
		} else {
			inv.carryOnce(sk, ep)
			inv.addProtocol(ep, f.Protocol, proto)
			inv.addVLAN(ep, f.VLAN, f.Time)
			if cok {
				inv.addPeer(ep, newPeer(ck, f.Transport, f.ServerPort, proto, false), protoOK)
			}
			if f.Answered {
				inv.addService(ep, service{transport: f.Transport, port: f.ServerPort, protocol: f.Protocol, role: "server", first: first})
			}
		}
	}
}

// Observe records what a decoder learned from one message between sender
// and receiver. o.About picks the endpoint the facts are about; o.MAC, when
// set, names the device instead of the frame's addresses (with o.IP, which
// is then strongly bound to it); o.IP alone replaces the frame's IP.
func (inv *Inventory) Observe(ts time.Time, sender, receiver Endpoint, o protocols.Observation) {
	e := sender
	if o.About == protocols.Receiver {
		e = receiver
	}
	if o.MAC.IsZero() && o.IP.IsValid() && o.IP != e.IP {
		inv.name(ts, o)
		return
	}
	mac, ip := e.MAC, e.IP
	if !o.MAC.IsZero() {
		mac, ip = o.MAC, o.IP
	} else if o.IP.IsValid() {
		ip = o.IP
	}
	k, ok := normalize(mac, ip)
	if !ok {
		return
	}
	inv.mu.Lock()
	defer inv.mu.Unlock()
	// o binds its addresses, or the frame's source addresses were carried.
	// The endpoint is touched first, to hold the marks of carryOnce and
	// bindOnce.
	bind := !o.MAC.IsZero() && k.ip.IsValid()
	carry := !bind && o.About == protocols.Sender && o.MAC.IsZero()
	ep := inv.touch(k, ts)
	if ep == nil {
		if bind {
			inv.bind(k)
		} else if carry {
			inv.carry(k)
		}
		return
	}
	if bind {
		inv.bindOnce(k, ep)
	} else if carry {
		inv.carryOnce(k, ep)
	}
	proto, ok := inv.protocolID(o.Protocol)
	if !ok {
		proto = math.MaxUint16
	}
	inv.addProtocol(ep, o.Protocol, proto)
	if o.Hostname != "" && len(o.Hostname) <= maxName {
		n := len(ep.hostnames)
		var i int
		var dropped bool
		ep.hostnames, i, dropped = insertSorted(ep.hostnames, o.Hostname, strings.Compare, inv.cfg.MaxHostnames)
		inv.count(&inv.stats.HostnamesDropped, dropped)
		if i >= 0 && (dropped || len(ep.hostnames) != n) {
			inv.markUrgent(k) // a new name is an identity change
		}
	}
	if o.Role == "server" && e.Port != 0 && (e.Transport == protocols.TCP || e.Transport == protocols.UDP) {
		inv.addService(ep, service{transport: e.Transport, port: e.Port, protocol: o.Protocol, role: "server", first: ts})
	}
	for _, f := range o.Facts {
		if f.Name == "" || len(f.Value) > maxName || len(o.Source) > maxName || len(f.Name) > maxName {
			continue
		}
		if !inv.addEvidence(ep, o.Source, f.Name, f.Value, ts) {
			// When the evidence was there, so is the fact or it was pushed
			// out, and then it would be refused again: nothing to do.
			addFact(ep, f)
		}
	}
}

// name records what a name service said about an address that is neither
// end of the flow: a DNS answer, a PTR record.
func (inv *Inventory) name(ts time.Time, o protocols.Observation) {
	if o.Hostname == "" && len(o.Facts) == 0 {
		return
	}
	inv.mu.Lock()
	defer inv.mu.Unlock()
	n := inv.names[o.IP]
	if n == nil {
		if len(inv.names) >= maxNamedAddrs {
			return
		}
		n = &nameInfo{}
		inv.names[o.IP] = n
	}
	if o.Hostname != "" && len(o.Hostname) <= maxName {
		n.hostnames, _, _ = insertSorted(n.hostnames, o.Hostname, strings.Compare, inv.cfg.MaxHostnames)
	}
	for _, f := range o.Facts {
		if len(f.Value) <= maxName && len(f.Name) <= maxName && len(o.Source) <= maxName {
			e := evidence{source: o.Source, fact: f.Name, value: f.Value, first: ts}
			var i int
			n.evidence, i, _ = insertSorted(n.evidence, e, compareEvidence, 8)
			if i >= 0 && ts.Before(n.evidence[i].first) {
				n.evidence[i].first = ts
			}
		}
	}
	for _, mac := range inv.byIP[o.IP] {
		inv.markDirty(epKey{mac: mac, ip: o.IP})
	}
}

func (inv *Inventory) count(c *uint64, dropped bool) {
	if dropped {
		*c++
	}
}

// addProtocol offers name, of index id in the protocol names, to the
// endpoint's protocol set.
func (inv *Inventory) addProtocol(ep *endpoint, name string, id uint16) {
	if name == "" {
		return
	}
	bit := uint64(1) << (id & 63)
	if id < 64 && ep.offered&bit != 0 {
		return
	}
	ep.protocols, _, _ = insertSorted(ep.protocols, name, strings.Compare, 64)
	if id < 64 {
		ep.offered |= bit
	}
}

// addVLAN records the 802.1Q VLAN an endpoint was seen on (its segment).
func (inv *Inventory) addVLAN(ep *endpoint, vlan uint16, ts time.Time) {
	if vlan == 0 {
		return
	}
	var i int
	ep.vlans, i, _ = insertSorted(ep.vlans, vlanSeen{id: vlan, first: ts}, compareVLAN, maxVLANs)
	if i >= 0 && ts.Before(ep.vlans[i].first) {
		ep.vlans[i].first = ts
	}
}

// addPeer offers p to the endpoint's capped peer set, as insertSorted
// would, searching by pointer. ok false says p's protocol name found no
// room in the table of names: p is refused.
//
// addPeer, addService, addEvidence and addFact spell the same search out
// on purpose: one generic search by pointer would pass the offered element
// to its comparison through a func value, which makes it escape, and costs
// three allocations and twice the time per Observe or Flow.
func (inv *Inventory) addPeer(ep *endpoint, p peer, ok bool) {
	if !ok {
		inv.stats.PeersDropped++
		return
	}
	s, max := ep.peers, inv.cfg.MaxPeers
	lo, hi := 0, len(s)
	if hi > 0 && inv.comparePeer(&s[hi-1], &p) < 0 {
		lo = hi // past the largest: the common case of a new peer of a full set
	}
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		c := inv.comparePeer(&s[m], &p)
		if c == 0 {
			return
		}
		if c < 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	switch {
	case max <= 0 || len(s) >= max && lo >= len(s):
		inv.stats.PeersDropped++
		return
	case len(s) >= max:
		s = slices.Insert(s[:len(s)-1], lo, p) // push out the largest
		inv.stats.PeersDropped++
	default:
		s = insertAt(s, lo, p)
	}
	ep.peers = s
}

// addService offers v to the endpoint's capped service set, as
// insertSorted would, keeping the earliest first sighting. Like addPeer it
// searches by pointer: a service is 56 bytes, which the generic search
// copied twice at every comparison.
func (inv *Inventory) addService(ep *endpoint, v service) {
	s, max := ep.services, inv.cfg.MaxServices
	lo, hi := 0, len(s)
	if hi > 0 && compareServiceTo(&s[hi-1], &v) < 0 {
		lo = hi // past the largest
	}
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		c := compareServiceTo(&s[m], &v)
		if c == 0 {
			if v.first.Before(s[m].first) {
				s[m].first = v.first
			}
			return
		}
		if c < 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	switch {
	case max <= 0 || len(s) >= max && lo >= len(s):
		inv.stats.ServicesDropped++
		return
	case len(s) >= max:
		s = slices.Insert(s[:len(s)-1], lo, v) // push out the largest
		inv.stats.ServicesDropped++
	default:
		s = slices.Insert(s, lo, v)
	}
	ep.services = s
}

// addEvidence offers evidence {source, fact, value} first seen at ts to the
// endpoint's capped set, as insertSorted would, and reports whether it was
// there already. Like addPeer it searches by pointer: the evidence set is
// searched once per fact of every observation, and the generic search
// copied both elements at every comparison.
func (inv *Inventory) addEvidence(ep *endpoint, source, fact, value string, ts time.Time) bool {
	s, max := ep.evidence, inv.cfg.MaxEvidence
	lo, hi := 0, len(s)
	if hi > 0 && compareEvidenceTo(&s[hi-1], source, fact, value) < 0 {
		lo = hi // past the largest
	}
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		c := compareEvidenceTo(&s[m], source, fact, value)
		if c == 0 {
			if ts.Before(s[m].first) {
				s[m].first = ts
			}
			return true
		}
		if c < 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	e := evidence{source: source, fact: fact, value: value, first: ts}
	switch {
	case max <= 0 || len(s) >= max && lo >= len(s):
		inv.stats.EvidenceDropped++
		return false
	case len(s) >= max:
		s = slices.Insert(s[:len(s)-1], lo, e) // push out the largest
		inv.stats.EvidenceDropped++
	default:
		s = insertAt(s, lo, e)
	}
	ep.evidence = s
	return false
}

// compareEvidenceTo is compareEvidence of *a and {source, fact, value}.
func compareEvidenceTo(a *evidence, source, fact, value string) int {
	if c := strings.Compare(a.source, source); c != 0 {
		return c
	}
	if c := strings.Compare(a.fact, fact); c != 0 {
		return c
	}
	return strings.Compare(a.value, value)
}

// addFact offers f to the endpoint's capped fact set, as insertSorted
// would, searching by pointer.
func addFact(ep *endpoint, f protocols.Fact) {
	s := ep.facts
	lo, hi := 0, len(s)
	if hi > 0 && compareFactTo(&s[hi-1], &f) < 0 {
		lo = hi
	}
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		c := compareFactTo(&s[m], &f)
		if c == 0 {
			return
		}
		if c < 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	switch {
	case len(s) >= maxFacts && lo >= len(s):
		return
	case len(s) >= maxFacts:
		s = slices.Insert(s[:len(s)-1], lo, f)
	default:
		s = insertAt(s, lo, f)
	}
	ep.facts = s
}

func compareFactTo(a, b *protocols.Fact) int {
	if c := strings.Compare(a.Name, b.Name); c != 0 {
		return c
	}
	return strings.Compare(a.Value, b.Value)
}

// comparePeer orders peers by key (MAC, then IP), transport, port,
// protocol name and role.
func (inv *Inventory) comparePeer(a, b *peer) int {
	if a.mac != b.mac {
		return cmp.Compare(macBits(a.mac), macBits(b.mac))
	}
	if a.ipBits != b.ipBits {
		return cmp.Compare(a.ipBits, b.ipBits)
	}
	if a.ip != b.ip {
		if c := cmp.Compare(binary.BigEndian.Uint64(a.ip[:8]), binary.BigEndian.Uint64(b.ip[:8])); c != 0 {
			return c
		}
		return cmp.Compare(binary.BigEndian.Uint64(a.ip[8:]), binary.BigEndian.Uint64(b.ip[8:]))
	}
	if a.transport != b.transport {
		return int(a.transport) - int(b.transport)
	}
	if a.port != b.port {
		return int(a.port) - int(b.port)
	}
	if a.protocol != b.protocol {
		return strings.Compare(inv.protocolNames[a.protocol], inv.protocolNames[b.protocol])
	}
	if a.server != b.server {
		if a.server { // "server" > "client"
			return 1
		}
		return -1
	}
	return 0
}

func compareService(a, b service) int { return compareServiceTo(&a, &b) }

func compareServiceTo(a, b *service) int {
	if a.transport != b.transport {
		return int(a.transport) - int(b.transport)
	}
	if a.port != b.port {
		return int(a.port) - int(b.port)
	}
	if c := strings.Compare(a.protocol, b.protocol); c != 0 {
		return c
	}
	return strings.Compare(a.role, b.role)
}

func compareEvidence(a, b evidence) int {
	if c := strings.Compare(a.source, b.source); c != 0 {
		return c
	}
	if c := strings.Compare(a.fact, b.fact); c != 0 {
		return c
	}
	return strings.Compare(a.value, b.value)
}

// slicesIndex finds v in the sorted slice s.
func slicesIndex[T any](s []T, v T, cmp func(a, b T) int) (int, bool) {
	return slices.BinarySearchFunc(s, v, cmp)
}
