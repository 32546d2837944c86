package sensor

import (
	"encoding/binary"
	"math/rand/v2"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/iomt-sensor/iomt-sensor/protocols"
	"github.com/iomt-sensor/iomt-sensor/protocols/arp"
	"github.com/iomt-sensor/iomt-sensor/protocols/dhcp"
	"github.com/iomt-sensor/iomt-sensor/sensor/capture"
	"github.com/iomt-sensor/iomt-sensor/sensor/inventory"
)

func tcpFrame(tb testing.TB, fromClient bool, flags string, seq, ack uint32, payload []byte) []byte {
	tb.Helper()
	cm, sm := net.HardwareAddr{0, 0x1b, 0x21, 1, 2, 3}, net.HardwareAddr{0, 0x09, 0xfb, 4, 5, 6}
	ci, si := net.IP{10, 0, 0, 5}, net.IP{10, 0, 0, 9}
	cp, sp := layers.TCPPort(50123), layers.TCPPort(445)
	eth := &layers.Ethernet{SrcMAC: cm, DstMAC: sm, EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: ci, DstIP: si}
	tcp := &layers.TCP{SrcPort: cp, DstPort: sp, Seq: seq, Ack: ack, Window: 512}
	if !fromClient {
		eth.SrcMAC, eth.DstMAC = sm, cm
		ip.SrcIP, ip.DstIP = si, ci
		tcp.SrcPort, tcp.DstPort = sp, cp
	}
	for _, f := range flags {
		switch f {
		case 'S':
			tcp.SYN = true
		case 'A':
			tcp.ACK = true
		case 'F':
			tcp.FIN = true
		}
	}
	tcp.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		eth, ip, tcp, gopacket.Payload(payload)); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func specs() []protocols.Spec { return []protocols.Spec{arp.Spec(), dhcp.Spec()} }

// TestWorkerServiceAndPeers checks the flow path: the side answering a SYN
// with a SYN-ACK gets the service, both sides become peers, and a flow that
// no decoder recognises is closed by its FINs.
func TestWorkerServiceAndPeers(t *testing.T) {
	inv := inventory.New(inventory.Config{Sensor: "t"}, nil)
	w := NewWorker(Config{}, specs(), inv)
	t0 := time.Unix(1_700_000_000, 0)
	frames := [][]byte{
		tcpFrame(t, true, "S", 100, 0, nil),
		tcpFrame(t, false, "SA", 900, 101, nil),
		tcpFrame(t, true, "A", 101, 901, []byte("not a protocol we know")),
		tcpFrame(t, true, "FA", 123, 901, nil),
		tcpFrame(t, false, "FA", 901, 124, nil),
	}
	for i, f := range frames {
		w.Process(capture.Packet{Data: f, Length: len(f), LinkType: capture.LinkEthernet, Timestamp: t0.Add(time.Duration(i) * time.Millisecond)})
	}
	w.Close()
	fs, _, _ := w.Stats().Flows()
	if fs.Created != 1 || fs.Closed != 1 || fs.Active != 0 {
		t.Errorf("expected one flow created and closed, got %+v", fs)
	}
	assets := inv.Assets()
	if len(assets) != 2 {
		t.Fatalf("expected 2 assets, got %d", len(assets))
	}
	server := assets[1] // mac:00:1b... sorts before mac:00:09? no: "00:09" < "00:1b"
	if assets[0].ID == "mac:00:09:fb:04:05:06" {
		server = assets[0]
	}
	if len(server.Services) != 1 || server.Services[0].Port != 445 || server.Services[0].Transport != "tcp" {
		t.Errorf("expected service tcp/445 on the server, got %+v", server.Services)
	}
}

// BenchmarkWorkerBulk measures the per-packet path for packets whose payload
// needs no parsing (a bulk TCP flow no decoder claims): it must not allocate.
func BenchmarkWorkerBulk(b *testing.B) {
	inv := inventory.New(inventory.Config{Sensor: "bench"}, nil)
	w := NewWorker(Config{}, specs(), inv)
	t0 := time.Unix(1_700_000_000, 0)
	payload := make([]byte, 1400)
	for _, f := range [][]byte{tcpFrame(b, true, "S", 100, 0, nil), tcpFrame(b, false, "SA", 900, 101, nil)} {
		w.Process(capture.Packet{Data: f, Length: len(f), LinkType: capture.LinkEthernet, Timestamp: t0})
	}
	frame := tcpFrame(b, true, "A", 101, 901, payload)
	pkt := capture.Packet{Data: frame, Length: len(frame), LinkType: capture.LinkEthernet, Timestamp: t0}
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		pkt.Timestamp = t0.Add(time.Duration(i) * time.Microsecond)
		w.Process(pkt)
	}
}

// BenchmarkWorkerFlows is BenchmarkWorkerBulk for packets of 4096 flows in
// random order, each packet of another flow than the one before: the flow
// lookup of every packet goes to the table.
func BenchmarkWorkerFlows(b *testing.B) {
	inv := inventory.New(inventory.Config{Sensor: "bench"}, nil)
	w := NewWorker(Config{}, specs(), inv)
	t0 := time.Unix(1_700_000_000, 0)
	frame := tcpFrame(b, true, "A", 101, 901, make([]byte, 1400))
	frames := make([][]byte, 4096)
	for i := range frames {
		frames[i] = slices.Clone(frame)
		binary.BigEndian.PutUint16(frames[i][34:], uint16(20000+i)) // the client port
	}
	order := rand.New(rand.NewPCG(1, 2)).Perm(len(frames))
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		f := frames[order[i%len(order)]]
		i++
		w.Process(capture.Packet{Data: f, Length: len(f), LinkType: capture.LinkEthernet, Timestamp: t0.Add(time.Duration(i) * time.Microsecond)})
	}
}

// skipper is a decoder that has learned all it can from its first bytes.
type skipper struct{ feeds, closes *int }

func (s skipper) Feed(protocols.Direction, []byte, time.Time, protocols.Emit) error {
	*s.feeds++
	return protocols.SkipFlow
}
func (s skipper) Gap(protocols.Direction, int, time.Time, protocols.Emit) {}
func (s skipper) Close(time.Time, protocols.Emit)                         { *s.closes++ }

// TestWorkerSkipFlow: a decoder that returns SkipFlow is closed once and
// fed nothing more, and no protocol error is counted.
func TestWorkerSkipFlow(t *testing.T) {
	var feeds, closes int
	spec := protocols.Spec{Name: "skip", Transport: protocols.TCP, Ports: []uint16{445},
		Detect: func(protocols.Direction, []byte) bool { return true },
		New:    func(protocols.FlowInfo) protocols.Decoder { return skipper{&feeds, &closes} }}
	w := NewWorker(Config{}, []protocols.Spec{spec}, inventory.New(inventory.Config{Sensor: "t"}, nil))
	t0 := time.Unix(1_700_000_000, 0)
	frames := [][]byte{
		tcpFrame(t, true, "S", 100, 0, nil),
		tcpFrame(t, false, "SA", 900, 101, nil),
		tcpFrame(t, true, "A", 101, 901, []byte("hello")),
		tcpFrame(t, false, "A", 901, 106, []byte("encrypted from here on")),
		tcpFrame(t, true, "A", 106, 923, []byte("more")),
		tcpFrame(t, true, "FA", 110, 923, nil),
		tcpFrame(t, false, "FA", 923, 111, nil),
	}
	for i, f := range frames {
		w.Process(capture.Packet{Data: f, Length: len(f), LinkType: capture.LinkEthernet, Timestamp: t0.Add(time.Duration(i) * time.Millisecond)})
	}
	w.Close()
	if feeds != 1 || closes != 1 {
		t.Errorf("decoder fed %d times and closed %d times, want once each", feeds, closes)
	}
	errs := &w.Stats().ProtocolErrors[0]
	for r := range errs {
		if n := errs[r].Load(); n != 0 {
			t.Errorf("%d %s errors counted", n, ProtocolErrorReasons[r])
		}
	}
}
