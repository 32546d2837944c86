package syslog

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/iomt-sensor/iomt-sensor/protocols"
	"github.com/iomt-sensor/iomt-sensor/protocols/internal/corpustest"
)

// decode feeds msg as one UDP datagram to a fresh decoder.
func decode(msg []byte) ([]protocols.Observation, error) {
	var got []protocols.Observation
	d := Spec().New(protocols.FlowInfo{Transport: protocols.UDP})
	err := d.Feed(protocols.FromClient, msg, time.Time{}, func(o protocols.Observation) { got = append(got, o) })
	return got, err
}

func obs(host, hostFact, app, facility string) protocols.Observation {
	o := protocols.Observation{Protocol: "syslog", Source: "syslog.message", About: protocols.Sender, Hostname: host}
	if hostFact != "" {
		o.Facts = append(o.Facts, protocols.Fact{Name: FactHostname, Value: hostFact})
	}
	if app != "" {
		o.Facts = append(o.Facts, protocols.Fact{Name: FactApp, Value: app})
	}
	o.Facts = append(o.Facts, protocols.Fact{Name: FactFacility, Value: facility})
	return o
}

// fixtures are syslog datagrams from the corpus (syslog/*.pcap) and RFC 5424
// §6.5 examples. The message text after the header must never appear in an
// observation.
var fixtures = []struct {
	name string
	msg  string
	want protocols.Observation
}{
	// tcpdump-syslog_udp.pcap frame 1.
	{"rfc3164", "<5>Sep 12 19:16:12 through logger: test message 21", obs("through", "through", "logger", "kern")},
	// tcpdump-syslog_udp.pcap frame 3: RFC 3339 time stamp (rsyslog); localhost names nobody.
	{"rfc3164 rfc3339 time", "<13>2013-09-12T19:16:34.457849+04:00 localhost through rsyslog: test message 23\n",
		obs("", "localhost", "", "user")},
	// zeek-syslog-single-udp.pcap frame 1: no host name, tag "robin".
	{"rfc3164 no host", "<133>Apr  5 12:56:51 robin: Hello, syslog!", obs("", "", "robin", "local0")},
	// ndpi-syslog.pcap frame 1 (PPPoE): zero-padded day.
	{"rfc3164 zero day", "<26>Jan 01 00:01:47 nb6 nbd: 01=7;03=95.136.242.54", obs("nb6", "nb6", "nbd", "daemon")},
	// ndpi-syslog.pcap frame 60: no time stamp or host, but a tag with a pid.
	{"tag only", "<30>snmpd[6956]: Received SNMP packet(s) from UDP: [127.0.0.1]:10012 \n", obs("", "", "snmpd", "daemon")},
	// ndpi-syslog.pcap frame 20: Cisco IOS sequence number, no header fields.
	{"cisco sequence", "<189>72: Mar  3 19:57:17.371: %LINK-5-CHANGED: Interface GigabitEthernet0/2", obs("", "", "", "local7")},
	// RFC 5424 §6.5 example 1.
	{"rfc5424", "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - 'su root' failed for lonvick on /dev/pts/8",
		obs("mymachine.example.com", "mymachine.example.com", "su", "auth")},
	// RFC 5424 §6.5 example 2: an IPv4 address as HOSTNAME, NILVALUE procid.
	{"rfc5424 ip host", "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.",
		obs("", "192.0.2.1", "myproc", "local4")},
	// RFC 5424 with NILVALUE host and app.
	{"rfc5424 nil", "<14>1 - - - - - -", obs("", "", "", "user")},
}

func TestFeedFixtures(t *testing.T) {
	for i, tc := range fixtures {
		data := []byte(tc.msg)
		if !Detect(protocols.FromClient, data) || !DetectTCP(protocols.FromClient, data) {
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

// negatives are not syslog messages: each must give an error wrapping the
// named sentinel and no observation.
var negatives = []struct {
	name string
	msg  string
	want error
}{
	{"empty", "", protocols.ErrUnsupported},
	{"no pri", "Sep 12 19:16:12 through logger: hi", protocols.ErrUnsupported},
	{"pri 192", "<192>Sep 12 19:16:12 through logger: hi", protocols.ErrUnsupported},
	{"pri four digits", "<0013>Sep 12 19:16:12 through logger: hi", protocols.ErrUnsupported},
	{"pri empty", "<>hi", protocols.ErrUnsupported},
	{"pri unterminated", "<13", protocols.ErrUnsupported},
	// A DNS query sent to port 514.
	{"dns", "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01", protocols.ErrUnsupported},
	// An HTTP request on 514 (rsh/shell is TCP 514 too).
	{"http", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", protocols.ErrUnsupported},
}

func TestFeedNegative(t *testing.T) {
	for i, tc := range negatives {
		if Detect(protocols.FromClient, []byte(tc.msg)) {
			t.Errorf("Test %d (%s): Detect = true", i, tc.name)
		}
		got, err := decode([]byte(tc.msg))
		if !errors.Is(err, tc.want) {
			t.Errorf("Test %d (%s): expected error wrapping %v, got %v", i, tc.name, tc.want, err)
		}
		if len(got) != 0 {
			t.Errorf("Test %d (%s): expected no observation, got %+v", i, tc.name, got)
		}
	}
}

// feedTCP feeds chunks of one client stream to a TCP decoder, then closes it.
func feedTCP(chunks ...string) ([]protocols.Observation, []error) {
	d := TCPSpec().New(protocols.FlowInfo{Transport: protocols.TCP})
	var got []protocols.Observation
	var errs []error
	emit := func(o protocols.Observation) { got = append(got, o) }
	for _, c := range chunks {
		if strings.HasPrefix(c, "GAP") {
			d.Gap(protocols.FromClient, 10, time.Time{}, emit)
			continue
		}
		if err := d.Feed(protocols.FromClient, []byte(c), time.Time{}, emit); err != nil {
			errs = append(errs, err)
		}
	}
	d.Close(time.Time{}, emit)
	return got, errs
}

func TestTCPFraming(t *testing.T) {
	// zeek-tcp-syslog.pcap: octet counting and newline framing in one stream.
	stream := "51 <13>Oct 11 22:14:15 mymachine su: 'su root' failed " +
		"<14>Oct 11 22:14:16 mymachine su: 'su root' failed\n" +
		"50 <15>Oct 11 22:14:17 mymachine su: 'su bob' failed " +
		"<16>Oct 11 22:14:18 mymachine su: 'su bob' failed\n"
	want := []protocols.Observation{obs("mymachine", "mymachine", "su", "user"), obs("mymachine", "mymachine", "su", "mail")}
	// Whole, byte by byte, and in two uneven halves.
	splits := [][]string{{stream}, strings.Split(stream, ""), {stream[:7], stream[7:60] + "", stream[60:]}}
	for i, chunks := range splits {
		got, errs := feedTCP(chunks...)
		if len(errs) != 0 || !reflect.DeepEqual(got, want) {
			t.Errorf("Test %d: expected %+v, got %+v (errors %v)", i, want, got, errs)
		}
	}
	tests := []struct {
		name   string
		chunks []string
		want   []protocols.Observation
		errs   []error
	}{
		{"unterminated line at close", []string{"<34>1 - host app - - - msg"}, []protocols.Observation{obs("host", "host", "app", "auth")}, nil},
		{"gap resyncs on newline", []string{"<34>1 - a app - - - m", "GAP", "rest of it\n<34>1 - b app - - - m\n"},
			[]protocols.Observation{obs("b", "b", "app", "auth")}, nil},
		// A TCP decoder that returns an error is detached: nothing follows.
		{"junk", []string{"xyz\n<34>1 - c app - - - m\n"}, nil, []error{protocols.ErrMalformed}},
		{"huge octet count", []string{"99999999 <34>1 - d app - - - m\n"}, nil, []error{protocols.ErrTooLong}},
		{"long message header kept", []string{"2000 <34>1 - e app - - - " + strings.Repeat("x", 2000-20) + "<34>1 - f app - - - m\n"},
			[]protocols.Observation{obs("e", "e", "app", "auth"), obs("f", "f", "app", "auth")}, nil},
	}
	for i, tc := range tests {
		got, errs := feedTCP(tc.chunks...)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Test %d (%s): expected %+v, got %+v", i, tc.name, tc.want, got)
		}
		if len(errs) != len(tc.errs) {
			t.Errorf("Test %d (%s): expected errors %v, got %v", i, tc.name, tc.errs, errs)
			continue
		}
		for j := range errs {
			if !errors.Is(errs[j], tc.errs[j]) {
				t.Errorf("Test %d (%s): expected error %v, got %v", i, tc.name, tc.errs[j], errs[j])
			}
		}
	}
}

// TestDedup checks that a flow repeating the same header gives one
// observation.
func TestDedup(t *testing.T) {
	d := New(protocols.FlowInfo{Transport: protocols.UDP})
	var n int
	emit := func(protocols.Observation) { n++ }
	for _, m := range []string{"<13>Oct 11 22:14:15 h su: a", "<13>Oct 11 22:14:16 h su: b", "<14>Oct 11 22:14:16 h su: c", "<13>Oct 11 22:14:17 h cron: d"} {
		if err := d.Feed(protocols.FromClient, []byte(m), time.Time{}, emit); err != nil {
			t.Fatal(err)
		}
	}
	if n != 2 {
		t.Errorf("expected 2 observations, got %d", n)
	}
}

func TestSpec(t *testing.T) {
	for _, s := range []protocols.Spec{Spec(), TCPSpec()} {
		if s.Name != "syslog" || !reflect.DeepEqual(s.Ports, []uint16{514}) || s.Detect == nil || s.New == nil {
			t.Errorf("unexpected spec %+v", s)
		}
	}
	if Spec().Transport != protocols.UDP || TCPSpec().Transport != protocols.TCP {
		t.Error("wrong transports")
	}
}

func FuzzDecode(f *testing.F) {
	for _, tc := range fixtures {
		f.Add([]byte(tc.msg))
	}
	for _, tc := range negatives {
		f.Add([]byte(tc.msg))
	}
	f.Add([]byte("51 <13>Oct 11 22:14:15 mymachine su: 'su root' failed <14>Oct 11 22:14:16 mymachine su: x\n"))
	corpustest.Seed(f, corpusFiles, func(path string) [][]byte {
		var out [][]byte
		for _, d := range corpustest.UDP(f, path, Port) {
			out = append(out, d.Payload)
		}
		return out
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		Detect(protocols.FromClient, data)
		DetectTCP(protocols.FromClient, data)
		got, err := decode(data)
		if err != nil && (len(got) != 0 || protocols.Reason(err) == "other") {
			t.Fatalf("error %v with %d observations", err, len(got))
		}
		// The same bytes as a TCP stream, in two pieces.
		h := len(data) / 2
		tcpGot, errs := feedTCP(string(data[:h]), string(data[h:]))
		for _, e := range errs {
			if protocols.Reason(e) == "other" {
				t.Fatalf("error %v wraps no sentinel", e)
			}
		}
		for _, o := range append(got, tcpGot...) {
			for _, fa := range o.Facts {
				if fa.Value == "" || len(fa.Value) > maxHostname {
					t.Fatalf("fact %s = %q", fa.Name, fa.Value)
				}
			}
		}
	})
}

func BenchmarkFeed(b *testing.B) {
	data := []byte(fixtures[0].msg)
	d := New(protocols.FlowInfo{Transport: protocols.UDP})
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

// BenchmarkParse measures the header parser alone, which runs on every message.
func BenchmarkParse(b *testing.B) {
	data := []byte(fixtures[6].msg)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}

func TestDependencies(t *testing.T) { corpustest.CheckDeps(t) }
