package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

func samplePkts(n int, base time.Time) []testPkt {
	var pkts []testPkt
	for i := range n {
		data := bytes.Repeat([]byte{byte(i + 1)}, 20+i*7)
		pkts = append(pkts, testPkt{ts: base.Add(time.Duration(i)*1500*time.Millisecond + time.Duration(i*123457)), data: data, length: len(data) + i%2*100})
	}
	return pkts
}

func checkPackets(t *testing.T, got []Packet, want []testPkt, res time.Duration, link []LinkType, name string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d packets, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if !bytes.Equal(g.Data, w.data) {
			t.Errorf("packet %d: data %x, want %x", i, g.Data, w.data)
		}
		if wts := w.ts.Truncate(res); !g.Timestamp.Equal(wts) {
			t.Errorf("packet %d: timestamp %v, want %v", i, g.Timestamp, wts)
		}
		if g.Length != w.origLen() {
			t.Errorf("packet %d: length %d, want %d", i, g.Length, w.origLen())
		}
		if g.LinkType != link[w.iface] {
			t.Errorf("packet %d: link type %d, want %d", i, g.LinkType, link[w.iface])
		}
		if g.Interface != name {
			t.Errorf("packet %d: interface %q, want %q", i, g.Interface, name)
		}
	}
}

func TestOpenFilePcapVariants(t *testing.T) {
	base := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	pkts := samplePkts(5, base)
	tests := []struct {
		name  string
		order binary.ByteOrder
		nano  bool
		gzip  bool
		link  uint32
	}{
		{"micro-le", binary.LittleEndian, false, false, 1},
		{"micro-be", binary.BigEndian, false, false, 1},
		{"nano-le", binary.LittleEndian, true, false, 101},
		{"nano-be", binary.BigEndian, true, false, 0},
		{"micro-le-gzip", binary.LittleEndian, false, true, 228},
		{"nano-be-gzip", binary.BigEndian, true, true, 276},
		{"fcs-bits-in-link", binary.LittleEndian, false, false, 0x10000000 | 1},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, _ := buildPcap(tc.order, tc.nano, tc.link, pkts)
			if tc.gzip {
				b = gzipBytes(t, b)
			}
			// The name says nothing: the format comes from the bytes.
			p := writeTemp(t, t.TempDir(), fmt.Sprintf("capture-%d.bin", i), b)
			s, err := OpenFile(p)
			if err != nil {
				t.Fatalf("Test %d: OpenFile: %v", i, err)
			}
			defer s.Close()
			got, err := readAll(t, s)
			if err != nil {
				t.Fatalf("Test %d: read: %v", i, err)
			}
			res := time.Microsecond
			if tc.nano {
				res = time.Nanosecond
			}
			checkPackets(t, got, pkts, res, []LinkType{LinkType(tc.link & 0xffff)}, filepath.Base(p))
			if st := s.Stats(); st.Packets != 5 {
				t.Errorf("Test %d: stats %+v, want 5 packets", i, st)
			}
		})
	}
}

// TestOpenFileOverSnaplen reads a pcap whose packets exceed the snap length
// in its header, as some writers produce and tcpdump accepts.
func TestOpenFileOverSnaplen(t *testing.T) {
	pkts := samplePkts(3, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	b, _ := buildPcap(binary.LittleEndian, false, 1, pkts)
	binary.LittleEndian.PutUint32(b[16:], 16) // snaplen 16, packets are 20+ bytes
	s, err := OpenFile(writeTemp(t, t.TempDir(), "small-snap.pcap", b))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := readAll(t, s)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	checkPackets(t, got, pkts, time.Microsecond, []LinkType{LinkEthernet}, "small-snap.pcap")
}

func TestOpenFilePcapng(t *testing.T) {
	base := time.Date(2023, 7, 9, 8, 7, 6, 0, time.UTC)
	ifaces := []ngIface{{link: 1}, {link: 101, tsresol: 9}, {link: 0, tsresol: 3}, {link: 276, tsresol: 6}}
	links := []LinkType{LinkEthernet, LinkRaw, LinkNull, LinkSLL2}
	res := []time.Duration{time.Microsecond, time.Nanosecond, time.Millisecond, time.Microsecond}
	pkts := samplePkts(8, base)
	for i := range pkts {
		pkts[i].iface = i % len(ifaces)
	}
	tests := []struct {
		name  string
		order binary.ByteOrder
		gzip  bool
	}{
		{"le", binary.LittleEndian, false},
		{"be", binary.BigEndian, false},
		{"le-gzip", binary.LittleEndian, true},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, _ := buildPcapng(tc.order, ifaces, pkts)
			if tc.gzip {
				b = gzipBytes(t, b)
			}
			p := writeTemp(t, t.TempDir(), "trace.pcap", b)
			s, err := OpenFile(p)
			if err != nil {
				t.Fatalf("Test %d: OpenFile: %v", i, err)
			}
			defer s.Close()
			got, err := readAll(t, s)
			if err != nil {
				t.Fatalf("Test %d: read: %v", i, err)
			}
			if len(got) != len(pkts) {
				t.Fatalf("Test %d: got %d packets, want %d", i, len(got), len(pkts))
			}
			for j, w := range pkts {
				checkPackets(t, got[j:j+1], []testPkt{w}, res[w.iface], links, "trace.pcap")
			}
		})
	}
}

func TestOpenFileNotCapture(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"short", []byte{0xd4, 0xc3}},
		{"text", []byte("hello, this is not a capture file at all\n")},
		{"gzip-text", gzipBytes(t, []byte("GET / HTTP/1.1\r\n\r\n plenty of text here"))},
		{"bad-gzip", []byte{0x1f, 0x8b, 0, 0, 0, 0}},
		{"pcap-version-9", func() []byte {
			b, _ := buildPcap(binary.LittleEndian, false, 1, nil)
			b[4] = 9
			return b
		}()},
	}
	for i, tc := range tests {
		p := writeTemp(t, dir, tc.name+".pcap", tc.data)
		s, err := OpenFile(p)
		if err == nil {
			s.Close()
			t.Errorf("Test %d (%s): OpenFile succeeded, want ErrNotCapture", i, tc.name)
			continue
		}
		if !errors.Is(err, ErrNotCapture) {
			t.Errorf("Test %d (%s): error %v, want ErrNotCapture", i, tc.name, err)
		}
		if msg := err.Error(); !strings.Contains(msg, p) || !strings.Contains(msg, "expected pcap") {
			t.Errorf("Test %d (%s): error %q should name the file and say what is expected", i, tc.name, msg)
		}
	}
	if _, err := OpenFile(filepath.Join(dir, "missing.pcap")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: error %v, want os.ErrNotExist", err)
	}
}

// TestOpenFileTruncated cuts captures at every byte after the header: Next
// must deliver every complete packet, then ErrTruncated naming the file.
func TestOpenFileTruncated(t *testing.T) {
	base := time.Date(2022, 1, 2, 3, 4, 5, 0, time.UTC)
	pkts := samplePkts(4, base)
	pcap, pcapEnds := buildPcap(binary.LittleEndian, false, 1, pkts)
	ng, ngEnds := buildPcapng(binary.BigEndian, []ngIface{{link: 1}, {link: 101, tsresol: 9}}, pkts)
	tests := []struct {
		name   string
		file   []byte
		ends   []int
		header int // bytes before the first packet
		gzip   bool
	}{
		{"pcap", pcap, pcapEnds, 24, false},
		{"pcap-gzip", pcap, pcapEnds, 24, true},
		{"pcapng", ng, ngEnds, 28 + 20 + 32, false},
		{"pcapng-gzip", ng, ngEnds, 28 + 20 + 32, true},
	}
	dir := t.TempDir()
	for _, tc := range tests {
		for cut := tc.header; cut < len(tc.file); cut++ {
			complete := 0
			for _, e := range tc.ends {
				if e <= cut {
					complete++
				}
			}
			b := tc.file[:cut]
			if tc.gzip {
				b = gzipBytes(t, b)
			}
			p := writeTemp(t, dir, fmt.Sprintf("%s-%d.pcap", tc.name, cut), b)
			s, err := OpenFile(p)
			if err != nil {
				t.Fatalf("%s cut at %d: OpenFile: %v", tc.name, cut, err)
			}
			got, err := readAll(t, s)
			s.Close()
			if len(got) != complete {
				t.Errorf("%s cut at %d: got %d packets, want %d", tc.name, cut, len(got), complete)
			}
			atBoundary := cut == tc.header || (complete > 0 && tc.ends[complete-1] == cut)
			if atBoundary {
				if err != nil {
					t.Errorf("%s cut at %d (a record boundary): error %v, want clean end", tc.name, cut, err)
				}
				continue
			}
			if !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), p) {
				t.Errorf("%s cut at %d: error %v, want ErrTruncated naming %s", tc.name, cut, err, p)
			}
		}
	}
	// A pcap whose header itself is cut short.
	p := writeTemp(t, dir, "header.pcap", pcap[:10])
	if _, err := OpenFile(p); !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), p) {
		t.Errorf("cut header: error %v, want ErrTruncated naming the file", err)
	}
}

func TestOpenFiles(t *testing.T) {
	dir := t.TempDir()
	at := func(sec int) time.Time { return time.Date(2024, 1, 1, 0, 0, sec, 0, time.UTC) }
	pk := func(sec int, tag byte) testPkt { return testPkt{ts: at(sec), data: []byte{tag, 0, 0, 0}} }
	a, _ := buildPcap(binary.LittleEndian, false, 1, []testPkt{pk(1, 'a'), pk(3, 'a'), pk(5, 'a')})
	b, _ := buildPcapng(binary.LittleEndian, []ngIface{{link: 1}}, []testPkt{pk(2, 'b'), pk(3, 'b'), pk(6, 'b')})
	c, cEnds := buildPcap(binary.BigEndian, true, 101, []testPkt{pk(0, 'c'), pk(3, 'c'), pk(4, 'c'), pk(7, 'c')})
	pa := writeTemp(t, dir, "a.pcap", a)
	pb := writeTemp(t, dir, "b.pcapng", gzipBytes(t, b))
	pc := writeTemp(t, dir, "c.pcap", c[:cEnds[2]+5]) // truncated after 3 packets

	var warnings []error
	s, err := OpenFiles([]string{pa, pb, pc}, func(err error) { warnings = append(warnings, err) })
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := readAll(t, s)
	if err != nil {
		t.Fatalf("merge ended with %v, want io.EOF", err)
	}
	var order []string
	for _, p := range got {
		order = append(order, fmt.Sprintf("%c%d", p.Data[0], p.Timestamp.Second()))
	}
	// Equal timestamps (3 s) come in file order: a, b, c.
	want := "c0 a1 b2 a3 b3 c3 c4 a5 b6"
	if g := strings.Join(order, " "); g != want {
		t.Errorf("merge order %q, want %q", g, want)
	}
	if got[0].Interface != "c.pcap" || got[0].LinkType != LinkRaw || got[1].Interface != "a.pcap" || got[1].LinkType != LinkEthernet {
		t.Errorf("first packets from %q/%d and %q/%d", got[0].Interface, got[0].LinkType, got[1].Interface, got[1].LinkType)
	}
	if len(warnings) != 1 || !errors.Is(warnings[0], ErrTruncated) || !strings.Contains(warnings[0].Error(), pc) {
		t.Errorf("warnings %v, want one ErrTruncated naming %s", warnings, pc)
	}
	if st := s.Stats(); st.Packets != 9 || st.Bytes != 36 {
		t.Errorf("stats %+v, want 9 packets, 36 bytes", st)
	}
	if _, err := s.Next(); err != io.EOF {
		t.Errorf("Next after the end: %v, want io.EOF", err)
	}

	bad := writeTemp(t, dir, "notes.txt", []byte("not a capture, just some notes"))
	for i, paths := range [][]string{{pa, bad}, {pa, filepath.Join(dir, "gone.pcap")}, nil} {
		s, err := OpenFiles(paths, nil)
		if err == nil {
			s.Close()
			t.Errorf("Test %d: OpenFiles(%v) succeeded, want an error", i, paths)
			continue
		}
		if len(paths) > 0 && !strings.Contains(err.Error(), paths[1]) {
			t.Errorf("Test %d: error %q does not name %s", i, err, paths[1])
		}
	}
}

// writeBenchPcap writes n Ethernet-sized packets with pcapgo.
func writeBenchPcap(t testing.TB, n int) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "bench.pcap")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 1514)
	base := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	for i := range n {
		size := 60 + i*37%1454
		ci := gopacket.CaptureInfo{Timestamp: base.Add(time.Duration(i) * time.Millisecond), CaptureLength: size, Length: size}
		if err := w.WritePacket(ci, data[:size]); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestFileNextNoAlloc checks the steady state of pcap, pcapng and merged
// reads allocates nothing per packet.
func TestFileNextNoAlloc(t *testing.T) {
	dir := t.TempDir()
	pcap := writeBenchPcap(t, 3000)
	ngb, _ := buildPcapng(binary.LittleEndian, []ngIface{{link: 1}, {link: 101, tsresol: 9}}, func() []testPkt {
		var pk []testPkt
		for i := range 3000 {
			pk = append(pk, testPkt{iface: i % 2, ts: time.Unix(int64(i), 0), data: make([]byte, 60+i%900)})
		}
		return pk
	}())
	ng := writeTemp(t, dir, "x.pcapng", ngb)
	open := map[string]func() (Source, error){
		"pcap":   func() (Source, error) { return OpenFile(pcap) },
		"pcapng": func() (Source, error) { return OpenFile(ng) },
		"merged": func() (Source, error) { return OpenFiles([]string{pcap, ng}, nil) },
	}
	for name, o := range open {
		s, err := o()
		if err != nil {
			t.Fatal(err)
		}
		for range 100 { // warm up buffers
			s.Next()
		}
		allocs := testing.AllocsPerRun(1000, func() {
			if _, err := s.Next(); err != nil {
				t.Fatal(err)
			}
		})
		s.Close()
		if allocs != 0 {
			t.Errorf("%s: %v allocs per Next, want 0", name, allocs)
		}
	}
}

// writeBenchPcapng writes n packets with pcapgo's pcapng writer.
func writeBenchPcapng(t testing.TB, n int) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "bench.pcapng")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	w, err := pcapgo.NewNgWriter(f, layers.LinkTypeEthernet)
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 1514)
	base := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	for i := range n {
		size := 60 + i*37%1454
		ci := gopacket.CaptureInfo{Timestamp: base.Add(time.Duration(i) * time.Millisecond), CaptureLength: size, Length: size}
		if err := w.WritePacket(ci, data[:size]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

// BenchmarkFileNext reads generated captures packet by packet (one op is
// one Next), reopening at the end.
func BenchmarkFileNext(b *testing.B) {
	for _, bc := range []struct {
		name  string
		write func(testing.TB, int) string
	}{{"pcap", writeBenchPcap}, {"pcapng", writeBenchPcapng}} {
		b.Run(bc.name, func(b *testing.B) {
			p := bc.write(b, 20000)
			s, err := OpenFile(p)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			var n int64
			for b.Loop() {
				pkt, err := s.Next()
				if err == io.EOF {
					b.StopTimer()
					s.Close()
					if s, err = OpenFile(p); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
					continue
				}
				if err != nil {
					b.Fatal(err)
				}
				n += int64(len(pkt.Data))
			}
			b.SetBytes(n / int64(max(b.N, 1)))
			s.Close()
		})
	}
}

func FuzzOpenFile(f *testing.F) {
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	pkts := samplePkts(2, base)
	pcap, _ := buildPcap(binary.LittleEndian, false, 1, pkts)
	pcapBE, _ := buildPcap(binary.BigEndian, true, 101, pkts)
	ng, _ := buildPcapng(binary.LittleEndian, []ngIface{{link: 1}, {link: 0, tsresol: 9}}, pkts)
	ngBE, _ := buildPcapng(binary.BigEndian, []ngIface{{link: 1}}, pkts)
	for _, seed := range [][]byte{pcap, pcapBE, ng, ngBE, gzipBytes(f, pcap), gzipBytes(f, ng), pcap[:24], ng[:28], {0x1f, 0x8b}, nil} {
		f.Add(seed)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "fuzz.pcap")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := OpenFile(p)
		if err != nil {
			return
		}
		defer s.Close()
		for range 10000 {
			pkt, err := s.Next()
			if err != nil {
				return
			}
			if len(pkt.Data) > maxSnapLen {
				t.Fatalf("packet of %d bytes exceeds the snap length cap", len(pkt.Data))
			}
		}
	})
}
