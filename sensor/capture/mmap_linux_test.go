//go:build linux

package capture

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// writeBigPcap writes a little-endian microsecond pcap file of at least
// size bytes, packets of 60 to 1513 bytes with varied content, and returns
// its path and the end offset of every record.
func writeBigPcap(t *testing.T, size int) (string, []int) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "big.pcap")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	hdr, _ := buildPcap(binary.LittleEndian, false, 1, nil)
	w.Write(hdr)
	data := make([]byte, 1514)
	var ends []int
	off := len(hdr)
	for i := 0; off < size; i++ {
		n := 60 + i*37%1454
		binary.LittleEndian.PutUint32(data[26:], uint32(i)) // spreads the shards
		var h [16]byte
		binary.LittleEndian.PutUint32(h[0:], uint32(1700000000+i/1000))
		binary.LittleEndian.PutUint32(h[4:], uint32(i%1000*1000))
		binary.LittleEndian.PutUint32(h[8:], uint32(n))
		binary.LittleEndian.PutUint32(h[12:], uint32(n))
		w.Write(h[:])
		w.Write(data[:n])
		off += 16 + n
		ends = append(ends, off)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return p, ends
}

// TestMappedPathTaken checks that a plain classic pcap file is mapped and
// its batches point into the mapping, and that gzip, pcapng and a pipe are
// read.
func TestMappedPathTaken(t *testing.T) {
	dir := t.TempDir()
	plain := "../../testdata/captures/clinic.pcap"
	raw, err := os.ReadFile(plain)
	if err != nil {
		t.Fatal(err)
	}
	ng, _ := buildPcapng(binary.LittleEndian, []ngIface{{link: 1}}, samplePkts(3, time.Unix(5, 0)))
	fifo := filepath.Join(dir, "pipe.pcap")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path   string
		mapped bool
	}{
		{plain, true},
		{writeTemp(t, dir, "x.pcap.gz", gzipBytes(t, raw)), false},
		{writeTemp(t, dir, "x.pcapng", ng), false},
		{fifo, false},
	} {
		if tc.path == fifo {
			go func() { // the reader's open waits for this writer
				if err := os.WriteFile(fifo, raw, 0o600); err != nil {
					t.Error(err)
				}
			}()
		}
		s, err := OpenFile(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		fs := s.(*fileSource)
		if fs.isMapped() != tc.mapped {
			t.Errorf("%s: mapped %v, expected %v", tc.path, fs.isMapped(), tc.mapped)
		}
		if tc.mapped {
			b := &batch{data: make([]byte, 0, 4096)}
			if err := fs.fillBatch(b); err != nil || len(b.pkts) == 0 {
				t.Fatalf("%s: fillBatch gave %d packets and %v", tc.path, len(b.pkts), err)
			}
			m := fs.mm.data
			if b.mapEnd == 0 || unsafe.SliceData(b.data) != &m[b.mapStart] || cap(b.buf) != 4096 {
				t.Errorf("%s: the batch does not point into the mapping", tc.path)
			}
		}
		if tc.path == fifo {
			readToEnd(t, s) // let the writer finish
		}
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	}
}

// rssFile returns the file-backed memory resident in the process, from
// /proc/self/status, in bytes.
func rssFile(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "RssFile:"); ok {
			kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			if err != nil {
				t.Fatal(line, err)
			}
			return kb << 10
		}
	}
	t.Skip("no RssFile in /proc/self/status")
	return 0
}

// readShards reads every shard to its end at once, calling each with the
// shard and its packet count after every packet, and returns each shard's
// packet count and final error.
func readShards(shards []Source, each func(i, n int)) ([]int, []error) {
	counts, errs := make([]int, len(shards)), make([]error, len(shards))
	var wg sync.WaitGroup
	for i, s := range shards {
		wg.Go(func() {
			for {
				if _, err := s.Next(); err != nil {
					errs[i] = err
					return
				}
				counts[i]++
				each(i, counts[i])
			}
		})
	}
	wg.Wait()
	return counts, errs
}

// TestMappedMemoryBounded reads a 72 MiB file through two shards: the
// mapped pages resident in the process stay bounded by the batches in
// flight, not the file's size.
func TestMappedMemoryBounded(t *testing.T) {
	const size = 72 << 20
	path, ends := writeBigPcap(t, size)
	src, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !src.(*fileSource).isMapped() {
		t.Fatal("not mapped")
	}
	before := rssFile(t)
	peak := before
	shards := PrefetchShards(src, 2, byteHash)
	counts, errs := readShards(shards, func(i, n int) {
		if i == 0 && n%500 == 0 {
			peak = max(peak, rssFile(t))
		}
	})
	for i, s := range shards {
		if counts[i] != len(ends) || errs[i] != io.EOF {
			t.Errorf("shard %d: %d packets then %v, expected %d then EOF", i, counts[i], errs[i], len(ends))
		}
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	}
	// Every batch in flight, one more being filled, and some slack for
	// the kernel's fault-around and the test binary's own pages.
	limit := (2*prefetchDepth+2)*batchBytes + 8<<20
	t.Logf("resident file pages grew by %d kB at most (limit %d kB) reading %d MiB", (peak-before)>>10, limit>>10, size>>20)
	if peak-before > limit {
		t.Errorf("resident file pages grew by %d MiB reading a %d MiB file, expected at most %d MiB", (peak-before)>>20, size>>20, limit>>20)
	}
}

// TestMappedFileCut cuts a mapped file short while it is read through two
// shards: each ends with an error naming the file, after every packet
// before the cut, and the process does not crash.
func TestMappedFileCut(t *testing.T) {
	const cut = 32 << 20 // far beyond the batches in flight at the cut
	path, ends := writeBigPcap(t, 64<<20)
	src, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !src.(*fileSource).isMapped() {
		t.Fatal("not mapped")
	}
	shards := PrefetchShards(src, 2, byteHash)
	var once sync.Once
	counts, errs := readShards(shards, func(int, int) {
		once.Do(func() {
			if err := os.Truncate(path, cut); err != nil {
				t.Error(err)
			}
		})
	})
	want := 0
	for want < len(ends) && ends[want] <= cut {
		want++
	}
	for i, s := range shards {
		err := errs[i]
		if counts[i] != want || !errors.Is(err, ErrTruncated) || err == nil ||
			!strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "changed while being read") {
			t.Errorf("shard %d: %d packets then %v, expected %d then the file changed while being read", i, counts[i], err, want)
		}
		if st := s.Stats(); st.Packets != uint64(want) {
			t.Errorf("shard %d: %d packets counted, expected %d", i, st.Packets, want)
		}
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	}
}

// TestMappedFillBatchCut cuts a mapped file at many offsets between two
// fillBatch calls: the packets before the cut, then the error.
func TestMappedFillBatchCut(t *testing.T) {
	path, ends := writeBigPcap(t, 3<<20)
	whole, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, cut := range []int{1 << 20, 1<<20 + 5, 2<<20 + 4095, 2<<20 + 4096 + 100, ends[1000], ends[1000] - 1} {
		if err := os.WriteFile(path, whole, 0o644); err != nil {
			t.Fatal(err)
		}
		src, err := OpenFile(path)
		if err != nil {
			t.Fatal(err)
		}
		s := src.(*fileSource)
		b := &batch{data: make([]byte, 0, 64<<10)}
		if err := s.fillBatch(b); err != nil {
			t.Fatal(err)
		}
		n := len(b.pkts)
		if err := os.Truncate(path, int64(cut)); err != nil {
			t.Fatal(err)
		}
		for err == nil {
			b.pkts, b.ifaces = b.pkts[:0], b.ifaces[:0]
			err = s.fillBatch(b)
			n += len(b.pkts)
			for i := range b.pkts {
				p := b.packet(i)
				if len(p.Data) < 27 || p.Data[26] != byte(n-len(b.pkts)+i) {
					t.Fatalf("cut at %d: packet %d of %d bytes holds the wrong bytes (%v)", cut, n-len(b.pkts)+i, len(p.Data), err)
				}
			}
		}
		want := 0
		for want < len(ends) && ends[want] <= cut {
			want++
		}
		if !strings.Contains(fmt.Sprint(err), "changed while being read") || n != want {
			t.Errorf("cut at %d: %d packets then %v, expected about %d then the file changed while being read", cut, n, err, want)
		}
		if st := s.Stats(); st.Packets != uint64(n) {
			t.Errorf("cut at %d: %d packets counted, %d read", cut, st.Packets, n)
		}
		src.Close()
	}
}
