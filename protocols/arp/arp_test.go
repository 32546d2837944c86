package arp

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

// decode feeds data to a fresh decoder and returns what it emitted.
func decode(data []byte) ([]protocols.Observation, error) {
	var got []protocols.Observation
	d := Spec().New(protocols.FlowInfo{Transport: protocols.Ethernet, EtherType: EtherType})
	err := d.Feed(protocols.FromClient, data, time.Time{}, func(o protocols.Observation) { got = append(got, o) })
	return got, err
}

func mac(s string) protocols.MAC {
	var m protocols.MAC
	b, err := hex.DecodeString(strings.ReplaceAll(s, ":", ""))
	if err != nil || len(b) != 6 {
		panic("bad MAC " + s)
	}
	copy(m[:], b)
	return m
}

// fixtures are ARP packets taken from the corpus (ndpi-android.pcap frames 76
// and 77, ndpi-iphone.pcap frames 37 and 41) plus hand-made variants.
var fixtures = []struct {
	name string
	hex  string
	want protocols.Observation
}{
	{
		// htype 1, ptype 0x0800, hlen 6, plen 4, op 1 (request)
		// sender 4c:6a:f6:9f:f6:27 192.168.2.16, target 00:00:00:00:00:00 192.168.2.1
		name: "request",
		hex:  "0001 0800 06 04 0001 4c6af69ff627 c0a80210 000000000000 c0a80201",
		want: protocols.Observation{Protocol: "arp", Source: "arp.request", About: protocols.Sender,
			MAC: mac("4c:6a:f6:9f:f6:27"), IP: netip.MustParseAddr("192.168.2.16")},
	},
	{
		// op 2 (reply): sender c6:2c:03:60:6a:64 192.168.2.1, target 4c:6a:f6:9f:f6:27 192.168.2.16
		name: "reply",
		hex:  "0001 0800 06 04 0002 c62c03606a64 c0a80201 4c6af69ff627 c0a80210",
		want: protocols.Observation{Protocol: "arp", Source: "arp.reply", About: protocols.Sender,
			MAC: mac("c6:2c:03:60:6a:64"), IP: netip.MustParseAddr("192.168.2.1")},
	},
	{
		// op 1, probe (RFC 5227): sender c4:61:8b:35:82:a9 0.0.0.0, target 192.168.2.17
		name: "probe",
		hex:  "0001 0800 06 04 0001 c4618b3582a9 00000000 000000000000 c0a80211",
		want: protocols.Observation{Protocol: "arp", Source: "arp.request", About: protocols.Sender,
			MAC:   mac("c4:61:8b:35:82:a9"),
			Facts: []protocols.Fact{{Name: "arp.probe_target", Value: "192.168.2.17"}}},
	},
	{
		// op 1, announcement: sender c4:61:8b:35:82:a9 192.168.2.17, target 192.168.2.17
		name: "gratuitous request",
		hex:  "0001 0800 06 04 0001 c4618b3582a9 c0a80211 000000000000 c0a80211",
		want: protocols.Observation{Protocol: "arp", Source: "arp.request", About: protocols.Sender,
			MAC: mac("c4:61:8b:35:82:a9"), IP: netip.MustParseAddr("192.168.2.17"),
			Facts: []protocols.Fact{{Name: "arp.gratuitous", Value: "true"}}},
	},
	{
		// op 2, gratuitous reply to broadcast: sender 00:1b:63:98:bf:36 10.10.10.49,
		// target ff:ff:ff:ff:ff:ff 10.10.10.49, then 18 bytes of Ethernet padding
		name: "gratuitous reply with padding",
		hex: "0001 0800 06 04 0002 001b6398bf36 0a0a0a31 ffffffffffff 0a0a0a31" +
			"000000000000000000000000000000000000",
		want: protocols.Observation{Protocol: "arp", Source: "arp.reply", About: protocols.Sender,
			MAC: mac("00:1b:63:98:bf:36"), IP: netip.MustParseAddr("10.10.10.49"),
			Facts: []protocols.Fact{{Name: "arp.gratuitous", Value: "true"}}},
	},
}

func TestFeedFixtures(t *testing.T) {
	for i, tc := range fixtures {
		data := unhex(t, tc.hex)
		if !Detect(protocols.FromClient, data) {
			t.Errorf("Test %d (%s): Detect = false, want true", i, tc.name)
		}
		got, err := decode(data)
		if err != nil {
			t.Errorf("Test %d (%s): unexpected error %v", i, tc.name, err)
			continue
		}
		if len(got) != 1 || !reflect.DeepEqual(got[0], tc.want) {
			t.Errorf("Test %d (%s): expected %+v, got %+v", i, tc.name, tc.want, got)
		}
	}
}

// negatives are not Ethernet/IPv4 ARP requests or replies: each must give an
// error wrapping the named sentinel and no observation.
var negatives = []struct {
	name string
	hex  string
	want error
	// detect is what Detect says: the header of some invalid packets is fine.
	detect bool
}{
	{"empty", "", protocols.ErrMalformed, false},
	{"short header", "0001 0800 06", protocols.ErrMalformed, false},
	{"truncated addresses", "0001 0800 06 04 0001 4c6af69ff627 c0a80210", protocols.ErrMalformed, false},
	// IPv6 over ARP does not exist, but the header says ptype 0x86dd, plen 16.
	{"ptype IPv6", "0001 86dd 06 10 0001 4c6af69ff627" + strings.Repeat("00", 38), protocols.ErrUnsupported, false},
	// htype 6 (IEEE 802 networks).
	{"htype 6", "0006 0800 06 04 0001 4c6af69ff627 c0a80210 000000000000 c0a80201", protocols.ErrUnsupported, false},
	// op 3 is a RARP request.
	{"rarp request", "0001 0800 06 04 0003 4c6af69ff627 00000000 4c6af69ff627 00000000", protocols.ErrUnsupported, false},
	{"zero sender MAC", "0001 0800 06 04 0001 000000000000 c0a80210 000000000000 c0a80201", protocols.ErrMalformed, true},
	{"broadcast sender MAC", "0001 0800 06 04 0002 ffffffffffff c0a80210 000000000000 c0a80201", protocols.ErrMalformed, true},
	// An IPv4 header (EtherType 0x0800 payload) handed to the ARP decoder.
	{"ipv4 packet", "4500 0054 1c46 4000 4001 0000 c0a80210 c0a80201 0800 f7ff 0000 0000" + strings.Repeat("00", 56), protocols.ErrUnsupported, false},
	// An LLDP PDU (EtherType 0x88cc payload): chassis id TLV, port id TLV.
	{"lldp pdu", "0207 04 0019b9011c3a 0403 07 3533 0602 0078 0000", protocols.ErrUnsupported, false},
}

func TestFeedNegative(t *testing.T) {
	for i, tc := range negatives {
		data := unhex(t, tc.hex)
		if d := Detect(protocols.FromClient, data); d != tc.detect {
			t.Errorf("Test %d (%s): expected Detect = %v, got %v", i, tc.name, tc.detect, d)
		}
		got, err := decode(data)
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
	if s.Name != "arp" || s.Transport != protocols.Ethernet || !reflect.DeepEqual(s.EtherTypes, []uint16{0x0806}) {
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
		for _, fr := range corpustest.Ethernet(f, path, EtherType) {
			out = append(out, fr.Payload)
		}
		return out
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		Detect(protocols.FromClient, data)
		got, err := decode(data)
		if err != nil {
			if len(got) != 0 {
				t.Fatalf("error %v with observations %+v", err, got)
			}
			if protocols.Reason(err) == "other" {
				t.Fatalf("error %v wraps no sentinel", err)
			}
			return
		}
		if len(got) != 1 {
			t.Fatalf("expected one observation, got %d", len(got))
		}
		o := got[0]
		if o.MAC.IsZero() || o.MAC.IsMulticast() {
			t.Fatalf("observation with non-unicast MAC %s", o.MAC)
		}
		if o.IP.IsValid() && o.IP.IsUnspecified() {
			t.Fatalf("observation with IP 0.0.0.0")
		}
	})
}

func BenchmarkFeed(b *testing.B) {
	data := unhex(b, fixtures[0].hex)
	d := New(protocols.FlowInfo{})
	var n int
	emit := func(o protocols.Observation) { n += len(o.Facts) + 1 }
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
}

func TestDependencies(t *testing.T) { corpustest.CheckDeps(t) }
