package mdns

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/iomt-sensor/iomt-sensor/protocols"
	"github.com/iomt-sensor/iomt-sensor/protocols/dns"
	"github.com/iomt-sensor/iomt-sensor/protocols/internal/corpustest"
)

// corpusFiles are the corpus captures that hold mDNS.
var corpusFiles = []string{
	"dns-mdns/zeek-mdns.pcap",
	"device-mixed/ndpi-android.pcap",
	"device-mixed/ndpi-iphone.pcap",
}

// wantMsg is what the decoder must make of one datagram: each observation
// as "about|source|role|ip|hostname|facts", facts sorted.
type wantMsg struct {
	File  string
	Frame int
	Obs   []string
}

func compact(o protocols.Observation) string {
	var fs []string
	for _, f := range o.Facts {
		fs = append(fs, f.Name+"="+f.Value)
	}
	slices.Sort(fs)
	ip := ""
	if o.IP.IsValid() {
		ip = o.IP.String()
	}
	return strings.Join([]string{[]string{"sender", "receiver"}[o.About&1], o.Source, o.Role, ip, o.Hostname, strings.Join(fs, " ")}, "|")
}

func decodeCorpus(t *testing.T) []wantMsg {
	t.Helper()
	var out []wantMsg
	for _, file := range corpusFiles {
		for _, d := range corpustest.UDP(t, corpustest.File(t, file), Port) {
			got, err := decode(d.Payload)
			if err != nil {
				t.Errorf("%s frame %d: %v", file, d.Frame, err)
			}
			m := wantMsg{File: file, Frame: d.Frame}
			for _, o := range got {
				m.Obs = append(m.Obs, compact(o))
			}
			out = append(out, m)
		}
	}
	return out
}

var tsharkFields = []string{
	"frame.number", "dns.flags.response", "dns.count.answers", "dns.count.auth_rr", "dns.qry.name", "dns.qry.type",
	"dns.resp.name", "dns.resp.type", "dns.resp.class", "dns.a", "dns.aaaa", "dns.ptr.domain_name",
	"dns.srv.port", "dns.srv.target", "dns.txt", "dns.srv.proto", "dns.srv.name",
}

// expectFromTshark applies the package README's rules to tshark's decoding
// of one message (tsharkFields, tab separated, occurrences joined by "|").
func expectFromTshark(file, line string) (wantMsg, error) {
	f := strings.Split(line, "\t")
	if len(f) != len(tsharkFields) {
		return wantMsg{}, fmt.Errorf("%d fields", len(f))
	}
	list := func(s string) []string {
		if s == "" {
			return nil
		}
		return strings.Split(s, "|")
	}
	frame, err := strconv.Atoi(f[0])
	if err != nil {
		return wantMsg{}, err
	}
	m := wantMsg{File: file, Frame: frame}
	var facts []string
	add := func(kv string) {
		if !slices.Contains(facts, kv) {
			facts = append(facts, kv)
		}
	}
	if f[1] != "1" {
		qtypes := list(f[5])
		for i, q := range list(f[4]) {
			if qtypes[i] == "12" {
				if st, _, ok := serviceType([]byte(q)); ok {
					add(FactQuery + "=" + st)
				}
			}
		}
		if len(facts) > 0 {
			slices.Sort(facts)
			m.Obs = append(m.Obs, "sender|mdns.query|client|||"+strings.Join(facts, " "))
		}
		return m, nil
	}
	nAns, _ := strconv.Atoi(f[2])
	nAuth, _ := strconv.Atoi(f[3])
	names, types, classes := list(f[6]), list(f[7]), list(f[8])
	as, aaaas, ptrs, ports, targets := list(f[9]), list(f[10]), list(f[11]), list(f[12]), list(f[13])
	var addrs []string
	addAddr := func(ip, name string) {
		o := "sender|mdns.response||" + ip + "|" + name + "|" + FactHostname + "=" + name
		if !slices.Contains(addrs, o) {
			addrs = append(addrs, o)
		}
	}
	host := ""
	services, protos := list(f[15]), list(f[16])
	var ia, iaaaa, iptr, isrv, in int
	for i, typ := range types {
		if typ == "47" {
			// tshark lists an NSEC record's type bitmap in dns.resp.type too,
			// so the fields no longer align after it. mDNS responders put
			// their NSEC records last, and the decoder ignores NSEC and OPT.
			break
		}
		skip := (i >= nAns && i < nAns+nAuth) || classes[i] != "0x0001"
		// tshark splits an SRV owner name into dns.srv.service,
		// dns.srv.proto ("_odisk") and dns.srv.name ("_tcp.local")
		// instead of dns.resp.name.
		name := ""
		if typ != "33" && in < len(names) {
			name = names[in]
			in++
		}
		switch typ {
		case "1":
			if !skip {
				addAddr(as[ia], name)
			}
			ia++
		case "28":
			if !skip {
				addAddr(aaaas[iaaaa], name)
			}
			iaaaa++
		case "12":
			target := ptrs[iptr]
			iptr++
			if skip {
				continue
			}
			if a, ok := dns.ReverseAddr([]byte(name)); ok {
				addAddr(a.String(), target)
				continue
			}
			st, prefix, ok := serviceType([]byte(name))
			if !ok {
				continue
			}
			if st == "_dns-sd._udp" && prefix == "_services" {
				if tt, _, ok := serviceType([]byte(target)); ok {
					add(FactService + "=" + tt)
				}
				continue
			}
			add(FactService + "=" + st)
			if tt, inst, ok := serviceType([]byte(target)); ok && tt == st && inst != "" {
				add(FactInstance + "=" + inst)
			}
		case "33":
			port, target := ports[isrv], targets[isrv]
			isrv++
			if st, _, ok := serviceType([]byte(services[isrv-1] + "." + protos[isrv-1])); ok && !skip {
				add(FactSRV + "=" + st + ":" + port)
				if host == "" {
					host = target
				}
			}
		}
	}
	for _, s := range list(f[14]) {
		k, v, ok := strings.Cut(s, "=")
		if ok && v != "" && slices.Contains(txtKeys[:], strings.ToLower(k)) {
			add(FactTXTPrefix + strings.ToLower(k) + "=" + v)
		}
	}
	m.Obs = addrs
	if len(facts) > 0 || host != "" {
		slices.Sort(facts)
		m.Obs = append(m.Obs, "sender|mdns.response||"+"|"+host+"|"+strings.Join(facts, " "))
	}
	return m, nil
}

func tsharkExpect(t testing.TB, tshark, file, path string) []wantMsg {
	t.Helper()
	args := []string{"-r", path, "-Y", "mdns && !icmp && !icmpv6", "-T", "fields", "-E", "separator=/t", "-E", "aggregator=|"}
	for _, f := range tsharkFields {
		args = append(args, "-e", f)
	}
	cmd := exec.Command(tshark, args...)
	cmd.Env = append(os.Environ(), "TSHARK_RUN_AS_ROOT=1")
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

func compareMsgs(t *testing.T, got, want []wantMsg) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("expected %d datagrams, got %d", len(want), len(got))
	}
	for i := range min(len(got), len(want)) {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("Test %d:\nexpected %#v\ngot      %#v", i, want[i], got[i])
		}
	}
}

// TestCorpusTshark compares the decoder with a live tshark run over the
// corpus, when tshark is installed.
func TestCorpusTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not on PATH")
	}
	var want []wantMsg
	for _, file := range corpusFiles {
		want = append(want, tsharkExpect(t, tshark, file, corpustest.File(t, file))...)
	}
	if os.Getenv("MDNS_PRINT_WANT") == "1" {
		for _, m := range want {
			t.Logf("%#v,", m)
		}
	}
	compareMsgs(t, decodeCorpus(t), want)
}

func TestCorpus(t *testing.T) {
	compareMsgs(t, decodeCorpus(t), corpusWant)
}

// TestCorpusKnownFacts checks the identity facts the corpus manifest lists.
func TestCorpusKnownFacts(t *testing.T) {
	got := decodeCorpus(t)
	tests := []struct{ file, fact string }{
		{"dns-mdns/zeek-mdns.pcap", "mdns.query=_ipp._tcp"},
		{"dns-mdns/zeek-mdns.pcap", "mdns.hostname=johanna-QEMU-Virtual-Machine.local"},
		{"device-mixed/ndpi-android.pcap", "mdns.query=_spotify-connect._tcp"},
		{"device-mixed/ndpi-iphone.pcap", "mdns.query=_apple-mobdev2._tcp"},
		{"device-mixed/ndpi-iphone.pcap", "mdns.query=_airport._tcp"},
		{"device-mixed/ndpi-iphone.pcap", "mdns.txt.model=iMac11,3"},
		{"device-mixed/ndpi-iphone.pcap", "mdns.txt.osxvers=17"},
		{"device-mixed/ndpi-iphone.pcap", "mdns.txt.rpvr=152.1"},
		{"device-mixed/ndpi-iphone.pcap", "mdns.instance=Luca’s iMac"},
		{"device-mixed/ndpi-iphone.pcap", "mdns.srv=_smb._tcp:445"},
	}
	for i, tc := range tests {
		found := false
		for _, m := range got {
			for _, o := range m.Obs {
				found = found || (m.File == tc.file && strings.Contains(o, tc.fact))
			}
		}
		if !found {
			t.Errorf("Test %d: expected %s in %s, not found", i, tc.fact, tc.file)
		}
	}
}

// corpusWant is what tshark 4.0 decodes from the corpus, turned into
// expected observations by expectFromTshark (MDNS_PRINT_WANT=1 prints it).
var corpusWant = []wantMsg{
	{File: "dns-mdns/zeek-mdns.pcap", Frame: 1, Obs: []string{"sender|mdns.query|client|||mdns.query=_ipp._tcp mdns.query=_ipps._tcp"}},
	{File: "dns-mdns/zeek-mdns.pcap", Frame: 2, Obs: []string{"sender|mdns.query|client|||mdns.query=_ipp._tcp mdns.query=_ipps._tcp"}},
	{File: "dns-mdns/zeek-mdns.pcap", Frame: 3, Obs: []string{"sender|mdns.response||fd52:429e:c03c:8235:883c:d6ff:fee1:4dc4|johanna-QEMU-Virtual-Machine.local|mdns.hostname=johanna-QEMU-Virtual-Machine.local", "sender|mdns.response||fd52:429e:c03c:8235:5968:5bc6:1563:f82f|johanna-QEMU-Virtual-Machine.local|mdns.hostname=johanna-QEMU-Virtual-Machine.local"}},
	{File: "dns-mdns/zeek-mdns.pcap", Frame: 4, Obs: []string{"sender|mdns.response||fd52:429e:c03c:8235:883c:d6ff:fee1:4dc4|johanna-QEMU-Virtual-Machine.local|mdns.hostname=johanna-QEMU-Virtual-Machine.local", "sender|mdns.response||fd52:429e:c03c:8235:5968:5bc6:1563:f82f|johanna-QEMU-Virtual-Machine.local|mdns.hostname=johanna-QEMU-Virtual-Machine.local", "sender|mdns.response||10.0.2.7|johanna-QEMU-Virtual-Machine.local|mdns.hostname=johanna-QEMU-Virtual-Machine.local"}},
	{File: "dns-mdns/zeek-mdns.pcap", Frame: 9, Obs: []string{"sender|mdns.query|client|||mdns.query=_ipp._tcp mdns.query=_ipps._tcp"}},
	{File: "dns-mdns/zeek-mdns.pcap", Frame: 10, Obs: []string{"sender|mdns.query|client|||mdns.query=_ipp._tcp mdns.query=_ipps._tcp"}},
	{File: "dns-mdns/zeek-mdns.pcap", Frame: 11, Obs: []string(nil)},
	{File: "dns-mdns/zeek-mdns.pcap", Frame: 12, Obs: []string(nil)},
	{File: "dns-mdns/zeek-mdns.pcap", Frame: 13, Obs: []string(nil)},
	{File: "dns-mdns/zeek-mdns.pcap", Frame: 14, Obs: []string(nil)},
	{File: "dns-mdns/zeek-mdns.pcap", Frame: 17, Obs: []string(nil)},
	{File: "dns-mdns/zeek-mdns.pcap", Frame: 18, Obs: []string(nil)},
	{File: "dns-mdns/zeek-mdns.pcap", Frame: 19, Obs: []string{"sender|mdns.response||fd52:429e:c03c:8235:883c:d6ff:fee1:4dc4|johanna-QEMU-Virtual-Machine.local|mdns.hostname=johanna-QEMU-Virtual-Machine.local", "sender|mdns.response||10.0.2.7|johanna-QEMU-Virtual-Machine.local|mdns.hostname=johanna-QEMU-Virtual-Machine.local", "sender|mdns.response||fd52:429e:c03c:8235:5968:5bc6:1563:f82f|johanna-QEMU-Virtual-Machine.local|mdns.hostname=johanna-QEMU-Virtual-Machine.local"}},
	{File: "dns-mdns/zeek-mdns.pcap", Frame: 20, Obs: []string{"sender|mdns.response||fd52:429e:c03c:8235:883c:d6ff:fee1:4dc4|johanna-QEMU-Virtual-Machine.local|mdns.hostname=johanna-QEMU-Virtual-Machine.local", "sender|mdns.response||fd52:429e:c03c:8235:5968:5bc6:1563:f82f|johanna-QEMU-Virtual-Machine.local|mdns.hostname=johanna-QEMU-Virtual-Machine.local"}},
	{File: "dns-mdns/zeek-mdns.pcap", Frame: 21, Obs: []string{"sender|mdns.query|client|||mdns.query=_ipp._tcp mdns.query=_ipps._tcp"}},
	{File: "dns-mdns/zeek-mdns.pcap", Frame: 22, Obs: []string{"sender|mdns.query|client|||mdns.query=_ipp._tcp mdns.query=_ipps._tcp"}},
	{File: "dns-mdns/zeek-mdns.pcap", Frame: 23, Obs: []string{"sender|mdns.response||fd52:429e:c03c:8235:883c:d6ff:fee1:4dc4|johanna-QEMU-Virtual-Machine.local|mdns.hostname=johanna-QEMU-Virtual-Machine.local", "sender|mdns.response||10.0.2.7|johanna-QEMU-Virtual-Machine.local|mdns.hostname=johanna-QEMU-Virtual-Machine.local", "sender|mdns.response||fd52:429e:c03c:8235:5968:5bc6:1563:f82f|johanna-QEMU-Virtual-Machine.local|mdns.hostname=johanna-QEMU-Virtual-Machine.local"}},
	{File: "dns-mdns/zeek-mdns.pcap", Frame: 24, Obs: []string{"sender|mdns.response||fd52:429e:c03c:8235:883c:d6ff:fee1:4dc4|johanna-QEMU-Virtual-Machine.local|mdns.hostname=johanna-QEMU-Virtual-Machine.local", "sender|mdns.response||fd52:429e:c03c:8235:5968:5bc6:1563:f82f|johanna-QEMU-Virtual-Machine.local|mdns.hostname=johanna-QEMU-Virtual-Machine.local"}},
	{File: "device-mixed/ndpi-android.pcap", Frame: 43, Obs: []string{"sender|mdns.query|client|||mdns.query=_spotify-connect._tcp"}},
	{File: "device-mixed/ndpi-android.pcap", Frame: 44, Obs: []string{"sender|mdns.query|client|||mdns.query=_spotify-connect._tcp"}},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 3, Obs: []string{"sender|mdns.response||192.168.2.1|Lucas-iMac.local|mdns.hostname=Lucas-iMac.local", "sender|mdns.response||fe80::c42c:3ff:fe60:6a64|Lucas-iMac.local|mdns.hostname=Lucas-iMac.local", "sender|mdns.response|||Lucas-iMac.local|mdns.instance=Luca’s iMac mdns.service=_afpovertcp._tcp mdns.service=_companion-link._tcp mdns.service=_nfs._tcp mdns.service=_odisk._tcp mdns.service=_sftp-ssh._tcp mdns.service=_smb._tcp mdns.service=_ssh._tcp mdns.srv=_afpovertcp._tcp:548 mdns.srv=_companion-link._tcp:49155 mdns.srv=_nfs._tcp:2049 mdns.srv=_odisk._tcp:49152 mdns.srv=_sftp-ssh._tcp:22 mdns.srv=_smb._tcp:445 mdns.srv=_ssh._tcp:22 mdns.txt.model=iMac11,3 mdns.txt.osxvers=17 mdns.txt.rpvr=152.1"}},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 4, Obs: []string{"sender|mdns.response||192.168.2.1|Lucas-iMac.local|mdns.hostname=Lucas-iMac.local", "sender|mdns.response||fe80::c42c:3ff:fe60:6a64|Lucas-iMac.local|mdns.hostname=Lucas-iMac.local", "sender|mdns.response|||Lucas-iMac.local|mdns.instance=Luca’s iMac mdns.service=_afpovertcp._tcp mdns.service=_companion-link._tcp mdns.service=_nfs._tcp mdns.service=_odisk._tcp mdns.service=_sftp-ssh._tcp mdns.service=_smb._tcp mdns.service=_ssh._tcp mdns.srv=_afpovertcp._tcp:548 mdns.srv=_companion-link._tcp:49155 mdns.srv=_nfs._tcp:2049 mdns.srv=_odisk._tcp:49152 mdns.srv=_sftp-ssh._tcp:22 mdns.srv=_smb._tcp:445 mdns.srv=_ssh._tcp:22 mdns.txt.model=iMac11,3 mdns.txt.osxvers=17 mdns.txt.rpvr=152.1"}},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 5, Obs: []string{"sender|mdns.response||169.254.225.216|Lucas-iMac.local|mdns.hostname=Lucas-iMac.local", "sender|mdns.response|||Lucas-iMac.local|mdns.instance=Luca’s iMac mdns.service=_afpovertcp._tcp mdns.service=_companion-link._tcp mdns.service=_nfs._tcp mdns.service=_odisk._tcp mdns.service=_sftp-ssh._tcp mdns.service=_smb._tcp mdns.service=_ssh._tcp mdns.srv=_afpovertcp._tcp:548 mdns.srv=_companion-link._tcp:49155 mdns.srv=_nfs._tcp:2049 mdns.srv=_odisk._tcp:49152 mdns.srv=_sftp-ssh._tcp:22 mdns.srv=_smb._tcp:445 mdns.srv=_ssh._tcp:22 mdns.txt.model=iMac11,3 mdns.txt.osxvers=17 mdns.txt.rpvr=152.1"}},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 7, Obs: []string{"sender|mdns.query|client|||mdns.query=_adisk._tcp mdns.query=_airport._tcp mdns.query=_apple-mobdev._tcp mdns.query=_apple-mobdev2._tcp mdns.query=_apple-pairable._tcp mdns.query=_companion-link._tcp mdns.query=_googlecast._tcp mdns.query=_ipp._tcp mdns.query=_ipps._tcp mdns.query=_ippusb._tcp mdns.query=_pdl-datastream._tcp mdns.query=_printer._tcp mdns.query=_ptp._tcp mdns.query=_rfb._tcp mdns.query=_scanner._tcp mdns.query=_uscan._tcp mdns.query=_uscans._tcp"}},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 8, Obs: []string{"sender|mdns.query|client|||mdns.query=_adisk._tcp mdns.query=_airport._tcp mdns.query=_apple-mobdev._tcp mdns.query=_apple-mobdev2._tcp mdns.query=_apple-pairable._tcp mdns.query=_companion-link._tcp mdns.query=_googlecast._tcp mdns.query=_ipp._tcp mdns.query=_ipps._tcp mdns.query=_ippusb._tcp mdns.query=_pdl-datastream._tcp mdns.query=_printer._tcp mdns.query=_ptp._tcp mdns.query=_rfb._tcp mdns.query=_scanner._tcp mdns.query=_uscan._tcp mdns.query=_uscans._tcp"}},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 9, Obs: []string{"sender|mdns.query|client|||mdns.query=_adisk._tcp mdns.query=_airport._tcp mdns.query=_apple-mobdev._tcp mdns.query=_apple-mobdev2._tcp mdns.query=_apple-pairable._tcp mdns.query=_companion-link._tcp mdns.query=_googlecast._tcp mdns.query=_ipp._tcp mdns.query=_ipps._tcp mdns.query=_ippusb._tcp mdns.query=_pdl-datastream._tcp mdns.query=_printer._tcp mdns.query=_ptp._tcp mdns.query=_rfb._tcp mdns.query=_scanner._tcp mdns.query=_uscan._tcp mdns.query=_uscans._tcp"}},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 16, Obs: []string{"sender|mdns.query|client|||mdns.query=_spotify-connect._tcp"}},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 17, Obs: []string{"sender|mdns.query|client|||mdns.query=_spotify-connect._tcp"}},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 21, Obs: []string{"sender|mdns.query|client|||mdns.query=_adisk._tcp mdns.query=_airport._tcp mdns.query=_apple-mobdev._tcp mdns.query=_apple-mobdev2._tcp mdns.query=_apple-pairable._tcp mdns.query=_companion-link._tcp mdns.query=_googlecast._tcp mdns.query=_ipp._tcp mdns.query=_ipps._tcp mdns.query=_ippusb._tcp mdns.query=_pdl-datastream._tcp mdns.query=_printer._tcp mdns.query=_ptp._tcp mdns.query=_rfb._tcp mdns.query=_scanner._tcp mdns.query=_uscan._tcp mdns.query=_uscans._tcp"}},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 22, Obs: []string{"sender|mdns.query|client|||mdns.query=_adisk._tcp mdns.query=_airport._tcp mdns.query=_apple-mobdev._tcp mdns.query=_apple-mobdev2._tcp mdns.query=_apple-pairable._tcp mdns.query=_companion-link._tcp mdns.query=_googlecast._tcp mdns.query=_ipp._tcp mdns.query=_ipps._tcp mdns.query=_ippusb._tcp mdns.query=_pdl-datastream._tcp mdns.query=_printer._tcp mdns.query=_ptp._tcp mdns.query=_rfb._tcp mdns.query=_scanner._tcp mdns.query=_uscan._tcp mdns.query=_uscans._tcp"}},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 23, Obs: []string{"sender|mdns.query|client|||mdns.query=_adisk._tcp mdns.query=_airport._tcp mdns.query=_apple-mobdev._tcp mdns.query=_apple-mobdev2._tcp mdns.query=_apple-pairable._tcp mdns.query=_companion-link._tcp mdns.query=_googlecast._tcp mdns.query=_ipp._tcp mdns.query=_ipps._tcp mdns.query=_ippusb._tcp mdns.query=_pdl-datastream._tcp mdns.query=_printer._tcp mdns.query=_ptp._tcp mdns.query=_rfb._tcp mdns.query=_scanner._tcp mdns.query=_uscan._tcp mdns.query=_uscans._tcp"}},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 33, Obs: []string{"sender|mdns.query|client|||mdns.query=_homekit._tcp"}},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 39, Obs: []string{"sender|mdns.query|client|||mdns.query=_homekit._tcp"}},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 61, Obs: []string{"sender|mdns.query|client|||mdns.query=_homekit._tcp"}},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 62, Obs: []string{"sender|mdns.query|client|||mdns.query=_homekit._tcp"}},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 275, Obs: []string{"sender|mdns.query|client|||mdns.query=_homekit._tcp"}},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 277, Obs: []string{"sender|mdns.query|client|||mdns.query=_homekit._tcp"}},
}
