package dhcp

import "strconv"

// sanitize turns an option's text into a printable value: it cuts at the
// first NUL (some clients terminate strings), keeps printable ASCII only
// (0x20-0x7e), trims spaces and caps the result at maxString bytes.
func sanitize(b []byte) string {
	var buf [maxString]byte
	n := 0
	for _, c := range b {
		if c == 0 {
			break
		}
		if c < 0x20 || c > 0x7e || (c == ' ' && n == 0) {
			continue
		}
		if n == len(buf) {
			break
		}
		buf[n] = c
		n++
	}
	for n > 0 && buf[n-1] == ' ' {
		n--
	}
	return string(buf[:n])
}

const hexDigits = "0123456789abcdef"

// clientID formats option 61 (RFC 2132 §9.14). A hardware type 1 with a
// 6-byte address becomes "01:aa:bb:cc:dd:ee:ff"; any other identifier
// (RFC 4361 IAID+DUID, free-form) becomes lower-case hex, capped at
// maxString characters.
func clientID(v []byte) string {
	if len(v) == 7 && v[0] == 1 {
		var b [20]byte
		for i, c := range v {
			if i > 0 {
				b[i*3-1] = ':'
			}
			b[i*3] = hexDigits[c>>4]
			b[i*3+1] = hexDigits[c&0xf]
		}
		return string(b[:])
	}
	var b [maxString - 1]byte
	n := 0
	for _, c := range v {
		if n+2 > len(b) {
			break
		}
		b[n] = hexDigits[c>>4]
		b[n+1] = hexDigits[c&0xf]
		n += 2
	}
	return string(b[:n])
}

// paramList formats the parameter request list (option 55, RFC 2132 §9.8)
// as comma-separated decimal codes in wire order, the DHCP fingerprint
// string ("1,3,6,15,119,252"). At most 255 codes: 1019 bytes.
func paramList(v []byte) string {
	var b [255 * 4]byte
	out := b[:0]
	for i, c := range v {
		if i > 0 {
			out = append(out, ',')
		}
		out = strconv.AppendUint(out, uint64(c), 10)
	}
	return string(out)
}

// fqdn returns the domain name of the client FQDN option (81, RFC 4702 §2):
// flags, two RCODE bytes, then the name, in DNS wire format when the E flag
// (0x04) is set and ASCII otherwise. A malformed wire-format name gives "".
func fqdn(v []byte) string {
	if len(v) < 3 {
		return ""
	}
	flags, name := v[0], v[3:]
	if flags&0x04 == 0 {
		return sanitize(name)
	}
	var b [maxString]byte
	n := 0
	for i := 0; i < len(name); {
		l := int(name[i])
		i++
		if l == 0 {
			break
		}
		if l > 63 || i+l > len(name) {
			return "" // compression pointer or truncated label
		}
		if n > 0 && n < len(b) {
			b[n] = '.'
			n++
		}
		n += copy(b[n:], name[i:i+l])
		i += l
	}
	return sanitize(b[:n])
}

// userClass formats the user class option (77, RFC 3004 §2): a list of
// length-prefixed instances, joined with ",". Many clients send one bare
// string instead; when the option does not parse as instances it is
// treated as text.
func userClass(v []byte) string {
	var b [maxString]byte
	n := 0
	ok := len(v) > 0
	for i := 0; ok && i < len(v); {
		l := int(v[i])
		i++
		if l == 0 || i+l > len(v) {
			ok = false
			break
		}
		if n > 0 && n < len(b) {
			b[n] = ','
			n++
		}
		n += copy(b[n:], v[i:i+l])
		i += l
	}
	if !ok {
		return sanitize(v)
	}
	return sanitize(b[:n])
}
