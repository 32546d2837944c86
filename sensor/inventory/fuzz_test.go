package inventory

import (
	"bytes"
	"fmt"
	"net/netip"
	"testing"

	"github.com/iomt-sensor/iomt-sensor/protocols"
)

// fuzzEndpoint maps a byte to an endpoint over a small address space that
// mixes the cases the grouping distinguishes: no MAC, group MACs, internal,
// external, unspecified, broadcast, multicast and IPv6 addresses.
func fuzzEndpoint(b byte) Endpoint {
	macs := []string{"", "02:00:00:00:00:01", "02:00:00:00:00:02", "00:00:5e:00:01:01", "00:1b:21:00:00:01",
		"08:00:27:00:00:01", "01:00:5e:00:00:fb", "ff:ff:ff:ff:ff:ff"}
	ips := []string{"", "10.0.0.1", "10.0.0.2", "10.0.0.3", "192.168.1.1", "172.16.0.1", "8.8.8.8", "1.1.1.1",
		"93.184.216.34", "198.51.100.1", "198.51.100.2", "198.51.100.3", "0.0.0.0", "255.255.255.255",
		"224.0.0.251", "fe80::1", "2001:db8::1", "::", "127.0.0.1", "100.64.0.1"}
	e := Endpoint{Transport: protocols.Transport(1 + b>>7), Port: uint16(b & 3)}
	if m := macs[b&7]; m != "" {
		e.MAC = mac(m)
	}
	if ip := ips[int(b>>3)%len(ips)]; ip != "" {
		e.IP = netip.MustParseAddr(ip)
	}
	return e
}

// fuzzCalls turns bytes into inventory calls, 6 bytes each.
func fuzzCalls(data []byte) []call {
	protos := []string{"", "dicom", "hl7", "dhcp"}
	var calls []call
	for ; len(data) >= 6 && len(calls) < 200; data = data[6:] {
		op, a, b, c, d, e := data[0], data[1], data[2], data[3], data[4], data[5]
		switch op % 3 {
		case 0:
			calls = append(calls, flow(int(e), fuzzEndpoint(a), fuzzEndpoint(b), protocols.Transport(1+c&1),
				uint16(c>>1), protos[d&3], e&1 == 1))
		case 1:
			o := protocols.Observation{Protocol: protos[d&3], Source: fmt.Sprint("src", c&3), About: protocols.Party(c >> 7),
				Hostname: fmt.Sprint("host", d>>6), Role: []string{"", "server", "client", "scp"}[c>>2&3],
				Facts: []protocols.Fact{{Name: "f", Value: fmt.Sprint(e & 15)}}}
			if d&4 != 0 {
				o.MAC = fuzzEndpoint(d).MAC
			}
			if d&8 != 0 {
				o.IP = fuzzEndpoint(e).IP
			}
			calls = append(calls, observe(int(e), fuzzEndpoint(a), fuzzEndpoint(b), o))
		case 2:
			if m, ip := fuzzEndpoint(a), fuzzEndpoint(b); !m.MAC.IsZero() && ip.IP.IsValid() {
				calls = append(calls, observe(int(e), m, Endpoint{}, protocols.Observation{
					Protocol: "arp", Source: "arp.reply", MAC: m.MAC, IP: ip.IP}))
			}
		}
	}
	return calls
}

// FuzzOrder checks, for any sequence of calls, that nothing panics and that
// the same calls in reverse and rotated order give the same JSON, with the
// default caps and with tiny ones.
func FuzzOrder(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 1, 9, 17, 0x84, 0x0c, 7, 2, 3, 9, 0, 0, 0})
	f.Add(bytes.Repeat([]byte{0, 0x33, 0x0a, 0x20, 1, 1, 0, 0x3b, 0x0a, 0x20, 1, 1, 0, 0x43, 0x0a, 0x20, 1, 1}, 4))
	f.Add([]byte{1, 0x61, 0x6f, 0x02, 0x0f, 0x08, 2, 0x0b, 0x03, 0, 0, 9})
	f.Fuzz(func(t *testing.T, data []byte) {
		calls := fuzzCalls(data)
		for _, cfg := range []Config{{}, {MaxEndpoints: 5, MaxPeers: 2, MaxEvidence: 2, MaxServices: 1, MaxIPs: 1, MaxHostnames: 1, RouterMinIPs: 1}} {
			want := assetsJSON(t, run(cfg, calls))
			rev := make([]call, 0, len(calls))
			for i := len(calls) - 1; i >= 0; i-- {
				rev = append(rev, calls[i])
			}
			if got := assetsJSON(t, run(cfg, rev)); !bytes.Equal(got, want) {
				t.Fatalf("reverse order differs:\n%s\n%s", want, got)
			}
			if len(calls) > 2 {
				rot := append(append([]call{}, calls[len(calls)/2:]...), calls[:len(calls)/2]...)
				if got := assetsJSON(t, run(cfg, rot)); !bytes.Equal(got, want) {
					t.Fatalf("rotated order differs:\n%s\n%s", want, got)
				}
			}
		}
	})
}
