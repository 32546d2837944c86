package inventory

import (
	"encoding/binary"
	"hash/maphash"
	"maps"
	"math"
	"slices"
	"strings"
	"time"
)

// Event kinds.
const (
	KindNew    = "asset.new"
	KindUpdate = "asset.update"
)

// Event is an asset published because it is new or changed.
type Event struct {
	Kind  string    `json:"kind"` // KindNew or KindUpdate
	Time  time.Time `json:"time"` // packet time of the Advance or Flush
	Asset Asset     `json:"asset"`
}

// events is the bookkeeping of what was emitted and what is due.
type events struct {
	// fresh holds the assets touched since the last Advance.
	fresh map[assetKey]struct{}
	// urgent holds the fresh assets whose identity changed (a new MAC/IP
	// binding or hostname): their update skips the interval.
	urgent map[assetKey]struct{}
	// pending holds changed assets waiting for their update interval.
	pending map[assetKey]time.Time
	nextDue time.Time // earliest time in pending
	// emitted holds, per asset, the hash of its last emitted JSON and when.
	emitted map[assetKey]emitted
	seed    maphash.Seed
	// allDirty says grouping changed (a router found, a binding to a router,
	// an endpoint pushed out): every asset is reconsidered.
	allDirty bool
	// gen counts the times fresh was cleared (see endpoint.dirty). An
	// endpoint's asset changes only with allDirty set, which covers every
	// asset, so an endpoint marked in this generation need not be again.
	gen uint64
	// sendOrder is scratch space for send, guarded by emitMu.
	sendOrder []int32
}

type emitted struct {
	hash uint64
	at   time.Time
}

func (e *events) init() {
	e.seed = maphash.MakeSeed()
	e.gen = 1
	e.fresh = make(map[assetKey]struct{})
	e.urgent = make(map[assetKey]struct{})
	e.pending = make(map[assetKey]time.Time)
	e.emitted = make(map[assetKey]emitted)
}

// markDirty notes that the asset of endpoint k may have changed.
func (inv *Inventory) markDirty(k epKey) {
	if inv.ev.allDirty {
		return
	}
	if a, ok := inv.group(k); ok {
		inv.ev.fresh[a] = struct{}{}
	}
}

// markEndpointDirty is markDirty for the endpoint ep at k, with its group
// cached in ep until endpoints regroup.
func (inv *Inventory) markEndpointDirty(k epKey, ep *endpoint) {
	if inv.ev.allDirty {
		return
	}
	if ep.groupedAt != inv.groupGen {
		ep.group, ep.inGroup = inv.group(k)
		ep.groupedAt = inv.groupGen
	}
	if ep.inGroup {
		inv.ev.fresh[ep.group] = struct{}{}
	}
}

// markUrgent notes that the identity of the asset of endpoint k changed.
func (inv *Inventory) markUrgent(k epKey) {
	if a, ok := inv.group(k); ok {
		inv.ev.fresh[a] = struct{}{}
		inv.ev.urgent[a] = struct{}{}
	}
}

// hash returns a hash of a, to tell whether it changed since it was last
// emitted: it is as sensitive as its JSON. Every field is written in order,
// strings and lists with their length, so two assets hash alike exactly when
// their JSON is equal (but for hash collisions): a nil and an empty list
// hash alike, as omitempty leaves out both and asset never makes a nil list
// that is not omitempty. The seed is per inventory: hashes never leave it.
// The fields are written into a buffer reused from call to call and hashed
// at once, which costs a fraction of hundreds of small writes. The builder
// of a hashes it right after building it (see Inventory.assets), on the
// same goroutine and while its strings are in cache.
func (c *buildCtx) hash(a *Asset) uint64 {
	h := assetHash{b: c.hashBuf[:0]}
	h.str(a.Schema)
	h.str(a.ID)
	h.str(a.Sensor)
	h.str(a.MAC)
	h.strs(a.IPs)
	h.strs(a.Hostnames)
	h.str(a.Vendor)
	h.str(a.Model)
	h.str(a.Serial)
	h.str(a.Firmware)
	h.str(a.OS)
	h.str(a.Category)
	h.float(a.Confidence)
	h.bool(a.Medical)
	h.strs(a.Protocols)
	h.int(len(a.Services))
	for i := range a.Services {
		s := &a.Services[i]
		h.str(s.Transport)
		h.int(int(s.Port))
		h.str(s.Protocol)
		h.str(s.Role)
	}
	h.bool(a.DICOM != nil)
	if d := a.DICOM; d != nil {
		h.strs(d.AETitles)
		h.str(d.ImplementationClassUID)
		h.str(d.ImplementationVersion)
		h.strs(d.Modalities)
		h.strs(d.SOPClasses)
	}
	h.bool(a.HL7 != nil)
	if x := a.HL7; x != nil {
		h.strs(x.Applications)
		h.strs(x.Facilities)
		h.strs(x.MessageTypes)
		h.strs(x.Versions)
	}
	h.int(len(a.Peers))
	var prevProtocol string
	for i := range a.Peers {
		p := &a.Peers[i]
		h.str(p.Asset)
		h.strAfter(p.Protocol, prevProtocol)
		h.str(p.Role)
		prevProtocol = p.Protocol
	}
	h.int(len(a.Evidence))
	var prevSource, prevTime string
	for i := range a.Evidence {
		x := &a.Evidence[i]
		h.strAfter(x.Source, prevSource)
		h.str(x.Fact)
		h.str(x.Value)
		h.strAfter(x.Time, prevTime)
		prevSource, prevTime = x.Source, x.Time
	}
	h.bool(a.Owner != nil)
	if o := a.Owner; o != nil {
		h.str(o.Responsible)
		h.str(o.Accountable)
		h.strs(o.Consulted)
		h.strs(o.Informed)
	}
	h.int(len(a.Advisories))
	for i := range a.Advisories {
		x := &a.Advisories[i]
		h.str(x.ID)
		h.str(x.Severity)
		h.str(x.Source)
	}
	h.float(a.Risk)
	h.str(a.FirstSeen)
	h.str(a.LastSeen)
	c.hashBuf = h.b
	return maphash.Bytes(c.inv.ev.seed, h.b)
}

// assetHash appends an asset's fields to b, each string after its length
// plus one so that no two sequences of fields write the same bytes: lengths
// and counts are uvarints, a prefix code whose first byte is 0 only for 0,
// which strAfter writes alone.
type assetHash struct{ b []byte }

func (h *assetHash) int(n int) { h.b = binary.AppendUvarint(h.b, uint64(n)) }

func (h *assetHash) str(s string) {
	h.int(len(s) + 1)
	h.b = append(h.b, s...)
}

// strAfter is str for a field of a list entry, whose value in the previous
// entry was prev: it writes a lone 0 when s equals prev. Sorted evidence
// repeats its source and time from entry to entry, and peers their
// protocol, mostly as the same string, which compares equal at once where
// copying and hashing it costs several times more.
func (h *assetHash) strAfter(s, prev string) {
	if s == prev {
		h.b = append(h.b, 0)
		return
	}
	h.str(s)
}

func (h *assetHash) strs(s []string) {
	h.int(len(s))
	for _, v := range s {
		h.str(v)
	}
}

func (h *assetHash) float(f float64) {
	h.b = binary.LittleEndian.AppendUint64(h.b, math.Float64bits(f))
}

func (h *assetHash) bool(v bool) {
	if v {
		h.b = append(h.b, 1)
	} else {
		h.b = append(h.b, 0)
	}
}

// Advance tells the inventory that packet time reached now. It emits
// asset.new at once for every asset never emitted, and asset.update for a
// changed asset at most once per UpdateInterval, or at once when its identity
// changed (a new MAC/IP binding or hostname). Events of one call are sorted
// by asset ID.
func (inv *Inventory) Advance(now time.Time) {
	inv.emitMu.Lock()
	defer inv.emitMu.Unlock()
	inv.mu.Lock()
	out := inv.advance(now)
	inv.mu.Unlock()
	inv.send(out)
}

func (inv *Inventory) advance(now time.Time) []Event {
	ev := &inv.ev
	if len(ev.fresh) == 0 && !ev.allDirty && (len(ev.pending) == 0 || now.Before(ev.nextDue)) {
		return nil // the common case: nothing to do
	}
	built := map[assetKey]*builder(nil)
	if ev.allDirty {
		built = inv.buildAll()
		for a := range built {
			ev.fresh[a] = struct{}{}
		}
		for a := range ev.emitted {
			if built[a] == nil {
				delete(ev.emitted, a) // regrouped away or pushed out
				delete(ev.pending, a)
			}
		}
		ev.allDirty = false
	}
	build := func(a assetKey) (*builder, bool) {
		if built != nil {
			b, ok := built[a]
			return b, ok
		}
		return inv.buildOne(a)
	}

	// Gather the builders of the assets to emit, then build them all at
	// once, on several goroutines when there are many.
	var news, updates []*builder
	for a := range ev.fresh {
		st, ok := ev.emitted[a]
		if !ok {
			if b, ok := build(a); ok {
				news = append(news, b)
			}
			continue
		}
		due := st.at.Add(inv.cfg.UpdateInterval)
		if _, ok := ev.urgent[a]; ok {
			due = now
		}
		if cur, ok := ev.pending[a]; ok && !due.Before(cur) {
			continue
		}
		ev.pending[a] = due
		if len(ev.pending) == 1 || due.Before(ev.nextDue) {
			ev.nextDue = due
		}
	}
	clear(ev.fresh)
	clear(ev.urgent)
	ev.gen++

	if len(ev.pending) > 0 && !now.Before(ev.nextDue) {
		var next time.Time
		for a, due := range ev.pending {
			if now.Before(due) {
				if next.IsZero() || due.Before(next) {
					next = due
				}
				continue
			}
			delete(ev.pending, a)
			b, ok := build(a)
			if !ok {
				delete(ev.emitted, a) // regrouped away or pushed out
				continue
			}
			updates = append(updates, b)
		}
		ev.nextDue = next
	}
	if len(news)+len(updates) == 0 {
		return nil
	}
	sums := make([]uint64, len(news)+len(updates))
	assets := inv.assets(append(news, updates...), sums)
	out := make([]Event, 0, len(assets))
	for i := range assets {
		asset, h := &assets[i], sums[i]
		if i < len(news) {
			ev.emitted[news[i].key] = emitted{hash: h, at: now}
			out = append(out, Event{Kind: KindNew, Time: now, Asset: *asset})
		} else if a := updates[i-len(news)].key; h != ev.emitted[a].hash {
			ev.emitted[a] = emitted{hash: h, at: now}
			out = append(out, Event{Kind: KindUpdate, Time: now, Asset: *asset})
		}
	}
	return out
}

// Flush emits every pending change at the end of input: asset.new for
// assets never emitted and asset.update for every asset whose JSON differs
// from the last one emitted, regardless of the update interval.
func (inv *Inventory) Flush(now time.Time) {
	inv.emitMu.Lock()
	defer inv.emitMu.Unlock()
	inv.mu.Lock()
	ev := &inv.ev
	built := inv.buildAll()
	bs := slices.Collect(maps.Values(built))
	sums := make([]uint64, len(bs))
	assets := inv.assets(bs, sums)
	out := make([]Event, 0, len(built))
	for i, b := range bs {
		a, h := b.key, sums[i]
		st, ok := ev.emitted[a]
		switch {
		case !ok:
			out = append(out, Event{Kind: KindNew, Time: now, Asset: assets[i]})
		case st.hash != h:
			out = append(out, Event{Kind: KindUpdate, Time: now, Asset: assets[i]})
		default:
			continue
		}
		ev.emitted[a] = emitted{hash: h, at: now}
	}
	for a := range ev.emitted {
		if built[a] == nil {
			delete(ev.emitted, a) // regrouped away or pushed out
		}
	}
	clear(ev.fresh)
	clear(ev.urgent)
	ev.gen++
	clear(ev.pending)
	ev.allDirty = false
	inv.mu.Unlock()
	inv.send(out)
}

// send hands events to emit, sorted by asset ID.
func (inv *Inventory) send(out []Event) {
	if inv.emit == nil || len(out) == 0 {
		return
	}
	// Sort indexes: moving the events themselves, large and full of
	// pointers, costs more than comparing their IDs.
	order := inv.ev.sendOrder[:0]
	for i := range out {
		order = append(order, int32(i))
	}
	inv.ev.sendOrder = order
	slices.SortFunc(order, func(i, j int32) int { return strings.Compare(out[i].Asset.ID, out[j].Asset.ID) })
	for _, i := range order {
		inv.emit(out[i])
	}
}
