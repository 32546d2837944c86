package cdp

import (
	"bytes"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/iomt-sensor/iomt-sensor/protocols"
	"github.com/iomt-sensor/iomt-sensor/protocols/internal/corpustest"
)

// corpusFiles are the corpus captures that hold CDP.
var corpusFiles = []string{
	"lldp-cdp/tcpdump-3560_CDP.pcap",
	"lldp-cdp/tcpdump-LLDP_and_CDP.pcap",
	"lldp-cdp/zeek-cdp-v1.pcap",
}

// cdpFields is one advertisement reduced to the fields compared with tshark.
type cdpFields struct {
	file, frame                        string
	version, device, platform, port    string
	caps, addrs, vlan, vtp, sw, swFull string
	// hostname and ip are the observation's own fields.
	hostname, ip string
}

// tsharkFields are the fields asked of tshark, in cdpFields order after the
// frame number.
var tsharkFields = []string{
	"frame.number", "cdp.version", "cdp.deviceid", "cdp.platform", "cdp.portid", "cdp.capabilities",
	"cdp.nrgyz.ip_address", "cdp.native_vlan", "cdp.vtp_management_domain", "cdp.software_version",
}

const s1Software = "Cisco IOS Software, C3560 Software (C3560-ADVIPSERVICESK9-M), Version 12.2(44)SE, RELEASE SOFTWARE (fc1)\n" +
	"Copyright (c) 1986-2008 by Cisco Systems, Inc.\nCompiled Sat 05-Jan-08 00:15 by weiliu"

// corpusWant is every CDP frame of the corpus as tshark 4.0.17 shows it
// (tsharkFields; capabilities as names, addresses without 0.0.0.0,
// software version lines joined by newlines).
var corpusWant = func() []cdpFields {
	sw := cdpFields{version: "2", device: "Switch", platform: "cisco WS-C3560G-24PS", port: "GigabitEthernet0/5",
		caps: "switch,igmp", addrs: "192.168.0.1,192.168.0.1", vlan: "1", vtp: "Lab",
		sw:     "Cisco IOS Software, C3560 Software (C3560-ADVIPSERVICESK9-M), Version 12.2(25)SEB4, RELEASE SOFTWARE (fc1)",
		swFull: switchSoftware, hostname: "Switch", ip: "192.168.0.1"}
	s1 := cdpFields{version: "2", device: "S1", platform: "cisco WS-C3560-24TS", port: "FastEthernet0/13",
		caps: "switch,igmp", vlan: "1", sw: "Cisco IOS Software, C3560 Software (C3560-ADVIPSERVICESK9-M), Version 12.2(44)SE, RELEASE SOFTWARE (fc1)",
		swFull: s1Software, hostname: "S1"}
	s2 := s1
	s2.device, s2.hostname, s2.platform, s2.port = "S2", "S2", "cisco WS-C3560G-24PS", "GigabitEthernet0/13"
	r1 := cdpFields{version: "1", device: "R1", platform: "cisco 1601", port: "Ethernet0", caps: "router",
		addrs: "192.168.10.1", sw: "Cisco Internetwork Operating System Software", swFull: r1Software,
		hostname: "R1", ip: "192.168.10.1"}
	at := func(f cdpFields, file, frame string) cdpFields { f.file, f.frame = file, frame; return f }
	const c3560, both, zeek = "lldp-cdp/tcpdump-3560_CDP.pcap", "lldp-cdp/tcpdump-LLDP_and_CDP.pcap", "lldp-cdp/zeek-cdp-v1.pcap"
	return []cdpFields{
		at(sw, c3560, "1"), at(sw, c3560, "2"), at(sw, c3560, "3"),
		at(s1, both, "1"), at(s2, both, "2"), at(s1, both, "7"), at(s2, both, "8"),
		at(r1, zeek, "1"),
	}
}()

func reduce(file, frame string, o protocols.Observation) cdpFields {
	f := cdpFields{file: file, frame: frame, hostname: o.Hostname}
	if o.IP.IsValid() {
		f.ip = o.IP.String()
	}
	for _, fa := range o.Facts {
		switch fa.Name {
		case FactVersion:
			f.version = fa.Value
		case FactDeviceID:
			f.device = fa.Value
		case FactPlatform:
			f.platform = fa.Value
		case FactPortID:
			f.port = fa.Value
		case FactCapabilities:
			f.caps = fa.Value
		case FactAddress, FactManagementAddress:
			if f.addrs != "" {
				f.addrs += ","
			}
			f.addrs += fa.Value
		case FactNativeVLAN:
			f.vlan = fa.Value
		case FactVTPDomain:
			f.vtp = fa.Value
		case FactSoftwareVersion:
			f.sw = fa.Value
		case FactSoftwareVersionFull:
			f.swFull = fa.Value
		}
	}
	return f
}

// decodeCorpus feeds every 802.3 frame of the corpus to Detect and the CDP
// ones to the decoder.
func decodeCorpus(t *testing.T) []cdpFields {
	t.Helper()
	var out []cdpFields
	for _, file := range corpusFiles {
		path := corpustest.File(t, file)
		for _, fr := range corpustest.LLC(t, path) {
			if !Detect(protocols.FromClient, fr.Payload) {
				continue
			}
			got, err := decode(fr.Payload)
			if err != nil {
				t.Errorf("%s frame %d: %v", file, fr.Frame, err)
			}
			for _, o := range got {
				if o.Source != "cdp.advertisement" || o.About != protocols.Sender || o.Protocol != "cdp" {
					t.Errorf("%s frame %d: unexpected %s %s %v", file, fr.Frame, o.Protocol, o.Source, o.About)
				}
				out = append(out, reduce(file, strconv.Itoa(fr.Frame), o))
			}
		}
	}
	return out
}

func compare(t *testing.T, got, want []cdpFields) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("expected %d advertisements, got %d", len(want), len(got))
	}
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			t.Errorf("Test %d: expected %+v, got %+v", i, want[i], got[i])
		}
	}
}

func TestCorpus(t *testing.T) { compare(t, decodeCorpus(t), corpusWant) }

// TestCorpusTshark compares the decoder with a live tshark run over the same
// files, when tshark is installed.
func TestCorpusTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not on PATH")
	}
	got := decodeCorpus(t)
	var want []cdpFields
	for _, file := range corpusFiles {
		args := []string{"-r", corpustest.File(t, file), "-Y", "cdp", "-T", "fields", "-E", "separator=|", "-E", "aggregator=~"}
		for _, f := range tsharkFields {
			args = append(args, "-e", f)
		}
		cmd := exec.Command(tshark, args...)
		cmd.Env = append(cmd.Environ(), "TSHARK_RUN_AS_ROOT=1")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("tshark %s: %v: %s", file, err, stderr.String())
		}
		for line := range strings.Lines(strings.TrimSpace(string(out))) {
			f := strings.Split(strings.TrimRight(line, "\r\n"), "|")
			if len(f) != len(tsharkFields) {
				t.Fatalf("tshark %s: unexpected line %q", file, line)
			}
			caps, err := strconv.ParseUint(f[5], 0, 32)
			if err != nil {
				t.Fatalf("tshark %s: capabilities %q", file, f[5])
			}
			w := cdpFields{file: file, frame: f[0], version: f[1], device: f[2], platform: f[3], port: f[4],
				caps: capNames(uint32(caps)), vlan: f[7], vtp: f[8], hostname: f[2]}
			var addrs []string
			for _, a := range strings.Split(f[6], "~") {
				if a != "" && a != "0.0.0.0" {
					addrs = append(addrs, a)
				}
			}
			w.addrs = strings.Join(addrs, ",")
			if len(addrs) > 0 {
				w.ip = addrs[0]
			}
			lines := strings.Split(f[9], "~")
			w.sw = strings.TrimSpace(lines[0])
			if len(lines) > 1 {
				w.swFull = strings.Join(lines, "\n")
			}
			want = append(want, w)
		}
	}
	compare(t, got, want)
}
