package inventory

import (
	"cmp"
	"encoding/binary"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/iomt-sensor/iomt-sensor/protocols"
)

// Schema is the schema name of Asset.
const Schema = "iomt.asset/v1"

// Asset is one device of the inventory, as published (SPEC.md, "Asset").
// Lists are sorted and never null; the identity fields, the dicom and hl7
// sections, owner and advisories are left empty here and filled by later
// stages (fingerprint, RACI, advisories).
type Asset struct {
	Schema     string     `json:"schema"`
	ID         string     `json:"id"`
	Sensor     string     `json:"sensor"`
	MAC        string     `json:"mac,omitempty"`
	IPs        []string   `json:"ips"`
	Hostnames  []string   `json:"hostnames"`
	Vendor     string     `json:"vendor,omitempty"`
	Model      string     `json:"model,omitempty"`
	Serial     string     `json:"serial,omitempty"`
	Firmware   string     `json:"firmware,omitempty"`
	OS         string     `json:"os,omitempty"`
	Category   string     `json:"category"`
	Confidence float64    `json:"confidence"`
	Medical    bool       `json:"medical"`
	Protocols  []string   `json:"protocols"`
	Services   []Service  `json:"services"`
	DICOM      *DICOM     `json:"dicom,omitempty"`
	HL7        *HL7       `json:"hl7,omitempty"`
	Peers      []Peer     `json:"peers"`
	Evidence   []Evidence `json:"evidence"`
	Owner      *Owner     `json:"owner,omitempty"`
	Advisories []Advisory `json:"advisories,omitempty"`
	Risk       float64    `json:"risk"`
	FirstSeen  string     `json:"first_seen"` // RFC 3339, UTC, packet time
	LastSeen   string     `json:"last_seen"`
}

// Service is a port on which the asset answered.
type Service struct {
	Transport string `json:"transport"`
	Port      uint16 `json:"port"`
	Protocol  string `json:"protocol,omitempty"`
	Role      string `json:"role"`
}

// Peer is an asset or external address this asset talked to. Role is the
// peer's role: "server" when this asset opened the flow, "client" otherwise.
type Peer struct {
	Asset    string `json:"asset"`
	Protocol string `json:"protocol"`
	Role     string `json:"role"`
}

// Evidence is one fact learned about the asset, with the packet time it was
// first seen.
type Evidence struct {
	Source string `json:"source"`
	Fact   string `json:"fact"`
	Value  string `json:"value"`
	Time   string `json:"time"`
}

// DICOM is the DICOM section of an asset.
type DICOM struct {
	AETitles               []string `json:"ae_titles,omitempty"`
	ImplementationClassUID string   `json:"implementation_class_uid,omitempty"`
	ImplementationVersion  string   `json:"implementation_version,omitempty"`
	Modalities             []string `json:"modalities,omitempty"`
	SOPClasses             []string `json:"sop_classes,omitempty"`
}

// HL7 is the HL7 v2 section of an asset.
type HL7 struct {
	Applications []string `json:"applications,omitempty"`
	Facilities   []string `json:"facilities,omitempty"`
	MessageTypes []string `json:"message_types,omitempty"`
	Versions     []string `json:"versions,omitempty"`
}

// Owner says who is responsible for the asset (RACI).
type Owner struct {
	Responsible string   `json:"responsible,omitempty"`
	Accountable string   `json:"accountable,omitempty"`
	Consulted   []string `json:"consulted,omitempty"`
	Informed    []string `json:"informed,omitempty"`
}

// Advisory is a known vulnerability matched to the asset.
type Advisory struct {
	ID       string `json:"id"`
	Severity string `json:"severity"`
	Source   string `json:"source"`
}

// assetKey names an asset without allocating: mac set for "mac:<mac>",
// else ip for "ip:<ip>".
type assetKey struct {
	mac protocols.MAC
	ip  netip.Addr
}

func (a assetKey) String() string {
	if !a.mac.IsZero() {
		return "mac:" + a.mac.String()
	}
	return "ip:" + a.ip.String()
}

// group returns the asset an endpoint belongs to, or false when it belongs
// to none (an external host behind a router, or without a MAC).
func (inv *Inventory) group(k epKey) (assetKey, bool) {
	if !k.mac.IsZero() {
		if !k.ip.IsValid() {
			return assetKey{mac: k.mac}, true
		}
		mi := inv.macs.get(k.mac)
		if mi == nil || !mi.router {
			return assetKey{mac: k.mac}, true
		}
		if _, bound := slicesIndex(mi.bound, k.ip, netip.Addr.Compare); bound {
			return assetKey{mac: k.mac}, true
		}
	}
	if inv.internal(k.ip) {
		return assetKey{ip: k.ip}, true
	}
	return assetKey{}, false
}

// peerID names the peer at k: its asset, or "ip:<ip>" for an external host.
func (inv *Inventory) peerID(k epKey) (string, bool) { return inv.build.peerID(k) }

// peerName is the ID of a peer, with what sorting and risk need of it.
type peerName struct {
	id string
	// rank orders IDs as strings do, mostly without reading them: a
	// "mac:" ID ranks macRank<<56 | its MAC, exact; an "ip:" ID ranks
	// by the first 8 bytes of the address text (below 0x80 each), equal
	// ranks then compare the strings.
	rank uint64
	// rank4, for the ID of an IPv4 address, orders it among those whose
	// rank is equal, exactly (see rank4); 0 for others.
	rank4 uint64
	// gen is the Inventory.groupGen the name was found in.
	gen uint64
	// ok is peerID's; ext says the ID is an address outside the site's
	// networks.
	ok, ext bool
}

// macRank is the top byte of the rank of "mac:" IDs.
const macRank = 0xff

// namePeer computes the peerName of k.
func (c *buildCtx) namePeer(k epKey) peerName {
	n := peerName{gen: c.inv.groupGen}
	a, grouped, ok := c.inv.peerKey(k)
	if !ok {
		return n
	}
	n.ext = !grouped // not grouped: outside the site's networks
	n.id, n.ok = c.id(a), true
	if !a.mac.IsZero() {
		n.rank = macRank<<56 | macBits(a.mac)
		return n
	}
	var w [8]byte
	copy(w[:], n.id[len("ip:"):])
	n.rank = binary.BigEndian.Uint64(w[:])
	if a.ip.Is4() {
		n.rank4 = rank4(n.id[len("ip:"):])
	}
	return n
}

// rank4 orders IPv4 address texts as strings, exactly: a text of at most
// 15 symbols, each '.' or a digit, read as a number in base 12 where 0
// stands for past the end, 1 for '.' and 2 to 11 for the digits.
func rank4(s string) uint64 {
	var r uint64
	for i := range 15 {
		d := uint64(0)
		if i < len(s) {
			d = 1
			if s[i] != '.' {
				d = uint64(s[i]-'0') + 2
			}
		}
		r = r*12 + d
	}
	return r
}

// peerKey is the key of a peer as the peer packs it: hashed as bytes, and
// without making a netip.Addr.
type peerKey struct {
	ip     [16]byte
	mac    protocols.MAC
	ipBits uint8
}

// peerName returns namePeer of p's key k, cached until endpoints regroup.
func (c *buildCtx) peerName(k peerKey, p *peer) peerName {
	gen := c.inv.groupGen
	if c.parent != nil {
		if n, ok := c.parent.names[k]; ok && n.gen == gen {
			return n
		}
	}
	if n, ok := c.names[k]; ok && n.gen == gen {
		return n
	}
	if c.names == nil || len(c.names) >= maxIDs {
		c.names = make(map[peerKey]peerName)
	}
	n := c.namePeer(p.key())
	c.names[k] = n
	return n
}

func (c *buildCtx) peerID(k epKey) (string, bool) {
	if a, _, ok := c.inv.peerKey(k); ok {
		return c.id(a), true
	}
	return "", false
}

// peerKey names the peer at k: its asset (grouped), or its address alone
// for an external host; false when it has neither.
func (inv *Inventory) peerKey(k epKey) (a assetKey, grouped, ok bool) {
	if a, ok := inv.group(k); ok {
		return a, true, true
	}
	if k.ip.IsValid() {
		return assetKey{ip: k.ip}, false, true
	}
	return assetKey{}, false, false
}

// builder gathers the endpoints of one asset.
type builder struct {
	key         assetKey
	first, last time.Time
	ips         []netip.Addr
	hostnames   []string
	protocols   []string
	services    []service
	peers       []peer
	// evidence holds runs sorted by compareEvidence, each distinct: the
	// endpoints' evidence sets, shared. extra is the evidence in no order.
	evidence [][]evidence
	extra    []evidence
	vlans    []uint16
	// factRuns are the endpoints' fact sets, each sorted and distinct.
	factRuns [][]protocols.Fact
	// external says a peer of the asset is an external host (see peers).
	external bool
	// derived is evidence the sensor concluded (OUI vendor, matched
	// rules), sorted and distinct, shared with the identity cache: few,
	// bounded by the rule set, kept out of the cap, and first seen when
	// the asset was.
	derived []evidence
	// Backing arrays of ips, evidence and factRuns for the usual asset of
	// one or two endpoints (evidence gets extra as a third run).
	ipsBuf      [2]netip.Addr
	evidenceBuf [3][]evidence
	factRunsBuf [2][]protocols.Fact
}

// newBuilder returns an empty builder of asset a in *b.
func newBuilder(b *builder, a assetKey) *builder {
	b.key = a
	b.ips, b.evidence, b.factRuns = b.ipsBuf[:0], b.evidenceBuf[:0], b.factRunsBuf[:0]
	return b
}

// builderChunk is how many builders buildAll allocates at once.
const builderChunk = 64

func (b *builder) add(k epKey, ep *endpoint) {
	if b.first.IsZero() || ep.first.Before(b.first) {
		b.first = ep.first
	}
	if ep.last.After(b.last) {
		b.last = ep.last
	}
	if k.ip.IsValid() {
		b.ips = append(b.ips, k.ip)
	}
	// Lists that asset only reads are shared with the first endpoint that
	// has any (clipped, so that an append copies); the others are copied.
	b.hostnames = appendShared(b.hostnames, ep.hostnames)
	b.protocols = appendShared(b.protocols, ep.protocols)
	b.services = append(b.services, ep.services...)
	b.peers = appendShared(b.peers, ep.peers)
	if len(ep.evidence) > 0 {
		b.evidence = append(b.evidence, ep.evidence)
	}
	if len(ep.facts) > 0 {
		b.factRuns = append(b.factRuns, ep.facts)
	}
	for _, v := range ep.vlans {
		b.vlans = append(b.vlans, v.id)
		b.extra = append(b.extra, evidence{source: "flow", fact: "vlan", value: strconv.Itoa(int(v.id)), first: v.first})
	}
}

// appendShared is append(dst, src...) that returns src itself, clipped,
// when dst is empty: the caller must only read the result or append to it.
func appendShared[T any](dst, src []T) []T {
	if len(dst) == 0 {
		return slices.Clip(src)
	}
	return append(dst, src...)
}

// buildAll groups every endpoint into assets, through the group cached
// in the endpoint (see Inventory.markEndpointDirty).
func (inv *Inventory) buildAll() map[assetKey]*builder {
	bs := make(map[assetKey]*builder)
	var slab []builder
	for k, it := range inv.endpoints.items {
		ep := &it.val
		if ep.groupedAt != inv.groupGen {
			ep.group, ep.inGroup = inv.group(k)
			ep.groupedAt = inv.groupGen
		}
		a, ok := ep.group, ep.inGroup
		if !ok {
			continue
		}
		b := bs[a]
		if b == nil {
			if len(slab) == 0 {
				slab = make([]builder, builderChunk)
			}
			b, slab = newBuilder(&slab[0], a), slab[1:]
			bs[a] = b
		}
		b.add(k, ep)
	}
	return bs
}

// buildOne gathers the endpoints of asset a through the address indexes.
func (inv *Inventory) buildOne(a assetKey) (*builder, bool) {
	b := newBuilder(new(builder), a)
	found := false
	try := func(k epKey) {
		if g, ok := inv.group(k); ok && g == a {
			if ep := inv.endpoints.get(k); ep != nil {
				b.add(k, ep)
				found = true
			}
		}
	}
	if !a.mac.IsZero() {
		for _, ip := range inv.byMAC[a.mac] {
			try(epKey{mac: a.mac, ip: ip})
		}
	} else {
		for _, mac := range inv.byIP[a.ip] {
			try(epKey{mac: mac, ip: a.ip})
		}
	}
	return b, found
}

// asset turns the gathered endpoints into the published Asset, in *a:
// merged, de-duplicated, sorted and capped, all as functions of the sets
// alone. It fills a in place (a zero Asset): an Asset is over 500 bytes of
// pointers, which returning and storing it would copy twice.
func (c *buildCtx) asset(a *Asset, b *builder) {
	inv := c.inv
	cfg := &inv.cfg
	a.Schema, a.ID, a.Sensor, a.Category = Schema, c.id(b.key), cfg.Sensor, "unknown"
	if !b.key.mac.IsZero() {
		a.MAC = a.ID[len("mac:"):]
		if mi := inv.macs.get(b.key.mac); mi != nil {
			b.ips = append(b.ips, mi.bound...)
		}
	}

	slices.SortFunc(b.ips, netip.Addr.Compare)
	b.ips = capped(slices.Compact(b.ips), cfg.MaxIPs)
	for _, ip := range b.ips { // what name services said of its addresses
		if n := inv.names[ip]; n != nil {
			b.hostnames = append(b.hostnames, n.hostnames...)
			b.extra = append(b.extra, n.evidence...)
		}
	}
	// The addresses, hostnames and protocols share one backing array.
	strs := make([]string, 0, len(b.ips)+len(b.hostnames)+len(b.protocols))
	for _, ip := range b.ips {
		strs = append(strs, c.id(assetKey{ip: ip})[len("ip:"):])
	}
	a.IPs = strs[:len(strs):len(strs)]
	a.Hostnames, strs = appendSorted(strs, b.hostnames, cfg.MaxHostnames)
	a.Protocols, _ = appendSorted(strs, b.protocols, 64)

	// Services: one per (transport, port, protocol, role) with its first
	// sighting; an entry without a protocol goes when the same port has one.
	slices.SortFunc(b.services, func(x, y service) int {
		return cmp.Or(compareService(x, y), x.first.Compare(y.first))
	})
	b.services = slices.CompactFunc(b.services, func(x, y service) bool { return compareService(x, y) == 0 })
	b.services = slices.DeleteFunc(b.services, func(s service) bool {
		return s.protocol == "" && slices.ContainsFunc(b.services, func(o service) bool {
			return o.protocol != "" && o.transport == s.transport && o.port == s.port && o.role == s.role
		})
	})
	b.services = capped(b.services, cfg.MaxServices)
	a.Services = make([]Service, len(b.services))
	for i, s := range b.services {
		a.Services[i] = Service{Transport: s.transport.String(), Port: s.port, Protocol: s.protocol, Role: s.role}
		// A confirmed service is evidence too.
		b.extra = append(b.extra, evidence{source: "flow", fact: "service",
			value: s.transport.String() + "/" + strconv.Itoa(int(s.port)), first: s.first})
	}

	a.Peers, b.external = c.peers(b, a.ID)
	c.identify(a, b)

	c.stamps.reset()
	first, last := c.stamps.add(b.first), c.stamps.add(b.last)
	a.Evidence = c.evidence(b, first)
	times := string(c.stamps.buf)
	a.FirstSeen, a.LastSeen = c.stamps.text(times, first), c.stamps.text(times, last)
	for i, k := range c.stamped {
		a.Evidence[i].Time = c.stamps.text(times, k)
	}
}

// stamps formats the times of one asset, RFC 3339 in UTC, into a single
// string: an asset shows a dozen distinct times, most of them several
// times over, and one string costs one allocation and a few cache lines
// where a cache of strings by time costs a map lookup per time.
type stamps struct {
	buf   []byte
	times []instant // the distinct times added
	ends  []int32   // where the text of each of times ends in buf
	// slots maps a hash of an instant to 1 + its index in times: a time
	// already added is found in one comparison, mostly.
	slots [32]int32
	// minute is the minute since 0000-01-01 of the last text that
	// appendTime wrote in full, at buf[minuteAt:]; minuteAt is -1 when
	// there is none. A time of the same minute copies its first 17 bytes.
	minute   int64
	minuteAt int
}

// instant is a time.Time reduced to what its text shows, compared at a
// fraction of the cost of Time.Equal.
type instant struct {
	sec  int64
	nsec int64
}

func (s *stamps) reset() {
	s.buf, s.times, s.ends = s.buf[:0], s.times[:0], s.ends[:0]
	clear(s.slots[:])
	s.minuteAt = -1
}

// add formats t unless it was added already (as far as a slot tells),
// and returns the index of its text.
func (s *stamps) add(t time.Time) int32 {
	in := instant{t.Unix(), int64(t.Nanosecond())}
	slot := &s.slots[(uint64(in.sec)*31+uint64(in.nsec))*0x9e3779b97f4a7c15>>59]
	if i := *slot - 1; i >= 0 && s.times[i] == in {
		return i
	}
	inRange := in.sec >= minTimeSec && in.sec < maxTimeSec
	if minute := (in.sec - minTimeSec) / 60; inRange && s.minuteAt >= 0 && minute == s.minute {
		s.buf = append(s.buf, s.buf[s.minuteAt:s.minuteAt+len("2006-01-02T15:04:")]...)
		s.buf = appendSecond(s.buf, uint32((in.sec-minTimeSec)%60), uint32(in.nsec))
	} else {
		s.minute, s.minuteAt = minute, len(s.buf)
		if !inRange {
			s.minuteAt = -1
		}
		s.buf = appendTime(s.buf, t, in)
	}
	s.times = append(s.times, in)
	s.ends = append(s.ends, int32(len(s.buf)))
	*slot = int32(len(s.times))
	return int32(len(s.times) - 1)
}

// Seconds since 1970 of the first and past the last time appendTime
// formats itself: years 0000 to 9999.
const (
	minTimeSec = -62167219200
	maxTimeSec = 253402300800
)

// appendTime appends t, at instant in, as t.UTC().AppendFormat(b,
// time.RFC3339Nano) does, at a fraction of the cost for years 0000 to
// 9999.
func appendTime(b []byte, t time.Time, in instant) []byte {
	if in.sec < minTimeSec || in.sec >= maxTimeSec {
		return t.UTC().AppendFormat(b, time.RFC3339Nano)
	}
	days := uint32((in.sec - minTimeSec) / 86400) // since 0000-01-01
	secs := uint32(in.sec - minTimeSec - int64(days)*86400)
	// The civil date of days since -0400-03-01, years starting in March
	// (Howard Hinnant's civil_from_days): 0000 is a leap year of 366
	// days, 60 of them before March.
	z := days + 146097 - 60
	era := z / 146097
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	day := doy - (153*mp+2)/5 + 1
	month, year := mp+3, yoe+era*400-400
	if month > 12 {
		month, year = month-12, year+1
	}
	hour, minute := secs/3600, secs/60%60
	b = append(b, pairs[year/100*2], pairs[year/100*2+1], pairs[year%100*2], pairs[year%100*2+1], '-',
		pairs[month*2], pairs[month*2+1], '-', pairs[day*2], pairs[day*2+1], 'T',
		pairs[hour*2], pairs[hour*2+1], ':', pairs[minute*2], pairs[minute*2+1], ':')
	return appendSecond(b, secs%60, uint32(in.nsec))
}

// appendSecond appends the end of an RFC 3339 text in UTC: the second,
// the fraction of nsec nanoseconds without trailing zeros, and "Z".
func appendSecond(b []byte, sec, nsec uint32) []byte {
	b = append(b, pairs[sec*2], pairs[sec*2+1])
	if ns := nsec; ns != 0 {
		d := [10]byte{'.', pairs[ns/1e7*2], pairs[ns/1e7*2+1], pairs[ns/1e5%100*2], pairs[ns/1e5%100*2+1],
			pairs[ns/1e3%100*2], pairs[ns/1e3%100*2+1], pairs[ns/10%100*2], pairs[ns/10%100*2+1], byte('0' + ns%10)}
		n := len(d)
		for d[n-1] == '0' {
			n--
		}
		b = append(b, d[:n]...)
	}
	return append(b, 'Z')
}

// pairs holds the two digits of every number below 100.
const pairs = "00010203040506070809101112131415161718192021222324252627282930313233343536373839" +
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879" +
	"8081828384858687888990919293949596979899"

// text returns the text of time i in all, the string of buf.
func (s *stamps) text(all string, i int32) string {
	start := int32(0)
	if i > 0 {
		start = s.ends[i-1]
	}
	return all[start:s.ends[i]]
}

// evidence merges the evidence of b in order, the earliest of equal
// entries first, and keeps the first of each, up to MaxEvidence; then
// the derived evidence, of b's first time, stamp first. The times are
// left to the caller: the time of entry i is stamp c.stamped[i] of
// c.stamps.
func (c *buildCtx) evidence(b *builder, first int32) []Evidence {
	// Sorted with the earliest of equal entries first, extra keeps that
	// one of each: every run is then distinct.
	slices.SortFunc(b.extra, func(x, y evidence) int { return compareEvidenceFirst(&x, &y) })
	b.extra = slices.CompactFunc(b.extra, func(x, y evidence) bool { return sameEvidence(&x, &y) })
	runs := b.evidence
	if len(b.extra) > 0 {
		runs = append(runs, b.extra)
	}
	n := 0
	for _, r := range runs {
		n += len(r)
	}
	out := make([]Evidence, 0, min(n, c.inv.cfg.MaxEvidence)+len(b.derived))
	c.stamped = c.stamped[:0]
	var last *evidence
	var lastTime time.Time
	var lastStamp int32
	add := func(e *evidence) {
		if last == nil || !e.first.Equal(lastTime) {
			lastTime, lastStamp = e.first, c.stamps.add(e.first)
		}
		out = append(out, Evidence{Source: e.source, Fact: e.fact, Value: e.value})
		c.stamped = append(c.stamped, lastStamp)
		last = e
	}
	max := c.inv.cfg.MaxEvidence
	if len(runs) > 4 { // many runs: one sort beats comparing run heads
		for e := range mergeRuns(runs, compareEvidenceFirst) {
			if len(out) == max {
				break
			}
			if last != nil && sameEvidence(last, e) {
				continue // a later sighting of the entry before
			}
			add(e)
		}
	} else {
		// Merge the heads of the runs until one is left, then take what
		// is left of it; only its first entry may repeat the one before.
		var buf [4][]evidence
		heads := slices.DeleteFunc(append(buf[:0], runs...), func(r []evidence) bool { return len(r) == 0 })
		for len(heads) > 1 && len(out) < max {
			best := 0
			for i := 1; i < len(heads); i++ {
				if compareEvidenceFirst(&heads[i][0], &heads[best][0]) < 0 {
					best = i
				}
			}
			e := &heads[best][0]
			if heads[best] = heads[best][1:]; len(heads[best]) == 0 {
				heads = append(heads[:best], heads[best+1:]...)
			}
			if last == nil || !sameEvidence(last, e) {
				add(e)
			}
		}
		if len(heads) == 1 {
			r := heads[0]
			if last != nil && sameEvidence(last, &r[0]) {
				r = r[1:]
			}
			for i := range r[:min(len(r), max-len(out))] {
				add(&r[i])
			}
		}
	}
	for i := range b.derived {
		e := &b.derived[i]
		out = append(out, Evidence{Source: e.source, Fact: e.fact, Value: e.value})
		c.stamped = append(c.stamped, first)
	}
	return out
}

// sameEvidence reports whether x and y are the same entry, times aside:
// compareEvidence(x, y) == 0, but string equality first compares lengths.
func sameEvidence(x, y *evidence) bool {
	return x.value == y.value && x.fact == y.fact && x.source == y.source
}

// compareEvidenceFirst orders evidence by compareEvidence, then by time.
func compareEvidenceFirst(x, y *evidence) int {
	if c := compareEvidenceTo(x, y.source, y.fact, y.value); c != 0 {
		return c
	}
	return x.first.Compare(y.first)
}

// namedPeer is a peer with the index of its name in buildCtx.pnames. It
// holds no pointers: filling and sorting the scratch space costs no write
// barriers.
type namedPeer struct {
	rank      uint64 // see peerName.rank
	rank4     uint64 // see peerName.rank4
	name      int32
	transport protocols.Transport
	port      uint16
	protocol  uint16 // index in Inventory.protocolNames
	server    bool   // role "server"
	// unnamed says protocol 0 ("") is shown as the transport's name.
	unnamed bool
}

// compareID orders named peers by ID, through their ranks.
func (c *buildCtx) compareID(x, y *namedPeer) int {
	if x.rank != y.rank {
		return cmp.Compare(x.rank, y.rank)
	}
	if x.rank>>56 == macRank || x.name == y.name {
		return 0 // the rank of a "mac:" ID is the MAC itself
	}
	if x.rank4 != 0 && y.rank4 != 0 {
		return cmp.Compare(x.rank4, y.rank4)
	}
	return strings.Compare(c.pnames[x.name].id, c.pnames[y.name].id)
}

// compareRole orders roles as strings: "client" before "server".
func compareRole(x, y *namedPeer) int {
	if x.server == y.server {
		return 0
	}
	if x.server {
		return 1
	}
	return -1
}

// protocolName is the peer's protocol as shown.
func (c *buildCtx) protocolName(n *namedPeer) string {
	if n.unnamed {
		return n.transport.String()
	}
	return c.inv.protocolNames[n.protocol]
}

// comparePeerPort orders named peers by (id, transport, port, role).
func (c *buildCtx) comparePeerPort(x, y *namedPeer) int {
	if c := c.compareID(x, y); c != 0 {
		return c
	}
	if x.transport != y.transport {
		return cmp.Compare(x.transport, y.transport)
	}
	if x.port != y.port {
		return cmp.Compare(x.port, y.port)
	}
	return compareRole(x, y)
}

// peers names the peers of b, whose ID is self. A peer seen both before
// and after its protocol was detected keeps only the detected protocol
// for that port. It also reports whether a peer kept is an external host
// (the "ip:" ID of an address outside the site's networks).
func (c *buildCtx) peers(b *builder, self string) ([]Peer, bool) {
	inv := c.inv
	ns, names := c.named[:0], c.pnames[:0]
	var last peerKey
	for i := range b.peers {
		p := &b.peers[i]
		// Peers come sorted by key per endpoint: a key's ports follow it.
		if k := (peerKey{p.ip, p.mac, p.ipBits}); len(names) == 0 || k != last {
			last = k
			names = append(names, c.peerName(k, p))
		}
		n := &names[len(names)-1]
		if !n.ok || n.id == self {
			continue
		}
		ns = append(ns, namedPeer{rank: n.rank, rank4: n.rank4, name: int32(len(names) - 1), transport: p.transport, port: p.port, protocol: p.protocol, server: p.server})
	}
	c.pnames = names
	// Sort so that, per (id, transport, port, role), named protocols come
	// last; then drop an unnamed entry followed by a named one of the same
	// port, and name the others' protocol after their transport.
	slices.SortFunc(ns, func(x, y namedPeer) int {
		if c := c.comparePeerPort(&x, &y); c != 0 {
			return c
		}
		if x.protocol == y.protocol {
			return 0
		}
		return strings.Compare(inv.protocolNames[x.protocol], inv.protocolNames[y.protocol])
	})
	kept := ns[:0]
	for k := range ns {
		n := ns[k]
		if n.protocol == 0 {
			if k+1 < len(ns) && c.comparePeerPort(&n, &ns[k+1]) == 0 {
				continue
			}
			n.unnamed = true
		}
		kept = append(kept, n)
	}
	// Then by (id, protocol, role): kept is in ID order already, so only
	// the runs of one ID need sorting.
	for i := 0; i < len(kept); {
		j := i + 1
		for j < len(kept) && c.compareID(&kept[i], &kept[j]) == 0 {
			j++
		}
		if j-i > 1 {
			slices.SortFunc(kept[i:j], func(x, y namedPeer) int {
				if x.protocol != y.protocol || x.unnamed != y.unnamed {
					if c := strings.Compare(c.protocolName(&x), c.protocolName(&y)); c != 0 {
						return c
					}
				}
				return compareRole(&x, &y)
			})
		}
		i = j
	}
	out := make([]Peer, 0, min(len(kept), inv.cfg.MaxPeers))
	ext := false
	for k := range kept {
		if len(out) == inv.cfg.MaxPeers {
			break
		}
		n := &kept[k]
		if k > 0 && c.compareID(n, &kept[k-1]) == 0 && c.protocolName(n) == c.protocolName(&kept[k-1]) && n.server == kept[k-1].server {
			continue // a duplicate of the peer before
		}
		nm := &c.pnames[n.name]
		out = append(out, Peer{Asset: nm.id, Protocol: c.protocolName(n), Role: roleName(n.server)})
		ext = ext || nm.ext
	}
	clear(c.pnames) // drop the strings
	c.named, c.pnames = ns[:0], c.pnames[:0]
	return out, ext
}

// roleName is the role of a peer that is the server of the flow or not.
func roleName(server bool) string {
	if server {
		return "server"
	}
	return "client"
}

// appendSorted appends s to dst sorted, without repeats, and capped at max
// elements. It returns what it appended, of capacity its length so that an
// append to it copies, and dst with it.
func appendSorted(dst, s []string, max int) (sorted, all []string) {
	start := len(dst)
	dst = append(dst, s...)
	v := dst[start:]
	slices.Sort(v)
	v = capped(slices.Compact(v), max)
	return v[:len(v):len(v)], dst[:start+len(v)]
}

func capped[T any](s []T, max int) []T {
	if len(s) > max {
		return s[:max]
	}
	return s
}

// Assets returns a snapshot of the inventory, sorted by ID: the MaxAssets
// smallest IDs when there are more.
func (inv *Inventory) Assets() []Asset {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	return capped(inv.assetsLocked(), inv.cfg.MaxAssets)
}

// assetsLocked builds every asset, sorted by ID, without the MaxAssets cap.
func (inv *Inventory) assetsLocked() []Asset {
	bs := inv.buildAll()
	out := inv.assets(slices.Collect(maps.Values(bs)), nil)
	slices.SortFunc(out, func(x, y Asset) int { return strings.Compare(x.ID, y.ID) })
	return out
}

// Stats returns the inventory's counters.
func (inv *Inventory) Stats() Stats {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	st := inv.stats
	all := inv.assetsLocked()
	if len(all) > inv.cfg.MaxAssets {
		st.AssetsDropped = uint64(len(all) - inv.cfg.MaxAssets)
		all = all[:inv.cfg.MaxAssets]
	}
	st.Assets = len(all)
	st.Endpoints = inv.endpoints.len()
	st.ByCategory = make(map[string]int)
	for _, a := range all {
		st.ByCategory[a.Category]++
		if a.Medical {
			st.Medical++
		} else {
			st.NonMedical++
		}
	}
	return st
}

// AssetID names the asset an observation about e, with o's own addresses
// where it states them, belongs to: its asset id, or "ip:<addr>" for an
// external host. It returns "" when nothing names a device.
func (inv *Inventory) AssetID(e Endpoint, o *protocols.Observation) string {
	mac, ip := e.MAC, e.IP
	if !o.MAC.IsZero() {
		mac, ip = o.MAC, o.IP
	}
	k, ok := normalize(mac, ip)
	if !ok {
		return ""
	}
	inv.mu.Lock()
	defer inv.mu.Unlock()
	id, _ := inv.peerID(k)
	return id
}
