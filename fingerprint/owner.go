package fingerprint

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Owner is the RACI of an asset: the teams responsible for it, accountable
// for it, consulted and informed about it.
type Owner struct {
	Responsible string   `json:"responsible"`
	Accountable string   `json:"accountable"`
	Consulted   []string `json:"consulted"`
	Informed    []string `json:"informed"`
}

// DefaultOwner returns the owner when no owner entry matches:
// responsible it, accountable ciso.
func DefaultOwner() Owner {
	return Owner{Responsible: "it", Accountable: "ciso", Consulted: []string{}, Informed: []string{}}
}

// Owner returns the owner of the first owner entry whose conditions hold
// for the identity and the asset's addresses and VLANs (user files'
// entries are tried first), or DefaultOwner(). Owner conditions test
// identity.vendor, identity.model, identity.os, identity.firmware,
// identity.category, identity.medical ("true"/"false"), identity.serial,
// asset.ip (one fact per address) and asset.vlan (one per VLAN).
func (e *Engine) Owner(id Identity, ips []string, vlans []uint16) Owner {
	subject := ownerSubject{id: &id, ips: ips, vlans: vlans}
	for _, o := range e.owners {
		if subject.allHold(o.conds) {
			return cloneOwner(o.owner)
		}
	}
	return DefaultOwner()
}

// ownerSubject is what owner conditions test: the identity's attributes
// (one value each) and the asset's addresses and VLANs.
type ownerSubject struct {
	id    *Identity
	ips   []string
	vlans []uint16
}

func (o *ownerSubject) allHold(conds []cond) bool {
	for i := range conds {
		if !o.holds(&conds[i]) {
			return false
		}
	}
	return true
}

// holds reports whether one of c's field's values passes c's test (or one
// alternative of an OR group holds).
func (o *ownerSubject) holds(c *cond) bool {
	if c.anyOf != nil {
		for i := range c.anyOf {
			if o.holds(&c.anyOf[i]) {
				return true
			}
		}
		return false
	}
	switch c.field {
	case "identity.vendor":
		return c.test(o.id.Vendor)
	case "identity.model":
		return c.test(o.id.Model)
	case "identity.os":
		return c.test(o.id.OS)
	case "identity.firmware":
		return c.test(o.id.Firmware)
	case "identity.category":
		return c.test(o.id.Category)
	case "identity.medical":
		return c.test(strconv.FormatBool(o.id.Medical))
	case "identity.serial":
		return c.test(o.id.Serial)
	case "asset.ip":
		return slices.ContainsFunc(o.ips, c.test)
	case "asset.vlan":
		for _, v := range o.vlans {
			if c.test(strconv.Itoa(int(v))) {
				return true
			}
		}
	}
	return false
}

// cloneOwner copies the lists so callers may modify what they get.
func cloneOwner(o Owner) Owner {
	o.Consulted = slices.Clone(o.Consulted)
	o.Informed = slices.Clone(o.Informed)
	if o.Consulted == nil {
		o.Consulted = []string{}
	}
	if o.Informed == nil {
		o.Informed = []string{}
	}
	return o
}

// Advisory is a published vulnerability or recall that applies to an
// asset.
type Advisory struct {
	ID          string   `json:"id"`
	Source      string   `json:"source"`
	Title       string   `json:"title,omitempty"`
	Severity    string   `json:"severity"` // info, low, medium, high or critical
	CVSS        float64  `json:"cvss,omitempty"`
	Remediation string   `json:"remediation,omitempty"`
	References  []string `json:"references,omitempty"`
}

// advisory is a loaded advisory with its matching criteria.
type advisory struct {
	Advisory
	vendor   string
	model    *regexp.Regexp
	versions []verClause
}

// Advisories returns the advisories that apply to the identity, by id: its
// vendor equals the advisory's (case-insensitive), its model matches the
// advisory's model pattern (when there is one) and its firmware is in the
// advisory's version range (when there is one; an unknown firmware is then
// not matched, since the range cannot be checked).
func (e *Engine) Advisories(id Identity) []Advisory {
	if id.Vendor == "" {
		return nil
	}
	var out []Advisory
	vendor := strings.TrimSpace(id.Vendor)
	for _, a := range e.advisories {
		if !strings.EqualFold(strings.TrimSpace(a.vendor), vendor) {
			continue
		}
		if a.model != nil && !a.model.MatchString(id.Model) {
			continue
		}
		if a.versions != nil {
			v, ok := parseVersionValue(id.Firmware)
			if !ok || !matchVersion(a.versions, &v) {
				continue
			}
		}
		adv := a.Advisory
		adv.References = slices.Clone(a.References)
		out = append(out, adv)
	}
	return out
}

// severityScore maps an advisory severity to [0,1].
func severityScore(s string) float64 {
	switch s {
	case "critical":
		return 1
	case "high":
		return 0.8
	case "medium":
		return 0.5
	case "low":
		return 0.25
	case "info":
		return 0.05
	}
	return 0
}

// Criticality of a category: what harm a compromise of such a device can
// do. Documented in README.md.
func criticality(category string) float64 {
	switch {
	case strings.HasPrefix(category, "imaging."), strings.HasPrefix(category, "clinical."):
		return 1
	case strings.HasPrefix(category, "it."):
		return 0.6
	case strings.HasPrefix(category, "iot."):
		return 0.4
	}
	return 0.2
}

// Risk scores an asset in [0,1] from its advisories (the most severe, by
// severity or CVSS/10), whether it used cleartext protocols, whether it
// talked to external addresses, and its category's criticality:
//
//	exposure = 1 - (1 - 0.7·A)(1 - 0.3·C)(1 - 0.4·X)
//	risk     = exposure · (0.4 + 0.6·K)
//
// with A the advisory score, C and X 1 when cleartext or external traffic
// was seen (else 0) and K the criticality (imaging and clinical 1, it 0.6,
// iot 0.4, unknown 0.2). README.md explains the choice.
func (e *Engine) Risk(id Identity, advisories []Advisory, cleartext bool, external bool) float64 {
	return risk(id.Category, advisories, cleartext, external)
}

func risk(category string, advisories []Advisory, cleartext, external bool) float64 {
	adv := 0.0
	for _, a := range advisories {
		adv = max(adv, severityScore(a.Severity), min(max(a.CVSS, 0), 10)/10)
	}
	b := func(x bool) float64 {
		if x {
			return 1
		}
		return 0
	}
	exposure := 1 - (1-0.7*adv)*(1-0.3*b(cleartext))*(1-0.4*b(external))
	r := exposure * (0.4 + 0.6*criticality(category))
	return min(max(r, 0), 1)
}
