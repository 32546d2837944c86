package sensor

import (
	"encoding/json"
	"net/netip"
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
