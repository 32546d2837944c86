package inventory

import (
	"hash/maphash"
	"math"
	"net"
	"net/netip"
	"slices"
	"strings"

	"github.com/iomt-sensor/iomt-sensor/fingerprint"
	"github.com/iomt-sensor/iomt-sensor/fingerprint/oui"
	"github.com/iomt-sensor/iomt-sensor/protocols"
)

// identify fills the asset's identity, owner, advisories, risk and its
// dicom and hl7 sections from its facts and peers.
func (c *buildCtx) identify(a *Asset, b *builder) {
	ci := c.identity(a, b)
	id := &ci.id
	a.Vendor, a.Model, a.Serial, a.Firmware, a.OS = id.Vendor, id.Model, id.Serial, id.Firmware, id.OS
	a.Category, a.Medical, a.Confidence = id.Category, id.Medical, id.Confidence
	b.derived = ci.derived
	// Each asset gets its own lists: consumers of events run on other
	// goroutines and must not share anything with the cache.
	o := ci.owner
	lists := append(append(make([]string, 0, len(o.Consulted)+len(o.Informed)), o.Consulted...), o.Informed...)
	a.Owner = &Owner{Responsible: o.Responsible, Accountable: o.Accountable,
		Consulted: lists[:len(o.Consulted):len(o.Consulted)], Informed: lists[len(o.Consulted):]}
	a.Advisories = slices.Clone(ci.advisories)
	// Risk also reads cleartext use and external peers, which change more
	// often than the identity: it is computed anew, at little cost.
	a.Risk = math.Round(c.inv.cfg.Fingerprint.Risk(ci.id, ci.advs, c.inv.cleartext(b), b.external)*1000) / 1000
	a.DICOM, a.HL7 = sections(b.factRuns)
}

// owner computes the asset's owner from its identity, addresses and VLANs.
func (c *buildCtx) owner(ci *cachedIdentity, a *Asset, b *builder) {
	owner := c.inv.cfg.Fingerprint.Owner(ci.id, a.IPs, vlansOf(b))
	ci.owner = &Owner{Responsible: owner.Responsible, Accountable: owner.Accountable,
		Consulted: nonNil(owner.Consulted), Informed: nonNil(owner.Informed)}
}

// advisories computes the advisories of an identity.
func (c *buildCtx) advisories(ci *cachedIdentity) {
	ci.advs = c.inv.cfg.Fingerprint.Advisories(ci.id)
	for _, adv := range ci.advs {
		ci.advisories = append(ci.advisories, Advisory{ID: adv.ID, Severity: adv.Severity, Source: adv.Source})
	}
}

// sections returns an asset's dicom and hl7 sections from its facts,
// runs sorted by name, or nil for an empty one. Each run's dicom and hl7
// facts are a range of it, found by two binary searches.
func sections(runs [][]protocols.Fact) (*DICOM, *HL7) {
	var buf [4][]protocols.Fact
	dicom, hl7 := buf[:0:2], buf[2:2:4]
	for _, facts := range runs {
		if r := withPrefix(facts, "dicom."); len(r) > 0 {
			dicom = append(dicom, r)
		}
		if r := withPrefix(facts, "hl7."); len(r) > 0 {
			hl7 = append(hl7, r)
		}
	}
	// Most assets have neither section; sections are copied to the heap
	// only when they are not empty.
	var dp *DICOM
	if len(dicom) > 0 {
		var l [5][]string
		sectionLists(dicom, l[:], dicomList)
		d := DICOM{AETitles: l[0], Modalities: l[1], SOPClasses: l[2]}
		if len(l[3]) > 0 {
			d.ImplementationClassUID = l[3][0] // the smallest
		}
		if len(l[4]) > 0 {
			d.ImplementationVersion = l[4][0]
		}
		if len(d.AETitles)+len(d.Modalities)+len(d.SOPClasses) > 0 || d.ImplementationClassUID != "" || d.ImplementationVersion != "" {
			dp = new(DICOM)
			*dp = d
		}
	}
	var hp *HL7
	if len(hl7) > 0 {
		var l [4][]string
		sectionLists(hl7, l[:], hl7List)
		if len(l[0])+len(l[1])+len(l[2])+len(l[3]) > 0 {
			hp = &HL7{Applications: l[0], Facilities: l[1], MessageTypes: l[2], Versions: l[3]}
		}
	}
	return dp, hp
}

// dicomList is the list of the dicom section a fact of that name goes
// to (ae titles, modalities, SOP classes, implementation class UIDs and
// versions), or -1.
func dicomList(name string) int {
	switch name {
	case "dicom.ae_title":
		return 0
	case "dicom.modality":
		return 1
	case "dicom.sop_class", "dicom.accepted_sop_class":
		return 2
	case "dicom.implementation_class_uid":
		return 3
	case "dicom.implementation_version":
		return 4
	}
	return -1
}

// hl7List is dicomList for the hl7 section: applications, facilities,
// message types and versions.
func hl7List(name string) int {
	switch name {
	case "hl7.sending_application", "hl7.receiving_application":
		return 0
	case "hl7.sending_facility", "hl7.receiving_facility":
		return 1
	case "hl7.message_type":
		return 2
	case "hl7.version":
		return 3
	}
	return -1
}

// sectionLists fills lists with the values of the facts of ranges, fact f
// going to list list(f.Name), each as sectionValues leaves it. The lists
// are counted first and share one backing array: no list grows.
func sectionLists(ranges [][]protocols.Fact, lists [][]string, list func(name string) int) {
	var n [8]int
	total := 0
	for _, r := range ranges {
		for i := range r {
			if k := list(r[i].Name); k >= 0 {
				n[k]++
				total++
			}
		}
	}
	all, off := make([]string, total), 0
	for k := range lists {
		lists[k] = all[off : off : off+n[k]]
		off += n[k]
	}
	for _, r := range ranges {
		for i := range r {
			if k := list(r[i].Name); k >= 0 {
				lists[k] = append(lists[k], r[i].Value)
			}
		}
	}
	for k := range lists {
		lists[k] = sectionValues(lists[k])
	}
}

// withPrefix returns the facts whose names start with prefix, a range of
// facts sorted by name.
func withPrefix(facts []protocols.Fact, prefix string) []protocols.Fact {
	// i is the first name not below prefix, by a binary search that
	// compares names directly (BinarySearchFunc calls a closure).
	i, j := 0, len(facts)
	for i < j {
		if m := int(uint(i+j) >> 1); facts[m].Name < prefix {
			i = m + 1
		} else {
			j = m
		}
	}
	for j < len(facts) && strings.HasPrefix(facts[j].Name, prefix) {
		j++
	}
	return facts[i:j]
}

// sectionValues sorts the values of a section's list, drops repeats and
// keeps the first 64.
func sectionValues(v []string) []string {
	slices.Sort(v)
	return nonNil(capped(slices.Compact(v), 64))
}

// identity runs the fingerprint engine over what the asset holds, and
// computes its owner, advisories and derived evidence, unless the asset's
// cache entry has them. On a miss, all but the owner come from the cache
// shared by assets alike when it has them: the OUI table is searched
// then, and facts are merged only when the engine runs.
func (c *buildCtx) identity(a *Asset, b *builder) *cachedIdentity {
	inv := c.inv
	e := inv.cfg.Fingerprint
	in := fingerprint.Input{MAC: b.key.mac, IPs: a.IPs, VLANs: vlansOf(b)}
	for _, p := range a.Peers {
		switch {
		case p.Protocol == "dicom" && p.Role == "client":
			in.DICOMClients++
		case p.Protocol == "hl7" && p.Role == "client":
			in.HL7Senders++
		}
	}
	// The OUI vendor is the MAC's; the owner reads nothing else.
	facts := hashFacts(inv.ev.seed, b.factRuns, e)
	sum := inputHash(inv.ev.seed, facts, &in)
	if ci, ok := c.lookupIdentity(b.key, sum); ok {
		return ci
	}
	if !b.key.mac.IsZero() {
		in.OUIVendor, _ = oui.Lookup(b.key.mac)
	}
	ci := &cachedIdentity{sum: sum}
	key := sharedHash(inv.ev.seed, facts, &in, e)
	if s, ok := c.lookupShared(key); ok {
		ci.id, ci.derived, ci.advs, ci.advisories = s.id, s.derived, s.advs, s.advisories
	} else {
		in.Facts = mergeFacts(b.factRuns)
		ci.id = e.Identify(in)
		ci.derived = derived(in.OUIVendor, &ci.id)
		c.advisories(ci)
		c.cacheShared(key, ci)
	}
	c.owner(ci, a, b)
	c.cacheIdentity(b.key, ci)
	return ci
}

// derived returns the evidence the sensor concludes from an asset's OUI
// vendor and identity, sorted and distinct, without times: the vendor and
// the rules behind the identity.
func derived(ouiVendor string, id *fingerprint.Identity) []evidence {
	n := len(id.Evidence)
	if ouiVendor != "" {
		n++
	}
	out := make([]evidence, 0, n)
	if ouiVendor != "" {
		out = append(out, evidence{source: "oui", fact: "oui.vendor", value: ouiVendor})
	}
	for _, m := range id.Evidence {
		out = append(out, evidence{source: "rule", fact: m.Rule, value: m.Field + "=" + m.Value})
	}
	slices.SortFunc(out, compareEvidence)
	return slices.CompactFunc(out, func(x, y evidence) bool { return compareEvidence(x, y) == 0 })
}

// mergeFacts merges sorted, distinct runs of facts into one: the run
// itself when there is one, shared.
func mergeFacts(runs [][]protocols.Fact) []protocols.Fact {
	switch len(runs) {
	case 0:
		return nil
	case 1:
		return runs[0]
	}
	n := 0
	for _, r := range runs {
		n += len(r)
	}
	out := make([]protocols.Fact, 0, n)
	for f := range mergeRuns(runs, compareFactTo) {
		if len(out) == 0 || out[len(out)-1] != *f {
			out = append(out, *f)
		}
	}
	return out
}

// cachedIdentity is an identity, what follows from it, and the hash of
// what they were computed from.
type cachedIdentity struct {
	sum uint64
	id  fingerprint.Identity
	// derived is the asset's derived evidence (see builder.derived).
	derived    []evidence
	owner      *Owner
	advisories []Advisory
	// advs are the advisories as the engine gave them, for Risk.
	advs []fingerprint.Advisory
}

// factSum is a hash of an asset's facts that the engine reads, and their
// number.
type factSum struct{ sum, n uint64 }

// hashFacts hashes the facts of runs the engine reads, each as a maphash
// (seeded per inventory) of its name and value. Only those count: a new
// TLS SNI or HL7 code that no rule looks at does not call for a new
// identity. The facts come in runs, sorted and distinct each but not
// merged: they count as the sum of a hash of each, in any order, and a
// fact in two runs counts twice (the same facts split otherwise over the
// runs may hash otherwise, which costs a new identity).
func hashFacts(seed maphash.Seed, runs [][]protocols.Fact, e *fingerprint.Engine) factSum {
	const prime = 1099511628211
	var s factSum
	for _, run := range runs {
		reads := false
		for i, f := range run {
			// Facts come sorted by name: ask the engine once per name.
			if i == 0 || f.Name != run[i-1].Name {
				reads = e.Reads(f.Name)
			}
			if !reads {
				continue
			}
			s.sum += maphash.String(seed, f.Name)*prime ^ maphash.String(seed, f.Value)
			s.n++
		}
	}
	return s
}

// fnv is FNV-1a over 64-bit words.
type fnv uint64

func newFNV() fnv { return 14695981039346656037 }

func (h *fnv) add(v uint64) { *h = (*h ^ fnv(v)) * 1099511628211 }

// addrs adds the number of addresses, then each as its maphash.
func (h *fnv) addrs(seed maphash.Seed, ips []string) {
	h.add(uint64(len(ips)))
	for _, ip := range ips {
		h.add(maphash.String(seed, ip))
	}
}

// vlans adds the number of VLANs, then each.
func (h *fnv) vlans(vlans []uint16) {
	h.add(uint64(len(vlans)))
	for _, v := range vlans {
		h.add(uint64(v))
	}
}

// inputHash hashes everything Identify and Owner read of an asset but
// the OUI vendor, a function of the MAC: its facts, MAC, addresses, VLANs
// and peer counts, each string as its maphash.
func inputHash(seed maphash.Seed, facts factSum, in *fingerprint.Input) uint64 {
	h := newFNV()
	h.add(facts.sum)
	h.add(facts.n)
	h.add(macBits(in.MAC))
	h.addrs(seed, in.IPs)
	h.vlans(in.VLANs)
	h.add(uint64(in.DICOMClients))
	h.add(uint64(in.HL7Senders))
	return uint64(h)
}

// sharedHash hashes what Identify alone reads of an asset: its facts, OUI
// vendor and peer counts, but of its MAC only whether it is there and
// locally administered (mac.local), and its addresses and VLANs only when
// rules read them (asset.ip, asset.vlan). Assets alike in these get the
// same identity.
func sharedHash(seed maphash.Seed, facts factSum, in *fingerprint.Input, e *fingerprint.Engine) uint64 {
	h := newFNV()
	h.add(facts.sum)
	h.add(facts.n)
	h.add(maphash.String(seed, in.OUIVendor))
	mac := uint64(0)
	if !in.MAC.IsZero() {
		mac = 1
		if in.MAC.IsLocal() {
			mac = 2
		}
	}
	h.add(mac)
	if e.Reads("asset.ip") {
		h.addrs(seed, in.IPs)
	}
	if e.Reads("asset.vlan") {
		h.vlans(in.VLANs)
	}
	h.add(uint64(in.DICOMClients))
	h.add(uint64(in.HL7Senders))
	return uint64(h)
}

// cleartextProtocols carry credentials or patient data unencrypted (DICOM
// and HL7 over TLS are seen as tls, not as these).
var cleartextProtocols = []string{"telnet", "ftp", "http", "dicom", "hl7"}

// cleartext reports whether the asset used a protocol that carries
// credentials or patient data in clear text, or sent credentials.
func (inv *Inventory) cleartext(b *builder) bool {
	for _, p := range cleartextProtocols {
		if slices.Contains(b.protocols, p) {
			return true
		}
	}
	for _, run := range b.factRuns {
		if slices.ContainsFunc(run, func(f protocols.Fact) bool {
			return f.Value == "true" && (strings.HasSuffix(f.Name, ".cleartext_login") || f.Name == "http.basic_auth")
		}) {
			return true
		}
	}
	return false
}

func vlansOf(b *builder) []uint16 {
	slices.Sort(b.vlans)
	b.vlans = slices.Compact(b.vlans)
	return b.vlans
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Asset returns the current state of the asset with the given id.
func (inv *Inventory) Asset(id string) (Asset, bool) {
	key, ok := parseAssetID(id)
	if !ok {
		return Asset{}, false
	}
	inv.mu.Lock()
	defer inv.mu.Unlock()
	b, ok := inv.buildOne(key)
	if !ok {
		return Asset{}, false
	}
	var a Asset
	inv.build.asset(&a, b)
	return a, true
}

// Identity returns the fingerprint identity of the asset with the given
// id, with the rules and candidates behind it (for explain).
func (inv *Inventory) Identity(id string) (fingerprint.Identity, bool) {
	key, ok := parseAssetID(id)
	if !ok {
		return fingerprint.Identity{}, false
	}
	inv.mu.Lock()
	defer inv.mu.Unlock()
	b, ok := inv.buildOne(key)
	if !ok {
		return fingerprint.Identity{}, false
	}
	var a Asset
	inv.build.asset(&a, b) // computes the identity and caches it under the key
	if ci := inv.build.idents[key]; ci != nil {
		return ci.id, true
	}
	return fingerprint.Identity{}, true
}

// parseAssetID reads "mac:<mac>" or "ip:<addr>".
func parseAssetID(id string) (assetKey, bool) {
	if s, ok := strings.CutPrefix(id, "mac:"); ok {
		hw, err := net.ParseMAC(s)
		if err != nil || len(hw) != 6 {
			return assetKey{}, false
		}
		return assetKey{mac: protocols.MAC(hw)}, true
	}
	if s, ok := strings.CutPrefix(id, "ip:"); ok {
		if ip, err := netip.ParseAddr(s); err == nil {
			return assetKey{ip: ip}, true
		}
	}
	return assetKey{}, false
}
