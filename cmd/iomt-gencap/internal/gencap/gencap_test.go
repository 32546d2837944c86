package gencap_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/iomt-sensor/iomt-sensor/cmd/iomt-gencap/internal/gencap"
)

// generate writes a capture of size bytes into a temporary file.
func generate(t testing.TB, size int64, seed uint64) (string, gencap.Stats) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "seg.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := gencap.Generate(f, gencap.Config{Size: size, Hosts: 3000, Seed: seed})
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path, st
}

// ipSum is an independent RFC 1071 checksum over b with a start value.
func ipSum(b []byte, s uint32) uint16 {
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return ^uint16(s)
}

func pseudo(ip *layers.IPv4, proto byte, n int) uint32 {
	var s uint32
	for i := 0; i < 4; i += 2 {
		s += uint32(ip.SrcIP[i])<<8 | uint32(ip.SrcIP[i+1])
		s += uint32(ip.DstIP[i])<<8 | uint32(ip.DstIP[i+1])
	}
	return s + uint32(proto) + uint32(n)
}

type flowKey struct {
	a, b   [4]byte
	pa, pb uint16
}

// tcpFlow tracks one TCP connection as seen in the file.
type tcpFlow struct {
	client   [4]byte
	cport    uint16
	packets  int
	next     [2]uint32 // next expected sequence number per direction
	finished bool
}

// mix counts protocol evidence found by the test's own parsers.
type mix struct {
	arp, dhcpDORA, dnsQ, dnsR, tlsCH, tlsSH, httpReq, httpResp     int
	dicomRQ, dicomAC, dicomPData, dicomRel, hl7, hl7Ack, smb, full int
	rst, fin                                                       int
	routedSegs                                                     int
}

func TestGenerateDecodes(t *testing.T) {
	const size = 5 << 20
	path, st := generate(t, size, 1)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() > size || fi.Size() < size-2000 || fi.Size() != st.FileBytes {
		t.Fatalf("file is %d bytes, stats say %d, want at most and near %d", fi.Size(), st.FileBytes, size)
	}
	t.Logf("stats:\n%s", st)

	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	if r.LinkType() != layers.LinkTypeEthernet {
		t.Fatalf("link type %v, want Ethernet", r.LinkType())
	}

	var (
		m        mix
		packets  int64
		bytesSum int64
		lastTS   int64
		routers  = map[[6]byte]bool{}
		flows    = map[flowKey]*tcpFlow{}
		dhcpOpts = map[layers.DHCPOpt]bool{}
	)
	for {
		data, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("packet %d: %v", packets+1, err)
		}
		packets++
		bytesSum += int64(len(data))
		ts := ci.Timestamp.UnixMicro()
		if ts <= lastTS {
			t.Fatalf("packet %d: timestamp %d not after %d", packets, ts, lastTS)
		}
		lastTS = ts
		if ts <= gencap.StartUnix*1e6 {
			t.Fatalf("packet %d: timestamp %v not after the start", packets, ci.Timestamp)
		}

		p := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.Default)
		if el := p.ErrorLayer(); el != nil {
			t.Fatalf("packet %d: decode error: %v", packets, el.Error())
		}
		if a, ok := p.Layer(layers.LayerTypeARP).(*layers.ARP); ok {
			m.arp++
			if a.Operation == layers.ARPReply && !bytes.Equal(a.SourceHwAddress, data[6:12]) {
				t.Fatalf("packet %d: ARP reply sender %x is not the frame source", packets, a.SourceHwAddress)
			}
			continue
		}
		ip, ok := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		if !ok {
			t.Fatalf("packet %d: neither ARP nor IPv4", packets)
		}
		if ipSum(ip.Contents, 0) != 0 {
			t.Fatalf("packet %d: bad IPv4 header checksum", packets)
		}
		eth := p.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
		switch l4 := p.TransportLayer().(type) {
		case *layers.UDP:
			seg := append(append([]byte{}, l4.Contents...), l4.Payload...)
			if ipSum(seg, pseudo(ip, 17, len(seg))) != 0 {
				t.Fatalf("packet %d: bad UDP checksum", packets)
			}
			if d, ok := p.Layer(layers.LayerTypeDHCPv4).(*layers.DHCPv4); ok {
				for _, o := range d.Options {
					if o.Type == layers.DHCPOptMessageType && len(o.Data) == 1 {
						m.dhcpDORA |= 1 << o.Data[0]
					}
					if d.Operation == layers.DHCPOpRequest {
						dhcpOpts[o.Type] = true
					}
				}
			}
			if d, ok := p.Layer(layers.LayerTypeDNS).(*layers.DNS); ok {
				if d.QR {
					m.dnsR++
				} else {
					m.dnsQ++
				}
			}
		case *layers.TCP:
			if err := l4.SetNetworkLayerForChecksum(ip); err != nil {
				t.Fatal(err)
			}
			if c, err := l4.ComputeChecksum(); err != nil || c != 0 {
				t.Fatalf("packet %d: bad TCP checksum (residue %#x, err %v)", packets, c, err)
			}
			checkTCP(t, packets, ip, l4, flows, &m)
			if len(l4.Payload) == 1448 {
				m.full++
			}
			if ip.SrcIP[0] != 10 {
				routers[[6]byte(eth.SrcMAC)] = true
			}
			if ip.DstIP[0] != 10 {
				routers[[6]byte(eth.DstMAC)] = true
			}
			classify(t, packets, l4, &m)
		default:
			t.Fatalf("packet %d: unexpected transport %T", packets, l4)
		}
	}

	avg := float64(bytesSum) / float64(packets)
	if avg < 600 || avg > 800 {
		t.Errorf("average packet size %.1f, want 600..800", avg)
	}
	if packets != st.Packets || bytesSum != st.FrameBytes {
		t.Errorf("read %d packets/%d bytes, stats say %d/%d", packets, bytesSum, st.Packets, st.FrameBytes)
	}
	if len(routers) == 0 || len(routers) > 2 {
		t.Errorf("public traffic crosses %d gateway MACs, want 1 or 2", len(routers))
	}
	for _, o := range []layers.DHCPOpt{53, 12, 55, 60, 61, 50} {
		if !dhcpOpts[o] {
			t.Errorf("no DHCP client message carries option %d", o)
		}
	}
	if m.dhcpDORA&(1<<1|1<<2|1<<3|1<<5) != 1<<1|1<<2|1<<3|1<<5 {
		t.Errorf("DHCP message types seen %b, want discover, offer, request, ack", m.dhcpDORA)
	}
	interleaved := 0
	for _, fl := range flows {
		if !fl.finished {
			interleaved++
		}
	}
	checks := []struct {
		name string
		got  int
		min  int
	}{
		{"arp", m.arp, 10}, {"dns queries", m.dnsQ, 10}, {"dns responses", m.dnsR, 10},
		{"tls client hello", m.tlsCH, 10}, {"tls server hello", m.tlsSH, 10},
		{"http requests", m.httpReq, 5}, {"http responses", m.httpResp, 5},
		{"dicom associate rq", m.dicomRQ, 2}, {"dicom associate ac", m.dicomAC, 2},
		{"dicom p-data", m.dicomPData, 2}, {"dicom release", m.dicomRel, 1},
		{"hl7 oru", m.hl7, 5}, {"hl7 ack", m.hl7Ack, 5}, {"smb2", m.smb, 2},
		{"full-size segments", m.full, 500}, {"fin", m.fin, 10}, {"rst", m.rst, 1},
		{"tcp segments through a gateway", m.routedSegs, 100},
		{"tcp flows", len(flows), 100}, {"flows open at end", interleaved, 20},
	}
	for i, c := range checks {
		if c.got < c.min {
			t.Errorf("Test %d: expected at least %d %s, got %d", i, c.min, c.name, c.got)
		}
	}
}

// checkTCP verifies handshake, sequence and acknowledgement numbers.
func checkTCP(t *testing.T, n int64, ip *layers.IPv4, tcp *layers.TCP, flows map[flowKey]*tcpFlow, m *mix) {
	t.Helper()
	src, dst := [4]byte(ip.SrcIP.To4()), [4]byte(ip.DstIP.To4())
	sp, dp := uint16(tcp.SrcPort), uint16(tcp.DstPort)
	k := flowKey{src, dst, sp, dp}
	if bytes.Compare(src[:], dst[:]) > 0 || (src == dst && sp > dp) {
		k = flowKey{dst, src, dp, sp}
	}
	fl := flows[k]
	if fl == nil || fl.finished && tcp.SYN && !tcp.ACK {
		if !tcp.SYN || tcp.ACK {
			t.Fatalf("packet %d: flow %v starts without a SYN", n, k)
		}
		fl = &tcpFlow{client: src, cport: sp}
		flows[k] = fl
	}
	if fl.finished {
		t.Fatalf("packet %d: segment after the end of flow %v", n, k)
	}
	dir := 0
	if src != fl.client || sp != fl.cport {
		dir = 1
	}
	fl.packets++
	switch fl.packets {
	case 1:
		fl.next[0] = tcp.Seq
	case 2:
		if !tcp.SYN || !tcp.ACK || dir != 1 {
			t.Fatalf("packet %d: second segment of %v is not a SYN-ACK from the server", n, k)
		}
		fl.next[1] = tcp.Seq
	case 3:
		if tcp.SYN || !tcp.ACK || dir != 0 || len(tcp.Payload) != 0 {
			t.Fatalf("packet %d: third segment of %v is not the client's ACK", n, k)
		}
	}
	if tcp.Seq != fl.next[dir] {
		t.Fatalf("packet %d: flow %v dir %d seq %d, want %d", n, k, dir, tcp.Seq, fl.next[dir])
	}
	fl.next[dir] += uint32(len(tcp.Payload))
	if tcp.SYN || tcp.FIN {
		fl.next[dir]++
	}
	if tcp.ACK && tcp.Ack != fl.next[1-dir] {
		t.Fatalf("packet %d: flow %v dir %d ack %d, want %d", n, k, dir, tcp.Ack, fl.next[1-dir])
	}
	if tcp.RST {
		m.rst++
		fl.finished = true
	}
	if tcp.FIN {
		m.fin++
	}
	if src[0] != 10 || dst[0] != 10 {
		m.routedSegs++
	}
}

// classify recognises the application protocol at the start of a segment.
func classify(t *testing.T, n int64, tcp *layers.TCP, m *mix) {
	t.Helper()
	p := tcp.Payload
	if len(p) == 0 {
		return
	}
	switch {
	case tcp.DstPort == 443 && len(p) > 5 && string(p[:3]) == "\x16\x03\x01" && p[5] == 1:
		sni, alpn := parseClientHello(p)
		if sni == "" || !strings.Contains(alpn, "h2") {
			t.Fatalf("packet %d: ClientHello without SNI or ALPN (sni %q alpn %q)", n, sni, alpn)
		}
		m.tlsCH++
	case tcp.SrcPort == 443 && len(p) > 5 && string(p[:3]) == "\x16\x03\x03" && p[5] == 2:
		m.tlsSH++
	case tcp.DstPort == 80 && bytes.HasPrefix(p, []byte("GET ")):
		if !bytes.Contains(p, []byte("\r\nHost: ")) || !bytes.Contains(p, []byte("\r\nUser-Agent: ")) {
			t.Fatalf("packet %d: GET without Host or User-Agent", n)
		}
		m.httpReq++
	case tcp.SrcPort == 80 && bytes.HasPrefix(p, []byte("HTTP/1.1 ")):
		if !bytes.Contains(p, []byte("\r\nServer: ")) {
			t.Fatalf("packet %d: response without Server", n)
		}
		m.httpResp++
	// Segments in the middle of a PDU carry random bytes, so PDU starts
	// are recognised by their fixed fields, not by the first byte alone.
	case tcp.DstPort == 104 && len(p) >= 74 && string(p[:2]) == "\x01\x00" && string(p[6:10]) == "\x00\x01\x00\x00":
		checkAssociate(t, n, p, 0x20)
		m.dicomRQ++
	case tcp.SrcPort == 104 && len(p) >= 74 && string(p[:2]) == "\x02\x00" && string(p[6:10]) == "\x00\x01\x00\x00":
		checkAssociate(t, n, p, 0x21)
		m.dicomAC++
	case (tcp.DstPort == 104 || tcp.SrcPort == 104) && len(p) >= 12 && string(p[:2]) == "\x04\x00" &&
		binary.BigEndian.Uint32(p[2:]) == binary.BigEndian.Uint32(p[6:])+4:
		if pl := binary.BigEndian.Uint32(p[2:]); pl > 16384 {
			t.Fatalf("packet %d: P-DATA-TF length %d exceeds max PDU", n, pl)
		}
		m.dicomPData++
	case (tcp.DstPort == 104 || tcp.SrcPort == 104) && len(p) == 10 && string(p[1:]) == "\x00\x00\x00\x00\x04\x00\x00\x00\x00" && (p[0] == 0x05 || p[0] == 0x06):
		m.dicomRel++
	case tcp.DstPort == 2575 && bytes.HasPrefix(p, []byte("\x0bMSH|^~\\&|")):
		if !bytes.HasSuffix(p, []byte("\x1c\r")) || !bytes.Contains(p, []byte("|ORU^R01")) {
			t.Fatalf("packet %d: HL7 ORU not framed by MLLP", n)
		}
		m.hl7++
	case tcp.SrcPort == 2575 && bytes.HasPrefix(p, []byte("\x0bMSH|")) && bytes.Contains(p, []byte("\rMSA|AA|")):
		m.hl7Ack++
	case (tcp.DstPort == 445 || tcp.SrcPort == 445) && len(p) > 8 && string(p[4:8]) == "\xfeSMB":
		m.smb++
	}
}

// parseClientHello returns the SNI and the ALPN protocols of a ClientHello
// record, or empty strings.
func parseClientHello(p []byte) (sni, alpn string) {
	if len(p) < 5+4+2+32+1 {
		return "", ""
	}
	b := p[5+4+2+32:]
	skip := func(n int) bool {
		if n > len(b) {
			return false
		}
		b = b[n:]
		return true
	}
	u16 := func() int {
		if len(b) < 2 {
			return 1 << 20
		}
		return int(binary.BigEndian.Uint16(b))
	}
	if !skip(1+int(b[0])) || !skip(2+u16()) || len(b) < 1 || !skip(1+int(b[0])) || !skip(2) {
		return "", ""
	}
	for len(b) >= 4 {
		typ, l := binary.BigEndian.Uint16(b), int(binary.BigEndian.Uint16(b[2:]))
		if 4+l > len(b) {
			return "", ""
		}
		v := b[4 : 4+l]
		switch typ {
		case 0:
			if len(v) >= 5 {
				sni = string(v[5:])
			}
		case 16:
			alpn = string(v)
		}
		b = b[4+l:]
	}
	return sni, alpn
}

// checkAssociate walks the items of an A-ASSOCIATE-RQ/AC (PS3.8 9.3.2/9.3.3).
func checkAssociate(t *testing.T, n int64, p []byte, pcType byte) {
	t.Helper()
	if len(p) < 74 || int(binary.BigEndian.Uint32(p[2:]))+6 != len(p) {
		t.Fatalf("packet %d: A-ASSOCIATE length field does not match the segment", n)
	}
	if binary.BigEndian.Uint16(p[6:]) != 1 {
		t.Fatalf("packet %d: protocol version %d", n, binary.BigEndian.Uint16(p[6:]))
	}
	seen := map[byte]bool{}
	for b := p[74:]; len(b) >= 4; {
		l := int(binary.BigEndian.Uint16(b[2:]))
		if 4+l > len(b) {
			t.Fatalf("packet %d: item %#x overruns the PDU", n, b[0])
		}
		seen[b[0]] = true
		if b[0] == 0x50 {
			for s := b[4 : 4+l]; len(s) >= 4; {
				sl := int(binary.BigEndian.Uint16(s[2:]))
				seen[s[0]] = true
				if 4+sl > len(s) {
					t.Fatalf("packet %d: sub-item %#x overruns user info", n, s[0])
				}
				s = s[4+sl:]
			}
		}
		b = b[4+l:]
	}
	for _, want := range []byte{0x10, pcType, 0x50, 0x51, 0x52, 0x55} {
		if !seen[want] {
			t.Fatalf("packet %d: A-ASSOCIATE lacks item %#x", n, want)
		}
	}
}

func TestDeterministic(t *testing.T) {
	gen := func(seed uint64) []byte {
		var b bytes.Buffer
		if _, err := gencap.Generate(&b, gencap.Config{Size: 1 << 20, Hosts: 500, Seed: seed}); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	a, b, c := gen(7), gen(7), gen(8)
	if !bytes.Equal(a, b) {
		t.Error("same seed gave different captures")
	}
	if bytes.Equal(a, c) {
		t.Error("different seeds gave the same capture")
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []gencap.Config{
		{Size: 1 << 20, Hosts: 3},
		{Size: 10, Hosts: 3000},
		{Size: 1 << 20, Hosts: 70000},
	}
	for i, cfg := range tests {
		if _, err := gencap.Generate(io.Discard, cfg); !errors.Is(err, gencap.ErrConfig) {
			t.Errorf("Test %d: expected ErrConfig for %+v, got %v", i, cfg, err)
		}
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		err  bool
	}{
		{"1GiB", 1 << 30, false},
		{"200MiB", 200 << 20, false},
		{"5MB", 5_000_000, false},
		{"64k", 64_000, false},
		{"1.5GiB", 3 << 29, false},
		{"12345", 12345, false},
		{"100B", 100, false},
		{"", 0, true},
		{"GiB", 0, true},
		{"-1MiB", 0, true},
		{"1TiB", 0, true},
		{"9999999999GiB", 0, true},
	}
	for i, tc := range tests {
		got, err := gencap.ParseSize(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("Test %d: ParseSize(%q): expected %d (error %v), got %d, %v", i, tc.in, tc.want, tc.err, got, err)
		}
	}
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"1GiB", "200MiB", "5M", "0", "1e3KB", "NaN", "-0", "Inf"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := gencap.ParseSize(s)
		if err == nil && (n < 0 || n > 1<<50) {
			t.Fatalf("ParseSize(%q) = %d", s, n)
		}
	})
}

// TestMemoryBounded checks that allocation does not grow with the size.
func TestMemoryBounded(t *testing.T) {
	alloc := func(size int64) uint64 {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		if _, err := gencap.Generate(io.Discard, gencap.Config{Size: size, Hosts: 3000, Seed: 3}); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	small, large := alloc(4<<20), alloc(64<<20)
	t.Logf("allocated %d bytes for 4 MiB, %d bytes for 64 MiB", small, large)
	if large > small+16<<20 {
		t.Errorf("allocation grows with size: %d bytes for 4 MiB, %d for 64 MiB", small, large)
	}
}

// TestTshark asks Wireshark's dissectors about the capture when tshark is
// installed.
func TestTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not on PATH; install it (apt-get install tshark) to run this check")
	}
	path, _ := generate(t, 5<<20, 1)
	decode := []string{"-d", "tcp.port==104,dicom", "-d", "tcp.port==2575,hl7"}
	run := func(args ...string) string {
		cmd := exec.Command(tshark, append(append([]string{"-n", "-r", path}, decode...), args...)...)
		var out, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("tshark %v: %v\n%s", args, err, stderr.String())
		}
		return out.String()
	}
	phs := run("-q", "-z", "io,phs")
	t.Logf("tshark io,phs:\n%s", phs)
	for _, proto := range []string{"arp", "dhcp", "dns", "tls", "http", "dicom", "hl7", "smb2"} {
		if !containsProto(phs, proto) {
			t.Errorf("tshark does not recognise %s", proto)
		}
	}
	bad := strings.TrimSpace(run("-Y", "_ws.malformed || _ws.expert.severity >= error"))
	if bad != "" {
		lines := strings.Split(bad, "\n")
		if len(lines) > 10 {
			lines = lines[:10]
		}
		t.Errorf("tshark flags %d packets as malformed or erroneous, first:\n%s", strings.Count(bad, "\n")+1, strings.Join(lines, "\n"))
	}
}

// containsProto reports whether the phs output lists proto as a protocol.
func containsProto(phs, proto string) bool {
	for _, l := range strings.Split(phs, "\n") {
		if f := strings.Fields(l); len(f) > 0 && f[0] == proto {
			return true
		}
	}
	return false
}

func BenchmarkGenerate(b *testing.B) {
	const size = 64 << 20
	b.SetBytes(size)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		st, err := gencap.Generate(io.Discard, gencap.Config{Size: size, Hosts: 3000, Seed: uint64(i)})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(st.Packets)/float64(size>>20), "pkts/MiB")
	}
}
