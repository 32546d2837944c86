package fingerprint

import (
	"cmp"
	"embed"
	"errors"
	"io/fs"
	"maps"
	"math/bits"
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

	// Field ids: every field a rule condition names and dicom.serial, in
	// name order. Identify groups an asset's facts by id.
	fids    map[string]int32
	byName  [64][]namedField // the fields by nameSlot of their name
	fields  []string         // id -> name
	idx     []*fieldIndex    // id -> its index, or nil
	serial  int32            // the id of dicom.serial
	derived derivedIDs       // the ids of the derived fields (-1: unused)
}

// derivedIDs are the field ids of the derived fields, -1 when no rule
// names one.
type derivedIDs struct {
	dicomClients, hl7Senders, ouiVendor, macLocal, ip, vlan int32
}

// scratch is one Identify call's working memory, reused through a pool.
type scratch struct {
	// The asset's facts that rules read: src (the input) and the derived
	// values, addressed by one index: i < len(src) is src[i], else
	// derived[i-len(src)].
	src        []protocols.Fact
	derived    []string
	derivedFid []int32
	fid        []int32 // per fact index: its field id, -1 when no rule reads it
	// order holds the fact indexes grouped by field id, each group's
	// values ascending: field f's are order[off[f]:off[f+1]].
	order    []int32
	unsorted []int32 // the fields whose group needs sorting
	off      []int32
	pos      []int32
	// low holds lowered values: fact i's from lowOff[i] (-1: not yet).
	low      []byte
	lowOff   []int32
	lowASCII []bool
	bits     []uint64
	hits     []hit
	perm     []int32
	cands    [numAttrs][]candidate
}

// value is the value of fact i.
func (s *scratch) value(i int32) string {
	if int(i) < len(s.src) {
		return s.src[i].Value
	}
	return s.derived[int(i)-len(s.src)]
}

// lowered is fact i's value with ASCII letters in lower case (computed
// once per call, in s.low) and whether the value is all ASCII.
func (s *scratch) lowered(i int32) ([]byte, bool) {
	if o := s.lowOff[i]; o >= 0 {
		return s.low[o : o+int32(len(s.value(i)))], s.lowASCII[i]
	}
	v := s.value(i)
	o := len(s.low)
	ascii := true
	for k := 0; k < len(v); k++ {
		b := v[k]
		ascii = ascii && b < 0x80
		s.low = append(s.low, lower(b))
	}
	s.lowOff[i], s.lowASCII[i] = int32(o), ascii
	return s.low[o:], ascii
}

// values are the indexes of field f's facts, by value.
func (s *scratch) values(f int32) []int32 { return s.order[s.off[f]:s.off[f+1]] }

// hit is a rule that held, with the field and fact its first condition
// matched. It holds no pointers: filling it costs no write barriers.
type hit struct {
	r, fid, val int32
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
	e.numberFields()
	nf := len(e.fields)
	e.scratch.New = func() any {
		return &scratch{bits: make([]uint64, (len(e.rules)+63)/64), off: make([]int32, nf+1), pos: make([]int32, nf+1)}
	}
	return e, nil
}

// Rules returns the number of rules, owner entries and advisories loaded.
func (e *Engine) Rules() (rules, owners, advisories int) {
	return len(e.rules), len(e.owners), len(e.advisories)
}

// numberFields gives every field a rule condition names (and dicom.serial)
// an id in name order and sets the ids in the conditions and the index.
func (e *Engine) numberFields() {
	e.fields = append(e.fields, "dicom.serial")
	for f := range e.uses {
		if f != "dicom.serial" {
			e.fields = append(e.fields, f)
		}
	}
	slices.Sort(e.fields)
	e.fids = make(map[string]int32, len(e.fields))
	e.idx = make([]*fieldIndex, len(e.fields))
	for i, f := range e.fields {
		e.fids[f] = int32(i)
		e.idx[i] = e.byField[f]
		slot := &e.byName[nameSlot(f)]
		*slot = append(*slot, namedField{f, int32(i)})
	}
	var number func([]cond)
	number = func(cs []cond) {
		for i := range cs {
			if cs[i].anyOf != nil {
				number(cs[i].anyOf)
			} else {
				cs[i].fid = e.fids[cs[i].field]
			}
		}
	}
	for _, r := range e.rules {
		number(r.conds)
	}
	e.serial = e.fids["dicom.serial"]
	id := func(name string) int32 {
		if !e.uses[name] {
			return -1
		}
		return e.fids[name]
	}
	e.derived = derivedIDs{
		dicomClients: id("inventory.dicom_clients"), hl7Senders: id("inventory.hl7_senders"),
		ouiVendor: id("oui.vendor"), macLocal: id("mac.local"), ip: id("asset.ip"), vlan: id("asset.vlan"),
	}
}

// Identify derives an asset's identity from its facts and the derived
// fields (inventory.dicom_clients, inventory.hl7_senders, oui.vendor,
// mac.local, asset.ip, asset.vlan). Every matching rule is evidence; per
// attribute the value with the highest summed weight wins (ties: the value
// of the rule with the smallest id). The result is the same for any order
// of in.Facts.
func (e *Engine) Identify(in Input) Identity {
	s := e.scratch.Get().(*scratch)
	defer func() {
		s.src = nil // do not keep the caller's facts alive
		if cap(s.low) > 1<<16 {
			s.low = nil // nor a buffer grown for huge values
		}
		clear(s.derived)
		e.scratch.Put(s)
	}()
	e.group(s, &in)

	// Candidate rules: those one of the asset's facts can trigger.
	clear(s.bits)
	e.candidates(s)

	s.hits = s.hits[:0]
	for w, word := range s.bits {
		for word != 0 {
			i := w<<6 + bits.TrailingZeros64(word)
			word &= word - 1
			if h, ok := e.rules[i].eval(s); ok {
				h.r = int32(i)
				s.hits = append(s.hits, h)
			}
		}
	}
	return e.fuse(s)
}

// group fills s with the asset's facts that rules read, grouped by field
// and sorted by value within a field: a counting sort by field id, then a
// sort of each field's values unless they are in order already (the
// inventory passes its facts sorted).
func (e *Engine) group(s *scratch, in *Input) {
	s.src = in.Facts
	s.derived, s.derivedFid = s.derived[:0], s.derivedFid[:0]
	e.derive(s, in)
	n := len(in.Facts) + len(s.derived)
	s.fid = slices.Grow(s.fid[:0], n)[:n]
	s.low = s.low[:0]
	s.lowOff = slices.Grow(s.lowOff[:0], n)[:n]
	s.lowASCII = slices.Grow(s.lowASCII[:0], n)[:n]
	for i := range s.lowOff {
		s.lowOff[i] = -1
	}
	count := s.pos
	clear(count)
	prev, pf := "", int32(-1)
	for i := range in.Facts {
		name := in.Facts[i].Name
		if name != prev {
			prev, pf = name, e.fieldID(name)
		}
		s.fid[i] = pf
		if pf >= 0 {
			count[pf]++
		}
	}
	for i, f := range s.derivedFid {
		s.fid[len(in.Facts)+i] = f
		count[f]++
	}
	// off[f] is where field f's group starts; pos[f] where its next fact
	// goes.
	total := int32(0)
	for f, c := range count {
		s.off[f] = total
		count[f] = total
		total += c
	}
	s.order = slices.Grow(s.order[:0], int(total))[:total]
	s.unsorted = s.unsorted[:0]
	for i, f := range s.fid {
		if f < 0 {
			continue
		}
		p := s.pos[f]
		s.order[p] = int32(i)
		s.pos[f]++
		// A group is out of order when a value is below the one before:
		// note it once, at its first break.
		if p > s.off[f] && s.value(s.order[p-1]) > s.value(int32(i)) && !slices.Contains(s.unsorted, f) {
			s.unsorted = append(s.unsorted, f)
		}
	}
	for _, f := range s.unsorted {
		slices.SortFunc(s.values(f), func(a, b int32) int { return strings.Compare(s.value(a), s.value(b)) })
	}
}

// fieldID is the id of the field name, -1 when no rule reads it. It
// compares name with the few fields of its slot instead of hashing it in
// full for a map: Identify and Reads ask for every distinct fact name.
func (e *Engine) fieldID(name string) int32 {
	for _, f := range e.byName[nameSlot(name)] {
		if f.name == name {
			return f.fid
		}
	}
	return -1
}

// nameSlot is the index in Engine.byName of a name, from its length and
// two of its bytes.
func nameSlot(name string) int {
	if name == "" {
		return 0
	}
	return int((uint(len(name))*131 + uint(name[len(name)-1])*7 + uint(name[len(name)/2])) % 64)
}

// namedField is a field and its id.
type namedField struct {
	name string
	fid  int32
}

// eval reports whether every condition of r holds, with the fact the first
// one matched.
func (r *rule) eval(s *scratch) (hit, bool) {
	var h hit
	for i := range r.conds {
		f, v, ok := r.conds[i].matchIn(s)
		if !ok {
			return h, false
		}
		if i == 0 {
			h.fid, h.val = f, v
		}
	}
	return h, true
}

// Reads reports whether an identity can depend on facts named name: a rule
// names the field, or Identify reads it directly (dicom.serial). Facts of
// other names never change an identity, so a caller can leave them out of a
// cache key.
func (e *Engine) Reads(name string) bool { return e.fieldID(name) >= 0 }

// derive adds the derived fields the rules use to s.
func (e *Engine) derive(s *scratch, in *Input) {
	add := func(f int32, value string) {
		if f >= 0 {
			s.derived = append(s.derived, value)
			s.derivedFid = append(s.derivedFid, f)
		}
	}
	d := &e.derived
	if d.dicomClients >= 0 {
		add(d.dicomClients, strconv.Itoa(in.DICOMClients))
	}
	if d.hl7Senders >= 0 {
		add(d.hl7Senders, strconv.Itoa(in.HL7Senders))
	}
	if in.OUIVendor != "" {
		add(d.ouiVendor, in.OUIVendor)
	}
	if !in.MAC.IsZero() {
		add(d.macLocal, strconv.FormatBool(in.MAC.IsLocal()))
	}
	if d.ip >= 0 {
		for _, ip := range in.IPs {
			add(d.ip, ip)
		}
	}
	if d.vlan >= 0 {
		for _, v := range in.VLANs {
			add(d.vlan, strconv.Itoa(int(v)))
		}
	}
}

// fuse turns the hits into an identity.
func (e *Engine) fuse(s *scratch) Identity {
	id := Identity{Category: Unknown, Serial: e.serialOf(s)}
	if len(s.hits) == 0 {
		return id
	}
	for a := range s.cands {
		s.cands[a] = s.cands[a][:0]
	}
	id.Evidence = make([]Match, len(s.hits))
	nrules := 0
	for i, h := range s.hits {
		r := e.rules[h.r]
		value := s.value(h.val)
		m := Match{Rule: r.id, Description: r.description, Source: r.source, Field: e.fields[h.fid], Value: value, Weight: r.weight, Asserts: r.asserts}
		if r.valueRef {
			// A copy of the rule's asserts (one allocation, no hashing)
			// with the values that name {value} replaced.
			m.Asserts = maps.Clone(r.asserts)
		}
		for a, ok := range r.has {
			if !ok {
				continue
			}
			v := r.assert[a]
			if r.valueRef {
				if v == valueRef {
					v = value
				} else {
					v = strings.ReplaceAll(v, valueRef, value)
				}
				if v != r.assert[a] {
					m.Asserts[attributes[a]] = v
				}
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
		// Candidates were created in rule id order: a stable sort by score
		// breaks ties by the smallest id. Sorting indexes moves no pointers.
		perm := s.perm[:0]
		for j := range cs {
			perm = append(perm, int32(j))
		}
		slices.SortStableFunc(perm, func(x, y int32) int { return cmp.Compare(cs[y].score, cs[x].score) })
		s.perm = perm
		for j, p := range perm {
			c := &cs[p]
			start := len(ids)
			for _, h := range c.rules {
				ids = append(ids, e.rules[s.hits[h].r].id)
			}
			out[j] = Candidate{Value: c.value, Score: c.score, Rules: ids[start:len(ids):len(ids)]}
		}
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

// serialOf is the asset's smallest dicom.serial, or "".
func (e *Engine) serialOf(s *scratch) string {
	if v := s.values(e.serial); len(v) > 0 {
		return s.value(v[0])
	}
	return ""
}
