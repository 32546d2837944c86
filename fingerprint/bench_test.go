package fingerprint

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/iomt-sensor/iomt-sensor/protocols"
)

// benchRules writes n rules over the fields the sensor emits, with every
// operator kind, so the engine's index sees a realistic spread.
func benchRules(n int) File {
	var b strings.Builder
	b.WriteString("rules:\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "  - id: r%03d\n    match:\n", i)
		switch i % 10 {
		case 0:
			fmt.Fprintf(&b, "      - {field: dicom.implementation_class_uid, prefix: \"1.2.%d.\"}\n", i)
		case 1:
			fmt.Fprintf(&b, "      - {field: dhcp.vendor_class, regex: \"^vendor-%d-[0-9]+$\"}\n", i)
		case 2:
			fmt.Fprintf(&b, "      - {field: hl7.obx_code, contains: \"MDC_CODE_%d\"}\n      - {field: hl7.message_type, equals: \"ORU^R01\"}\n", i)
		case 3:
			fmt.Fprintf(&b, "      - {field: http.user_agent, contains: \"Agent%d/\", ignore_case: true}\n", i)
		case 4:
			fmt.Fprintf(&b, "      - {field: dhcp.param_list, equals: \"1,3,6,%d\"}\n", i)
		case 5:
			fmt.Fprintf(&b, "      - {field: mdns.service, any: [\"_svc%d._tcp\", \"_alt%d._udp\"]}\n", i, i)
		case 6:
			fmt.Fprintf(&b, "      - {field: ssdp.server, suffix: \"Server/%d\"}\n", i)
		case 7:
			fmt.Fprintf(&b, "      - {field: dicom.implementation_version, version: \">=%d.0, <%d.0\"}\n      - {field: dicom.manufacturer, prefix: M%d}\n", i, i+1, i)
		case 8:
			fmt.Fprintf(&b, "      - {field: lldp.system_description, regex: \"(?i)switch model %d\"}\n", i)
		case 9:
			fmt.Fprintf(&b, "      - any_of:\n          - {field: snmp.sys_descr, prefix: \"OS%d \"}\n          - {field: tls.ja4, equals: \"t13d%d\"}\n", i, i)
		}
		cat := Categories[i%len(Categories)]
		fmt.Fprintf(&b, "    assert: {vendor: \"Vendor %d\", model: \"{value}\", category: %s}\n    weight: 0.%d\n", i%17, cat, 1+i%9)
	}
	return File{Name: "bench.yaml", Data: []byte(b.String())}
}

// benchInput is one asset with 20 facts, a few of which match rules.
func benchInput() Input {
	return Input{Facts: []protocols.Fact{
		{Name: "dicom.implementation_class_uid", Value: "1.2.40.0.13.1.3"},
		{Name: "dicom.implementation_version", Value: "dcm4che-5.29.2"},
		{Name: "dicom.manufacturer", Value: "M17 Medical"},
		{Name: "dicom.modality", Value: "CT"},
		{Name: "dicom.model", Value: "Scanner X"},
		{Name: "dicom.ae_title", Value: "CT01"},
		{Name: "dicom.accepted_sop_class", Value: "1.2.840.10008.5.1.4.1.1.2"},
		{Name: "dhcp.vendor_class", Value: "vendor-11-7"},
		{Name: "dhcp.param_list", Value: "1,3,6,15,31,33,43,44,46,47,119,121,249,252"},
		{Name: "dhcp.hostname", Value: "CT-SCANNER-01"},
		{Name: "hl7.message_type", Value: "ORU^R01"},
		{Name: "hl7.obx_code", Value: "150456^MDC_CODE_22^MDC"},
		{Name: "hl7.sending_application", Value: "MONITOR"},
		{Name: "http.user_agent", Value: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) agent33/1.0"},
		{Name: "mdns.service", Value: "_svc45._tcp"},
		{Name: "ssdp.server", Value: "Linux/3.14 UPnP/1.0 Server/56"},
		{Name: "lldp.system_description", Value: "Switch Model 68 rev 2"},
		{Name: "snmp.sys_descr", Value: "OS79 embedded"},
		{Name: "tls.ja4", Value: "t13d1516h2_8daaf6152771_02713d6af862"},
		{Name: "tls.sni", Value: "example.org"},
	}, DICOMClients: 2, HL7Senders: 1}
}

func BenchmarkIdentify(b *testing.B) {
	e, err := New(benchRules(300))
	if err != nil {
		b.Fatal(err)
	}
	in := benchInput()
	id := e.Identify(in)
	if len(id.Evidence) < 5 {
		b.Fatalf("expected several matching rules, got %d: %s", len(id.Evidence), Explain(id))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		e.Identify(in)
	}
}

func BenchmarkIdentifyNoMatch(b *testing.B) {
	e, err := New(benchRules(300))
	if err != nil {
		b.Fatal(err)
	}
	in := Input{Facts: benchInput().Facts[:10]}
	in.Facts = append([]protocols.Fact(nil), in.Facts...)
	in.Facts[0].Value = "9.9.9"
	in.Facts[2].Value = "Nobody"
	in.Facts[7].Value = "none"
	b.ReportAllocs()
	for b.Loop() {
		e.Identify(in)
	}
}

// BenchmarkIdentifyDefaults runs the embedded default rules on the same
// asset.
func BenchmarkIdentifyDefaults(b *testing.B) {
	files := Defaults()
	if len(files) == 0 {
		b.Skip("no default rule files embedded")
	}
	e, err := New(files...)
	if err != nil {
		b.Fatal(err)
	}
	in := benchInput()
	in.Facts = append(in.Facts, protocols.Fact{Name: "dicom.implementation_class_uid", Value: "1.2.840.113619.6.5"},
		protocols.Fact{Name: "dhcp.vendor_class", Value: "android-dhcp-9"})
	b.ReportAllocs()
	for b.Loop() {
		e.Identify(in)
	}
}

// assetInput mirrors one inventory asset at the end of a replay: 30 facts
// from DHCP, DNS, TLS, HTTP and HL7, sorted by name then value as the
// inventory passes them, with a MAC, its vendor, an address and a VLAN.
func assetInput() Input {
	facts := []protocols.Fact{
		{Name: "dhcp.client_id", Value: "01:00:09:fb:12:34:56"},
		{Name: "dhcp.hostname", Value: "MX450-ICU3-07"},
		{Name: "dhcp.max_message_size", Value: "1500"},
		{Name: "dhcp.message_type", Value: "request"},
		{Name: "dhcp.param_list", Value: "1,3,6,12,15,28,42"},
		{Name: "dhcp.requested_ip", Value: "10.20.3.47"},
		{Name: "dhcp.vendor_class", Value: "udhcp 1.30.1"},
		{Name: "dns.a", Value: "10.20.0.15"},
		{Name: "dns.name", Value: "hl7-gw.hospital.local"},
		{Name: "dns.name", Value: "ntp.hospital.local"},
		{Name: "dns.name", Value: "time.hospital.local"},
		{Name: "hl7.ack_code", Value: "AA"},
		{Name: "hl7.acked_message_type", Value: "ORU^R01"},
		{Name: "hl7.device_id", Value: "MX450^Philips^00-09-FB-12-34-56"},
		{Name: "hl7.message_type", Value: "ACK^R01"},
		{Name: "hl7.message_type", Value: "ORU^R01"},
		{Name: "hl7.obx_code", Value: "147842^MDC_ECG_HEART_RATE^MDC"},
		{Name: "hl7.obx_code", Value: "150456^MDC_PULS_OXIM_SAT_O2^MDC"},
		{Name: "hl7.obx_code", Value: "150301^MDC_PRESS_BLD_NONINV_SYS^MDC"},
		{Name: "hl7.obx_code", Value: "69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC"},
		{Name: "hl7.receiving_application", Value: "CIS"},
		{Name: "hl7.sending_application", Value: "PIIC iX"},
		{Name: "hl7.sending_facility", Value: "ICU3"},
		{Name: "hl7.version", Value: "2.6"},
		{Name: "http.host", Value: "10.20.0.30"},
		{Name: "http.user_agent", Value: "Philips-IntelliVue/M.00.03"},
		{Name: "tls.alpn", Value: "http/1.1"},
		{Name: "tls.ja4", Value: "t12d1909h1_d83cc789557e_7af1ed941c26"},
		{Name: "tls.sni", Value: "update.philips.example"},
		{Name: "tls.version", Value: "1.2"},
	}
	slices.SortFunc(facts, compareFact)
	return Input{Facts: facts, MAC: protocols.MAC{0x00, 0x09, 0xfb, 0x12, 0x34, 0x56},
		OUIVendor: "Philips Medical Systems", IPs: []string{"10.20.3.47"}, VLANs: []uint16{30}}
}

// BenchmarkIdentifyAsset runs the default rules on one inventory asset,
// then Owner, Advisories and Risk as the inventory does on every build.
func BenchmarkIdentifyAsset(b *testing.B) {
	e, err := New(Defaults()...)
	if err != nil {
		b.Fatal(err)
	}
	in := assetInput()
	if id := e.Identify(in); len(id.Evidence) < 3 {
		b.Fatalf("expected several matching rules, got %d: %s", len(id.Evidence), Explain(id))
	}
	b.ReportAllocs()
	for b.Loop() {
		id := e.Identify(in)
		e.Owner(id, in.IPs, in.VLANs)
		advs := e.Advisories(id)
		e.Risk(id, advs, true, false)
	}
}
