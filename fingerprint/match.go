package fingerprint

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
)

type opKind uint8

const (
	opNone opKind = iota
	opEquals
	opPrefix
	opSuffix
	opContains
	opRegex
	opVersion
	opRange
	opAny
	opCIDR
)

var (
	negInf = math.Inf(-1)
	posInf = math.Inf(1)
)

// cond is one compiled condition: a test of one field, or an OR group.
type cond struct {
	field      string
	fid        int32 // the field's id in a rule's engine
	op         opKind
	ignoreCase bool
	str        string
	lower      string // str in lower case for contains with ignore_case, when str is ASCII
	lowerB     []byte // lower as bytes
	// nonEmptyLine: the regex is ^.+$, which holds for any value that is
	// not empty and has no newline.
	nonEmptyLine bool
	strs         []string
	re           *regexp.Regexp
	litPrefix    string // the literal every match of re begins with, if any
	need         needed // literals one of which every match of re contains
	ver          []verClause
	min, max     float64
	prefix       netip.Prefix
	anyOf        []cond
}

// matchIn reports the first value of c's field in s (by value) that
// passes the test: the field id and the fact index.
func (c *cond) matchIn(s *scratch) (fid, fact int32, ok bool) {
	if c.anyOf != nil {
		for i := range c.anyOf {
			if f, v, ok := c.anyOf[i].matchIn(s); ok {
				return f, v, true
			}
		}
		return -1, -1, false
	}
	for _, i := range s.values(c.fid) {
		if c.testAt(s, i) {
			return c.fid, i, true
		}
	}
	return -1, -1, false
}

// testAt is test on fact i of s. Case-insensitive contains and folded
// regex prefilters search the fact's value lowered once per call.
func (c *cond) testAt(s *scratch, i int32) bool {
	switch {
	case c.op == opContains && len(c.lowerB) > 0:
		lv, _ := s.lowered(i)
		return bytes.Contains(lv, c.lowerB)
	case c.op == opRegex && !c.nonEmptyLine:
		return c.need.mayMatchAt(s, i) && c.re.MatchString(s.value(i))
	}
	return c.test(s.value(i))
}

// test applies c's operator to one value.
func (c *cond) test(v string) bool {
	switch c.op {
	case opEquals:
		return c.eq(v, c.str)
	case opPrefix:
		return len(v) >= len(c.str) && c.eq(v[:len(c.str)], c.str)
	case opSuffix:
		return len(v) >= len(c.str) && c.eq(v[len(v)-len(c.str):], c.str)
	case opContains:
		if !c.ignoreCase {
			return strings.Contains(v, c.str)
		}
		if c.lower != "" {
			return containsFold(v, c.lower)
		}
		if c.str == "" {
			return true
		}
		first := c.str[0] | 0x20
		for i := 0; i+len(c.str) <= len(v); i++ {
			if v[i]|0x20 == first && strings.EqualFold(v[i:i+len(c.str)], c.str) {
				return true
			}
		}
		return false
	case opRegex:
		if c.nonEmptyLine { // ^.+$, the common "any value" rule
			return v != "" && strings.IndexByte(v, '\n') < 0
		}
		return c.need.mayMatch(v) && c.re.MatchString(v)
	case opVersion:
		ver, ok := parseVersionValue(v)
		return ok && matchVersion(c.ver, &ver)
	case opRange:
		x, ok := parseNumber(v)
		return ok && x >= c.min && x <= c.max
	case opAny:
		for _, s := range c.strs {
			if c.eq(v, s) {
				return true
			}
		}
		return false
	case opCIDR:
		a, err := netip.ParseAddr(v)
		return err == nil && c.prefix.Contains(a.Unmap())
	}
	return false
}

func (c *cond) eq(a, b string) bool {
	if c.ignoreCase {
		return strings.EqualFold(a, b)
	}
	return a == b
}

// parseNumber parses a decimal number without allocating on failure.
func parseNumber(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 32 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		switch b := s[i]; {
		case b >= '0' && b <= '9', b == '.', b == '-', b == '+', b == 'e', b == 'E':
		default:
			return 0, false
		}
	}
	x, err := strconv.ParseFloat(s, 64)
	return x, err == nil
}

// maxVersionParts caps the components of a dotted version.
const maxVersionParts = 8

// version is a dotted numeric version; missing components are zero.
type version [maxVersionParts]uint32

func (a *version) compare(b *version) int {
	for i := range a {
		switch {
		case a[i] < b[i]:
			return -1
		case a[i] > b[i]:
			return 1
		}
	}
	return 0
}

type verClause struct {
	op  string // "=", "!=", "<", "<=", ">", ">="
	ver version
}

// parseVersionExpr parses comparisons joined by commas (AND):
// ">=1.2, <2.0". A bare version means "=".
func parseVersionExpr(s string) ([]verClause, error) {
	var out []verClause
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			return nil, fmt.Errorf("empty comparison in %q", s)
		}
		op := "="
		for _, o := range []string{">=", "<=", "!=", "==", ">", "<", "="} {
			if strings.HasPrefix(part, o) {
				op, part = o, strings.TrimSpace(part[len(o):])
				break
			}
		}
		if op == "==" {
			op = "="
		}
		v, err := parseVersionStrict(part)
		if err != nil {
			return nil, err
		}
		out = append(out, verClause{op: op, ver: v})
	}
	return out, nil
}

var errVersion = errors.New("bad version")

// parseVersionStrict parses exactly a dotted number such as 2.1.10.
func parseVersionStrict(s string) (version, error) {
	var v version
	if s == "" {
		return v, fmt.Errorf("%w: empty version", errVersion)
	}
	parts := strings.Split(s, ".")
	if len(parts) > maxVersionParts {
		return v, fmt.Errorf("%w %q: more than %d components", errVersion, s, maxVersionParts)
	}
	for i, p := range parts {
		n, err := strconv.ParseUint(p, 10, 32)
		if err != nil || p == "" || p[0] == '+' {
			return v, fmt.Errorf("%w %q: %q is not a number", errVersion, s, p)
		}
		v[i] = uint32(n)
	}
	return v, nil
}

// parseVersionValue reads the first dotted number in an observed value:
// "V2.1.3 build 45" gives 2.1.3. It does not allocate.
func parseVersionValue(s string) (version, bool) {
	var v version
	i := 0
	for i < len(s) && (s[i] < '0' || s[i] > '9') {
		i++
	}
	if i == len(s) {
		return v, false
	}
	part := 0
	for i < len(s) && part < maxVersionParts {
		var n uint64
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			if n < math.MaxUint32 {
				n = n*10 + uint64(s[i]-'0')
			}
			i++
		}
		if i == start {
			break
		}
		v[part] = uint32(min(n, math.MaxUint32))
		part++
		if i+1 < len(s) && s[i] == '.' && s[i+1] >= '0' && s[i+1] <= '9' {
			i++
			continue
		}
		break
	}
	return v, true
}

func matchVersion(clauses []verClause, v *version) bool {
	for i := range clauses {
		c := v.compare(&clauses[i].ver)
		var ok bool
		switch clauses[i].op {
		case "=":
			ok = c == 0
		case "!=":
			ok = c != 0
		case "<":
			ok = c < 0
		case "<=":
			ok = c <= 0
		case ">":
			ok = c > 0
		case ">=":
			ok = c >= 0
		}
		if !ok {
			return false
		}
	}
	return true
}
