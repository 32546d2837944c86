package inventory

import (
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/iomt-sensor/iomt-sensor/protocols"
)

// TestPeerRank checks that ordering peers by rank orders their IDs as
// strings, for MACs, IPv4 and IPv6 addresses mixed.
func TestPeerRank(t *testing.T) {
	inv := New(Config{}, nil)
	c := &inv.build
	rng := rand.New(rand.NewPCG(3, 4))
	keys := []epKey{
		{ip: netip.MustParseAddr("10.0.0.1")}, {ip: netip.MustParseAddr("10.0.0.10")}, {ip: netip.MustParseAddr("10.0.0.2")},
		{ip: netip.MustParseAddr("1.2.3.4")}, {ip: netip.MustParseAddr("100.0.0.0")}, {ip: netip.MustParseAddr("255.255.255.254")},
		{ip: netip.MustParseAddr("2001:db8::1")}, {ip: netip.MustParseAddr("20.1.1.1")}, {ip: netip.MustParseAddr("2001:db8::")},
		{ip: netip.MustParseAddr("fe80::1")}, {ip: netip.MustParseAddr("::1")},
		{mac: protocols.MAC{0, 0, 0, 0, 0, 1}}, {mac: protocols.MAC{0xff, 0xfe, 0, 0, 0, 1}},
	}
	for range 300 {
		switch rng.IntN(3) {
		case 0:
			keys = append(keys, epKey{ip: netip.AddrFrom4([4]byte{byte(rng.IntN(256)), byte(rng.IntN(3)), byte(rng.IntN(256)), byte(rng.IntN(12))})})
		case 1:
			var a [16]byte
			a[0], a[1], a[15] = 0x20, byte(rng.IntN(3)), byte(rng.IntN(256))
			keys = append(keys, epKey{ip: netip.AddrFrom16(a)})
		default:
			keys = append(keys, epKey{mac: protocols.MAC{byte(rng.IntN(4)) * 2, 0, 0, 0, byte(rng.IntN(3)), byte(rng.IntN(256))}})
		}
	}
	c.pnames = c.pnames[:0]
	var ns []namedPeer
	for _, k := range keys {
		n := c.namePeer(k)
		if !n.ok {
			t.Fatalf("%v: no name", k)
		}
		ns = append(ns, namedPeer{rank: n.rank, rank4: n.rank4, name: int32(len(c.pnames))})
		c.pnames = append(c.pnames, n)
	}
	for i := range ns {
		for j := range ns {
			x, y := c.pnames[ns[i].name].id, c.pnames[ns[j].name].id
			want := 0
			if x < y {
				want = -1
			} else if x > y {
				want = 1
			}
			if got := c.compareID(&ns[i], &ns[j]); got != want {
				t.Fatalf("compareID(%s, %s) = %d, want %d", x, y, got, want)
			}
		}
	}
}
