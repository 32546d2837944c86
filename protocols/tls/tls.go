// Package tls decodes the cleartext start of a TLS handshake (RFC 5246,
// RFC 8446) on one TCP flow: the ClientHello (SNI, ALPN, supported versions
// and the JA3 and JA4 client fingerprints), the ServerHello (version and
// cipher suite) and, for TLS 1.2 and lower, the server's leaf certificate
// (subject and issuer common names, expiry). It stops reading a direction at
// its first non-handshake record: everything after is encrypted.
package tls

import (
	"crypto/x509"
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	"github.com/iomt-sensor/iomt-sensor/protocols"
)

// Caps on what the decoder reads from the wire.
const (
	// MaxHandshake caps the handshake bytes buffered per direction: a
	// ClientHello spanning several records or segments, or a certificate chain.
	MaxHandshake = 64 << 10
	// maxRecord is the largest TLS record (RFC 8446 §5.2: 2^14 + 256 for
	// TLS 1.3 ciphertext; RFC 5246 §6.2.3 allows 2^14 + 2048).
	maxRecord = 1<<14 + 2048
	// maxString caps every text value the decoder emits.
	maxString = 255
)

// Record content types (RFC 8446 §5.1).
const (
	recChangeCipherSpec = 20
	recAlert            = 21
	recHandshake        = 22
	recApplicationData  = 23
)

// Handshake message types (RFC 8446 §4).
const (
	hsClientHello     = 1
	hsServerHello     = 2
	hsCertificate     = 11
	hsServerHelloDone = 14
)

// Extension types (IANA TLS ExtensionType registry).
const (
	extServerName        = 0
	extSupportedGroups   = 10
	extECPointFormats    = 11
	extSignatureAlgs     = 13
	extALPN              = 16
	extSupportedVersions = 43
)

// Well-known ports with a medical meaning.
const (
	// DICOMTLSPort is DICOM over TLS (DICOM PS3.15 Annex B.1, IANA "dicom-tls").
	DICOMTLSPort = 2762
)

// hl7Ports are ports HL7 v2 MLLP listens on by convention (no IANA TLS port
// exists): a TLS handshake there is only a hint.
var hl7Ports = []uint16{2575, 6661}

// Fact names.
const (
	FactSNI               = "tls.sni"
	FactALPN              = "tls.alpn"
	FactSupportedVersions = "tls.supported_versions"
	FactJA3               = "tls.ja3"
	FactJA3Hash           = "tls.ja3_hash"
	FactJA4               = "tls.ja4"
	FactVersion           = "tls.version"
	FactCipher            = "tls.cipher"
	FactCertSubject       = "tls.cert_subject"
	FactCertIssuer        = "tls.cert_issuer"
	FactCertExpiry        = "tls.cert_expiry"
	FactDICOM             = "tls.dicom"
	FactHL7               = "tls.hl7"
)

// Spec describes TLS to the sensor. The ports are hints (HTTPS, DICOM TLS
// 2762, SIP TLS 5061, HL7 6661, mail and LDAP over TLS); content decides.
func Spec() protocols.Spec {
	return protocols.Spec{
		Name:      "tls",
		Transport: protocols.TCP,
		Ports:     []uint16{443, 8443, DICOMTLSPort, 5061, 6661, 465, 636, 993, 995},
		Detect:    Detect,
		New:       newCached(newFingerprintCache()),
	}
}

// Detect reports whether first starts with a TLS handshake record
// (type 22, version 3.x, a plausible length) holding a ClientHello or a
// ServerHello.
func Detect(_ protocols.Direction, first []byte) bool {
	if len(first) < 6 || first[0] != recHandshake || first[1] != 3 || first[2] > 4 {
		return false
	}
	n := int(binary.BigEndian.Uint16(first[3:5]))
	return n >= 4 && n <= maxRecord && (first[5] == hsClientHello || first[5] == hsServerHello)
}

// side is the record and handshake reader of one direction. Its fields are
// small: a decoder is allocated per flow and most flows see one message per
// direction.
type side struct {
	done   bool
	typ    byte // current record's content type
	hdrN   uint8
	hdr    [5]byte
	remain int32 // body bytes of the current record still to read
	hs     []byte
}

// Decoder reads the handshake of one TLS flow.
type Decoder struct {
	sides [2]side
	// port is the server's port: DICOM and HL7 ports imply a service.
	port uint16
	// tls13 is set when the ServerHello selected TLS 1.3: the certificate
	// that follows is encrypted.
	tls13 bool
	// shFacts is room for the ServerHello's two usual facts (version and
	// cipher), allocated with the ClientHello's: one allocation less per flow.
	shFacts *[2]protocols.Fact
	// fps caches ClientHello fingerprints across the flows of one Spec; nil
	// computes them every time.
	fps *fingerprintCache
}

// New returns a decoder for one flow that computes every fingerprint itself.
// The sensor uses Spec's New, whose decoders share a cache.
func New(f protocols.FlowInfo) protocols.Decoder { return &Decoder{port: f.Server.Port()} }

// newCached returns a New whose decoders share the fingerprint cache c.
func newCached(c *fingerprintCache) func(protocols.FlowInfo) protocols.Decoder {
	return func(f protocols.FlowInfo) protocols.Decoder { return &Decoder{port: f.Server.Port(), fps: c} }
}

// Feed reads the next in-order bytes of direction dir.
func (d *Decoder) Feed(dir protocols.Direction, data []byte, _ time.Time, emit protocols.Emit) error {
	s := &d.sides[dir&1]
	for len(data) > 0 && !s.done {
		if s.remain == 0 {
			n := copy(s.hdr[s.hdrN:], data)
			s.hdrN += uint8(n)
			data = data[n:]
			if int(s.hdrN) < len(s.hdr) {
				return nil
			}
			s.hdrN = 0
			s.typ = s.hdr[0]
			s.remain = int32(binary.BigEndian.Uint16(s.hdr[3:5]))
			if s.typ < recChangeCipherSpec || s.typ > 24 || s.hdr[1] != 3 {
				s.done = true
				return protocols.Malformedf("tls: bad record header %x", s.hdr)
			}
			if s.remain > maxRecord {
				s.done = true
				return fmt.Errorf("%w: tls record of %d bytes", protocols.ErrTooLong, s.remain)
			}
			if s.typ != recHandshake {
				// ChangeCipherSpec, alert or application data: the cleartext
				// handshake of this direction is over.
				s.done = true
				break
			}
			if s.remain == 0 {
				continue
			}
		}
		n := min(int(s.remain), len(data))
		body := data[:n]
		data = data[n:]
		s.remain -= int32(n)
		if len(s.hs)+len(body) > MaxHandshake {
			s.done = true
			return fmt.Errorf("%w: handshake over %d bytes", protocols.ErrTooLong, MaxHandshake)
		}
		// Messages complete in this body are read in place; only a
		// message's incomplete start is buffered.
		buf, buffered := body, len(s.hs) > 0
		if buffered {
			s.hs = append(s.hs, body...)
			buf = s.hs
		}
		rest, err := d.messages(dir, s, buf, emit)
		if err != nil {
			s.done = true
			return err
		}
		switch {
		case s.done:
			s.hs = nil
		case buffered:
			s.hs = s.hs[:copy(s.hs, rest)]
		default:
			s.hs = append(s.hs[:0], rest...)
		}
	}
	if d.sides[0].done && d.sides[1].done {
		return protocols.SkipFlow // both sides encrypt from here on
	}
	return nil
}

// messages handles the complete handshake messages at the start of buf and
// returns the bytes after them.
func (d *Decoder) messages(dir protocols.Direction, s *side, buf []byte, emit protocols.Emit) ([]byte, error) {
	for !s.done && len(buf) >= 4 {
		n := int(buf[1])<<16 | int(buf[2])<<8 | int(buf[3])
		if 4+n > MaxHandshake {
			return nil, fmt.Errorf("%w: handshake message of %d bytes", protocols.ErrTooLong, n)
		}
		if len(buf) < 4+n {
			return buf, nil
		}
		typ, body := buf[0], buf[4:4+n]
		var err error
		switch typ {
		case hsClientHello:
			err = d.clientHello(body, emit)
			s.done = true // what follows is encrypted or of no interest
		case hsServerHello:
			err = d.serverHello(body, emit)
			s.done = d.tls13
		case hsCertificate:
			d.certificate(body, emit)
			s.done = true
		case hsServerHelloDone:
			s.done = true
		}
		if err != nil {
			return nil, err
		}
		buf = buf[4+n:]
	}
	return buf, nil
}

// Gap ends the direction: a handshake with a hole cannot be read.
func (d *Decoder) Gap(dir protocols.Direction, _ int, _ time.Time, _ protocols.Emit) {
	d.sides[dir&1].done = true
	d.sides[dir&1].hs = nil
}

// Close does nothing: observations are emitted as messages complete.
func (d *Decoder) Close(time.Time, protocols.Emit) {}

// cutVec8 and cutVec16 split a vector with a 1- or 2-byte length prefix off
// the front of b: its contents and the bytes after it. ok is false (and v
// nil) when the vector overruns b. Parsing a hello is mostly these two; they
// return values, which stay in registers, rather than advance a reader held
// in memory.
func cutVec8(b []byte) (v, rest []byte, ok bool) {
	if len(b) < 1 || 1+int(b[0]) > len(b) {
		return nil, nil, false
	}
	end := 1 + int(b[0])
	return b[1:end], b[end:], true
}

func cutVec16(b []byte) (v, rest []byte, ok bool) {
	if len(b) < 2 {
		return nil, nil, false
	}
	end := 2 + int(binary.BigEndian.Uint16(b))
	if end > len(b) {
		return nil, nil, false
	}
	return b[2:end], b[end:], true
}

// nextExtension splits the first extension off the list b (RFC 8446 §4.2):
// its type and data, and the extensions after it. ok is false when the
// extension overruns b.
func nextExtension(b []byte) (typ uint16, data, rest []byte, ok bool) {
	if len(b) < 4 {
		return 0, nil, nil, false
	}
	end := 4 + int(binary.BigEndian.Uint16(b[2:]))
	if end > len(b) {
		return 0, nil, nil, false
	}
	return binary.BigEndian.Uint16(b), b[4:end], b[end:], true
}

// isGREASE reports whether v is a GREASE value (RFC 8701 §2): 0x0a0a,
// 0x1a1a, ... 0xfafa.
func isGREASE(v uint16) bool { return v&0x0f0f == 0x0a0a && v>>8 == v&0xff }

// hello holds the ClientHello fields the fingerprints use. The lists leave
// GREASE values out: every fingerprint and fact ignores them.
type hello struct {
	version      uint16
	ciphers      []uint16
	extensions   []uint16
	groups       []uint16
	pointFormats []byte
	sigAlgs      []uint16
	versions     []uint16
	sni          []byte
	hasSNI       bool
	alpn         [][]byte
	// highest is JA4's version: the highest value of versions when
	// supported_versions lists any value (0 when they all are GREASE), else
	// the legacy version.
	highest uint16
}

// helloBufs holds the arrays a hello's lists start in, so a ClientHello
// parsed with buffers on the stack allocates nothing.
type helloBufs struct {
	cipherBuf  [64]uint16
	extBuf     [32]uint16
	groupBuf   [16]uint16
	sigBuf     [32]uint16
	versionBuf [8]uint16
	alpnBuf    [4][]byte
}

// appendU16s appends the big-endian 16-bit values of b to out, leaving
// GREASE values out.
func appendU16s(out []uint16, b []byte) []uint16 {
	for ; len(b) >= 2; b = b[2:] {
		if v := binary.BigEndian.Uint16(b); !isGREASE(v) {
			out = append(out, v)
		}
	}
	return out
}

// parseClientHello reads a ClientHello body (RFC 8446 §4.1.2, RFC 5246 §7.4.1.2).
func parseClientHello(body []byte) (*hello, error) {
	h, err := parseHello(body, new(helloBufs))
	if err != nil {
		return nil, err
	}
	return &h, nil
}

// parseHello reads a ClientHello body. The lists of the hello start in bufs
// and its byte slices point into body.
func parseHello(body []byte, bufs *helloBufs) (h hello, err error) {
	if len(body) < 2+32 {
		return h, protocols.Malformedf("tls: short ClientHello")
	}
	h.version = binary.BigEndian.Uint16(body)
	h.highest = h.version
	sid, b, ok := cutVec8(body[2+32:]) // after the random
	if len(sid) > 32 {
		return h, protocols.Malformedf("tls: session id of %d bytes", len(sid))
	}
	cs, b, ok2 := cutVec16(b)
	if len(cs)%2 != 0 {
		return h, protocols.Malformedf("tls: odd cipher suites length")
	}
	h.ciphers = appendU16s(bufs.cipherBuf[:0], cs)
	_, b, ok3 := cutVec8(b) // compression methods
	if !ok || !ok2 || !ok3 {
		return h, protocols.Malformedf("tls: short ClientHello")
	}
	if len(b) == 0 {
		return h, nil // no extensions (SSL 3.0 style)
	}
	exts, _, ok := cutVec16(b)
	if !ok {
		return h, protocols.Malformedf("tls: extensions overrun the ClientHello")
	}
	h.extensions = bufs.extBuf[:0]
	for len(exts) > 0 {
		typ, data, rest, ok := nextExtension(exts)
		if !ok {
			return h, protocols.Malformedf("tls: extension overruns the list")
		}
		exts = rest
		if !isGREASE(typ) {
			h.extensions = append(h.extensions, typ)
		}
		switch typ {
		case extServerName:
			h.hasSNI = true
			list, _, _ := cutVec16(data)
			for len(list) > 0 && h.sni == nil {
				kind := list[0]
				name, rest, ok := cutVec16(list[1:])
				if !ok {
					break
				}
				if kind == 0 {
					h.sni = name
				}
				list = rest
			}
		case extALPN:
			list, _, _ := cutVec16(data)
			for len(list) > 0 {
				p, rest, ok := cutVec8(list)
				if !ok {
					break
				}
				if h.alpn == nil {
					h.alpn = bufs.alpnBuf[:0]
				}
				h.alpn = append(h.alpn, p)
				list = rest
			}
		case extSupportedGroups:
			list, _, _ := cutVec16(data)
			h.groups = appendU16s(bufs.groupBuf[:0], list)
		case extECPointFormats:
			h.pointFormats, _, _ = cutVec8(data)
		case extSignatureAlgs:
			list, _, _ := cutVec16(data)
			h.sigAlgs = appendU16s(bufs.sigBuf[:0], list)
		case extSupportedVersions:
			list, _, _ := cutVec8(data)
			h.versions = appendU16s(bufs.versionBuf[:0], list)
			if len(list) >= 2 {
				h.highest = 0
				if len(h.versions) > 0 {
					h.highest = slices.Max(h.versions)
				}
			}
		}
	}
	return h, nil
}

// clientHello emits the client's observation and, on DICOM and HL7 ports,
// one about the server it addresses. The SNI, ALPN and versions are cut from
// one string and the fingerprints come from the cache, so a ClientHello whose
// fingerprints are cached costs two allocations: that string and the facts
// (with room for the ServerHello's).
func (d *Decoder) clientHello(body []byte, emit protocols.Emit) error {
	var bufs helloBufs
	h, err := parseHello(body, &bufs)
	if err != nil {
		return err
	}
	fp := d.fps.get(&h)
	// vals holds the first three values back to back; ends[i] is where
	// value i ends.
	var (
		back [3*maxString + 8]byte
		raw  [maxString]byte
		ends [2]int
	)
	vals := appendValue(back[:0], h.sni)
	ends[0] = len(vals)
	alpn := raw[:0]
	for _, p := range h.alpn {
		if len(alpn)+len(p)+1 > maxString {
			break
		}
		if len(alpn) > 0 {
			alpn = append(alpn, ',')
		}
		alpn = append(alpn, p...)
	}
	vals = appendValue(vals, alpn)
	ends[1] = len(vals)
	start := len(vals)
	for _, v := range h.versions {
		if len(vals)-start < maxString-8 {
			if len(vals) > start {
				vals = append(vals, ',')
			}
			vals = appendVersionName(vals, v)
		}
	}
	all := string(vals)
	values := [...]string{all[:ends[0]], all[ends[0]:ends[1]], all[ends[1]:], fp.ja3, fp.ja3Hash, fp.ja4}
	// Empty values are left out.
	n := 0
	for _, v := range values {
		if v != "" {
			n++
		}
	}
	room := make([]protocols.Fact, 0, n+2)
	facts := room[:0:n]
	d.shFacts = (*[2]protocols.Fact)(room[n : n+2])
	for i, name := range [...]string{FactSNI, FactALPN, FactSupportedVersions, FactJA3, FactJA3Hash, FactJA4} {
		if values[i] != "" {
			facts = append(facts, protocols.Fact{Name: name, Value: values[i]})
		}
	}
	emit(protocols.Observation{Protocol: "tls", Source: "tls.client_hello", About: protocols.Sender, Role: "client", Facts: facts})
	if f, ok := d.serviceFact(); ok {
		emit(protocols.Observation{Protocol: "tls", Source: "tls.client_hello", About: protocols.Receiver, Role: "server", Facts: []protocols.Fact{f}})
	}
	return nil
}

// serviceFact returns the medical-service fact the server port implies.
func (d *Decoder) serviceFact() (protocols.Fact, bool) {
	if d.port == DICOMTLSPort {
		return protocols.Fact{Name: FactDICOM, Value: "true"}, true
	}
	for _, p := range hl7Ports {
		if d.port == p {
			return protocols.Fact{Name: FactHL7, Value: "true"}, true
		}
	}
	return protocols.Fact{}, false
}

// serverHello emits the server's observation (RFC 8446 §4.1.3).
func (d *Decoder) serverHello(body []byte, emit protocols.Emit) error {
	if len(body) < 2+32 {
		return protocols.Malformedf("tls: short ServerHello")
	}
	version := binary.BigEndian.Uint16(body)
	sid, b, ok := cutVec8(body[2+32:]) // after the random
	if len(sid) > 32 {
		return protocols.Malformedf("tls: session id of %d bytes", len(sid))
	}
	if !ok || len(b) < 3 {
		return protocols.Malformedf("tls: short ServerHello")
	}
	cipher := binary.BigEndian.Uint16(b)
	b = b[3:] // after the compression method
	var alpn []byte
	if len(b) > 0 {
		exts, _, ok := cutVec16(b)
		if !ok {
			return protocols.Malformedf("tls: bad ServerHello extensions")
		}
		for len(exts) > 0 {
			typ, data, rest, ok := nextExtension(exts)
			if !ok {
				return protocols.Malformedf("tls: bad ServerHello extensions")
			}
			exts = rest
			switch typ {
			case extSupportedVersions:
				if len(data) >= 2 {
					version = binary.BigEndian.Uint16(data)
				}
			case extALPN:
				list, _, _ := cutVec16(data)
				alpn, _, _ = cutVec8(list)
			}
		}
	}
	d.tls13 = version == 0x0304
	// The values not in cipherName or versionName's table are cut from one
	// string: vals holds the version (if unnamed), the cipher (if unnamed)
	// and the ALPN protocol.
	var back [2*6 + maxString]byte
	vals := back[:0]
	vname := knownVersion(version)
	if vname == "" {
		vals = appendHex4(append(vals, "0x"...), version)
	}
	vend := len(vals)
	cname := cipherName(cipher)
	if cname == "" {
		vals = appendHex4(append(vals, "0x"...), cipher)
	}
	cend := len(vals)
	vals = appendValue(vals, alpn)
	var all string
	if len(vals) > 0 {
		all = string(vals)
	}
	if vname == "" {
		vname = all[:vend]
	}
	if cname == "" {
		cname = all[vend:cend]
	}
	service, hasService := d.serviceFact()
	n := 2
	if hasService {
		n++
	}
	if len(vals) > cend {
		n++
	}
	var facts []protocols.Fact
	if d.shFacts != nil && n <= len(d.shFacts) {
		facts, d.shFacts = d.shFacts[:0:n], nil
	} else {
		facts = make([]protocols.Fact, 0, n)
	}
	facts = append(facts, protocols.Fact{Name: FactVersion, Value: vname}, protocols.Fact{Name: FactCipher, Value: cname})
	if len(vals) > cend {
		facts = append(facts, protocols.Fact{Name: FactALPN, Value: all[cend:]})
	}
	if hasService {
		facts = append(facts, service)
	}
	emit(protocols.Observation{Protocol: "tls", Source: "tls.server_hello", About: protocols.Sender, Role: "server", Facts: facts})
	return nil
}

// certificate emits the leaf certificate of a TLS 1.2 or lower Certificate
// message (RFC 5246 §7.4.2). A certificate crypto/x509 cannot parse is
// skipped.
func (d *Decoder) certificate(body []byte, emit protocols.Emit) {
	if len(body) < 3 {
		return
	}
	n := int(body[0])<<16 | int(body[1])<<8 | int(body[2])
	if 3+n > len(body) || n < 3 {
		return
	}
	list := body[3 : 3+n]
	l := int(list[0])<<16 | int(list[1])<<8 | int(list[2])
	if 3+l > len(list) {
		return
	}
	cert, err := x509.ParseCertificate(list[3 : 3+l])
	if err != nil {
		return
	}
	var facts []protocols.Fact
	if v := sanitize([]byte(cert.Subject.CommonName)); v != "" {
		facts = append(facts, protocols.Fact{Name: FactCertSubject, Value: v})
	}
	if v := sanitize([]byte(cert.Issuer.CommonName)); v != "" {
		facts = append(facts, protocols.Fact{Name: FactCertIssuer, Value: v})
	}
	facts = append(facts, protocols.Fact{Name: FactCertExpiry, Value: cert.NotAfter.UTC().Format(time.RFC3339)})
	emit(protocols.Observation{Protocol: "tls", Source: "tls.certificate", About: protocols.Sender, Role: "server", Facts: facts})
}

// versionName names a protocol version: "1.3", "1.2", "1.1", "1.0",
// "ssl3.0", else its hex ("0x7f1c" for a draft).
func versionName(v uint16) string {
	if s := knownVersion(v); s != "" {
		return s
	}
	return hex4("0x", v)
}

// knownVersion returns versionName(v) for the versions named in words, ""
// for the others.
func knownVersion(v uint16) string {
	switch v {
	case 0x0304:
		return "1.3"
	case 0x0303:
		return "1.2"
	case 0x0302:
		return "1.1"
	case 0x0301:
		return "1.0"
	case 0x0300:
		return "ssl3.0"
	}
	return ""
}

// cipherName returns hex4("0x", v) without allocating for the cipher suites
// servers commonly choose, "" for the others.
func cipherName(v uint16) string {
	switch v {
	case 0x1301:
		return "0x1301"
	case 0x1302:
		return "0x1302"
	case 0x1303:
		return "0x1303"
	case 0xc02b:
		return "0xc02b"
	case 0xc02c:
		return "0xc02c"
	case 0xc02f:
		return "0xc02f"
	case 0xc030:
		return "0xc030"
	case 0xcca8:
		return "0xcca8"
	case 0xcca9:
		return "0xcca9"
	case 0xc013:
		return "0xc013"
	case 0xc014:
		return "0xc014"
	case 0xc027:
		return "0xc027"
	case 0xc028:
		return "0xc028"
	case 0x009c:
		return "0x009c"
	case 0x009d:
		return "0x009d"
	case 0x002f:
		return "0x002f"
	case 0x0035:
		return "0x0035"
	}
	return ""
}

// appendVersionName appends versionName(v) to b.
func appendVersionName(b []byte, v uint16) []byte {
	switch v {
	case 0x0304, 0x0303, 0x0302, 0x0301, 0x0300:
		return append(b, versionName(v)...)
	}
	return appendHex4(append(b, "0x"...), v)
}

const hexDigits = "0123456789abcdef"

func hex4(prefix string, v uint16) string {
	b := []byte(prefix)
	return string(appendHex4(b, v))
}

func appendHex4(b []byte, v uint16) []byte {
	return append(b, hexDigits[v>>12], hexDigits[v>>8&0xf], hexDigits[v>>4&0xf], hexDigits[v&0xf])
}

// appendValue appends what sanitize keeps of b: b itself when it is clean,
// as it usually is (IsPrintable costs less than AppendPrintable).
func appendValue(dst, b []byte) []byte {
	if protocols.IsPrintable(b, maxString) {
		return append(dst, b...)
	}
	return protocols.AppendPrintable(dst, b, maxString)
}

// sanitize keeps the printable ASCII (0x20-0x7e) of b, trimmed, capped at
// maxString bytes.
func sanitize(b []byte) string {
	if protocols.IsPrintable(b, maxString) {
		return string(b)
	}
	var buf [maxString]byte
	return string(protocols.AppendPrintable(buf[:0], b, maxString))
}
