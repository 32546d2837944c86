package dns

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/iomt-sensor/iomt-sensor/protocols"
	"github.com/iomt-sensor/iomt-sensor/protocols/internal/corpustest"
)

// corpusFiles are the corpus captures that hold DNS on UDP 53.
var corpusFiles = []string{
	"device-mixed/ndpi-android.pcap",
	"device-mixed/ndpi-iphone.pcap",
}

// wantMsg is what the decoder must make of one datagram; each observation
// is in the compact form of compact.
type wantMsg struct {
	File  string
	Frame int
	Err   string // protocols.Reason of the error, "" for none
	Obs   []string
}

// compact writes o as "about|source|role|ip|hostname|fact=value ...".
func compact(o protocols.Observation) string {
	var fs []string
	for _, f := range o.Facts {
		fs = append(fs, f.Name+"="+f.Value)
	}
	ip := ""
	if o.IP.IsValid() {
		ip = o.IP.String()
	}
	if !o.MAC.IsZero() {
		ip += " mac " + o.MAC.String()
	}
	return strings.Join([]string{[]string{"sender", "receiver"}[o.About&1], o.Protocol + ":" + o.Source, o.Role, ip, o.Hostname, strings.Join(fs, " ")}, "|")
}

// decodeCorpus feeds every UDP 53 datagram of the corpus files to the decoder.
func decodeCorpus(t *testing.T) []wantMsg {
	t.Helper()
	var out []wantMsg
	for _, file := range corpusFiles {
		for _, d := range corpustest.UDP(t, corpustest.File(t, file), Port) {
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
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("Test %d:\nexpected %#v\ngot      %#v", i, want[i], got[i])
		}
	}
}

func TestCorpus(t *testing.T) {
	compareMsgs(t, decodeCorpus(t), corpusWant)
}

// tsharkFields are the fields expectFromTshark reads.
var tsharkFields = []string{
	"frame.number", "dns.flags.response", "dns.flags.opcode", "dns.count.answers", "dns.qry.name",
	"dns.resp.name", "dns.resp.type", "dns.resp.class", "dns.a", "dns.aaaa", "dns.ptr.domain_name",
}

// expectFromTshark turns one line of tshark output (tsharkFields, tab
// separated, occurrences joined by "|") into what the decoder must produce,
// following the rules of the package README. Answers come first among the
// records, so the first dns.count.answers entries of dns.resp.* are the answers.
func expectFromTshark(file, line string) (wantMsg, error) {
	f := strings.Split(line, "\t")
	if len(f) != len(tsharkFields) {
		return wantMsg{}, fmt.Errorf("%d fields, want %d", len(f), len(tsharkFields))
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
	if f[1] != "1" {
		return m, nil // a query: nothing
	}
	if f[2] != "0" {
		m.Err = "unsupported"
		return m, nil
	}
	m.Obs = append(m.Obs, "sender|dns:dns.response|server|||")
	nAns, _ := strconv.Atoi(f[3])
	qname := f[4]
	names, types, classes := list(f[5]), list(f[6]), list(f[7])
	as, aaaas, ptrs := list(f[8]), list(f[9]), list(f[10])
	var ia, iaaaa, iptr int
	for i := 0; i < len(types); i++ {
		var addr string
		switch types[i] {
		case "1":
			addr, ia = as[ia], ia+1
		case "28":
			addr, iaaaa = aaaas[iaaaa], iaaaa+1
		case "12":
			target := ptrs[iptr]
			iptr++
			if i < nAns && classes[i] == "0x0001" {
				if a, ok := ReverseAddr([]byte(names[i])); ok {
					m.Obs = append(m.Obs, "sender|dns:dns.response||"+a.String()+"|"+target+"|dns.ptr="+target)
				}
			}
		}
		if addr == "" || i >= nAns || classes[i] != "0x0001" {
			continue
		}
		o := "sender|dns:dns.response||" + addr + "|" + names[i] + "|dns.name=" + names[i]
		if !strings.EqualFold(names[i], qname) {
			o += " dns.alias=" + qname
		}
		m.Obs = append(m.Obs, o)
	}
	return m, nil
}

// tsharkExpect runs tshark over path and returns the expected messages.
func tsharkExpect(t testing.TB, tshark, file, path string) []wantMsg {
	t.Helper()
	args := []string{"-r", path, "-Y", "udp.port == 53 && dns && !icmp && !icmpv6", "-T", "fields", "-E", "separator=/t", "-E", "aggregator=|"}
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
	if os.Getenv("DNS_PRINT_WANT") == "1" {
		for _, m := range want {
			t.Logf("%#v,", m)
		}
	}
	compareMsgs(t, decodeCorpus(t), want)
}

// corpusWant is what tshark 4.0 decodes from the corpus files, turned into
// expected observations by expectFromTshark (DNS_PRINT_WANT=1 prints it).
var corpusWant = []wantMsg{
	{File: "device-mixed/ndpi-android.pcap", Frame: 78, Err: "", Obs: []string(nil)},
	{File: "device-mixed/ndpi-android.pcap", Frame: 79, Err: "", Obs: []string{"sender|dns:dns.response|server|||", "sender|dns:dns.response||17.253.53.201|captive.g.aaplimg.com|dns.name=captive.g.aaplimg.com dns.alias=captive.apple.com", "sender|dns:dns.response||17.253.53.208|captive.g.aaplimg.com|dns.name=captive.g.aaplimg.com dns.alias=captive.apple.com"}},
	{File: "device-mixed/ndpi-android.pcap", Frame: 88, Err: "", Obs: []string(nil)},
	{File: "device-mixed/ndpi-android.pcap", Frame: 91, Err: "", Obs: []string{"sender|dns:dns.response|server|||", "sender|dns:dns.response||216.239.35.8|time.android.com|dns.name=time.android.com", "sender|dns:dns.response||216.239.35.0|time.android.com|dns.name=time.android.com", "sender|dns:dns.response||216.239.35.4|time.android.com|dns.name=time.android.com", "sender|dns:dns.response||216.239.35.12|time.android.com|dns.name=time.android.com"}},
	{File: "device-mixed/ndpi-android.pcap", Frame: 95, Err: "", Obs: []string(nil)},
	{File: "device-mixed/ndpi-android.pcap", Frame: 96, Err: "", Obs: []string{"sender|dns:dns.response|server|||", "sender|dns:dns.response||216.239.38.120|clients1.google.com|dns.name=clients1.google.com"}},
	{File: "device-mixed/ndpi-android.pcap", Frame: 100, Err: "", Obs: []string(nil)},
	{File: "device-mixed/ndpi-android.pcap", Frame: 102, Err: "", Obs: []string{"sender|dns:dns.response|server|||", "sender|dns:dns.response||172.217.20.74|play.googleapis.com|dns.name=play.googleapis.com"}},
	{File: "device-mixed/ndpi-android.pcap", Frame: 128, Err: "", Obs: []string(nil)},
	{File: "device-mixed/ndpi-android.pcap", Frame: 135, Err: "", Obs: []string{"sender|dns:dns.response|server|||", "sender|dns:dns.response||172.217.18.3|connectivitycheck.gstatic.com|dns.name=connectivitycheck.gstatic.com"}},
	{File: "device-mixed/ndpi-android.pcap", Frame: 142, Err: "", Obs: []string(nil)},
	{File: "device-mixed/ndpi-android.pcap", Frame: 143, Err: "", Obs: []string{"sender|dns:dns.response|server|||", "sender|dns:dns.response||172.217.168.206|app-measurement.com|dns.name=app-measurement.com"}},
	{File: "device-mixed/ndpi-android.pcap", Frame: 165, Err: "", Obs: []string(nil)},
	{File: "device-mixed/ndpi-android.pcap", Frame: 166, Err: "", Obs: []string{"sender|dns:dns.response|server|||", "sender|dns:dns.response||216.239.38.120|mtalk.google.com|dns.name=mtalk.google.com"}},
	{File: "device-mixed/ndpi-android.pcap", Frame: 200, Err: "", Obs: []string(nil)},
	{File: "device-mixed/ndpi-android.pcap", Frame: 201, Err: "", Obs: []string{"sender|dns:dns.response|server|||", "sender|dns:dns.response||216.239.38.120|android.clients.google.com|dns.name=android.clients.google.com"}},
	{File: "device-mixed/ndpi-android.pcap", Frame: 203, Err: "", Obs: []string(nil)},
	{File: "device-mixed/ndpi-android.pcap", Frame: 208, Err: "", Obs: []string(nil)},
	{File: "device-mixed/ndpi-android.pcap", Frame: 215, Err: "", Obs: []string{"sender|dns:dns.response|server|||", "sender|dns:dns.response||173.194.79.114|check.googlezip.net|dns.name=check.googlezip.net"}},
	{File: "device-mixed/ndpi-android.pcap", Frame: 217, Err: "", Obs: []string{"sender|dns:dns.response|server|||", "sender|dns:dns.response||172.217.21.202|datasaver.googleapis.com|dns.name=datasaver.googleapis.com"}},
	{File: "device-mixed/ndpi-android.pcap", Frame: 221, Err: "", Obs: []string(nil)},
	{File: "device-mixed/ndpi-android.pcap", Frame: 223, Err: "", Obs: []string{"sender|dns:dns.response|server|||", "sender|dns:dns.response||216.239.38.120|www.google.com|dns.name=www.google.com"}},
	{File: "device-mixed/ndpi-android.pcap", Frame: 274, Err: "", Obs: []string(nil)},
	{File: "device-mixed/ndpi-android.pcap", Frame: 276, Err: "", Obs: []string{"sender|dns:dns.response|server|||", "sender|dns:dns.response||216.239.38.120|accounts.google.com|dns.name=accounts.google.com"}},
	{File: "device-mixed/ndpi-android.pcap", Frame: 291, Err: "", Obs: []string(nil)},
	{File: "device-mixed/ndpi-android.pcap", Frame: 310, Err: "", Obs: []string{"sender|dns:dns.response|server|||", "sender|dns:dns.response||172.217.20.74|semanticlocation-pa.googleapis.com|dns.name=semanticlocation-pa.googleapis.com"}},
	{File: "device-mixed/ndpi-android.pcap", Frame: 324, Err: "", Obs: []string(nil)},
	{File: "device-mixed/ndpi-android.pcap", Frame: 332, Err: "", Obs: []string{"sender|dns:dns.response|server|||", "sender|dns:dns.response||172.217.20.76|proxy.googlezip.net|dns.name=proxy.googlezip.net"}},
	{File: "device-mixed/ndpi-android.pcap", Frame: 338, Err: "", Obs: []string(nil)},
	{File: "device-mixed/ndpi-android.pcap", Frame: 339, Err: "", Obs: []string{"sender|dns:dns.response|server|||", "sender|dns:dns.response||216.239.38.120|accounts.google.com|dns.name=accounts.google.com"}},
	{File: "device-mixed/ndpi-android.pcap", Frame: 358, Err: "", Obs: []string(nil)},
	{File: "device-mixed/ndpi-android.pcap", Frame: 359, Err: "", Obs: []string{"sender|dns:dns.response|server|||", "sender|dns:dns.response||173.194.79.114|check.googlezip.net|dns.name=check.googlezip.net"}},
	{File: "device-mixed/ndpi-android.pcap", Frame: 377, Err: "", Obs: []string(nil)},
	{File: "device-mixed/ndpi-android.pcap", Frame: 378, Err: "", Obs: []string{"sender|dns:dns.response|server|||", "sender|dns:dns.response||172.217.21.202|datasaver.googleapis.com|dns.name=datasaver.googleapis.com"}},
	{File: "device-mixed/ndpi-android.pcap", Frame: 383, Err: "", Obs: []string(nil)},
	{File: "device-mixed/ndpi-android.pcap", Frame: 384, Err: "", Obs: []string{"sender|dns:dns.response|server|||", "sender|dns:dns.response||172.217.20.76|proxy.googlezip.net|dns.name=proxy.googlezip.net"}},
	{File: "device-mixed/ndpi-android.pcap", Frame: 385, Err: "", Obs: []string(nil)},
	{File: "device-mixed/ndpi-android.pcap", Frame: 386, Err: "", Obs: []string{"sender|dns:dns.response|server|||", "sender|dns:dns.response||216.239.38.120|www.google.com|dns.name=www.google.com"}},
	{File: "device-mixed/ndpi-android.pcap", Frame: 406, Err: "", Obs: []string(nil)},
	{File: "device-mixed/ndpi-android.pcap", Frame: 441, Err: "", Obs: []string{"sender|dns:dns.response|server|||", "sender|dns:dns.response||172.217.22.10|android.googleapis.com|dns.name=android.googleapis.com"}},
	{File: "device-mixed/ndpi-android.pcap", Frame: 485, Err: "", Obs: []string(nil)},
	{File: "device-mixed/ndpi-android.pcap", Frame: 487, Err: "", Obs: []string{"sender|dns:dns.response|server|||", "sender|dns:dns.response||172.217.20.76|proxy.googlezip.net|dns.name=proxy.googlezip.net"}},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 49, Err: "", Obs: []string(nil)},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 50, Err: "", Obs: []string(nil)},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 51, Err: "", Obs: []string(nil)},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 52, Err: "", Obs: []string(nil)},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 53, Err: "", Obs: []string(nil)},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 54, Err: "", Obs: []string{"sender|dns:dns.response|server|||", "sender|dns:dns.response||17.248.185.140|fmfmobile.fe.apple-dns.net|dns.name=fmfmobile.fe.apple-dns.net dns.alias=p26-fmfmobile.icloud.com", "sender|dns:dns.response||17.248.131.8|fmfmobile.fe.apple-dns.net|dns.name=fmfmobile.fe.apple-dns.net dns.alias=p26-fmfmobile.icloud.com", "sender|dns:dns.response||17.248.131.202|fmfmobile.fe.apple-dns.net|dns.name=fmfmobile.fe.apple-dns.net dns.alias=p26-fmfmobile.icloud.com", "sender|dns:dns.response||17.248.131.203|fmfmobile.fe.apple-dns.net|dns.name=fmfmobile.fe.apple-dns.net dns.alias=p26-fmfmobile.icloud.com", "sender|dns:dns.response||17.248.185.164|fmfmobile.fe.apple-dns.net|dns.name=fmfmobile.fe.apple-dns.net dns.alias=p26-fmfmobile.icloud.com", "sender|dns:dns.response||17.248.185.103|fmfmobile.fe.apple-dns.net|dns.name=fmfmobile.fe.apple-dns.net dns.alias=p26-fmfmobile.icloud.com", "sender|dns:dns.response||17.248.131.178|fmfmobile.fe.apple-dns.net|dns.name=fmfmobile.fe.apple-dns.net dns.alias=p26-fmfmobile.icloud.com", "sender|dns:dns.response||17.248.185.48|fmfmobile.fe.apple-dns.net|dns.name=fmfmobile.fe.apple-dns.net dns.alias=p26-fmfmobile.icloud.com"}},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 55, Err: "", Obs: []string{"sender|dns:dns.response|server|||", "sender|dns:dns.response||17.248.185.87|keyvalueservice.fe.apple-dns.net|dns.name=keyvalueservice.fe.apple-dns.net dns.alias=p26-keyvalueservice.icloud.com", "sender|dns:dns.response||17.248.185.38|keyvalueservice.fe.apple-dns.net|dns.name=keyvalueservice.fe.apple-dns.net dns.alias=p26-keyvalueservice.icloud.com", "sender|dns:dns.response||17.248.185.39|keyvalueservice.fe.apple-dns.net|dns.name=keyvalueservice.fe.apple-dns.net dns.alias=p26-keyvalueservice.icloud.com", "sender|dns:dns.response||17.248.185.10|keyvalueservice.fe.apple-dns.net|dns.name=keyvalueservice.fe.apple-dns.net dns.alias=p26-keyvalueservice.icloud.com", "sender|dns:dns.response||17.248.131.171|keyvalueservice.fe.apple-dns.net|dns.name=keyvalueservice.fe.apple-dns.net dns.alias=p26-keyvalueservice.icloud.com", "sender|dns:dns.response||17.248.185.103|keyvalueservice.fe.apple-dns.net|dns.name=keyvalueservice.fe.apple-dns.net dns.alias=p26-keyvalueservice.icloud.com", "sender|dns:dns.response||17.248.185.132|keyvalueservice.fe.apple-dns.net|dns.name=keyvalueservice.fe.apple-dns.net dns.alias=p26-keyvalueservice.icloud.com", "sender|dns:dns.response||17.248.185.141|keyvalueservice.fe.apple-dns.net|dns.name=keyvalueservice.fe.apple-dns.net dns.alias=p26-keyvalueservice.icloud.com"}},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 56, Err: "", Obs: []string{"sender|dns:dns.response|server|||", "sender|dns:dns.response||95.101.25.53|e6987.e9.akamaiedge.net|dns.name=e6987.e9.akamaiedge.net dns.alias=gspe35-ssl.ls.apple.com"}},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 57, Err: "", Obs: []string{"sender|dns:dns.response|server|||", "sender|dns:dns.response||17.130.2.46|gsp85-ssl.ls2-apple.com.akadns.net|dns.name=gsp85-ssl.ls2-apple.com.akadns.net dns.alias=gsp85-ssl.ls.apple.com"}},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 59, Err: "", Obs: []string{"sender|dns:dns.response|server|||", "sender|dns:dns.response||17.253.105.202|captive.g.aaplimg.com|dns.name=captive.g.aaplimg.com dns.alias=captive.apple.com", "sender|dns:dns.response||17.253.53.202|captive.g.aaplimg.com|dns.name=captive.g.aaplimg.com dns.alias=captive.apple.com"}},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 60, Err: "", Obs: []string(nil)},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 70, Err: "", Obs: []string{"sender|dns:dns.response|server|||", "sender|dns:dns.response||17.253.105.202|mesu.g.aaplimg.com|dns.name=mesu.g.aaplimg.com dns.alias=mesu.apple.com", "sender|dns:dns.response||17.253.53.203|mesu.g.aaplimg.com|dns.name=mesu.g.aaplimg.com dns.alias=mesu.apple.com"}},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 85, Err: "", Obs: []string(nil)},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 110, Err: "", Obs: []string{"sender|dns:dns.response|server|||", "sender|dns:dns.response||17.248.176.75|gateway.fe.apple-dns.net|dns.name=gateway.fe.apple-dns.net dns.alias=gateway.icloud.com", "sender|dns:dns.response||17.248.177.133|gateway.fe.apple-dns.net|dns.name=gateway.fe.apple-dns.net dns.alias=gateway.icloud.com", "sender|dns:dns.response||17.248.176.40|gateway.fe.apple-dns.net|dns.name=gateway.fe.apple-dns.net dns.alias=gateway.icloud.com", "sender|dns:dns.response||17.248.176.141|gateway.fe.apple-dns.net|dns.name=gateway.fe.apple-dns.net dns.alias=gateway.icloud.com", "sender|dns:dns.response||17.248.176.77|gateway.fe.apple-dns.net|dns.name=gateway.fe.apple-dns.net dns.alias=gateway.icloud.com", "sender|dns:dns.response||17.248.177.101|gateway.fe.apple-dns.net|dns.name=gateway.fe.apple-dns.net dns.alias=gateway.icloud.com", "sender|dns:dns.response||17.248.177.170|gateway.fe.apple-dns.net|dns.name=gateway.fe.apple-dns.net dns.alias=gateway.icloud.com", "sender|dns:dns.response||17.248.176.137|gateway.fe.apple-dns.net|dns.name=gateway.fe.apple-dns.net dns.alias=gateway.icloud.com"}},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 135, Err: "", Obs: []string(nil)},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 136, Err: "", Obs: []string(nil)},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 137, Err: "", Obs: []string(nil)},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 138, Err: "", Obs: []string(nil)},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 139, Err: "", Obs: []string(nil)},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 140, Err: "", Obs: []string(nil)},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 141, Err: "", Obs: []string(nil)},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 142, Err: "", Obs: []string(nil)},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 172, Err: "", Obs: []string{"sender|dns:dns.response|server|||", "sender|dns:dns.response||23.45.74.46|e4478.a.akamaiedge.net|dns.name=e4478.a.akamaiedge.net dns.alias=www.icloud.com"}},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 173, Err: "", Obs: []string{"sender|dns:dns.response|server|||", "sender|dns:dns.response||92.122.252.82|e9338.d.akamaiedge.net|dns.name=e9338.d.akamaiedge.net dns.alias=iphone-ld.apple.com"}},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 174, Err: "", Obs: []string{"sender|dns:dns.response|server|||"}},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 177, Err: "", Obs: []string{"sender|dns:dns.response|server|||", "sender|dns:dns.response||95.101.24.53|e673.dsce9.akamaiedge.net|dns.name=e673.dsce9.akamaiedge.net dns.alias=bag.itunes.apple.com"}},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 178, Err: "", Obs: []string{"sender|dns:dns.response|server|||", "sender|dns:dns.response||95.101.24.53|e673.dsce9.akamaiedge.net|dns.name=e673.dsce9.akamaiedge.net dns.alias=bag.itunes.apple.com"}},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 181, Err: "", Obs: []string{"sender|dns:dns.response|server|||", "sender|dns:dns.response||95.101.24.53|e673.dsce9.akamaiedge.net|dns.name=e673.dsce9.akamaiedge.net dns.alias=init.itunes.apple.com"}},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 182, Err: "", Obs: []string{"sender|dns:dns.response|server|||", "sender|dns:dns.response||92.123.77.26|a1806.dscb.akamai.net|dns.name=a1806.dscb.akamai.net dns.alias=play.itunes.apple.com", "sender|dns:dns.response||92.123.77.64|a1806.dscb.akamai.net|dns.name=a1806.dscb.akamai.net dns.alias=play.itunes.apple.com"}},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 183, Err: "", Obs: []string{"sender|dns:dns.response|server|||", "sender|dns:dns.response||104.73.61.30|e14868.dsce9.akamaiedge.net|dns.name=e14868.dsce9.akamaiedge.net dns.alias=cl4.apple.com"}},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 246, Err: "", Obs: []string(nil)},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 252, Err: "", Obs: []string(nil)},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 260, Err: "", Obs: []string{"sender|dns:dns.response|server|||", "sender|dns:dns.response||17.137.166.35|gsa.apple.com.akadns.net|dns.name=gsa.apple.com.akadns.net dns.alias=gsa.apple.com"}},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 261, Err: "", Obs: []string{"sender|dns:dns.response|server|||", "sender|dns:dns.response||17.137.166.35|gsa.apple.com.akadns.net|dns.name=gsa.apple.com.akadns.net dns.alias=gsa.apple.com"}},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 338, Err: "", Obs: []string(nil)},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 340, Err: "", Obs: []string{"sender|dns:dns.response|server|||", "sender|dns:dns.response||92.123.77.26|a1806.dscb.akamai.net|dns.name=a1806.dscb.akamai.net dns.alias=play.itunes.apple.com", "sender|dns:dns.response||92.123.77.64|a1806.dscb.akamai.net|dns.name=a1806.dscb.akamai.net dns.alias=play.itunes.apple.com"}},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 419, Err: "", Obs: []string(nil)},
	{File: "device-mixed/ndpi-iphone.pcap", Frame: 422, Err: "", Obs: []string{"sender|dns:dns.response|server|||", "sender|dns:dns.response||95.101.24.53|e673.dsce9.akamaiedge.net|dns.name=e673.dsce9.akamaiedge.net dns.alias=sync.itunes.apple.com"}},
}
