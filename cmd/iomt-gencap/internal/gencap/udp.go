package gencap

import "encoding/binary"

var zeros [256]byte

func be16(b []byte, v int) []byte { return append(b, byte(v>>8), byte(v)) }

func be32(b []byte, v uint32) []byte {
	return append(b, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

// udpOff is where a UDP payload starts in a frame.
const udpOff = ethLen + ipv4Len + udpLen

// sendUDP emits a UDP datagram whose payload (n bytes) is already in place.
func (g *gen) sendUDP(srcMAC, dstMAC macAddr, src, dst ip4, sport, dport uint16, n int, ttl byte, id uint16, host int) {
	fr := g.frame
	putEth(fr, dstMAC, srcMAC, 0x0800)
	putIPv4(fr[ethLen:], src, dst, 17, udpLen+n, id, ttl, false)
	putUDP(fr[ethLen+ipv4Len:udpOff+n], src, dst, sport, dport)
	g.emit(udpOff+n, host)
}

// --- ARP ---

func (g *gen) setupARP(f *flow) {
	var a int
	if g.rng.IntN(3) == 0 {
		a = g.seg.routers[g.rng.IntN(len(g.seg.routers))]
	} else {
		a = g.rng.IntN(len(g.seg.hosts))
	}
	b := g.rng.IntN(len(g.seg.hosts))
	if b == a {
		b = g.seg.routers[0]
		if a == b {
			b = g.seg.routers[1]
		}
	}
	f.cli, f.srv = g.local(a), g.local(b)
	f.answer = g.rng.IntN(10) != 0
}

func (g *gen) stepARP(f *flow) bool {
	fr := g.frame
	a := fr[ethLen : ethLen+28]
	a[0], a[1], a[2], a[3], a[4], a[5] = 0, 1, 8, 0, 6, 4
	if f.step == 0 {
		putEth(fr, broadcastMAC, f.cli.mac, 0x0806)
		a[6], a[7] = 0, 1
		copy(a[8:14], f.cli.mac[:])
		copy(a[14:18], f.cli.ip[:])
		copy(a[18:24], zeros[:6])
		copy(a[24:28], f.srv.ip[:])
		g.emit(ethLen+28, f.cli.host)
		f.step++
		return !f.answer
	}
	putEth(fr, f.cli.mac, f.srv.mac, 0x0806)
	a[6], a[7] = 0, 2
	copy(a[8:14], f.srv.mac[:])
	copy(a[14:18], f.srv.ip[:])
	copy(a[18:24], f.cli.mac[:])
	copy(a[24:28], f.cli.ip[:])
	g.emit(ethLen+28, f.srv.host)
	return true
}

// --- DHCP ---

func (g *gen) setupDHCP(f *flow) {
	c := g.pickClient()
	f.cli = g.local(c)
	f.srv = g.local(g.pickServer(roleDHCP))
}

// pickClient returns a non-infrastructure host.
func (g *gen) pickClient() int {
	for {
		i := g.rng.IntN(len(g.seg.hosts))
		if v := g.seg.hosts[i].v; v != nil && v.class != classServer {
			return i
		}
	}
}

// DHCP message types.
const (
	dhcpDiscover = 1
	dhcpOffer    = 2
	dhcpRequest  = 3
	dhcpAck      = 5
)

func (g *gen) stepDHCP(f *flow) bool {
	h := &g.seg.hosts[f.cli.host]
	types := [4]byte{dhcpDiscover, dhcpOffer, dhcpRequest, dhcpAck}
	mt := types[f.step]
	b := g.frame[udpOff:udpOff:len(g.frame)]
	op := byte(1)
	if mt == dhcpOffer || mt == dhcpAck {
		op = 2
	}
	b = append(b, op, 1, 6, 0)
	b = be32(b, f.xid)
	b = be16(b, f.step)       // secs
	b = be16(b, 0)            // flags
	b = append(b, 0, 0, 0, 0) // ciaddr
	if op == 2 {
		b = append(b, h.ip[:]...)
		b = append(b, f.srv.ip[:]...)
	} else {
		b = append(b, zeros[:8]...)
	}
	b = append(b, 0, 0, 0, 0) // giaddr
	b = append(b, h.mac[:]...)
	b = append(b, zeros[:10]...)
	b = append(b, zeros[:192]...) // sname, file
	b = append(b, 0x63, 0x82, 0x53, 0x63)
	b = append(b, 53, 1, mt)
	srv := &g.seg.hosts[f.srv.host]
	if op == 1 {
		b = append(b, 61, 7, 1)
		b = append(b, h.mac[:]...)
		b = append(b, 50, 4)
		b = append(b, h.ip[:]...)
		if mt == dhcpRequest {
			b = append(b, 54, 4)
			b = append(b, srv.ip[:]...)
		}
		b = append(b, 57, 2, 0x05, 0xdc)
		b = append(b, 12, byte(len(h.name)))
		b = append(b, h.name...)
		b = append(b, 60, byte(len(h.v.vendorClass)))
		b = append(b, h.v.vendorClass...)
		b = append(b, 55, byte(len(h.v.params)))
		b = append(b, h.v.params...)
	} else {
		gw := &g.seg.hosts[g.seg.routers[h.gw]]
		b = append(b, 54, 4)
		b = append(b, srv.ip[:]...)
		b = append(b, 51, 4, 0, 1, 0x51, 0x80) // 86400 s
		b = append(b, 1, 4, 255, 255, 0, 0)
		b = append(b, 3, 4)
		b = append(b, gw.ip[:]...)
		b = append(b, 6, byte(4*len(g.seg.servers[roleDNS])))
		for _, d := range g.seg.servers[roleDNS] {
			b = append(b, g.seg.hosts[d].ip[:]...)
		}
		b = append(b, 15, 10)
		b = append(b, "hosp.local"...)
	}
	b = append(b, 255)
	if len(b) < 300 {
		b = append(b, zeros[:300-len(b)]...)
	}
	if op == 1 {
		g.sendUDP(h.mac, broadcastMAC, ip4{}, ip4{255, 255, 255, 255}, 68, 67, len(b), h.ttl, uint16(f.xid)+uint16(f.step), f.cli.host)
	} else {
		g.sendUDP(srv.mac, h.mac, srv.ip, h.ip, 67, 68, len(b), srv.ttl, uint16(f.xid>>16)+uint16(f.step), f.srv.host)
	}
	f.step++
	return f.step == 4
}

// --- DNS ---

var localNames = []string{"pacs01.hosp.local", "pacs02.hosp.local", "hl7eng01.hosp.local", "fs01.hosp.local",
	"intranet.hosp.local", "wsus.hosp.local", "dc01.hosp.local", "printsrv.hosp.local"}

func (g *gen) setupDNS(f *flow) {
	c := g.pickClient()
	f.cli = g.local(c)
	f.cli.port = g.ephemeral(c)
	f.srv = g.local(g.pickServer(roleDNS))
	f.srv.port = 53
	f.aux = -1 - g.rng.IntN(len(localNames))
	if g.rng.IntN(3) != 0 {
		f.aux = g.rng.IntN(len(g.seg.remotes))
	}
	f.answer = g.rng.IntN(12) != 0
}

func (g *gen) stepDNS(f *flow) bool {
	var name string
	var addr ip4
	if f.aux >= 0 {
		r := &g.seg.remotes[f.aux]
		name, addr = r.name, r.ip
	} else {
		name = localNames[-1-f.aux]
		addr = g.seg.hosts[g.seg.servers[roleWeb][0]].ip
	}
	b := g.frame[udpOff:udpOff:len(g.frame)]
	b = be16(b, int(f.xid&0xffff))
	switch {
	case f.step == 0:
		b = append(b, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0)
	case f.answer:
		b = append(b, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0)
	default:
		b = append(b, 0x81, 0x83, 0, 1, 0, 0, 0, 0, 0, 0) // NXDOMAIN
	}
	b = appendDNSName(b, name)
	b = append(b, 0, 1, 0, 1)
	if f.step == 1 && f.answer {
		b = append(b, 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x01, 0x2c, 0, 4)
		b = append(b, addr[:]...)
	}
	if f.step == 0 {
		g.sendUDP(f.cli.mac, f.srv.mac, f.cli.ip, f.srv.ip, f.cli.port, 53, len(b), f.cli.ttl, uint16(f.xid>>16), f.cli.host)
		f.step++
		return false
	}
	g.sendUDP(f.srv.mac, f.cli.mac, f.srv.ip, f.cli.ip, 53, f.cli.port, len(b), f.srv.ttl, uint16(f.xid>>8), f.srv.host)
	return true
}

func appendDNSName(b []byte, name string) []byte {
	for len(name) > 0 {
		i := 0
		for i < len(name) && name[i] != '.' {
			i++
		}
		b = append(b, byte(i))
		b = append(b, name[:i]...)
		if i < len(name) {
			i++
		}
		name = name[i:]
	}
	return append(b, 0)
}

// putLen24 writes a 24-bit big-endian length.
func putLen24(b []byte, n int) { b[0], b[1], b[2] = byte(n>>16), byte(n>>8), byte(n) }

func putLen16(b []byte, n int) { binary.BigEndian.PutUint16(b, uint16(n)) }
