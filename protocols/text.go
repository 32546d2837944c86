package protocols

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Helpers that decoders share for turning wire bytes into safe values and
// for wrapping the sentinel errors.

// Text returns b, cut to limit bytes and trailing NULs, spaces and line
// ends, as valid UTF-8 without control characters (line breaks and tabs are
// kept when multiline): what a decoder may put in a fact.
func Text(b []byte, limit int, multiline bool) string {
	if len(b) > limit {
		b = b[:limit]
	}
	for len(b) > 0 && (b[len(b)-1] == 0 || b[len(b)-1] == ' ' || b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	clean := utf8.Valid(b)
	for _, c := range b {
		if !clean {
			break
		}
		clean = !(c < 0x20 || c == 0x7f) || multiline && (c == '\n' || c == '\r' || c == '\t')
	}
	if clean {
		return string(b)
	}
	var sb strings.Builder
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r < 0x20 && !(multiline && (r == '\n' || r == '\r' || r == '\t')) || r == 0x7f {
			r = utf8.RuneError
		}
		sb.WriteRune(r)
		b = b[n:]
	}
	return sb.String()
}

// IsHostname reports whether s is plausible as a host name: letters,
// digits, hyphens, underscores and dots, at most 253 bytes.
func IsHostname(s string) bool {
	if s == "" || len(s) > 253 || s[0] == '.' || s[0] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_') {
			return false
		}
	}
	return true
}

// Unsupportedf returns an error wrapping ErrUnsupported.
func Unsupportedf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrUnsupported}, args...)...)
}

// TooLongf returns an error wrapping ErrTooLong.
func TooLongf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrTooLong}, args...)...)
}

// Hash64 is the 64-bit FNV-1a hash of b, for telling repeats apart.
func Hash64(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h = (h ^ uint64(c)) * 1099511628211
	}
	return h
}

// AppendPrintable appends to dst the printable ASCII (0x20-0x7e) of b,
// without leading or trailing spaces, at most limit bytes of it: for
// values such as host names and certificate names that are ASCII by rule.
func AppendPrintable(dst, b []byte, limit int) []byte {
	start := len(dst)
	for _, c := range b {
		if len(dst)-start == limit {
			break
		}
		if c < 0x20 || c > 0x7e || (c == ' ' && len(dst) == start) {
			continue
		}
		dst = append(dst, c)
	}
	for len(dst) > start && dst[len(dst)-1] == ' ' {
		dst = dst[:len(dst)-1]
	}
	return dst
}

// IsPrintable reports whether AppendPrintable would append all of b
// unchanged, so that b can be used as it is.
func IsPrintable(b []byte, limit int) bool {
	if len(b) > limit || len(b) > 0 && (b[0] == ' ' || b[len(b)-1] == ' ') {
		return false
	}
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}
