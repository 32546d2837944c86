// Package http decodes HTTP/1.x (RFC 9112) requests and responses on one TCP
// flow: the client's User-Agent and Host, the server's Server header, FHIR
// resource types in request targets, IPP (RFC 8010) by its media type, and the
// presence of Authorization schemes. Bodies are skipped by their framing
// (Content-Length or chunked) without being buffered, so keep-alive and
// pipelined messages are all read. Credentials are never kept or emitted.
package http

import (
	"bytes"
	"fmt"
	"time"

	"github.com/iomt-sensor/iomt-sensor/protocols"
)

// Caps on what the decoder reads from the wire.
const (
	// MaxLineLen caps a start line or header line (bytes, without CRLF).
	MaxLineLen = 8 << 10
	// MaxHeaderBytes caps the header block of one message.
	MaxHeaderBytes = 16 << 10
	// MaxHeaders caps the header fields of one message.
	MaxHeaders = 100
	// maxString caps every text value the decoder emits.
	maxString = 255
	// maxSeen caps the distinct facts remembered per flow for de-duplication;
	// new facts past it are dropped.
	maxSeen = 32
	// maxChunkDigits caps the hex digits of a chunk size.
	maxChunkDigits = 15
	// maxPending caps the requests awaiting a response whose method matters.
	maxPending = 64
)

// Fact names.
const (
	FactUserAgent    = "http.user_agent"
	FactHost         = "http.host"
	FactServer       = "http.server"
	FactFHIR         = "http.fhir"
	FactFHIRResource = "http.fhir_resource"
	FactIPP          = "http.ipp"
	FactBasicAuth    = "http.basic_auth"
	FactAuthScheme   = "http.auth_scheme"
)

// Spec describes HTTP/1.x to the sensor. Port 631 is IPP, which runs over HTTP.
func Spec() protocols.Spec {
	return protocols.Spec{
		Name:      "http",
		Transport: protocols.TCP,
		Ports:     []uint16{80, 8080, 8000, 631},
		Detect:    Detect,
		New:       New,
	}
}

var detectMethods = [][]byte{
	[]byte("GET "), []byte("POST "), []byte("PUT "), []byte("HEAD "),
	[]byte("OPTIONS "), []byte("DELETE "), []byte("PATCH "),
}

// Detect reports whether first starts with an HTTP/1.x request line (one of
// the common methods, a target and HTTP/1.x on the first line) or a status line.
func Detect(_ protocols.Direction, first []byte) bool {
	if bytes.HasPrefix(first, []byte("HTTP/1.")) {
		return len(first) >= 12 && (first[7] == '0' || first[7] == '1') && first[8] == ' ' &&
			isDigit(first[9]) && isDigit(first[10]) && isDigit(first[11])
	}
	for _, m := range detectMethods {
		if !bytes.HasPrefix(first, m) {
			continue
		}
		line := first[len(m):]
		if i := bytes.IndexByte(line, '\n'); i >= 0 {
			line = line[:i]
		} else {
			return false
		}
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
		sp := bytes.LastIndexByte(line, ' ')
		return sp > 0 && (bytes.Equal(line[sp+1:], []byte("HTTP/1.1")) || bytes.Equal(line[sp+1:], []byte("HTTP/1.0")))
	}
	return false
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// Parser states of one direction.
const (
	stStart     = iota // expecting a start line (empty lines skipped)
	stHeaders          // in a header block
	stBody             // skipping remaining body bytes
	stChunkSize        // expecting a chunk-size line
	stChunkData        // skipping chunk data
	stChunkEnd         // expecting the CRLF after chunk data
	stTrailers         // in the trailer section of a chunked body
	stToEOF            // body runs to the end of the connection: ignore the rest
	stDead             // stopped (gap, upgrade): ignore the rest
)

// side is the parser of one direction.
type side struct {
	state   uint8
	request bool // the current message is a request
	// Current message (the flags first: they share a word with state).
	chunked, noBody      bool
	tunnel               bool   // 101 or a 2xx to CONNECT: HTTP ends after this header block
	factsFrom            uint8  // the message's new facts are its entries in Decoder.seen from here
	line                 []byte // a line's start held over from an earlier Feed, allocated when first needed
	headerBytes, headers int
	contentLength        int64
	status               int
	remaining            int64
}

// Decoder parses both directions of one HTTP flow.
type Decoder struct {
	sides [2]side
	// seen are the facts the flow reported, per direction; it starts in
	// seenBuf, room for a typical flow's (host, user agent, server).
	seen    []seenFact
	seenBuf [4]seenFact
	// pending holds, oldest first, one bit per request awaiting a response
	// whose method changes the response framing (HEAD: no body; CONNECT:
	// a 2xx ends HTTP). npending counts them.
	pendingHead, pendingConnect uint64
	npending                    int
	serverSeen                  bool
}

type seenFact struct {
	dir  *side
	fact protocols.Fact
}

// New returns a decoder for one flow.
func New(protocols.FlowInfo) protocols.Decoder {
	d := &Decoder{}
	d.seen = d.seenBuf[:0]
	return d
}

// Feed parses the next in-order bytes of direction dir.
func (d *Decoder) Feed(dir protocols.Direction, data []byte, _ time.Time, emit protocols.Emit) error {
	s := &d.sides[dir&1]
	for len(data) > 0 {
		switch s.state {
		case stToEOF, stDead:
			return nil
		case stBody, stChunkData:
			n := int64(len(data))
			if n > s.remaining {
				n = s.remaining
			}
			s.remaining -= n
			data = data[n:]
			if s.remaining == 0 {
				if s.state == stBody {
					s.state = stStart
				} else {
					s.state = stChunkEnd
				}
			}
			continue
		}
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			if len(s.line)+len(data) > MaxLineLen {
				s.state = stDead
				return fmt.Errorf("%w: line over %d bytes", protocols.ErrTooLong, MaxLineLen)
			}
			s.line = append(s.line, data...)
			return nil
		}
		line := data[:i]
		if len(s.line) > 0 {
			if len(s.line)+i > MaxLineLen {
				s.state = stDead
				return fmt.Errorf("%w: line over %d bytes", protocols.ErrTooLong, MaxLineLen)
			}
			s.line = append(s.line, line...)
			line = s.line
		} else if i > MaxLineLen {
			s.state = stDead
			return fmt.Errorf("%w: line over %d bytes", protocols.ErrTooLong, MaxLineLen)
		}
		data = data[i+1:]
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
		err := d.handleLine(s, line, emit)
		s.line = s.line[:0]
		if err != nil {
			s.state = stDead
			return err
		}
	}
	return nil
}

// Gap stops parsing direction dir unless the lost bytes fall inside a body
// of known length: HTTP/1.x has no markers to resynchronize on safely.
func (d *Decoder) Gap(dir protocols.Direction, n int, _ time.Time, _ protocols.Emit) {
	s := &d.sides[dir&1]
	if (s.state == stBody || s.state == stChunkData) && int64(n) < s.remaining {
		s.remaining -= int64(n)
		return
	}
	if s.state != stToEOF {
		s.state = stDead
	}
}

// Skip implements protocols.Skipper: the rest of a body of known length
// (Content-Length or a chunk's data) and everything after the decoder
// stopped parsing dir are not needed.
func (d *Decoder) Skip(dir protocols.Direction) int {
	s := &d.sides[dir&1]
	switch s.state {
	case stToEOF, stDead:
		return protocols.MaxSkip
	case stBody, stChunkData:
		n := min(s.remaining, protocols.MaxSkip)
		s.remaining -= n
		if s.remaining == 0 {
			if s.state == stBody {
				s.state = stStart
			} else {
				s.state = stChunkEnd
			}
		}
		return int(n)
	}
	return 0
}

// Close does nothing: observations are emitted as each header block ends.
func (d *Decoder) Close(time.Time, protocols.Emit) {}

func (d *Decoder) handleLine(s *side, line []byte, emit protocols.Emit) error {
	switch s.state {
	case stStart:
		if len(line) == 0 {
			return nil // RFC 9112 §2.2: ignore empty lines before a request line
		}
		return d.startLine(s, line)
	case stHeaders:
		if len(line) == 0 {
			return d.endHeaders(s, emit)
		}
		s.headers++
		s.headerBytes += len(line) + 2
		if s.headers > MaxHeaders {
			return fmt.Errorf("%w: over %d header fields", protocols.ErrTooLong, MaxHeaders)
		}
		if s.headerBytes > MaxHeaderBytes {
			return fmt.Errorf("%w: header block over %d bytes", protocols.ErrTooLong, MaxHeaderBytes)
		}
		return d.header(s, line)
	case stChunkSize:
		size, err := chunkSize(line)
		if err != nil {
			return err
		}
		if size == 0 {
			s.state = stTrailers
			return nil
		}
		s.remaining = size
		s.state = stChunkData
	case stChunkEnd:
		if len(line) != 0 {
			return protocols.Malformedf("http: chunk data not followed by CRLF")
		}
		s.state = stChunkSize
	case stTrailers:
		if len(line) == 0 {
			s.state = stStart
			return nil
		}
		s.headerBytes += len(line) + 2
		if s.headerBytes > MaxHeaderBytes {
			return fmt.Errorf("%w: trailers over %d bytes", protocols.ErrTooLong, MaxHeaderBytes)
		}
	}
	return nil
}

// startLine parses a request line (RFC 9112 §3) or a status line (§4) and
// resets the message state.
func (d *Decoder) startLine(s *side, line []byte) error {
	s.headers, s.headerBytes, s.contentLength = 0, 0, -1
	s.chunked, s.noBody, s.tunnel, s.status = false, false, false, 0
	s.factsFrom = uint8(len(d.seen))
	if rest, ok := bytes.CutPrefix(line, []byte("HTTP/1.")); ok {
		if len(rest) < 5 || (rest[0] != '0' && rest[0] != '1') || rest[1] != ' ' ||
			!isDigit(rest[2]) || !isDigit(rest[3]) || !isDigit(rest[4]) || (len(rest) > 5 && rest[5] != ' ') {
			return protocols.Malformedf("http: bad status line")
		}
		s.request = false
		s.status = int(rest[2]-'0')*100 + int(rest[3]-'0')*10 + int(rest[4]-'0')
		head, connect := d.popPending(s.status)
		s.noBody = head || s.status < 200 || s.status == 204 || s.status == 304
		s.tunnel = s.status == 101 || (connect && s.status/100 == 2)
		s.state = stHeaders
		return nil
	}
	sp1 := bytes.IndexByte(line, ' ')
	sp2 := bytes.LastIndexByte(line, ' ')
	if sp1 <= 0 || sp2 <= sp1+1 {
		return protocols.Malformedf("http: bad request line")
	}
	method, target, version := line[:sp1], line[sp1+1:sp2], line[sp2+1:]
	if !bytes.Equal(version, []byte("HTTP/1.1")) && !bytes.Equal(version, []byte("HTTP/1.0")) {
		return protocols.Malformedf("http: bad request line version")
	}
	for _, c := range method {
		if !isTchar(c) {
			return protocols.Malformedf("http: bad method")
		}
	}
	s.request = true
	d.pushPending(string(method) == "HEAD", string(method) == "CONNECT")
	if r, fhir := fhirTarget(target); fhir {
		d.addConst(s, FactFHIR, "true")
		if r != "" {
			d.addConst(s, FactFHIRResource, r)
		}
	}
	s.state = stHeaders
	return nil
}

func (d *Decoder) pushPending(head, connect bool) {
	if d.npending == maxPending {
		return // a client far ahead of its server: forget the excess
	}
	if head {
		d.pendingHead |= 1 << d.npending
	}
	if connect {
		d.pendingConnect |= 1 << d.npending
	}
	d.npending++
}

// popPending returns the method flags of the oldest request awaiting an
// answer; interim (1xx) responses do not answer it.
func (d *Decoder) popPending(status int) (head, connect bool) {
	if d.npending == 0 {
		return false, false
	}
	head, connect = d.pendingHead&1 == 1, d.pendingConnect&1 == 1
	if status >= 200 {
		d.pendingHead >>= 1
		d.pendingConnect >>= 1
		d.npending--
	}
	return head, connect
}

// header reads one field line (RFC 9112 §5).
func (d *Decoder) header(s *side, line []byte) error {
	colon := bytes.IndexByte(line, ':')
	if colon <= 0 {
		if line[0] == ' ' || line[0] == '\t' {
			return nil // obsolete line folding (RFC 9112 §5.2): ignored
		}
		return protocols.Malformedf("http: header line without colon")
	}
	name := line[:colon]
	h := headerOf(name, s.request)
	if h == hdrOther {
		return nil
	}
	value := trimOWS(line[colon+1:])
	switch h {
	case hdrContentLength:
		n, ok := parseDecimal(value)
		if !ok {
			return protocols.Malformedf("http: bad Content-Length")
		}
		s.contentLength = n
	case hdrTransferEncoding:
		// chunked must be the final coding (RFC 9112 §6.3).
		v := value
		s.chunked = len(v) >= 7 && equalFold(v[len(v)-7:], "chunked")
	case hdrContentType:
		mt := value
		if i := bytes.IndexByte(mt, ';'); i >= 0 {
			mt = bytes.TrimRight(mt[:i], " \t")
		}
		if equalFold(mt, "application/ipp") {
			d.addConst(s, FactIPP, "true")
		}
		if containsFold(value, "application/fhir+") {
			d.addConst(s, FactFHIR, "true")
		}
	case hdrUserAgent:
		d.add(s, FactUserAgent, value)
	case hdrHost:
		d.add(s, FactHost, value)
	case hdrAuthorization:
		// Only the scheme is looked at; the credentials are never copied.
		scheme := value
		if i := bytes.IndexAny(scheme, " \t"); i >= 0 {
			scheme = scheme[:i]
		}
		if equalFold(scheme, "Basic") {
			d.addConst(s, FactBasicAuth, "true")
		} else if len(scheme) > 0 && len(scheme) <= 32 && allTchar(scheme) {
			d.add(s, FactAuthScheme, scheme)
		}
	case hdrServer:
		d.add(s, FactServer, value)
	}
	return nil
}

// Header fields the decoder reads.
const (
	hdrOther = iota
	hdrContentLength
	hdrTransferEncoding
	hdrContentType // Content-Type, or Accept in a request
	hdrUserAgent
	hdrHost
	hdrAuthorization // Authorization or Proxy-Authorization
	hdrServer
)

// headerOf names the field name, among those read in a request (or a
// response when !request): by its length first, so that most names are
// compared with at most one candidate.
func headerOf(name []byte, request bool) int {
	switch len(name) {
	case 4:
		if request && equalFold(name, "Host") {
			return hdrHost
		}
	case 6:
		if request && equalFold(name, "Accept") {
			return hdrContentType
		}
		if !request && equalFold(name, "Server") {
			return hdrServer
		}
	case 10:
		if request && equalFold(name, "User-Agent") {
			return hdrUserAgent
		}
	case 12:
		if equalFold(name, "Content-Type") {
			return hdrContentType
		}
	case 13:
		if request && equalFold(name, "Authorization") {
			return hdrAuthorization
		}
	case 14:
		if equalFold(name, "Content-Length") {
			return hdrContentLength
		}
	case 17:
		if equalFold(name, "Transfer-Encoding") {
			return hdrTransferEncoding
		}
	case 19:
		if request && equalFold(name, "Proxy-Authorization") {
			return hdrAuthorization
		}
	}
	return hdrOther
}

// trimOWS removes spaces and tabs from both ends of b.
func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// endHeaders emits the message's observation and sets up body skipping
// (RFC 9112 §6.3).
func (d *Decoder) endHeaders(s *side, emit protocols.Emit) error {
	first := !s.request && !d.serverSeen && (s.status >= 200 || s.tunnel)
	n := 0
	for _, f := range d.seen[s.factsFrom:] {
		if f.dir == s {
			n++
		}
	}
	if n > 0 || first {
		o := protocols.Observation{Protocol: "http", Source: "http.request", About: protocols.Sender, Role: "client"}
		if n > 0 {
			o.Facts = make([]protocols.Fact, 0, n)
			for _, f := range d.seen[s.factsFrom:] {
				if f.dir == s {
					o.Facts = append(o.Facts, f.fact)
				}
			}
		}
		if !s.request {
			o.Source, o.Role = "http.response", "server"
			d.serverSeen = true
		}
		emit(o)
	}
	s.factsFrom = uint8(len(d.seen))
	switch {
	case s.tunnel:
		// Switching protocols or a CONNECT tunnel: no more HTTP either way.
		d.sides[0].state, d.sides[1].state = stDead, stDead
	case !s.request && s.noBody:
		s.state = stStart
	case s.chunked:
		s.state = stChunkSize
	case s.contentLength > 0:
		s.state, s.remaining = stBody, s.contentLength
	case s.contentLength == 0 || s.request:
		s.state = stStart
	default:
		s.state = stToEOF // a response delimited by the connection's end
	}
	return nil
}

// add records fact name=value (sanitized) in the current message unless the
// flow already reported it from the same side.
func (d *Decoder) add(s *side, name string, value []byte) {
	// Reported values are clean, so a raw value equal to one is a repeat
	// (the common case on keep-alive flows) and needs no sanitizing.
	if d.seenFact(s, name, value) {
		return
	}
	v := value
	if !protocols.IsPrintable(v, maxString) {
		var buf [maxString]byte
		v = protocols.AppendPrintable(buf[:0], value, maxString)
		if d.seenFact(s, name, v) {
			return
		}
	}
	if len(v) == 0 {
		return
	}
	d.record(s, protocols.Fact{Name: name, Value: string(v)})
}

// addConst is add for a value that needs no sanitizing and no copy.
func (d *Decoder) addConst(s *side, name, value string) {
	if !d.seenFact(s, name, []byte(value)) {
		d.record(s, protocols.Fact{Name: name, Value: value})
	}
}

// seenFact reports whether the flow reported name=value from side s, or
// can remember no more facts.
func (d *Decoder) seenFact(s *side, name string, value []byte) bool {
	for _, f := range d.seen {
		if f.dir == s && f.fact.Name == name && f.fact.Value == string(value) {
			return true
		}
	}
	return len(d.seen) == maxSeen
}

// record adds f to the flow's seen facts, and so to the current message
// of s.
func (d *Decoder) record(s *side, f protocols.Fact) {
	d.seen = append(d.seen, seenFact{s, f})
}

func chunkSize(line []byte) (int64, error) {
	if i := bytes.IndexByte(line, ';'); i >= 0 {
		line = line[:i] // chunk extensions
	}
	line = bytes.TrimRight(line, " \t")
	if len(line) == 0 {
		return 0, protocols.Malformedf("http: empty chunk size")
	}
	if len(line) > maxChunkDigits {
		return 0, fmt.Errorf("%w: chunk size over %d hex digits", protocols.ErrTooLong, maxChunkDigits)
	}
	var n int64
	for _, c := range line {
		var v byte
		switch {
		case c >= '0' && c <= '9':
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			v = c - 'A' + 10
		default:
			return 0, protocols.Malformedf("http: bad chunk size")
		}
		n = n<<4 | int64(v)
	}
	return n, nil
}

// parseDecimal parses a Content-Length: digits only, at most 15 of them.
func parseDecimal(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 15 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if !isDigit(c) {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// equalFold compares b with the ASCII string s, ignoring case.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		// Most names come in the case they are compared with.
		if b[i] != s[i] && lower(b[i]) != lower(s[i]) {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// isTchar reports whether c may appear in a token (RFC 9110 §5.6.2).
func isTchar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', isDigit(c):
		return true
	}
	return bytes.IndexByte([]byte("!#$%&'*+-.^_`|~"), c) >= 0
}

func allTchar(b []byte) bool {
	for _, c := range b {
		if !isTchar(c) {
			return false
		}
	}
	return true
}

// containsFold reports whether b contains the lower-case ASCII string sub,
// ignoring case.
func containsFold(b []byte, sub string) bool {
	for i := 0; i+len(sub) <= len(b); i++ {
		if lower(b[i]) == sub[0] && equalFold(b[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}
