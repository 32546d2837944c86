package lldp

import (
	"bytes"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/iomt-sensor/iomt-sensor/protocols"
	"github.com/iomt-sensor/iomt-sensor/protocols/internal/corpustest"
)

// corpusFiles are the corpus captures that hold LLDP.
var corpusFiles = []string{
	"lldp-cdp/tcpdump-LLDP_and_CDP.pcap",
	"lldp-cdp/tcpdump-lldp_mudurl.pcap",
	"lldp-cdp/zeek-lldp.pcap",
}

// lldpFields is one LLDPDU reduced to the fields compared with tshark.
type lldpFields struct {
	file, frame                          string
	chassis, port, ttl, name, desc, pdsc string
	caps, enabled, mgmt, mud, vlan, mau  string
	// hostname, mac and ip are the observation's own fields.
	hostname, mac, ip string
}

// tsharkFields are the fields asked of tshark, in lldpFields order after
// the frame number (mgmt is ip4 then ip6).
var tsharkFields = []string{
	"frame.number", "lldp.chassis.id.mac", "lldp.port.id", "lldp.port.id.mac", "lldp.time_to_live",
	"lldp.tlv.system.name", "lldp.tlv.system.desc", "lldp.port.desc", "lldp.tlv.system_cap",
	"lldp.tlv.enable_system_cap", "lldp.mgn.addr.ip4", "lldp.mgn.addr.ip6", "lldp.iana.mudurl",
	"lldp.ieee.802_1.port_vlan.id", "lldp.ieee.802_3.pmd_mau_type",
}

const ciscoDesc = "Cisco IOS Software, C3560 Software (C3560-ADVIPSERVICESK9-M), Version 12.2(44)SE, RELEASE SOFTWARE (fc1)\n" +
	"Copyright (c) 1986-2008 by Cisco Systems, Inc.\nCompiled Sat 05-Jan-08 00:15 by weiliu"

const ubuntuDesc = "Ubuntu 14.04.5 LTS Linux 3.13.0-106-generic #153-Ubuntu SMP Tue Dec 6 15:45:13 UTC 2016 i686"

// corpusWant is every LLDPDU of the corpus as tshark 4.0.17 shows it
// (tsharkFields; capabilities turned into names, MAU type into decimal).
var corpusWant = func() []lldpFields {
	s2 := lldpFields{chassis: "00:19:2f:a7:b2:8d", port: "Uplink to S1", ttl: "120", name: "S2.cisco.com",
		desc: ciscoDesc, pdsc: "GigabitEthernet0/13", caps: "bridge,router", enabled: "bridge", vlan: "1", mau: "16",
		hostname: "S2.cisco.com", mac: "00:19:2f:a7:b2:8d"}
	s1 := lldpFields{chassis: "00:18:ba:98:68:8f", port: "Fa0/13", ttl: "120", name: "S1.cisco.com",
		desc: ciscoDesc, pdsc: "FastEthernet0/13", caps: "bridge,router", enabled: "bridge", vlan: "1", mau: "16",
		hostname: "S1.cisco.com", mac: "00:18:ba:98:68:8f"}
	mud := lldpFields{chassis: "00:23:54:c2:57:02", port: "00:23:54:c2:57:02", ttl: "120",
		name: "upstairs.ofcourseimright.com", desc: ubuntuDesc, pdsc: "eth0", caps: "bridge,wlan-ap,router,station",
		enabled: "wlan-ap", mgmt: "62.12.173.114,2001:8a8:1006:4:223:54ff:fec2:5702",
		mud: "https://imright.mud.example.com/.well-known/mud/v1/vomitv2.0", mau: "16",
		hostname: "upstairs.ofcourseimright.com", mac: "00:23:54:c2:57:02", ip: "62.12.173.114"}
	smc := lldpFields{chassis: "00:22:2d:81:db:10", port: "1", ttl: "120", name: "SMCGS8P-Smart",
		desc: "SMCGS8P-Smart - SMCGS8P-Smart v3.20", pdsc: "Port #1", caps: "bridge", enabled: "bridge",
		mgmt: "192.168.2.10", hostname: "SMCGS8P-Smart", mac: "00:22:2d:81:db:10", ip: "192.168.2.10"}
	at := func(f lldpFields, file, frame string) lldpFields { f.file, f.frame = file, frame; return f }
	const both, mudf, zeek = "lldp-cdp/tcpdump-LLDP_and_CDP.pcap", "lldp-cdp/tcpdump-lldp_mudurl.pcap", "lldp-cdp/zeek-lldp.pcap"
	return []lldpFields{
		at(s2, both, "3"), at(s1, both, "4"), at(s2, both, "5"), at(s1, both, "6"),
		at(s2, both, "9"), at(s1, both, "10"), at(s2, both, "11"), at(s1, both, "12"),
		at(mud, mudf, "1"), at(mud, mudf, "2"), at(smc, zeek, "1"),
	}
}()

func reduce(file, frame string, o protocols.Observation) lldpFields {
	f := lldpFields{file: file, frame: frame, hostname: o.Hostname}
	if !o.MAC.IsZero() {
		f.mac = o.MAC.String()
	}
	if o.IP.IsValid() {
		f.ip = o.IP.String()
	}
	appendTo := func(p *string, v string) {
		if *p != "" {
			*p += ","
		}
		*p += v
	}
	for _, fa := range o.Facts {
		switch fa.Name {
		case FactChassisID:
			f.chassis = fa.Value
		case FactPortID:
			f.port = fa.Value
		case FactTTL:
			f.ttl = fa.Value
		case FactSystemName:
			f.name = fa.Value
		case FactSystemDescription:
			f.desc = fa.Value
		case FactPortDescription:
			f.pdsc = fa.Value
		case FactCapabilities:
			f.caps = fa.Value
		case FactEnabled:
			f.enabled = fa.Value
		case FactManagementAddress:
			appendTo(&f.mgmt, fa.Value)
		case FactMUDURL:
			f.mud = fa.Value
		case FactPortVLAN:
			f.vlan = fa.Value
		case FactMAUType:
			f.mau = fa.Value
		}
	}
	return f
}

// decodeCorpus feeds every LLDP frame of the corpus to the decoder.
func decodeCorpus(t *testing.T) []lldpFields {
	t.Helper()
	var out []lldpFields
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
				if o.Source != "lldp.lldpdu" || o.About != protocols.Sender || o.Protocol != "lldp" {
					t.Errorf("%s frame %d: unexpected %s %s %v", file, fr.Frame, o.Protocol, o.Source, o.About)
				}
				out = append(out, reduce(file, strconv.Itoa(fr.Frame), o))
			}
		}
	}
	return out
}

func compare(t *testing.T, got, want []lldpFields) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("expected %d LLDPDUs, got %d", len(want), len(got))
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
	var want []lldpFields
	for _, file := range corpusFiles {
		args := []string{"-r", corpustest.File(t, file), "-Y", "lldp", "-T", "fields", "-E", "separator=|"}
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
			w := lldpFields{file: file, frame: f[0], chassis: f[1], port: f[2] + f[3], ttl: f[4], name: f[5],
				desc: strings.ReplaceAll(f[6], `\n`, "\n"), pdsc: f[7], caps: capsOf(t, f[8]), enabled: capsOf(t, f[9]),
				mud: f[12], vlan: f[13], mau: numOf(t, f[14]), hostname: f[5], mac: f[1]}
			for _, a := range []string{f[10], f[11]} {
				if a == "" {
					continue
				}
				if w.mgmt != "" {
					w.mgmt += ","
				}
				w.mgmt += a
			}
			w.ip, _, _ = strings.Cut(w.mgmt, ",")
			want = append(want, w)
		}
	}
	compare(t, got, want)
}

func numOf(t *testing.T, s string) string {
	if s == "" {
		return ""
	}
	v, err := strconv.ParseUint(s, 0, 16)
	if err != nil {
		t.Fatalf("tshark value %q: %v", s, err)
	}
	return strconv.FormatUint(v, 10)
}

func capsOf(t *testing.T, s string) string {
	if s == "" {
		return ""
	}
	v, err := strconv.ParseUint(s, 0, 16)
	if err != nil {
		t.Fatalf("tshark capabilities %q: %v", s, err)
	}
	return capNames(uint16(v))
}
