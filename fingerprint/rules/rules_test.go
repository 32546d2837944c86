package rules_test

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The structs mirror the shared rule file schema, so that KnownFields(true)
// rejects any key the engine would not understand.

type condition struct {
	Field      string      `yaml:"field"`
	Equals     *string     `yaml:"equals"`
	Prefix     *string     `yaml:"prefix"`
	Suffix     *string     `yaml:"suffix"`
	Contains   *string     `yaml:"contains"`
	Regex      *string     `yaml:"regex"`
	Version    *string     `yaml:"version"`
	Min        *float64    `yaml:"min"`
	Max        *float64    `yaml:"max"`
	Any        []string    `yaml:"any"`
	CIDR       *string     `yaml:"cidr"`
	IgnoreCase bool        `yaml:"ignore_case"`
	AnyOf      []condition `yaml:"any_of"`
}

type assertion struct {
	Vendor   string `yaml:"vendor"`
	Model    string `yaml:"model"`
	OS       string `yaml:"os"`
	Firmware string `yaml:"firmware"`
	Category string `yaml:"category"`
	Medical  *bool  `yaml:"medical"`
}

type rule struct {
	ID          string      `yaml:"id"`
	Description string      `yaml:"description"`
	Source      string      `yaml:"source"`
	Match       []condition `yaml:"match"`
	Assert      assertion   `yaml:"assert"`
	Weight      float64     `yaml:"weight"`
}

type owner struct {
	Responsible string   `yaml:"responsible"`
	Accountable string   `yaml:"accountable"`
	Consulted   []string `yaml:"consulted"`
	Informed    []string `yaml:"informed"`
}

type ownerRule struct {
	ID    string      `yaml:"id"`
	Match []condition `yaml:"match"`
	Owner owner       `yaml:"owner"`
}

type advisory struct {
	ID          string   `yaml:"id"`
	Source      string   `yaml:"source"`
	Title       string   `yaml:"title"`
	Vendor      string   `yaml:"vendor"`
	Model       string   `yaml:"model"`
	Versions    string   `yaml:"versions"`
	Severity    string   `yaml:"severity"`
	CVSS        *float64 `yaml:"cvss"`
	Remediation string   `yaml:"remediation"`
	References  []string `yaml:"references"`
}

type file struct {
	Rules      []rule      `yaml:"rules"`
	Owners     []ownerRule `yaml:"owners"`
	Advisories []advisory  `yaml:"advisories"`
}

// categories is fingerprint.Categories (fingerprint/category.go), copied so
// that this test does not depend on the engine package.
var categories = []string{
	"imaging.ct", "imaging.mr", "imaging.us", "imaging.cr", "imaging.dx", "imaging.mg",
	"imaging.nm", "imaging.pt", "imaging.xa", "imaging.rf", "imaging.ot",
	"imaging.pacs", "imaging.workstation",
	"clinical.patient_monitor", "clinical.infusion_pump", "clinical.ventilator",
	"clinical.lab_analyzer", "clinical.interface_engine", "clinical.ehr", "clinical.point_of_care",
	"it.workstation", "it.server", "it.printer", "it.phone", "it.network",
	"iot.camera", "iot.building",
	"unknown",
}

var (
	versionTerm = regexp.MustCompile(`^\s*(<=|>=|<|>|=|==|!=)?\s*[0-9]+(\.[0-9xX*]+)*\s*$`)
	severities  = map[string]bool{"info": true, "low": true, "medium": true, "high": true, "critical": true}
)

func loadFiles(t *testing.T) map[string]file {
	t.Helper()
	paths, err := filepath.Glob("*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatal("no rule files")
	}
	out := map[string]file{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		var f file
		if err := dec.Decode(&f); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		out[p] = f
	}
	return out
}

func checkVersion(expr string) bool {
	if expr == "" {
		return true
	}
	for _, term := range strings.Split(expr, ",") {
		if !versionTerm.MatchString(term) {
			return false
		}
	}
	return true
}

// checkCondition reports what is wrong with c, or "".
func checkCondition(c condition, identityOnly bool) string {
	if len(c.AnyOf) > 0 {
		if c.Field != "" {
			return "any_of with a field"
		}
		for _, n := range c.AnyOf {
			if msg := checkCondition(n, identityOnly); msg != "" {
				return "any_of: " + msg
			}
		}
		return ""
	}
	if c.Field == "" {
		return "condition without field"
	}
	if identityOnly && !strings.HasPrefix(c.Field, "identity.") && !strings.HasPrefix(c.Field, "asset.") {
		return "owner condition on " + c.Field
	}
	ops := 0
	for _, set := range []bool{c.Equals != nil, c.Prefix != nil, c.Suffix != nil, c.Contains != nil,
		c.Regex != nil, c.Version != nil, c.Min != nil || c.Max != nil, len(c.Any) > 0, c.CIDR != nil} {
		if set {
			ops++
		}
	}
	if ops != 1 {
		return "condition on " + c.Field + " needs exactly one operator"
	}
	if c.Regex != nil {
		if _, err := regexp.Compile(*c.Regex); err != nil {
			return "regex: " + err.Error()
		}
	}
	if c.Version != nil && !checkVersion(*c.Version) {
		return "bad version expression " + *c.Version
	}
	if c.CIDR != nil {
		if _, err := netip.ParsePrefix(*c.CIDR); err != nil {
			return "cidr: " + err.Error()
		}
	}
	return ""
}

func TestRuleFiles(t *testing.T) {
	files := loadFiles(t)
	ids := map[string]string{}
	counts := map[string]int{}
	for name, f := range files {
		for _, r := range f.Rules {
			counts[name]++
			if r.ID == "" {
				t.Errorf("%s: rule without id", name)
				continue
			}
			if prev, dup := ids[r.ID]; dup {
				t.Errorf("%s: rule id %s already in %s", name, r.ID, prev)
			}
			ids[r.ID] = name
			if strings.TrimSpace(r.Source) == "" {
				t.Errorf("%s: %s has no source", name, r.ID)
			}
			if strings.TrimSpace(r.Description) == "" {
				t.Errorf("%s: %s has no description", name, r.ID)
			}
			if !(r.Weight > 0 && r.Weight <= 1) {
				t.Errorf("%s: %s weight %v not in (0,1]", name, r.ID, r.Weight)
			}
			if len(r.Match) == 0 {
				t.Errorf("%s: %s matches nothing", name, r.ID)
			}
			for _, c := range r.Match {
				if msg := checkCondition(c, false); msg != "" {
					t.Errorf("%s: %s: %s", name, r.ID, msg)
				}
			}
			if c := r.Assert.Category; c != "" && !contains(categories, c) {
				t.Errorf("%s: %s: unknown category %q", name, r.ID, c)
			}
			a := r.Assert
			if a.Vendor == "" && a.Model == "" && a.OS == "" && a.Firmware == "" && a.Category == "" && a.Medical == nil {
				t.Errorf("%s: %s asserts nothing", name, r.ID)
			}
			if a.Medical != nil && a.Category != "" && *a.Medical != isMedical(a.Category) {
				t.Errorf("%s: %s: medical %v contradicts category %s", name, r.ID, *a.Medical, a.Category)
			}
		}
		for _, o := range f.Owners {
			if o.ID == "" || o.Owner.Responsible == "" || o.Owner.Accountable == "" {
				t.Errorf("%s: owner entry %q needs id, responsible and accountable", name, o.ID)
			}
			if prev, dup := ids[o.ID]; dup {
				t.Errorf("%s: owner id %s already in %s", name, o.ID, prev)
			}
			ids[o.ID] = name
			for _, c := range o.Match {
				if msg := checkCondition(c, true); msg != "" {
					t.Errorf("%s: %s: %s", name, o.ID, msg)
				}
			}
		}
		for _, a := range f.Advisories {
			if prev, dup := ids[a.ID]; dup {
				t.Errorf("%s: advisory id %s already in %s", name, a.ID, prev)
			}
			ids[a.ID] = name
			if a.ID == "" || a.Source == "" || a.Title == "" || a.Vendor == "" || a.Remediation == "" || len(a.References) == 0 {
				t.Errorf("%s: advisory %q needs id, source, title, vendor, remediation and references", name, a.ID)
			}
			if !severities[a.Severity] {
				t.Errorf("%s: %s: severity %q", name, a.ID, a.Severity)
			}
			if a.CVSS != nil && (*a.CVSS < 0 || *a.CVSS > 10) {
				t.Errorf("%s: %s: cvss %v", name, a.ID, *a.CVSS)
			}
			if _, err := regexp.Compile(a.Model); err != nil {
				t.Errorf("%s: %s: model regex: %v", name, a.ID, err)
			}
			if !checkVersion(a.Versions) {
				t.Errorf("%s: %s: versions %q", name, a.ID, a.Versions)
			}
			for _, ref := range a.References {
				if !strings.HasPrefix(ref, "https://") && !strings.HasPrefix(ref, "http://") {
					t.Errorf("%s: %s: reference %q is not a URL", name, a.ID, ref)
				}
			}
		}
	}
	t.Logf("rules per file: %v; %d ids in all", counts, len(ids))
}

func TestCategoriesMatchEngine(t *testing.T) {
	// When the engine's category list changes, this copy must follow.
	b, err := os.ReadFile(filepath.Join("..", "category.go"))
	if err != nil {
		t.Skipf("engine category list not readable: %v", err)
	}
	for _, c := range categories {
		if c == "unknown" {
			continue
		}
		if !bytes.Contains(b, []byte(`"`+c+`"`)) {
			t.Errorf("category %s is not in fingerprint/category.go", c)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func isMedical(category string) bool {
	return strings.HasPrefix(category, "clinical.") || strings.HasPrefix(category, "imaging.")
}
