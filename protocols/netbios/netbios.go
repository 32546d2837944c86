// Package netbios decodes the NetBIOS Name Service (RFC 1002 §4.2, UDP 137)
// and the browser announcements carried by the NetBIOS Datagram Service
// (RFC 1002 §4.4, UDP 138; [MS-BRWS] over SMB mailslot \MAILSLOT\BROWSE)
// into observations of the names a host registers or answers for, its
// workgroup, its address and, from browser announcements, its OS version.
package netbios

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"

	"github.com/iomt-sensor/iomt-sensor/protocols"
)

// Well-known ports (RFC 1002 §5).
const (
	NameServicePort     = 137
	DatagramServicePort = 138
)

// Caps on what the decoder reads.
const (
	// MaxMessageLen caps a datagram; larger ones wrap protocols.ErrTooLong.
	MaxMessageLen = 9000
	// MaxRecords caps the question and resource records read per message.
	MaxRecords = 16
	// MaxNames caps the names read from a node status response.
	MaxNames = 32
	// maxComment caps the browser comment.
	maxComment = 64
)

// Fact names.
const (
	FactName       = "netbios.name"        // a unique name with its suffix: GUNNAR<00>
	FactGroup      = "netbios.group"       // a group (workgroup/domain) name: VIGILANT_GROUP
	FactQuery      = "netbios.query"       // a name asked for: GURU<00>
	FactServer     = "netbios.server"      // browser announcement server name
	FactOSVersion  = "netbios.os_version"  // browser announcement OS major.minor: 6.1
	FactServerType = "netbios.server_type" // browser announcement server type flags: 0x00011007
	FactComment    = "netbios.comment"     // browser announcement comment
	FactMaster     = "netbios.master"      // domain announcement: the master browser's name
)

// Name suffixes the decoder treats specially ([MS-NBTE] §2.2.1 lists them).
const (
	SuffixWorkstation = 0x00
	SuffixServer      = 0x20
)

// NBNS opcodes (RFC 1002 §4.2.1.1).
const (
	opQuery        = 0
	opRegistration = 5
	opRelease      = 6
	opWACK         = 7
	opRefresh      = 8
	opRefreshAlt   = 9 // RFC 1002 erratum: many stacks send 9
	opMultiHomed   = 15
)

// RR types (RFC 1002 §4.2.1.3).
const (
	typeNB     = 0x20
	typeNBSTAT = 0x21
)

// Spec describes NetBIOS name and datagram services to the sensor: one
// protocol, "netbios", on UDP 137 and 138.
func Spec() protocols.Spec {
	return protocols.Spec{
		Name:      "netbios",
		Transport: protocols.UDP,
		Ports:     []uint16{NameServicePort, DatagramServicePort},
		Detect:    Detect,
		New:       New,
	}
}

// Detect reports whether first looks like a name service packet
// (DetectNS) or a datagram service message (DetectDGM).
func Detect(dir protocols.Direction, first []byte) bool {
	return DetectNS(dir, first) || DetectDGM(dir, first)
}

// DetectNS reports whether first looks like a name service packet: a
// header whose counts fit a NetBIOS message and whose first record, a
// question or an answer, carries a 32-byte first-level encoded name.
func DetectNS(_ protocols.Direction, first []byte) bool {
	if len(first) < 12+34 {
		return false
	}
	flags := binary.BigEndian.Uint16(first[2:])
	op := int(flags>>11) & 0xf
	switch op {
	case opQuery, opRegistration, opRelease, opWACK, opRefresh, opRefreshAlt, opMultiHomed:
	default:
		return false
	}
	qd, an := binary.BigEndian.Uint16(first[4:]), binary.BigEndian.Uint16(first[6:])
	if qd+an == 0 || qd > MaxRecords || an > MaxRecords {
		return false
	}
	return first[12] == 32 && encodedName(first[13:45])
}

// DetectDGM reports whether first looks like a datagram service message
// carrying data (direct unique, direct group or broadcast, RFC 1002
// §4.4.2) with an encoded source name.
func DetectDGM(_ protocols.Direction, first []byte) bool {
	return len(first) >= 14+34 && first[0] >= 0x10 && first[0] <= 0x12 &&
		first[14] == 32 && encodedName(first[15:47])
}

// encodedName reports whether b is 32 bytes of first-level encoding
// (RFC 1001 §14.1): every byte in 'A'..'P'.
func encodedName(b []byte) bool {
	if len(b) != 32 {
		return false
	}
	for _, c := range b {
		if c < 'A' || c > 'P' {
			return false
		}
	}
	return true
}

// New returns a decoder for one flow; it remembers the flow's endpoints to
// tell a host answering for itself from a name server answering for others.
func New(info protocols.FlowInfo) protocols.Decoder { return &Decoder{info: info} }

// Decoder decodes NetBIOS name and datagram service packets. It keeps only
// the flow's endpoints: an error concerns one datagram only.
type Decoder struct{ info protocols.FlowInfo }

// Gap does nothing: NetBIOS name and datagram services run over UDP.
func (*Decoder) Gap(protocols.Direction, int, time.Time, protocols.Emit) {}

// Close does nothing.
func (*Decoder) Close(time.Time, protocols.Emit) {}

// Feed decodes one datagram: a name service packet or a datagram service
// message, told apart by content. It emits at most one Observation, About
// Sender; queries for other names, negative responses, WACKs and datagram
// service queries and errors give none.
func (d *Decoder) Feed(dir protocols.Direction, data []byte, _ time.Time, emit protocols.Emit) error {
	if len(data) > MaxMessageLen {
		return fmt.Errorf("%w: netbios: %d-byte datagram, cap %d", protocols.ErrTooLong, len(data), MaxMessageLen)
	}
	sender := d.info.Client.Addr()
	if dir == protocols.FromServer {
		sender = d.info.Server.Addr()
	}
	switch {
	case DetectNS(dir, data):
		return feedNS(data, sender, emit)
	case DetectDGM(dir, data):
		return feedDGM(data, emit)
	}
	return protocols.Malformedf("netbios: neither a name service packet nor a datagram service message (%d bytes)", len(data))
}

// name is a decoded NetBIOS name: 15 characters (trailing spaces dropped)
// and the suffix byte.
type name struct {
	b      [15]byte
	n      int
	suffix byte
}

// decodeName decodes a 32-byte first-level encoded name (RFC 1001 §14.1).
func decodeName(enc []byte) name {
	var raw [16]byte
	for i := range raw {
		raw[i] = (enc[2*i]-'A')<<4 | (enc[2*i+1] - 'A')
	}
	return rawName(raw[:])
}

// rawName takes a 16-byte NetBIOS name: 15 characters and the suffix.
func rawName(raw []byte) name {
	var nm name
	nm.suffix = raw[15]
	copy(nm.b[:], raw[:15])
	nm.n = 15
	for nm.n > 0 && (nm.b[nm.n-1] == ' ' || nm.b[nm.n-1] == 0) {
		nm.n--
	}
	return nm
}

// text returns the name without suffix, printable ASCII only.
func (nm name) text() string { return sanitize(nm.b[:nm.n]) }

// withSuffix returns "NAME<xx>", the form tshark and nbtstat print.
func (nm name) withSuffix() string {
	var b [15 + 4]byte
	n := copy(b[:], nm.text())
	b[n], b[n+1], b[n+2], b[n+3] = '<', hexDigits[nm.suffix>>4], hexDigits[nm.suffix&0xf], '>'
	return string(b[:n+4])
}

// hostname reports whether a unique name is a host's own (workstation or
// server service) name.
func (nm name) hostname() bool {
	return (nm.suffix == SuffixWorkstation || nm.suffix == SuffixServer) && nm.n > 0 && nm.b[0] != '*'
}

// skipName reads a compressed or full NetBIOS name at off (RFC 1002
// §4.1: a 32-byte label, scope labels, a zero byte; or a pointer) and
// returns the encoded 32 bytes (nil for a pointer) and the offset after it.
func skipName(b []byte, off int) (enc []byte, next int, err error) {
	if off >= len(b) {
		return nil, 0, protocols.Malformedf("netbios: name at offset %d runs past the end", off)
	}
	if b[off]&0xc0 == 0xc0 {
		if off+2 > len(b) {
			return nil, 0, protocols.Malformedf("netbios: name pointer at offset %d runs past the end", off)
		}
		return nil, off + 2, nil
	}
	if b[off] != 32 || off+33 > len(b) || !encodedName(b[off+1:off+33]) {
		return nil, 0, protocols.Malformedf("netbios: no 32-byte encoded name at offset %d", off)
	}
	enc = b[off+1 : off+33]
	off += 33
	for total := 33; ; {
		if off >= len(b) {
			return nil, 0, protocols.Malformedf("netbios: name scope runs past the end")
		}
		l := int(b[off])
		if l == 0 {
			return enc, off + 1, nil
		}
		if l > 63 || total+1+l > 255 {
			return nil, 0, protocols.Malformedf("netbios: bad scope label length %d", l)
		}
		total += 1 + l
		off += 1 + l
	}
}

// rr is one resource record: its name (nil for a pointer), type and data.
type rr struct {
	enc   []byte
	typ   uint16
	rdata []byte
}

func readRR(b []byte, off int) (rr, int, error) {
	enc, off, err := skipName(b, off)
	if err != nil {
		return rr{}, 0, err
	}
	if off+10 > len(b) {
		return rr{}, 0, protocols.Malformedf("netbios: resource record header runs past the end")
	}
	typ := binary.BigEndian.Uint16(b[off:])
	l := int(binary.BigEndian.Uint16(b[off+8:]))
	off += 10
	if off+l > len(b) {
		return rr{}, 0, protocols.Malformedf("netbios: resource record data length %d runs past the end", l)
	}
	return rr{enc, typ, b[off : off+l]}, off + l, nil
}

// facts collects an observation's facts without duplicates.
type facts []protocols.Fact

func (f *facts) add(name, value string) {
	if value == "" {
		return
	}
	for _, x := range *f {
		if x.Name == name && x.Value == value {
			return
		}
	}
	*f = append(*f, protocols.Fact{Name: name, Value: value})
}

// addName records a name: unique names as netbios.name (and the first
// host name as o.Hostname), group names as netbios.group without suffix
// (the browse list name \x01\x02__MSBROWSE__\x02<01> is skipped).
func addName(o *protocols.Observation, f *facts, nm name, group bool) {
	switch {
	case group && nm.suffix != 0x01:
		f.add(FactGroup, nm.text())
	case !group:
		if o.Hostname == "" && nm.hostname() {
			o.Hostname = nm.text()
		}
		f.add(FactName, nm.withSuffix())
	}
}

func feedNS(b []byte, sender netip.Addr, emit protocols.Emit) error {
	flags := binary.BigEndian.Uint16(b[2:])
	response, op, rcode := flags&0x8000 != 0, int(flags>>11)&0xf, flags&0xf
	qd, an := int(binary.BigEndian.Uint16(b[4:])), int(binary.BigEndian.Uint16(b[6:]))
	ns, ar := int(binary.BigEndian.Uint16(b[8:])), int(binary.BigEndian.Uint16(b[10:]))
	if ns > MaxRecords || ar > MaxRecords {
		return fmt.Errorf("%w: netbios: %d authority and %d additional records, cap %d", protocols.ErrTooLong, ns, ar, MaxRecords)
	}
	off := 12
	var question []byte
	for range qd {
		enc, next, err := skipName(b, off)
		if err != nil {
			return err
		}
		if next+4 > len(b) {
			return protocols.Malformedf("netbios: question runs past the end")
		}
		if question == nil {
			question = enc
		}
		off = next + 4
	}
	var rrs [MaxRecords * 3]rr
	n := 0
	for range an + ns + ar {
		r, next, err := readRR(b, off)
		if err != nil {
			return err
		}
		rrs[n] = r
		n++
		off = next
	}

	o := protocols.Observation{Protocol: "netbios", About: protocols.Sender}
	f := make(facts, 0, 8)
	switch {
	case !response && op == opQuery:
		if question == nil {
			return protocols.Malformedf("netbios: query without a question")
		}
		o.Source, o.Role = "netbios.query", "client"
		f.add(FactQuery, decodeName(question).withSuffix())
	case !response && (op == opRegistration || op == opRefresh || op == opRefreshAlt || op == opRelease || op == opMultiHomed):
		// The question names the name; the additional record holds its
		// NB flags and the registering node's address (RFC 1002 §4.2.2).
		if question == nil {
			return protocols.Malformedf("netbios: %s without a question", opName(op))
		}
		o.Source, o.Role = "netbios."+opName(op), "server"
		group := false
		for _, r := range rrs[:n] {
			if r.typ == typeNB && len(r.rdata) >= 6 {
				group = r.rdata[0]&0x80 != 0
				o.IP = addr4(r.rdata[2:6])
				break
			}
		}
		addName(&o, &f, decodeName(question), group)
	case response && op == opQuery && rcode == 0 && an > 0 && rrs[0].enc != nil:
		a := rrs[0]
		switch a.typ {
		case typeNB:
			if len(a.rdata) < 6 {
				return protocols.Malformedf("netbios: NB record of %d bytes", len(a.rdata))
			}
			ip := addr4(a.rdata[2:6])
			if sender.IsValid() && sender.Unmap() != ip {
				return nil // a name server answering for another host
			}
			o.Source, o.Role, o.IP = "netbios.query_response", "server", ip
			addName(&o, &f, decodeName(a.enc), a.rdata[0]&0x80 != 0)
		case typeNBSTAT:
			o.Source, o.Role = "netbios.node_status", "server"
			if err := nodeStatus(&o, &f, a.rdata); err != nil {
				return err
			}
		default:
			return nil
		}
	default:
		return nil // negative responses, WACK, registration responses
	}
	o.Facts = f
	emit(o)
	return nil
}

// nodeStatus reads a node status response's name table and unit id
// (RFC 1002 §4.2.18).
func nodeStatus(o *protocols.Observation, f *facts, rd []byte) error {
	if len(rd) < 1 {
		return protocols.Malformedf("netbios: empty node status")
	}
	count := int(rd[0])
	if count > MaxNames {
		return fmt.Errorf("%w: netbios: node status lists %d names, cap %d", protocols.ErrTooLong, count, MaxNames)
	}
	if 1+count*18 > len(rd) {
		return protocols.Malformedf("netbios: node status of %d names runs past the end", count)
	}
	for i := range count {
		e := rd[1+i*18 : 1+(i+1)*18]
		addName(o, f, rawName(e[:16]), e[16]&0x80 != 0)
	}
	if st := rd[1+count*18:]; len(st) >= 6 {
		var m protocols.MAC
		copy(m[:], st[:6])
		if !m.IsZero() && !m.IsMulticast() {
			o.MAC = m
		}
	}
	return nil
}

func opName(op int) string {
	switch op {
	case opRegistration:
		return "registration"
	case opRelease:
		return "release"
	case opRefresh, opRefreshAlt:
		return "refresh"
	case opMultiHomed:
		return "multihomed_registration"
	}
	return "query"
}

// feedDGM decodes a datagram service message (RFC 1002 §4.4.2): its source
// name and address and, in a browser announcement, the server's details.
func feedDGM(b []byte, emit protocols.Emit) error {
	typ := b[0]
	src, off, err := skipName(b, 14)
	if err != nil {
		return err
	}
	dst, off, err := skipName(b, off)
	if err != nil {
		return err
	}
	if src == nil || dst == nil {
		return protocols.Malformedf("netbios: compressed name in a datagram header")
	}
	o := protocols.Observation{
		Protocol: "netbios",
		Source:   "netbios.datagram",
		About:    protocols.Sender,
		IP:       addr4(b[4:8]),
	}
	if o.IP.IsUnspecified() {
		o.IP = netip.Addr{}
	}
	f := make(facts, 0, 8)
	addName(&o, &f, decodeName(src), false)
	if d := decodeName(dst); typ != 0x10 && d.suffix != 0x01 {
		// A group destination is the sender's workgroup or domain
		// (<00>, <1D> master browsers, <1E> browser elections, <1C>).
		addName(&o, &f, d, true)
	}
	if err := browser(&o, &f, b[off:]); err != nil {
		return err
	}
	o.Facts = f
	emit(o)
	return nil
}

// browser decodes an SMB Transaction to \MAILSLOT\BROWSE ([MS-CIFS]
// §2.2.4.33, [MS-MAIL] §2.2.1) carrying a host, local master or domain
// announcement ([MS-BRWS] §2.2.1, §2.2.6, §2.2.7). Other user data is left
// alone; a broken SMB header or browser frame wraps protocols.ErrMalformed.
func browser(o *protocols.Observation, f *facts, smb []byte) error {
	if len(smb) < 33 || string(smb[:4]) != "\xffSMB" || smb[4] != 0x25 {
		return nil // not an SMB transaction: plain datagram
	}
	wc := int(smb[32])
	params := smb[33:]
	if wc < 14 || len(params) < 2*wc+2 {
		return protocols.Malformedf("netbios: SMB transaction with %d parameter words in %d bytes", wc, len(smb))
	}
	setup := int(params[26])
	if wc != 14+setup {
		return protocols.Malformedf("netbios: SMB transaction word count %d with %d setup words", wc, setup)
	}
	dataCount := int(binary.LittleEndian.Uint16(params[22:]))
	dataOff := int(binary.LittleEndian.Uint16(params[24:]))
	bytesOff := 33 + 2*wc + 2
	byteCount := int(binary.LittleEndian.Uint16(smb[33+2*wc:]))
	if bytesOff+byteCount > len(smb) {
		return protocols.Malformedf("netbios: SMB byte count %d runs past the end", byteCount)
	}
	slot := smb[bytesOff : bytesOff+byteCount]
	const browse = `\MAILSLOT\BROWSE`
	if len(slot) < len(browse)+1 || !equalFold(slot[:len(browse)], browse) || slot[len(browse)] != 0 {
		return nil // another mailslot (\MAILSLOT\LANMAN, \MAILSLOT\NET\NETLOGON)
	}
	if dataOff+dataCount > len(smb) || dataCount < 1 {
		return protocols.Malformedf("netbios: SMB data (offset %d, %d bytes) runs past the end", dataOff, dataCount)
	}
	data := smb[dataOff : dataOff+dataCount]
	switch data[0] {
	case 0x01:
		o.Source = "netbios.host_announcement"
	case 0x0f:
		o.Source = "netbios.local_master_announcement"
	case 0x0c:
		o.Source = "netbios.domain_announcement"
	default:
		return nil // elections, backup list requests and the like
	}
	// opcode, update count, periodicity (4), name (16), OS major, minor,
	// server type (4), browser version (2), signature (2), comment.
	if len(data) < 32 {
		return protocols.Malformedf("netbios: %d-byte browser announcement", len(data))
	}
	server := rawName(data[6:22]) // 15 name bytes and a NUL
	comment := data[32:]
	for i, c := range comment {
		if c == 0 {
			comment = comment[:i]
			break
		}
	}
	if data[0] == 0x0c {
		f.add(FactGroup, server.text())
		f.add(FactMaster, sanitize(comment))
		return nil
	}
	o.Role = "server"
	if h := server.text(); h != "" {
		if o.Hostname == "" {
			o.Hostname = h
		}
		f.add(FactServer, h)
	}
	var v [7]byte
	vs := append(appendUint(v[:0], data[22]), '.')
	vs = appendUint(vs, data[23])
	f.add(FactOSVersion, string(vs))
	st := binary.LittleEndian.Uint32(data[24:])
	var h [10]byte
	h[0], h[1] = '0', 'x'
	for i := range 8 {
		h[2+i] = hexDigits[(st>>(28-4*i))&0xf]
	}
	f.add(FactServerType, string(h[:]))
	f.add(FactComment, sanitize(comment[:min(len(comment), maxComment)]))
	return nil
}

func appendUint(b []byte, v byte) []byte {
	if v >= 100 {
		b = append(b, '0'+v/100)
	}
	if v >= 10 {
		b = append(b, '0'+v/10%10)
	}
	return append(b, '0'+v%10)
}

func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		c, d := b[i], s[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		if c != d {
			return false
		}
	}
	return true
}

func addr4(b []byte) netip.Addr { return netip.AddrFrom4([4]byte(b)) }

const hexDigits = "0123456789abcdef"

// sanitize keeps printable ASCII (0x20-0x7e) of b, trimmed.
func sanitize(b []byte) string {
	var buf [maxComment]byte
	n := 0
	for _, c := range b {
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
