package fingerprint

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/iomt-sensor/iomt-sensor/protocols"
)

func readTestFile(t testing.TB, name string) File {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return File{Name: name, Data: data}
}

func newTestEngine(t testing.TB, names ...string) *Engine {
	t.Helper()
	var files []File
	for _, n := range names {
		files = append(files, readTestFile(t, n))
	}
	e, err := New(files...)
	if err != nil {
		t.Fatalf("New(%v): %v", names, err)
	}
	return e
}

func facts(kv ...string) []protocols.Fact {
	var out []protocols.Fact
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, protocols.Fact{Name: kv[i], Value: kv[i+1]})
	}
	return out
}

func TestCheckBrokenFile(t *testing.T) {
	errs := Check(readTestFile(t, "broken.yaml"))
	want := []struct {
		line int
		key  string
		text string
	}{
		{4, "rules[0].match[0]", "no operator"},
		{7, "rules[1].id", `id "r1" is already used`},
		{9, "rules[1].match[0]", "more than one operator: equals and prefix"},
		{10, "rules[1].assert.category", `unknown category "imaging.xx"`},
		{11, "rules[1].weight", "outside (0,1]"},
		{14, "rules[2].match[0].regex", "bad regular expression"},
		{15, "rules[2].match[1].version", "bad version"},
		{16, "rules[2].assert.vendor", "expected a string"},
		{16, "rules[2].assert.medical", "expected true or false"},
		{17, "rules[2].weight", "expected a number"},
		{18, "rules[2].colour", "unknown key"},
	}
	if len(errs) != len(want) {
		t.Errorf("expected %d errors, got %d:\n%v", len(want), len(errs), errors.Join(errs...))
	}
	for i, w := range want {
		if i >= len(errs) {
			break
		}
		var le *LoadError
		if !errors.As(errs[i], &le) {
			t.Fatalf("Test %d: expected a *LoadError, got %T", i, errs[i])
		}
		if le.Line != w.line || le.Key != w.key || !strings.Contains(le.Problem, w.text) || le.Hint == "" {
			t.Errorf("Test %d: expected line %d key %s %q, got %v", i, w.line, w.key, w.text, errs[i])
		}
		prefix := fmt.Sprintf("broken.yaml:%d: %s: ", w.line, w.key)
		if !strings.HasPrefix(errs[i].Error(), prefix) || !strings.HasSuffix(errs[i].Error(), ")") {
			t.Errorf("Test %d: expected %q(...), got %q", i, prefix, errs[i].Error())
		}
	}
	if _, err := New(readTestFile(t, "base.yaml"), readTestFile(t, "broken.yaml")); err == nil {
		t.Errorf("New with a broken file: expected an error")
	}
}

// TestCheckErrors has one case per kind of error, with its line.
func TestCheckErrors(t *testing.T) {
	const ok = "\n    assert: {vendor: X}\n    weight: 0.5\n"
	tests := []struct {
		yaml string
		line int
		text string
	}{
		{"rules:\n  - id: a\n    match:\n      - {field: x.y, equals: 1}\n    assert: {vendor: X}\n    weight: 0\n", 6, "outside (0,1]"},
		{"rules:\n  - id: a\n    match:\n      - {field: x.y, equals: 1}\n    assert: {vendor: X}\n    weight: -1\n", 6, "outside (0,1]"},
		{"rules:\n  - id: a\n    match:\n      - {field: x.y}" + ok, 4, "no operator"},
		{"rules:\n  - id: a\n    match:\n      - {field: x.y, prefix: a, suffix: b}" + ok, 4, "more than one operator"},
		{"rules:\n  - id: a\n    match:\n      - {field: x.y, min: 1, max: 2, equals: 3}" + ok, 4, "more than one operator"},
		{"rules:\n  - id: a\n    match:\n      - {field: x.y, min: 3, max: 2}" + ok, 4, "min is above max"},
		{"rules:\n  - id: a\n    match:\n      - {field: x.y, min: two}" + ok, 4, "expected a number"},
		{"rules:\n  - id: a\n    match:\n      - {field: x.y, regex: '(?<'}" + ok, 4, "bad regular expression"},
		{"rules:\n  - id: a\n    match:\n      - {field: x.y, version: '>=1.2,'}" + ok, 4, "empty comparison"},
		{"rules:\n  - id: a\n    match:\n      - {field: x.y, version: '~1.2'}" + ok, 4, "bad version"},
		{"rules:\n  - id: a\n    match:\n      - {field: x.y, cidr: '10.0.0.0/33'}" + ok, 4, "not a CIDR prefix"},
		{"rules:\n  - id: a\n    match:\n      - {field: x.y, any: []}" + ok, 4, "empty list"},
		{"rules:\n  - id: a\n    match:\n      - {field: x.y, any: a}" + ok, 4, "expected a list"},
		{"rules:\n  - id: a\n    match:\n      - {field: x.y, equals: [a]}" + ok, 4, "expected a string"},
		{"rules:\n  - id: a\n    match:\n      - {field: x.y, equals: a, ignore_case: maybe}" + ok, 4, "expected true or false"},
		{"rules:\n  - id: a\n    match:\n      - {field: x.y, equal: a}" + ok, 4, "unknown key"},
		{"rules:\n  - id: a\n    match:\n      - {equals: a}" + ok, 4, "missing"},
		{"rules:\n  - id: a\n    match:\n      - {field: Dicom Modality, equals: a}" + ok, 4, "not a field name"},
		{"rules:\n  - id: a\n    match:\n      - {field: identity.vendor, equals: a}" + ok, 4, "only for owners"},
		{"rules:\n  - id: a\n    match:\n      - {any_of: []}" + ok, 4, "empty"},
		{"rules:\n  - id: a\n    match:\n      - {any_of: [{field: x.y, equals: a}], field: x.z}" + ok, 4, "cannot be combined"},
		{"rules:\n  - id: a\n    match:\n      - any_of:\n          - {field: x.y}" + ok, 5, "no operator"},
		{"rules:\n  - id: a\n    match: []" + ok, 3, "no conditions"},
		{"rules:\n  - id: a\n    match: {field: x.y}" + ok, 3, "expected a list"},
		{"rules:\n  - id: a\n    match:\n      - {field: x.y, equals: a}\n    assert: {category: imaging.foo}\n    weight: 1\n", 5, "unknown category"},
		{"rules:\n  - id: a\n    match:\n      - {field: x.y, equals: a}\n    assert: {colour: red}\n    weight: 1\n", 5, "unknown attribute"},
		{"rules:\n  - id: a\n    match:\n      - {field: x.y, equals: a}\n    assert: {}\n    weight: 1\n", 5, "asserts nothing"},
		{"rules:\n  - id: a\n    match:\n      - {field: x.y, equals: a}\n    assert: {vendor: X}\n", 2, "missing"},
		{"rules:\n  - match:\n      - {field: x.y, equals: a}" + ok, 2, "missing"},
		{"rules:\n  - id: a\n    match:\n      - {field: x.y, equals: a}" + ok + "  - id: a\n    match:\n      - {field: x.y, equals: a}" + ok, 7, "already used"},
		{"rules:\n  - id: a\n    id: b\n    match:\n      - {field: x.y, equals: a}" + ok, 3, "repeated"},
		{"rules: {id: a}\n", 1, "expected a list"},
		{"rules:\n  - a\n", 2, "expected a mapping"},
		{"rulez: []\n", 1, "unknown key"},
		{"- a\n", 1, "expected a mapping"},
		{"rules:\n  - id: a\n    match: [\n", 3, "did not find expected node content"},
		{"owners:\n  - &r {id: a, owner: {responsible: x}}\n  - *r\n", 3, "aliases are not supported"},
		{"rules: []\n---\nrules: []\n", 2, "second YAML document"},
		{"owners:\n  - id: o\n    match:\n      - {field: dicom.modality, equals: CT}\n    owner: {responsible: x}\n", 4, "unknown field"},
		{"owners:\n  - id: o\n    owner: {accountable: x}\n", 3, "missing"},
		{"owners:\n  - id: o\n    owner: {responsible: x, who: y}\n", 3, "unknown key"},
		{"owners:\n  - id: o\n    match:\n      - {field: asset.ip, cidr: 10.0.0.0}\n    owner: {responsible: x}\n", 4, "not a CIDR prefix"},
		{"owners:\n  - id: o\n    owner: {responsible: x}\n  - id: o\n    owner: {responsible: y}\n", 4, "already used"},
		{"advisories:\n  - id: a\n    source: s\n    vendor: v\n    severity: severe\n", 5, "unknown severity"},
		{"advisories:\n  - id: a\n    source: s\n    vendor: v\n    severity: low\n    cvss: 11\n", 6, "outside [0,10]"},
		{"advisories:\n  - id: a\n    source: s\n    vendor: v\n    severity: low\n    versions: 'before 2'\n", 6, "bad version"},
		{"advisories:\n  - id: a\n    source: s\n    vendor: v\n    severity: low\n    model: '*'\n", 6, "bad regular expression"},
		{"advisories:\n  - id: a\n    vendor: v\n    severity: low\n", 2, "missing"},
		{"advisories:\n  - id: a\n    source: s\n    vendor: v\n    severity: low\n    cve: x\n", 6, "unknown key"},
	}
	for i, tc := range tests {
		errs := Check(File{Name: "t.yaml", Data: []byte(tc.yaml)})
		if len(errs) == 0 {
			t.Errorf("Test %d: expected an error %q at line %d, got none", i, tc.text, tc.line)
			continue
		}
		var le *LoadError
		if !errors.As(errs[0], &le) {
			t.Fatalf("Test %d: expected a *LoadError, got %T", i, errs[0])
		}
		if le.Line != tc.line || !strings.Contains(le.Problem, tc.text) {
			t.Errorf("Test %d: expected line %d %q, got %v", i, tc.line, tc.text, errors.Join(errs...))
		}
	}
}

func TestCheckValid(t *testing.T) {
	for _, name := range []string{"base.yaml", "user.yaml"} {
		if errs := Check(readTestFile(t, name)); len(errs) != 0 {
			t.Errorf("%s: %v", name, errors.Join(errs...))
		}
	}
	for i, s := range []string{"", "# only a comment\n", "rules: []\n", "rules:\nowners:\n"} {
		if errs := Check(File{Name: "t.yaml", Data: []byte(s)}); len(errs) != 0 {
			t.Errorf("Test %d: %v", i, errors.Join(errs...))
		}
	}
}

// TestOperators checks each operator on values that pass and fail.
func TestOperators(t *testing.T) {
	tests := []struct {
		cond  string
		value string
		want  bool
	}{
		{`equals: CT`, "CT", true},
		{`equals: CT`, "ct", false},
		{`{equals: CT, ignore_case: true}`, "ct", true},
		{`equals: 104`, "104", true},
		{`prefix: "1.2.840."`, "1.2.840.113619.6.5", true},
		{`prefix: "1.2.840."`, "1.2.84", false},
		{`{prefix: "ab", ignore_case: true}`, "ABc", true},
		{`suffix: ".local"`, "printer.local", true},
		{`suffix: ".local"`, "local", false},
		{`{suffix: "IPP/1.1", ignore_case: true}`, "CUPS/2.4 ipp/1.1", true},
		{`contains: MDC_`, "150456^MDC_PULS_OXIM_SAT_O2^MDC", true},
		{`contains: MDC_`, "150456^^LN", false},
		{`{contains: mdc_, ignore_case: true}`, "150456^MDC_PULS", true},
		{`{contains: mdc_, ignore_case: true}`, "150456^MD", false},
		{`regex: "^android-dhcp-[0-9]+$"`, "android-dhcp-9", true},
		{`regex: "^android-dhcp-[0-9]+$"`, "android-dhcp-9.0x", false},
		{`{regex: "^ANDROID", ignore_case: true}`, "android-dhcp-9", true},
		{`version: ">=3.6, <4"`, "OFFIS_DCMTK_3.6.7", true},
		{`version: ">=3.6, <4"`, "3.5.4", false},
		{`version: ">=3.6, <4"`, "4.0", false},
		{`version: "2.1"`, "V2.1.0 build 7", true},
		{`version: "!=2.1"`, "2.1", false},
		{`version: ">1"`, "no digits", false},
		{`min: 2`, "2", true},
		{`min: 2`, "1", false},
		{`min: 2`, "many", false},
		{`max: 10`, "10", true},
		{`max: 10`, "10.5", false},
		{`{min: 100, max: 199}`, "150", true},
		{`{min: 100, max: 199}`, "200", false},
		{`any: [CT, PT]`, "PT", true},
		{`any: [CT, PT]`, "MR", false},
		{`{any: [ct, pt], ignore_case: true}`, "PT", true},
		{`cidr: 10.20.0.0/16`, "10.20.3.4", true},
		{`cidr: 10.20.0.0/16`, "10.21.3.4", false},
		{`cidr: 10.20.0.0/16`, "::ffff:10.20.3.4", true},
		{`cidr: "fd00::/8"`, "fd12::1", true},
		{`cidr: 10.20.0.0/16`, "not an address", false},
	}
	for i, tc := range tests {
		c := tc.cond
		if strings.HasPrefix(c, "{") {
			c = c[1 : len(c)-1]
		}
		src := fmt.Sprintf("rules:\n  - id: r\n    match:\n      - {field: x.y, %s}\n    assert: {vendor: V}\n    weight: 1\n", c)
		e, err := New(File{Name: "op.yaml", Data: []byte(src)})
		if err != nil {
			t.Fatalf("Test %d: %v", i, err)
		}
		id := e.Identify(Input{Facts: facts("x.y", tc.value)})
		if got := id.Vendor == "V"; got != tc.want {
			t.Errorf("Test %d: %s on %q: expected %v, got %v", i, tc.cond, tc.value, tc.want, got)
		}
	}
}

func TestIdentifyRules(t *testing.T) {
	e := newTestEngine(t, "base.yaml")
	tests := []struct {
		in                                    Input
		vendor, model, category, os, firmware string
		medical                               bool
		evidence                              []string
	}{
		{Input{Facts: facts("dicom.manufacturer", "GE MEDICAL SYSTEMS", "dicom.model", "Revolution CT", "dicom.modality", "CT",
			"dicom.implementation_class_uid", "1.2.840.113619.6.5")},
			"GE Healthcare", "Revolution CT", "imaging.ct", "", "", true,
			[]string{"manufacturer-ge", "modality-ct", "model-from-dicom", "uid-ge"}},
		{Input{Facts: facts("dicom.accepted_sop_class", "1.2.840.10008.5.1.4.1.1.2"), DICOMClients: 3},
			"", "", "imaging.pacs", "", "", true, []string{"pacs"}},
		{Input{Facts: facts("dicom.accepted_sop_class", "1.2.840.10008.5.1.4.1.1.2"), DICOMClients: 1},
			"", "", "unknown", "", "", false, nil},
		{Input{Facts: facts("hl7.obx_code", "150456^MDC_PULS_OXIM_SAT_O2^MDC", "hl7.message_type", "ORU^R01")},
			"", "", "clinical.patient_monitor", "", "", true, []string{"monitor"}},
		{Input{Facts: facts("hl7.obx_code", "8867-4^Heart rate^LN", "hl7.message_type", "ORU^R01")},
			"", "", "unknown", "", "", false, nil},
		{Input{Facts: facts("dhcp.vendor_class", "android-dhcp-9")},
			"", "", "it.phone", "Android", "android-dhcp-9", false, []string{"android"}},
		{Input{Facts: facts("ssdp.server", "Linux/4.4 UPnP/1.0 IPP/1.1")},
			"", "", "it.printer", "", "", false, []string{"printer-ssdp"}},
		{Input{Facts: facts("dicom.implementation_version", "OFFIS_DCMTK_3.6.7")},
			"", "", "unknown", "Linux", "", false, []string{"dcmtk-new"}},
		{Input{MAC: protocols.MAC{0x02, 1, 2, 3, 4, 5}}, "", "", "it.phone", "", "", false, []string{"local-mac"}},
		{Input{MAC: protocols.MAC{0x00, 1, 2, 3, 4, 5}}, "", "", "unknown", "", "", false, nil},
		{Input{OUIVendor: "Hewlett Packard", VLANs: []uint16{7, 120}, IPs: []string{"192.168.1.1", "10.1.2.3"}},
			"HP", "", "unknown", "", "", false, []string{"vendor-oui"}},
		{Input{OUIVendor: "Hewlett Packard", VLANs: []uint16{7}, IPs: []string{"10.1.2.3"}}, "", "", "unknown", "", "", false, nil},
		{Input{}, "", "", "unknown", "", "", false, nil},
	}
	for i, tc := range tests {
		got := e.Identify(tc.in)
		if got.Vendor != tc.vendor || got.Model != tc.model || got.Category != tc.category || got.OS != tc.os ||
			got.Firmware != tc.firmware || got.Medical != tc.medical {
			t.Errorf("Test %d: expected %q %q %q %q %q medical=%v, got %+v", i, tc.vendor, tc.model, tc.category, tc.os, tc.firmware, tc.medical, got)
		}
		var rules []string
		for _, m := range got.Evidence {
			rules = append(rules, m.Rule)
		}
		if !reflect.DeepEqual(rules, tc.evidence) {
			t.Errorf("Test %d: expected evidence %v, got %v", i, tc.evidence, rules)
		}
		if len(tc.evidence) == 0 && got.Confidence != 0 {
			t.Errorf("Test %d: expected confidence 0 without evidence, got %v", i, got.Confidence)
		}
	}
}

func TestValueSubstitution(t *testing.T) {
	e := newTestEngine(t, "base.yaml")
	id := e.Identify(Input{Facts: facts("dhcp.vendor_class", "android-dhcp-13")})
	if id.Firmware != "android-dhcp-13" || id.Evidence[0].Asserts["firmware"] != "android-dhcp-13" {
		t.Errorf("expected {value} replaced, got %+v", id)
	}
	// The engine's own asserts stay untouched.
	id = e.Identify(Input{Facts: facts("dhcp.vendor_class", "android-dhcp-9")})
	if id.Firmware != "android-dhcp-9" {
		t.Errorf("expected android-dhcp-9, got %q", id.Firmware)
	}
}

func TestLayering(t *testing.T) {
	base := newTestEngine(t, "base.yaml")
	layered := newTestEngine(t, "base.yaml", "user.yaml")
	ct := Input{Facts: facts("dicom.modality", "CT")}
	if got := base.Identify(ct).Category; got != "imaging.ct" {
		t.Errorf("base: expected imaging.ct, got %s", got)
	}
	id := layered.Identify(ct)
	if id.Category != "imaging.ot" || len(id.Evidence) != 1 || id.Evidence[0].Weight != 0.4 {
		t.Errorf("layered: expected the user's modality-ct to replace the default, got %+v", id)
	}
	if got := layered.Identify(Input{Facts: facts("dhcp.hostname", "PRN-3F-01")}).Category; got != "it.printer" {
		t.Errorf("layered: expected the user's new rule to apply, got %s", got)
	}
	br, bo, ba := base.Rules()
	lr, lo, la := layered.Rules()
	if lr != br+1 || lo != bo+1 || la != ba {
		t.Errorf("expected one more rule and owner and as many advisories, got %d/%d/%d vs %d/%d/%d", lr, lo, la, br, bo, ba)
	}
}

func TestFusionConflict(t *testing.T) {
	src := `rules:
  - id: a-siemens
    description: says Siemens
    source: test
    match: [{field: x.a, equals: "1"}]
    assert: {vendor: Siemens, category: imaging.mr}
    weight: 1
  - id: b-philips
    match: [{field: x.b, equals: "1"}]
    assert: {vendor: Philips, category: imaging.ct}
    weight: 0.4
  - id: c-philips
    match: [{field: x.c, equals: "1"}]
    assert: {vendor: Philips}
    weight: 0.3
  - id: d-tie
    match: [{field: x.d, equals: "1"}]
    assert: {category: imaging.mr}
    weight: 0.4
`
	e, err := New(File{Name: "fusion.yaml", Data: []byte(src)})
	if err != nil {
		t.Fatal(err)
	}
	alone := e.Identify(Input{Facts: facts("x.a", "1")})
	if alone.Vendor != "Siemens" || alone.Confidence != 1 {
		t.Errorf("alone: expected Siemens at 1, got %s at %v", alone.Vendor, alone.Confidence)
	}
	both := e.Identify(Input{Facts: facts("x.a", "1", "x.b", "1", "x.c", "1")})
	if both.Vendor != "Siemens" || both.Category != "imaging.mr" {
		t.Errorf("expected vendor Siemens (1 > 0.7) and category imaging.mr (1 > 0.4), got %+v", both)
	}
	if want := 1 / 1.4; both.Confidence != want {
		t.Errorf("expected confidence %v (1 of 1.4 category evidence), got %v", want, both.Confidence)
	}
	weak := e.Identify(Input{Facts: facts("x.b", "1")})
	if weak.Confidence != 0.4 {
		t.Errorf("weak: expected confidence capped by the score 0.4, got %v", weak.Confidence)
	}
	if both.Confidence >= alone.Confidence {
		t.Errorf("conflicting evidence should lower confidence: %v >= %v", both.Confidence, alone.Confidence)
	}
	vendors := both.Candidates["vendor"]
	if len(vendors) != 2 || vendors[0].Value != "Siemens" || vendors[1].Value != "Philips" ||
		!reflect.DeepEqual(vendors[1].Rules, []string{"b-philips", "c-philips"}) || vendors[1].Score != 0.7 {
		t.Errorf("expected both vendor candidates, got %+v", vendors)
	}
	// A tie goes to the value of the rule with the smallest id.
	tie := e.Identify(Input{Facts: facts("x.b", "1", "x.d", "1")})
	if tie.Category != "imaging.ct" {
		t.Errorf("tie: expected imaging.ct (b-philips < d-tie), got %s", tie.Category)
	}
	text := Explain(both)
	for _, want := range []string{`vendor = "Siemens"`, `lost: "Philips"`, "rule a-siemens (weight 1.00): says Siemens", "rule c-philips (weight 0.30)", `because x.a = "1"`, "source: test", `category = "imaging.mr"`} {
		if !strings.Contains(text, want) {
			t.Errorf("Explain: expected %q in\n%s", want, text)
		}
	}
	if !strings.Contains(Explain(Identity{Category: Unknown}), "no rule matched") {
		t.Errorf("Explain of nothing: expected 'no rule matched'")
	}
}

func TestDeterminism(t *testing.T) {
	e := newTestEngine(t, "base.yaml", "user.yaml")
	in := Input{Facts: facts(
		"dicom.manufacturer", "GE MEDICAL SYSTEMS", "dicom.model", "Revolution CT", "dicom.model", "Optima CT660",
		"dicom.modality", "CT", "dicom.modality", "MR", "dicom.implementation_class_uid", "1.2.840.113619.6.5",
		"dhcp.vendor_class", "android-dhcp-9", "dhcp.vendor_class", "android-dhcp-10", "ssdp.server", "x IPP/1.1",
		"hl7.obx_code", "MDC_ECG_HEART_RATE", "hl7.message_type", "ORU^R01", "dhcp.hostname", "PRN-1"),
		DICOMClients: 2}
	want := e.Identify(in)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200; i++ {
		p := Input{Facts: append([]protocols.Fact(nil), in.Facts...), DICOMClients: in.DICOMClients}
		rng.Shuffle(len(p.Facts), func(a, b int) { p.Facts[a], p.Facts[b] = p.Facts[b], p.Facts[a] })
		if got := e.Identify(p); !reflect.DeepEqual(got, want) {
			t.Fatalf("permutation %d: expected %+v, got %+v", i, want, got)
		}
	}
	if want.Model != "Optima CT660" && want.Model != "Revolution CT" {
		t.Errorf("unexpected model %q", want.Model)
	}
}

func TestOwners(t *testing.T) {
	base := newTestEngine(t, "base.yaml")
	layered := newTestEngine(t, "base.yaml", "user.yaml")
	ct := Identity{Vendor: "GE Healthcare", Category: "imaging.ct", Medical: true}
	printer := Identity{Category: "it.printer"}
	tests := []struct {
		e     *Engine
		id    Identity
		ips   []string
		vlans []uint16
		want  Owner
	}{
		{base, ct, nil, nil, Owner{"htm", "ciso", []string{"vendor"}, []string{}}},
		{base, printer, nil, nil, Owner{"it-print", "cio", []string{}, []string{}}},
		{base, Identity{Category: Unknown}, []string{"192.168.0.1", "10.50.1.2"}, nil, Owner{"lab", "ciso", []string{}, []string{"lab-it"}}},
		{base, Identity{Category: Unknown}, []string{"10.51.1.2"}, nil, Owner{"it", "cio", []string{}, []string{}}},
		// User entries come first; an entry with the same id replaces the default.
		{layered, ct, nil, []uint16{20}, Owner{"radiology", "ciso", []string{}, []string{}}},
		{layered, ct, nil, []uint16{21}, Owner{"htm", "ciso", []string{"vendor"}, []string{}}},
		{layered, printer, nil, nil, Owner{"facilities", "cio", []string{}, []string{}}},
		{layered, Identity{Category: "it.printer.x"}, nil, nil, Owner{"it", "cio", []string{}, []string{}}},
	}
	for i, tc := range tests {
		if got := tc.e.Owner(tc.id, tc.ips, tc.vlans); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Test %d: expected %+v, got %+v", i, tc.want, got)
		}
	}
	empty, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if got := empty.Owner(ct, nil, nil); got.Responsible != "it" || got.Accountable != "ciso" {
		t.Errorf("no owner entries: expected it/ciso, got %+v", got)
	}
}

func TestAdvisories(t *testing.T) {
	base := newTestEngine(t, "base.yaml")
	layered := newTestEngine(t, "base.yaml", "user.yaml")
	ids := func(as []Advisory) []string {
		var out []string
		for _, a := range as {
			out = append(out, a.ID+"/"+a.Severity)
		}
		return out
	}
	tests := []struct {
		e    *Engine
		id   Identity
		want []string
	}{
		{base, Identity{Vendor: "GE Healthcare", Model: "Revolution CT", Firmware: "2.0.1"}, []string{"ADV-GE-1/high", "ADV-GE-2/low", "ADV-GE-3/critical"}},
		{base, Identity{Vendor: "ge healthcare", Model: "Revolution CT", Firmware: "2.1"}, []string{"ADV-GE-2/low", "ADV-GE-3/critical"}},
		{base, Identity{Vendor: "GE Healthcare", Model: "Revolution CT", Firmware: "2.3"}, []string{"ADV-GE-2/low"}},
		{base, Identity{Vendor: "GE Healthcare", Model: "Optima", Firmware: "1.0"}, []string{"ADV-GE-2/low"}},
		{base, Identity{Vendor: "GE Healthcare", Model: "Revolution CT"}, []string{"ADV-GE-2/low"}},
		{base, Identity{Vendor: "Philips"}, []string{"ADV-OTHER/medium"}},
		{base, Identity{Vendor: "Siemens"}, nil},
		{base, Identity{}, nil},
		{layered, Identity{Vendor: "GE Healthcare"}, []string{"ADV-GE-2/medium"}},
	}
	for i, tc := range tests {
		if got := ids(tc.e.Advisories(tc.id)); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Test %d: expected %v, got %v", i, tc.want, got)
		}
	}
	a := base.Advisories(Identity{Vendor: "GE Healthcare", Model: "Revolution CT", Firmware: "1.0"})[0]
	if a.Source != "test advisory 1" || a.CVSS != 7.5 || a.Remediation != "upgrade" || len(a.References) != 1 || a.Title == "" {
		t.Errorf("expected all advisory fields, got %+v", a)
	}
}

func TestRisk(t *testing.T) {
	e := newTestEngine(t, "base.yaml")
	crit := []Advisory{{Severity: "critical"}}
	tests := []struct {
		category            string
		adv                 []Advisory
		cleartext, external bool
		want                float64
	}{
		{"unknown", nil, false, false, 0},
		{"imaging.ct", nil, false, false, 0},
		{"imaging.ct", crit, true, true, 1 - 0.3*0.7*0.6},
		{"imaging.ct", crit, false, false, 0.7},
		{"it.server", crit, false, false, 0.7 * 0.76},
		{"iot.camera", crit, false, false, 0.7 * 0.64},
		{"unknown", crit, false, false, 0.7 * 0.52},
		{"clinical.infusion_pump", []Advisory{{Severity: "low", CVSS: 9.0}}, false, false, 0.63},
		{"clinical.infusion_pump", nil, true, false, 0.3},
		{"clinical.infusion_pump", nil, false, true, 0.4},
	}
	for i, tc := range tests {
		got := e.Risk(Identity{Category: tc.category}, tc.adv, tc.cleartext, tc.external)
		if got < tc.want-1e-9 || got > tc.want+1e-9 || got < 0 || got > 1 {
			t.Errorf("Test %d: expected %v, got %v", i, tc.want, got)
		}
	}
	// Criticality orders the categories.
	r := func(c string) float64 { return e.Risk(Identity{Category: c}, crit, true, false) }
	if !(r("imaging.ct") == r("clinical.ventilator") && r("clinical.ventilator") > r("it.server") && r("it.server") > r("iot.camera") && r("iot.camera") > r(Unknown)) {
		t.Errorf("expected imaging = clinical > it > iot > unknown")
	}
}

// FuzzLoad: any bytes give errors or an engine, never a panic, and an
// engine identifies without panicking.
func FuzzLoad(f *testing.F) {
	for _, name := range []string{"base.yaml", "user.yaml", "broken.yaml"} {
		f.Add(readTestFile(f, name).Data)
	}
	for _, d := range Defaults() {
		f.Add(d.Data)
	}
	f.Add([]byte("rules:\n  - id: a\n    match:\n      - any_of:\n          - {field: x.y, version: '>=1'}\n    assert: {vendor: '{value}'}\n    weight: 1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		errs := Check(File{Name: "f.yaml", Data: data})
		e, err := New(File{Name: "f.yaml", Data: data})
		if (err == nil) != (len(errs) == 0) {
			t.Fatalf("Check and New disagree: %v vs %v", errs, err)
		}
		if err != nil {
			return
		}
		in := Input{Facts: facts("x.y", "1.2", "dicom.modality", "CT", "asset.ip", "10.0.0.1"), DICOMClients: 2, IPs: []string{"10.0.0.1"}, VLANs: []uint16{5}, MAC: protocols.MAC{2}}
		id := e.Identify(in)
		_ = Explain(id)
		_ = e.Owner(id, in.IPs, in.VLANs)
		_ = e.Risk(id, e.Advisories(id), true, true)
	})
}

func TestRegexLiteralPrefix(t *testing.T) {
	tests := []struct{ expr, want string }{
		{"^android-dhcp-([0-9.]+)$", "android-dhcp-"},
		{"^(GE MEDICAL|GE Healthcare)", "GE "},
		{"^OUL\\^R2[1-4]$", "OUL^R2"},
		{"(?i)^polycom", ""},
		{"android", ""},
		{"^a|b", ""},
		{"^(abc)?d", ""},
		{"^.*x", ""},
	}
	for i, tc := range tests {
		if got := regexLiteralPrefix(tc.expr); got != tc.want {
			t.Errorf("Test %d: %q: expected %q, got %q", i, tc.expr, tc.want, got)
		}
	}
}

// TestOwnerFieldsHeld: every field an owner rule may name (the loader's
// list) is one ownerSubject.holds can test; a field missing there would
// load and never match.
func TestOwnerFieldsHeld(t *testing.T) {
	o := ownerSubject{
		id:    &Identity{Vendor: "v", Model: "v", OS: "v", Firmware: "v", Category: "v", Serial: "v", Medical: true},
		ips:   []string{"v"},
		vlans: []uint16{7},
	}
	for _, f := range ownerFields {
		c := cond{field: f, op: opAny, strs: []string{"v", "true", "7"}}
		if !o.holds(&c) {
			t.Errorf("owner field %s: holds never tests it", f)
		}
	}
}
