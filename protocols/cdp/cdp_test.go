package cdp

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

func facts(kv ...string) []protocols.Fact {
	var out []protocols.Fact
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, protocols.Fact{Name: kv[i], Value: kv[i+1]})
	}
	return out
}

const r1Software = "Cisco Internetwork Operating System Software \n" +
	"IOS (tm) 1600 Software (C1600-NY-L), Version 11.2(12)P, RELEASE SOFTWARE (fc1)\n" +
	"Copyright (c) 1986-1998 by cisco Systems, Inc.\n" +
	"Compiled Tue 03-Mar-98 06:33 by dschwart"

const switchSoftware = "Cisco IOS Software, C3560 Software (C3560-ADVIPSERVICESK9-M), Version 12.2(25)SEB4, RELEASE SOFTWARE (fc1)\n" +
	"Copyright (c) 1986-2005 by Cisco Systems, Inc.\n" +
	"Compiled Tue 30-Aug-05 17:56 by yenanh"

// fixtures are CDP frames from the LLC header on: from the corpus
// (zeek-cdp-v1.pcap frame 1, tcpdump-3560_CDP.pcap frame 1) and hand-made.
var fixtures = []struct {
	name string
	hex  string
	want protocols.Observation
}{
	{
		name: "cdp v1 router",
		hex: "aaaa03 00000c 2000" + // LLC/SNAP
			"01 b4 dff0" + // version 1, TTL 180, checksum
			"0001 0006 5231" + // device id R1
			"0002 0011 00000001 01 01 cc 0004 c0a80a01" + // addresses: 1, NLPID IP 192.168.10.1
			"0003 000d 45746865726e657430" + // port id Ethernet0
			"0004 0008 00000001" + // capabilities router
			"0005 00d8 436973636f20496e7465726e6574776f726b204f7065726174696e672053797374656d20536f667477617265200a494f532028746d29203136303020536f667477617265202843313630302d4e592d4c292c2056657273696f6e2031312e3228313229502c2052454c4541534520534f4654574152452028666331290a436f707972696768742028632920313938362d3139393820627920636973636f2053797374656d732c20496e632e0a436f6d70696c6564205475652030332d4d61722d39382030363a33332062792064736368776172740" +
			"006 000e 636973636f2031363031", // platform cisco 1601
		want: protocols.Observation{Protocol: "cdp", Source: "cdp.advertisement", About: protocols.Sender,
			IP: netip.MustParseAddr("192.168.10.1"), Hostname: "R1",
			Facts: facts(FactVersion, "1", FactDeviceID, "R1", FactAddress, "192.168.10.1", FactPortID, "Ethernet0",
				FactCapabilities, "router", FactSoftwareVersion, "Cisco Internetwork Operating System Software",
				FactSoftwareVersionFull, r1Software, FactPlatform, "cisco 1601")},
	},
	{
		name: "cdp v2 switch",
		hex: "aaaa0300000c2000 02b4b0bd" +
			"0001000a537769746368" + // device id Switch
			"000500c4436973636f20494f5320536f6674776172652c20433335363020536f667477617265202843333536302d414456495053455256494345534b392d4d292c2056657273696f6e2031322e3228323529534542342c2052454c4541534520534f4654574152452028666331290a436f707972696768742028632920313938362d3230303520627920436973636f2053797374656d732c20496e632e0a436f6d70696c6564205475652033302d4175672d30352031373a35362062792079656e616e68" +
			"00060018636973636f2057532d4333353630472d32345053" + // platform
			"00020011000000010101cc0004c0a80001" + // addresses 192.168.0.1
			"000300164769676162697445746865726e6574302f35" + // port GigabitEthernet0/5
			"0004000800000028" + // capabilities switch, igmp
			"0008002400000c011200000000ffffffff010221ff000000000000001906eab880ff0000" + // protocol hello
			"000900074c6162" + // VTP domain Lab
			"000a00060001" + // native VLAN 1
			"000b000501" + // duplex full
			"00120005000013000500" + // trust bitmap, untrusted port CoS
			"00160011000000010101cc0004c0a80001" + // management addresses 192.168.0.1
			"001a00100000000100000000ffffffff", // power available
		want: protocols.Observation{Protocol: "cdp", Source: "cdp.advertisement", About: protocols.Sender,
			IP: netip.MustParseAddr("192.168.0.1"), Hostname: "Switch",
			Facts: facts(FactVersion, "2", FactDeviceID, "Switch",
				FactSoftwareVersion, "Cisco IOS Software, C3560 Software (C3560-ADVIPSERVICESK9-M), Version 12.2(25)SEB4, RELEASE SOFTWARE (fc1)",
				FactSoftwareVersionFull, switchSoftware, FactPlatform, "cisco WS-C3560G-24PS",
				FactAddress, "192.168.0.1", FactPortID, "GigabitEthernet0/5", FactCapabilities, "switch,igmp",
				FactVTPDomain, "Lab", FactNativeVLAN, "1", FactManagementAddress, "192.168.0.1")},
	},
	{
		// Hand-made: a phone with an unspecified IPv4 and an IPv6 address,
		// a one-line software version, then padding.
		name: "phone ipv6",
		hex: "aaaa0300000c2000 02b40000" +
			"0001 0013 534550303031313232333334343535" + // device id SEP001122334455
			"0002 002d 00000002 01 01 cc 0004 00000000 02 08 aaaa0300000086dd 0010 fe800000000000000211 22fffe334455" +
			"0004 0008 00000090" + // host, phone
			"0005 0011 534950373934302e382d302d33" + // SIP7940.8-0-3
			"0000 0000",
		want: protocols.Observation{Protocol: "cdp", Source: "cdp.advertisement", About: protocols.Sender,
			Hostname: "SEP001122334455",
			Facts: facts(FactVersion, "2", FactDeviceID, "SEP001122334455", FactAddress, "fe80::211:22ff:fe33:4455",
				FactCapabilities, "host,phone", FactSoftwareVersion, "SIP7940.8-0-3")},
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

// negatives are not CDP advertisements: each must give an error wrapping
// the named sentinel and no observation.
var negatives = []struct {
	name   string
	hex    string
	want   error
	detect bool
}{
	{"empty", "", protocols.ErrUnsupported, false},
	// An IEEE 802.1D configuration BPDU: LLC 42 42 03, STP.
	{"stp bpdu", "424203 0000 00 00 8000001122334455 00000000 8000001122334455 8001 0000 1400 0200 0f00", protocols.ErrUnsupported, false},
	// SNAP with another OUI/protocol (Cisco VTP is 00-00-0C 0x2003).
	{"vtp", "aaaa0300000c2003 01 01 00 03 4c6162", protocols.ErrUnsupported, false},
	{"version 3", "aaaa0300000c2000 03b40000 0001 0006 5231", protocols.ErrUnsupported, false},
	{"short header", "aaaa0300000c2000 02b4", protocols.ErrMalformed, false},
	{"no TLVs", "aaaa0300000c2000 02b40000", protocols.ErrMalformed, true},
	{"tlv overrun", "aaaa0300000c2000 02b40000 0001 0010 5231", protocols.ErrMalformed, true},
	{"tlv length 3", "aaaa0300000c2000 02b40000 0001 0003 52", protocols.ErrMalformed, true},
	{"bad capabilities", "aaaa0300000c2000 02b40000 0004 0006 0001", protocols.ErrMalformed, true},
	{"address overrun", "aaaa0300000c2000 02b40000 0002 0011 00000001 01 01 cc 0008 c0a80a01", protocols.ErrMalformed, true},
	{"too long", "aaaa0300000c2000 02b40000" + strings.Repeat("00", MaxPDULen), protocols.ErrTooLong, true},
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
	if s.Name != "cdp" || s.Transport != protocols.Ethernet || !reflect.DeepEqual(s.EtherTypes, []uint16{0}) {
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
		for _, fr := range corpustest.LLC(f, path) {
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
		if len(o.Facts) > maxFacts {
			t.Fatalf("%d facts", len(o.Facts))
		}
		if o.IP.IsValid() && (o.IP.IsUnspecified() || !o.IP.Is4()) {
			t.Fatalf("observation IP %s", o.IP)
		}
		for _, fa := range o.Facts {
			if len(fa.Value) > 4*MaxSoftwareVersion || fa.Value == "" {
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
	data := unhex(b, fixtures[1].hex)
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
