package dhcp

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

// msg assembles a DHCP message from hex: the first 28 header bytes (op,
// htype, hlen, hops, xid, secs, flags, ciaddr, yiaddr, siaddr, giaddr), the
// 16-byte chaddr, then 192 zero bytes of sname and file, the magic cookie
// and the options.
func msg(header, chaddr, opts string) string {
	return header + chaddr + strings.Repeat("00", 192) + "63825363" + opts
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

func ip(s string) netip.Addr { return netip.MustParseAddr(s) }

func facts(kv ...string) []protocols.Fact {
	var out []protocols.Fact
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, protocols.Fact{Name: kv[i], Value: kv[i+1]})
	}
	return out
}

// decode feeds data to a fresh decoder and returns what it emitted.
func decode(data []byte) ([]protocols.Observation, error) {
	var got []protocols.Observation
	d := Spec().New(protocols.FlowInfo{Transport: protocols.UDP})
	err := d.Feed(protocols.FromClient, data, time.Time{}, func(o protocols.Observation) { got = append(got, o) })
	return got, err
}

// fixtures are real messages from the corpus (file and frame named), and
// hand-made edge cases.
var fixtures = []struct {
	name string
	hex  string
	want []protocols.Observation
}{
	{
		// tcpdump-dhcp-mud.pcap frame 1: REQUEST, ciaddr 62.12.173.123,
		// chaddr b8:27:eb:b8:53:c8; options 53=3, 61=01:b8:27:eb:b8:53:c8,
		// 57=1472, 161="https://mudctl.example.com/.well-known/mud/v1/rasbp101",
		// 60="dhcpcd-6.11.5:Linux-4.1.18-v7+:armv7l:BCM2709", 12="raspberrypi",
		// 145=01, 55=1,121,33,3,6,12,15,28,42,51,54,58,59,100,101,119, end.
		name: "request with MUD URL",
		hex: msg("01010601068c4847000000003e0cad7b00000000000000003e0cad79", "b827ebb853c800000000000000000000",
			"3501033d0701b827ebb853c8390205c0a13668747470733a2f2f6d756463746c2e6578616d706c652e636f6d2f2e77656c6c2d6b6e6f776e2f6d75642f76312f72617362703130313c2d6468637063642d362e31312e353a4c696e75782d342e312e31382d76372b3a61726d76376c3a42434d323730390c0b7261737062657272797069910101371001792103060c0f1c2a33363a3b646577ff"),
		want: []protocols.Observation{{
			Protocol: "dhcp", Source: "dhcp.request", About: protocols.Sender, Role: "client",
			MAC: mac("b8:27:eb:b8:53:c8"), IP: ip("62.12.173.123"), Hostname: "raspberrypi",
			Facts: facts(
				FactMessageType, "request",
				FactClientID, "01:b8:27:eb:b8:53:c8",
				FactMaxMessageSize, "1472",
				FactMUDURL, "https://mudctl.example.com/.well-known/mud/v1/rasbp101",
				FactVendorClass, "dhcpcd-6.11.5:Linux-4.1.18-v7+:armv7l:BCM2709",
				FactHostname, "raspberrypi",
				FactParamList, "1,121,33,3,6,12,15,28,42,51,54,58,59,100,101,119"),
		}},
	},
	{
		// ndpi-iphone.pcap frame 35: REQUEST, ciaddr 0, chaddr c4:61:8b:35:82:a9;
		// 53=3, 55=1,121,3,6,15,119,252, 57=1500, 61=01:c4:61:8b:35:82:a9,
		// 50=192.168.2.17, 54=192.168.2.1, 12="Lucas-iPhone", end, 8 pad bytes.
		name: "iphone request",
		hex: msg("01010600b796bad10001000000000000000000000000000000000000", "c4618b3582a900000000000000000000",
			"3501033707017903060f77fc390205dc3d0701c4618b3582a93204c0a802113604c0a802010c0c4c756361732d6950686f6e65ff"+strings.Repeat("00", 8)),
		want: []protocols.Observation{{
			Protocol: "dhcp", Source: "dhcp.request", About: protocols.Sender, Role: "client",
			MAC: mac("c4:61:8b:35:82:a9"), Hostname: "Lucas-iPhone",
			Facts: facts(
				FactMessageType, "request",
				FactParamList, "1,121,3,6,15,119,252",
				FactMaxMessageSize, "1500",
				FactClientID, "01:c4:61:8b:35:82:a9",
				FactRequestedIP, "192.168.2.17",
				FactHostname, "Lucas-iPhone"),
		}},
	},
	{
		// ndpi-android.pcap frame 67: DISCOVER, chaddr 4c:6a:f6:9f:f6:27;
		// 53=1, 61=01:4c:6a:f6:9f:f6:27, 57=1500, 60="android-dhcp-9",
		// 55=1,3,6,15,26,28,51,58,59,43, end, 1 pad byte.
		name: "android discover",
		hex: msg("01010600ef7ed25a0000000000000000000000000000000000000000", "4c6af69ff62700000000000000000000",
			"3501013d07014c6af69ff627390205dc3c0e616e64726f69642d646863702d39370a0103060f1a1c333a3b2bff00"),
		want: []protocols.Observation{{
			Protocol: "dhcp", Source: "dhcp.discover", About: protocols.Sender, Role: "client",
			MAC: mac("4c:6a:f6:9f:f6:27"),
			Facts: facts(
				FactMessageType, "discover",
				FactClientID, "01:4c:6a:f6:9f:f6:27",
				FactMaxMessageSize, "1500",
				FactVendorClass, "android-dhcp-9",
				FactParamList, "1,3,6,15,26,28,51,58,59,43"),
		}},
	},
	{
		// tcpdump-dhcp-rfc3004.pcap frame 1: DISCOVER, chaddr 00:0c:29:1f:74:06;
		// 53=1, 50=192.168.1.4, 55=1,28,2,3,15,6,12, 77=[7]"subopt1"
		// [17]"subopt2-123456789" [10]"subopt3-12", end.
		name: "discover with user class",
		hex: msg("0101060006e328640000000000000000000000000000000000000000", "000c291f740600000000000000000000",
			"3501013204c0a801043707011c02030f060c4d25077375626f707431117375626f7074322d3132333435363738390a7375626f7074332d3132ff0000"),
		want: []protocols.Observation{{
			Protocol: "dhcp", Source: "dhcp.discover", About: protocols.Sender, Role: "client",
			MAC: mac("00:0c:29:1f:74:06"),
			Facts: facts(
				FactMessageType, "discover",
				FactRequestedIP, "192.168.1.4",
				FactParamList, "1,28,2,3,15,6,12",
				FactUserClass, "subopt1,subopt2-123456789,subopt3-12"),
		}},
	},
	{
		// zeek-dhcp_inform.pcap frame 1: INFORM, ciaddr 128.2.6.122,
		// chaddr 90:b1:1c:99:49:29; 53=8, 55=1, end.
		name: "inform",
		hex:  msg("01010600a42cec51000000008002067a000000000000000000000000", "90b11c99492900000000000000000000", "350108370101ff"),
		want: []protocols.Observation{{
			Protocol: "dhcp", Source: "dhcp.inform", About: protocols.Sender, Role: "client",
			MAC: mac("90:b1:1c:99:49:29"), IP: ip("128.2.6.122"),
			Facts: facts(FactMessageType, "inform", FactParamList, "1"),
		}},
	},
	{
		// zeek-dhcp.pcap frame 6: ACK, yiaddr 128.2.6.189, siaddr 172.19.230.7,
		// chaddr 90:b1:1c:99:49:29; 53=5, 54=128.2.6.152, 51=900, 1=255.255.255.0,
		// 3, 6, 4, 67="network-config", 28, 42, 43, 60="ArubaAP", 44, 46, 15="cmu.edu", end.
		name: "ack",
		hex: msg("02010600000007c00000000000000000800206bdac13e60700000000", "90b11c99492900000000000000000000",
			"3501053604800206983304000003840104ffffff0003048002060106088002010b8002010a04088002011480020115430d6e6574776f726b2d636f6e66671c04800206ff2a0c8002011480020115800201162b0b3137322e31382e362e33373c07417275626141502c088002681d8002681e2e01020f07636d752e656475ff"),
		want: []protocols.Observation{
			{
				Protocol: "dhcp", Source: "dhcp.ack", About: protocols.Receiver, Role: "client",
				MAC: mac("90:b1:1c:99:49:29"), IP: ip("128.2.6.189"),
				Facts: facts(FactMessageType, "ack"),
			},
			{
				Protocol: "dhcp", Source: "dhcp.ack", About: protocols.Sender, Role: "server",
				IP:    ip("128.2.6.152"),
				Facts: facts(FactMessageType, "ack", FactServerID, "128.2.6.152", FactVendorClass, "ArubaAP"),
			},
		},
	},
	{
		// zeek-dhcp.pcap frame 4: NAK, ciaddr 0, yiaddr 0, chaddr 90:b1:1c:99:49:29;
		// 53=6, 54=128.2.6.152, 56="requested address not available", end.
		name: "nak",
		hex: msg("02010600000007c00000800000000000000000008002069800000000", "90b11c99492900000000000000000000",
			"350106360480020698381f7265717565737465642061646472657373206e6f7420617661696c61626c65ff"),
		want: []protocols.Observation{
			{
				Protocol: "dhcp", Source: "dhcp.nak", About: protocols.Receiver, Role: "client",
				MAC: mac("90:b1:1c:99:49:29"), Facts: facts(FactMessageType, "nak"),
			},
			{
				Protocol: "dhcp", Source: "dhcp.nak", About: protocols.Sender, Role: "server",
				IP: ip("128.2.6.152"), Facts: facts(FactMessageType, "nak", FactServerID, "128.2.6.152"),
			},
		},
	},
	{
		// Hand-made OFFER, yiaddr 192.168.2.16, chaddr 4c:6a:f6:9f:f6:27, no server
		// id: the client observation carries no IP (only an ACK confirms a binding)
		// and the server observation no IP either.
		name: "offer without server id",
		hex:  msg("020106000000000100000000"+"00000000"+"c0a80210"+"0000000000000000", "4c6af69ff62700000000000000000000", "350102ff"),
		want: []protocols.Observation{
			{
				Protocol: "dhcp", Source: "dhcp.offer", About: protocols.Receiver, Role: "client",
				MAC: mac("4c:6a:f6:9f:f6:27"), Facts: facts(FactMessageType, "offer"),
			},
			{
				Protocol: "dhcp", Source: "dhcp.offer", About: protocols.Sender, Role: "server",
				Facts: facts(FactMessageType, "offer"),
			},
		},
	},
	{
		// Hand-made DISCOVER, htype 6 (IEEE 802) so no MAC is taken from chaddr;
		// 12="  evil\x1b[31mhost\x00junk" (control bytes and NUL), 61=ff+IAID+DUID,
		// 81 flags 0x05 (E: wire format) "pump7.icu.example", 60 with a tab and
		// non-ASCII bytes, no end option (the datagram just ends).
		name: "sanitized strings",
		hex: msg("01060600"+"00000002"+"00000000"+strings.Repeat("00", 16), "0a0b0c0d0e0f00000000000000000000",
			"350101"+
				"0c14"+"20206576696c1b5b33316d686f7374006a756e6b"+
				"3d0cff00000001000100010a0b0c"+
				"511605000005"+"70756d7037"+"03"+"696375"+"07"+"6578616d706c65"+"00"+
				"3c09"+"4163"+"09"+"6d65"+"c3a9"+"2031"),
		want: []protocols.Observation{{
			Protocol: "dhcp", Source: "dhcp.discover", About: protocols.Sender, Role: "client",
			Hostname: "evil[31mhost",
			Facts: facts(
				FactMessageType, "discover",
				FactHostname, "evil[31mhost",
				FactClientID, "ff00000001000100010a0b0c",
				FactFQDN, "pump7.icu.example",
				FactVendorClass, "Acme 1"),
		}},
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
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Test %d (%s):\nexpected %+v\ngot      %+v", i, tc.name, tc.want, got)
		}
	}
}

// dnsQuery is a DNS query for example.com (A), as seen on UDP 53.
const dnsQuery = "abcd01000001000000000000076578616d706c6503636f6d0000010001"

// negatives are not DHCP messages the decoder describes: each must give an
// error wrapping the named sentinel and no observation.
var negatives = []struct {
	name   string
	hex    string
	detect bool
	want   error
}{
	{"empty", "", false, protocols.ErrMalformed},
	{"dns query on port 67", dnsQuery, false, protocols.ErrMalformed},
	{"dns query padded to 300 bytes", dnsQuery + strings.Repeat("00", 300-len(dnsQuery)/2), false, protocols.ErrMalformed},
	{"random bytes", "9f3c1a7e55d2b0e4" + strings.Repeat("a5", 292), false, protocols.ErrMalformed},
	// BOOTP header with the cookie missing.
	{"bootp without cookie", "0101060000000001" + strings.Repeat("00", 300), false, protocols.ErrMalformed},
	// tcpdump-dhcp-rfc4388.pcap frame 9: DHCPLEASEQUERY (type 10) from a relay.
	{"leasequery", msg("0101060100000001000000000000000000000000000000000a1e0101", "5a4f34b1af6600000000000000000000", "35010aff"), true, protocols.ErrUnsupported},
	{"bootp without message type", msg("0101060000000001"+strings.Repeat("00", 20), strings.Repeat("00", 16), "ff"), true, protocols.ErrUnsupported},
	{"ack in a BOOTREQUEST", msg("0101060000000001"+strings.Repeat("00", 20), strings.Repeat("00", 16), "350105ff"), true, protocols.ErrMalformed},
	{"option runs past the end", msg("0101060000000001"+strings.Repeat("00", 20), strings.Repeat("00", 16), "3501010c20414243"), true, protocols.ErrMalformed},
	{"option without length", msg("0101060000000001"+strings.Repeat("00", 20), strings.Repeat("00", 16), "3501010c"), true, protocols.ErrMalformed},
	{"over the length cap", msg("0101060000000001"+strings.Repeat("00", 20), strings.Repeat("00", 16), "350101ff"+strings.Repeat("00", MaxMessageLen)), true, protocols.ErrTooLong},
	{"message type length 2", msg("0101060000000001"+strings.Repeat("00", 20), strings.Repeat("00", 16), "35020101ff"), true, protocols.ErrMalformed},
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

func TestFormatters(t *testing.T) {
	long := strings.Repeat("x", 300)
	tests := []struct {
		name, got, want string
	}{
		{"sanitize trims", sanitize([]byte("  a b  ")), "a b"},
		{"sanitize cuts at NUL", sanitize([]byte("host\x00\x01rest")), "host"},
		{"sanitize drops controls and non-ASCII", sanitize([]byte("a\r\nb\x7f\xffc")), "abc"},
		{"sanitize caps", sanitize([]byte(long)), long[:maxString]},
		{"sanitize empty", sanitize(nil), ""},
		{"client id ethernet", clientID(unhex(t, "01aabbccddeeff")), "01:aa:bb:cc:dd:ee:ff"},
		{"client id other", clientID(unhex(t, "00616263")), "00616263"},
		{"client id capped", clientID([]byte(long)), strings.Repeat("78", 127)},
		{"param list", paramList(unhex(t, "0103060f77fc")), "1,3,6,15,119,252"},
		{"param list empty", paramList(nil), ""},
		{"param list full", paramList(make([]byte, 255)), strings.Repeat("0,", 254) + "0"},
		{"fqdn ascii", fqdn([]byte("\x01\x00\x00host.example.")), "host.example."},
		{"fqdn wire", fqdn([]byte("\x04\x00\x00\x04host\x07example\x00")), "host.example"},
		{"fqdn wire truncated", fqdn([]byte("\x04\x00\x00\x09host")), ""},
		{"fqdn wire pointer", fqdn([]byte("\x04\x00\x00\xc0\x0c")), ""},
		{"fqdn short", fqdn([]byte("\x04\x00")), ""},
		{"user class instances", userClass([]byte("\x03abc\x02de")), "abc,de"},
		{"user class bare string", userClass([]byte("MSFT 5.0")), "MSFT 5.0"},
		{"user class empty", userClass(nil), ""},
	}
	for i, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("Test %d (%s): expected %q, got %q", i, tc.name, tc.want, tc.got)
		}
	}
}

func TestSpec(t *testing.T) {
	s := Spec()
	if s.Name != "dhcp" || s.Transport != protocols.UDP || !reflect.DeepEqual(s.Ports, []uint16{67, 68}) {
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
		for _, d := range corpustest.UDP(f, path, ServerPort, ClientPort) {
			out = append(out, d.Payload)
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
		if len(got) == 0 || len(got) > 2 {
			t.Fatalf("expected one or two observations, got %d", len(got))
		}
		for _, o := range got {
			if o.Protocol != "dhcp" || !strings.HasPrefix(o.Source, "dhcp.") {
				t.Fatalf("bad protocol or source in %+v", o)
			}
			checkText(t, "hostname", o.Hostname, maxString)
			for _, fct := range o.Facts {
				limit := maxString
				if fct.Name == FactParamList {
					limit = 255 * 4
				}
				checkText(t, fct.Name, fct.Value, limit)
				if fct.Value == "" {
					t.Fatalf("empty fact %s", fct.Name)
				}
			}
		}
	})
}

func checkText(t *testing.T, name, s string, limit int) {
	t.Helper()
	if len(s) > limit {
		t.Fatalf("%s: %d bytes, cap %d", name, len(s), limit)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			t.Fatalf("%s: byte %#x in %q", name, s[i], s)
		}
	}
}

func BenchmarkFeed(b *testing.B) {
	for _, i := range []int{1, 5} {
		tc := fixtures[i]
		b.Run(strings.ReplaceAll(tc.name, " ", "_"), func(b *testing.B) {
			data := unhex(b, tc.hex)
			d := New(protocols.FlowInfo{})
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
