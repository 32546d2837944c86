package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iomt-sensor/iomt-sensor/sensor/capture/capturetest"
)

// nextOnly hides a source's fillBatch, so that Prefetch reads it packet by
// packet as it does any other source.
type nextOnly struct{ Source }

// readResult is a source read to its end: copied packets, the error that
// ended it (io.EOF included) and the final counters.
type readResult struct {
	pkts  []Packet
	err   error
	stats Stats
}

func readToEnd(t testing.TB, s Source) readResult {
	t.Helper()
	var r readResult
	for range 1 << 22 {
		p, err := s.Next()
		if err != nil {
			r.err, r.stats = err, s.Stats()
			return r
		}
		p.Data = bytes.Clone(p.Data)
		r.pkts = append(r.pkts, p)
	}
	t.Fatal("source never ended")
	return r
}

// sameRead fails t unless got and want hold the same packets (data,
// timestamp, length, link type, interface), end with the same error text
// (so the same class, file and packet count) and count the same.
func sameRead(t testing.TB, what string, got, want readResult) {
	t.Helper()
	if len(got.pkts) != len(want.pkts) {
		t.Errorf("%s: %d packets, expected %d", what, len(got.pkts), len(want.pkts))
	}
	for i := range min(len(got.pkts), len(want.pkts)) {
		g, w := got.pkts[i], want.pkts[i]
		if !bytes.Equal(g.Data, w.Data) || !g.Timestamp.Equal(w.Timestamp) || g.Length != w.Length ||
			g.LinkType != w.LinkType || g.Interface != w.Interface {
			t.Errorf("%s: packet %d is %d bytes of %d at %v, link %d from %q; expected %d bytes of %d at %v, link %d from %q",
				what, i, len(g.Data), g.Length, g.Timestamp, g.LinkType, g.Interface,
				len(w.Data), w.Length, w.Timestamp, w.LinkType, w.Interface)
			return
		}
	}
	if fmt.Sprint(got.err) != fmt.Sprint(want.err) {
		t.Errorf("%s: ended with %v, expected %v", what, got.err, want.err)
	}
	for _, class := range []error{io.EOF, ErrTruncated, errCorrupt} {
		if errors.Is(got.err, class) != errors.Is(want.err, class) {
			t.Errorf("%s: ended with %v, expected %v (errors.Is %v differs)", what, got.err, want.err, class)
		}
	}
	if got.stats != want.stats {
		t.Errorf("%s: stats %+v, expected %+v", what, got.stats, want.stats)
	}
}

// readThreeWays reads path with OpenFile's Next, with Prefetch over it and
// with Prefetch over its Next only (the path every other source takes),
// checks the three agree and reports whether the file took the block path.
func readThreeWays(t testing.TB, path string) (blocks bool) {
	t.Helper()
	open := func() Source {
		s, err := OpenFile(path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return s
	}
	s := open()
	direct := readToEnd(t, s)
	s.Close()
	s = open()
	blocks = s.(*fileSource).canFillBatch()
	pf := Prefetch(s)
	fast := readToEnd(t, pf)
	if err := pf.Close(); err != nil {
		t.Errorf("%s: Close: %v", path, err)
	}
	pf = Prefetch(nextOnly{open()})
	slow := readToEnd(t, pf)
	pf.Close()
	sameRead(t, path+" through Prefetch", fast, direct)
	sameRead(t, path+" through Prefetch, packet by packet", slow, direct)
	return blocks
}

// TestPrefetchPcapSameAsNext reads every capture of testdata (and a gzip
// copy of each) and every capture of the corpus through Prefetch and
// through Next: same packets, same end, same counters.
func TestPrefetchPcapSameAsNext(t *testing.T) {
	tmp := t.TempDir()
	var paths []string
	collect := func(root string) {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.Contains(d.Name(), ".pcap") {
				paths = append(paths, p)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	collect("../../testdata")
	local := len(paths)
	for i, p := range paths[:local] {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(b, []byte{0x1f, 0x8b}) {
			paths = append(paths, writeTemp(t, tmp, fmt.Sprintf("%d-%s.gz", i, filepath.Base(p)), gzipBytes(t, b)))
		}
	}
	blocks := 0
	for _, p := range paths {
		if readThreeWays(t, p) {
			blocks++
		}
	}
	if blocks < local/2 {
		t.Errorf("only %d of %d files are classic pcap read in blocks", blocks, len(paths))
	}

	t.Run("corpus", func(t *testing.T) {
		paths = paths[:0]
		collect(capturetest.Dir(t))
		blocks := 0
		for _, p := range paths {
			if readThreeWays(t, p) {
				blocks++
			}
		}
		if blocks == 0 {
			t.Errorf("none of %d corpus files is classic pcap", len(paths))
		}
	})
}

// fillAll reads a classic pcap file with fillBatch into fresh batches of
// capacity size, then checks that no batch changed after it was returned.
func fillAll(t *testing.T, path string, size int) readResult {
	t.Helper()
	src, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	s := src.(*fileSource)
	if !s.canFillBatch() {
		t.Fatalf("%s: not read in blocks", path)
	}
	var r readResult
	var seen [][]byte
	for range 1 << 20 {
		b := &batch{data: make([]byte, 0, size)}
		r.err = s.fillBatch(b)
		for i := range b.pkts {
			p := b.packet(i)
			seen = append(seen, p.Data)
			p.Data = bytes.Clone(p.Data)
			r.pkts = append(r.pkts, p)
		}
		if r.err == nil && len(b.pkts) == 0 {
			t.Fatalf("%s: an empty batch without an error", path)
		}
		if r.err != nil {
			break
		}
	}
	r.stats = s.Stats()
	for i, d := range seen {
		if !bytes.Equal(d, r.pkts[i].Data) {
			t.Fatalf("%s with %d-byte batches: packet %d changed after its batch was returned", path, size, i)
		}
	}
	if _, err := s.Next(); fmt.Sprint(err) != fmt.Sprint(r.err) {
		t.Errorf("%s: Next after the end gives %v, expected %v again", path, err, r.err)
	}
	return r
}

func readNext(t *testing.T, path string) readResult {
	t.Helper()
	s, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	return readToEnd(t, s)
}

// batchSizes are the capacities the block reader is tried with: smaller
// than a header, than most records, and the real one.
var batchSizes = []int{0, 7, 16, 17, 40, 100, 333, batchBytes}

// TestFillBatchTruncated cuts small pcap files (both byte orders and
// resolutions, plain and gzip) at every byte, and cuts the gzip stream
// itself at every byte: with any batch size, the block reader gives what
// Next gives, every complete packet then the same end.
func TestFillBatchTruncated(t *testing.T) {
	base := time.Date(2022, 1, 2, 3, 4, 5, 0, time.UTC)
	pkts := samplePkts(5, base)
	le, _ := buildPcap(binary.LittleEndian, false, 1, pkts)
	be, _ := buildPcap(binary.BigEndian, true, 276, pkts)
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		file []byte
		gzip bool
	}{{"le", le, false}, {"be", be, false}, {"le-gzip", le, true}, {"be-gzip", be, true}} {
		for cut := 24; cut <= len(tc.file); cut++ {
			b := tc.file[:cut]
			if tc.gzip {
				b = gzipBytes(t, b)
			}
			p := writeTemp(t, dir, fmt.Sprintf("%s-%d.pcap", tc.name, cut), b)
			want := readNext(t, p)
			if cut < len(tc.file) && !errors.Is(want.err, ErrTruncated) && want.err != io.EOF {
				t.Fatalf("%s cut at %d: Next ended with %v", tc.name, cut, want.err)
			}
			for _, size := range batchSizes {
				sameRead(t, fmt.Sprintf("%s cut at %d, %d-byte batches", tc.name, cut, size), fillAll(t, p, size), want)
			}
			sameRead(t, fmt.Sprintf("%s cut at %d through Prefetch", tc.name, cut), readPrefetch(t, p), want)
		}
	}
	// The compressed stream cut anywhere after its header: io.ErrUnexpectedEOF
	// from gzip, even where the pcap inside ends between two records.
	gz := gzipBytes(t, le)
	for cut := 10; cut < len(gz); cut++ {
		p := writeTemp(t, dir, fmt.Sprintf("gzcut-%d.pcap", cut), gz[:cut])
		s, err := OpenFile(p)
		if err != nil {
			continue // the pcap header itself is cut
		}
		s.Close()
		want := readNext(t, p)
		if !errors.Is(want.err, ErrTruncated) {
			t.Fatalf("gzip cut at %d: Next ended with %v", cut, want.err)
		}
		for _, size := range batchSizes {
			sameRead(t, fmt.Sprintf("gzip cut at %d, %d-byte batches", cut, size), fillAll(t, p, size), want)
		}
	}
}

func readPrefetch(t *testing.T, path string) readResult {
	t.Helper()
	s, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pf := Prefetch(s)
	defer pf.Close()
	return readToEnd(t, pf)
}

// TestFillBatchLargeRecords reads records up to maxSnapLen bytes, which
// span many small batches (the batch grows) and cut the real ones.
func TestFillBatchLargeRecords(t *testing.T) {
	base := time.Date(2021, 6, 7, 8, 9, 10, 0, time.UTC)
	var pkts []testPkt
	for i, n := range []int{maxSnapLen, 1, 0, 70000, maxSnapLen - 1, 200000, 3, maxSnapLen, 150000, 100, maxSnapLen, 99999, 5} {
		data := make([]byte, n)
		for j := range data {
			data[j] = byte(i*31 + j*7)
		}
		pkts = append(pkts, testPkt{ts: base.Add(time.Duration(i) * time.Second), data: data, length: n + i})
	}
	file, _ := buildPcap(binary.LittleEndian, true, 1, pkts)
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		file []byte
	}{
		{"plain", file},
		{"gzip", gzipBytes(t, file)},
		{"cut", file[:len(file)-50]},
	} {
		p := writeTemp(t, dir, tc.name+".pcap", tc.file)
		want := readNext(t, p)
		if tc.name != "cut" && (want.err != io.EOF || len(want.pkts) != len(pkts)) {
			t.Fatalf("%s: Next read %d packets and ended with %v", tc.name, len(want.pkts), want.err)
		}
		for _, size := range []int{0, 1000, 65536, 300000, batchBytes} {
			sameRead(t, fmt.Sprintf("%s, %d-byte batches", tc.name, size), fillAll(t, p, size), want)
		}
		sameRead(t, tc.name+" through Prefetch", readPrefetch(t, p), want)
		readThreeWays(t, p)
	}
}

// TestFillBatchHostileLengths gives record headers that pcapgo rejects (a
// captured length over maxSnapLen or over the original length), first or
// after good packets, with or without the data behind them: the same
// error as Next, after the same packets. A fraction of a second out of
// range gives pcapgo's time.
func TestFillBatchHostileLengths(t *testing.T) {
	pkts := samplePkts(4, time.Date(2020, 2, 3, 4, 5, 6, 0, time.UTC))
	good, ends := buildPcap(binary.BigEndian, false, 1, pkts)
	frac := uint32(5)
	hdr := func(capLen, origLen uint32) []byte {
		h := make([]byte, 16)
		binary.BigEndian.PutUint32(h[0:], 1600000000)
		binary.BigEndian.PutUint32(h[4:], frac)
		binary.BigEndian.PutUint32(h[8:], capLen)
		binary.BigEndian.PutUint32(h[12:], origLen)
		return h
	}
	dir := t.TempDir()
	tests := []struct {
		name  string
		after int // good packets before the bad header
		head  []byte
		data  int // bytes after the bad header
	}{
		{"over-snap-first", 0, hdr(maxSnapLen+1, maxSnapLen+1), 0},
		{"over-snap-huge", 2, hdr(0xffffffff, 0xffffffff), 100},
		{"over-snap-with-data", 4, hdr(maxSnapLen+1, maxSnapLen+5), maxSnapLen + 1},
		{"over-orig", 1, hdr(100, 99), 100},
		{"over-orig-no-data", 3, hdr(60000, 10), 0},
		{"snap-ok-orig-huge", 4, hdr(maxSnapLen, 0xffffffff), maxSnapLen},
		{"snap-ok-cut", 4, hdr(maxSnapLen, maxSnapLen), 1000},
		{"fraction-wraps", 2, func() []byte { frac = 0xfffffff0; return hdr(30, 30) }(), 30}, // micro: times 1000 wraps in 32 bits
	}
	for i, tc := range tests {
		file := bytes.Clone(good[:24])
		if tc.after > 0 {
			file = bytes.Clone(good[:ends[tc.after-1]])
		}
		file = append(file, tc.head...)
		file = append(file, make([]byte, tc.data)...)
		file = append(file, good[24:]...) // more good records behind
		for _, gz := range []bool{false, true} {
			b := file
			if gz {
				b = gzipBytes(t, file)
			}
			p := writeTemp(t, dir, fmt.Sprintf("%s-%v.pcap", tc.name, gz), b)
			want := readNext(t, p)
			if len(want.pkts) < tc.after {
				t.Fatalf("Test %d (%s): Next read %d packets, expected at least %d", i, tc.name, len(want.pkts), tc.after)
			}
			if strings.HasPrefix(tc.name, "over-") && (!errors.Is(want.err, errCorrupt) || !strings.Contains(want.err.Error(), p)) {
				t.Fatalf("Test %d (%s): Next ended with %v, expected a corrupt file naming it", i, tc.name, want.err)
			}
			for _, size := range batchSizes {
				sameRead(t, fmt.Sprintf("Test %d (%s, gzip %v), %d-byte batches", i, tc.name, gz, size), fillAll(t, p, size), want)
			}
			readThreeWays(t, p)
		}
	}
}

// TestFillBatchGzip reads gzip files the block reader must treat as Next
// does: several members, a bad checksum, garbage after the last member.
func TestFillBatchGzip(t *testing.T) {
	pkts := samplePkts(6, time.Date(2019, 9, 9, 9, 9, 9, 0, time.UTC))
	file, ends := buildPcap(binary.LittleEndian, false, 101, pkts)
	two := append(gzipBytes(t, file[:ends[2]-10]), gzipBytes(t, file[ends[2]-10:])...)
	badSum := gzipBytes(t, file)
	badSum[len(badSum)-6] ^= 0xff // CRC-32 in the trailer
	badData := gzipBytes(t, file)
	badData[len(badData)/2] ^= 0x55
	dir := t.TempDir()
	for i, tc := range []struct {
		name string
		file []byte
		want error
	}{
		{"two-members", two, io.EOF},
		{"bad-checksum", badSum, errCorrupt},
		{"bad-data", badData, nil},
		{"trailing-garbage", append(gzipBytes(t, file), "garbage, not a gzip member"...), errCorrupt},
		{"trailing-bytes", append(gzipBytes(t, file), "short"...), ErrTruncated},
	} {
		p := writeTemp(t, dir, tc.name+".pcap.gz", tc.file)
		want := readNext(t, p)
		if tc.want != nil && !errors.Is(want.err, tc.want) {
			t.Errorf("Test %d (%s): Next ended with %v, expected %v", i, tc.name, want.err, tc.want)
		}
		for _, size := range batchSizes {
			sameRead(t, fmt.Sprintf("Test %d (%s), %d-byte batches", i, tc.name, size), fillAll(t, p, size), want)
		}
		readThreeWays(t, p)
	}
}

// TestPrefetchPcapng keeps pcapng and merged files on the packet by packet
// path.
func TestPrefetchPcapng(t *testing.T) {
	ng, _ := buildPcapng(binary.LittleEndian, []ngIface{{link: 1}}, samplePkts(3, time.Unix(5, 0)))
	p := writeTemp(t, t.TempDir(), "x.pcapng", ng)
	s, err := OpenFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if s.(*fileSource).canFillBatch() {
		t.Error("pcapng would be read as classic pcap blocks")
	}
	s.Close()
	if readThreeWays(t, p) {
		t.Error("pcapng read in blocks")
	}
	m, err := OpenFiles([]string{p, "../../testdata/captures/clinic.pcap"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.(batchFiller).canFillBatch() {
		t.Error("a merge of files fills batches")
	}
}

// TestPrefetchOneFileMerge: replay opens even one file through OpenFiles;
// a classic pcap file is still read in blocks, with the merge's warning
// for a file cut short and its counters.
func TestPrefetchOneFileMerge(t *testing.T) {
	pcap, ends := buildPcap(binary.LittleEndian, false, 1, samplePkts(5, time.Unix(5, 0)))
	p := writeTemp(t, t.TempDir(), "cut.pcap", pcap[:ends[3]+7]) // 4 packets, then a cut one
	var warnings []error
	m, err := OpenFiles([]string{p}, func(err error) { warnings = append(warnings, err) })
	if err != nil {
		t.Fatal(err)
	}
	if !m.(batchFiller).canFillBatch() {
		t.Fatal("a merge of one classic pcap file is not read in blocks")
	}
	pf := Prefetch(m)
	defer pf.Close()
	n := 0
	for {
		_, err := pf.Next()
		if err != nil {
			if err != io.EOF {
				t.Errorf("ended with %v, want io.EOF", err)
			}
			break
		}
		n++
	}
	if n != 4 || len(warnings) != 1 || !errors.Is(warnings[0], ErrTruncated) {
		t.Errorf("%d packets, warnings %v; want 4 and one ErrTruncated", n, warnings)
	}
	if st := pf.Stats(); st.Packets != 4 {
		t.Errorf("stats %+v, want 4 packets", st)
	}
}

// BenchmarkPrefetchPcap reads a generated pcap through Prefetch (one op is
// one Next), reopening at the end; "next" is the packet by packet path
// every other source takes, for comparison.
func BenchmarkPrefetchPcap(b *testing.B) {
	plain := writeBenchPcap(b, 50000)
	raw, err := os.ReadFile(plain)
	if err != nil {
		b.Fatal(err)
	}
	gz := writeTemp(b, b.TempDir(), "bench.pcap.gz", gzipBytes(b, raw))
	for _, bc := range []struct {
		name string
		path string
		wrap func(Source) Source
	}{
		{"blocks", plain, func(s Source) Source { return s }},
		{"next", plain, func(s Source) Source { return nextOnly{s} }},
		{"blocks-gzip", gz, func(s Source) Source { return s }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			open := func() Source {
				s, err := OpenFile(bc.path)
				if err != nil {
					b.Fatal(err)
				}
				return Prefetch(bc.wrap(s))
			}
			s := open()
			b.ReportAllocs()
			var n int64
			for b.Loop() {
				pkt, err := s.Next()
				if err == io.EOF {
					b.StopTimer()
					s.Close()
					s = open()
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

// FuzzFillBatch reads any classic pcap with the block reader, in batches
// of the given size, and with Next: they must agree.
func FuzzFillBatch(f *testing.F) {
	pkts := samplePkts(3, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	le, ends := buildPcap(binary.LittleEndian, false, 1, pkts)
	be, _ := buildPcap(binary.BigEndian, true, 101, pkts)
	hostile := bytes.Clone(le)
	binary.LittleEndian.PutUint32(hostile[ends[0]+8:], maxSnapLen+1)
	for _, seed := range [][]byte{le, be, gzipBytes(f, le), gzipBytes(f, be), le[:ends[1]+5], le[:ends[1]+20], hostile} {
		for _, size := range []uint16{0, 16, 50, 4096} {
			f.Add(seed, size)
		}
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte, size uint16) {
		p := filepath.Join(dir, "fuzz.pcap")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := OpenFile(p)
		if err != nil {
			return
		}
		classic := s.(*fileSource).canFillBatch()
		s.Close()
		if !classic {
			return
		}
		sameRead(t, fmt.Sprintf("%d-byte batches", size), fillAll(t, p, int(size)), readNext(t, p))
	})
}
