// Package corpustest finds the shared capture corpus and pulls protocol
// payloads out of its pcap files, for the decoder tests.
//
// The corpus is located through the IOMT_CORPUS environment variable, or by
// walking up from the test's working directory to a shared/corpus folder.
// When it is absent, tests skip; with IOMT_CORPUS_REQUIRED=1 they fail.
package corpustest

import (
	"errors"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/iomt-sensor/iomt-sensor/sensor/capture/capturetest"
)

// Dir returns the corpus root, or skips (fails, with IOMT_CORPUS_REQUIRED=1)
// when it cannot be found.
func Dir(tb testing.TB) string { tb.Helper(); return capturetest.Dir(tb) }

// Find returns the corpus root, or why there is none.
func Find() (string, error) { return capturetest.Find() }

// Seed adds to f the payloads that payloads returns for each corpus file in
// files, when the corpus is present; without it, it adds nothing.
func Seed(f *testing.F, files []string, payloads func(path string) [][]byte) {
	f.Helper()
	dir, err := Find()
	if err != nil {
		return
	}
	for _, file := range files {
		for _, p := range payloads(filepath.Join(dir, filepath.FromSlash(file))) {
			f.Add(p)
		}
	}
}

// File returns the path of rel inside the corpus, skipping or failing like
// Dir when the corpus or the file is absent.
func File(tb testing.TB, rel string) string { tb.Helper(); return capturetest.File(tb, rel) }

// Packet is one frame of a capture.
type Packet struct {
	// Frame is the 1-based frame number, as tshark numbers it.
	Frame int
	Data  []byte
	Link  layers.LinkType
}

// ReadPackets returns every frame of a pcap or pcapng file.
func ReadPackets(tb testing.TB, path string) []Packet {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var magic [4]byte
	if _, err := io.ReadFull(f, magic[:]); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		tb.Fatal(err)
	}
	type source interface {
		ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	}
	var (
		src  source
		link layers.LinkType
	)
	if magic == [4]byte{0x0a, 0x0d, 0x0d, 0x0a} {
		r, err := pcapgo.NewNgReader(f, pcapgo.DefaultNgReaderOptions)
		if err != nil {
			tb.Fatalf("%s: %v", path, err)
		}
		src, link = r, r.LinkType()
	} else {
		r, err := pcapgo.NewReader(f)
		if err != nil {
			tb.Fatalf("%s: %v", path, err)
		}
		src, link = r, r.LinkType()
	}
	var out []Packet
	for n := 1; ; n++ {
		data, _, err := src.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			tb.Fatalf("%s frame %d: %v", path, n, err)
		}
		out = append(out, Packet{Frame: n, Data: append([]byte(nil), data...), Link: link})
	}
	return out
}

// Datagram is one UDP payload and the frame it came in.
type Datagram struct {
	Frame    int
	Src, Dst netip.AddrPort
	SrcMAC   [6]byte
	DstMAC   [6]byte
	Payload  []byte
}

// UDP returns the payloads of the IPv4/IPv6 UDP datagrams in path whose source
// or destination port is one of ports (all UDP when ports is empty).
func UDP(tb testing.TB, path string, ports ...uint16) []Datagram {
	tb.Helper()
	var out []Datagram
	for _, p := range ReadPackets(tb, path) {
		pkt := gopacket.NewPacket(p.Data, p.Link, gopacket.Default)
		udp, ok := pkt.Layer(layers.LayerTypeUDP).(*layers.UDP)
		if !ok {
			continue
		}
		if len(ports) > 0 && !contains(ports, uint16(udp.SrcPort)) && !contains(ports, uint16(udp.DstPort)) {
			continue
		}
		d := Datagram{Frame: p.Frame, Payload: udp.Payload}
		var src, dst netip.Addr
		switch ip := pkt.NetworkLayer().(type) {
		case *layers.IPv4:
			src, _ = netip.AddrFromSlice(ip.SrcIP.To4())
			dst, _ = netip.AddrFromSlice(ip.DstIP.To4())
		case *layers.IPv6:
			src, _ = netip.AddrFromSlice(ip.SrcIP)
			dst, _ = netip.AddrFromSlice(ip.DstIP)
		}
		d.Src = netip.AddrPortFrom(src, uint16(udp.SrcPort))
		d.Dst = netip.AddrPortFrom(dst, uint16(udp.DstPort))
		if eth, ok := pkt.LinkLayer().(*layers.Ethernet); ok {
			copy(d.SrcMAC[:], eth.SrcMAC)
			copy(d.DstMAC[:], eth.DstMAC)
		}
		out = append(out, d)
	}
	return out
}

// Frame is the payload of one Ethernet frame after its EtherType.
type Frame struct {
	Frame     int
	EtherType uint16
	Payload   []byte
}

// Ethernet returns the payloads (after the EtherType, 802.1Q tags skipped) of
// the Ethernet frames in path whose EtherType is one of types (all when empty).
func Ethernet(tb testing.TB, path string, types ...uint16) []Frame {
	tb.Helper()
	var out []Frame
	for _, p := range ReadPackets(tb, path) {
		if p.Link != layers.LinkTypeEthernet || len(p.Data) < 14 {
			continue
		}
		b := p.Data[12:]
		et := uint16(b[0])<<8 | uint16(b[1])
		b = b[2:]
		for (et == 0x8100 || et == 0x88a8) && len(b) >= 4 {
			et = uint16(b[2])<<8 | uint16(b[3])
			b = b[4:]
		}
		if len(types) > 0 && !contains(types, et) {
			continue
		}
		out = append(out, Frame{Frame: p.Frame, EtherType: et, Payload: b})
	}
	return out
}

func contains(s []uint16, v uint16) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// CheckDeps fails tb when the package in the working directory imports
// anything but the standard library and the protocols contract package,
// the rule for decoders. It skips when the go command is not on PATH.
func CheckDeps(tb testing.TB) {
	tb.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		tb.Skip("go command not on PATH")
	}
	out, err := exec.Command(goCmd, "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").Output()
	if err != nil {
		tb.Fatalf("go list -deps: %v", err)
	}
	self, err := exec.Command(goCmd, "list", ".").Output()
	if err != nil {
		tb.Fatalf("go list: %v", err)
	}
	const contract = "github.com/iomt-sensor/iomt-sensor/protocols"
	for _, dep := range strings.Fields(string(out)) {
		if dep != contract && dep != strings.TrimSpace(string(self)) {
			tb.Errorf("decoder imports %s: decoders may import only the standard library and %s", dep, contract)
		}
	}
}
