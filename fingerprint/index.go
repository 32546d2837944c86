package fingerprint

import (
	"bytes"
	"regexp/syntax"
	"slices"
	"strings"
)

// fieldIndex finds the rules one field's values can trigger without
// testing every rule: exact values and literal prefixes are looked up in
// maps; only conditions with other operators are scanned.
type fieldIndex struct {
	exact  map[string][]int // value -> rules (case-sensitive equals and any)
	prefix map[string][]int // literal prefix -> rules (prefix, ^literal regex)
	lens   []int            // distinct prefix lengths, ascending
	suffix map[string][]int // literal suffix -> rules (suffix)
	slens  []int            // distinct suffix lengths, ascending
	scan   []int            // rules to evaluate whenever the field is present
}

// index registers rule i under one condition that must hold for it: the
// first top-level condition that a map lookup can decide, else the first
// plain one, else every alternative of the first OR group.
func (e *Engine) index(i int, conds []cond) {
	for k := range conds {
		if c := &conds[k]; c.anyOf == nil && indexable(c) {
			e.indexCond(i, c)
			return
		}
	}
	for k := range conds {
		if c := &conds[k]; c.anyOf == nil {
			e.indexCond(i, c)
			return
		}
	}
	if len(conds) > 0 {
		for k := range conds[0].anyOf {
			e.index(i, conds[0].anyOf[k:k+1])
		}
	}
}

func indexable(c *cond) bool {
	switch c.op {
	case opEquals, opAny, opPrefix, opSuffix:
		return !c.ignoreCase
	case opRegex:
		return c.litPrefix != ""
	}
	return false
}

func (e *Engine) indexCond(i int, c *cond) {
	fi := e.byField[c.field]
	if fi == nil {
		fi = &fieldIndex{exact: map[string][]int{}, prefix: map[string][]int{}, suffix: map[string][]int{}}
		e.byField[c.field] = fi
	}
	add := func(m map[string][]int, key string) {
		if l := m[key]; len(l) == 0 || l[len(l)-1] != i {
			m[key] = append(l, i)
		}
	}
	switch {
	case c.op == opEquals && !c.ignoreCase:
		add(fi.exact, c.str)
	case c.op == opAny && !c.ignoreCase:
		for _, s := range c.strs {
			add(fi.exact, s)
		}
	case c.op == opPrefix && !c.ignoreCase, c.op == opRegex && c.litPrefix != "":
		p := c.str
		if c.op == opRegex {
			p = c.litPrefix
		}
		add(fi.prefix, p)
		if !slices.Contains(fi.lens, len(p)) {
			fi.lens = append(fi.lens, len(p))
			slices.Sort(fi.lens)
		}
	case c.op == opSuffix && !c.ignoreCase:
		add(fi.suffix, c.str)
		if !slices.Contains(fi.slens, len(c.str)) {
			fi.slens = append(fi.slens, len(c.str))
			slices.Sort(fi.slens)
		}
	default:
		if len(fi.scan) == 0 || fi.scan[len(fi.scan)-1] != i {
			fi.scan = append(fi.scan, i)
		}
	}
}

// candidates sets in s.bits the rules the asset's facts can trigger.
func (e *Engine) candidates(s *scratch) {
	bits := s.bits
	set := func(rules []int) {
		for _, r := range rules {
			bits[r>>6] |= 1 << (r & 63)
		}
	}
	for f, fi := range e.idx {
		if fi == nil {
			continue
		}
		vals := s.values(int32(f))
		if len(vals) == 0 {
			continue
		}
		set(fi.scan)
		if len(fi.exact) == 0 && len(fi.lens) == 0 && len(fi.slens) == 0 {
			continue
		}
		for _, i := range vals {
			v := s.value(i)
			if len(fi.exact) > 0 {
				set(fi.exact[v])
			}
			for _, l := range fi.lens {
				if l > len(v) {
					break
				}
				set(fi.prefix[v[:l]])
			}
			for _, l := range fi.slens {
				if l > len(v) {
					break
				}
				set(fi.suffix[v[len(v)-l:]])
			}
		}
	}
}

// regexLiteralPrefix returns a literal every match of a case-sensitive
// regular expression anchored at the start (^abc..., ^(abc|abd)...) begins
// with, or "".
func regexLiteralPrefix(expr string) string {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return ""
	}
	re = re.Simplify()
	if re.Op != syntax.OpConcat || len(re.Sub) < 2 || re.Sub[0].Op != syntax.OpBeginText {
		return ""
	}
	return firstLiteral(re.Sub[1], 0)
}

// firstLiteral is the literal re must begin with, or "".
func firstLiteral(re *syntax.Regexp, depth int) string {
	if depth > 8 {
		return ""
	}
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase == 0 {
			return string(re.Rune)
		}
	case syntax.OpCapture:
		return firstLiteral(re.Sub[0], depth+1)
	case syntax.OpConcat:
		if len(re.Sub) > 0 {
			return firstLiteral(re.Sub[0], depth+1)
		}
	}
	return ""
}

// maxNeeded caps the alternatives of a regular expression's required
// literals.
const maxNeeded = 16

// needed is a set of literals one of which every match of a regular
// expression contains; fold means they are lower case and compared without
// ASCII case. also are further such sets every match must satisfy too (from
// the other parts of a top-level concatenation).
type needed struct {
	lits  []string
	fold  bool
	blits [][]byte // lits as bytes, when fold
	also  []needed
	// or, when set, are the alternatives of a top-level alternation:
	// one of them must hold as well.
	or []needed
}

// regexNeeded returns the ASCII literals one of which occurs in every match
// of expr, or a zero needed when it finds none. Testing them with
// strings.Contains rules most values out without running the expression.
func regexNeeded(expr string) needed {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return needed{}
	}
	return neededOf(re.Simplify(), 0)
}

// neededOf is regexNeeded of a parsed expression.
func neededOf(re *syntax.Regexp, depth int) needed {
	lits, fold, ok := requiredLiterals(re, depth)
	if !ok {
		return needed{}
	}
	n := foldedNeeded(lits, fold)
	for re.Op == syntax.OpCapture {
		re = re.Sub[0]
	}
	switch re.Op {
	case syntax.OpConcat:
		// Every part of a concatenation is in every match: the literals
		// of the parts not chosen above are required as well.
		best := shortest(lits)
		chosen := false
		for _, sub := range re.Sub {
			l, f, ok := requiredLiterals(sub, depth+1)
			if !ok {
				continue
			}
			if !chosen && shortest(l) == best {
				chosen = true // the part requiredLiterals picked
				continue
			}
			if shortest(l) >= 3 && len(n.also) < 2 {
				n.also = append(n.also, foldedNeeded(l, f))
			}
		}
	case syntax.OpAlternate:
		// Every match matches one alternative, with all it requires:
		// worth testing when an alternative requires more than one set.
		if depth >= 4 || len(re.Sub) > maxNeeded {
			break
		}
		alts := make([]needed, 0, len(re.Sub))
		more := false
		for _, sub := range re.Sub {
			a := neededOf(sub, depth+1)
			if a.lits == nil {
				return n
			}
			more = more || a.also != nil || a.or != nil
			alts = append(alts, a)
		}
		if more {
			n.or = alts
		}
	}
	return n
}

func foldedNeeded(lits []string, fold bool) needed {
	n := needed{lits: lits, fold: fold}
	if fold {
		for i, l := range lits {
			lits[i] = strings.ToLower(l)
			n.blits = append(n.blits, []byte(lits[i]))
		}
	}
	return n
}

// requiredLiterals returns literals one of which every match of re
// contains, and whether any is case-folded (then all are compared without
// case).
func requiredLiterals(re *syntax.Regexp, depth int) (lits []string, fold, ok bool) {
	if depth > 16 {
		return nil, false, false
	}
	switch re.Op {
	case syntax.OpLiteral:
		s := string(re.Rune)
		for i := 0; i < len(s); i++ {
			if s[i] >= 0x80 {
				return nil, false, false
			}
		}
		return []string{s}, re.Flags&syntax.FoldCase != 0, true
	case syntax.OpCapture, syntax.OpPlus:
		return requiredLiterals(re.Sub[0], depth+1)
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return requiredLiterals(re.Sub[0], depth+1)
		}
	case syntax.OpConcat:
		best := -1
		for _, sub := range re.Sub {
			l, f, ok := requiredLiterals(sub, depth+1)
			if !ok {
				continue
			}
			if s := shortest(l); s > best {
				lits, fold, best = l, f, s
			}
		}
		return lits, fold, best >= 0
	case syntax.OpAlternate:
		for _, sub := range re.Sub {
			l, f, ok := requiredLiterals(sub, depth+1)
			if !ok || len(lits)+len(l) > maxNeeded {
				return nil, false, false
			}
			lits = append(lits, l...)
			fold = fold || f
		}
		return lits, fold, true
	}
	return nil, false, false
}

// shortest is the length of the shortest of lits.
func shortest(lits []string) int {
	n := -1
	for _, l := range lits {
		if n < 0 || len(l) < n {
			n = len(l)
		}
	}
	return n
}

// mayMatch reports whether v contains one of the needed literals (and one
// of each further set); it is true when there are none, and (folded) when v
// is not ASCII, where Unicode case folding could match what an ASCII
// comparison misses.
func (n *needed) mayMatch(v string) bool {
	if !n.contains(v) {
		return false
	}
	for i := range n.also {
		if !n.also[i].contains(v) {
			return false
		}
	}
	if n.or == nil {
		return true
	}
	for i := range n.or {
		if n.or[i].mayMatch(v) {
			return true
		}
	}
	return false
}

// mayMatchAt is mayMatch for fact i of s, comparing folded literals with
// the fact's value lowered once per call.
func (n *needed) mayMatchAt(s *scratch, i int32) bool {
	if !n.containsAt(s, i) {
		return false
	}
	for k := range n.also {
		if !n.also[k].containsAt(s, i) {
			return false
		}
	}
	if n.or == nil {
		return true
	}
	for k := range n.or {
		if n.or[k].mayMatchAt(s, i) {
			return true
		}
	}
	return false
}

func (n *needed) containsAt(s *scratch, i int32) bool {
	if n.lits == nil || !n.fold {
		return n.contains(s.value(i))
	}
	lv, ascii := s.lowered(i)
	if !ascii {
		return true
	}
	for _, l := range n.blits {
		if bytes.Contains(lv, l) {
			return true
		}
	}
	return false
}

func (n *needed) contains(v string) bool {
	if n.lits == nil {
		return true
	}
	if !n.fold {
		for _, l := range n.lits {
			if strings.Contains(v, l) {
				return true
			}
		}
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] >= 0x80 {
			return true
		}
	}
	for _, l := range n.lits {
		if containsFold(v, l) {
			return true
		}
	}
	return false
}

// containsFold reports whether ASCII v contains the lower-case ASCII
// literal l without regard to case. It finds the candidate starts with
// strings.IndexByte, one scan per case of l's first byte.
func containsFold(v, l string) bool {
	if l == "" {
		return true
	}
	n := len(v) - len(l) + 1 // the possible starts
	if n <= 0 {
		return false
	}
	head := v[:n]
	lo, up := l[0], l[0]
	if 'a' <= lo && lo <= 'z' {
		up = lo - 'a' + 'A'
	}
	a, b := indexByteFrom(head, lo, 0), -1
	if up != lo {
		b = indexByteFrom(head, up, 0)
	}
	for a >= 0 || b >= 0 {
		k := a
		if k < 0 || (b >= 0 && b < k) {
			k = b
		}
		if equalFoldLower(v[k+1:k+len(l)], l[1:]) {
			return true
		}
		if k == a {
			a = indexByteFrom(head, lo, k+1)
		} else {
			b = indexByteFrom(head, up, k+1)
		}
	}
	return false
}

// indexByteFrom is the index of the first c in s at or after from, or -1.
func indexByteFrom(s string, c byte, from int) int {
	if i := strings.IndexByte(s[from:], c); i >= 0 {
		return from + i
	}
	return -1
}

// equalFoldLower reports whether s equals the lower-case ASCII l of the
// same length without regard to ASCII case.
func equalFoldLower(s, l string) bool {
	for j := 0; j < len(l); j++ {
		if lower(s[j]) != l[j] {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
