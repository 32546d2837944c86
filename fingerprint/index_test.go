package fingerprint

import (
	"regexp"
	"testing"
)

// TestRegexNeeded checks that the literal prefilter never rules out a
// value its expression matches.
func TestRegexNeeded(t *testing.T) {
	exprs := []string{
		`(?i)axis`, `(?i)^(toshiba|canon[ _]?(mec|medical))`, `(?i)b\.? ?braun`,
		`(?i)(lab|lis|analy[sz]er|cobas)`, `^(MacBook|iMac|Mac)[0-9]+,[0-9]+$`,
		`(^|, ?)(router|switch)(,|$)`, `\^MDC_(VENT_|PRESS)`, `^.+$`, `(?i)kodak`,
		`(?i)^(draeger medical|drägerwerk)`, `x*`, `(?i)avaya.*phone`, `a{2,}b`,
	}
	values := []string{
		"", "AXIS P1435", "axis", "Canon_Medical", "CANONMEC", "B. Braun", "bbraun",
		"Analyzer 3", "ANALYSER", "iMac14,2", "Mac1,1", "router,switch", "a, switch",
		"150456^MDC_VENT_FLOW", "\u212aodak", "KODAK", "Drägerwerk AG", "DRÄGERWERK",
		"Avaya IP Phone", "aab", "\xff\xfe", "line\nbreak",
	}
	for _, expr := range exprs {
		re := regexp.MustCompile(expr)
		n := regexNeeded(expr)
		for _, v := range values {
			if re.MatchString(v) && !n.mayMatch(v) {
				t.Errorf("%q on %q: the prefilter %q (fold %v) rules out a match", expr, v, n.lits, n.fold)
			}
		}
	}
}

func TestRegexNeededLiterals(t *testing.T) {
	tests := []struct {
		expr string
		want []string
		fold bool
	}{
		{`(?i)axis`, []string{"axis"}, true},
		{`^Cisco (IOS|NX-OS)`, []string{"Cisco "}, false},
		{`(?i)b\.? ?braun`, []string{"braun"}, true},
		{`^.+$`, nil, false},
		{`[0-9]+`, nil, false},
	}
	for i, tc := range tests {
		n := regexNeeded(tc.expr)
		if len(n.lits) != len(tc.want) || n.fold != tc.fold {
			t.Errorf("Test %d (%s): expected %q fold %v, got %q fold %v", i, tc.expr, tc.want, tc.fold, n.lits, n.fold)
			continue
		}
		for j := range n.lits {
			if n.lits[j] != tc.want[j] {
				t.Errorf("Test %d (%s): expected %q, got %q", i, tc.expr, tc.want, n.lits)
			}
		}
	}
}
