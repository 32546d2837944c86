package snmp

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

var (
	agent   = netip.MustParseAddrPort("192.168.1.10:161")
	manager = netip.MustParseAddrPort("192.168.1.2:40000")
	trapRx  = netip.MustParseAddrPort("192.168.1.2:162")
)

// decode feeds one datagram sent in dir on a flow to port 161 (to port 162
// when trap) and returns what the decoder emitted.
func decode(data []byte, dir protocols.Direction, trap bool) ([]protocols.Observation, error) {
	fi := protocols.FlowInfo{Transport: protocols.UDP, Client: manager, Server: agent}
	if trap {
		fi.Client, fi.Server = agent, trapRx
	}
	var got []protocols.Observation
	d := Spec().New(fi)
	err := d.Feed(dir, data, time.Time{}, func(o protocols.Observation) { got = append(got, o) })
	return got, err
}

func facts(kv ...string) []protocols.Fact {
	var out []protocols.Fact
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, protocols.Fact{Name: kv[i], Value: kv[i+1]})
	}
	return out
}

// fixtures are SNMP messages from the corpus (snmp/zeek-*.pcap) plus
// hand-made ones. The community strings in them ("public") must not appear
// in any observation.
var fixtures = []struct {
	name string
	hex  string
	dir  protocols.Direction
	trap bool
	want []protocols.Observation
}{
	{
		// zeek-snmpwalk-short.pcap frame 2: v2c get-response, sysDescr.
		name: "v2c sysDescr",
		hex: "308190 020101 04067075626c6963 a28182 020409584e45 020100 020100" +
			"3074 3072 06082b06010201010100 0466" +
			"4c696e7578207562756e74752d3531326d622d73666f322d303120342e342e302d33312d67656e65726963202335307e31342e30342e312d5562756e747520534d5020576564204a756c2031332030313a30373a3332205554432032303136207838365f3634",
		dir: protocols.FromServer,
		want: []protocols.Observation{{Protocol: "snmp", Source: "snmp.response", About: protocols.Sender, Role: "server",
			Facts: facts(FactVersion, "2c",
				FactSysDescr, "Linux ubuntu-512mb-sfo2-01 4.4.0-31-generic #50~14.04.1-Ubuntu SMP Wed Jul 13 01:07:32 UTC 2016 x86_64")}},
	},
	{
		// zeek-snmpv1_get.pcap frame 2: v1 get-response, sysObjectID.
		name: "v1 sysObjectID",
		hex:  "3038 020100 04067075626c6963 a22b 020126 020100 020100 3020 301e 06082b06010201010200 06122b060104018f5101010182295d011b020201",
		dir:  protocols.FromServer,
		want: []protocols.Observation{{Protocol: "snmp", Source: "snmp.response", About: protocols.Sender, Role: "server",
			Facts: facts(FactVersion, "1", FactSysObjectID, "1.3.6.1.4.1.2001.1.1.1.297.93.1.27.2.2.1")}},
	},
	{
		// Hand-made v2c response: sysName, sysContact, sysLocation, long-form lengths.
		name: "v2c sysName",
		hex: "3081 47 020101 0406707562326331 a23a 020107 020100 020100" +
			"302f 3011 06082b06010201010500 0405 7076322d33" + // sysName pv2-3
			"300c 06082b06010201010400 0400" + // empty sysContact
			"300c 06082b06010201010600 8100", // sysLocation noSuchInstance
		dir: protocols.FromServer,
		want: []protocols.Observation{{Protocol: "snmp", Source: "snmp.response", About: protocols.Sender, Role: "server",
			Hostname: "pv2-3", Facts: facts(FactVersion, "2c", FactSysName, "pv2-3")}},
	},
	{
		// zeek-snmpv1_trap.pcap frame 1: v1 trap, enterprise 1.3.6.1.4.1.31337.0.
		name: "v1 trap",
		hex:  "303b 020100 04067075626c6963 a42e 06092b0601040181f46900 40047f000001 020100 020100 430400000000 300f 300d 06082b06010201020100 020121",
		dir:  protocols.FromClient, trap: true,
		want: []protocols.Observation{{Protocol: "snmp", Source: "snmp.trap", About: protocols.Sender,
			Facts: facts(FactVersion, "1", FactTrapEnterprise, "1.3.6.1.4.1.31337.0")}},
	},
	{
		// A v2c get-next-request for sysName: the manager is a client.
		name: "v2c request",
		hex:  "3026 020101 04067075626c6963 a119 020101 020100 020100 300e 300c 06082b06010201010500 0500",
		dir:  protocols.FromClient,
		want: []protocols.Observation{{Protocol: "snmp", Source: "snmp.get-next-request", About: protocols.Sender,
			Role: "client", Facts: facts(FactVersion, "2c")}},
	},
	{
		// zeek-snmpv3_get_next.pcap frame 1: engine id discovery, nothing learned.
		name: "v3 discovery",
		hex:  "303d02010330100204207b2f72020240000401040201030410300e040002012a02012a040004000400301404000400a00e0204207b2f720201000201003000",
		dir:  protocols.FromClient,
	},
	{
		// zeek-snmpv3_get_next.pcap frame 2: report with the agent's engine id.
		name: "v3 report",
		hex:  "306a02010330100204207b2f7202024000040100020103041d301b040d80001f8880a9498e5e3a2c30430201dd0201dd0400040004003034040d80001f8880a9498e5e3a2c30430400a8210204207b2f720201000201003013301106092b060106030f010100410400000003",
		dir:  protocols.FromServer,
		want: []protocols.Observation{{Protocol: "snmp", Source: "snmp.report", About: protocols.Sender, Role: "server",
			Facts: facts(FactVersion, "3", FactEngineID, "80001f8880a9498e5e3a2c3043", FactEngineEnterprise, "8072")}},
	},
	{
		// zeek-snmpv3_get_next.pcap frame 3: a request naming the agent's
		// engine id (and user name "username", never emitted).
		name: "v3 request",
		hex:  "307902010330100204207b2f72020240000401040201030431302f040d80001f8880a9498e5e3a2c30430201dd0201dd0408757365726e616d65040c0000000000000000000000000400302f040d80001f8880a9498e5e3a2c30430400a11c0204207b2f72020100020100300e300c06082b060102010106000500",
		dir:  protocols.FromClient,
		want: []protocols.Observation{{Protocol: "snmp", Source: "snmp.get-next-request", About: protocols.Receiver,
			Facts: facts(FactVersion, "3", FactEngineID, "80001f8880a9498e5e3a2c3043", FactEngineEnterprise, "8072")}},
	},
	{
		// Hand-made v3 with an encrypted PDU sent by the agent, an RFC 1910
		// 12-octet engine id (enterprise 9, Cisco).
		name: "v3 encrypted",
		hex:  "3036 020103 3010 0204207b2f72 02024000 040103 020103 0416 3014 040c 000000090200000c0a0b0c0d 020101 020101 0400 0400 0400 0406 deadbeef0102",
		dir:  protocols.FromServer,
		want: []protocols.Observation{{Protocol: "snmp", Source: "snmp.encrypted", About: protocols.Sender,
			Facts: facts(FactVersion, "3", FactEngineID, "000000090200000c0a0b0c0d", FactEngineEnterprise, "9")}},
	},
}

func TestFeedFixtures(t *testing.T) {
	for i, tc := range fixtures {
		data := unhex(t, tc.hex)
		if !Detect(tc.dir, data) {
			t.Errorf("Test %d (%s): Detect = false, want true", i, tc.name)
		}
		got, err := decode(data, tc.dir, tc.trap)
		if err != nil {
			t.Errorf("Test %d (%s): unexpected error %v", i, tc.name, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Test %d (%s): expected %+v, got %+v", i, tc.name, tc.want, got)
		}
		for _, o := range got {
			for _, f := range o.Facts {
				if strings.Contains(f.Value, "public") || strings.Contains(f.Value, "username") {
					t.Errorf("Test %d (%s): fact %s leaks a community or user name: %q", i, tc.name, f.Name, f.Value)
				}
			}
		}
	}
}

// negatives are not SNMP messages the decoder reads: each must give an
// error wrapping the named sentinel and no observation.
var negatives = []struct {
	name   string
	hex    string
	want   error
	detect bool
}{
	{"empty", "", protocols.ErrMalformed, false},
	// A DNS query on port 161.
	{"dns query", "1234 0100 0001 0000 0000 0000 076578616d706c6503636f6d00 0001 0001", protocols.ErrUnsupported, false},
	{"version 2", "3009 020102 0400 a0020000", protocols.ErrUnsupported, false},
	{"truncated", "3029 020101 04067075626c6963 a11c 0201", protocols.ErrMalformed, false},
	{"indefinite length", "3080 020101 0400 a000 0000", protocols.ErrMalformed, false},
	{"five length octets", "3085 0000000010 020101", protocols.ErrTooLong, false},
	{"community not a string", "300b 020101 0201 00 a2040201000000", protocols.ErrMalformed, true},
	{"unknown pdu", "300a 020101 0400 a903 020101", protocols.ErrUnsupported, true},
	{"varbind overrun", "3019 020101 0400 a212 020101 020100 020100 3007 3009 06012b 0400", protocols.ErrMalformed, true},
	{"oid too big", "3025 020101 0400 a21e 020101 020100 020100 3013 3011 06082b06010201010200 0605 9fffffff7f", protocols.ErrMalformed, true},
	{"oid truncated", "3022 020101 0400 a21b 020101 020100 020100 3010 300e 06082b06010201010200 0602 2b86", protocols.ErrMalformed, true},
	{"engine id too long", "303c 020103 3010 0204207b2f72 02024000 040103 020103 0425 3023 0421" + strings.Repeat("80", 33), protocols.ErrTooLong, true},
}

func TestFeedNegative(t *testing.T) {
	for i, tc := range negatives {
		data := unhex(t, tc.hex)
		if d := Detect(protocols.FromClient, data); d != tc.detect {
			t.Errorf("Test %d (%s): expected Detect = %v, got %v", i, tc.name, tc.detect, d)
		}
		got, err := decode(data, protocols.FromServer, false)
		if !errors.Is(err, tc.want) {
			t.Errorf("Test %d (%s): expected error wrapping %v, got %v", i, tc.name, tc.want, err)
		}
		if len(got) != 0 {
			t.Errorf("Test %d (%s): expected no observation, got %+v", i, tc.name, got)
		}
	}
}

func TestOIDString(t *testing.T) {
	tests := []struct{ hex, want string }{
		{"2b06010201010200", "1.3.6.1.2.1.1.2.0"},
		{"8837", "2.999"},
		{"00", "0.0"},
		{"2b8fffffff7f", "1.3.4294967295"},
	}
	for i, tc := range tests {
		got, err := oidString(unhex(t, tc.hex))
		if err != nil || got != tc.want {
			t.Errorf("Test %d: expected %s, got %s (%v)", i, tc.want, got, err)
		}
	}
}

func TestSpec(t *testing.T) {
	s := Spec()
	if s.Name != "snmp" || s.Transport != protocols.UDP || !reflect.DeepEqual(s.Ports, []uint16{161, 162}) {
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
		for _, d := range corpustest.UDP(f, path, AgentPort, TrapPort) {
			out = append(out, d.Payload)
		}
		return out
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		Detect(protocols.FromClient, data)
		for _, dir := range []protocols.Direction{protocols.FromClient, protocols.FromServer} {
			got, err := decode(data, dir, false)
			if err != nil {
				if len(got) != 0 {
					t.Fatalf("error %v with observations %+v", err, got)
				}
				if protocols.Reason(err) == "other" {
					t.Fatalf("error %v wraps no sentinel", err)
				}
				continue
			}
			if len(got) > 1 {
				t.Fatalf("%d observations from one datagram", len(got))
			}
			for _, o := range got {
				if len(o.Facts) == 0 || len(o.Facts) > maxVarbinds+4 {
					t.Fatalf("%d facts", len(o.Facts))
				}
				for _, fa := range o.Facts {
					if fa.Value == "" || len(fa.Value) > 4*maxString+64*11 {
						t.Fatalf("fact %s has a %d-byte value", fa.Name, len(fa.Value))
					}
				}
			}
		}
	})
}

func BenchmarkFeed(b *testing.B) {
	data := unhex(b, fixtures[0].hex)
	d := New(protocols.FlowInfo{Server: agent})
	var n int
	emit := func(o protocols.Observation) { n += len(o.Facts) + 1 }
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if err := d.Feed(protocols.FromServer, data, time.Time{}, emit); err != nil {
			b.Fatal(err)
		}
	}
	if n == 0 {
		b.Fatal("nothing emitted")
	}
}

func TestDependencies(t *testing.T) { corpustest.CheckDeps(t) }
