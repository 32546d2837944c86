package fingerprint

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/iomt-sensor/iomt-sensor/protocols"
)

// naiveEvidence evaluates every rule on the sorted facts without the
// index, the grouping or the prefilters: the reference Identify's evidence
// must equal.
func naiveEvidence(e *Engine, in Input) []string {
	facts := slices.Clone(in.Facts)
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
	for _, ip := range in.IPs {
		add("asset.ip", ip)
	}
	for _, v := range in.VLANs {
		add("asset.vlan", strconv.Itoa(int(v)))
	}
	slices.SortFunc(facts, compareFact)
	var match func(c *cond) (string, string, bool)
	match = func(c *cond) (string, string, bool) {
		if c.anyOf != nil {
			for i := range c.anyOf {
				if f, v, ok := match(&c.anyOf[i]); ok {
					return f, v, true
				}
			}
			return "", "", false
		}
		for _, f := range facts {
			if f.Name == c.field && naiveTest(c, f.Value) {
				return f.Name, f.Value, true
			}
		}
		return "", "", false
	}
	var out []string
	for _, r := range e.rules {
		hit := ""
		for i := range r.conds {
			f, v, ok := match(&r.conds[i])
			if !ok {
				hit = ""
				break
			}
			if i == 0 {
				hit = r.id + " " + f + "=" + v
			}
		}
		if hit != "" {
			out = append(out, hit)
		}
	}
	return out
}

// naiveTest is cond.test without its shortcuts: regular expressions run
// without the literal prefilter or the ^.+$ answer, case-insensitive
// contains by strings.EqualFold at every offset.
func naiveTest(c *cond, v string) bool {
	switch {
	case c.op == opRegex:
		return c.re.MatchString(v)
	case c.op == opContains && c.ignoreCase:
		for i := 0; i+len(c.str) <= len(v); i++ {
			if strings.EqualFold(v[i:i+len(c.str)], c.str) {
				return true
			}
		}
		return false
	}
	return c.test(v)
}

// fuzzInput reads facts from data, one "<k><value>" a line, where the
// byte k picks a field the rules name (or another).
func fuzzInput(e *Engine, data string) Input {
	var in Input
	for line := range strings.SplitSeq(data, "\n") {
		if line == "" {
			continue
		}
		name := "other.field"
		if k := int(line[0]); k < 2*len(e.fields) && k%2 == 0 {
			name = e.fields[k/2]
		}
		in.Facts = append(in.Facts, protocols.Fact{Name: name, Value: line[1:]})
	}
	in.IPs = []string{"10.0.0.1"}
	in.VLANs = []uint16{30}
	in.OUIVendor = "Philips Medical Systems"
	in.MAC = protocols.MAC{0, 9, 0xfb, 1, 2, 3}
	return in
}

// encode writes facts as fuzzInput reads them.
func encode(e *Engine, facts []protocols.Fact) string {
	var b strings.Builder
	for _, f := range facts {
		k := byte(255)
		if i := slices.Index(e.fields, f.Name); i >= 0 && 2*i < 255 {
			k = byte(2 * i)
		}
		b.WriteByte(k)
		b.WriteString(f.Value)
		b.WriteByte('\n')
	}
	return b.String()
}

// FuzzIdentifyNaive: Identify's evidence equals evaluating every rule
// directly, for the default rules and the benchmark rules, on any facts in
// any order.
func FuzzIdentifyNaive(f *testing.F) {
	engines := make([]*Engine, 0, 2)
	for _, files := range [][]File{Defaults(), {benchRules(300)}} {
		e, err := New(files...)
		if err != nil {
			f.Fatal(err)
		}
		engines = append(engines, e)
	}
	for _, e := range engines {
		f.Add(encode(e, assetInput().Facts))
		f.Add(encode(e, benchInput().Facts))
		rev := slices.Clone(assetInput().Facts)
		slices.Reverse(rev)
		f.Add(encode(e, rev))
	}
	f.Fuzz(func(t *testing.T, data string) {
		for _, e := range engines {
			in := fuzzInput(e, data)
			id := e.Identify(in)
			var got []string
			for _, m := range id.Evidence {
				got = append(got, m.Rule+" "+m.Field+"="+m.Value)
			}
			if want := naiveEvidence(e, in); !slices.Equal(got, want) {
				t.Fatalf("evidence differs:\n got %q\nwant %q", got, want)
			}
		}
	})
}

// compareFact orders facts by name, then value, as the inventory passes
// them.
func compareFact(a, b protocols.Fact) int {
	if c := strings.Compare(a.Name, b.Name); c != 0 {
		return c
	}
	return strings.Compare(a.Value, b.Value)
}
