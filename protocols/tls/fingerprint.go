package tls

import (
	"crypto/md5"
	"crypto/sha256"
	"slices"
)

// ja3String builds the JA3 string of a ClientHello as Salesforce published
// it (github.com/salesforce/ja3): SSLVersion,Ciphers,Extensions,
// EllipticCurves,EllipticCurvePointFormats, decimal values joined by "-",
// GREASE values (RFC 8701) removed from every list (parseHello drops them);
// empty lists leave their commas. SSLVersion is the ClientHello's
// legacy_version.
func ja3String(h *hello) string {
	var buf [512]byte
	return string(appendJA3(buf[:0], h))
}

// appendJA3 appends the JA3 string of h to b.
func appendJA3(b []byte, h *hello) []byte {
	b = appendDecimal(b, h.version)
	b = appendDecimals(b, h.ciphers)
	b = appendDecimals(b, h.extensions)
	b = appendDecimals(b, h.groups)
	b = append(b, ',')
	for i, f := range h.pointFormats {
		if i > 0 {
			b = append(b, '-')
		}
		b = appendDecimal(b, uint16(f))
	}
	return b
}

// appendDecimals appends ',' and the values of vs in decimal, joined by '-'.
func appendDecimals(b []byte, vs []uint16) []byte {
	b = append(b, ',')
	for i, v := range vs {
		if i > 0 {
			b = append(b, '-')
		}
		b = appendDecimal(b, v)
	}
	return b
}

// appendDecimal appends v in decimal: strconv.AppendUint without its
// intermediate buffer and copy, which JA3's hundred-odd numbers feel.
func appendDecimal(b []byte, v uint16) []byte {
	switch {
	case v < 10:
		return append(b, byte('0'+v))
	case v < 100:
		return append(b, byte('0'+v/10), byte('0'+v%10))
	case v < 1000:
		return append(b, byte('0'+v/100), byte('0'+v/10%10), byte('0'+v%10))
	case v < 10000:
		return append(b, byte('0'+v/1000), byte('0'+v/100%10), byte('0'+v/10%10), byte('0'+v%10))
	}
	return append(b, byte('0'+v/10000), byte('0'+v/1000%10), byte('0'+v/100%10), byte('0'+v/10%10), byte('0'+v%10))
}

// ja3Hash is the lower-case hex MD5 of a JA3 string.
func ja3Hash(s string) string {
	var buf [2 * md5.Size]byte
	return string(appendJA3Hash(buf[:0], []byte(s)))
}

// appendJA3Hash appends the lower-case hex MD5 of the JA3 string s to b.
func appendJA3Hash(b, s []byte) []byte {
	sum := md5.Sum(s)
	return appendHexBytes(b, sum[:])
}

// ja4 builds the JA4 fingerprint of a ClientHello as FoxIO published it
// (github.com/FoxIO-LLC/ja4, technical_details/JA4.md): proto ('t' for TLS
// over TCP), version, 'd' with SNI or 'i' without, two-digit cipher and
// extension counts, the first and last characters of the first ALPN value;
// then the first 12 hex digits of the SHA-256 of the sorted cipher list, and
// of the sorted extension list (SNI and ALPN left out) followed by "_" and
// the signature algorithms in wire order. GREASE is ignored everywhere
// (parseHello drops it).
func ja4(h *hello, proto byte) string {
	var buf [36]byte
	return string(appendJA4(buf[:0], h, proto))
}

// appendJA4 appends the JA4 fingerprint of h to out.
func appendJA4(out []byte, h *hello, proto byte) []byte {
	var scratch [1024]byte
	out = appendJA4A(out, h, proto)
	out = append(out, '_')
	out = appendJA4Hash(out, appendJA4B(scratch[:0], h))
	out = append(out, '_')
	return appendJA4Hash(out, appendJA4C(scratch[:0], h))
}

// ja4Raw is JA4_r: the same with the lists in clear instead of hashed.
func ja4Raw(h *hello, proto byte) string {
	b := appendJA4A(nil, h, proto)
	b = append(b, '_')
	b = appendJA4B(b, h)
	b = append(b, '_')
	return string(appendJA4C(b, h))
}

// appendJA4A appends JA4's a section.
func appendJA4A(sec []byte, h *hello, proto byte) []byte {
	sec = append(sec, proto)
	switch h.highest {
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
	sec = appendCount(sec, len(h.ciphers))
	sec = appendCount(sec, len(h.extensions))
	return appendALPNChars(sec, h.alpn)
}

// appendJA4B appends JA4's b string before hashing: the sorted cipher list.
func appendJA4B(b []byte, h *hello) []byte {
	var tmp [128]uint16
	ciphers := append(tmp[:0], h.ciphers...)
	sortShort(ciphers)
	return appendHexList(b, ciphers)
}

// appendJA4C appends JA4's c string before hashing: the sorted extension
// list without SNI and ALPN, then "_" and the signature algorithms.
func appendJA4C(c []byte, h *hello) []byte {
	var tmp [64]uint16
	exts := tmp[:0]
	for _, v := range h.extensions {
		if v != extServerName && v != extALPN {
			exts = append(exts, v)
		}
	}
	sortShort(exts)
	c = appendHexList(c, exts)
	if len(h.sigAlgs) > 0 {
		c = append(c, '_')
		c = appendHexList(c, h.sigAlgs)
	}
	return c
}

// sortShort sorts s: by insertion when it is as short as a hello's lists
// usually are (slices.Sort costs more there), else with slices.Sort.
func sortShort(s []uint16) {
	if len(s) > 32 {
		slices.Sort(s)
		return
	}
	for i := 1; i < len(s); i++ {
		v, j := s[i], i
		for ; j > 0 && s[j-1] > v; j-- {
			s[j] = s[j-1]
		}
		s[j] = v
	}
}

// ja4Hash is the first 12 hex digits of the SHA-256 of s, or twelve zeros
// when the list it holds is empty.
func ja4Hash(s string) string {
	var buf [12]byte
	return string(appendJA4Hash(buf[:0], []byte(s)))
}

// appendJA4Hash appends ja4Hash of s to b.
func appendJA4Hash(b, s []byte) []byte {
	if len(s) == 0 {
		return append(b, "000000000000"...)
	}
	sum := sha256.Sum256(s)
	return appendHexBytes(b, sum[:6])
}

// appendCount appends n as two decimal digits, 99 at most.
func appendCount(b []byte, n int) []byte {
	n = min(n, 99)
	return append(b, byte('0'+n/10), byte('0'+n%10))
}

func appendHexList(b []byte, vs []uint16) []byte {
	if len(vs) == 0 {
		return b
	}
	for _, v := range vs {
		b = append(b, hexDigits[v>>12], hexDigits[v>>8&0xf], hexDigits[v>>4&0xf], hexDigits[v&0xf], ',')
	}
	return b[:len(b)-1]
}

// appendHexBytes appends the lower-case hex of p: hex.AppendEncode, inlined.
func appendHexBytes(b, p []byte) []byte {
	for _, c := range p {
		b = append(b, hexDigits[c>>4], hexDigits[c&0xf])
	}
	return b
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}

// alpnChars returns JA4's ALPN characters: "00" without a (non-empty) first
// value, its first and last characters when both are alphanumeric, else the
// first and last characters of its hex form.
func alpnChars(alpn [][]byte) string {
	return string(appendALPNChars(nil, alpn))
}

// appendALPNChars appends alpnChars(alpn) to b.
func appendALPNChars(b []byte, alpn [][]byte) []byte {
	if len(alpn) == 0 || len(alpn[0]) == 0 {
		return append(b, "00"...)
	}
	p := alpn[0]
	first, last := p[0], p[len(p)-1]
	if isAlnum(first) && isAlnum(last) {
		return append(b, first, last)
	}
	return append(b, hexDigits[first>>4], hexDigits[last&0xf])
}
