package arp

import (
	"bytes"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/iomt-sensor/iomt-sensor/protocols"
	"github.com/iomt-sensor/iomt-sensor/protocols/internal/corpustest"
)

// corpusFiles are the corpus captures that hold ARP.
var corpusFiles = []string{
	"dhcp/tcpdump-dhcp-rfc4388.pcap",
	"http/ndpi-ipp.pcap",
	"device-mixed/ndpi-iphone.pcap",
	"device-mixed/ndpi-android.pcap",
}

// corpusWant is one expected observation per ARP frame, from
//
//	tshark -r FILE -Y arp -T fields -e frame.number -e arp.opcode \
//	  -e arp.src.hw_mac -e arp.src.proto_ipv4 -e arp.dst.proto_ipv4
//
// (tshark 4.0.17). facts are "name=value".
var corpusWant = []struct {
	file   string
	frame  int
	source string
	mac    string
	ip     string
	facts  []string
}{
	{"dhcp/tcpdump-dhcp-rfc4388.pcap", 7, "arp.request", "a6:82:4b:c9:a1:a7", "10.40.2.3", nil},
	{"dhcp/tcpdump-dhcp-rfc4388.pcap", 8, "arp.reply", "74:83:ef:07:d0:a9", "10.40.1.1", nil},
	{"dhcp/tcpdump-dhcp-rfc4388.pcap", 17, "arp.request", "a6:82:4b:c9:a1:a7", "10.40.2.3", nil},
	{"dhcp/tcpdump-dhcp-rfc4388.pcap", 18, "arp.reply", "74:83:ef:07:d0:a9", "10.40.1.1", nil},
	{"dhcp/tcpdump-dhcp-rfc4388.pcap", 29, "arp.request", "a6:82:4b:c9:a1:a7", "10.40.2.3", nil},
	{"dhcp/tcpdump-dhcp-rfc4388.pcap", 30, "arp.reply", "74:83:ef:07:d0:a9", "10.40.1.1", nil},
	{"dhcp/tcpdump-dhcp-rfc4388.pcap", 41, "arp.request", "a6:82:4b:c9:a1:a7", "10.40.2.3", nil},
	{"dhcp/tcpdump-dhcp-rfc4388.pcap", 42, "arp.reply", "74:83:ef:07:d0:a9", "10.40.1.1", nil},
	{"dhcp/tcpdump-dhcp-rfc4388.pcap", 46, "arp.request", "a6:82:4b:c9:a1:a7", "10.40.2.3", nil},
	{"dhcp/tcpdump-dhcp-rfc4388.pcap", 47, "arp.reply", "74:83:ef:07:d0:a9", "10.40.1.1", nil},
	{"dhcp/tcpdump-dhcp-rfc4388.pcap", 51, "arp.request", "a6:82:4b:c9:a1:a7", "10.40.2.3", nil},
	{"dhcp/tcpdump-dhcp-rfc4388.pcap", 52, "arp.reply", "74:83:ef:07:d0:a9", "10.40.1.1", nil},
	{"http/ndpi-ipp.pcap", 1, "arp.request", "00:1b:63:98:bf:36", "10.10.10.49", nil},
	{"http/ndpi-ipp.pcap", 2, "arp.reply", "00:12:79:80:69:60", "10.10.10.251", nil},
	{"device-mixed/ndpi-iphone.pcap", 37, "arp.request", "c4:61:8b:35:82:a9", "", []string{"arp.probe_target=192.168.2.17"}},
	{"device-mixed/ndpi-iphone.pcap", 38, "arp.request", "c4:61:8b:35:82:a9", "", []string{"arp.probe_target=192.168.2.17"}},
	{"device-mixed/ndpi-iphone.pcap", 40, "arp.request", "c4:61:8b:35:82:a9", "", []string{"arp.probe_target=192.168.2.17"}},
	{"device-mixed/ndpi-iphone.pcap", 41, "arp.request", "c4:61:8b:35:82:a9", "192.168.2.17", []string{"arp.gratuitous=true"}},
	{"device-mixed/ndpi-iphone.pcap", 43, "arp.request", "c4:61:8b:35:82:a9", "192.168.2.17", []string{"arp.gratuitous=true"}},
	{"device-mixed/ndpi-iphone.pcap", 44, "arp.request", "c4:61:8b:35:82:a9", "192.168.2.17", []string{"arp.gratuitous=true"}},
	{"device-mixed/ndpi-iphone.pcap", 45, "arp.request", "c4:61:8b:35:82:a9", "192.168.2.17", nil},
	{"device-mixed/ndpi-iphone.pcap", 46, "arp.reply", "c6:2c:03:60:6a:64", "192.168.2.1", nil},
	{"device-mixed/ndpi-iphone.pcap", 47, "arp.request", "c4:61:8b:35:82:a9", "192.168.2.17", nil},
	{"device-mixed/ndpi-iphone.pcap", 48, "arp.reply", "c6:2c:03:60:6a:64", "192.168.2.1", nil},
	{"device-mixed/ndpi-android.pcap", 28, "arp.request", "c6:2c:03:60:6a:64", "192.168.2.1", nil},
	{"device-mixed/ndpi-android.pcap", 30, "arp.request", "c6:2c:03:60:6a:64", "192.168.2.1", nil},
	{"device-mixed/ndpi-android.pcap", 32, "arp.request", "c6:2c:03:60:6a:64", "192.168.2.1", nil},
	{"device-mixed/ndpi-android.pcap", 35, "arp.request", "c6:2c:03:60:6a:64", "192.168.2.1", nil},
	{"device-mixed/ndpi-android.pcap", 36, "arp.request", "c6:2c:03:60:6a:64", "192.168.2.1", nil},
	{"device-mixed/ndpi-android.pcap", 38, "arp.request", "c6:2c:03:60:6a:64", "192.168.2.1", nil},
	{"device-mixed/ndpi-android.pcap", 39, "arp.request", "c6:2c:03:60:6a:64", "192.168.2.1", nil},
	{"device-mixed/ndpi-android.pcap", 40, "arp.request", "c6:2c:03:60:6a:64", "192.168.2.1", nil},
	{"device-mixed/ndpi-android.pcap", 50, "arp.request", "c6:2c:03:60:6a:64", "192.168.2.1", nil},
	{"device-mixed/ndpi-android.pcap", 51, "arp.request", "c6:2c:03:60:6a:64", "192.168.2.1", nil},
	{"device-mixed/ndpi-android.pcap", 52, "arp.request", "c6:2c:03:60:6a:64", "192.168.2.1", nil},
	{"device-mixed/ndpi-android.pcap", 55, "arp.request", "c6:2c:03:60:6a:64", "192.168.2.1", nil},
	{"device-mixed/ndpi-android.pcap", 56, "arp.request", "c6:2c:03:60:6a:64", "192.168.2.1", nil},
	{"device-mixed/ndpi-android.pcap", 70, "arp.request", "c6:2c:03:60:6a:64", "192.168.2.1", nil},
	{"device-mixed/ndpi-android.pcap", 76, "arp.request", "4c:6a:f6:9f:f6:27", "192.168.2.16", nil},
	{"device-mixed/ndpi-android.pcap", 77, "arp.reply", "c6:2c:03:60:6a:64", "192.168.2.1", nil},
	{"device-mixed/ndpi-android.pcap", 119, "arp.request", "c6:2c:03:60:6a:64", "192.168.2.1", nil},
	{"device-mixed/ndpi-android.pcap", 177, "arp.request", "c6:2c:03:60:6a:64", "192.168.2.1", nil},
	{"device-mixed/ndpi-android.pcap", 204, "arp.request", "c6:2c:03:60:6a:64", "192.168.2.1", nil},
}

type corpusObs struct {
	file  string
	frame int
	obs   protocols.Observation
}

// decodeCorpus feeds every ARP frame of the corpus files to the decoder.
func decodeCorpus(t *testing.T) []corpusObs {
	t.Helper()
	var out []corpusObs
	for _, file := range corpusFiles {
		path := corpustest.File(t, file)
		for _, fr := range corpustest.Ethernet(t, path, EtherType) {
			if !Detect(protocols.FromClient, fr.Payload) {
				t.Errorf("%s frame %d: Detect = false", file, fr.Frame)
			}
			got, err := decode(fr.Payload)
			if err != nil {
				t.Errorf("%s frame %d: %v", file, fr.Frame, err)
			}
			for _, o := range got {
				out = append(out, corpusObs{file, fr.Frame, o})
			}
		}
	}
	return out
}

func factStrings(fs []protocols.Fact) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Name+"="+f.Value)
	}
	return out
}

func checkObs(t *testing.T, got corpusObs, file string, frame int, source, mac, ip string, facts []string) {
	t.Helper()
	o := got.obs
	if got.file != file || got.frame != frame {
		t.Errorf("expected %s frame %d, got %s frame %d", file, frame, got.file, got.frame)
		return
	}
	var gotIP string
	if o.IP.IsValid() {
		gotIP = o.IP.String()
	}
	if o.Protocol != "arp" || o.Source != source || o.About != protocols.Sender || o.MAC.String() != mac || gotIP != ip ||
		!reflect.DeepEqual(factStrings(o.Facts), facts) {
		t.Errorf("%s frame %d: expected %s %s %s %v, got %s %s %s %v", file, frame,
			source, mac, ip, facts, o.Source, o.MAC, gotIP, factStrings(o.Facts))
	}
}

func TestCorpus(t *testing.T) {
	got := decodeCorpus(t)
	if len(got) != len(corpusWant) {
		t.Errorf("expected %d observations, got %d", len(corpusWant), len(got))
	}
	for i := range min(len(got), len(corpusWant)) {
		w := corpusWant[i]
		checkObs(t, got[i], w.file, w.frame, w.source, w.mac, w.ip, w.facts)
	}
}

// TestCorpusTshark compares the decoder with a live tshark run over the same
// files, when tshark is installed.
func TestCorpusTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not on PATH")
	}
	got := decodeCorpus(t)
	var n int
	for _, file := range corpusFiles {
		path := corpustest.File(t, file)
		cmd := exec.Command(tshark, "-r", path, "-Y", "arp", "-T", "fields", "-E", "separator=|",
			"-e", "frame.number", "-e", "arp.opcode", "-e", "arp.src.hw_mac",
			"-e", "arp.src.proto_ipv4", "-e", "arp.dst.proto_ipv4")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("tshark %s: %v: %s", file, err, stderr.String())
		}
		for line := range strings.Lines(strings.TrimSpace(string(out))) {
			f := strings.Split(strings.TrimSpace(line), "|")
			if len(f) != 5 {
				t.Fatalf("tshark %s: unexpected line %q", file, line)
			}
			frame, _ := strconv.Atoi(f[0])
			source := map[string]string{"1": "arp.request", "2": "arp.reply"}[f[1]]
			ip := f[3]
			var facts []string
			switch {
			case ip == "0.0.0.0":
				ip = ""
				facts = []string{"arp.probe_target=" + f[4]}
			case f[3] == f[4]:
				facts = []string{"arp.gratuitous=true"}
			}
			if n >= len(got) {
				t.Fatalf("decoder gave %d observations, tshark has more", len(got))
			}
			checkObs(t, got[n], file, frame, source, f[2], ip, facts)
			n++
		}
	}
	if n != len(got) {
		t.Errorf("tshark shows %d ARP packets, decoder gave %d observations", n, len(got))
	}
}
