package fingerprint

import (
	"regexp"
	"strings"
	"testing"

	"github.com/iomt-sensor/iomt-sensor/protocols"
)

// TestRegexNeeded checks that the literal prefilter never rules out a
// value its expression matches.
func TestRegexNeeded(t *testing.T) {
	exprs := []string{
		`(?i)axis`, `(?i)^(toshiba|canon[ _]?(mec|medical))`, `(?i)b\.? ?braun`,
		`(?i)(lab|lis|analy[sz]er|cobas)`, `^(MacBook|iMac|Mac)[0-9]+,[0-9]+$`,
		`(^|, ?)(router|switch)(,|$)`, `\^MDC_(VENT_|PRESS)`, `^.+$`, `(?i)kodak`,
		`(?i)^(draeger medical|drägerwerk)`, `x*`, `(?i)avaya.*phone`, `a{2,}b`,
		`\^MDC_(FLOW_FLUID_PUMP|VOL_FLUID_(DELIV|TBI))`, `(?i)^philips (medical|patient monitoring|healthcare)`,
		`(?i)cobas ?it.*version`, `Server/[0-9]+ UPnP/1\.0`,
		`(?i)(procurve|^hp j[0-9]{4}|^hpe .*switch)`, `(ab+c.*xyz|(foo|bar).*baz)`,
	}
	values := []string{
		"", "AXIS P1435", "axis", "Canon_Medical", "CANONMEC", "B. Braun", "bbraun",
		"Analyzer 3", "ANALYSER", "iMac14,2", "Mac1,1", "router,switch", "a, switch",
		"150456^MDC_VENT_FLOW", "\u212aodak", "KODAK", "Drägerwerk AG", "DRÄGERWERK",
		"Avaya IP Phone", "aab", "\xff\xfe", "line\nbreak",
		"1^MDC_FLOW_FLUID_PUMP^MDC", "2^MDC_VOL_FLUID_TBI", "Philips Medical Systems", "PHILIPS HEALTHCARE",
		"cobas IT 1000 VERSION 2", "Cobasit\u212a version", "Linux Server/12 UPnP/1.0",
		"HPE 5130 Switch", "hp J9772A", "ProCurve J9021A", "Switch Model 68 rev 2", "hpe router",
		"abbbc-xyz", "bar baz", "foo-baz", "abc xy",
	}
	for _, expr := range exprs {
		re := regexp.MustCompile(expr)
		n := regexNeeded(expr)
		for _, v := range values {
			if re.MatchString(v) && !n.mayMatch(v) {
				t.Errorf("%q on %q: the prefilter %q (fold %v) rules out a match", expr, v, n.lits, n.fold)
			}
			if n.mayMatchAt(oneFact(v), 0) != n.mayMatch(v) {
				t.Errorf("%q on %q: the prefilter on the lowered value differs", expr, v)
			}
		}
	}
}

// TestRegexNeededAll checks that every part of a concatenation narrows the
// prefilter: a value with the common part but none of an alternation's
// literals is ruled out.
func TestRegexNeededAll(t *testing.T) {
	tests := []struct {
		expr, value string
		want        bool
	}{
		{`\^MDC_(VENT_|PRESS_AWAY_END_EXP_POS)`, "147842^MDC_ECG_HEART_RATE^MDC", false},
		{`\^MDC_(VENT_|PRESS_AWAY_END_EXP_POS)`, "1^MDC_VENT_RESP_RATE^MDC", true},
		{`(?i)avaya.*phone`, "Avaya switch", false},
		{`(?i)avaya.*phone`, "avaya IP PHONE", true},
		{`(?i)(procurve|^hp j[0-9]{4}|^hpe .*switch)`, "Switch Model 68 rev 2", false},
		{`(?i)(procurve|^hp j[0-9]{4}|^hpe .*switch)`, "HPE 5130 switch", true},
		{`(?i)(procurve|^hp j[0-9]{4}|^hpe .*switch)`, "hpe router", false},
	}
	for i, tc := range tests {
		n := regexNeeded(tc.expr)
		if got := n.mayMatch(tc.value); got != tc.want {
			t.Errorf("Test %d (%s on %q): expected %v, got %v", i, tc.expr, tc.value, tc.want, got)
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

// TestContainsIgnoreCase checks that contains with ignore_case gives what a
// scan with strings.EqualFold at every start gives, also for values with
// non-ASCII letters that fold to ASCII ones (the Kelvin sign, the long s)
// and invalid UTF-8.
func TestContainsIgnoreCase(t *testing.T) {
	strs := []string{"agent33/", "k", "Kodak", "SS", "a-b", "@x", "Zz", "phone"}
	values := []string{
		"", "k", "K", "\u212a", "\u212aodak", "KODAK 2", "xx kodak", "ss", "\u017fs", "SS",
		"Mozilla/5.0 AGENT33/1.0", "agent3/ agent33/", "a-B", "`x", "@X", "zZz", "\xff\xfeK",
		"IP PHONE", "phon", "pHoNe!",
	}
	for _, str := range strs {
		c := cond{op: opContains, ignoreCase: true, str: str, lower: strings.ToLower(str), lowerB: []byte(strings.ToLower(str))}
		for _, v := range values {
			want := false
			for i := 0; i+len(str) <= len(v); i++ {
				if v[i]|0x20 == str[0]|0x20 && strings.EqualFold(v[i:i+len(str)], str) {
					want = true
					break
				}
			}
			if got := c.test(v); got != want {
				t.Errorf("contains %q on %q: expected %v, got %v", str, v, want, got)
			}
			if got := c.testAt(oneFact(v), 0); got != want {
				t.Errorf("contains %q on %q (lowered once): expected %v, got %v", str, v, want, got)
			}
		}
	}
}

// oneFact is an Identify scratch holding the single fact x = v.
func oneFact(v string) *scratch {
	return &scratch{src: []protocols.Fact{{Name: "x", Value: v}}, lowOff: []int32{-1}, lowASCII: []bool{false}}
}

// TestNonEmptyLine checks the shortcut for ^.+$ against the expression.
func TestNonEmptyLine(t *testing.T) {
	for _, expr := range []string{"^.+$", "(?i)^.+$"} {
		re := regexp.MustCompile(expr)
		c := cond{op: opRegex, re: re, need: regexNeeded(expr), nonEmptyLine: true}
		for _, v := range []string{"", "a", "Scanner X", "\n", "a\n", "\na", "\r", "\xff", "\xff\xfe", "\x00", "K"} {
			if got, want := c.test(v), re.MatchString(v); got != want {
				t.Errorf("%s on %q: expected %v, got %v", expr, v, want, got)
			}
			if got, want := c.testAt(oneFact(v), 0), re.MatchString(v); got != want {
				t.Errorf("%s on %q (testAt): expected %v, got %v", expr, v, want, got)
			}
		}
	}
}
