package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/fnv"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// byteHash stands in for a flow hash: shards need only be stable.
func byteHash(data []byte, _ LinkType) uint64 {
	h := fnv.New64a()
	h.Write(data[:min(len(data), 34)])
	return h.Sum64()
}

// TestPrefetchShards reads a capture through 1 to 5 shards at once: each
// shard returns its own packets in full and in order, every packet is some
// shard's own exactly once, each packet returned counts 1+Skipped of the
// capture, and a consumer ticking on what it is given (as a worker sweeps)
// ticks at the same packets and times as one given every packet, with the
// same clock at each packet of its own. Both packet-by-packet sources
// (pcapng, merged files) and block-read pcap files are tried, with a
// truncated one and one whose times go back and forth.
func TestPrefetchShards(t *testing.T) {
	large := writeBenchPcap(t, 20000) // many batches
	jumbled := writeJumbledPcap(t, 20000)
	open := map[string]func() (Source, error){
		"large":     func() (Source, error) { return OpenFile(large) },
		"jumbled":   func() (Source, error) { return OpenFile(jumbled) },
		"pcap":      func() (Source, error) { return OpenFile("../../testdata/captures/clinic.pcap") },
		"truncated": func() (Source, error) { return OpenFile("../../testdata/captures/truncated.pcap") },
		"merged": func() (Source, error) {
			return OpenFiles([]string{"../../testdata/captures/clinic.pcap", "../../testdata/captures/dhcp-dnsmasq.pcap"}, func(error) {})
		},
	}
	for name, openSrc := range open {
		src, err := openSrc()
		if err != nil {
			t.Fatal(err)
		}
		type pkt struct {
			data []byte
			ts   time.Time
		}
		var want []pkt
		var wantErr error
		for {
			p, err := src.Next()
			if err != nil {
				wantErr = err
				break
			}
			want = append(want, pkt{append([]byte(nil), p.Data...), p.Timestamp})
		}
		src.Close()
		// The ticks and clock of a consumer given every packet.
		var all ticker
		wantClock := make([]int64, len(want))
		for k, p := range want {
			all.see(k, p.ts)
			wantClock[k] = all.clock.Now()
		}
		for n := 1; n <= 5; n++ {
			src, err := openSrc()
			if err != nil {
				t.Fatal(err)
			}
			shards := PrefetchShards(src, n, byteHash)
			owner := make([][]int, n) // packet indexes each shard owned
			var wg sync.WaitGroup
			for i, s := range shards {
				wg.Go(func() {
					defer s.Close()
					var tk ticker
					k := -1 // index in the capture of the packet returned
					for {
						p, err := s.Next()
						if err != nil {
							if k != len(want)-1 || errors.Is(err, io.EOF) != errors.Is(wantErr, io.EOF) {
								t.Errorf("%s, %d shards: shard %d ended after %d packets with %v, want %d then %v", name, n, i, k+1, err, len(want), wantErr)
							}
							if !slices.Equal(tk.ticks, all.ticks) || !slices.EqualFunc(tk.times, all.times, time.Time.Equal) {
								t.Errorf("%s, %d shards: shard %d ticks at %v, want %v", name, n, i, tk.ticks, all.ticks)
							}
							return
						}
						k += 1 + p.Skipped
						if p.Skipped < 0 || k >= len(want) {
							t.Errorf("%s, %d shards: shard %d: packet %d skips %d", name, n, i, k, p.Skipped)
							return
						}
						tk.see(k, p.Timestamp)
						if p.Foreign {
							if p.Data != nil {
								t.Errorf("%s: a foreign packet carries data", name)
							}
							continue
						}
						if !p.Timestamp.Equal(want[k].ts) || tk.clock.Now() != wantClock[k] {
							t.Errorf("%s, %d shards: shard %d packet %d: time %v, clock %d, want %v, %d", name, n, i, k, p.Timestamp, tk.clock.Now(), want[k].ts, wantClock[k])
							return
						}
						if !bytes.Equal(p.Data, want[k].data) || int(byteHash(p.Data, 0)%uint64(n)) != i {
							t.Errorf("%s, %d shards: shard %d packet %d differs or is not its own", name, n, i, k)
						}
						owner[i] = append(owner[i], k)
					}
				})
			}
			wg.Wait()
			seen := make([]int, len(want))
			for _, ks := range owner {
				for _, k := range ks {
					seen[k]++
				}
			}
			for k, c := range seen {
				if c != 1 {
					t.Fatalf("%s, %d shards: packet %d owned by %d shards", name, n, k, c)
				}
			}
		}
	}
}

// ticker keeps a Clock, as a worker does, on the times it is given and
// records where it ticks.
type ticker struct {
	clock Clock
	ticks []int // capture indexes of the packets it ticked at
	times []time.Time
}

func (tk *ticker) see(k int, ts time.Time) {
	if _, ticked := tk.clock.Advance(ts.UnixNano()); ticked {
		tk.ticks, tk.times = append(tk.ticks, k), append(tk.times, ts)
	}
}

// writeJumbledPcap writes n distinct packets a few milliseconds apart whose
// times now and then go back by up to three seconds.
func writeJumbledPcap(t testing.TB, n int) string {
	p := filepath.Join(t.TempDir(), "jumbled.pcap")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	base := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	data := make([]byte, 60)
	for i := range n {
		binary.BigEndian.PutUint32(data, uint32(i))
		ts := base.Add(time.Duration(i) * 3 * time.Millisecond)
		if i%7 == 3 {
			ts = ts.Add(-time.Duration(i*7919%3000) * time.Millisecond)
		}
		if i%11 == 5 {
			ts = ts.Add(time.Duration(i*104729%1500) * time.Millisecond)
		}
		ci := gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(data), Length: len(data)}
		if err := w.WritePacket(ci, data); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPrefetchShardClosedEarly: a shard that stops reading must not stall
// the others, nor the last Close.
func TestPrefetchShardClosedEarly(t *testing.T) {
	src, err := OpenFile("../../testdata/captures/clinic.pcap")
	if err != nil {
		t.Fatal(err)
	}
	shards := PrefetchShards(src, 3, byteHash)
	if _, err := shards[0].Next(); err != nil {
		t.Fatal(err)
	}
	shards[0].Close()
	shards[2].Close()
	n := 0
	for {
		if _, err := shards[1].Next(); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatal(err)
			}
			break
		}
		n++
	}
	if n == 0 {
		t.Error("the open shard read nothing")
	}
	if err := shards[1].Close(); err != nil {
		t.Error(err)
	}
}

// BenchmarkShardNext is the consumer's side of PrefetchShards: one of two
// shards reading batches of 512 packets, about half of them its own, a
// millisecond apart. An op is one batch.
func BenchmarkShardNext(b *testing.B) {
	const perBatch = 512
	data := make([]byte, 0, perBatch*100)
	bt := &batch{ifaces: []string{"x"}}
	mine := 0
	base := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC).UnixNano()
	for i := range perBatch {
		off := len(data)
		data = append(data, make([]byte, 100)...)
		bt.pkts = append(bt.pkts, record{off: int32(off), end: int32(len(data)), length: 100,
			link: LinkEthernet, shard: uint8(i * 7 % 13 % 2), ts: base + int64(i)*int64(time.Millisecond)})
		if i*7%13%2 == 0 {
			mine++
		}
	}
	bt.data = data
	bt.refs.Store(1) // the same batch over and over: released once
	p := &prefetch{empty: make(chan *batch, 1)}
	s := &shard{p: p, full: make(chan *batch, b.N), told: math.MinInt64}
	for range b.N {
		s.full <- bt
	}
	close(s.full)
	b.ReportAllocs()
	b.ResetTimer()
	own := 0
	for {
		pkt, err := s.Next()
		if err != nil {
			break
		}
		if !pkt.Foreign {
			own++
		}
	}
	if own != b.N*mine {
		b.Fatalf("%d own packets, want %d", own, b.N*mine)
	}
}
