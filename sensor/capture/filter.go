package capture

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"golang.org/x/net/bpf"
)

// filterSnapLen is what a compiled filter returns for an accepted packet:
// the whole packet, as with tcpdump.
const filterSnapLen = 262144

// CompileFilter compiles a capture filter in a subset of tcpdump's language
// into classic BPF for Ethernet frames (as read from an Ethernet interface or
// a LINKTYPE_ETHERNET file). An empty expression means no filter (nil).
//
// Primitives: ip, ip6, arp, tcp, udp, vlan [ID]; [tcp|udp] [src|dst] port N;
// [src|dst] host A.B.C.D; [src|dst] net A.B.C.D/N. They combine with
// and/&&, or/||, not/! and parentheses. As in tcpdump, "and" and "or" have
// the same precedence and associate to the left, "not" binds tightest, and
// every primitive after "vlan" looks 4 bytes further into the frame. host and
// net match IPv4, ARP and RARP addresses; port matches TCP, UDP and SCTP over
// IPv4 (first fragments only) and IPv6 (without extension headers).
//
// Errors name the offending token and its 1-based byte position.
func CompileFilter(expr string) ([]bpf.RawInstruction, error) {
	toks, err := lexFilter(expr)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return nil, nil
	}
	p := &filterParser{toks: toks, expr: expr, link: 12}
	n, err := p.parseExpr()
	if err != nil {
		return nil, err
	}
	if p.i < len(p.toks) {
		return nil, p.errorf(p.toks[p.i], "expected and, or or the end of the filter")
	}
	return assembleFilter(n, expr)
}

type filterToken struct {
	text string
	pos  int // 1-based byte offset in the expression
}

func lexFilter(expr string) ([]filterToken, error) {
	var toks []filterToken
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')':
			toks = append(toks, filterToken{expr[i : i+1], i + 1})
			i++
		case c == '!':
			toks = append(toks, filterToken{"!", i + 1})
			i++
		case c == '&' || c == '|':
			if i+1 >= len(expr) || expr[i+1] != c {
				return nil, fmt.Errorf("filter %q: unexpected %q at position %d: use %c%c", expr, string(c), i+1, c, c)
			}
			toks = append(toks, filterToken{expr[i : i+2], i + 1})
			i += 2
		case isWordByte(c):
			j := i
			for j < len(expr) && isWordByte(expr[j]) {
				j++
			}
			toks = append(toks, filterToken{expr[i:j], i + 1})
			i = j
		default:
			return nil, fmt.Errorf("filter %q: unexpected character %q at position %d", expr, string(c), i+1)
		}
	}
	return toks, nil
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '/' || c == '_' || c == '-' || c == ':'
}

// filterNode is a boolean expression over frame tests.
type filterNode struct {
	op   byte // '&', '|', '!', or 't' for a test
	a, b *filterNode
	t    filterTest
}

// filterTest loads a field and compares it.
type filterTest struct {
	size   int    // 1, 2 or 4 bytes
	off    uint32 // from the frame start, or from the IPv4 payload if ipx
	ipx    bool   // load relative to the IPv4 header length (ldxb 4*([14]&0xf))
	ihlOff uint32 // offset of the IPv4 header, for ipx
	mask   uint32 // 0: none
	jset   bool   // test bits set instead of equality
	val    uint32
}

func and(a, b *filterNode) *filterNode { return &filterNode{op: '&', a: a, b: b} }
func or(a, b *filterNode) *filterNode  { return &filterNode{op: '|', a: a, b: b} }
func not(a *filterNode) *filterNode    { return &filterNode{op: '!', a: a} }
func test(t filterTest) *filterNode    { return &filterNode{op: 't', t: t} }

func anyOf(ns ...*filterNode) *filterNode {
	n := ns[0]
	for _, m := range ns[1:] {
		n = or(n, m)
	}
	return n
}

func allOf(ns ...*filterNode) *filterNode {
	n := ns[0]
	for _, m := range ns[1:] {
		n = and(n, m)
	}
	return n
}

type filterParser struct {
	toks []filterToken
	i    int
	expr string
	link uint32 // offset of the ethertype field: 12, plus 4 per "vlan"
}

func (p *filterParser) errorf(t filterToken, format string, args ...any) error {
	return fmt.Errorf("filter %q: unexpected %q at position %d: %s", p.expr, t.text, t.pos, fmt.Sprintf(format, args...))
}

func (p *filterParser) peek() (filterToken, bool) {
	if p.i < len(p.toks) {
		return p.toks[p.i], true
	}
	return filterToken{}, false
}

func (p *filterParser) endErr(what string) error {
	return fmt.Errorf("filter %q: unexpected end at position %d: expected %s", p.expr, len(p.expr)+1, what)
}

// parseExpr: unary { (and|or) unary }, left-associative, equal precedence.
func (p *filterParser) parseExpr() (*filterNode, error) {
	n, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	for {
		t, ok := p.peek()
		if !ok {
			return n, nil
		}
		var op byte
		switch strings.ToLower(t.text) {
		case "and", "&&":
			op = '&'
		case "or", "||":
			op = '|'
		default:
			return n, nil
		}
		p.i++
		m, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		n = &filterNode{op: op, a: n, b: m}
	}
}

func (p *filterParser) parseUnary() (*filterNode, error) {
	t, ok := p.peek()
	if !ok {
		return nil, p.endErr("a primitive, not or (")
	}
	switch strings.ToLower(t.text) {
	case "not", "!":
		p.i++
		n, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		return not(n), nil
	case "(":
		p.i++
		n, err := p.parseExpr()
		if err != nil {
			return nil, err
		}
		c, ok := p.peek()
		if !ok {
			return nil, p.endErr(") to close the ( at position " + strconv.Itoa(t.pos))
		}
		if c.text != ")" {
			return nil, p.errorf(c, "expected ) to close the ( at position %d", t.pos)
		}
		p.i++
		return n, nil
	}
	return p.parsePrimitive()
}

const (
	etherIPv4 = 0x0800
	etherIPv6 = 0x86dd
	etherARP  = 0x0806
	etherRARP = 0x8035
	ipTCP     = 6
	ipUDP     = 17
	ipSCTP    = 132
)

func (p *filterParser) next(what string) (filterToken, error) {
	t, ok := p.peek()
	if !ok {
		return t, p.endErr(what)
	}
	p.i++
	return t, nil
}

func (p *filterParser) parsePrimitive() (*filterNode, error) {
	t, _ := p.next("")
	word := strings.ToLower(t.text)
	switch word {
	case "ip":
		return p.ether(etherIPv4), nil
	case "ip6":
		return p.ether(etherIPv6), nil
	case "arp":
		return p.ether(etherARP), nil
	case "vlan":
		return p.vlan()
	case "tcp", "udp":
		proto := uint32(ipTCP)
		if word == "udp" {
			proto = ipUDP
		}
		if n, ok := p.peek(); ok {
			switch strings.ToLower(n.text) {
			case "port", "src", "dst":
				return p.parsePort([]uint32{proto})
			}
		}
		return p.transport(proto), nil
	case "port":
		p.i--
		return p.parsePort([]uint32{ipSCTP, ipTCP, ipUDP})
	case "host", "net":
		p.i--
		return p.parseAddr("")
	case "src", "dst":
		n, ok := p.peek()
		if ok && strings.ToLower(n.text) == "port" {
			p.i--
			return p.parsePort([]uint32{ipSCTP, ipTCP, ipUDP})
		}
		return p.parseAddr(word)
	}
	return nil, p.errorf(t, "expected a primitive (ip, ip6, arp, tcp, udp, vlan, [src|dst] host, [src|dst] net, [tcp|udp] [src|dst] port), not, or (")
}

func (p *filterParser) ether(typ uint32) *filterNode {
	return test(filterTest{size: 2, off: p.link, val: typ})
}

// vlan matches 802.1Q/802.1ad tags (and an ID if given), then moves the
// following primitives 4 bytes further, as tcpdump does.
func (p *filterParser) vlan() (*filterNode, error) {
	n := anyOf(p.ether(0x8100), p.ether(0x88a8), p.ether(0x9100))
	if t, ok := p.peek(); ok && t.text[0] >= '0' && t.text[0] <= '9' {
		id, err := strconv.ParseUint(t.text, 10, 16)
		if err != nil || id > 4095 {
			return nil, p.errorf(t, "expected a VLAN ID from 0 to 4095")
		}
		p.i++
		n = and(n, test(filterTest{size: 2, off: p.link + 2, mask: 0x0fff, val: uint32(id)}))
	}
	p.link += 4
	return n, nil
}

// ipProto: IPv4 protocol field.
func (p *filterParser) ipProto(proto uint32) *filterNode {
	return test(filterTest{size: 1, off: p.link + 11, val: proto})
}

// ip6Next: IPv6 next header field.
func (p *filterParser) ip6Next(proto uint32) *filterNode {
	return test(filterTest{size: 1, off: p.link + 8, val: proto})
}

// transport matches tcp or udp over IPv4 or IPv6 (also behind one fragment
// header), like tcpdump's "tcp" and "udp".
func (p *filterParser) transport(proto uint32) *filterNode {
	v4 := and(p.ether(etherIPv4), p.ipProto(proto))
	frag := and(p.ip6Next(44), test(filterTest{size: 1, off: p.link + 2 + 40, val: proto}))
	v6 := and(p.ether(etherIPv6), or(p.ip6Next(proto), frag))
	return or(v4, v6)
}

func (p *filterParser) parsePort(protos []uint32) (*filterNode, error) {
	dir := ""
	t, err := p.next("port")
	if err != nil {
		return nil, err
	}
	if w := strings.ToLower(t.text); w == "src" || w == "dst" {
		dir = w
		if t, err = p.next("port"); err != nil {
			return nil, err
		}
	}
	if strings.ToLower(t.text) != "port" {
		return nil, p.errorf(t, "expected port")
	}
	t, err = p.next("a port number")
	if err != nil {
		return nil, err
	}
	port, err := strconv.ParseUint(t.text, 10, 16)
	if err != nil {
		return nil, p.errorf(t, "expected a port number from 0 to 65535")
	}
	var v4p, v6p []*filterNode
	for _, pr := range protos {
		v4p = append(v4p, p.ipProto(pr))
		v6p = append(v6p, p.ip6Next(pr))
	}
	l := p.link
	ports := func(v4 bool) *filterNode {
		mk := func(o uint32) *filterNode {
			if v4 {
				return test(filterTest{size: 2, ipx: true, ihlOff: l + 2, off: l + 2 + o, val: uint32(port)})
			}
			return test(filterTest{size: 2, off: l + 2 + 40 + o, val: uint32(port)})
		}
		switch dir {
		case "src":
			return mk(0)
		case "dst":
			return mk(2)
		}
		return or(mk(0), mk(2))
	}
	notFrag := not(test(filterTest{size: 2, off: l + 8, jset: true, val: 0x1fff}))
	v6 := allOf(p.ether(etherIPv6), anyOf(v6p...), ports(false))
	v4 := allOf(p.ether(etherIPv4), anyOf(v4p...), notFrag, ports(true))
	return or(v6, v4), nil
}

func (p *filterParser) parseAddr(dir string) (*filterNode, error) {
	t, err := p.next("host or net")
	if err != nil {
		return nil, err
	}
	kind := strings.ToLower(t.text)
	if kind != "host" && kind != "net" {
		return nil, p.errorf(t, "expected host, net or port")
	}
	t, err = p.next("an IPv4 address")
	if err != nil {
		return nil, err
	}
	var addr, mask uint32
	bits := 32
	if kind == "host" {
		a, err := netip.ParseAddr(t.text)
		if err != nil || !a.Is4() {
			return nil, p.errorf(t, "expected an IPv4 address A.B.C.D")
		}
		b := a.As4()
		addr = be32(b[:])
	} else {
		pfx, err := netip.ParsePrefix(t.text)
		if err != nil || !pfx.Addr().Is4() {
			return nil, p.errorf(t, "expected an IPv4 network A.B.C.D/N")
		}
		if pfx.Masked() != pfx {
			return nil, p.errorf(t, "the address has bits set outside the /%d mask", pfx.Bits())
		}
		b := pfx.Addr().As4()
		addr, bits = be32(b[:]), pfx.Bits()
		if bits > 0 && bits < 32 {
			mask = ^uint32(0) << (32 - bits)
		}
	}
	l := p.link
	pick := func(src, dst uint32) *filterNode {
		field := func(o uint32) *filterNode {
			return test(filterTest{size: 4, off: l + 2 + o, mask: mask, val: addr})
		}
		switch dir {
		case "src":
			return field(src)
		case "dst":
			return field(dst)
		}
		return or(field(src), field(dst))
	}
	ip := p.ether(etherIPv4)
	arp := or(p.ether(etherARP), p.ether(etherRARP))
	if bits > 0 { // net 0.0.0.0/0 matches every IPv4, ARP and RARP frame
		ip = and(ip, pick(12, 16))
		arp = and(arp, pick(14, 24))
	}
	return or(ip, arp), nil
}

func be32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// Code generation: every node jumps to a true or a false label; labels are
// resolved to forward offsets at the end.

type genInsn struct {
	ins    bpf.Instruction // for plain instructions
	jump   bool
	cond   bpf.JumpTest
	val    uint32
	lt, lf int // labels, for jumps
}

type filterGen struct {
	code   []genInsn
	labels []int // label -> instruction index, -1 until placed
}

func (g *filterGen) label() int {
	g.labels = append(g.labels, -1)
	return len(g.labels) - 1
}

func (g *filterGen) place(l int) { g.labels[l] = len(g.code) }

func (g *filterGen) emit(n *filterNode, lt, lf int) {
	switch n.op {
	case '&':
		mid := g.label()
		g.emit(n.a, mid, lf)
		g.place(mid)
		g.emit(n.b, lt, lf)
	case '|':
		mid := g.label()
		g.emit(n.a, lt, mid)
		g.place(mid)
		g.emit(n.b, lt, lf)
	case '!':
		g.emit(n.a, lf, lt)
	case 't':
		t := n.t
		if t.ipx {
			g.code = append(g.code, genInsn{ins: bpf.LoadMemShift{Off: t.ihlOff}})
			g.code = append(g.code, genInsn{ins: bpf.LoadIndirect{Off: t.off, Size: t.size}})
		} else {
			g.code = append(g.code, genInsn{ins: bpf.LoadAbsolute{Off: t.off, Size: t.size}})
		}
		if t.mask != 0 {
			g.code = append(g.code, genInsn{ins: bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: t.mask}})
		}
		cond := bpf.JumpEqual
		if t.jset {
			cond = bpf.JumpBitsSet
		}
		g.code = append(g.code, genInsn{jump: true, cond: cond, val: t.val, lt: lt, lf: lf})
	}
}

func assembleFilter(n *filterNode, expr string) ([]bpf.RawInstruction, error) {
	g := &filterGen{}
	accept, reject := g.label(), g.label()
	g.emit(n, accept, reject)
	g.place(accept)
	g.code = append(g.code, genInsn{ins: bpf.RetConstant{Val: filterSnapLen}})
	g.place(reject)
	g.code = append(g.code, genInsn{ins: bpf.RetConstant{Val: 0}})
	prog := make([]bpf.Instruction, len(g.code))
	for i, c := range g.code {
		if !c.jump {
			prog[i] = c.ins
			continue
		}
		st, sf := g.labels[c.lt]-i-1, g.labels[c.lf]-i-1
		if st < 0 || sf < 0 || st > 255 || sf > 255 {
			return nil, fmt.Errorf("filter %q: too complex (a jump spans more than 255 instructions)", expr)
		}
		prog[i] = bpf.JumpIf{Cond: c.cond, Val: c.val, SkipTrue: uint8(st), SkipFalse: uint8(sf)}
	}
	if len(prog) > 4096 {
		return nil, fmt.Errorf("filter %q: too complex (%d instructions, the kernel takes 4096)", expr, len(prog))
	}
	raw, err := bpf.Assemble(prog)
	if err != nil {
		return nil, fmt.Errorf("filter %q: %w", expr, err)
	}
	return raw, nil
}
