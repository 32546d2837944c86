package fingerprint

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// File is one rule file: its name (used in error messages) and its bytes.
type File struct {
	Name string
	Data []byte
}

// LoadError is one problem in a rule file, located by line.
type LoadError struct {
	File    string
	Line    int
	Key     string // the key path, e.g. "rules[2].match[0].regex"
	Problem string // what is wrong
	Hint    string // what to do
}

// Error formats e as "FILE:LINE: key: what is wrong (what to do)".
func (e *LoadError) Error() string {
	s := fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Key, e.Problem)
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

// maxFileSize caps a rule file; rule sets are kilobytes, not megabytes.
const maxFileSize = 8 << 20

// Check validates one rule file and returns all its problems, in file
// order; nil means the file loads.
func Check(f File) []error {
	_, errs := parseFile(f)
	return errs
}

// parsed is the content of one valid file.
type parsed struct {
	rules      []*rule
	owners     []*ownerRule
	advisories []*advisory
}

// loader collects the errors of one file.
type loader struct {
	file string
	errs []error
}

func (l *loader) errf(n *yaml.Node, key, problem, hint string) {
	line := 0
	if n != nil {
		line = n.Line
	}
	l.errs = append(l.errs, &LoadError{File: l.file, Line: line, Key: key, Problem: problem, Hint: hint})
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func parseFile(f File) (*parsed, []error) {
	l := &loader{file: f.Name}
	if len(f.Data) > maxFileSize {
		l.errf(nil, "file", fmt.Sprintf("%d bytes is too large", len(f.Data)), fmt.Sprintf("split it into files of at most %d bytes", maxFileSize))
		return nil, l.errs
	}
	dec := yaml.NewDecoder(bytes.NewReader(f.Data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return &parsed{}, nil // an empty file holds nothing
		}
		l.yamlErr(err)
		return nil, l.errs
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			l.yamlErr(err)
		} else {
			l.errf(&extra, "document", "a second YAML document", "keep one document per file, without '---' separators")
		}
		return nil, l.errs
	}
	p := &parsed{}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return p, nil
	}
	if !l.isMap(root, "file") {
		return nil, l.errs
	}
	l.eachKey(root, "", func(k, v *yaml.Node, key string) {
		if v.Kind == yaml.ScalarNode && v.Tag == "!!null" && slices.Contains([]string{"rules", "owners", "advisories"}, k.Value) {
			return // "rules:" with nothing under it
		}
		switch k.Value {
		case "rules":
			p.rules = l.rules(v, key)
		case "owners":
			p.owners = l.owners(v, key)
		case "advisories":
			p.advisories = l.advisories(v, key)
		default:
			l.errf(k, key, "unknown key", "a file holds only rules, owners and advisories")
		}
	})
	if len(l.errs) > 0 {
		return nil, l.errs
	}
	return p, nil
}

func (l *loader) yamlErr(err error) {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		l.errs = append(l.errs, &LoadError{File: l.file, Line: line, Key: "yaml", Problem: m[2], Hint: "fix the YAML syntax"})
		return
	}
	l.errs = append(l.errs, &LoadError{File: l.file, Key: "yaml", Problem: strings.TrimPrefix(msg, "yaml: "), Hint: "fix the YAML syntax"})
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		return "a scalar"
	}
	return "a document"
}

func (l *loader) isMap(n *yaml.Node, key string) bool {
	if n.Kind == yaml.AliasNode {
		l.errf(n, key, "aliases are not supported", "write the value out")
		return false
	}
	if n.Kind != yaml.MappingNode {
		l.errf(n, key, "expected a mapping, found "+kindName(n), "write key: value pairs")
		return false
	}
	return true
}

func (l *loader) isList(n *yaml.Node, key string) bool {
	if n.Kind == yaml.AliasNode {
		l.errf(n, key, "aliases are not supported", "write the value out")
		return false
	}
	if n.Kind != yaml.SequenceNode {
		l.errf(n, key, "expected a list, found "+kindName(n), "write a list of '- ' items")
		return false
	}
	return true
}

// eachKey calls fn for each key of mapping n, reporting duplicate and
// non-scalar keys.
func (l *loader) eachKey(n *yaml.Node, prefix string, fn func(k, v *yaml.Node, key string)) {
	seen := make(map[string]bool, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			l.errf(k, prefix+"?", "a key must be a plain string", "use a string key")
			continue
		}
		key := k.Value
		if prefix != "" {
			key = prefix + "." + k.Value
		}
		if seen[k.Value] {
			l.errf(k, key, "key repeated in the same mapping", "keep one")
			continue
		}
		seen[k.Value] = true
		if v.Kind == yaml.AliasNode {
			l.errf(v, key, "aliases are not supported", "write the value out")
			continue
		}
		fn(k, v, key)
	}
}

// str reads a scalar value as a string.
func (l *loader) str(v *yaml.Node, key string) (string, bool) {
	if v.Kind != yaml.ScalarNode {
		l.errf(v, key, "expected a string, found "+kindName(v), "write a single value")
		return "", false
	}
	if v.Tag == "!!null" {
		return "", true
	}
	return v.Value, true
}

func (l *loader) num(v *yaml.Node, key string) (float64, bool) {
	if v.Kind != yaml.ScalarNode || (v.Tag != "!!int" && v.Tag != "!!float") {
		l.errf(v, key, fmt.Sprintf("expected a number, found %q", v.Value), "write a number such as 2 or 0.5")
		return 0, false
	}
	x, err := strconv.ParseFloat(strings.ReplaceAll(v.Value, "_", ""), 64)
	if err != nil {
		l.errf(v, key, fmt.Sprintf("%q is not a number", v.Value), "write a number such as 2 or 0.5")
		return 0, false
	}
	return x, true
}

func (l *loader) boolean(v *yaml.Node, key string) (bool, bool) {
	if v.Kind != yaml.ScalarNode || v.Tag != "!!bool" {
		l.errf(v, key, fmt.Sprintf("expected true or false, found %q", v.Value), "write true or false")
		return false, false
	}
	b, err := strconv.ParseBool(strings.ToLower(v.Value))
	if err != nil {
		l.errf(v, key, fmt.Sprintf("expected true or false, found %q", v.Value), "write true or false")
		return false, false
	}
	return b, true
}

func (l *loader) strList(v *yaml.Node, key string) ([]string, bool) {
	if !l.isList(v, key) {
		return nil, false
	}
	out := make([]string, 0, len(v.Content))
	ok := true
	for i, item := range v.Content {
		s, good := l.str(item, fmt.Sprintf("%s[%d]", key, i))
		ok = ok && good
		out = append(out, s)
	}
	return out, ok
}

// id reads an id and reports one repeated within the file.
func (l *loader) id(v *yaml.Node, key string, seen map[string]bool) string {
	s, ok := l.str(v, key)
	if !ok {
		return ""
	}
	if strings.TrimSpace(s) == "" {
		l.errf(v, key, "empty id", "give every entry a unique id")
		return ""
	}
	if seen[s] {
		l.errf(v, key, fmt.Sprintf("id %q is already used in this file", s), "give every entry a unique id")
		return s
	}
	seen[s] = true
	return s
}

// Attribute names, in the order of rule.assert.
var attributes = [numAttrs]string{"vendor", "model", "os", "firmware", "category", "medical"}

const (
	attrVendor = iota
	attrModel
	attrOS
	attrFirmware
	attrCategory
	attrMedical
	numAttrs
)

func (l *loader) rules(n *yaml.Node, key string) []*rule {
	if !l.isList(n, key) {
		return nil
	}
	seen := map[string]bool{}
	var out []*rule
	for i, item := range n.Content {
		ik := fmt.Sprintf("%s[%d]", key, i)
		if !l.isMap(item, ik) {
			continue
		}
		r := &rule{file: l.file, line: item.Line}
		var hasID, hasMatch, hasAssert, hasWeight bool
		l.eachKey(item, ik, func(k, v *yaml.Node, key string) {
			switch k.Value {
			case "id":
				hasID = true
				r.id = l.id(v, key, seen)
			case "description":
				r.description, _ = l.str(v, key)
			case "source":
				r.source, _ = l.str(v, key)
			case "match":
				hasMatch = true
				r.conds = l.conds(v, key, scopeRule)
				if v.Kind == yaml.SequenceNode && len(v.Content) == 0 {
					l.errf(v, key, "no conditions: the rule would match every asset", "add at least one condition")
				}
			case "assert":
				hasAssert = true
				l.asserts(v, key, r)
			case "weight":
				hasWeight = true
				if w, ok := l.num(v, key); ok {
					if !(w > 0 && w <= 1) {
						l.errf(v, key, fmt.Sprintf("%v is outside (0,1]", v.Value), "use a weight above 0 and at most 1")
					}
					r.weight = w
				}
			default:
				l.errf(k, key, "unknown key", "a rule has id, description, source, match, assert and weight")
			}
		})
		for _, m := range []struct {
			has  bool
			name string
			hint string
		}{
			{hasID, "id", "give every rule a unique id"},
			{hasMatch, "match", "add a list of conditions"},
			{hasAssert, "assert", "say what the rule concludes: vendor, model, os, firmware, category or medical"},
			{hasWeight, "weight", "add a weight in (0,1]"},
		} {
			if !m.has {
				l.errf(item, ik+"."+m.name, "missing", m.hint)
			}
		}
		out = append(out, r)
	}
	return out
}

func (l *loader) asserts(n *yaml.Node, key string, r *rule) {
	if !l.isMap(n, key) {
		return
	}
	count := 0
	l.eachKey(n, key, func(k, v *yaml.Node, key string) {
		a := -1
		for i, name := range attributes {
			if k.Value == name {
				a = i
			}
		}
		switch a {
		case -1:
			l.errf(k, key, "unknown attribute", "assert vendor, model, os, firmware, category or medical")
		case attrMedical:
			if b, ok := l.boolean(v, key); ok {
				r.assert[a], r.has[a] = strconv.FormatBool(b), true
				count++
			}
		default:
			s, ok := l.str(v, key)
			if !ok || s == "" {
				return // an empty value asserts nothing
			}
			if a == attrCategory && !IsCategory(s) {
				l.errf(v, key, fmt.Sprintf("unknown category %q", s), "use one of "+strings.Join(Categories, ", "))
				return
			}
			r.assert[a], r.has[a] = s, true
			r.valueRef = r.valueRef || strings.Contains(s, valueRef)
			count++
		}
	})
	if count == 0 && len(n.Content) == 0 {
		l.errf(n, key, "asserts nothing", "assert vendor, model, os, firmware, category or medical")
	}
}

// Scopes of condition fields.
const (
	scopeRule  = iota // fact names and derived fields
	scopeOwner        // identity.* and asset.*
)

var (
	fieldName   = regexp.MustCompile(`^[a-z0-9_]+(\.[a-z0-9_-]+)+$`)
	ownerFields = []string{"identity.vendor", "identity.model", "identity.os", "identity.firmware", "identity.category", "identity.medical", "identity.serial", "asset.ip", "asset.vlan"}
	operators   = []string{"equals", "prefix", "suffix", "contains", "regex", "version", "min", "max", "any", "cidr"}
)

func (l *loader) conds(n *yaml.Node, key string, scope int) []cond {
	if !l.isList(n, key) {
		return nil
	}
	out := make([]cond, 0, len(n.Content))
	for i, item := range n.Content {
		if c, ok := l.cond(item, fmt.Sprintf("%s[%d]", key, i), scope); ok {
			out = append(out, c)
		}
	}
	return out
}

func (l *loader) cond(n *yaml.Node, key string, scope int) (cond, bool) {
	var c cond
	if !l.isMap(n, key) {
		return c, false
	}
	before := len(l.errs)
	var ops []string
	var opNode *yaml.Node
	var hasField, hasIgnoreCase bool
	vals := map[string]*yaml.Node{}
	l.eachKey(n, key, func(k, v *yaml.Node, key string) {
		switch k.Value {
		case "field":
			hasField = true
			s, ok := l.str(v, key)
			if !ok {
				return
			}
			c.field = s
			switch {
			case scope == scopeOwner && !slices.Contains(ownerFields, s):
				l.errf(v, key, fmt.Sprintf("unknown field %q for an owner", s), "use one of "+strings.Join(ownerFields, ", "))
			case scope == scopeRule && strings.HasPrefix(s, "identity."):
				l.errf(v, key, fmt.Sprintf("%q is only for owners and advisories", s), "match the facts the identity comes from")
			case !fieldName.MatchString(s):
				l.errf(v, key, fmt.Sprintf("%q is not a field name", s), `write "<protocol>.<field>" in lower case, e.g. dicom.modality`)
			}
		case "ignore_case":
			hasIgnoreCase = true
			c.ignoreCase, _ = l.boolean(v, key)
		case "any_of":
			vals[k.Value] = v
		default:
			if !slices.Contains(operators, k.Value) {
				l.errf(k, key, "unknown key", "a condition has field, one of "+strings.Join(operators, ", ")+", and optionally ignore_case; or any_of")
				return
			}
			ops = append(ops, k.Value)
			if opNode == nil {
				opNode = k
			}
			vals[k.Value] = v
		}
	})
	if v, ok := vals["any_of"]; ok {
		if hasField || len(ops) > 0 || hasIgnoreCase {
			l.errf(n, key, "any_of cannot be combined with field, an operator or ignore_case", "put each alternative inside any_of")
			return c, false
		}
		c.anyOf = l.conds(v, key+".any_of", scope)
		if v.Kind == yaml.SequenceNode && len(v.Content) == 0 {
			l.errf(v, key+".any_of", "empty: it would never hold", "list at least one condition")
		}
		return c, len(l.errs) == before
	}
	if !hasField {
		l.errf(n, key+".field", "missing", "name the fact the condition tests, e.g. field: dicom.modality")
	}
	// min and max together are one numeric range.
	isRange := len(ops) == 2 && slices.Contains(ops, "min") && slices.Contains(ops, "max")
	switch {
	case len(ops) == 0:
		l.errf(n, key, "no operator", "add exactly one of "+strings.Join(operators, ", "))
		return c, false
	case len(ops) > 1 && !isRange:
		l.errf(opNode, key, "more than one operator: "+strings.Join(ops, " and "), "keep exactly one per condition; AND them as separate conditions")
		return c, false
	}
	for _, op := range ops {
		v := vals[op]
		opKey := key + "." + op
		switch op {
		case "equals", "prefix", "suffix", "contains":
			s, ok := l.str(v, opKey)
			if !ok {
				break
			}
			c.op, c.str = map[string]opKind{"equals": opEquals, "prefix": opPrefix, "suffix": opSuffix, "contains": opContains}[op], s
		case "regex":
			s, ok := l.str(v, opKey)
			if !ok {
				break
			}
			if c.ignoreCase {
				s = "(?i)" + s
			}
			re, err := regexp.Compile(s)
			if err != nil {
				l.errf(v, opKey, "bad regular expression: "+strings.TrimPrefix(err.Error(), "error parsing regexp: "), "write a Go RE2 expression")
				break
			}
			c.op, c.re, c.need = opRegex, re, regexNeeded(s)
			c.nonEmptyLine = s == "^.+$" || s == "(?i)^.+$"
			if !c.ignoreCase {
				c.litPrefix = regexLiteralPrefix(s)
			}
		case "version":
			s, ok := l.str(v, opKey)
			if !ok {
				break
			}
			vc, err := parseVersionExpr(s)
			if err != nil {
				l.errf(v, opKey, err.Error(), `write comparisons of dotted numbers joined by commas, e.g. ">=1.2, <2.0"`)
				break
			}
			c.op, c.ver = opVersion, vc
		case "min", "max":
			x, ok := l.num(v, opKey)
			if !ok {
				break
			}
			if c.op != opRange {
				c.op, c.min, c.max = opRange, negInf, posInf
			}
			if op == "min" {
				c.min = x
			} else {
				c.max = x
			}
			if c.min > c.max {
				l.errf(v, opKey, "min is above max", "swap them")
			}
		case "any":
			list, ok := l.strList(v, opKey)
			if !ok {
				break
			}
			if len(list) == 0 {
				l.errf(v, opKey, "empty list: it would never hold", "list at least one value")
				break
			}
			c.op, c.strs = opAny, list
		case "cidr":
			s, ok := l.str(v, opKey)
			if !ok {
				break
			}
			p, err := netip.ParsePrefix(strings.TrimSpace(s))
			if err != nil {
				l.errf(v, opKey, fmt.Sprintf("%q is not a CIDR prefix", s), "write an address/bits prefix, e.g. 10.20.0.0/16")
				break
			}
			c.op, c.prefix = opCIDR, p.Masked()
		}
	}
	if c.op == opContains && c.ignoreCase && c.str != "" && isASCII(c.str) {
		// For ASCII, Unicode case folding of equal byte lengths is ASCII
		// case folding: test with containsFold.
		c.lower = strings.ToLower(c.str)
		c.lowerB = []byte(c.lower)
	}
	return c, len(l.errs) == before
}

func (l *loader) owners(n *yaml.Node, key string) []*ownerRule {
	if !l.isList(n, key) {
		return nil
	}
	seen := map[string]bool{}
	var out []*ownerRule
	for i, item := range n.Content {
		ik := fmt.Sprintf("%s[%d]", key, i)
		if !l.isMap(item, ik) {
			continue
		}
		o := &ownerRule{}
		var hasID, hasOwner bool
		l.eachKey(item, ik, func(k, v *yaml.Node, key string) {
			switch k.Value {
			case "id":
				hasID = true
				o.id = l.id(v, key, seen)
			case "description", "source":
				l.str(v, key)
			case "match":
				o.conds = l.conds(v, key, scopeOwner)
			case "owner":
				hasOwner = true
				if !l.isMap(v, key) {
					return
				}
				hasResponsible := false
				l.eachKey(v, key, func(k, v *yaml.Node, key string) {
					switch k.Value {
					case "responsible":
						hasResponsible = true
						o.owner.Responsible, _ = l.str(v, key)
					case "accountable":
						o.owner.Accountable, _ = l.str(v, key)
					case "consulted":
						o.owner.Consulted, _ = l.strList(v, key)
					case "informed":
						o.owner.Informed, _ = l.strList(v, key)
					default:
						l.errf(k, key, "unknown key", "an owner has responsible, accountable, consulted and informed")
					}
				})
				if !hasResponsible {
					l.errf(v, key+".responsible", "missing", "name the responsible team")
				}
			default:
				l.errf(k, key, "unknown key", "an owner entry has id, description, match and owner")
			}
		})
		if !hasID {
			l.errf(item, ik+".id", "missing", "give every owner entry a unique id")
		}
		if !hasOwner {
			l.errf(item, ik+".owner", "missing", "add owner: {responsible: ..., accountable: ...}")
		}
		out = append(out, o)
	}
	return out
}

// Severities in increasing order.
var severities = []string{"info", "low", "medium", "high", "critical"}

func (l *loader) advisories(n *yaml.Node, key string) []*advisory {
	if !l.isList(n, key) {
		return nil
	}
	seen := map[string]bool{}
	var out []*advisory
	for i, item := range n.Content {
		ik := fmt.Sprintf("%s[%d]", key, i)
		if !l.isMap(item, ik) {
			continue
		}
		a := &advisory{}
		has := map[string]bool{}
		l.eachKey(item, ik, func(k, v *yaml.Node, key string) {
			has[k.Value] = true
			switch k.Value {
			case "id":
				a.ID = l.id(v, key, seen)
			case "source":
				a.Source, _ = l.str(v, key)
			case "title":
				a.Title, _ = l.str(v, key)
			case "vendor":
				a.vendor, _ = l.str(v, key)
				if strings.TrimSpace(a.vendor) == "" {
					l.errf(v, key, "empty vendor", "name the vendor as the identity shows it")
				}
			case "model":
				s, ok := l.str(v, key)
				if !ok || s == "" {
					return
				}
				re, err := regexp.Compile(s)
				if err != nil {
					l.errf(v, key, "bad regular expression: "+strings.TrimPrefix(err.Error(), "error parsing regexp: "), "write a Go RE2 expression over the model")
					return
				}
				a.model = re
			case "versions":
				s, ok := l.str(v, key)
				if !ok || s == "" {
					return
				}
				vc, err := parseVersionExpr(s)
				if err != nil {
					l.errf(v, key, err.Error(), `write comparisons of dotted numbers joined by commas, e.g. ">=1.2, <2.0"`)
					return
				}
				a.versions = vc
			case "severity":
				s, ok := l.str(v, key)
				if ok && !slices.Contains(severities, s) {
					l.errf(v, key, fmt.Sprintf("unknown severity %q", s), "use one of "+strings.Join(severities, ", "))
				}
				a.Severity = s
			case "cvss":
				if x, ok := l.num(v, key); ok {
					if x < 0 || x > 10 {
						l.errf(v, key, fmt.Sprintf("%v is outside [0,10]", v.Value), "use a CVSS base score from 0 to 10")
					}
					a.CVSS = x
				}
			case "remediation":
				a.Remediation, _ = l.str(v, key)
			case "references":
				a.References, _ = l.strList(v, key)
			case "description":
				l.str(v, key)
			default:
				l.errf(k, key, "unknown key", "an advisory has id, source, title, vendor, model, versions, severity, cvss, remediation and references")
			}
		})
		for _, name := range []string{"id", "source", "vendor", "severity"} {
			if !has[name] {
				l.errf(item, ik+"."+name, "missing", "every advisory needs id, source, vendor and severity")
			}
		}
		out = append(out, a)
	}
	return out
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
