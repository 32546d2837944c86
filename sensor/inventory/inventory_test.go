package inventory

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/iomt-sensor/iomt-sensor/protocols"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

var t0 = time.Date(2024, 3, 1, 8, 0, 0, 0, time.UTC)

func at(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }

func mac(s string) protocols.MAC {
	var m protocols.MAC
	if _, err := fmt.Sscanf(s, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]); err != nil {
		panic(err)
	}
	return m
}

func ep(m, ip string) Endpoint {
	e := Endpoint{}
	if m != "" {
		e.MAC = mac(m)
	}
	if ip != "" {
		e.IP = netip.MustParseAddr(ip)
	}
	return e
}

// call is one call into the inventory, so that tests can replay a set of
// calls in any order.
type call func(inv *Inventory)

func flow(sec int, c, s Endpoint, tr protocols.Transport, port uint16, proto string, answered bool) call {
	return func(inv *Inventory) {
		inv.Flow(FlowSeen{Time: at(sec), Client: c, Server: s, Transport: tr, ServerPort: port, Protocol: proto, Answered: answered})
	}
}

func observe(sec int, sender, receiver Endpoint, o protocols.Observation) call {
	return func(inv *Inventory) { inv.Observe(at(sec), sender, receiver, o) }
}

func arp(sec int, m, ip string) call {
	return observe(sec, ep(m, ip), ep("ff:ff:ff:ff:ff:ff", ""), protocols.Observation{
		Protocol: "arp", Source: "arp.reply", MAC: mac(m), IP: netip.MustParseAddr(ip)})
}

const (
	routerMAC = "00:00:5e:00:01:01"
	pacsMAC   = "00:1b:21:3a:4f:10"
	ctMAC     = "08:00:27:aa:bb:cc"
	pumpMAC   = "00:09:fb:12:34:56"
	dhcpMAC   = "52:54:00:00:00:01"
)

// routerCalls: a router (ARP-bound to 10.0.0.1) forwards 20 clients to a
// PACS: 2 internal ones from another subnet, 18 public ones.
func routerCalls() []call {
	calls := []call{arp(0, routerMAC, "10.0.0.1")}
	pacs := ep(pacsMAC, "10.0.0.20")
	for i := range 20 {
		src := fmt.Sprintf("198.51.100.%d", i+1)
		if i < 2 {
			src = fmt.Sprintf("10.9.0.%d", i+1)
		}
		calls = append(calls, flow(10+i, ep(routerMAC, src), pacs, protocols.TCP, 104, "dicom", true))
	}
	return calls
}

// dhcpCalls: a pump asks for an address (DISCOVER from 0.0.0.0) and gets
// 10.0.0.50 (ACK), from a DHCP server answering on udp/67.
func dhcpCalls() []call {
	srv := Endpoint{MAC: mac(dhcpMAC), IP: netip.MustParseAddr("10.0.0.2"), Transport: protocols.UDP, Port: 67}
	bcast := ep("ff:ff:ff:ff:ff:ff", "255.255.255.255")
	return []call{
		observe(100, ep(pumpMAC, "0.0.0.0"), bcast, protocols.Observation{
			Protocol: "dhcp", Source: "dhcp.discover", About: protocols.Sender, MAC: mac(pumpMAC),
			Hostname: "PUMP-7", Role: "client",
			Facts: []protocols.Fact{{Name: "dhcp.message_type", Value: "DISCOVER"}, {Name: "dhcp.vendor_class", Value: "BD Alaris"}}}),
		observe(101, srv, bcast, protocols.Observation{
			Protocol: "dhcp", Source: "dhcp.ack", About: protocols.Receiver, MAC: mac(pumpMAC),
			IP: netip.MustParseAddr("10.0.0.50"), Role: "client",
			Facts: []protocols.Fact{{Name: "dhcp.message_type", Value: "ACK"}}}),
		observe(101, srv, bcast, protocols.Observation{
			Protocol: "dhcp", Source: "dhcp.ack", About: protocols.Sender, Role: "server",
			IP:    netip.MustParseAddr("10.0.0.2"),
			Facts: []protocols.Fact{{Name: "dhcp.message_type", Value: "ACK"}, {Name: "dhcp.server_id", Value: "10.0.0.2"}}}),
	}
}

// mixedCalls: a CT talks DICOM to the PACS and HTTPS to the internet through
// the router, a loopback flow, broadcast noise, and the sets above.
func mixedCalls() []call {
	ct := ep(ctMAC, "10.0.0.30")
	calls := []call{
		arp(1, ctMAC, "10.0.0.30"),
		flow(20, ct, ep(pacsMAC, "10.0.0.20"), protocols.TCP, 104, "", false),
		flow(21, ct, ep(pacsMAC, "10.0.0.20"), protocols.TCP, 104, "", true),
		flow(22, ct, ep(pacsMAC, "10.0.0.20"), protocols.TCP, 104, "dicom", true),
		flow(23, ct, ep(routerMAC, "93.184.216.34"), protocols.TCP, 443, "tls", true),
		flow(24, ct, ep(routerMAC, "10.9.0.1"), protocols.TCP, 22, "", false),
		flow(25, ep("", "127.0.0.1"), ep("", "127.0.0.1"), protocols.TCP, 8080, "http", true),
		flow(26, ct, ep("ff:ff:ff:ff:ff:ff", "10.0.0.255"), protocols.UDP, 137, "", false),
		func(inv *Inventory) {
			inv.Flow(FlowSeen{Time: at(28), Client: ct, Server: ep(pacsMAC, "10.0.0.20"), Transport: protocols.TCP,
				ServerPort: 104, Protocol: "dicom", Answered: true, VLAN: 20})
		},
		observe(27, ct, ep(pacsMAC, "10.0.0.20"), protocols.Observation{
			Protocol: "dicom", Source: "dicom.a-associate-rq", About: protocols.Sender, Role: "scu",
			Facts: []protocols.Fact{{Name: "dicom.calling_ae", Value: "CT_ROOM2"}, {Name: "dicom.implementation_class_uid", Value: "1.2.840.113619.6.94"}}}),
		observe(27, ct, ep(pacsMAC, "10.0.0.20"), protocols.Observation{
			Protocol: "dicom", Source: "dicom.a-associate-rq", About: protocols.Receiver, Role: "scp",
			Facts: []protocols.Fact{{Name: "dicom.called_ae", Value: "PACS"}}}),
	}
	calls = append(calls, routerCalls()...)
	return append(calls, dhcpCalls()...)
}

func run(cfg Config, calls []call) *Inventory {
	inv := New(cfg, nil)
	for _, c := range calls {
		c(inv)
	}
	return inv
}

func assetsJSON(t testing.TB, inv *Inventory) []byte {
	t.Helper()
	b, err := json.MarshalIndent(inv.Assets(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s: output differs from golden file (go test -update rewrites it):\n%s", name, got)
	}
}

func find(assets []Asset, id string) *Asset {
	for i := range assets {
		if assets[i].ID == id {
			return &assets[i]
		}
	}
	return nil
}

func ids(assets []Asset) []string {
	var s []string
	for _, a := range assets {
		s = append(s, a.ID)
	}
	return s
}

func TestGolden(t *testing.T) {
	tests := []struct {
		name  string
		calls []call
	}{
		{"router.json", routerCalls()},
		{"dhcp.json", dhcpCalls()},
		{"mixed.json", mixedCalls()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			golden(t, tc.name, assetsJSON(t, run(Config{Sensor: "icu-span-1"}, tc.calls)))
		})
	}
}

func TestRouter(t *testing.T) {
	inv := run(Config{Sensor: "s"}, routerCalls())
	assets := inv.Assets()
	want := []string{"ip:10.9.0.1", "ip:10.9.0.2", "mac:" + routerMAC, "mac:" + pacsMAC}
	if got := strings.Join(ids(assets), " "); got != strings.Join(want, " ") {
		t.Fatalf("expected assets %v, got %v", want, got)
	}
	r := find(assets, "mac:"+routerMAC)
	if strings.Join(r.IPs, ",") != "10.0.0.1" {
		t.Errorf("router: expected ips [10.0.0.1], got %v", r.IPs)
	}
	p := find(assets, "mac:"+pacsMAC)
	if len(p.Peers) != 20 {
		t.Errorf("pacs: expected 20 peers, got %d: %v", len(p.Peers), p.Peers)
	}
	for _, peer := range p.Peers {
		if peer.Role != "client" || peer.Protocol != "dicom" || !strings.HasPrefix(peer.Asset, "ip:") {
			t.Errorf("pacs: unexpected peer %+v", peer)
		}
	}
	if len(p.Services) != 1 || p.Services[0] != (Service{"tcp", 104, "dicom", "server"}) {
		t.Errorf("pacs: expected service tcp/104 dicom, got %v", p.Services)
	}
	st := inv.Stats()
	if st.Assets != 4 || st.ByCategory["unknown"] != 4 || st.NonMedical != 4 || st.Medical != 0 {
		t.Errorf("expected stats of 4 unknown non-medical assets, got %+v", st)
	}
	// With only 4 source IPs the MAC is no router: one asset carries them all.
	inv = run(Config{}, routerCalls()[:5])
	if got := ids(inv.Assets()); len(got) != 2 {
		t.Errorf("below RouterMinIPs: expected 2 assets, got %v", got)
	}
}

func TestDHCP(t *testing.T) {
	tests := []struct {
		name      string
		calls     int // prefix of dhcpCalls
		wantIPs   string
		wantNames string
	}{
		{"discover only", 1, "", "PUMP-7"},
		{"discover then ack", 3, "10.0.0.50", "PUMP-7"},
	}
	for i, tc := range tests {
		inv := run(Config{}, dhcpCalls()[:tc.calls])
		a := find(inv.Assets(), "mac:"+pumpMAC)
		if a == nil {
			t.Fatalf("Test %d (%s): expected asset mac:%s, got %v", i, tc.name, pumpMAC, ids(inv.Assets()))
		}
		if got := strings.Join(a.IPs, ","); got != tc.wantIPs {
			t.Errorf("Test %d (%s): expected ips %q, got %q", i, tc.name, tc.wantIPs, got)
		}
		if got := strings.Join(a.Hostnames, ","); got != tc.wantNames {
			t.Errorf("Test %d (%s): expected hostnames %q, got %q", i, tc.name, tc.wantNames, got)
		}
		// Its MAC is under Philips Patient Monitoring's OUI: the default
		// rules make it a Philips medical device of unknown category.
		if a.Protocols[0] != "dhcp" || a.Category != "unknown" || a.Vendor != "Philips" || !a.Medical {
			t.Errorf("Test %d (%s): unexpected asset %+v", i, tc.name, a)
		}
	}
	srv := find(run(Config{}, dhcpCalls()).Assets(), "mac:"+dhcpMAC)
	if srv == nil || len(srv.Services) != 1 || srv.Services[0] != (Service{"udp", 67, "dhcp", "server"}) {
		t.Errorf("dhcp server: expected service udp/67 dhcp, got %+v", srv)
	}
}

func TestServicesAndPeers(t *testing.T) {
	a, b := ep(ctMAC, "10.0.0.30"), ep(pacsMAC, "10.0.0.20")
	tests := []struct {
		name     string
		calls    []call
		services string // of b
		peersOfA string
		peersOfB string
	}{
		{"syn only", []call{flow(1, a, b, protocols.TCP, 104, "", false)},
			"", "mac:" + pacsMAC + "/tcp/server", "mac:" + ctMAC + "/tcp/client"},
		{"syn-ack", []call{flow(1, a, b, protocols.TCP, 104, "", true)},
			"tcp/104/", "mac:" + pacsMAC + "/tcp/server", "mac:" + ctMAC + "/tcp/client"},
		{"detected later", []call{flow(1, a, b, protocols.TCP, 104, "", true), flow(2, a, b, protocols.TCP, 104, "dicom", true)},
			"tcp/104/dicom", "mac:" + pacsMAC + "/dicom/server", "mac:" + ctMAC + "/dicom/client"},
		{"udp reply", []call{flow(1, a, b, protocols.UDP, 161, "snmp", true)},
			"udp/161/snmp", "mac:" + pacsMAC + "/snmp/server", "mac:" + ctMAC + "/snmp/client"},
	}
	for i, tc := range tests {
		assets := run(Config{}, tc.calls).Assets()
		var svc, pa, pb []string
		for _, s := range find(assets, "mac:"+pacsMAC).Services {
			svc = append(svc, fmt.Sprintf("%s/%d/%s", s.Transport, s.Port, s.Protocol))
		}
		for _, p := range find(assets, "mac:"+ctMAC).Peers {
			pa = append(pa, p.Asset+"/"+p.Protocol+"/"+p.Role)
		}
		for _, p := range find(assets, "mac:"+pacsMAC).Peers {
			pb = append(pb, p.Asset+"/"+p.Protocol+"/"+p.Role)
		}
		if got := strings.Join(svc, " "); got != tc.services {
			t.Errorf("Test %d (%s): expected services %q, got %q", i, tc.name, tc.services, got)
		}
		if got := strings.Join(pa, " "); got != tc.peersOfA {
			t.Errorf("Test %d (%s): expected client peers %q, got %q", i, tc.name, tc.peersOfA, got)
		}
		if got := strings.Join(pb, " "); got != tc.peersOfB {
			t.Errorf("Test %d (%s): expected server peers %q, got %q", i, tc.name, tc.peersOfB, got)
		}
	}
}

func TestNeverAssets(t *testing.T) {
	calls := []call{
		flow(1, ep("", "0.0.0.0"), ep("ff:ff:ff:ff:ff:ff", "255.255.255.255"), protocols.UDP, 67, "", false),
		flow(2, ep("", "::"), ep("33:33:00:00:00:01", "ff02::1"), protocols.UDP, 5353, "", false),
		flow(3, ep("", "8.8.8.8"), ep("", "1.1.1.1"), protocols.UDP, 53, "dns", true),
	}
	if got := run(Config{}, calls).Assets(); len(got) != 0 {
		t.Errorf("expected no assets, got %v", ids(got))
	}
}

// capCalls offers 20 evidence facts and 20 peers to one asset.
func capCalls() []call {
	a := ep(ctMAC, "10.0.0.30")
	var calls []call
	for i := range 20 {
		calls = append(calls,
			observe(i, a, Endpoint{}, protocols.Observation{Protocol: "x", Source: "x.msg",
				Facts: []protocols.Fact{{Name: "x.fact", Value: fmt.Sprintf("v%02d", i)}}}),
			flow(i, a, ep("", fmt.Sprintf("10.1.0.%d", i+1)), protocols.TCP, 80, "http", true))
	}
	return calls
}

func TestCaps(t *testing.T) {
	cfg := Config{MaxEvidence: 3, MaxPeers: 2}
	var first []byte
	for seed := range 20 {
		calls := capCalls()
		rand.New(rand.NewSource(int64(seed))).Shuffle(len(calls), func(i, j int) { calls[i], calls[j] = calls[j], calls[i] })
		inv := run(cfg, calls)
		a := find(inv.Assets(), "mac:"+ctMAC)
		// Evidence the sensor derives (OUI vendor, rules) is not capped.
		a.Evidence = slices.DeleteFunc(a.Evidence, func(e Evidence) bool { return e.Source == "oui" || e.Source == "rule" })
		if len(a.Evidence) != 3 || a.Evidence[0].Value != "v00" || a.Evidence[2].Value != "v02" {
			t.Fatalf("seed %d: expected evidence v00..v02, got %v", seed, a.Evidence)
		}
		if len(a.Peers) != 2 || a.Peers[0].Asset != "ip:10.1.0.1" || a.Peers[1].Asset != "ip:10.1.0.2" {
			t.Fatalf("seed %d: expected the 2 smallest peers, got %v", seed, a.Peers)
		}
		st := inv.Stats()
		if st.EvidenceDropped < 17 || st.PeersDropped < 18 {
			t.Errorf("seed %d: expected drops counted, got %+v", seed, st)
		}
		got := assetsJSON(t, inv)
		if first == nil {
			first = got
		} else if !bytes.Equal(first, got) {
			t.Fatalf("seed %d: output differs from seed 0:\n%s\n%s", seed, first, got)
		}
	}
}

// TestEndpointLayout checks what the order of endpoint's fields is for:
// the table's item is in the 384-byte size class, whose objects start on a
// cache line, and the fields every Flow and Observe reads are in the first
// two lines.
func TestEndpointLayout(t *testing.T) {
	var it item[epKey, endpoint]
	if n := unsafe.Sizeof(it); n <= 352 || n > 384 {
		t.Errorf("expected the endpoint table's item in the 384-byte size class, got %d bytes", n)
	}
	if end := unsafe.Offsetof(it.val) + unsafe.Offsetof(it.val.evidence) + unsafe.Sizeof(it.val.evidence); end > 128 {
		t.Errorf("expected peers and evidence in the first two cache lines, got them ending at byte %d", end)
	}
}

// TestOrder replays the same calls in many orders, with the default caps and
// with caps small enough that endpoints, MACs and sets overflow: the JSON of
// the assets must be byte-identical every time.
func TestOrder(t *testing.T) {
	configs := []Config{
		{Sensor: "s"},
		{Sensor: "s", MaxAssets: 4, MaxEndpoints: 9, MaxEvidence: 2, MaxPeers: 3, MaxServices: 1, MaxHostnames: 1, MaxIPs: 1, RouterMinIPs: 2},
	}
	for ci, cfg := range configs {
		calls := append(mixedCalls(), capCalls()...)
		want := assetsJSON(t, run(cfg, calls))
		for seed := range 200 {
			rand.New(rand.NewSource(int64(seed))).Shuffle(len(calls), func(i, j int) { calls[i], calls[j] = calls[j], calls[i] })
			if got := assetsJSON(t, run(cfg, calls)); !bytes.Equal(got, want) {
				t.Fatalf("config %d seed %d: JSON differs:\nwant %s\ngot  %s", ci, seed, want, got)
			}
		}
	}
}

func TestEvents(t *testing.T) {
	var got []string
	inv := New(Config{UpdateInterval: 30 * time.Second}, func(e Event) {
		got = append(got, fmt.Sprintf("%s %s %d", e.Kind, e.Asset.ID, int(e.Time.Sub(t0)/time.Second)))
	})
	a, b := ep(ctMAC, "10.0.0.30"), ep(pacsMAC, "10.0.0.20")
	steps := []struct {
		do   func()
		want []string
	}{
		{func() { flow(0, a, b, protocols.TCP, 104, "", false)(inv); inv.Advance(at(0)) },
			[]string{"asset.new mac:" + pacsMAC + " 0", "asset.new mac:" + ctMAC + " 0"}},
		{func() { flow(1, a, b, protocols.TCP, 104, "", true)(inv); inv.Advance(at(1)) }, nil},
		{func() { inv.Advance(at(29)) }, nil},
		{func() { inv.Advance(at(30)) },
			[]string{"asset.update mac:" + pacsMAC + " 30", "asset.update mac:" + ctMAC + " 30"}},
		{func() { inv.Advance(at(31)) }, nil},
		// An unchanged asset emits nothing even once due.
		{func() { flow(1, a, b, protocols.TCP, 104, "", true)(inv); inv.Advance(at(70)) }, nil},
		{func() { flow(71, a, b, protocols.TCP, 104, "dicom", true)(inv); inv.Advance(at(71)) },
			[]string{"asset.update mac:" + pacsMAC + " 71", "asset.update mac:" + ctMAC + " 71"}},
		{func() {
			flow(72, a, ep(dhcpMAC, "10.0.0.2"), protocols.UDP, 67, "dhcp", true)(inv)
			inv.Advance(at(72))
		},
			[]string{"asset.new mac:" + dhcpMAC + " 72"}},
		// A new MAC/IP binding is an identity change: no waiting.
		{func() { arp(73, ctMAC, "10.0.0.31")(inv); inv.Advance(at(73)) }, []string{"asset.update mac:" + ctMAC + " 73"}},
		{func() { flow(74, a, b, protocols.TCP, 2762, "dicom", true)(inv); inv.Advance(at(74)) }, nil},
		{func() { inv.Flush(at(80)) }, []string{"asset.update mac:" + pacsMAC + " 80", "asset.update mac:" + ctMAC + " 80"}},
		{func() { inv.Flush(at(81)) }, nil},
	}
	for i, s := range steps {
		got = nil
		s.do()
		if strings.Join(got, "|") != strings.Join(s.want, "|") {
			t.Errorf("Test %d: expected events %q, got %q", i, s.want, got)
		}
	}
}

// TestEventsMatchAssets: after Flush, the last event of every asset equals
// its final state, whatever the order of calls and however often Advance ran.
func TestEventsMatchAssets(t *testing.T) {
	for seed := range 20 {
		last := map[string]string{}
		inv := New(Config{}, func(e Event) {
			b, _ := json.Marshal(e.Asset)
			last[e.Asset.ID] = string(b)
		})
		calls := mixedCalls()
		rand.New(rand.NewSource(int64(seed))).Shuffle(len(calls), func(i, j int) { calls[i], calls[j] = calls[j], calls[i] })
		for i, c := range calls {
			c(inv)
			inv.Advance(at(i * 7))
		}
		inv.Flush(at(1000))
		assets := inv.Assets()
		if len(last) != len(assets) {
			t.Fatalf("seed %d: expected events for %d assets, got %d", seed, len(assets), len(last))
		}
		for _, a := range assets {
			b, _ := json.Marshal(a)
			if last[a.ID] != string(b) {
				t.Errorf("seed %d: %s: last event differs from final state", seed, a.ID)
			}
		}
	}
}

// TestConcurrent feeds the calls from several goroutines, as packet workers
// do, while another one advances time and reads snapshots: the result must
// equal the sequential one (run with -race).
func TestConcurrent(t *testing.T) {
	calls := append(mixedCalls(), capCalls()...)
	want := assetsJSON(t, run(Config{}, calls))
	inv := New(Config{}, func(Event) {})
	var wg sync.WaitGroup
	const workers = 4
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(calls); i += workers {
				calls[i](inv)
			}
		})
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 50 {
			inv.Advance(at(i))
			inv.Stats()
		}
	}()
	wg.Wait()
	<-done
	inv.Flush(at(1000))
	if got := assetsJSON(t, inv); !bytes.Equal(got, want) {
		t.Errorf("concurrent output differs:\n%s\n%s", want, got)
	}
}

// TestInternal checks internal against Prefix.Contains, for networks and
// addresses of every kind.
func TestInternal(t *testing.T) {
	var nets []netip.Prefix
	for _, s := range []string{"10.1.2.3/8", "192.168.7.0/24", "203.0.113.9/32", "fe80::/10", "::ffff:172.16.0.0/108", "2001:db8::1/128"} {
		nets = append(nets, netip.MustParsePrefix(s))
	}
	nets = append(nets, netip.Prefix{})
	addrs := []netip.Addr{{}}
	for _, s := range []string{"10.0.0.1", "10.255.255.255", "11.0.0.0", "9.255.255.255", "192.168.7.200", "192.168.8.1",
		"203.0.113.9", "203.0.113.8", "0.0.0.0", "255.255.255.255", "fe80::1", "fe80::1%eth0", "fec0::1",
		"::ffff:10.0.0.1", "::ffff:172.16.3.4", "::ffff:172.32.0.1", "2001:db8::1", "2001:db8::2", "::"} {
		addrs = append(addrs, netip.MustParseAddr(s))
	}
	for _, cfgNets := range [][]netip.Prefix{nets, {netip.MustParsePrefix("0.0.0.0/0")}, {}} {
		inv := New(Config{InternalNets: cfgNets}, nil)
		for _, ip := range addrs {
			want := false
			for _, p := range cfgNets {
				want = want || p.Contains(ip)
			}
			if got := inv.internal(ip); got != want {
				t.Errorf("nets %v: internal(%v) = %v, want %v", cfgNets, ip, got, want)
			}
		}
	}
}
