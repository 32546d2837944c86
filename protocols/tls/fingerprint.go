package tls

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
)

// ja3String builds the JA3 string of a ClientHello as Salesforce published
// it (github.com/salesforce/ja3): SSLVersion,Ciphers,Extensions,
// EllipticCurves,EllipticCurvePointFormats, decimal values joined by "-",
// GREASE values (RFC 8701) removed from every list; empty lists leave their
// commas. SSLVersion is the ClientHello's legacy_version.
func ja3String(h *hello) string {
	b := strconv.AppendUint(nil, uint64(h.version), 10)
	list := func(vs []uint16) {
		b = append(b, ',')
		first := true
		for _, v := range vs {
			if isGREASE(v) {
				continue
			}
			if !first {
				b = append(b, '-')
			}
			first = false
			b = strconv.AppendUint(b, uint64(v), 10)
		}
	}
	list(h.ciphers)
	list(h.extensions)
	list(h.groups)
	b = append(b, ',')
	for i, f := range h.pointFormats {
		if i > 0 {
			b = append(b, '-')
		}
		b = strconv.AppendUint(b, uint64(f), 10)
	}
	return string(b)
}

// ja3Hash is the lower-case hex MD5 of a JA3 string.
func ja3Hash(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// ja4 builds the JA4 fingerprint of a ClientHello as FoxIO published it
// (github.com/FoxIO-LLC/ja4, technical_details/JA4.md): proto ('t' for TLS
// over TCP), version, 'd' with SNI or 'i' without, two-digit cipher and
// extension counts, the first and last characters of the first ALPN value;
// then the first 12 hex digits of the SHA-256 of the sorted cipher list, and
// of the sorted extension list (SNI and ALPN left out) followed by "_" and
// the signature algorithms in wire order. GREASE is ignored everywhere.
func ja4(h *hello, proto byte) string {
	a, b, c := ja4Parts(h, proto)
	out := make([]byte, 0, 36)
	out = append(out, a...)
	out = append(out, '_')
	out = append(out, ja4Hash(b)...)
	out = append(out, '_')
	out = append(out, ja4Hash(c)...)
	return string(out)
}

// ja4Raw is JA4_r: the same with the lists in clear instead of hashed.
func ja4Raw(h *hello, proto byte) string {
	a, b, c := ja4Parts(h, proto)
	return a + "_" + b + "_" + c
}

// ja4Parts returns JA4's a section and the b and c strings before hashing.
func ja4Parts(h *hello, proto byte) (a, b, c string) {
	version := h.version
	if len(h.versions) > 0 {
		version = 0
		for _, v := range h.versions {
			if !isGREASE(v) && v > version {
				version = v
			}
		}
	}
	sec := []byte{proto}
	switch version {
	case 0x0304:
		sec = append(sec, "13"...)
	case 0x0303:
		sec = append(sec, "12"...)
	case 0x0302:
		sec = append(sec, "11"...)
	case 0x0301:
		sec = append(sec, "10"...)
	case 0x0300:
		sec = append(sec, "s3"...)
	case 0x0002:
		sec = append(sec, "s2"...)
	case 0xfeff:
		sec = append(sec, "d1"...)
	case 0xfefd:
		sec = append(sec, "d2"...)
	case 0xfefc:
		sec = append(sec, "d3"...)
	default:
		sec = append(sec, "00"...)
	}
	if h.hasSNI {
		sec = append(sec, 'd')
	} else {
		sec = append(sec, 'i')
	}
	ciphers := withoutGREASE(h.ciphers)
	exts := withoutGREASE(h.extensions)
	sec = appendCount(sec, len(ciphers))
	sec = appendCount(sec, len(exts))
	sec = append(sec, alpnChars(h.alpn)...)

	slices.Sort(ciphers)
	b = hexList(ciphers)
	sorted := exts[:0]
	for _, e := range exts {
		if e != extServerName && e != extALPN {
			sorted = append(sorted, e)
		}
	}
	slices.Sort(sorted)
	c = hexList(sorted)
	if sigs := withoutGREASE(h.sigAlgs); len(sigs) > 0 {
		c += "_" + hexList(sigs)
	}
	return string(sec), b, c
}

// ja4Hash is the first 12 hex digits of the SHA-256 of s, or twelve zeros
// when the list it holds is empty.
func ja4Hash(s string) string {
	if s == "" {
		return "000000000000"
	}
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:6])
}

func withoutGREASE(vs []uint16) []uint16 {
	out := make([]uint16, 0, len(vs))
	for _, v := range vs {
		if !isGREASE(v) {
			out = append(out, v)
		}
	}
	return out
}

// appendCount appends n as two decimal digits, 99 at most.
func appendCount(b []byte, n int) []byte {
	n = min(n, 99)
	return append(b, byte('0'+n/10), byte('0'+n%10))
}

func hexList(vs []uint16) string {
	b := make([]byte, 0, len(vs)*5)
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendHex4(b, v)
	}
	return string(b)
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}

// alpnChars returns JA4's ALPN characters: "00" without a (non-empty) first
// value, its first and last characters when both are alphanumeric, else the
// first and last characters of its hex form.
func alpnChars(alpn [][]byte) string {
	if len(alpn) == 0 || len(alpn[0]) == 0 {
		return "00"
	}
	p := alpn[0]
	first, last := p[0], p[len(p)-1]
	if isAlnum(first) && isAlnum(last) {
		return string([]byte{first, last})
	}
	return string([]byte{hexDigits[first>>4], hexDigits[last&0xf]})
}
