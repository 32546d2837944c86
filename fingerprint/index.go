package fingerprint

import (
	"regexp/syntax"
	"slices"

	"github.com/iomt-sensor/iomt-sensor/protocols"
)

// fieldIndex finds the rules one field's values can trigger without
// testing every rule: exact values and literal prefixes are looked up in
// maps; only conditions with other operators are scanned.
type fieldIndex struct {
	exact  map[string][]int // value -> rules (case-sensitive equals and any)
	prefix map[string][]int // literal prefix -> rules (prefix, ^literal regex)
	lens   []int            // distinct prefix lengths, ascending
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
	case opEquals, opAny, opPrefix:
		return !c.ignoreCase
	case opRegex:
		return c.litPrefix != ""
	}
	return false
}

func (e *Engine) indexCond(i int, c *cond) {
	fi := e.byField[c.field]
	if fi == nil {
		fi = &fieldIndex{exact: map[string][]int{}, prefix: map[string][]int{}}
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
	default:
		if len(fi.scan) == 0 || fi.scan[len(fi.scan)-1] != i {
			fi.scan = append(fi.scan, i)
		}
	}
}

// candidates sets in bits the rules the facts (sorted by name) can
// trigger.
func (e *Engine) candidates(facts []protocols.Fact, bits []uint64) {
	set := func(rules []int) {
		for _, r := range rules {
			bits[r>>6] |= 1 << (r & 63)
		}
	}
	for i := 0; i < len(facts); {
		name := facts[i].Name
		fi := e.byField[name]
		if fi != nil {
			set(fi.scan)
		}
		for ; i < len(facts) && facts[i].Name == name; i++ {
			if fi == nil {
				continue
			}
			v := facts[i].Value
			set(fi.exact[v])
			for _, l := range fi.lens {
				if l > len(v) {
					break
				}
				set(fi.prefix[v[:l]])
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
