package sensor

import (
	"encoding/binary"
	"encoding/json"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iomt-sensor/iomt-sensor/protocols"
	"github.com/iomt-sensor/iomt-sensor/sensor/inventory"
)

// TestObservationCache checks that the worker's cache of recent
// observations changes nothing in the inventory: the same observations,
// repeated at various times, give the same assets as when each one is
// passed to Observe.
func TestObservationCache(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	pumpMAC := protocols.MAC{0, 0x1b, 0x21, 1, 2, 3}
	gwMAC := protocols.MAC{0, 0x09, 0xfb, 4, 5, 6}
	pump := inventory.Endpoint{MAC: pumpMAC, IP: netip.MustParseAddr("10.0.0.5")}
	gw := inventory.Endpoint{MAC: gwMAC, IP: netip.MustParseAddr("10.0.0.1")}
	arp := protocols.Observation{Protocol: "arp", Source: "arp.reply", MAC: pumpMAC, IP: pump.IP}
	dhcp := protocols.Observation{Protocol: "dhcp", Source: "dhcp.request", Hostname: "PUMP-7", Role: "client",
		Facts: []protocols.Fact{{Name: "dhcp.vendor_class", Value: "BD Alaris"}}}
	dns := protocols.Observation{Protocol: "dns", Source: "dns.response", IP: netip.MustParseAddr("10.0.0.77"),
		Hostname: "pacs.hosp.local", About: protocols.Receiver}
	other := dhcp
	other.Facts = []protocols.Fact{{Name: "dhcp.vendor_class", Value: "Other"}}
	type call struct {
		at               time.Duration
		sender, receiver inventory.Endpoint
		obs              protocols.Observation
	}
	tests := []struct {
		name  string
		calls []call
	}{
		{"one", []call{{0, pump, gw, arp}}},
		{"repeats", []call{{0, pump, gw, arp}, {time.Second, pump, gw, arp}, {3 * time.Second, pump, gw, arp}}},
		{"repeats past the report interval", []call{
			{0, pump, gw, dhcp}, {5 * time.Second, pump, gw, dhcp}, {15 * time.Second, pump, gw, dhcp},
			{16 * time.Second, pump, gw, dhcp}, {40 * time.Second, pump, gw, dhcp}}},
		{"different facts", []call{{0, pump, gw, dhcp}, {time.Second, pump, gw, other}, {2 * time.Second, pump, gw, dhcp}}},
		{"about the receiver", []call{{0, gw, pump, dns}, {time.Second, gw, pump, dns}, {9 * time.Second, gw, pump, dns}}},
		{"mixed", []call{
			{0, pump, gw, arp}, {0, gw, pump, dns}, {time.Second, pump, gw, dhcp}, {2 * time.Second, pump, gw, arp},
			{12 * time.Second, gw, pump, dns}, {13 * time.Second, pump, gw, dhcp}, {30 * time.Second, pump, gw, arp}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := inventory.New(inventory.Config{Sensor: "t"}, nil)
			got := inventory.New(inventory.Config{Sensor: "t"}, nil)
			w := NewWorker(Config{}, specs(), got)
			w.curPkt = true
			for _, c := range tt.calls {
				ts := t0.Add(c.at)
				want.Observe(ts, c.sender, c.receiver, c.obs)
				w.now = ts
				w.pkt.SrcMAC, w.pkt.SrcIP = c.sender.MAC, c.sender.IP
				w.pkt.DstMAC, w.pkt.DstIP = c.receiver.MAC, c.receiver.IP
				w.observe(c.obs)
			}
			w.curPkt = false
			w.Close()
			end := t0.Add(time.Minute)
			want.Flush(end)
			got.Flush(end)
			wj, _ := json.Marshal(want.Assets())
			gj, _ := json.Marshal(got.Assets())
			if string(wj) != string(gj) {
				t.Errorf("assets differ\ngot  %s\nwant %s", gj, wj)
			}
		})
	}
}

// TestObservationCacheEvicts passes more observations than the cache
// holds, repeating some often and others rarely, so that entries are
// evicted by the ring's hand and by tags taken over: the inventory is the
// same as when each one is passed to Observe.
func TestObservationCacheEvicts(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	want := inventory.New(inventory.Config{Sensor: "t"}, nil)
	got := inventory.New(inventory.Config{Sensor: "t"}, nil)
	w := NewWorker(Config{}, specs(), got)
	w.curPkt = true
	gw := inventory.Endpoint{MAC: protocols.MAC{0, 0x09, 0xfb, 4, 5, 6}, IP: netip.MustParseAddr("10.0.0.1")}
	x := uint64(7)
	for i := range 6 * recentObsSlots {
		x = x*6364136223846793005 + 1442695040888963407
		h := int(x>>33) % (3 * recentObsSlots)
		if i%3 == 0 {
			h %= 500 // a few hosts repeat often
		}
		sender := inventory.Endpoint{MAC: protocols.MAC{0, 0x1b, 0x21, byte(h >> 16), byte(h >> 8), byte(h)},
			IP: netip.AddrFrom4([4]byte{10, byte(h >> 16), byte(h >> 8), byte(h)})}
		o := protocols.Observation{Protocol: "dhcp", Source: "dhcp.request", Role: "client",
			Facts: []protocols.Fact{{Name: "dhcp.vendor_class", Value: []string{"BD Alaris", "Baxter", "GE"}[h%3]}}}
		ts := t0.Add(time.Duration(i) * time.Millisecond)
		want.Observe(ts, sender, gw, o)
		w.now = ts
		w.pkt.SrcMAC, w.pkt.SrcIP = sender.MAC, sender.IP
		w.pkt.DstMAC, w.pkt.DstIP = gw.MAC, gw.IP
		w.observe(o)
	}
	w.curPkt = false
	w.Close()
	end := t0.Add(10 * time.Minute)
	want.Flush(end)
	got.Flush(end)
	wj, _ := json.Marshal(want.Assets())
	gj, _ := json.Marshal(got.Assets())
	if string(wj) != string(gj) {
		t.Errorf("assets differ (%d and %d bytes of JSON)", len(gj), len(wj))
	}
}

// BenchmarkObserveRepeat measures the worker's handling of an observation
// that repeats (the same HL7 sender's MSH facts on every connection): it
// must not allocate.
func BenchmarkObserveRepeat(b *testing.B) {
	inv := inventory.New(inventory.Config{Sensor: "bench"}, nil)
	w := NewWorker(Config{}, specs(), inv)
	defer w.Close()
	t0 := time.Unix(1_700_000_000, 0)
	w.curPkt = true
	w.pkt.SrcMAC, w.pkt.SrcIP = protocols.MAC{0, 0x1b, 0x21, 1, 2, 3}, netip.MustParseAddr("10.0.0.5")
	o := protocols.Observation{Protocol: "hl7", Source: "hl7.oru^r01", Role: "sender",
		Facts: []protocols.Fact{{Name: "hl7.sending_application", Value: "MONITOR"}, {Name: "hl7.sending_facility", Value: "ICU"},
			{Name: "hl7.version", Value: "2.5"}}}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		w.now = t0.Add(time.Duration(i) * time.Millisecond)
		w.observe(o)
	}
	w.curPkt = false
}

// BenchmarkObserveMix measures the observation cache as a replay uses it:
// observations of four kinds about 6000 hosts, in an order without
// locality, about half of them repeats the cache finds. Between two
// observations 4 KiB of a 64 MiB buffer go through the CPU's cache, as
// packets do in a replay (some 5 KB per observation), so that the cache's
// tables are out of it as they are there. The inventory is left out: the
// worker's batches are dropped.
func BenchmarkObserveMix(b *testing.B) {
	inv := inventory.New(inventory.Config{Sensor: "bench"}, nil)
	w := NewWorker(Config{}, specs(), inv)
	w.Close() // stops its feeder: batches go to the one below
	w.ops = make(chan []invOp, 2)
	var queued atomic.Int64
	go func() {
		for batch := range w.ops {
			queued.Add(int64(len(batch)))
			clear(batch)
			w.free <- batch
		}
	}()
	defer close(w.ops)
	const hosts = 6000
	kinds := []protocols.Observation{
		{Protocol: "hl7", Source: "hl7.oru^r01", Role: "sender", Facts: []protocols.Fact{
			{Name: "hl7.sending_application", Value: "MONITOR"}, {Name: "hl7.sending_facility", Value: "ICU"}, {Name: "hl7.version", Value: "2.5"}}},
		{Protocol: "dns", Source: "dns.response", Hostname: "pacs.hosp.local", About: protocols.Receiver, IP: netip.MustParseAddr("10.0.0.77")},
		{Protocol: "tls", Source: "tls.client_hello", Facts: []protocols.Fact{{Name: "tls.sni", Value: "emr.hosp.local"}, {Name: "tls.ja3", Value: "771,4865-4866,0-23,29,0"}}},
		{Protocol: "dhcp", Source: "dhcp.request", Hostname: "PUMP-7", Role: "client", Facts: []protocols.Fact{{Name: "dhcp.vendor_class", Value: "BD Alaris"}}},
	}
	type call struct {
		sender protocols.MAC
		ip     netip.Addr
		kind   int
	}
	calls := make([]call, 1<<16)
	x := uint64(1)
	for i := range calls {
		x = x*6364136223846793005 + 1442695040888963407
		h := int(x>>33) % hosts
		calls[i] = call{protocols.MAC{0, 0x1b, 0x21, 0, byte(h >> 8), byte(h)}, netip.AddrFrom4([4]byte{10, 1, byte(h >> 8), byte(h)}), int(x>>20) % len(kinds)}
	}
	t0 := time.Unix(1_700_000_000, 0)
	w.curPkt = true
	w.pkt.DstMAC, w.pkt.DstIP = protocols.MAC{0, 0x09, 0xfb, 4, 5, 6}, netip.MustParseAddr("10.0.0.1")
	packets := make([]byte, 64<<20)
	var buf [4096]byte
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		copy(buf[:], packets[i*len(buf)%len(packets):])
		c := &calls[i&(len(calls)-1)]
		i++
		w.now = t0.Add(time.Duration(i) * 100 * time.Microsecond)
		w.pkt.SrcMAC, w.pkt.SrcIP = c.sender, c.ip
		w.observe(kinds[c.kind])
	}
	b.ReportMetric(float64(queued.Load())/float64(b.N), "queued/op")
	w.curPkt = false
}

// TestHashString checks the caches' string hash, which reads the bytes
// after the last full word with overlapping loads, against one that reads
// them one at a time, for every length up to five words.
func TestHashString(t *testing.T) {
	b := make([]byte, 40)
	for i := range b {
		b[i] = byte(i*37 + 11)
	}
	for n := range len(b) + 1 {
		s := string(b[:n])
		want := hash64(1)
		rest := b[:n]
		for ; len(rest) >= 8; rest = rest[8:] {
			want.word(binary.LittleEndian.Uint64(rest))
		}
		var last uint64
		for i, c := range rest {
			last |= uint64(c) << (8 * i)
		}
		want.word(last ^ uint64(n)<<56)
		got := hash64(1)
		got.string(s)
		if got != want {
			t.Errorf("length %d: hash %x, want %x", n, got, want)
		}
	}
}
