package tls

import (
	"flag"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/iomt-sensor/iomt-sensor/protocols"
)

var replayN = flag.Int("replayflows", 4096, "distinct flows BenchmarkReplayFlows cycles through")

// replayFlow is the start of one TLS 1.3 connection as the generator
// (cmd/iomt-gencap) writes them: the client's ClientHello record, then the
// server's first segment (ServerHello, ChangeCipherSpec and the start of
// the encrypted handshake).
type replayFlow struct {
	info           protocols.FlowInfo
	client, server []byte
}

// replayFlows builds n flows, each with its own random, session id, key
// share and server name.
func replayFlows(n int) []replayFlow {
	rng := rand.New(rand.NewPCG(7, 9))
	random := func(k int) []byte {
		b := make([]byte, k)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	ciphers := []uint16{0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035}
	sigs := []uint16{0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601}
	flows := make([]replayFlow, n)
	for i := range flows {
		sni := "site" + strconv.Itoa(i) + ".example.org"
		exts := []ext{
			sniExt(sni),
			{23, nil},
			{0xff01, []byte{0}},
			{extSupportedGroups, vec16(be16(0x1d, 0x17, 0x18))},
			{extECPointFormats, vec8([]byte{0})},
			{35, nil},
			alpnExt("h2", "http/1.1"),
			{5, []byte{1, 0, 0, 0, 0}},
			{extSignatureAlgs, vec16(be16(sigs...))},
			{18, nil},
			{51, vec16(append(be16(0x1d, 32), random(32)...))},
			{45, []byte{1, 1}},
			{extSupportedVersions, vec8(be16(0x0304, 0x0303))},
		}
		hello := clientHello(0x0303, ciphers, exts)
		copy(hello[6:], random(32))
		sh := serverHello(0x0303, 0x1301, []ext{{extSupportedVersions, be16(0x0304)}, {51, append(be16(0x1d, 32), random(32)...)}})
		copy(sh[6:], random(32))
		server := records(sh, 1<<14)
		server = append(server, recChangeCipherSpec, 3, 3, 0, 1, 1)
		server = append(server, recApplicationData, 3, 3, 0x40, 0x11)
		server = append(server, random(1448-len(server))...)
		flows[i] = replayFlow{
			info:   protocols.FlowInfo{Transport: protocols.TCP, Client: netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), 50000), Server: netip.AddrPortFrom(netip.AddrFrom4([4]byte{93, 184, 216, 34}), 443)},
			client: records(hello, 1<<14),
			server: server,
		}
	}
	return flows
}

// BenchmarkReplayFlows models the replay: every flow is new (New, the
// client's hello, the server's first segment, after which the decoder says
// SkipFlow), flows follow one another out of cache, and the observations
// are kept as the sensor keeps them. Decoders come from one Spec, whose
// fingerprint cache they share, as in the sensor. One op is one flow.
func BenchmarkReplayFlows(b *testing.B) {
	flows := replayFlows(*replayN)
	newDecoder := Spec().New
	kept := make([]protocols.Observation, 0, 1024)
	emit := func(o protocols.Observation) {
		if len(kept) == cap(kept) {
			clear(kept)
			kept = kept[:0]
		}
		kept = append(kept, o)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		f := &flows[i%len(flows)]
		i++
		d := newDecoder(f.info)
		if err := d.Feed(protocols.FromClient, f.client, time.Time{}, emit); err != nil {
			b.Fatal(err)
		}
		if err := d.Feed(protocols.FromServer, f.server, time.Time{}, emit); err != protocols.SkipFlow {
			b.Fatal(err)
		}
	}
	if len(kept) == 0 {
		b.Fatal("nothing emitted")
	}
}
