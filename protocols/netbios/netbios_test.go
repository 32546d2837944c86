package netbios

import (
	"encoding/hex"
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/iomt-sensor/iomt-sensor/protocols"
	"github.com/iomt-sensor/iomt-sensor/protocols/internal/corpustest"
)

func unhex(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func mkfacts(kv ...string) []protocols.Fact {
	var out []protocols.Fact
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, protocols.Fact{Name: kv[i], Value: kv[i+1]})
	}
	return out
}

// decode feeds data, sent by src, to a fresh decoder.
func decode(src string, data []byte) ([]protocols.Observation, error) {
	var got []protocols.Observation
	info := protocols.FlowInfo{Transport: protocols.UDP}
	if src != "" {
		info.Client = netip.AddrPortFrom(netip.MustParseAddr(src), 137)
	}
	d := Spec().New(info)
	err := d.Feed(protocols.FromClient, data, time.Time{}, func(o protocols.Observation) { got = append(got, o) })
	return got, err
}

// encName returns the first-level encoding of a 15-character name and a
// suffix (RFC 1001 §14.1), as hex of the 34-byte wire name.
func encName(n string, suffix byte) string {
	raw := []byte(n + strings.Repeat(" ", 15-len(n)))
	raw = append(raw, suffix)
	out := []byte{32}
	for _, c := range raw {
		out = append(out, 'A'+c>>4, 'A'+c&0xf)
	}
	return hex.EncodeToString(append(out, 0))
}

var fixtures = []struct {
	name, src, hex string
	want           []protocols.Observation
}{
	{
		// ndpi-netbios.pcap frame 68: 10.0.4.165 asks (broadcast) for GUNNAR<00>.
		name: "name query", src: "10.0.4.165",
		hex: "8a8a 0110 0001 0000 0000 0000" + encName("GUNNAR", 0) + "0020 0001",
		want: []protocols.Observation{{Protocol: "netbios", Source: "netbios.query", About: protocols.Sender, Role: "client",
			Facts: mkfacts(FactQuery, "GUNNAR<00>")}},
	},
	{
		// ndpi-netbios.pcap frame 69: 10.0.4.24 answers GUNNAR<00> is 10.0.4.24
		// (unique, B-node), TTL 300000.
		name: "positive name query response", src: "10.0.4.24",
		hex: "8a8a 8500 0000 0001 0000 0000" + encName("GUNNAR", 0) + "0020 0001 000493e0 0006 0000 0a000418",
		want: []protocols.Observation{{Protocol: "netbios", Source: "netbios.query_response", About: protocols.Sender, Role: "server",
			IP: netip.MustParseAddr("10.0.4.24"), Hostname: "GUNNAR", Facts: mkfacts(FactName, "GUNNAR<00>")}},
	},
	{
		// The same answer relayed by a name server (10.0.0.1): about another host, no observation.
		name: "name server answering for another host", src: "10.0.0.1",
		hex:  "8a8a 8500 0000 0001 0000 0000" + encName("GUNNAR", 0) + "0020 0001 000493e0 0006 0000 0a000418",
		want: nil,
	},
	{
		// ndpi-netbios.pcap frame 129: node status of 10.0.4.24: GUNNAR<00>,
		// VIGILANT_GROUP<00> (group), GUNNAR<20>, VIGILANT_GROUP<1e> (group),
		// unit id 00:1c:c4:10:79:0f, statistics zero.
		name: "node status response", src: "10.0.4.24",
		hex: "9a2f 8400 0000 0001 0000 0000" + "20434b41414141414141414141414141414141414141414141414141414141414100" +
			"0021 0001 00000000 0077 04" +
			"47554e4e415220202020202020202000 0400" +
			"564947494c414e545f47524f55502000 8400" +
			"47554e4e415220202020202020202020 0400" +
			"564947494c414e545f47524f5550201e 8400" +
			"001cc410790f" + strings.Repeat("00", 40),
		want: []protocols.Observation{{Protocol: "netbios", Source: "netbios.node_status", About: protocols.Sender, Role: "server",
			MAC: protocols.MAC{0x00, 0x1c, 0xc4, 0x10, 0x79, 0x0f}, Hostname: "GUNNAR",
			Facts: mkfacts(FactName, "GUNNAR<00>", FactGroup, "VIGILANT_GROUP", FactName, "GUNNAR<20>")}},
	},
	{
		// Hand-made registration (RFC 1002 §4.2.2) of the group CARDIO<1e> by
		// 10.1.2.3 with a scope "icu" and the additional record's name a pointer.
		name: "group registration", src: "10.1.2.3",
		hex: "1234 2910 0001 0000 0000 0001" + strings.TrimSuffix(encName("CARDIO", 0x1e), "00") + "03696375" + "00" +
			"0020 0001" + "c00c 0020 0001 000493e0 0006 8000 0a010203",
		want: []protocols.Observation{{Protocol: "netbios", Source: "netbios.registration", About: protocols.Sender, Role: "server",
			IP: netip.MustParseAddr("10.1.2.3"), Facts: mkfacts(FactGroup, "CARDIO")}},
	},
	{
		// Hand-made refresh (opcode 9) of the unique name PUMP-07<00>.
		name: "unique refresh", src: "10.1.2.4",
		hex: "1235 4800 0001 0000 0000 0001" + encName("PUMP-07", 0) + "0020 0001" + "c00c 0020 0001 000493e0 0006 0000 0a010204",
		want: []protocols.Observation{{Protocol: "netbios", Source: "netbios.refresh", About: protocols.Sender, Role: "server",
			IP: netip.MustParseAddr("10.1.2.4"), Hostname: "PUMP-07", Facts: mkfacts(FactName, "PUMP-07<00>")}},
	},
	{
		// ndpi-netbios.pcap frame 20: broadcast datagram from NVR9<20>
		// (10.0.5.9:138) to VIGILANT_GROUP<1d>, SMB Transaction to
		// \MAILSLOT\BROWSE: Host Announcement NVR9, Windows 6.1, server type
		// 0x00011007 (workstation, server, SQL server, NT workstation, potential browser).
		name: "host announcement", src: "10.0.5.9",
		hex: "110e c2f4 0a000509 008a 00bb 0000" + encName("NVR9", 0x20) + encName("VIGILANT_GROUP", 0x1d) +
			"ff534d42 25 00000000 00 0000 0000 0000000000000000 0000 0000 0000 0000 0000" + // SMB header
			"11 0000 2100 0000 0000 00 00 0000 e8030000 0000 0000 0000 2100 5600 03 00 0100 0000 0200" + // 17 words: data 33 bytes at 86, 3 setup words
			"3200 5c4d41494c534c4f545c42524f57534500" + // 50 bytes: \MAILSLOT\BROWSE, then the data
			"01 00 80fc0a00 4e565239000000000000000000000000 06 01 07100100 0f01 55aa 00",
		want: []protocols.Observation{{Protocol: "netbios", Source: "netbios.host_announcement", About: protocols.Sender, Role: "server",
			IP: netip.MustParseAddr("10.0.5.9"), Hostname: "NVR9",
			Facts: mkfacts(FactName, "NVR9<20>", FactGroup, "VIGILANT_GROUP", FactServer, "NVR9",
				FactOSVersion, "6.1", FactServerType, "0x00011007")}},
	},
}

func TestFeedFixtures(t *testing.T) {
	for i, tc := range fixtures {
		data := unhex(t, tc.hex)
		if !Detect(protocols.FromClient, data) {
			t.Errorf("Test %d (%s): Detect = false, want true", i, tc.name)
		}
		got, err := decode(tc.src, data)
		if err != nil {
			t.Errorf("Test %d (%s): unexpected error %v", i, tc.name, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Test %d (%s):\nexpected %+v\ngot      %+v", i, tc.name, tc.want, got)
		}
	}
}

var negatives = []struct {
	name, hex string
	detect    bool
	want      error
}{
	{"empty", "", false, protocols.ErrMalformed},
	{"dns query on 137", "abcd01000001000000000000076578616d706c6503636f6d0000010001" + strings.Repeat("00", 30), false, protocols.ErrMalformed},
	{"random bytes", strings.Repeat("5a", 80), false, protocols.ErrMalformed},
	{"question runs past the end", "1234 0110 0001 0000 0000 0000" + encName("X", 0) + "0020", true, protocols.ErrMalformed},
	{"answer data past the end", "1234 8500 0000 0001 0000 0000" + encName("X", 0) + "0020 0001 00000000 0010 0000", true, protocols.ErrMalformed},
	{"node status over the name cap", "1234 8400 0000 0001 0000 0000" + encName("*", 0) + "0021 0001 00000000 0001 ff", true, protocols.ErrTooLong},
	{"node status names past the end", "1234 8400 0000 0001 0000 0000" + encName("*", 0) + "0021 0001 00000000 0001 02", true, protocols.ErrMalformed},
	{"too many additional records", "1234 2910 0001 0000 0000 0100" + encName("X", 0) + "0020 0001", true, protocols.ErrTooLong},
	{"scope label too long", "1234 0110 0001 0000 0000 0000" + strings.TrimSuffix(encName("X", 0), "00") + "50" + strings.Repeat("61", 80) + "00 0020 0001", true, protocols.ErrMalformed},
	{"datagram with a truncated destination name", "1102 a4e7 0a000509 008a 00bb 0000" + encName("NVR9", 0x20) + "20", true, protocols.ErrMalformed},
	{"over the length cap", "1234 0110 0001 0000 0000 0000" + encName("X", 0) + "0020 0001" + strings.Repeat("00", MaxMessageLen), true, protocols.ErrTooLong},
}

func TestFeedNegative(t *testing.T) {
	for i, tc := range negatives {
		data := unhex(t, tc.hex)
		if d := Detect(protocols.FromClient, data); d != tc.detect {
			t.Errorf("Test %d (%s): expected Detect = %v, got %v", i, tc.name, tc.detect, d)
		}
		got, err := decode("10.0.0.1", data)
		if !errors.Is(err, tc.want) {
			t.Errorf("Test %d (%s): expected error wrapping %v, got %v", i, tc.name, tc.want, err)
		}
		if len(got) != 0 {
			t.Errorf("Test %d (%s): expected no observation, got %+v", i, tc.name, got)
		}
	}
}

func TestSpec(t *testing.T) {
	s := Spec()
	if s.Name != "netbios" || s.Transport != protocols.UDP || !reflect.DeepEqual(s.Ports, []uint16{137, 138}) {
		t.Errorf("unexpected spec %+v", s)
	}
	if s.Detect == nil || s.New == nil {
		t.Fatal("spec lacks Detect or New")
	}
}

func FuzzDecode(f *testing.F) {
	for _, tc := range fixtures {
		f.Add(unhex(f, tc.hex))
	}
	for _, tc := range negatives {
		f.Add(unhex(f, tc.hex))
	}
	corpustest.Seed(f, corpusFiles, func(path string) [][]byte {
		var out [][]byte
		for _, d := range corpustest.UDP(f, path, NameServicePort, DatagramServicePort) {
			out = append(out, d.Payload)
		}
		return out
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		detect := Detect(protocols.FromClient, data)
		got, err := decode("10.0.0.1", data)
		if err != nil {
			if len(got) != 0 {
				t.Fatalf("error %v with observations %+v", err, got)
			}
			if protocols.Reason(err) == "other" {
				t.Fatalf("error %v wraps no sentinel", err)
			}
			return
		}
		if !detect {
			t.Fatal("decoded what Detect refused")
		}
		if len(got) > 1 {
			t.Fatalf("expected at most one observation, got %d", len(got))
		}
		for _, o := range got {
			if o.Protocol != "netbios" || !strings.HasPrefix(o.Source, "netbios.") {
				t.Fatalf("bad observation %+v", o)
			}
			if len(o.Hostname) > 15 {
				t.Fatalf("hostname %q over 15 bytes", o.Hostname)
			}
			for _, fct := range o.Facts {
				if fct.Value == "" || len(fct.Value) > maxComment {
					t.Fatalf("fact %s: %d bytes", fct.Name, len(fct.Value))
				}
				for i := 0; i < len(fct.Value); i++ {
					if c := fct.Value[i]; c < 0x20 || c > 0x7e {
						t.Fatalf("fact %s: byte %#x", fct.Name, c)
					}
				}
			}
		}
	})
}

func BenchmarkFeed(b *testing.B) {
	for _, i := range []int{1, 6} {
		tc := fixtures[i]
		b.Run(strings.ReplaceAll(tc.name, " ", "_"), func(b *testing.B) {
			data := unhex(b, tc.hex)
			d := New(protocols.FlowInfo{Client: netip.AddrPortFrom(netip.MustParseAddr(tc.src), 137)})
			var n int
			emit := func(o protocols.Observation) { n += len(o.Facts) }
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if err := d.Feed(protocols.FromClient, data, time.Time{}, emit); err != nil {
					b.Fatal(err)
				}
			}
			if n == 0 {
				b.Fatal("nothing emitted")
			}
		})
	}
}

func TestDependencies(t *testing.T) { corpustest.CheckDeps(t) }
