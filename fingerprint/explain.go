package fingerprint

import (
	"fmt"
	"strings"
)

// Explain describes in plain text why an asset got its identity: each
// attribute with its value and score, the rules (with description and
// source) and the facts behind it, and the losing candidates.
func Explain(id Identity) string {
	var b strings.Builder
	fmt.Fprintf(&b, "identity: vendor=%q model=%q os=%q firmware=%q category=%s medical=%v confidence=%.2f\n",
		id.Vendor, id.Model, id.OS, id.Firmware, id.Category, id.Medical, id.Confidence)
	if id.Serial != "" {
		fmt.Fprintf(&b, "serial: %q (fact dicom.serial)\n", id.Serial)
	}
	if len(id.Evidence) == 0 {
		b.WriteString("no rule matched: the asset is unidentified\n")
		return b.String()
	}
	byID := make(map[string]*Match, len(id.Evidence))
	for i := range id.Evidence {
		byID[id.Evidence[i].Rule] = &id.Evidence[i]
	}
	for _, attr := range attributes {
		cands := id.Candidates[attr]
		if len(cands) == 0 {
			continue
		}
		total := 0.0
		for _, c := range cands {
			total += c.Score
		}
		fmt.Fprintf(&b, "\n%s = %q (score %.2f of %.2f)\n", attr, cands[0].Value, cands[0].Score, total)
		for i, c := range cands {
			if i > 0 {
				fmt.Fprintf(&b, "  lost: %q (score %.2f)\n", c.Value, c.Score)
			}
			for _, r := range c.Rules {
				m := byID[r]
				if m == nil {
					fmt.Fprintf(&b, "    rule %s\n", r)
					continue
				}
				fmt.Fprintf(&b, "    rule %s (weight %.2f): %s\n", m.Rule, m.Weight, m.Description)
				fmt.Fprintf(&b, "      because %s = %q\n", m.Field, m.Value)
				if m.Source != "" {
					fmt.Fprintf(&b, "      source: %s\n", m.Source)
				}
			}
		}
	}
	if id.Category == Unknown {
		b.WriteString("\ncategory = unknown: no rule asserted a category\n")
	}
	if _, ok := id.Candidates["medical"]; !ok || id.Category != Unknown {
		fmt.Fprintf(&b, "medical = %v: ", id.Medical)
		if id.Category != Unknown {
			b.WriteString("clinical.* and imaging.* categories are medical\n")
		} else {
			b.WriteString("no category and no rule asserted it\n")
		}
	}
	return b.String()
}
