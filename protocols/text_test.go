package protocols

import (
	"errors"
	"fmt"
	"testing"
)

func TestText(t *testing.T) {
	tests := []struct {
		in        string
		limit     int
		multiline bool
		want      string
	}{
		{"Switch\x00\x00", 64, false, "Switch"},
		{"Cisco IOS\r\nVersion 12.2", 64, true, "Cisco IOS\r\nVersion 12.2"},
		{"Cisco IOS\r\nVersion 12.2", 64, false, "Cisco IOS\uFFFD\uFFFDVersion 12.2"},
		{"abcdef", 3, false, "abc"},
		{"bad\xffbyte", 64, false, "bad\uFFFDbyte"},
		{"del\x7f", 64, false, "del\uFFFD"},
	}
	for i, tc := range tests {
		if got := Text([]byte(tc.in), tc.limit, tc.multiline); got != tc.want {
			t.Errorf("Test %d: Text(%q): expected %q, got %q", i, tc.in, tc.want, got)
		}
	}
	for i, tc := range []struct {
		in   string
		want bool
	}{{"S1.cisco.com", true}, {"ICU-MONITOR-3", true}, {"", false}, {"-x", false}, {"a b", false}, {"10.0.0.1", true}} {
		if got := IsHostname(tc.in); got != tc.want {
			t.Errorf("Test %d: IsHostname(%q): expected %v, got %v", i, tc.in, tc.want, got)
		}
	}
}

func TestReason(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{nil, ""},
		{SkipFlow, ""},
		{fmt.Errorf("tls: %w", SkipFlow), ""},
		{Malformedf("bad %d", 1), "malformed"},
		{fmt.Errorf("%w: 70000 bytes", ErrTooLong), "too_long"},
		{fmt.Errorf("%w: v3", ErrUnsupported), "unsupported"},
		{errors.New("eof"), "other"},
	}
	for _, tt := range tests {
		if got := Reason(tt.err); got != tt.want {
			t.Errorf("Reason(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

func TestAppendPrintable(t *testing.T) {
	tests := []struct {
		in    string
		limit int
		want  string
		clean bool // IsPrintable: appended unchanged
	}{
		{"example.org", 64, "example.org", true},
		{"", 64, "", true},
		{"a b", 64, "a b", true},
		{"  padded  ", 64, "padded", false},
		{"ctl\x00\x07char\xff", 64, "ctlchar", false},
		{"abcdefgh", 5, "abcde", false},
		{"abc  def", 4, "abc", false}, // cut at the limit, then trimmed
	}
	for _, tt := range tests {
		got := AppendPrintable([]byte("x:"), []byte(tt.in), tt.limit)
		if string(got) != "x:"+tt.want {
			t.Errorf("AppendPrintable(%q, %d) = %q, want %q", tt.in, tt.limit, got, "x:"+tt.want)
		}
		if c := IsPrintable([]byte(tt.in), tt.limit); c != tt.clean {
			t.Errorf("IsPrintable(%q, %d) = %v, want %v", tt.in, tt.limit, c, tt.clean)
		}
	}
}
