package lldp

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

func facts(kv ...string) []protocols.Fact {
	var out []protocols.Fact
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, protocols.Fact{Name: kv[i], Value: kv[i+1]})
	}
	return out
}

// fixtures are LLDPDUs (Ethernet payload after the EtherType) from the corpus
// (zeek-lldp.pcap frame 1, tcpdump-lldp_mudurl.pcap frame 1) plus hand-made
// ones for the TLVs the corpus lacks.
var fixtures = []struct {
	name string
	hex  string
	want protocols.Observation
}{
	{
		name: "zeek smc switch",
		hex: "0207 04 00222d81db10" + // chassis id, MAC 00:22:2d:81:db:10
			"0402 07 31" + // port id, locally assigned "1"
			"0602 0078" + // TTL 120
			"0807 506f7274202331" + // port description "Port #1"
			"0a0d 534d43475338502d536d617274" + // system name "SMCGS8P-Smart"
			"0c23 534d43475338502d536d617274202d20534d43475338502d536d6172742076332e3230" + // system description
			"0e04 0004 0004" + // capabilities bridge / bridge
			"100c 05 01 c0a8020a 02 00000001 00" + // management address IPv4 192.168.2.10, ifIndex 1
			"0000" + // end
			"bb14272c", // FCS left in the capture
		want: protocols.Observation{Protocol: "lldp", Source: "lldp.lldpdu", About: protocols.Sender,
			MAC: mac("00:22:2d:81:db:10"), IP: netip.MustParseAddr("192.168.2.10"), Hostname: "SMCGS8P-Smart",
			Facts: facts(
				FactChassisID, "00:22:2d:81:db:10", FactChassisIDSubtype, "mac",
				FactPortID, "1", FactPortIDSubtype, "locally_assigned",
				FactTTL, "120", FactPortDescription, "Port #1", FactSystemName, "SMCGS8P-Smart",
				FactSystemDescription, "SMCGS8P-Smart - SMCGS8P-Smart v3.20",
				FactCapabilities, "bridge", FactEnabled, "bridge",
				FactManagementAddress, "192.168.2.10")},
	},
	{
		name: "mud url",
		hex: "0207 04 002354c25702" + // chassis id MAC
			"0407 03 002354c25702" + // port id MAC
			"0602 0078" +
			"0a1c 75707374616972732e6f66636f75727365696d72696768742e636f6d" + // upstairs.ofcourseimright.com
			"0c5c 5562756e74752031342e30342e35204c5453204c696e757820332e31332e302d3130362d67656e6572696320233135332d5562756e747520534d50205475652044656320362031353a34353a313320555443203230313620693638360" +
			"e04 009c 0008" + // capabilities bridge,wlan-ap,router,station / wlan-ap
			"100c 05 01 3e0cad72 02 00000002 00" + // 62.12.173.114
			"1018 11 02 200108a810060004022354fffec25702 02 00000002 00" + // 2001:8a8:1006:4:223:54ff:fec2:5702
			"0804 65746830" + // port description eth0
			"fe09 00120f 03 0100000000" + // 802.3 link aggregation (ignored)
			"fe09 00120f 01 03 ecc3 0010" + // 802.3 MAC/PHY, MAU type 16
			"fe40 00005e 01 68747470733a2f2f696d72696768742e6d75642e6578616d706c652e636f6d2f2e77656c6c2d6b6e6f776e2f6d75642f76312f766f6d697476322e30" +
			"0000",
		want: protocols.Observation{Protocol: "lldp", Source: "lldp.lldpdu", About: protocols.Sender,
			MAC: mac("00:23:54:c2:57:02"), IP: netip.MustParseAddr("62.12.173.114"), Hostname: "upstairs.ofcourseimright.com",
			Facts: facts(
				FactChassisID, "00:23:54:c2:57:02", FactChassisIDSubtype, "mac",
				FactPortID, "00:23:54:c2:57:02", FactPortIDSubtype, "mac",
				FactTTL, "120", FactSystemName, "upstairs.ofcourseimright.com",
				FactSystemDescription, "Ubuntu 14.04.5 LTS Linux 3.13.0-106-generic #153-Ubuntu SMP Tue Dec 6 15:45:13 UTC 2016 i686",
				FactCapabilities, "bridge,wlan-ap,router,station", FactEnabled, "wlan-ap",
				FactManagementAddress, "62.12.173.114", FactManagementAddress, "2001:8a8:1006:4:223:54ff:fec2:5702",
				FactPortDescription, "eth0", FactMAUType, "16",
				FactMUDURL, "https://imright.mud.example.com/.well-known/mud/v1/vomitv2.0")},
	},
	{
		// Hand-made: a network-address chassis id, an interface-name port id, a
		// system name that is no host name, LLDP-MED inventory and an 802.1
		// VLAN name, then Ethernet padding.
		name: "med inventory",
		hex: "0206 05 01 0a000007" + // chassis id, network address IPv4 10.0.0.7
			"0405 05 65746830" + // port id, interface name eth0
			"0602 0078" +
			"0a0f 496e667573696f6e2050756d702037" + // system name "Infusion Pump 7"
			"fe07 0012bb 01 0033 03" + // MED capabilities, endpoint class III
			"fe07 0012bb 05 312e32" + // hardware revision 1.2
			"fe08 0012bb 08 534e3432" + // serial SN42
			"fe08 0012bb 09 41636d65" + // manufacturer Acme
			"fe07 0012bb 0a 502d37" + // model P-7
			"fe0b 0080c2 03 000a 04 64617461" + // VLAN 10 name "data"
			"fe06 0080c2 01 000a" + // port VLAN id 10
			"0000 000000000000",
		want: protocols.Observation{Protocol: "lldp", Source: "lldp.lldpdu", About: protocols.Sender,
			Facts: facts(
				FactChassisID, "10.0.0.7", FactChassisIDSubtype, "network_address",
				FactPortID, "eth0", FactPortIDSubtype, "interface_name",
				FactTTL, "120", FactSystemName, "Infusion Pump 7",
				FactMEDDeviceType, "endpoint-class-3", FactMEDHardware, "1.2", FactMEDSerial, "SN42",
				FactMEDManufacturer, "Acme", FactMEDModel, "P-7", FactVLANName, "10 data", FactPortVLAN, "10")},
	},
	{
		// Hand-made shutdown LLDPDU (TTL 0), no End TLV, a binary
		// locally-assigned chassis id.
		name: "shutdown",
		hex:  "0204 07 00ff01 0402 07 31 0602 0000",
		want: protocols.Observation{Protocol: "lldp", Source: "lldp.shutdown", About: protocols.Sender,
			Facts: facts(FactChassisID, "00ff01", FactChassisIDSubtype, "locally_assigned",
				FactPortID, "1", FactPortIDSubtype, "locally_assigned", FactTTL, "0")},
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

// negatives are not valid LLDPDUs: each must give an error wrapping the named
// sentinel and no observation.
var negatives = []struct {
	name   string
	hex    string
	want   error
	detect bool
}{
	{"empty", "", protocols.ErrMalformed, false},
	{"one byte", "02", protocols.ErrMalformed, false},
	// An ARP request (EtherType 0x0806 payload).
	{"arp request", "0001 0800 06 04 0001 4c6af69ff627 c0a80210 000000000000 c0a80201", protocols.ErrUnsupported, false},
	// A CDP/LLC frame handed over by mistake.
	{"llc snap", "aaaa03 00000c 2000 02b4", protocols.ErrUnsupported, false},
	{"chassis overruns", "0220 04 00222d81db10", protocols.ErrMalformed, false},
	{"no port id", "0207 04 00222d81db10 0602 0078 0000", protocols.ErrMalformed, true},
	{"short chassis", "0201 04 0402 07 31 0602 0078", protocols.ErrMalformed, false},
	{"bad capabilities", "0207 04 00222d81db10 0402 07 31 0602 0078 0e02 0004 0000", protocols.ErrMalformed, true},
	{"management address overrun", "0207 04 00222d81db10 0402 07 31 0602 0078 1006 05 01 c0a8020a 0000", protocols.ErrMalformed, true},
	{"management oid overrun", "0207 04 00222d81db10 0402 07 31 0602 0078 100c 05 01 c0a8020a 02 00000001 09 0000", protocols.ErrMalformed, true},
	{"too long", "0207 04 00222d81db10" + strings.Repeat("00", MaxPDULen), protocols.ErrTooLong, true},
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

func TestText(t *testing.T) {
	tests := []struct {
		in        string
		multiline bool
		want      string
	}{
		{"plain", false, "plain"},
		{"a\nb\x00", true, "a\nb"},
		{"a\nb", false, "a\uFFFDb"},
		{"\xff\x01x", false, "\uFFFD\uFFFDx"},
	}
	for i, tc := range tests {
		if got := protocols.Text([]byte(tc.in), 255, tc.multiline); got != tc.want {
			t.Errorf("Test %d: expected %q, got %q", i, tc.want, got)
		}
	}
	if got := capNames(0x0800 | 1); got != "other,bit11" {
		t.Errorf("expected other,bit11, got %q", got)
	}
}

func TestSpec(t *testing.T) {
	s := Spec()
	if s.Name != "lldp" || s.Transport != protocols.Ethernet || !reflect.DeepEqual(s.EtherTypes, []uint16{0x88cc}) {
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
		if o.MAC.IsMulticast() {
			t.Fatalf("observation with multicast MAC %s", o.MAC)
		}
		if len(o.Facts) == 0 || len(o.Facts) > maxFacts {
			t.Fatalf("%d facts", len(o.Facts))
		}
		for _, fa := range o.Facts {
			if len(fa.Value) > 4*511 || fa.Value == "" {
				t.Fatalf("fact %s has a %d-byte value", fa.Name, len(fa.Value))
			}
		}
	})
}

// BenchmarkFeed measures the steady state: a neighbour repeating its PDU.
func BenchmarkFeed(b *testing.B) {
	benchFeed(b, false)
}

// BenchmarkFeedChanged decodes the PDU in full every time.
func BenchmarkFeedChanged(b *testing.B) {
	benchFeed(b, true)
}

func benchFeed(b *testing.B, reset bool) {
	data := unhex(b, fixtures[0].hex)
	d := &Decoder{}
	var n int
	emit := func(o protocols.Observation) { n += len(o.Facts) + 1 }
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if reset {
			d.seen = false
		}
		if err := d.Feed(protocols.FromClient, data, time.Time{}, emit); err != nil {
			b.Fatal(err)
		}
	}
	if n == 0 {
		b.Fatal("nothing emitted")
	}
}

// TestRepeat checks that a repeated PDU is emitted once and a changed one
// again.
func TestRepeat(t *testing.T) {
	d := New(protocols.FlowInfo{})
	var n int
	emit := func(protocols.Observation) { n++ }
	for _, i := range []int{0, 0, 1, 1, 0} {
		if err := d.Feed(protocols.FromClient, unhex(t, fixtures[i].hex), time.Time{}, emit); err != nil {
			t.Fatal(err)
		}
	}
	if n != 3 {
		t.Errorf("expected 3 observations, got %d", n)
	}
}

func TestDependencies(t *testing.T) { corpustest.CheckDeps(t) }
