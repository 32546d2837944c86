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
	inv := c.inv
	id := c.identity(a, b)
	a.Vendor, a.Model, a.Serial, a.Firmware, a.OS = id.Vendor, id.Model, id.Serial, id.Firmware, id.OS
	a.Category, a.Medical, a.Confidence = id.Category, id.Medical, id.Confidence
	for _, m := range id.Evidence { // the rules behind the identity are evidence too
		b.derived = append(b.derived, evidence{source: "rule", fact: m.Rule, value: m.Field + "=" + m.Value, first: b.first})
	}
	e := inv.cfg.Fingerprint
	owner := e.Owner(id, a.IPs, vlansOf(b))
	a.Owner = &Owner{Responsible: owner.Responsible, Accountable: owner.Accountable,
		Consulted: nonNil(owner.Consulted), Informed: nonNil(owner.Informed)}
	advs := e.Advisories(id)
	for _, adv := range advs {
		a.Advisories = append(a.Advisories, Advisory{ID: adv.ID, Severity: adv.Severity, Source: adv.Source})
	}
	a.Risk = math.Round(e.Risk(id, advs, inv.cleartext(b), b.external)*1000) / 1000

	// identity left b.facts sorted by name: each name's values are a run.
	values := func(names ...string) []string {
		var out []string
		for _, name := range names {
			i, _ := slices.BinarySearchFunc(b.facts, name, func(f protocols.Fact, name string) int {
				return strings.Compare(f.Name, name)
			})
			for ; i < len(b.facts) && b.facts[i].Name == name; i++ {
				out = append(out, b.facts[i].Value)
			}
		}
		slices.Sort(out)
		return nonNil(capped(slices.Compact(out), 64))
	}
	firstOf := func(name string) string {
		if v := values(name); len(v) > 0 {
			return v[0]
		}
		return ""
	}
	d := DICOM{
		AETitles:               values("dicom.ae_title"),
		ImplementationClassUID: firstOf("dicom.implementation_class_uid"),
		ImplementationVersion:  firstOf("dicom.implementation_version"),
		Modalities:             values("dicom.modality"),
		SOPClasses:             values("dicom.sop_class", "dicom.accepted_sop_class"),
	}
	if len(d.AETitles)+len(d.Modalities)+len(d.SOPClasses) > 0 || d.ImplementationClassUID != "" || d.ImplementationVersion != "" {
		a.DICOM = &d
	}
	h := HL7{
		Applications: values("hl7.sending_application", "hl7.receiving_application"),
		Facilities:   values("hl7.sending_facility", "hl7.receiving_facility"),
		MessageTypes: values("hl7.message_type"),
		Versions:     values("hl7.version"),
	}
	if len(h.Applications)+len(h.Facilities)+len(h.MessageTypes)+len(h.Versions) > 0 {
		a.HL7 = &h
	}
}

// identity runs the fingerprint engine over what the asset holds.
func (c *buildCtx) identity(a *Asset, b *builder) fingerprint.Identity {
	inv := c.inv
	if b.factSets > 1 {
		slices.SortFunc(b.facts, compareFact)
		b.facts = slices.Compact(b.facts)
		b.factSets = 1
	}
	in := fingerprint.Input{Facts: b.facts, MAC: b.key.mac, IPs: a.IPs, VLANs: vlansOf(b)}
	if !b.key.mac.IsZero() {
		if v, ok := oui.Lookup(b.key.mac); ok {
			in.OUIVendor = v
			b.derived = append(b.derived, evidence{source: "oui", fact: "oui.vendor", value: v, first: b.first})
		}
	}
	for _, p := range a.Peers {
		switch {
		case p.Protocol == "dicom" && p.Role == "client":
			in.DICOMClients++
		case p.Protocol == "hl7" && p.Role == "client":
			in.HL7Senders++
		}
	}
	sum := inputHash(inv.ev.seed, &in, inv.cfg.Fingerprint)
	if c, ok := c.lookupIdentity(b.key, sum); ok {
		return c.id
	}
	id := inv.cfg.Fingerprint.Identify(in)
	c.cacheIdentity(b.key, cachedIdentity{sum, id})
	return id
}

// cachedIdentity is an identity and the hash of its input.
type cachedIdentity struct {
	sum uint64
	id  fingerprint.Identity
}

// inputHash hashes everything Identify reads: FNV-1a over 64-bit words,
// each string contributing its maphash (seeded per inventory).
// Only the facts the engine reads count: a new TLS SNI or HL7 code
// that no rule looks at does not call for a new identity.
func inputHash(seed maphash.Seed, in *fingerprint.Input, e *fingerprint.Engine) uint64 {
	const prime = 1099511628211
	h := uint64(14695981039346656037)
	add := func(v uint64) { h = (h ^ v) * prime }
	str := func(s string) { add(maphash.String(seed, s)) }
	n := 0
	for _, f := range in.Facts {
		if !e.Reads(f.Name) {
			continue
		}
		str(f.Name)
		str(f.Value)
		n++
	}
	add(uint64(n))
	add(macBits(in.MAC))
	str(in.OUIVendor)
	add(uint64(len(in.IPs)))
	for _, ip := range in.IPs {
		str(ip)
	}
	add(uint64(len(in.VLANs)))
	for _, v := range in.VLANs {
		add(uint64(v))
	}
	add(uint64(in.DICOMClients))
	add(uint64(in.HL7Senders))
	return h
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
	return slices.ContainsFunc(b.facts, func(f protocols.Fact) bool {
		return f.Value == "true" && (strings.HasSuffix(f.Name, ".cleartext_login") || f.Name == "http.basic_auth")
	})
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
	return inv.build.asset(b), true
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
	inv.build.asset(b) // computes the identity and caches it under the key
	return inv.build.idents[key].id, true
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
