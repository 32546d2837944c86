package capture

import (
	"bytes"
	"errors"
	"hash/fnv"
	"io"
	"sync"
	"testing"
	"time"
)

// byteHash stands in for a flow hash: shards need only be stable.
func byteHash(data []byte, _ LinkType) uint64 {
	h := fnv.New64a()
	h.Write(data[:min(len(data), 34)])
	return h.Sum64()
}

// TestPrefetchShards reads a capture through 1 to 5 shards at once: each
// shard sees every packet in order, its own in full and the others' as
// Foreign with their time, and every packet is some shard's own exactly
// once. Both packet-by-packet sources (pcapng, merged files) and block-read
// pcap files are tried, with a truncated one.
func TestPrefetchShards(t *testing.T) {
	large := writeBenchPcap(t, 20000) // many batches
	open := map[string]func() (Source, error){
		"large":     func() (Source, error) { return OpenFile(large) },
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
					for k := 0; ; k++ {
						p, err := s.Next()
						if err != nil {
							if k != len(want) || errors.Is(err, io.EOF) != errors.Is(wantErr, io.EOF) {
								t.Errorf("%s, %d shards: shard %d ended after %d packets with %v, want %d then %v", name, n, i, k, err, len(want), wantErr)
							}
							return
						}
						if k >= len(want) || !p.Timestamp.Equal(want[k].ts) {
							t.Errorf("%s, %d shards: shard %d packet %d: time %v", name, n, i, k, p.Timestamp)
							return
						}
						if p.Foreign {
							if p.Data != nil {
								t.Errorf("%s: a foreign packet carries data", name)
							}
							continue
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
