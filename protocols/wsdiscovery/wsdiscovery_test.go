package wsdiscovery

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/iomt-sensor/iomt-sensor/protocols"
	"github.com/iomt-sensor/iomt-sensor/protocols/internal/corpustest"
)

func mkfacts(kv ...string) []protocols.Fact {
	var out []protocols.Fact
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, protocols.Fact{Name: kv[i], Value: kv[i+1]})
	}
	return out
}

func decode(data []byte) ([]protocols.Observation, error) {
	var got []protocols.Observation
	d := Spec().New(protocols.FlowInfo{Transport: protocols.UDP})
	err := d.Feed(protocols.FromClient, data, time.Time{}, func(o protocols.Observation) { got = append(got, o) })
	return got, err
}

// wsdd2005 is the envelope head wsdd 0.7 sends (WS-Discovery April 2005).
const wsdd2005 = `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:wsd="http://schemas.xmlsoap.org/ws/2005/04/discovery" xmlns:wsx="http://schemas.xmlsoap.org/ws/2004/09/mex" xmlns:wsdp="http://schemas.xmlsoap.org/ws/2006/02/devprof" xmlns:pnpx="http://schemas.microsoft.com/windows/pnpx/2005/10" xmlns:pub="http://schemas.microsoft.com/windows/pub/2005/07">`

// sdcHead is a WS-Discovery 1.1 envelope head as IEEE 11073-20702 (MDPWS)
// devices send it.
const sdcHead = `<?xml version="1.0" encoding="UTF-8"?>
<s12:Envelope xmlns:s12="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://www.w3.org/2005/08/addressing"
  xmlns:wsd="http://docs.oasis-open.org/ws-dd/ns/discovery/2009/01" xmlns:dpws="http://docs.oasis-open.org/ws-dd/ns/dpws/2009/01"
  xmlns:mdpws="http://standards.ieee.org/downloads/11073/11073-20702-2016">
 <s12:Header><wsa:Action>http://docs.oasis-open.org/ws-dd/ns/discovery/2009/01/%s</wsa:Action></s12:Header>
 <s12:Body>%s</s12:Body></s12:Envelope>`

func sdc(action, body string) string {
	return strings.Replace(strings.Replace(sdcHead, "%s", action, 1), "%s", body, 1)
}

var fixtures = []struct {
	name, data string
	want       []protocols.Observation
}{
	{
		// ndpi-upnp.pcap frame 2 (192.168.61.66:58931 -> 239.255.255.250:3702).
		name: "resolve",
		data: `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:wsd="http://schemas.xmlsoap.org/ws/2005/04/discovery"><soap:Header><wsa:To>urn:schemas-xmlsoap-org:ws:2005:04:discovery</wsa:To><wsa:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/Resolve</wsa:Action><wsa:MessageID>urn:uuid:3f42dc9a-24ce-48d1-88f9-16b96a137d71</wsa:MessageID></soap:Header><soap:Body><wsd:Resolve><wsa:EndpointReference><wsa:Address>urn:uuid:e3248000-80ce-11db-8000-001ba99ec956</wsa:Address></wsa:EndpointReference></wsd:Resolve></soap:Body></soap:Envelope>`,
		want: []protocols.Observation{{Protocol: "wsdiscovery", Source: "wsd.resolve", About: protocols.Sender, Role: "client",
			Facts: mkfacts(FactAction, "Resolve", FactVersion, "2005/04", FactResolveEndpoint, "urn:uuid:e3248000-80ce-11db-8000-001ba99ec956")}},
	},
	{
		// testdata/wsdd.pcap frame 1: wsdd Hello (10.77.0.2).
		name: "wsdd hello",
		data: wsdd2005 + `<soap:Header><wsa:To>urn:schemas-xmlsoap-org:ws:2005:04:discovery</wsa:To><wsa:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/Hello</wsa:Action><wsa:MessageID>urn:uuid:00ec1090-e706-11f1-a2ef-fa7005f16692</wsa:MessageID><wsd:AppSequence InstanceId="1795414839" SequenceId="urn:uuid:00ec1702-e706-11f1-a2ef-fa7005f16692" MessageNumber="0" /></soap:Header><soap:Body><wsd:Hello><wsa:EndpointReference><wsa:Address>urn:uuid:3b5a6f1e-0c1d-4e2f-9a8b-7c6d5e4f3a2b</wsa:Address></wsa:EndpointReference><wsd:XAddrs>http://10.77.0.2:5357/3b5a6f1e-0c1d-4e2f-9a8b-7c6d5e4f3a2b</wsd:XAddrs><wsd:MetadataVersion>1</wsd:MetadataVersion></wsd:Hello></soap:Body></soap:Envelope>`,
		want: []protocols.Observation{{Protocol: "wsdiscovery", Source: "wsd.hello", About: protocols.Sender, Role: "server",
			Facts: mkfacts(FactAction, "Hello", FactVersion, "2005/04", FactEndpoint, "urn:uuid:3b5a6f1e-0c1d-4e2f-9a8b-7c6d5e4f3a2b",
				FactXAddrs, "http://10.77.0.2:5357/3b5a6f1e-0c1d-4e2f-9a8b-7c6d5e4f3a2b", FactMetadataVersion, "1")}},
	},
	{
		// testdata/wsdd.pcap frame 10: wsdd -D probes for wsdp:Device.
		name: "probe",
		data: wsdd2005 + `<soap:Header><wsa:To>urn:schemas-xmlsoap-org:ws:2005:04:discovery</wsa:To><wsa:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</wsa:Action></soap:Header><soap:Body><wsd:Probe><wsd:Types>wsdp:Device</wsd:Types></wsd:Probe></soap:Body></soap:Envelope>`,
		want: []protocols.Observation{{Protocol: "wsdiscovery", Source: "wsd.probe", About: protocols.Sender, Role: "client",
			Facts: mkfacts(FactAction, "Probe", FactVersion, "2005/04", FactProbeTypes, "wsdp:Device")}},
	},
	{
		// testdata/wsdd.pcap frame 11: the ProbeMatches answer.
		name: "probe matches",
		data: wsdd2005 + `<soap:Header><wsa:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches</wsa:Action></soap:Header><soap:Body><wsd:ProbeMatches><wsd:ProbeMatch><wsa:EndpointReference><wsa:Address>urn:uuid:3b5a6f1e-0c1d-4e2f-9a8b-7c6d5e4f3a2b</wsa:Address></wsa:EndpointReference><wsd:Types>wsdp:Device pub:Computer</wsd:Types><wsd:MetadataVersion>1</wsd:MetadataVersion></wsd:ProbeMatch></wsd:ProbeMatches></soap:Body></soap:Envelope>`,
		want: []protocols.Observation{{Protocol: "wsdiscovery", Source: "wsd.probematches", About: protocols.Sender, Role: "server",
			Facts: mkfacts(FactAction, "ProbeMatches", FactVersion, "2005/04", FactEndpoint, "urn:uuid:3b5a6f1e-0c1d-4e2f-9a8b-7c6d5e4f3a2b",
				FactTypes, "wsdp:Device pub:Computer", FactMetadataVersion, "1")}},
	},
	{
		// Hand-made IEEE 11073 SDC Hello (WS-Discovery 1.1) with multi-line
		// types and scopes.
		name: "sdc hello",
		data: sdc("Hello", `<wsd:Hello><wsa:EndpointReference><wsa:Address>urn:uuid:8a4d4a96-0b8e-4f1b-9f7a-3c1d2e5f6a7b</wsa:Address></wsa:EndpointReference>
  <wsd:Types>dpws:Device
    mdpws:MedicalDevice</wsd:Types>
  <wsd:Scopes>sdc.ctxt.loc:/sdc.ctxt.loc.detail/ICU%2F%2F%2F3%2F1 sdc.mds.pkp:1.2.840.10004.20701.1.1</wsd:Scopes>
  <wsd:XAddrs>https://10.1.2.30:6464/8a4d4a96</wsd:XAddrs><wsd:MetadataVersion>7</wsd:MetadataVersion></wsd:Hello>`),
		want: []protocols.Observation{{Protocol: "wsdiscovery", Source: "wsd.hello", About: protocols.Sender, Role: "server",
			Facts: mkfacts(FactAction, "Hello", FactVersion, "1.1", FactEndpoint, "urn:uuid:8a4d4a96-0b8e-4f1b-9f7a-3c1d2e5f6a7b",
				FactTypes, "dpws:Device mdpws:MedicalDevice",
				FactScopes, "sdc.ctxt.loc:/sdc.ctxt.loc.detail/ICU%2F%2F%2F3%2F1 sdc.mds.pkp:1.2.840.10004.20701.1.1",
				FactXAddrs, "https://10.1.2.30:6464/8a4d4a96", FactMetadataVersion, "7", FactSDC, "true")}},
	},
	{
		// Hand-made Bye (WS-Discovery 1.1): endpoint only.
		name: "bye",
		data: sdc("Bye", `<wsd:Bye><wsa:EndpointReference><wsa:Address>urn:uuid:8a4d4a96-0b8e-4f1b-9f7a-3c1d2e5f6a7b</wsa:Address></wsa:EndpointReference></wsd:Bye>`),
		want: []protocols.Observation{{Protocol: "wsdiscovery", Source: "wsd.bye", About: protocols.Sender, Role: "server",
			Facts: mkfacts(FactAction, "Bye", FactVersion, "1.1", FactEndpoint, "urn:uuid:8a4d4a96-0b8e-4f1b-9f7a-3c1d2e5f6a7b")}},
	},
}

func TestFeedFixtures(t *testing.T) {
	for i, tc := range fixtures {
		data := []byte(tc.data)
		if !Detect(protocols.FromClient, data) {
			t.Errorf("Test %d (%s): Detect = false, want true", i, tc.name)
		}
		got, err := decode(data)
		if err != nil {
			t.Errorf("Test %d (%s): unexpected error %v", i, tc.name, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Test %d (%s):\nexpected %+v\ngot      %+v", i, tc.name, tc.want, got)
		}
	}
}

var negatives = []struct {
	name, data string
	detect     bool
	want       error
}{
	{"empty", "", false, protocols.ErrMalformed},
	{"ssdp on 3702", "M-SEARCH * HTTP/1.1\r\n\r\n", false, protocols.ErrMalformed},
	{"other soap", `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><x/></s:Body></s:Envelope>`, false, protocols.ErrMalformed},
	{"truncated xml", wsdd2005 + `<soap:Body><wsd:Hello><wsa:EndpointReference>`, true, protocols.ErrMalformed},
	{"no body", wsdd2005 + `<soap:Header/></soap:Envelope>`, true, protocols.ErrMalformed},
	{"unknown body element", wsdd2005 + `<soap:Body><wsd:Hallo/></soap:Body></soap:Envelope>`, true, protocols.ErrUnsupported},
	{"utf-16 declared", `<?xml version="1.0" encoding="utf-16"?><soap:Envelope xmlns:wsd="http://schemas.xmlsoap.org/ws/2005/04/discovery"><soap:Body><wsd:Hello/></soap:Body></soap:Envelope>`, true, protocols.ErrMalformed},
	{"too deep", wsdd2005 + "<soap:Body><wsd:Hello>" + strings.Repeat("<a>", MaxDepth) + strings.Repeat("</a>", MaxDepth) + "</wsd:Hello></soap:Body></soap:Envelope>", true, protocols.ErrTooLong},
	{"too many tokens", wsdd2005 + "<soap:Body><wsd:Hello>" + strings.Repeat("<a/>", MaxTokens) + "</wsd:Hello></soap:Body></soap:Envelope>", true, protocols.ErrTooLong},
	{"over the length cap", wsdd2005 + strings.Repeat(" ", MaxMessageLen), true, protocols.ErrTooLong},
}

func TestFeedNegative(t *testing.T) {
	for i, tc := range negatives {
		data := []byte(tc.data)
		if d := Detect(protocols.FromClient, data); d != tc.detect {
			t.Errorf("Test %d (%s): expected Detect = %v, got %v", i, tc.name, tc.detect, d)
		}
		got, err := decode(data)
		if !errors.Is(err, tc.want) {
			t.Errorf("Test %d (%s): expected error wrapping %v, got %v", i, tc.name, tc.want, err)
		}
		if len(got) != 0 {
			t.Errorf("Test %d (%s): expected no observation, got %+v", i, tc.name, got)
		}
	}
}

func TestSpec(t *testing.T) {
	s := Spec()
	if s.Name != "wsdiscovery" || s.Transport != protocols.UDP || !reflect.DeepEqual(s.Ports, []uint16{3702}) {
		t.Errorf("unexpected spec %+v", s)
	}
	if s.Detect == nil || s.New == nil {
		t.Fatal("spec lacks Detect or New")
	}
}

func FuzzDecode(f *testing.F) {
	for _, tc := range fixtures {
		f.Add([]byte(tc.data))
	}
	for _, tc := range negatives {
		f.Add([]byte(tc.data))
	}
	corpustest.Seed(f, corpusFiles, func(path string) [][]byte {
		var out [][]byte
		for _, d := range corpustest.UDP(f, path, Port) {
			out = append(out, d.Payload)
		}
		return out
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		detect := Detect(protocols.FromClient, data)
		got, err := decode(data)
		if err != nil {
			if len(got) != 0 {
				t.Fatalf("error %v with observations %+v", err, got)
			}
			if protocols.Reason(err) == "other" {
				t.Fatalf("error %v wraps no sentinel", err)
			}
			return
		}
		if !detect || len(got) != 1 {
			t.Fatalf("detect %v, %d observations", detect, len(got))
		}
		for _, fct := range got[0].Facts {
			if fct.Value == "" || len(fct.Value) > maxValue {
				t.Fatalf("fact %s: %d bytes", fct.Name, len(fct.Value))
			}
			for i := 0; i < len(fct.Value); i++ {
				if c := fct.Value[i]; c < 0x20 || c > 0x7e {
					t.Fatalf("fact %s: byte %#x", fct.Name, c)
				}
			}
		}
	})
}

func BenchmarkFeed(b *testing.B) {
	for _, i := range []int{0, 4} {
		tc := fixtures[i]
		b.Run(strings.ReplaceAll(tc.name, " ", "_"), func(b *testing.B) {
			data := []byte(tc.data)
			d := New(protocols.FlowInfo{})
			var n int
			emit := func(o protocols.Observation) { n += len(o.Facts) }
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if err := d.Feed(protocols.FromClient, data, time.Time{}, emit); err != nil {
					b.Fatal(err)
				}
			}
			if n == 0 {
				b.Fatal("nothing emitted")
			}
		})
	}
}

func TestDependencies(t *testing.T) { corpustest.CheckDeps(t) }
