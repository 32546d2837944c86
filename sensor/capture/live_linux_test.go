//go:build linux

package capture

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// vethPair is two network namespaces joined by a veth pair:
// capNS/capIf 192.0.2.1 and sendNS/sendIf 192.0.2.2.
type vethPair struct {
	capNS, sendNS, capIf, sendIf string
}

// needLive skips unless the test can create namespaces and capture.
func needLive(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("live capture test needs root (network namespaces, veth, AF_PACKET); run go test as root")
	}
	for _, tool := range []string{"ip", "python3"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("live capture test needs %s in PATH", tool)
		}
	}
}

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
}

// newVethPair creates the namespaces and the link, removed in t.Cleanup
// whatever happens.
func newVethPair(t *testing.T) vethPair {
	t.Helper()
	var r [4]byte
	rand.Read(r[:])
	id := hex.EncodeToString(r[:])
	v := vethPair{capNS: "iomtcap" + id, sendNS: "iomtsnd" + id, capIf: "ic" + id, sendIf: "is" + id}
	for _, ns := range []string{v.capNS, v.sendNS} {
		run(t, "ip", "netns", "add", ns)
		t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	}
	run(t, "ip", "link", "add", v.capIf, "type", "veth", "peer", "name", v.sendIf)
	t.Cleanup(func() { exec.Command("ip", "link", "del", v.capIf).Run() })
	for _, side := range []struct{ ns, dev, addr string }{{v.capNS, v.capIf, "192.0.2.1/24"}, {v.sendNS, v.sendIf, "192.0.2.2/24"}} {
		run(t, "ip", "link", "set", side.dev, "netns", side.ns)
		run(t, "ip", "-n", side.ns, "addr", "add", side.addr, "dev", side.dev)
		run(t, "ip", "-n", side.ns, "link", "set", side.dev, "up")
		run(t, "ip", "-n", side.ns, "link", "set", "lo", "up")
	}
	// Pin each side's neighbour entry, so no datagram waits on ARP, and
	// wait until both ends report carrier: a datagram sent while a fresh
	// veth is still coming up is dropped by the kernel, not captured.
	macOf := func(ns, dev string) string {
		out, err := exec.Command("ip", "-n", ns, "-o", "link", "show", dev).Output()
		if err != nil {
			t.Fatalf("ip link show %s: %v", dev, err)
		}
		f := strings.Fields(string(out))
		for i := range f {
			if f[i] == "link/ether" && i+1 < len(f) {
				return f[i+1]
			}
		}
		t.Fatalf("no MAC for %s in %q", dev, out)
		return ""
	}
	run(t, "ip", "-n", v.capNS, "neigh", "replace", "192.0.2.2", "lladdr", macOf(v.sendNS, v.sendIf), "dev", v.capIf, "nud", "permanent")
	run(t, "ip", "-n", v.sendNS, "neigh", "replace", "192.0.2.1", "lladdr", macOf(v.capNS, v.capIf), "dev", v.sendIf, "nud", "permanent")
	for _, side := range [][2]string{{v.capNS, v.capIf}, {v.sendNS, v.sendIf}} {
		deadline := time.Now().Add(10 * time.Second)
		for {
			out, _ := exec.Command("ip", "-n", side[0], "-o", "link", "show", side[1]).Output()
			if strings.Contains(string(out), "LOWER_UP") && strings.Contains(string(out), "state UP") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s never came up: %s", side[1], out)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return v
}

// openLiveIn opens a live source from inside namespace ns: on a locked OS
// thread that enters ns and comes back after. The socket stays in ns.
func openLiveIn(t *testing.T, ns, iface string, opts LiveOptions) Source {
	t.Helper()
	type result struct {
		s   Source
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			done <- result{nil, err}
			return // the thread stays locked and dies with the goroutine
		}
		defer unix.Close(orig)
		target, err := unix.Open("/run/netns/"+ns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			done <- result{nil, err}
			return
		}
		defer unix.Close(target)
		if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
			done <- result{nil, fmt.Errorf("setns %s: %w", ns, err)}
			return
		}
		s, err := OpenLive(iface, opts)
		if unix.Setns(orig, unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread() // back home: the thread may be reused
		}
		done <- result{s, err}
	}()
	r := <-done
	if r.err != nil {
		t.Fatalf("OpenLive(%s) in %s: %v", iface, ns, r.err)
	}
	t.Cleanup(func() { r.s.Close() })
	return r.s
}

// sendUDP sends the payloads from the sender namespace to 192.0.2.1:port,
// one socket per flow (so each flow has its own source port).
func sendUDP(t *testing.T, v vethPair, port int, flows [][]string) {
	t.Helper()
	var py strings.Builder
	py.WriteString("import socket\nflows = [\n")
	for _, f := range flows {
		var q []string
		for _, m := range f {
			q = append(q, strconv.Quote(m)) // ASCII: valid Python too
		}
		fmt.Fprintf(&py, "  [%s],\n", strings.Join(q, ", "))
	}
	fmt.Fprintf(&py, `]
socks = []
for f in flows:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("192.0.2.2", 0))
    socks.append(s)
for i in range(max(len(f) for f in flows)):
    for s, f in zip(socks, flows):
        if i < len(f):
            s.sendto(f[i].encode(), ("192.0.2.1", %d))
`, port)
	run(t, "ip", "netns", "exec", v.sendNS, "python3", "-c", py.String())
}

// drain reads a source until it has been quiet for two poll timeouts,
// copying packets.
func drain(t *testing.T, s Source) []Packet {
	t.Helper()
	var out []Packet
	quiet := 0
	for range 100000 {
		p, err := s.Next()
		if errors.Is(err, ErrTimeout) {
			if quiet++; quiet >= 2 {
				return out
			}
			continue
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		quiet = 0
		p.Data = bytes.Clone(p.Data)
		out = append(out, p)
	}
	t.Fatal("source never went quiet")
	return nil
}

// collector reads a source in the background from before the test sends
// anything, as a sensor does: a ring that nobody reads fills with blocks
// the kernel retires every BlockTimeout, then drops what follows.
type collector struct {
	mu   sync.Mutex
	pkts []Packet
	done chan struct{}
	exit chan struct{}
}

func collect(t *testing.T, s Source) *collector {
	t.Helper()
	c := &collector{done: make(chan struct{}), exit: make(chan struct{})}
	go func() {
		defer close(c.exit)
		for {
			select {
			case <-c.done:
				return
			default:
			}
			p, err := s.Next()
			if errors.Is(err, ErrTimeout) {
				continue
			}
			if err != nil {
				return
			}
			p.Data = bytes.Clone(p.Data)
			c.mu.Lock()
			c.pkts = append(c.pkts, p)
			c.mu.Unlock()
		}
	}()
	t.Cleanup(c.stopNow)
	return c
}

// wait returns the packets once every payload in want was seen, or after
// 10 seconds, and stops the collector.
func (c *collector) wait(want ...string) []Packet {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		ok := allSeen(c.pkts, want)
		c.mu.Unlock()
		if ok {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // anything that would be one too many
	c.stopNow()
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pkts
}

func (c *collector) stopNow() {
	select {
	case <-c.done:
	default:
		close(c.done)
	}
	<-c.exit
}

// allSeen reports whether every payload in want is in a UDP datagram of pkts.
func allSeen(pkts []Packet, want []string) bool {
	seen := map[string]bool{}
	for _, p := range pkts {
		if u, ok := parseUDP(p.Data); ok {
			seen[u.payload] = true
		}
	}
	for _, w := range want {
		if !seen[w] {
			return false
		}
	}
	return true
}

// udpInfo parses Ethernet/IPv4/UDP; ok is false for anything else.
type udpInfo struct {
	src, dst         [4]byte
	srcPort, dstPort int
	payload          string
}

func parseUDP(b []byte) (u udpInfo, ok bool) {
	if len(b) < 14+20+8 || binary.BigEndian.Uint16(b[12:]) != 0x0800 || b[14+9] != 17 {
		return u, false
	}
	ihl := int(b[14]&0xf) * 4
	if ihl < 20 || len(b) < 14+ihl+8 {
		return u, false
	}
	copy(u.src[:], b[14+12:])
	copy(u.dst[:], b[14+16:])
	udp := b[14+ihl:]
	u.srcPort, u.dstPort = int(binary.BigEndian.Uint16(udp)), int(binary.BigEndian.Uint16(udp[2:]))
	ulen := int(binary.BigEndian.Uint16(udp[4:]))
	if ulen < 8 || ulen > len(udp) {
		return u, false
	}
	u.payload = string(udp[8:ulen])
	return u, true
}

func TestLiveCapture(t *testing.T) {
	needLive(t)
	v := newVethPair(t)
	opts := LiveOptions{BlockSize: 64 << 10, NumBlocks: 8, PollTimeout: 200 * time.Millisecond}
	all := openLiveIn(t, v.capNS, v.capIf, opts)
	filter, err := CompileFilter("udp port 40000")
	if err != nil {
		t.Fatal(err)
	}
	fopts := opts
	fopts.Filter = filter
	filtered := openLiveIn(t, v.capNS, v.capIf, fopts)

	var want, other []string
	for i := range 10 {
		want = append(want, fmt.Sprintf("iomt-live-%02d-%s", i, strings.Repeat("x", i*13)))
	}
	for i := range 5 {
		other = append(other, fmt.Sprintf("iomt-other-%d", i))
	}
	allC, filteredC := collect(t, all), collect(t, filtered)
	before := time.Now()
	sendUDP(t, v, 40000, [][]string{want})
	sendUDP(t, v, 40001, [][]string{other})
	after := time.Now()

	got := allC.wait(append(append([]string{}, want...), other...)...)
	seen := map[string]int{}
	for _, p := range got {
		if p.Interface != v.capIf || p.LinkType != LinkEthernet {
			t.Errorf("packet from %q link %d, want %q Ethernet", p.Interface, p.LinkType, v.capIf)
		}
		if len(p.Data) != p.Length {
			t.Errorf("packet of %d bytes, length %d: want whole packets", len(p.Data), p.Length)
		}
		u, ok := parseUDP(p.Data)
		if !ok || !strings.HasPrefix(u.payload, "iomt-") {
			continue
		}
		seen[u.payload]++
		if u.src != [4]byte{192, 0, 2, 2} || u.dst != [4]byte{192, 0, 2, 1} {
			t.Errorf("%q: %v -> %v, want 192.0.2.2 -> 192.0.2.1", u.payload, u.src, u.dst)
		}
		if p.Timestamp.Before(before.Add(-time.Second)) || p.Timestamp.After(after.Add(time.Second)) {
			t.Errorf("%q: timestamp %v outside the send window [%v, %v]", u.payload, p.Timestamp, before, after)
		}
	}
	for _, w := range append(append([]string{}, want...), other...) {
		if seen[w] != 1 {
			t.Errorf("unfiltered: datagram %q seen %d times, want once", w, seen[w])
		}
	}
	if len(got) <= len(want)+len(other) {
		t.Logf("note: no other traffic (ARP, ICMP) was seen: %d packets", len(got))
	}

	fgot := filteredC.wait(want...)
	if len(fgot) != len(want) {
		t.Errorf("filtered: got %d packets, want %d", len(fgot), len(want))
	}
	for i, p := range fgot {
		u, ok := parseUDP(p.Data)
		if !ok || u.dstPort != 40000 || i >= len(want) || u.payload != want[i] {
			t.Errorf("filtered packet %d: %+v, want %q to port 40000", i, u, want[min(i, len(want)-1)])
		}
	}
	if st := filtered.Stats(); st.Packets != uint64(len(want)) || st.KernelDrops != 0 {
		t.Errorf("filtered stats %+v, want %d packets, no drops", st, len(want))
	}
	if st := all.Stats(); st.Packets != uint64(len(got)) {
		t.Errorf("unfiltered stats %+v, want %d packets", st, len(got))
	}
}

// TestLiveCloseUnblocksNext closes a source while another goroutine waits
// in Next with a long poll timeout.
func TestLiveCloseUnblocksNext(t *testing.T) {
	needLive(t)
	v := newVethPair(t)
	filter, err := CompileFilter("udp port 9") // nothing sends there
	if err != nil {
		t.Fatal(err)
	}
	s := openLiveIn(t, v.capNS, v.capIf, LiveOptions{PollTimeout: time.Minute, Filter: filter})
	done := make(chan error, 1)
	started := make(chan struct{})
	go func() {
		close(started)
		_, err := s.Next()
		done <- err
	}()
	<-started
	if st := s.Stats(); st.Packets != 0 { // must not wait for the pending Next
		t.Errorf("stats %+v, want no packets", st)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case err := <-done:
		if err != io.EOF {
			t.Errorf("Next after Close: %v, want io.EOF", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not unblock Next")
	}
	if _, err := s.Next(); err != io.EOF {
		t.Errorf("Next on a closed source: %v, want io.EOF", err)
	}
}

// TestLiveFanout runs two sources in one fanout group over flows echoed
// back: together they see every packet once, and both directions of a flow
// land on the same source.
func TestLiveFanout(t *testing.T) {
	needLive(t)
	v := newVethPair(t)
	echo := exec.Command("ip", "netns", "exec", v.capNS, "python3", "-u", "-c", `
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("192.0.2.1", 40002))
s.settimeout(30)
print("ready")
while True:
    d, a = s.recvfrom(2048)
    s.sendto(d, a)
`)
	out, err := echo.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := echo.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { echo.Process.Kill(); echo.Wait() })
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "ready\n" {
		t.Fatalf("echo server: %q, %v", line, err)
	}

	filter, err := CompileFilter("udp port 40002")
	if err != nil {
		t.Fatal(err)
	}
	var r [2]byte
	rand.Read(r[:])
	group := binary.BigEndian.Uint16(r[:])%60000 + 1
	opts := LiveOptions{BlockSize: 64 << 10, NumBlocks: 8, PollTimeout: 300 * time.Millisecond, Filter: filter, FanoutGroup: group}
	srcs := []Source{openLiveIn(t, v.capNS, v.capIf, opts), openLiveIn(t, v.capNS, v.capIf, opts)}

	const nFlows, perFlow = 40, 5
	var flows [][]string
	for f := range nFlows {
		var msgs []string
		for i := range perFlow {
			msgs = append(msgs, fmt.Sprintf("iomt-fan-%02d-%d", f, i))
		}
		flows = append(flows, msgs)
	}
	sendUDP(t, v, 40002, flows)

	type key struct {
		payload string
		reply   bool
	}
	count := map[key]int{}
	flowSrc := map[int]int{} // client port -> source index
	perSrc := [2]int{}
	for i, s := range srcs {
		for _, p := range drain(t, s) {
			u, ok := parseUDP(p.Data)
			if !ok {
				t.Errorf("source %d: a non-UDP packet passed the filter", i)
				continue
			}
			reply := u.srcPort == 40002
			client := u.srcPort
			if reply {
				client = u.dstPort
			}
			count[key{u.payload, reply}]++
			perSrc[i]++
			if prev, ok := flowSrc[client]; ok && prev != i {
				t.Errorf("flow from port %d seen on sources %d and %d", client, prev, i)
			}
			flowSrc[client] = i
		}
	}
	for _, msgs := range flows {
		for _, m := range msgs {
			for _, reply := range []bool{false, true} {
				if n := count[key{m, reply}]; n != 1 {
					t.Errorf("%q (reply %v) seen %d times, want exactly once", m, reply, n)
				}
			}
		}
	}
	if perSrc[0] == 0 || perSrc[1] == 0 {
		t.Errorf("fanout did not split %d flows: %v packets per source", nFlows, perSrc)
	}
	t.Logf("fanout group %d: %v packets per source", group, perSrc)
}
