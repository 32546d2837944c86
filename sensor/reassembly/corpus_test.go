package reassembly

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iomt-sensor/iomt-sensor/sensor/capture/capturetest"
)

// tcpSeg is one TCP segment read from a capture.
type tcpSeg struct {
	frame    int    // 1-based frame number in the file
	dir      string // "src:port>dst:port"
	seq      uint32
	syn, fin bool
	payload  []byte
}

// readTCP returns the TCP segments (IPv4 and IPv6, no IP fragments) of a pcap
// or pcapng file with Ethernet, BSD loopback, raw IP or Linux cooked framing.
// It is a small test helper: frames it does not understand are skipped.
func readTCP(path string) ([]tcpSeg, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var segs []tcpSeg
	frame := 0
	add := func(link uint32, pkt []byte) {
		frame++
		if s, ok := parseFrame(link, pkt); ok {
			s.frame = frame
			segs = append(segs, s)
		}
	}
	if len(b) < 24 {
		return nil, errors.New("file too short for a capture header")
	}
	var bo binary.ByteOrder
	switch binary.LittleEndian.Uint32(b) {
	case 0xa1b2c3d4, 0xa1b23c4d:
		bo = binary.LittleEndian
	case 0xd4c3b2a1, 0x4d3cb2a1:
		bo = binary.BigEndian
	case 0x0a0d0d0a:
		return segs, readPcapng(b, add)
	default:
		return nil, errors.New("not a pcap or pcapng file")
	}
	link := bo.Uint32(b[20:]) & 0xffff
	for off := 24; off+16 <= len(b); {
		n := int(bo.Uint32(b[off+8:]))
		if n < 0 || off+16+n > len(b) {
			return segs, errors.New("truncated pcap record")
		}
		add(link, b[off+16:off+16+n])
		off += 16 + n
	}
	return segs, nil
}

func readPcapng(b []byte, add func(link uint32, pkt []byte)) error {
	var bo binary.ByteOrder = binary.LittleEndian
	var links []uint32
	for off := 0; off+12 <= len(b); {
		typ := bo.Uint32(b[off:])
		if typ == 0x0a0d0d0a { // section header: byte order first
			if binary.BigEndian.Uint32(b[off+8:]) == 0x1a2b3c4d {
				bo = binary.BigEndian
			} else {
				bo = binary.LittleEndian
			}
			links = links[:0]
		}
		n := int(bo.Uint32(b[off+4:]))
		if n < 12 || off+n > len(b) {
			return errors.New("bad pcapng block length")
		}
		blk := b[off : off+n]
		switch typ {
		case 1: // interface description
			links = append(links, uint32(bo.Uint16(blk[8:])))
		case 6: // enhanced packet
			if n >= 28 {
				id, capLen := int(bo.Uint32(blk[8:])), int(bo.Uint32(blk[20:]))
				if id < len(links) && capLen >= 0 && 28+capLen <= n {
					add(links[id], blk[28:28+capLen])
				}
			}
		case 3: // simple packet
			if len(links) > 0 && n >= 16 {
				add(links[0], blk[12:n-4])
			}
		}
		off += n
	}
	return nil
}

func parseFrame(link uint32, p []byte) (tcpSeg, bool) {
	var ethType uint16
	switch link {
	case 1: // Ethernet
		if len(p) < 14 {
			return tcpSeg{}, false
		}
		ethType, p = binary.BigEndian.Uint16(p[12:]), p[14:]
		for (ethType == 0x8100 || ethType == 0x88a8) && len(p) >= 4 {
			ethType, p = binary.BigEndian.Uint16(p[2:]), p[4:]
		}
	case 0: // BSD loopback: address family in host byte order
		if len(p) < 4 {
			return tcpSeg{}, false
		}
		family := binary.LittleEndian.Uint32(p)
		if family > 0xffff {
			family = binary.BigEndian.Uint32(p)
		}
		switch family {
		case 2:
			ethType = 0x0800
		case 24, 28, 30:
			ethType = 0x86dd
		}
		p = p[4:]
	case 101, 12: // raw IP
		if len(p) == 0 {
			return tcpSeg{}, false
		}
		ethType = map[byte]uint16{4: 0x0800, 6: 0x86dd}[p[0]>>4]
	case 113: // Linux cooked
		if len(p) < 16 {
			return tcpSeg{}, false
		}
		ethType, p = binary.BigEndian.Uint16(p[14:]), p[16:]
	default:
		return tcpSeg{}, false
	}
	var src, dst netip.Addr
	switch ethType {
	case 0x0800:
		if len(p) < 20 || p[9] != 6 {
			return tcpSeg{}, false
		}
		ihl, total := int(p[0]&15)*4, int(binary.BigEndian.Uint16(p[2:]))
		if ihl < 20 || total < ihl || total > len(p) || binary.BigEndian.Uint16(p[6:])&0x3fff != 0 {
			return tcpSeg{}, false
		}
		src, dst = netip.AddrFrom4([4]byte(p[12:16])), netip.AddrFrom4([4]byte(p[16:20]))
		p = p[ihl:total]
	case 0x86dd:
		if len(p) < 40 || p[6] != 6 {
			return tcpSeg{}, false
		}
		n := int(binary.BigEndian.Uint16(p[4:]))
		if 40+n > len(p) {
			return tcpSeg{}, false
		}
		src, dst = netip.AddrFrom16([16]byte(p[8:24])), netip.AddrFrom16([16]byte(p[24:40]))
		p = p[40 : 40+n]
	default:
		return tcpSeg{}, false
	}
	if len(p) < 20 {
		return tcpSeg{}, false
	}
	off := int(p[12]>>4) * 4
	if off < 20 || off > len(p) {
		return tcpSeg{}, false
	}
	return tcpSeg{
		dir: netip.AddrPortFrom(src, binary.BigEndian.Uint16(p[0:])).String() + ">" +
			netip.AddrPortFrom(dst, binary.BigEndian.Uint16(p[2:])).String(),
		seq:     binary.BigEndian.Uint32(p[4:]),
		syn:     p[13]&0x02 != 0,
		fin:     p[13]&0x01 != 0,
		payload: p[off:],
	}, true
}

// byDirection groups segments by direction, keeping capture order.
func byDirection(segs []tcpSeg) (dirs []string, m map[string][]tcpSeg) {
	m = make(map[string][]tcpSeg)
	for _, s := range segs {
		if _, ok := m[s.dir]; !ok {
			dirs = append(dirs, s.dir)
		}
		m[s.dir] = append(m[s.dir], s)
	}
	return dirs, m
}

// reassemble feeds segs to a fresh Stream and flushes it.
func reassemble(segs []tcpSeg, cfg Config) (string, *recorder, Stats) {
	p := NewPool(cfg)
	var s Stream
	r := &recorder{}
	for _, g := range segs {
		s.Add(g.seq, g.syn, g.fin, g.payload, r, p)
	}
	s.Flush(r, p)
	return r.out.String(), r, p.Stats()
}

var bigCaps = Config{MaxBufferedPerStream: 1 << 24, MaxPendingSegments: 0xffff, MaxPoolBytes: 1 << 30}

// TestCorpusShuffled reassembles every TCP direction of every corpus capture
// in capture order and shuffled (the first segment kept first, since it
// fixes the start): with caps big enough the two must agree, and with the
// default caps delivered plus gap bytes must cover the same length.
func TestCorpusShuffled(t *testing.T) {
	root := capturetest.Dir(t)
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(path, ".pcap") || strings.HasSuffix(path, ".pcapng")) {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		t.Fatalf("walking %s: %v", root, err)
	}
	var ndirs, nbytes int
	for _, f := range files {
		segs, err := readTCP(f)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		dirs, m := byDirection(segs)
		for i, d := range dirs {
			ss := m[d]
			want, wr, st := reassemble(ss, bigCaps)
			ndirs++
			nbytes += wr.data
			if st.Inconsistent > 0 {
				continue // which copy wins depends on the order
			}
			rng := rand.New(rand.NewPCG(uint64(i), uint64(len(ss))))
			shuffled := append([]tcpSeg(nil), ss...)
			rng.Shuffle(len(shuffled)-1, func(a, b int) { shuffled[a+1], shuffled[b+1] = shuffled[b+1], shuffled[a+1] })
			if got, _, _ := reassemble(shuffled, bigCaps); got != want {
				t.Errorf("%s %s: shuffled segments give %d bytes %.60q, capture order %d bytes %.60q",
					filepath.Base(f), d, len(got), got, len(want), want)
			}
			_, cr, _ := reassemble(shuffled, Config{MaxPendingSegments: 4, MaxBufferedPerStream: 4096})
			if cr.data+cr.gapBytes != wr.data+wr.gapBytes {
				t.Errorf("%s %s: small caps deliver %d + %d gap bytes, want %d in all",
					filepath.Base(f), d, cr.data, cr.gapBytes, wr.data+wr.gapBytes)
			}
		}
	}
	if ndirs == 0 {
		t.Fatalf("no TCP stream found in %d corpus files", len(files))
	}
	t.Logf("%d files, %d TCP directions, %d bytes reassembled", len(files), ndirs, nbytes)
}

// TestCorpusHL7AmbiguousRetransmission: in the nDPI HL7 capture the client
// sends ADT^A01 three times with the same sequence number and other bytes
// (frames 10, 11, 12). The first copy is delivered; the other two count as
// retransmissions that are inconsistent.
func TestCorpusHL7AmbiguousRetransmission(t *testing.T) {
	segs, err := readTCP(filepath.Join(capturetest.Dir(t), "hl7", "ndpi-hl7.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	_, m := byDirection(segs)
	ss := m["10.0.0.155:49242>10.0.0.126:6661"]
	var first []byte
	for _, s := range ss {
		if s.frame == 10 {
			first = s.payload
		}
	}
	if len(first) != 477 {
		t.Fatalf("expected frame 10 to carry 477 bytes of the client direction, got %d", len(first))
	}
	got, r, st := reassemble(ss, Config{})
	if got != string(first) {
		t.Errorf("expected the first copy (frame 10), got %d bytes %.60q", len(got), got)
	}
	if !bytes.HasPrefix(first, []byte("\x0bMSH|")) || !bytes.Contains(first, []byte("ADT^A01")) {
		t.Errorf("expected an MLLP-framed ADT^A01, got %.60q", first)
	}
	if st.Retransmitted < 2 || st.Inconsistent != 2 || r.gapBytes != 0 {
		t.Errorf("expected 2 inconsistent retransmissions and no gap, got %+v, %d gap bytes", st, r.gapBytes)
	}
}

// TestCorpusDICOMLargePDU: each connection of the nDPI DICOM capture (joined
// mid-stream: no SYN) must reassemble into one whole A-ASSOCIATE-RQ PDU, two
// of them spread over a 16332-byte segment and the next, also when every
// segment arrives twice.
func TestCorpusDICOMLargePDU(t *testing.T) {
	segs, err := readTCP(filepath.Join(capturetest.Dir(t), "dicom", "ndpi-dicom.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	dirs, m := byDirection(segs)
	if len(dirs) != 4 {
		t.Fatalf("expected 4 client directions, got %d", len(dirs))
	}
	for _, d := range dirs {
		ss := m[d]
		var twice []tcpSeg // every segment sent twice
		for _, s := range ss {
			twice = append(twice, s, s)
		}
		orders := [][]tcpSeg{ss, twice}
		for k, order := range orders {
			got, r, _ := reassemble(order, Config{})
			b := []byte(got)
			pdus := 0
			for len(b) >= 6 {
				n := int(binary.BigEndian.Uint32(b[2:]))
				if b[0] != 0x01 || n > len(b)-6 {
					break
				}
				b = b[6+n:]
				pdus++
			}
			if pdus != 1 || len(b) != 0 || r.gapBytes != 0 {
				t.Errorf("%s order %d: expected one whole A-ASSOCIATE-RQ and no gap, got %d PDUs, %d bytes left, %d gap bytes",
					d, k, pdus, len(b), r.gapBytes)
			}
		}
	}
}

// TestCorpusAgainstTshark compares each complete direction (no gap, no
// inconsistent copy) with what tshark's "follow tcp" reassembles, when tshark
// is installed.
func TestCorpusAgainstTshark(t *testing.T) {
	root := capturetest.Dir(t)
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed, skipping the cross-check")
	}
	if testing.Short() {
		t.Skip("skipping the tshark cross-check in -short mode")
	}
	var files []string
	_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(path, ".pcap") || strings.HasSuffix(path, ".pcapng")) {
			files = append(files, path)
		}
		return err
	})
	compared := 0
	for _, f := range files {
		segs, err := readTCP(f)
		if err != nil || len(segs) == 0 {
			continue
		}
		follow, err := tsharkFollow(tshark, f)
		if err != nil {
			t.Errorf("%s: tshark: %v", f, err)
			continue
		}
		dirs, m := byDirection(segs)
		for _, d := range dirs {
			got, r, st := reassemble(m[d], bigCaps)
			want, ok := follow[d]
			if r.gapBytes > 0 || st.Inconsistent > 0 || !ok {
				continue
			}
			compared++
			if got != want {
				t.Errorf("%s %s: got %d bytes %.60q, tshark follows %d bytes %.60q",
					filepath.Base(f), d, len(got), got, len(want), want)
			}
		}
	}
	if compared == 0 {
		t.Fatalf("no direction compared with tshark")
	}
	t.Logf("%d directions identical to tshark's follow tcp", compared)
}

// tsharkFollow returns the bytes of each direction ("src:port>dst:port") of
// every TCP stream in a capture, as "tshark -z follow,tcp,raw" prints them.
func tsharkFollow(tshark, path string) (map[string]string, error) {
	out, err := exec.Command(tshark, "-r", path, "-T", "fields", "-e", "tcp.stream").Output()
	if err != nil {
		return nil, err
	}
	streams := map[string]bool{}
	args := []string{"-r", path, "-q"}
	for _, s := range strings.Fields(string(out)) {
		if !streams[s] {
			streams[s] = true
			args = append(args, "-z", "follow,tcp,raw,"+s)
		}
	}
	res := map[string]string{}
	if len(streams) == 0 {
		return res, nil
	}
	out, err = exec.Command(tshark, args...).Output()
	if err != nil {
		return nil, err
	}
	var node [2]string
	for _, line := range strings.Split(string(out), "\n") {
		switch {
		case strings.HasPrefix(line, "Node 0: "):
			node[0] = strings.TrimPrefix(line, "Node 0: ")
		case strings.HasPrefix(line, "Node 1: "):
			node[1] = strings.TrimPrefix(line, "Node 1: ")
		case strings.HasPrefix(line, "====="), line == "", strings.Contains(line, ":"):
		default:
			dir := node[0] + ">" + node[1]
			if strings.HasPrefix(line, "\t") {
				dir = node[1] + ">" + node[0]
			}
			b, err := hex.DecodeString(strings.TrimSpace(line))
			if err != nil {
				return nil, fmt.Errorf("follow output line %.40q: %w", line, err)
			}
			res[dir] += string(b)
		}
	}
	return res, nil
}
