package capture

import (
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/net/bpf"

	"github.com/iomt-sensor/iomt-sensor/sensor/capture/capturetest"
)

// filterExprs are compared against tcpdump on the corpus files below.
var filterExprs = []string{
	"ip", "ip6", "arp", "tcp", "udp", "vlan",
	"port 53", "port 443", "src port 443", "dst port 443", "port 514", "port 67 or port 68",
	"tcp port 80", "udp port 53", "udp src port 53", "tcp dst port 443",
	"host 192.168.2.16", "src host 192.168.2.16", "dst host 192.168.2.1",
	"host 10.40.2.3", "src host 172.26.229.190",
	"net 192.168.0.0/16", "net 10.0.0.0/8", "src net 216.239.0.0/16", "dst net 192.168.2.0/24", "net 0.0.0.0/0", "net 10.40.2.3/32",
	"not ip", "! tcp", "tcp and not port 443", "udp && !port 53", "arp || ip6",
	"ip and (port 53 or port 80)", "not (tcp or udp)", "tcp or udp and not host 192.168.2.16",
	"vlan and udp", "vlan and port 514", "vlan 121", "vlan 121 and host 192.168.121.10", "not vlan and udp",
	"(host 192.168.2.16 and port 443) or arp", "!(!ip)", "ip && ip6", "tcp || udp || arp || ip6",
}

var filterFiles = []string{
	"device-mixed/ndpi-android.pcap",
	"device-mixed/ndpi-iphone.pcap",
	"dhcp/tcpdump-dhcp-rfc4388.pcap",
	"dns-mdns/zeek-mdns.pcap",
	"syslog/ndpi-syslog.pcap",
	"snmp/ndpi-snmp.pcap",       // pcapng, VLAN tagged
	"netbios/ndpi-netbios.pcap", // pcapng
	"lldp-cdp/tcpdump-LLDP_and_CDP.pcap",
	"http/ndpi-ipp.pcap",
}

var tcpdumpLine = regexp.MustCompile(`(?m)^[0-9]+\.[0-9]+ `)

// TestCompileFilterMatchesTcpdump runs every compiled filter in the BPF VM
// over every packet of some corpus files and compares the number of matches
// with tcpdump's.
func TestCompileFilterMatchesTcpdump(t *testing.T) {
	tcpdump, err := exec.LookPath("tcpdump")
	if err != nil {
		t.Skip("tcpdump not installed (apt-get install tcpdump); cannot compare filters with it")
	}
	dir := capturetest.Dir(t)
	progs := make([]*bpf.VM, len(filterExprs))
	for i, e := range filterExprs {
		raw, err := CompileFilter(e)
		if err != nil {
			t.Fatalf("Test %d: CompileFilter(%q): %v", i, e, err)
		}
		ins, ok := bpf.Disassemble(raw)
		if !ok {
			t.Fatalf("Test %d: %q does not disassemble", i, e)
		}
		if progs[i], err = bpf.NewVM(ins); err != nil {
			t.Fatalf("Test %d: %q: NewVM: %v", i, e, err)
		}
	}
	for _, file := range filterFiles {
		path := filepath.Join(dir, filepath.FromSlash(file))
		counts := make([]int, len(filterExprs))
		s, err := OpenFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for {
			p, err := s.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.LinkType != LinkEthernet {
				t.Fatalf("%s: link type %d, the filters are for Ethernet", file, p.LinkType)
			}
			for i, vm := range progs {
				n, err := vm.Run(p.Data)
				if err != nil {
					t.Fatalf("%s: %q: %v", file, filterExprs[i], err)
				}
				if n > 0 {
					counts[i]++
				}
			}
		}
		s.Close()
		for i, e := range filterExprs {
			cmd := exec.Command(tcpdump, "-r", path, "-nn", "-tt", "-q", e)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			want := len(tcpdumpLine.FindAllIndex(out, -1))
			if err != nil && !strings.Contains(stderr.String(), "rejects all packets") {
				t.Fatalf("tcpdump -r %s %q: %v: %s", file, e, err, stderr.String())
			}
			if counts[i] != want {
				t.Errorf("%s: %q: expected %d matches (tcpdump), got %d", file, e, want, counts[i])
			}
		}
	}
}

func TestCompileFilterErrors(t *testing.T) {
	tests := []struct {
		expr string
		want string // in the message: the token and its position
	}{
		{"tcp and", "unexpected end at position 8"},
		{"foo", `"foo" at position 1`},
		{"port", "unexpected end at position 5"},
		{"port http", `"http" at position 6`},
		{"port 70000", `"70000" at position 6`},
		{"host 1.2.3", `"1.2.3" at position 6`},
		{"host ::1", `"::1" at position 6`},
		{"net 10.1.0.0/8", `"10.1.0.0/8" at position 5`},
		{"(tcp or udp", "unexpected end at position 12: expected ) to close the ( at position 1"},
		{"tcp udp", `"udp" at position 5`},
		{"tcp & udp", `"&" at position 5`},
		{"ip )", `")" at position 4`},
		{"src tcp", `"tcp" at position 5`},
		{"vlan 5000", `"5000" at position 6`},
		{"tcp ; rm", `";" at position 5`},
	}
	for i, tc := range tests {
		_, err := CompileFilter(tc.expr)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Test %d: CompileFilter(%q): expected an error containing %q, got %v", i, tc.expr, tc.want, err)
		}
	}
	for _, e := range []string{"", "   "} {
		if raw, err := CompileFilter(e); raw != nil || err != nil {
			t.Errorf("CompileFilter(%q) = %v, %v; want no filter", e, raw, err)
		}
	}
}

// TestCompileFilterTooComplex checks a huge expression fails cleanly.
func TestCompileFilterTooComplex(t *testing.T) {
	var parts []string
	for i := range 200 {
		parts = append(parts, fmt.Sprintf("port %d", i))
	}
	_, err := CompileFilter(strings.Join(parts, " or "))
	if err == nil || !strings.Contains(err.Error(), "too complex") {
		t.Errorf("expected a too complex error, got %v", err)
	}
	if errors.Is(err, ErrNotCapture) {
		t.Error("unrelated sentinel")
	}
}

func FuzzCompileFilter(f *testing.F) {
	for _, e := range filterExprs {
		f.Add(e)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		raw, err := CompileFilter(expr)
		if err != nil || raw == nil {
			return
		}
		ins, ok := bpf.Disassemble(raw)
		if !ok {
			t.Fatalf("%q: does not disassemble", expr)
		}
		if _, err := bpf.NewVM(ins); err != nil {
			t.Fatalf("%q: invalid program: %v", expr, err)
		}
	})
}
