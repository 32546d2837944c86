package fingerprint

import (
	"cmp"
	"embed"
	"errors"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/iomt-sensor/iomt-sensor/protocols"
)

//go:embed rules/*.yaml
var defaultRules embed.FS

// Defaults returns the embedded default rule files (rules/*.yaml), sorted
// by name. Pass them to New before any user file.
func Defaults() []File {
	names, _ := fs.Glob(defaultRules, "rules/*.yaml")
	slices.Sort(names)
	out := make([]File, 0, len(names))
	for _, n := range names {
		data, err := defaultRules.ReadFile(n)
		if err != nil {
			continue
		}
		out = append(out, File{Name: path.Join("fingerprint", n), Data: data})
	}
	return out
}

// Match is one rule that held for an asset: the evidence behind its
// identity. Asserts is shared with the engine: read it, never modify it.
type Match struct {
	Rule        string
	Description string
	Source      string
	// Field and Value are the fact the rule's first condition matched.
	Field, Value string
	Weight       float64
	// Asserts are the attributes the rule concluded, with "{value}"
	// replaced.
	Asserts map[string]string
}

// Candidate is one value of an attribute with the summed weight of the
// rules that assert it.
type Candidate struct {
	Value string
	Score float64
	Rules []string // ids of the rules asserting Value, in id order
}

// rule is one compiled rule.
type rule struct {
	id, description, source string
	conds                   []cond
	assert                  [numAttrs]string
	has                     [numAttrs]bool
	valueRef                bool // an assert contains "{value}"
	asserts                 map[string]string
	weight                  float64
	file                    string
	line                    int
}

// valueRef in an assert is replaced by the value of the fact the rule's
// first condition matched.
const valueRef = "{value}"

type ownerRule struct {
	id    string
	conds []cond
	owner Owner
}

// Engine identifies assets with a set of rules, owners and advisories. It
// is immutable after New and safe for concurrent use.
type Engine struct {
	rules      []*rule                // sorted by id
	byField    map[string]*fieldIndex // field -> the rules its values can trigger
	uses       map[string]bool        // every field a rule condition names
	owners     []*ownerRule           // in first-match order
	advisories []*advisory            // sorted by id
	scratch    sync.Pool              // *scratch
}

type scratch struct {
	facts []protocols.Fact
	bits  []uint64
	hits  []hit
	cands [numAttrs][]candidate
}

type hit struct {
	r            *rule
	field, value string
}

type candidate struct {
	value string
	score float64
	rules []int // indexes in scratch.hits
}

// New builds an engine from rule files, in order: pass Defaults() first
// and then user files. A later file's rule replaces an earlier rule with the
// same id; owner entries of later files are tried before earlier ones (and
// replace an earlier entry with the same id); advisories are the union by
// id, a later one replacing an earlier one. All problems of all files are
// returned together, each a *LoadError.
func New(files ...File) (*Engine, error) {
	var errs []error
	var all []*parsed
	for _, f := range files {
		p, fe := parseFile(f)
		errs = append(errs, fe...)
		if p != nil {
			all = append(all, p)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	e := &Engine{byField: map[string]*fieldIndex{}, uses: map[string]bool{}}

	rules := map[string]*rule{}
	advisories := map[string]*advisory{}
	for _, p := range all {
		for _, r := range p.rules {
			rules[r.id] = r
		}
		for _, a := range p.advisories {
			advisories[a.ID] = a
		}
	}
	seenOwner := map[string]bool{}
	for i := len(all) - 1; i >= 0; i-- {
		for _, o := range all[i].owners {
			if !seenOwner[o.id] {
				seenOwner[o.id] = true
				e.owners = append(e.owners, o)
			}
		}
	}
	for _, r := range rules {
		e.rules = append(e.rules, r)
	}
	slices.SortFunc(e.rules, func(a, b *rule) int { return strings.Compare(a.id, b.id) })
	for _, a := range advisories {
		e.advisories = append(e.advisories, a)
	}
	slices.SortFunc(e.advisories, func(a, b *advisory) int { return strings.Compare(a.ID, b.ID) })

	for i, r := range e.rules {
		r.asserts = map[string]string{}
		for a, ok := range r.has {
			if ok {
				r.asserts[attributes[a]] = r.assert[a]
			}
		}
		e.index(i, r.conds)
		var use func([]cond)
		use = func(cs []cond) {
			for _, c := range cs {
				if c.anyOf != nil {
					use(c.anyOf)
				} else {
					e.uses[c.field] = true
				}
			}
		}
		use(r.conds)
	}
	e.scratch.New = func() any { return &scratch{bits: make([]uint64, (len(e.rules)+63)/64)} }
	return e, nil
}

// Rules returns the number of rules, owner entries and advisories loaded.
func (e *Engine) Rules() (rules, owners, advisories int) {
	return len(e.rules), len(e.owners), len(e.advisories)
}

// Identify derives an asset's identity from its facts and the derived
// fields (inventory.dicom_clients, inventory.hl7_senders, oui.vendor,
// mac.local, asset.ip, asset.vlan). Every matching rule is evidence; per
// attribute the value with the highest summed weight wins (ties: the value
// of the rule with the smallest id). The result is the same for any order
// of in.Facts.
func (e *Engine) Identify(in Input) Identity {
	s := e.scratch.Get().(*scratch)
	defer e.scratch.Put(s)

	facts := append(s.facts[:0], in.Facts...)
	facts = e.derive(facts, &in)
	sortFacts(facts, len(in.Facts))
	s.facts = facts

	// Candidate rules: those one of the asset's facts can trigger.
	clear(s.bits)
	e.candidates(facts, s.bits)

	s.hits = s.hits[:0]
	for w, word := range s.bits {
		for word != 0 {
			b := trailingZeros(word)
			word &^= 1 << b
			r := e.rules[w<<6+b]
			if h, ok := r.eval(facts); ok {
				s.hits = append(s.hits, h)
			}
		}
	}
	return e.fuse(s, &in)
}

// sortFacts sorts facts by name, then value. The inventory passes its
// facts sorted: then only the derived ones after the first n are inserted.
func sortFacts(facts []protocols.Fact, n int) {
	if !slices.IsSortedFunc(facts[:n], compareFact) {
		slices.SortFunc(facts, compareFact)
		return
	}
	for i := n; i < len(facts); i++ {
		f := facts[i]
		j, _ := slices.BinarySearchFunc(facts[:i], f, compareFact)
		copy(facts[j+1:i+1], facts[j:i])
		facts[j] = f
	}
}

func trailingZeros(x uint64) int {
	n := 0
	for x&1 == 0 {
		x >>= 1
		n++
	}
	return n
}

func compareFact(a, b protocols.Fact) int {
	if c := strings.Compare(a.Name, b.Name); c != 0 {
		return c
	}
	return strings.Compare(a.Value, b.Value)
}

// eval reports whether every condition of r holds, with the fact the first
// one matched.
func (r *rule) eval(facts []protocols.Fact) (hit, bool) {
	h := hit{r: r}
	for i := range r.conds {
		f, v, ok := r.conds[i].match(facts)
		if !ok {
			return h, false
		}
		if i == 0 {
			h.field, h.value = f, v
		}
	}
	return h, true
}

// Reads reports whether an identity can depend on facts named name: a rule
// names the field, or Identify reads it directly (dicom.serial). Facts of
// other names never change an identity, so a caller can leave them out of a
// cache key.
func (e *Engine) Reads(name string) bool { return e.uses[name] || name == "dicom.serial" }

// derive appends the derived fields the rules use.
func (e *Engine) derive(facts []protocols.Fact, in *Input) []protocols.Fact {
	add := func(name, value string) {
		if e.uses[name] {
			facts = append(facts, protocols.Fact{Name: name, Value: value})
		}
	}
	add("inventory.dicom_clients", strconv.Itoa(in.DICOMClients))
	add("inventory.hl7_senders", strconv.Itoa(in.HL7Senders))
	if in.OUIVendor != "" {
		add("oui.vendor", in.OUIVendor)
	}
	if !in.MAC.IsZero() {
		add("mac.local", strconv.FormatBool(in.MAC.IsLocal()))
	}
	if e.uses["asset.ip"] {
		for _, ip := range in.IPs {
			add("asset.ip", ip)
		}
	}
	if e.uses["asset.vlan"] {
		for _, v := range in.VLANs {
			add("asset.vlan", strconv.Itoa(int(v)))
		}
	}
	return facts
}

// fuse turns the hits into an identity.
func (e *Engine) fuse(s *scratch, in *Input) Identity {
	id := Identity{Category: Unknown}
	if len(s.hits) == 0 {
		id.Serial = firstFact(s.facts, "dicom.serial")
		return id
	}
	for a := range s.cands {
		s.cands[a] = s.cands[a][:0]
	}
	id.Evidence = make([]Match, len(s.hits))
	nrules := 0
	for i, h := range s.hits {
		r := h.r
		m := Match{Rule: r.id, Description: r.description, Source: r.source, Field: h.field, Value: h.value, Weight: r.weight, Asserts: r.asserts}
		if r.valueRef {
			m.Asserts = make(map[string]string, len(r.asserts))
		}
		for a, ok := range r.has {
			if !ok {
				continue
			}
			v := r.assert[a]
			if r.valueRef {
				if v == valueRef {
					v = h.value
				} else {
					v = strings.ReplaceAll(v, valueRef, h.value)
				}
				m.Asserts[attributes[a]] = v
			}
			if v == "" {
				continue
			}
			if a == attrCategory && !IsCategory(v) {
				continue
			}
			cs := s.cands[a]
			j := slices.IndexFunc(cs, func(c candidate) bool { return c.value == v })
			if j < 0 {
				if len(cs) < cap(cs) { // reuse the slot and its rule list
					cs = cs[:len(cs)+1]
					c := &cs[len(cs)-1]
					c.value, c.score, c.rules = v, 0, c.rules[:0]
				} else {
					cs = append(cs, candidate{value: v})
				}
				j = len(cs) - 1
			}
			cs[j].score += r.weight
			cs[j].rules = append(cs[j].rules, i)
			s.cands[a] = cs
			nrules++
		}
		id.Evidence[i] = m
	}

	// One backing array for all candidates' rule lists.
	// and one for all attributes' candidates.
	ids := make([]string, 0, nrules)
	ncands := 0
	for _, cs := range s.cands {
		ncands += len(cs)
	}
	all := make([]Candidate, ncands)
	id.Candidates = make(map[string][]Candidate, numAttrs)
	var win [numAttrs]*Candidate
	for a, cs := range s.cands {
		if len(cs) == 0 {
			continue
		}
		out := all[:len(cs):len(cs)]
		all = all[len(cs):]
		for j, c := range cs {
			start := len(ids)
			for _, h := range c.rules {
				ids = append(ids, s.hits[h].r.id)
			}
			out[j] = Candidate{Value: c.value, Score: c.score, Rules: ids[start:len(ids):len(ids)]}
		}
		// Candidates were created in rule id order: a stable sort by score
		// breaks ties by the smallest id.
		slices.SortStableFunc(out, func(x, y Candidate) int { return cmp.Compare(y.Score, x.Score) })
		id.Candidates[attributes[a]] = out
		win[a] = &out[0]
	}
	value := func(a int) string {
		if win[a] == nil {
			return ""
		}
		return win[a].Value
	}
	id.Vendor, id.Model, id.OS, id.Firmware = value(attrVendor), value(attrModel), value(attrOS), value(attrFirmware)
	if c := value(attrCategory); c != "" {
		id.Category = c
	}
	if id.Category != Unknown {
		id.Medical = IsMedical(id.Category)
	} else {
		id.Medical = value(attrMedical) == "true"
	}
	id.Serial = firstFact(s.facts, "dicom.serial")

	// Confidence: the winner's share of the category evidence (or vendor
	// evidence, or the first attribute with any), capped by its own score.
	for _, a := range []int{attrCategory, attrVendor, attrModel, attrOS, attrFirmware, attrMedical} {
		if win[a] == nil {
			continue
		}
		total := 0.0
		for _, c := range id.Candidates[attributes[a]] {
			total += c.Score
		}
		id.Confidence = min(win[a].Score/total, win[a].Score, 1)
		break
	}
	return id
}

func firstFact(facts []protocols.Fact, name string) string {
	if i := lowerBound(facts, name); i < len(facts) && facts[i].Name == name {
		return facts[i].Value
	}
	return ""
}
