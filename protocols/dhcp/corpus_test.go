package dhcp

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/iomt-sensor/iomt-sensor/protocols"
	"github.com/iomt-sensor/iomt-sensor/protocols/internal/corpustest"
)

// corpusFiles are the corpus captures that hold DHCPv4.
var corpusFiles = []string{
	"dhcp/tcpdump-dhcp-mud.pcap",
	"dhcp/tcpdump-dhcp-option-33.pcap",
	"dhcp/tcpdump-dhcp-rfc3004.pcap",
	"dhcp/tcpdump-dhcp-rfc4388.pcap",
	"dhcp/tcpdump-dhcp-rfc5859.pcap",
	"dhcp/zeek-dhcp.pcap",
	"dhcp/zeek-dhcp_discover_param_req_and_client_id.pcap",
	"dhcp/zeek-dhcp_inform.pcap",
	"dhcp/zeek-dhcp_time_and_nameserver.pcap",
	"device-mixed/ndpi-android.pcap",
	"device-mixed/ndpi-iphone.pcap",
}

// wantObs is an expected observation in compact form: facts are "name=value"
// in wire order.
type wantObs struct {
	About    protocols.Party
	Source   string
	Role     string
	MAC      string // "" for none
	IP       string // "" for none
	Hostname string
	Facts    []string
}

// wantMsg is what the decoder must make of one datagram.
type wantMsg struct {
	File  string
	Frame int
	Err   string // protocols.Reason of the error, "" for none
	Obs   []wantObs
}

func (w wantObs) String() string {
	return strings.Join([]string{[]string{"sender", "receiver"}[w.About&1], w.Source, w.Role, w.MAC, w.IP, w.Hostname, strings.Join(w.Facts, " ")}, "|")
}

func compact(o protocols.Observation) wantObs {
	w := wantObs{About: o.About, Source: o.Source, Role: o.Role, Hostname: o.Hostname}
	if !o.MAC.IsZero() {
		w.MAC = o.MAC.String()
	}
	if o.IP.IsValid() {
		w.IP = o.IP.String()
	}
	for _, f := range o.Facts {
		w.Facts = append(w.Facts, f.Name+"="+f.Value)
	}
	if o.Protocol != "dhcp" {
		w.Source = "bad protocol " + o.Protocol
	}
	return w
}

// decodeCorpus feeds every UDP 67/68 datagram of the corpus files to the
// decoder.
func decodeCorpus(t *testing.T) []wantMsg {
	t.Helper()
	var out []wantMsg
	for _, file := range corpusFiles {
		path := corpustest.File(t, file)
		for _, d := range corpustest.UDP(t, path, ServerPort, ClientPort) {
			got, err := decode(d.Payload)
			m := wantMsg{File: file, Frame: d.Frame, Err: protocols.Reason(err)}
			for _, o := range got {
				m.Obs = append(m.Obs, compact(o))
			}
			out = append(out, m)
		}
	}
	return out
}

func compareMsgs(t *testing.T, got, want []wantMsg) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("expected %d datagrams, got %d", len(want), len(got))
	}
	for i := range min(len(got), len(want)) {
		g, w := got[i], want[i]
		if g.File != w.File || g.Frame != w.Frame || g.Err != w.Err || len(g.Obs) != len(w.Obs) {
			t.Errorf("Test %d: expected %s frame %d err %q %d observations, got %s frame %d err %q %d observations",
				i, w.File, w.Frame, w.Err, len(w.Obs), g.File, g.Frame, g.Err, len(g.Obs))
			continue
		}
		for j := range w.Obs {
			// tshark reports options grouped by field, not in wire order:
			// compare facts as sets here; TestFeedFixtures checks the order.
			gs, ws := g.Obs[j], w.Obs[j]
			gs.Facts, ws.Facts = slices.Sorted(slices.Values(gs.Facts)), slices.Sorted(slices.Values(ws.Facts))
			if !reflect.DeepEqual(gs, ws) {
				t.Errorf("Test %d (%s frame %d) observation %d:\nexpected %s\ngot      %s", i, w.File, w.Frame, j, ws, gs)
			}
		}
	}
}

func TestCorpus(t *testing.T) {
	compareMsgs(t, decodeCorpus(t), corpusWant)
}

// TestCorpusKnownFacts checks the device facts the corpus manifest lists.
func TestCorpusKnownFacts(t *testing.T) {
	got := decodeCorpus(t)
	tests := []struct {
		file, fact string
	}{
		{"dhcp/zeek-dhcp.pcap", "dhcp.hostname=btest.is.cool"},
		{"dhcp/zeek-dhcp.pcap", "dhcp.vendor_class=ArubaAP"},
		{"dhcp/tcpdump-dhcp-mud.pcap", "dhcp.hostname=raspberrypi"},
		{"dhcp/tcpdump-dhcp-mud.pcap", "dhcp.vendor_class=dhcpcd-6.11.5:Linux-4.1.18-v7+:armv7l:BCM2709"},
		{"dhcp/tcpdump-dhcp-mud.pcap", "dhcp.mud_url=https://mudctl.example.com/.well-known/mud/v1/rasbp101"},
		{"dhcp/zeek-dhcp_discover_param_req_and_client_id.pcap", "dhcp.hostname=test0000"},
		{"dhcp/zeek-dhcp_discover_param_req_and_client_id.pcap", "dhcp.param_list=1,3,6,42"},
		{"dhcp/zeek-dhcp_discover_param_req_and_client_id.pcap", "dhcp.client_id=01:00:0b:82:01:fc:42"},
		{"device-mixed/ndpi-android.pcap", "dhcp.vendor_class=android-dhcp-9"},
		{"device-mixed/ndpi-iphone.pcap", "dhcp.hostname=Lucas-iPhone"},
	}
	for i, tc := range tests {
		found := false
		for _, m := range got {
			for _, o := range m.Obs {
				found = found || (m.File == tc.file && slices.Contains(o.Facts, tc.fact))
			}
		}
		if !found {
			t.Errorf("Test %d: expected %s in %s, not found", i, tc.fact, tc.file)
		}
	}
}

// tsharkFields are the fields TestCorpusTshark asks tshark for.
var tsharkFields = []string{
	"frame.number", "dhcp.type", "dhcp.option.dhcp", "dhcp.hw.type", "dhcp.hw.len", "dhcp.hw.mac_addr",
	"dhcp.ip.client", "dhcp.ip.your", "dhcp.option.hostname", "dhcp.option.vendor_class_id",
	"dhcp.option.request_list_item", "dhcp.option.requested_ip_address", "dhcp.option.dhcp_server_id",
	"dhcp.option.mudurl", "dhcp.option.dhcp_max_message_size", "dhcp.option.type", "dhcp.option.value",
	"dhcp.option.user_class.data", "dhcp.fqdn.name", "dhcp.cookie",
}

// expectFromTshark turns one line of tshark output (tsharkFields, tab
// separated, multiple occurrences joined by "|") into what the decoder must
// produce, following the rules in the package README.
func expectFromTshark(file, line string) (wantMsg, error) {
	f := strings.Split(line, "\t")
	if len(f) != len(tsharkFields) {
		return wantMsg{}, errors.New("unexpected field count")
	}
	first := func(s string) string { v, _, _ := strings.Cut(s, "|"); return v }
	frame, err := strconv.Atoi(f[0])
	if err != nil {
		return wantMsg{}, err
	}
	m := wantMsg{File: file, Frame: frame}
	if f[19] != "99.130.83.99" {
		// No magic cookie at offset 236: BOOTP, or a shifted header.
		m.Err = "malformed"
		return m, nil
	}
	name, source := "", ""
	if t, err := strconv.Atoi(f[2]); err == nil {
		name, source = names(byte(t))
	}
	client := name == "discover" || name == "request" || name == "decline" || name == "release" || name == "inform"
	if name == "" || client != (f[1] == "1") {
		m.Err = "unsupported"
		if name != "" {
			m.Err = "malformed"
		}
		return m, nil
	}
	var mac string
	if first(f[3]) == "0x01" && first(f[4]) == "6" && first(f[5]) != "00:00:00:00:00:00" {
		mac = first(f[5])
	}
	nonzero := func(ip string) string {
		if ip == "0.0.0.0" {
			return ""
		}
		return ip
	}
	// Raw option values by code (tshark omits pad and end).
	raw := map[string]string{}
	types, values := strings.Split(f[15], "|"), strings.Split(f[16], "|")
	k := 0
	for _, typ := range types {
		if typ == "0" || typ == "255" {
			continue
		}
		if k >= len(values) {
			return wantMsg{}, errors.New("option values do not line up with types")
		}
		if _, dup := raw[typ]; !dup {
			raw[typ] = values[k]
		}
		k++
	}
	add := func(facts *[]string, name, value string) {
		if value != "" {
			*facts = append(*facts, name+"="+value)
		}
	}
	if !client {
		c := wantObs{About: protocols.Receiver, Source: source, Role: "client", MAC: mac, Facts: []string{FactMessageType + "=" + name}}
		if name == "ack" {
			c.IP = nonzero(f[7])
		}
		s := wantObs{About: protocols.Sender, Source: source, Role: "server", IP: f[12], Facts: []string{FactMessageType + "=" + name}}
		add(&s.Facts, FactServerID, f[12])
		add(&s.Facts, FactVendorClass, f[9])
		m.Obs = []wantObs{c, s}
		return m, nil
	}
	o := wantObs{About: protocols.Sender, Source: source, Role: "client", MAC: mac, IP: nonzero(f[6]), Hostname: f[8]}
	o.Facts = []string{FactMessageType + "=" + name}
	add(&o.Facts, FactHostname, f[8])
	if id, ok := raw["61"]; ok {
		b, err := hex.DecodeString(id)
		if err != nil {
			return wantMsg{}, err
		}
		add(&o.Facts, FactClientID, clientID(b))
	}
	add(&o.Facts, FactVendorClass, f[9])
	add(&o.Facts, FactParamList, strings.ReplaceAll(f[10], "|", ","))
	add(&o.Facts, FactRequestedIP, f[11])
	add(&o.Facts, FactFQDN, f[18])
	if f[17] != "" {
		var classes []string
		for _, h := range strings.Split(f[17], "|") {
			b, err := hex.DecodeString(h)
			if err != nil {
				return wantMsg{}, err
			}
			classes = append(classes, string(b))
		}
		add(&o.Facts, FactUserClass, strings.Join(classes, ","))
	}
	add(&o.Facts, FactMUDURL, f[13])
	add(&o.Facts, FactMaxMessageSize, f[14])
	m.Obs = []wantObs{o}
	return m, nil
}

// tsharkExpect runs tshark over file and returns the expected messages.
func tsharkExpect(t testing.TB, tshark, file, path string) []wantMsg {
	t.Helper()
	args := []string{"-r", path, "-Y", "dhcp", "-T", "fields", "-E", "separator=/t", "-E", "aggregator=|"}
	for _, f := range tsharkFields {
		args = append(args, "-e", f)
	}
	cmd := exec.Command(tshark, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark %s: %v: %s", file, err, stderr.String())
	}
	var msgs []wantMsg
	for line := range strings.Lines(string(out)) {
		m, err := expectFromTshark(file, strings.TrimRight(line, "\r\n"))
		if err != nil {
			t.Fatalf("tshark %s: %v in %q", file, err, line)
		}
		msgs = append(msgs, m)
	}
	return msgs
}

// TestCorpusTshark compares the decoder with a live tshark run over the same
// files, when tshark is installed.
func TestCorpusTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not on PATH")
	}
	var want []wantMsg
	for _, file := range corpusFiles {
		want = append(want, tsharkExpect(t, tshark, file, corpustest.File(t, file))...)
	}
	if os.Getenv("DHCP_PRINT_WANT") == "1" {
		for _, m := range want {
			t.Logf("%#v,", m)
		}
	}
	compareMsgs(t, decodeCorpus(t), want)
}

// corpusWant is generated from tshark 4.0.17 by expectFromTshark (run
// TestCorpusTshark with -v and DHCP_PRINT_WANT=1 to print it again).
var corpusWant = []wantMsg{
	{File: "dhcp/tcpdump-dhcp-mud.pcap", Frame: 1, Obs: []wantObs{{About: protocols.Sender, Source: "dhcp.request", Role: "client", MAC: "b8:27:eb:b8:53:c8", IP: "62.12.173.123", Hostname: "raspberrypi", Facts: []string{"dhcp.message_type=request", "dhcp.hostname=raspberrypi", "dhcp.client_id=01:b8:27:eb:b8:53:c8", "dhcp.vendor_class=dhcpcd-6.11.5:Linux-4.1.18-v7+:armv7l:BCM2709", "dhcp.param_list=1,121,33,3,6,12,15,28,42,51,54,58,59,100,101,119", "dhcp.mud_url=https://mudctl.example.com/.well-known/mud/v1/rasbp101", "dhcp.max_message_size=1472"}}}},
	{File: "dhcp/tcpdump-dhcp-mud.pcap", Frame: 2, Obs: []wantObs{{About: protocols.Receiver, Source: "dhcp.ack", Role: "client", MAC: "b8:27:eb:b8:53:c8", IP: "62.12.173.123", Facts: []string{"dhcp.message_type=ack"}}, {About: protocols.Sender, Source: "dhcp.ack", Role: "server", IP: "62.12.173.114", Facts: []string{"dhcp.message_type=ack", "dhcp.server_id=62.12.173.114"}}}},
	{File: "dhcp/tcpdump-dhcp-option-33.pcap", Frame: 1, Obs: []wantObs{{About: protocols.Receiver, Source: "dhcp.offer", Role: "client", MAC: "00:11:22:33:44:55", Facts: []string{"dhcp.message_type=offer"}}, {About: protocols.Sender, Source: "dhcp.offer", Role: "server", IP: "192.168.1.1", Facts: []string{"dhcp.message_type=offer", "dhcp.server_id=192.168.1.1"}}}},
	{File: "dhcp/tcpdump-dhcp-option-33.pcap", Frame: 2, Obs: []wantObs{{About: protocols.Receiver, Source: "dhcp.offer", Role: "client", MAC: "00:11:22:33:44:55", Facts: []string{"dhcp.message_type=offer"}}, {About: protocols.Sender, Source: "dhcp.offer", Role: "server", IP: "192.168.1.1", Facts: []string{"dhcp.message_type=offer", "dhcp.server_id=192.168.1.1"}}}},
	{File: "dhcp/tcpdump-dhcp-option-33.pcap", Frame: 3, Obs: []wantObs{{About: protocols.Receiver, Source: "dhcp.offer", Role: "client", MAC: "00:11:22:33:44:55", Facts: []string{"dhcp.message_type=offer"}}, {About: protocols.Sender, Source: "dhcp.offer", Role: "server", IP: "192.168.1.1", Facts: []string{"dhcp.message_type=offer", "dhcp.server_id=192.168.1.1"}}}},
	{File: "dhcp/tcpdump-dhcp-option-33.pcap", Frame: 4, Obs: []wantObs{{About: protocols.Receiver, Source: "dhcp.offer", Role: "client", MAC: "00:11:22:33:44:55", Facts: []string{"dhcp.message_type=offer"}}, {About: protocols.Sender, Source: "dhcp.offer", Role: "server", IP: "192.168.1.1", Facts: []string{"dhcp.message_type=offer", "dhcp.server_id=192.168.1.1"}}}},
	{File: "dhcp/tcpdump-dhcp-option-33.pcap", Frame: 5, Obs: []wantObs{{About: protocols.Receiver, Source: "dhcp.offer", Role: "client", MAC: "00:11:22:33:44:55", Facts: []string{"dhcp.message_type=offer"}}, {About: protocols.Sender, Source: "dhcp.offer", Role: "server", IP: "192.168.1.1", Facts: []string{"dhcp.message_type=offer", "dhcp.server_id=192.168.1.1"}}}},
	{File: "dhcp/tcpdump-dhcp-rfc3004.pcap", Frame: 1, Obs: []wantObs{{About: protocols.Sender, Source: "dhcp.discover", Role: "client", MAC: "00:0c:29:1f:74:06", Facts: []string{"dhcp.message_type=discover", "dhcp.param_list=1,28,2,3,15,6,12", "dhcp.requested_ip=192.168.1.4", "dhcp.user_class=subopt1,subopt2-123456789,subopt3-12"}}}},
	{File: "dhcp/tcpdump-dhcp-rfc3004.pcap", Frame: 2, Obs: []wantObs{{About: protocols.Receiver, Source: "dhcp.offer", Role: "client", MAC: "00:0c:29:1f:74:06", Facts: []string{"dhcp.message_type=offer"}}, {About: protocols.Sender, Source: "dhcp.offer", Role: "server", IP: "192.168.1.1", Facts: []string{"dhcp.message_type=offer", "dhcp.server_id=192.168.1.1"}}}},
	{File: "dhcp/tcpdump-dhcp-rfc3004.pcap", Frame: 3, Obs: []wantObs{{About: protocols.Sender, Source: "dhcp.request", Role: "client", MAC: "00:0c:29:1f:74:06", Facts: []string{"dhcp.message_type=request", "dhcp.param_list=1,28,2,3,15,6,12", "dhcp.requested_ip=192.168.1.4", "dhcp.user_class=subopt1,subopt2-123456789,subopt3-12"}}}},
	{File: "dhcp/tcpdump-dhcp-rfc3004.pcap", Frame: 4, Obs: []wantObs{{About: protocols.Receiver, Source: "dhcp.ack", Role: "client", MAC: "00:0c:29:1f:74:06", IP: "192.168.1.4", Facts: []string{"dhcp.message_type=ack"}}, {About: protocols.Sender, Source: "dhcp.ack", Role: "server", IP: "192.168.1.1", Facts: []string{"dhcp.message_type=ack", "dhcp.server_id=192.168.1.1"}}}},
	{File: "dhcp/tcpdump-dhcp-rfc4388.pcap", Frame: 1, Obs: []wantObs{{About: protocols.Sender, Source: "dhcp.discover", Role: "client", MAC: "5a:4f:34:b1:af:66", Facts: []string{"dhcp.message_type=discover", "dhcp.param_list=1,28,2,121,15,6,12,40,41,42,26,119,3"}}}},
	{File: "dhcp/tcpdump-dhcp-rfc4388.pcap", Frame: 3, Obs: []wantObs{{About: protocols.Receiver, Source: "dhcp.offer", Role: "client", MAC: "5a:4f:34:b1:af:66", Facts: []string{"dhcp.message_type=offer"}}, {About: protocols.Sender, Source: "dhcp.offer", Role: "server", IP: "10.40.2.3", Facts: []string{"dhcp.message_type=offer", "dhcp.server_id=10.40.2.3"}}}},
	{File: "dhcp/tcpdump-dhcp-rfc4388.pcap", Frame: 4, Obs: []wantObs{{About: protocols.Sender, Source: "dhcp.request", Role: "client", MAC: "5a:4f:34:b1:af:66", Facts: []string{"dhcp.message_type=request", "dhcp.param_list=1,28,2,121,15,6,12,40,41,42,26,119,3", "dhcp.requested_ip=10.30.4.4"}}}},
	{File: "dhcp/tcpdump-dhcp-rfc4388.pcap", Frame: 5, Obs: []wantObs{{About: protocols.Receiver, Source: "dhcp.ack", Role: "client", MAC: "5a:4f:34:b1:af:66", IP: "10.30.4.4", Facts: []string{"dhcp.message_type=ack"}}, {About: protocols.Sender, Source: "dhcp.ack", Role: "server", IP: "10.40.2.3", Facts: []string{"dhcp.message_type=ack", "dhcp.server_id=10.40.2.3"}}}},
	{File: "dhcp/tcpdump-dhcp-rfc4388.pcap", Frame: 9, Err: "unsupported"},
	{File: "dhcp/tcpdump-dhcp-rfc4388.pcap", Frame: 10, Err: "unsupported"},
	{File: "dhcp/tcpdump-dhcp-rfc4388.pcap", Frame: 11, Obs: []wantObs{{About: protocols.Sender, Source: "dhcp.discover", Role: "client", MAC: "5a:4f:34:b1:af:66", Facts: []string{"dhcp.message_type=discover", "dhcp.param_list=1,28,2,121,15,6,12,40,41,42,26,119,3"}}}},
	{File: "dhcp/tcpdump-dhcp-rfc4388.pcap", Frame: 13, Obs: []wantObs{{About: protocols.Receiver, Source: "dhcp.offer", Role: "client", MAC: "5a:4f:34:b1:af:66", Facts: []string{"dhcp.message_type=offer"}}, {About: protocols.Sender, Source: "dhcp.offer", Role: "server", IP: "10.40.2.3", Facts: []string{"dhcp.message_type=offer", "dhcp.server_id=10.40.2.3"}}}},
	{File: "dhcp/tcpdump-dhcp-rfc4388.pcap", Frame: 14, Obs: []wantObs{{About: protocols.Sender, Source: "dhcp.request", Role: "client", MAC: "5a:4f:34:b1:af:66", Facts: []string{"dhcp.message_type=request", "dhcp.param_list=1,28,2,121,15,6,12,40,41,42,26,119,3", "dhcp.requested_ip=10.50.4.4"}}}},
	{File: "dhcp/tcpdump-dhcp-rfc4388.pcap", Frame: 15, Obs: []wantObs{{About: protocols.Receiver, Source: "dhcp.ack", Role: "client", MAC: "5a:4f:34:b1:af:66", IP: "10.50.4.4", Facts: []string{"dhcp.message_type=ack"}}, {About: protocols.Sender, Source: "dhcp.ack", Role: "server", IP: "10.40.2.3", Facts: []string{"dhcp.message_type=ack", "dhcp.server_id=10.40.2.3"}}}},
	{File: "dhcp/tcpdump-dhcp-rfc4388.pcap", Frame: 19, Err: "unsupported"},
	{File: "dhcp/tcpdump-dhcp-rfc4388.pcap", Frame: 20, Err: "unsupported"},
	{File: "dhcp/tcpdump-dhcp-rfc4388.pcap", Frame: 21, Err: "unsupported"},
	{File: "dhcp/tcpdump-dhcp-rfc4388.pcap", Frame: 22, Err: "unsupported"},
	{File: "dhcp/tcpdump-dhcp-rfc4388.pcap", Frame: 23, Obs: []wantObs{{About: protocols.Sender, Source: "dhcp.discover", Role: "client", MAC: "5a:4f:34:b1:af:66", Facts: []string{"dhcp.message_type=discover", "dhcp.param_list=1,28,2,121,15,6,12,40,41,42,26,119,3"}}}},
	{File: "dhcp/tcpdump-dhcp-rfc4388.pcap", Frame: 24, Obs: []wantObs{{About: protocols.Receiver, Source: "dhcp.offer", Role: "client", MAC: "5a:4f:34:b1:af:66", Facts: []string{"dhcp.message_type=offer"}}, {About: protocols.Sender, Source: "dhcp.offer", Role: "server", IP: "10.40.2.3", Facts: []string{"dhcp.message_type=offer", "dhcp.server_id=10.40.2.3"}}}},
	{File: "dhcp/tcpdump-dhcp-rfc4388.pcap", Frame: 25, Obs: []wantObs{{About: protocols.Sender, Source: "dhcp.request", Role: "client", MAC: "5a:4f:34:b1:af:66", Facts: []string{"dhcp.message_type=request", "dhcp.param_list=1,28,2,121,15,6,12,40,41,42,26,119,3", "dhcp.requested_ip=10.50.4.4"}}}},
	{File: "dhcp/tcpdump-dhcp-rfc4388.pcap", Frame: 26, Obs: []wantObs{{About: protocols.Receiver, Source: "dhcp.ack", Role: "client", MAC: "5a:4f:34:b1:af:66", IP: "10.50.4.4", Facts: []string{"dhcp.message_type=ack"}}, {About: protocols.Sender, Source: "dhcp.ack", Role: "server", IP: "10.40.2.3", Facts: []string{"dhcp.message_type=ack", "dhcp.server_id=10.40.2.3"}}}},
	{File: "dhcp/tcpdump-dhcp-rfc4388.pcap", Frame: 27, Err: "unsupported"},
	{File: "dhcp/tcpdump-dhcp-rfc4388.pcap", Frame: 28, Err: "unsupported"},
	{File: "dhcp/tcpdump-dhcp-rfc4388.pcap", Frame: 31, Obs: []wantObs{{About: protocols.Sender, Source: "dhcp.discover", Role: "client", MAC: "5a:4f:34:b1:af:66", Facts: []string{"dhcp.message_type=discover", "dhcp.param_list=1,28,2,121,15,6,12,40,41,42,26,119,3"}}}},
	{File: "dhcp/tcpdump-dhcp-rfc4388.pcap", Frame: 33, Obs: []wantObs{{About: protocols.Receiver, Source: "dhcp.offer", Role: "client", MAC: "5a:4f:34:b1:af:66", Facts: []string{"dhcp.message_type=offer"}}, {About: protocols.Sender, Source: "dhcp.offer", Role: "server", IP: "10.40.2.3", Facts: []string{"dhcp.message_type=offer", "dhcp.server_id=10.40.2.3"}}}},
	{File: "dhcp/tcpdump-dhcp-rfc4388.pcap", Frame: 34, Obs: []wantObs{{About: protocols.Sender, Source: "dhcp.request", Role: "client", MAC: "5a:4f:34:b1:af:66", Facts: []string{"dhcp.message_type=request", "dhcp.param_list=1,28,2,121,15,6,12,40,41,42,26,119,3", "dhcp.requested_ip=10.30.4.4"}}}},
	{File: "dhcp/tcpdump-dhcp-rfc4388.pcap", Frame: 35, Obs: []wantObs{{About: protocols.Receiver, Source: "dhcp.ack", Role: "client", MAC: "5a:4f:34:b1:af:66", IP: "10.30.4.4", Facts: []string{"dhcp.message_type=ack"}}, {About: protocols.Sender, Source: "dhcp.ack", Role: "server", IP: "10.40.2.3", Facts: []string{"dhcp.message_type=ack", "dhcp.server_id=10.40.2.3"}}}},
	{File: "dhcp/tcpdump-dhcp-rfc4388.pcap", Frame: 37, Err: "unsupported"},
	{File: "dhcp/tcpdump-dhcp-rfc4388.pcap", Frame: 38, Err: "unsupported"},
	{File: "dhcp/tcpdump-dhcp-rfc4388.pcap", Frame: 39, Err: "unsupported"},
	{File: "dhcp/tcpdump-dhcp-rfc4388.pcap", Frame: 40, Err: "unsupported"},
	{File: "dhcp/tcpdump-dhcp-rfc4388.pcap", Frame: 43, Err: "malformed"},
	{File: "dhcp/tcpdump-dhcp-rfc4388.pcap", Frame: 44, Err: "malformed"},
	{File: "dhcp/tcpdump-dhcp-rfc4388.pcap", Frame: 45, Err: "unsupported"},
	{File: "dhcp/tcpdump-dhcp-rfc4388.pcap", Frame: 48, Err: "unsupported"},
	{File: "dhcp/tcpdump-dhcp-rfc4388.pcap", Frame: 49, Err: "unsupported"},
	{File: "dhcp/tcpdump-dhcp-rfc4388.pcap", Frame: 50, Err: "unsupported"},
	{File: "dhcp/tcpdump-dhcp-rfc4388.pcap", Frame: 53, Err: "unsupported"},
	{File: "dhcp/tcpdump-dhcp-rfc4388.pcap", Frame: 54, Err: "unsupported"},
	{File: "dhcp/tcpdump-dhcp-rfc5859.pcap", Frame: 1, Obs: []wantObs{{About: protocols.Sender, Source: "dhcp.discover", Role: "client", MAC: "00:0c:29:1f:74:06", Facts: []string{"dhcp.message_type=discover", "dhcp.param_list=1,28,2,3,15,6,12,150"}}}},
	{File: "dhcp/tcpdump-dhcp-rfc5859.pcap", Frame: 2, Obs: []wantObs{{About: protocols.Receiver, Source: "dhcp.offer", Role: "client", MAC: "00:0c:29:1f:74:06", Facts: []string{"dhcp.message_type=offer"}}, {About: protocols.Sender, Source: "dhcp.offer", Role: "server", IP: "192.168.1.1", Facts: []string{"dhcp.message_type=offer", "dhcp.server_id=192.168.1.1"}}}},
	{File: "dhcp/tcpdump-dhcp-rfc5859.pcap", Frame: 3, Obs: []wantObs{{About: protocols.Sender, Source: "dhcp.request", Role: "client", MAC: "00:0c:29:1f:74:06", Facts: []string{"dhcp.message_type=request", "dhcp.param_list=1,28,2,3,15,6,12,150", "dhcp.requested_ip=192.168.1.4"}}}},
	{File: "dhcp/tcpdump-dhcp-rfc5859.pcap", Frame: 4, Obs: []wantObs{{About: protocols.Receiver, Source: "dhcp.ack", Role: "client", MAC: "00:0c:29:1f:74:06", IP: "192.168.1.4", Facts: []string{"dhcp.message_type=ack"}}, {About: protocols.Sender, Source: "dhcp.ack", Role: "server", IP: "192.168.1.1", Facts: []string{"dhcp.message_type=ack", "dhcp.server_id=192.168.1.1"}}}},
	{File: "dhcp/zeek-dhcp.pcap", Frame: 1, Obs: []wantObs{{About: protocols.Sender, Source: "dhcp.discover", Role: "client", MAC: "90:b1:1c:99:49:29", Hostname: "btest.is.cool", Facts: []string{"dhcp.message_type=discover", "dhcp.hostname=btest.is.cool", "dhcp.requested_ip=192.168.211.194"}}}},
	{File: "dhcp/zeek-dhcp.pcap", Frame: 2, Obs: []wantObs{{About: protocols.Receiver, Source: "dhcp.offer", Role: "client", MAC: "90:b1:1c:99:49:29", Facts: []string{"dhcp.message_type=offer"}}, {About: protocols.Sender, Source: "dhcp.offer", Role: "server", IP: "128.2.6.152", Facts: []string{"dhcp.message_type=offer", "dhcp.server_id=128.2.6.152", "dhcp.vendor_class=ArubaAP"}}}},
	{File: "dhcp/zeek-dhcp.pcap", Frame: 3, Obs: []wantObs{{About: protocols.Sender, Source: "dhcp.request", Role: "client", MAC: "90:b1:1c:99:49:29", Hostname: "btest.is.cool", Facts: []string{"dhcp.message_type=request", "dhcp.hostname=btest.is.cool", "dhcp.requested_ip=192.168.211.194"}}}},
	{File: "dhcp/zeek-dhcp.pcap", Frame: 4, Obs: []wantObs{{About: protocols.Receiver, Source: "dhcp.nak", Role: "client", MAC: "90:b1:1c:99:49:29", Facts: []string{"dhcp.message_type=nak"}}, {About: protocols.Sender, Source: "dhcp.nak", Role: "server", IP: "128.2.6.152", Facts: []string{"dhcp.message_type=nak", "dhcp.server_id=128.2.6.152"}}}},
	{File: "dhcp/zeek-dhcp.pcap", Frame: 5, Obs: []wantObs{{About: protocols.Sender, Source: "dhcp.request", Role: "client", MAC: "90:b1:1c:99:49:29", Hostname: "btest.is.cool", Facts: []string{"dhcp.message_type=request", "dhcp.hostname=btest.is.cool", "dhcp.requested_ip=128.2.6.189"}}}},
	{File: "dhcp/zeek-dhcp.pcap", Frame: 6, Obs: []wantObs{{About: protocols.Receiver, Source: "dhcp.ack", Role: "client", MAC: "90:b1:1c:99:49:29", IP: "128.2.6.189", Facts: []string{"dhcp.message_type=ack"}}, {About: protocols.Sender, Source: "dhcp.ack", Role: "server", IP: "128.2.6.152", Facts: []string{"dhcp.message_type=ack", "dhcp.server_id=128.2.6.152", "dhcp.vendor_class=ArubaAP"}}}},
	{File: "dhcp/zeek-dhcp.pcap", Frame: 7, Obs: []wantObs{{About: protocols.Sender, Source: "dhcp.decline", Role: "client", MAC: "90:b1:1c:99:49:29", Facts: []string{"dhcp.message_type=decline"}}}},
	{File: "dhcp/zeek-dhcp.pcap", Frame: 8, Obs: []wantObs{{About: protocols.Sender, Source: "dhcp.release", Role: "client", MAC: "90:b1:1c:99:49:29", Facts: []string{"dhcp.message_type=release"}}}},
	{File: "dhcp/zeek-dhcp.pcap", Frame: 9, Obs: []wantObs{{About: protocols.Sender, Source: "dhcp.inform", Role: "client", MAC: "90:b1:1c:99:49:29", Hostname: "btest.is.cool", Facts: []string{"dhcp.message_type=inform", "dhcp.hostname=btest.is.cool", "dhcp.requested_ip=128.2.6.189"}}}},
	{File: "dhcp/zeek-dhcp_discover_param_req_and_client_id.pcap", Frame: 1, Obs: []wantObs{{About: protocols.Sender, Source: "dhcp.discover", Role: "client", MAC: "00:0b:82:01:fc:42", Hostname: "test0000", Facts: []string{"dhcp.message_type=discover", "dhcp.hostname=test0000", "dhcp.client_id=01:00:0b:82:01:fc:42", "dhcp.param_list=1,3,6,42", "dhcp.requested_ip=208.67.222.222"}}}},
	{File: "dhcp/zeek-dhcp_inform.pcap", Frame: 1, Obs: []wantObs{{About: protocols.Sender, Source: "dhcp.inform", Role: "client", MAC: "90:b1:1c:99:49:29", IP: "128.2.6.122", Facts: []string{"dhcp.message_type=inform", "dhcp.param_list=1"}}}},
	{File: "dhcp/zeek-dhcp_inform.pcap", Frame: 2, Obs: []wantObs{{About: protocols.Receiver, Source: "dhcp.ack", Role: "client", MAC: "90:b1:1c:99:49:29", Facts: []string{"dhcp.message_type=ack"}}, {About: protocols.Sender, Source: "dhcp.ack", Role: "server", IP: "128.2.6.152", Facts: []string{"dhcp.message_type=ack", "dhcp.server_id=128.2.6.152"}}}},
	{File: "dhcp/zeek-dhcp_time_and_nameserver.pcap", Frame: 1, Obs: []wantObs{{About: protocols.Sender, Source: "dhcp.request", Role: "client", MAC: "00:90:f5:91:cd:1f", Hostname: "pop-os", Facts: []string{"dhcp.message_type=request", "dhcp.hostname=pop-os", "dhcp.param_list=1,28,2,3,15,6,119,12,44,47,26,121,42,4,5,249,33,252", "dhcp.requested_ip=192.168.15.250"}}}},
	{File: "dhcp/zeek-dhcp_time_and_nameserver.pcap", Frame: 2, Obs: []wantObs{{About: protocols.Receiver, Source: "dhcp.ack", Role: "client", MAC: "00:90:f5:91:cd:1f", IP: "192.168.15.250", Facts: []string{"dhcp.message_type=ack"}}, {About: protocols.Sender, Source: "dhcp.ack", Role: "server", IP: "192.168.15.101", Facts: []string{"dhcp.message_type=ack", "dhcp.server_id=192.168.15.101"}}}},
	{File: "device-mixed/ndpi-android.pcap", Frame: 13, Obs: []wantObs{{About: protocols.Sender, Source: "dhcp.discover", Role: "client", MAC: "d8:30:62:56:00:1c", Hostname: "Lucas-iMac", Facts: []string{"dhcp.message_type=discover", "dhcp.hostname=Lucas-iMac", "dhcp.client_id=01:d8:30:62:56:00:1c", "dhcp.param_list=1,121,3,6,15,119,252,95,44,46", "dhcp.max_message_size=1500"}}}},
	{File: "device-mixed/ndpi-android.pcap", Frame: 15, Obs: []wantObs{{About: protocols.Sender, Source: "dhcp.discover", Role: "client", MAC: "d8:30:62:56:00:1c", Hostname: "Lucas-iMac", Facts: []string{"dhcp.message_type=discover", "dhcp.hostname=Lucas-iMac", "dhcp.client_id=01:d8:30:62:56:00:1c", "dhcp.param_list=1,121,3,6,15,119,252,95,44,46", "dhcp.max_message_size=1500"}}}},
	{File: "device-mixed/ndpi-android.pcap", Frame: 20, Obs: []wantObs{{About: protocols.Sender, Source: "dhcp.discover", Role: "client", MAC: "d8:30:62:56:00:1c", Hostname: "Lucas-iMac", Facts: []string{"dhcp.message_type=discover", "dhcp.hostname=Lucas-iMac", "dhcp.client_id=01:d8:30:62:56:00:1c", "dhcp.param_list=1,121,3,6,15,119,252,95,44,46", "dhcp.max_message_size=1500"}}}},
	{File: "device-mixed/ndpi-android.pcap", Frame: 25, Obs: []wantObs{{About: protocols.Sender, Source: "dhcp.discover", Role: "client", MAC: "d8:30:62:56:00:1c", Hostname: "Lucas-iMac", Facts: []string{"dhcp.message_type=discover", "dhcp.hostname=Lucas-iMac", "dhcp.client_id=01:d8:30:62:56:00:1c", "dhcp.param_list=1,121,3,6,15,119,252,95,44,46", "dhcp.max_message_size=1500"}}}},
	{File: "device-mixed/ndpi-android.pcap", Frame: 34, Obs: []wantObs{{About: protocols.Sender, Source: "dhcp.discover", Role: "client", MAC: "d8:30:62:56:00:1c", Hostname: "Lucas-iMac", Facts: []string{"dhcp.message_type=discover", "dhcp.hostname=Lucas-iMac", "dhcp.client_id=01:d8:30:62:56:00:1c", "dhcp.param_list=1,121,3,6,15,119,252,95,44,46", "dhcp.max_message_size=1500"}}}},
	{File: "device-mixed/ndpi-android.pcap", Frame: 37, Obs: []wantObs{{About: protocols.Sender, Source: "dhcp.discover", Role: "client", MAC: "d8:30:62:56:00:1c", Hostname: "Lucas-iMac", Facts: []string{"dhcp.message_type=discover", "dhcp.hostname=Lucas-iMac", "dhcp.client_id=01:d8:30:62:56:00:1c", "dhcp.param_list=1,121,3,6,15,119,252,95,44,46", "dhcp.max_message_size=1500"}}}},
	{File: "device-mixed/ndpi-android.pcap", Frame: 41, Obs: []wantObs{{About: protocols.Sender, Source: "dhcp.discover", Role: "client", MAC: "d8:30:62:56:00:1c", Hostname: "Lucas-iMac", Facts: []string{"dhcp.message_type=discover", "dhcp.hostname=Lucas-iMac", "dhcp.client_id=01:d8:30:62:56:00:1c", "dhcp.param_list=1,121,3,6,15,119,252,95,44,46", "dhcp.max_message_size=1500"}}}},
	{File: "device-mixed/ndpi-android.pcap", Frame: 48, Obs: []wantObs{{About: protocols.Sender, Source: "dhcp.discover", Role: "client", MAC: "d8:30:62:56:00:1c", Hostname: "Lucas-iMac", Facts: []string{"dhcp.message_type=discover", "dhcp.hostname=Lucas-iMac", "dhcp.client_id=01:d8:30:62:56:00:1c", "dhcp.param_list=1,121,3,6,15,119,252,95,44,46", "dhcp.max_message_size=1500"}}}},
	{File: "device-mixed/ndpi-android.pcap", Frame: 49, Obs: []wantObs{{About: protocols.Sender, Source: "dhcp.discover", Role: "client", MAC: "d8:30:62:56:00:1c", Hostname: "Lucas-iMac", Facts: []string{"dhcp.message_type=discover", "dhcp.hostname=Lucas-iMac", "dhcp.client_id=01:d8:30:62:56:00:1c", "dhcp.param_list=1,121,3,6,15,119,252,95,44,46", "dhcp.max_message_size=1500"}}}},
	{File: "device-mixed/ndpi-android.pcap", Frame: 57, Obs: []wantObs{{About: protocols.Sender, Source: "dhcp.discover", Role: "client", MAC: "d8:30:62:56:00:1c", Hostname: "Lucas-iMac", Facts: []string{"dhcp.message_type=discover", "dhcp.hostname=Lucas-iMac", "dhcp.client_id=01:d8:30:62:56:00:1c", "dhcp.param_list=1,121,3,6,15,119,252,95,44,46", "dhcp.max_message_size=1500"}}}},
	{File: "device-mixed/ndpi-android.pcap", Frame: 67, Obs: []wantObs{{About: protocols.Sender, Source: "dhcp.discover", Role: "client", MAC: "4c:6a:f6:9f:f6:27", Facts: []string{"dhcp.message_type=discover", "dhcp.client_id=01:4c:6a:f6:9f:f6:27", "dhcp.vendor_class=android-dhcp-9", "dhcp.param_list=1,3,6,15,26,28,51,58,59,43", "dhcp.max_message_size=1500"}}}},
	{File: "device-mixed/ndpi-android.pcap", Frame: 68, Obs: []wantObs{{About: protocols.Receiver, Source: "dhcp.offer", Role: "client", MAC: "4c:6a:f6:9f:f6:27", Facts: []string{"dhcp.message_type=offer"}}, {About: protocols.Sender, Source: "dhcp.offer", Role: "server", IP: "192.168.2.1", Facts: []string{"dhcp.message_type=offer", "dhcp.server_id=192.168.2.1"}}}},
	{File: "device-mixed/ndpi-android.pcap", Frame: 71, Obs: []wantObs{{About: protocols.Sender, Source: "dhcp.request", Role: "client", MAC: "4c:6a:f6:9f:f6:27", Facts: []string{"dhcp.message_type=request", "dhcp.client_id=01:4c:6a:f6:9f:f6:27", "dhcp.vendor_class=android-dhcp-9", "dhcp.param_list=1,3,6,15,26,28,51,58,59,43", "dhcp.requested_ip=192.168.2.16", "dhcp.max_message_size=1500"}}}},
	{File: "device-mixed/ndpi-android.pcap", Frame: 72, Obs: []wantObs{{About: protocols.Receiver, Source: "dhcp.ack", Role: "client", MAC: "4c:6a:f6:9f:f6:27", IP: "192.168.2.16", Facts: []string{"dhcp.message_type=ack"}}, {About: protocols.Sender, Source: "dhcp.ack", Role: "server", IP: "192.168.2.1", Facts: []string{"dhcp.message_type=ack", "dhcp.server_id=192.168.2.1"}}}},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 2, Obs: []wantObs{{About: protocols.Sender, Source: "dhcp.discover", Role: "client", MAC: "d8:30:62:56:00:1c", Hostname: "Lucas-iMac", Facts: []string{"dhcp.message_type=discover", "dhcp.hostname=Lucas-iMac", "dhcp.client_id=01:d8:30:62:56:00:1c", "dhcp.param_list=1,121,3,6,15,119,252,95,44,46", "dhcp.max_message_size=1500"}}}},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 12, Obs: []wantObs{{About: protocols.Sender, Source: "dhcp.discover", Role: "client", MAC: "d8:30:62:56:00:1c", Hostname: "Lucas-iMac", Facts: []string{"dhcp.message_type=discover", "dhcp.hostname=Lucas-iMac", "dhcp.client_id=01:d8:30:62:56:00:1c", "dhcp.param_list=1,121,3,6,15,119,252,95,44,46", "dhcp.max_message_size=1500"}}}},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 13, Obs: []wantObs{{About: protocols.Sender, Source: "dhcp.discover", Role: "client", MAC: "d8:30:62:56:00:1c", Hostname: "Lucas-iMac", Facts: []string{"dhcp.message_type=discover", "dhcp.hostname=Lucas-iMac", "dhcp.client_id=01:d8:30:62:56:00:1c", "dhcp.param_list=1,121,3,6,15,119,252,95,44,46", "dhcp.max_message_size=1500"}}}},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 14, Obs: []wantObs{{About: protocols.Sender, Source: "dhcp.discover", Role: "client", MAC: "d8:30:62:56:00:1c", Hostname: "Lucas-iMac", Facts: []string{"dhcp.message_type=discover", "dhcp.hostname=Lucas-iMac", "dhcp.client_id=01:d8:30:62:56:00:1c", "dhcp.param_list=1,121,3,6,15,119,252,95,44,46", "dhcp.max_message_size=1500"}}}},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 24, Obs: []wantObs{{About: protocols.Sender, Source: "dhcp.discover", Role: "client", MAC: "d8:30:62:56:00:1c", Hostname: "Lucas-iMac", Facts: []string{"dhcp.message_type=discover", "dhcp.hostname=Lucas-iMac", "dhcp.client_id=01:d8:30:62:56:00:1c", "dhcp.param_list=1,121,3,6,15,119,252,95,44,46", "dhcp.max_message_size=1500"}}}},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 29, Obs: []wantObs{{About: protocols.Sender, Source: "dhcp.discover", Role: "client", MAC: "c4:61:8b:35:82:a9", Hostname: "Lucas-iPhone", Facts: []string{"dhcp.message_type=discover", "dhcp.hostname=Lucas-iPhone", "dhcp.client_id=01:c4:61:8b:35:82:a9", "dhcp.param_list=1,121,3,6,15,119,252", "dhcp.max_message_size=1500"}}}},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 30, Obs: []wantObs{{About: protocols.Receiver, Source: "dhcp.offer", Role: "client", MAC: "c4:61:8b:35:82:a9", Facts: []string{"dhcp.message_type=offer"}}, {About: protocols.Sender, Source: "dhcp.offer", Role: "server", IP: "192.168.2.1", Facts: []string{"dhcp.message_type=offer", "dhcp.server_id=192.168.2.1"}}}},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 35, Obs: []wantObs{{About: protocols.Sender, Source: "dhcp.request", Role: "client", MAC: "c4:61:8b:35:82:a9", Hostname: "Lucas-iPhone", Facts: []string{"dhcp.message_type=request", "dhcp.hostname=Lucas-iPhone", "dhcp.client_id=01:c4:61:8b:35:82:a9", "dhcp.param_list=1,121,3,6,15,119,252", "dhcp.requested_ip=192.168.2.17", "dhcp.max_message_size=1500"}}}},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 36, Obs: []wantObs{{About: protocols.Receiver, Source: "dhcp.ack", Role: "client", MAC: "c4:61:8b:35:82:a9", IP: "192.168.2.17", Facts: []string{"dhcp.message_type=ack"}}, {About: protocols.Sender, Source: "dhcp.ack", Role: "server", IP: "192.168.2.1", Facts: []string{"dhcp.message_type=ack", "dhcp.server_id=192.168.2.1"}}}},
}

// repoCapture returns the path of the repository's own testdata/captures
// file name, found by walking up to go.mod, or skips.
func repoCapture(t *testing.T, name string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			p := filepath.Join(dir, "testdata", "captures", name)
			if _, err := os.Stat(p); err != nil {
				t.Skipf("repository capture missing: %v", err)
			}
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("repository root (go.mod) not found")
		}
		dir = parent
	}
}

// TestRepoCaptures checks the DHCP exchanges of the repository's netns
// captures (dnsmasq, ISC dhclient, busybox udhcpc): the stable device facts,
// and every datagram against tshark when it is installed.
func TestRepoCaptures(t *testing.T) {
	path := repoCapture(t, "dhcp-dnsmasq.pcap")
	var got []wantMsg
	for _, d := range corpustest.UDP(t, path, ServerPort, ClientPort) {
		obs, err := decode(d.Payload)
		m := wantMsg{File: "dhcp-dnsmasq.pcap", Frame: d.Frame, Err: protocols.Reason(err)}
		for _, o := range obs {
			m.Obs = append(m.Obs, compact(o))
		}
		got = append(got, m)
	}
	facts := []struct{ mac, fact string }{
		{"00:1b:21:77:00:07", "dhcp.hostname=INFUSION-07"},
		{"00:1b:21:77:00:07", "dhcp.vendor_class=BD-Alaris-PCU"},
		{"00:1b:21:77:00:07", "dhcp.param_list=1,28,2,3,15,6,12,42"},
		{"00:09:fb:77:00:03", "dhcp.hostname=ICU-MONITOR-3"},
		{"00:09:fb:77:00:03", "dhcp.vendor_class=Philips-IntelliVue"},
		{"00:09:fb:77:00:03", "dhcp.client_id=01:00:09:fb:77:00:03"},
	}
	for i, tc := range facts {
		found := false
		for _, m := range got {
			for _, o := range m.Obs {
				found = found || (o.MAC == tc.mac && slices.Contains(o.Facts, tc.fact))
			}
		}
		if !found {
			t.Errorf("Test %d: expected %s for %s, not found", i, tc.fact, tc.mac)
		}
	}
	if tshark, err := exec.LookPath("tshark"); err == nil {
		compareMsgs(t, got, tsharkExpect(t, tshark, "dhcp-dnsmasq.pcap", path))
	}
}
