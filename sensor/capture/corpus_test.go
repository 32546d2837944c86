package capture

import (
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/iomt-sensor/iomt-sensor/sensor/capture/capturetest"
)

// corpusLinkTypes records, for every file of the shared corpus, the link
// types it holds and its packet count (checked against capinfos).
var corpusLinkTypes = []struct {
	file    string
	links   []LinkType
	packets int
}{
	{"device-mixed/ndpi-android.pcap", []LinkType{LinkEthernet}, 500},
	{"device-mixed/ndpi-iphone.pcap", []LinkType{LinkEthernet}, 500},
	{"dhcp/tcpdump-dhcp-mud.pcap", []LinkType{LinkEthernet}, 2},
	{"dhcp/tcpdump-dhcp-option-33.pcap", []LinkType{LinkEthernet}, 5},
	{"dhcp/tcpdump-dhcp-rfc3004.pcap", []LinkType{LinkEthernet}, 4},
	{"dhcp/tcpdump-dhcp-rfc4388.pcap", []LinkType{LinkEthernet}, 54},
	{"dhcp/tcpdump-dhcp-rfc5859.pcap", []LinkType{LinkEthernet}, 4},
	{"dhcp/zeek-dhcp.pcap", []LinkType{LinkEthernet}, 9},
	{"dhcp/zeek-dhcp_discover_param_req_and_client_id.pcap", []LinkType{LinkEthernet}, 1},
	{"dhcp/zeek-dhcp_inform.pcap", []LinkType{LinkEthernet}, 2},
	{"dhcp/zeek-dhcp_time_and_nameserver.pcap", []LinkType{LinkEthernet}, 2},
	{"dicom/ndpi-dicom.pcap", []LinkType{LinkNull}, 6}, // pcapng despite its name, DLT_NULL
	{"dns-mdns/zeek-mdns.pcap", []LinkType{LinkEthernet}, 24},
	{"hl7/ndpi-hl7.pcap", []LinkType{LinkEthernet}, 47}, // pcapng
	{"hl7/synthetic-mpa-all_alerts.pcap", []LinkType{LinkEthernet}, 56},
	{"http/ndpi-http.pcapng", []LinkType{LinkEthernet}, 10},
	{"http/ndpi-ipp.pcap", []LinkType{LinkEthernet}, 279},
	{"lldp-cdp/tcpdump-3560_CDP.pcap", []LinkType{LinkEthernet}, 3},
	{"lldp-cdp/tcpdump-LLDP_and_CDP.pcap", []LinkType{LinkEthernet}, 12},
	{"lldp-cdp/tcpdump-lldp_mudurl.pcap", []LinkType{LinkEthernet}, 2},
	{"lldp-cdp/zeek-cdp-v1.pcap", []LinkType{LinkEthernet}, 1},
	{"lldp-cdp/zeek-lldp.pcap", []LinkType{LinkEthernet}, 1},
	{"netbios/ndpi-netbios.pcap", []LinkType{LinkEthernet}, 261}, // pcapng
	{"snmp/ndpi-snmp.pcap", []LinkType{LinkEthernet}, 72},        // pcapng
	{"snmp/zeek-snmpv1_get.pcap", []LinkType{LinkEthernet}, 58},
	{"snmp/zeek-snmpv1_trap.pcap", []LinkType{LinkEthernet}, 1},
	{"snmp/zeek-snmpv2_get_next.pcap", []LinkType{LinkEthernet}, 8},
	{"snmp/zeek-snmpv3_get_next.pcap", []LinkType{LinkEthernet}, 4},
	{"snmp/zeek-snmpwalk-short.pcap", []LinkType{LinkEthernet}, 400},
	{"ssdp-upnp/ndpi-ssdp-m-search-ua.pcap", []LinkType{LinkEthernet}, 4},
	{"ssdp-upnp/ndpi-ssdp-m-search.pcap", []LinkType{LinkEthernet}, 19},
	{"ssdp-upnp/ndpi-upnp.pcap", []LinkType{LinkEthernet}, 14}, // pcapng
	{"syslog/ndpi-syslog.pcap", []LinkType{LinkEthernet}, 94},
	{"syslog/tcpdump-syslog_udp.pcap", []LinkType{LinkEthernet}, 4},
	{"syslog/zeek-syslog-single-udp.pcap", []LinkType{LinkEthernet}, 1},
	{"syslog/zeek-tcp-syslog.pcap", []LinkType{LinkIPv4}, 10}, // raw IPv4
	{"telnet-ftp/ndpi-ftp.pcap", []LinkType{LinkEthernet}, 209},
	{"telnet-ftp/ndpi-telnet.pcap", []LinkType{LinkEthernet}, 92},
	{"telnet-ftp/zeek-ftp-ipv4.pcap", []LinkType{LinkEthernet}, 95},
	{"tls/ndpi-443-chrome.pcap", []LinkType{LinkEthernet}, 1},
	{"tls/ndpi-443-curl.pcap", []LinkType{LinkEthernet}, 109},
	{"tls/ndpi-443-safari.pcap", []LinkType{LinkEthernet}, 41},
	{"tls/zeek-chrome-34-google.pcap", []LinkType{LinkEthernet}, 42},
	{"tls/zeek-client-certificate.pcap", []LinkType{LinkEthernet}, 31},
	{"tls/zeek-ecdhe.pcap", []LinkType{LinkEthernet}, 28},
}

// TestCorpusReads opens every capture of the corpus, reads it to the end
// and checks its link types and packet count against the table; a file in
// the corpus but not in the table fails too, so the table stays complete.
func TestCorpusReads(t *testing.T) {
	dir := capturetest.Dir(t)
	listed := map[string]bool{}
	for i, tc := range corpusLinkTypes {
		listed[tc.file] = true
		path := filepath.Join(dir, filepath.FromSlash(tc.file))
		s, err := OpenFile(path)
		if err != nil {
			t.Errorf("Test %d: %v", i, err)
			continue
		}
		var links []LinkType
		n := 0
		for {
			p, err := s.Next()
			if err != nil {
				if err.Error() != "EOF" {
					t.Errorf("Test %d: %s: read ended with %v, want io.EOF", i, tc.file, err)
				}
				break
			}
			n++
			if !slices.Contains(links, p.LinkType) {
				links = append(links, p.LinkType)
			}
			if len(p.Data) == 0 || len(p.Data) > p.Length || p.Timestamp.IsZero() {
				t.Errorf("Test %d: %s packet %d: %d bytes of %d at %v", i, tc.file, n, len(p.Data), p.Length, p.Timestamp)
			}
		}
		s.Close()
		slices.Sort(links)
		if !slices.Equal(links, tc.links) || n != tc.packets {
			t.Errorf("Test %d: %s: expected link types %v and %d packets, got %v and %d", i, tc.file, tc.links, tc.packets, links, n)
		}
	}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.Contains(d.Name(), ".pcap") {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if !listed[filepath.ToSlash(rel)] {
			t.Errorf("corpus file %s is not in corpusLinkTypes", rel)
		}
		return nil
	})
}
