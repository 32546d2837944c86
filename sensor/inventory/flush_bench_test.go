package inventory

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/iomt-sensor/iomt-sensor/protocols"
)

// replayCall is one call of a replay-like feed: a flow or an observation,
// at a packet time with microseconds.
type replayCall struct {
	ts               time.Time
	flow             *FlowSeen
	sender, receiver Endpoint
	o                protocols.Observation
}

// replayFeed models the calls a replay of iomt-gencap's 30 s capture makes
// into the inventory: 3000 stations (patient monitors sending HL7,
// imaging sending DICOM, workstations, others) with DHCP, ARP, DNS, TLS
// and HTTP to servers and, through two routers, to public hosts. Its assets
// are like the replay's: on average two endpoints, 11 peers (the replay's
// 13) and 32 evidence entries at 11 distinct times (13), the same mix of
// categories, and 60% of them keep their identity input from their last
// event to Flush (45%).
func replayFeed() []replayCall {
	rng := rand.New(rand.NewPCG(3, 4))
	start := time.Date(2024, 3, 11, 8, 0, 0, 0, time.UTC)
	when := func() time.Time { return start.Add(time.Duration(rng.Int64N(30e6)) * time.Microsecond) }
	var calls []replayCall
	addFlow := func(ts time.Time, c, s Endpoint, tr protocols.Transport, port uint16, proto string) {
		calls = append(calls, replayCall{ts: ts.Truncate(time.Microsecond), flow: &FlowSeen{Time: ts.Truncate(time.Microsecond),
			Client: c, Server: s, Transport: tr, ServerPort: port, Protocol: proto, Answered: true}})
	}
	addObs := func(ts time.Time, sender, receiver Endpoint, o protocols.Observation) {
		calls = append(calls, replayCall{ts: ts.Truncate(time.Microsecond), sender: sender, receiver: receiver, o: o})
	}
	host := func(oui [3]byte, i int) Endpoint {
		return Endpoint{MAC: protocols.MAC{oui[0], oui[1], oui[2], byte(i >> 16), byte(i >> 8), byte(i)},
			IP: netip.AddrFrom4([4]byte{10, 0, byte(1 + i/250), byte(1 + i%250)})}
	}
	server := func(i int) Endpoint {
		return Endpoint{MAC: protocols.MAC{0x00, 0x26, 0xb9, 0xf0, 0, byte(i)}, IP: netip.AddrFrom4([4]byte{10, 0, 0, byte(10 + i)})}
	}
	dns := []Endpoint{server(0), server(1)}
	dhcpSrv, tlsSrv := server(2), server(3)
	pacs := []Endpoint{server(4), server(5), server(6)}
	hl7 := []Endpoint{server(7), server(8)}
	routers := []protocols.MAC{{0x00, 0x00, 0x0c, 0x3f, 0x64, 0xb2}, {0x00, 0x00, 0x0c, 0x3f, 0x64, 0xb3}}
	for i, r := range routers {
		ip := netip.AddrFrom4([4]byte{10, 0, 0, byte(1 + 253*i)})
		addObs(start, Endpoint{MAC: r, IP: ip}, Endpoint{}, protocols.Observation{Protocol: "arp", Source: "arp.reply", MAC: r, IP: ip})
	}
	var pool []netip.Addr // public servers, behind the routers
	for range 1000 {
		nets := [][2]byte{{13, 107}, {104, 16}, {142, 250}, {52, 96}, {54, 230}, {23, 215}, {151, 101}, {172, 217}, {40, 126}, {18, 160}}
		n := nets[rng.IntN(len(nets))]
		pool = append(pool, netip.AddrFrom4([4]byte{n[0], n[1], byte(rng.IntN(256)), byte(1 + rng.IntN(254))}))
	}
	public := func() Endpoint { return Endpoint{MAC: routers[rng.IntN(2)], IP: pool[rng.IntN(len(pool))]} }
	snis := []string{"clients4.google.com", "crl.pki.goog", "ecs.office.com", "ehr.hosp.local", "lab.hosp.local",
		"login.microsoftonline.com", "ocsp.digicert.com", "outlook.office365.com", "s3.amazonaws.com", "www.who.int",
		"cdn.jsdelivr.net", "fonts.gstatic.com", "api.epic.com", "update.googleapis.com"}
	tlsFacts := []protocols.Fact{{Name: "tls.alpn", Value: "h2,http/1.1"},
		{Name: "tls.ja3", Value: "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,0-23-65281-10-11-35-16-5-13-18-51-45-43,29-23-24,0"},
		{Name: "tls.ja3_hash", Value: "fc2c7908e8da0d57385d66926b4b9e92"}, {Name: "tls.ja4", Value: "t13d1513h2_8daaf6152771_1eb89897b454"},
		{Name: "tls.supported_versions", Value: "1.3,1.2"}}
	for i := range 3000 {
		var h Endpoint
		kind := i % 20
		vendorClass, params := "BD Alaris", "1,3,6,15"
		switch {
		case kind < 8: // patient monitor
			h = host([3]byte{0x00, 0x09, 0xfb}, i)
			vendorClass, params = "Philips IntelliVue", "1,3,6,12,15,28,42"
			eui := fmt.Sprintf("0009FBFFFE%06X", i)
			first := time.Duration(rng.IntN(15e6)) * time.Microsecond
			for k := range 10 {
				ts := start.Add(first + time.Duration(k)*1500*time.Millisecond + time.Duration(rng.IntN(1e6))*time.Microsecond)
				srv := hl7[k%2]
				addFlow(ts, h, srv, protocols.TCP, 2575, "hl7")
				addObs(ts, h, srv, protocols.Observation{Protocol: "hl7", Source: "hl7.oru^r01", About: protocols.Sender, Facts: []protocols.Fact{
					{Name: "hl7.device_id", Value: eui + "^^" + eui + "^EUI-64"}, {Name: "hl7.message_type", Value: "ORU^R01"},
					{Name: "hl7.obx_code", Value: "147842^MDC_ECG_HEART_RATE^MDC"}, {Name: "hl7.obx_code", Value: "150456^MDC_PULS_OXIM_SAT_O2^MDC"},
					{Name: "hl7.sending_application", Value: "Philips^" + eui + "^EUI-64"}, {Name: "hl7.sending_facility", Value: "ICU"},
					{Name: "hl7.version", Value: "2.6"}}})
				addObs(ts.Add(30*time.Microsecond), srv, h, protocols.Observation{Protocol: "hl7", Source: "hl7.ack", About: protocols.Receiver, Facts: []protocols.Fact{
					{Name: "hl7.receiving_application", Value: "Philips"}, {Name: "hl7.receiving_facility", Value: "ICU"}}})
			}
			for range 2 {
				ts := when()
				pub := public()
				addFlow(ts, h, pub, protocols.TCP, 80, "http")
				addObs(ts, h, pub, protocols.Observation{Protocol: "http", Source: "http.request", About: protocols.Sender, Role: "client", Facts: []protocols.Fact{
					{Name: "http.host", Value: snis[rng.IntN(len(snis))]}, {Name: "http.user_agent", Value: "IntelliVue/M.00.03"}}})
			}
		case kind < 10: // imaging
			h = host([3]byte{0x44, 0x4b, 0x5d}, i)
			vendorClass, params = "GEHC", "1,28,2,3,15,6,119,12,44,47,26,121,42"
			ae := fmt.Sprintf("CT-%03d-%04d", i%256, i)
			for k := range 3 {
				ts := when()
				srv := pacs[k%3]
				addFlow(ts, h, srv, protocols.TCP, 104, "dicom")
				addObs(ts, h, srv, protocols.Observation{Protocol: "dicom", Source: "dicom.a-associate-rq", About: protocols.Sender, Facts: []protocols.Fact{
					{Name: "dicom.ae_title", Value: ae}, {Name: "dicom.application_context", Value: "1.2.840.10008.3.1.1.1"},
					{Name: "dicom.implementation_class_uid", Value: "1.2.840.113619.6.374"}, {Name: "dicom.implementation_version", Value: "REVOLUTION_CT"},
					{Name: "dicom.max_pdu", Value: "16384"}, {Name: "dicom.sop_class", Value: "1.2.840.10008.1.1"},
					{Name: "dicom.sop_class", Value: "1.2.840.10008.5.1.4.1.1.2"}, {Name: "dicom.transfer_syntax", Value: "1.2.840.10008.1.2"},
					{Name: "dicom.transfer_syntax", Value: "1.2.840.10008.1.2.1"}}})
				addObs(ts.Add(time.Millisecond), h, srv, protocols.Observation{Protocol: "dicom", Source: "dicom.c-store-rq", About: protocols.Sender, Facts: []protocols.Fact{
					{Name: "dicom.command", Value: "C-STORE-RQ"}, {Name: "dicom.manufacturer", Value: "GE Healthcare"}, {Name: "dicom.modality", Value: "CT"},
					{Name: "dicom.model", Value: "Revolution CT"}, {Name: "dicom.serial", Value: fmt.Sprintf("5DFFFE%06X", i)},
					{Name: "dicom.software_versions", Value: "rev_ct.21"}, {Name: "dicom.sop_class", Value: "1.2.840.10008.5.1.4.1.1.2"},
					{Name: "dicom.station_name", Value: ae}}})
				addObs(ts.Add(2*time.Millisecond), h, srv, protocols.Observation{Protocol: "dicom", Source: "dicom.a-release-rq", About: protocols.Sender,
					Facts: []protocols.Fact{{Name: "dicom.release", Value: "requested"}}})
			}
		case kind < 15: // workstation
			h = host([3]byte{0x00, 0x14, 0x22}, i)
			vendorClass, params = "MSFT 5.0", "1,3,6,15,31,33,43,44,46,47,119,121,249,252"
			for range 3 {
				ts := when()
				pub := public()
				addFlow(ts, h, pub, protocols.TCP, 80, "http")
				addObs(ts, h, pub, protocols.Observation{Protocol: "http", Source: "http.request", About: protocols.Sender, Role: "client", Facts: []protocols.Fact{
					{Name: "http.host", Value: snis[rng.IntN(len(snis))]},
					{Name: "http.user_agent", Value: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0 Safari/537.36"}}})
			}
		default: // pumps and others: DHCP, ARP and DNS only
			h = host([3]byte{0x00, 0x1b, 0x21}, i)
		}
		// Every station: ARP, DNS, and most of them DHCP and TLS.
		addObs(start.Add(when().Sub(start)/6), h, Endpoint{}, protocols.Observation{Protocol: "arp", Source: "arp.reply", MAC: h.MAC, IP: h.IP})
		for range 4 {
			ts := when()
			srv := dns[rng.IntN(2)]
			addFlow(ts, h, srv, protocols.UDP, 53, "dns")
		}
		if kind%7 < 4 || kind >= 10 && kind < 15 {
			name := fmt.Sprintf("HOST-%04d", i)
			facts := func(mt string) []protocols.Fact {
				return []protocols.Fact{{Name: "dhcp.client_id", Value: "01:" + h.MAC.String()}, {Name: "dhcp.hostname", Value: name},
					{Name: "dhcp.max_message_size", Value: "1500"}, {Name: "dhcp.message_type", Value: mt},
					{Name: "dhcp.param_list", Value: params},
					{Name: "dhcp.requested_ip", Value: h.IP.String()}, {Name: "dhcp.vendor_class", Value: vendorClass}}
			}
			ts := when()
			zero := Endpoint{MAC: h.MAC}
			bcast := Endpoint{MAC: protocols.MAC{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}
			addObs(ts, zero, bcast, protocols.Observation{Protocol: "dhcp", Source: "dhcp.discover", About: protocols.Sender, MAC: h.MAC, Hostname: name, Role: "client", Facts: facts("discover")})
			addObs(ts.Add(30*time.Millisecond), dhcpSrv, bcast, protocols.Observation{Protocol: "dhcp", Source: "dhcp.offer", About: protocols.Receiver, MAC: h.MAC, IP: h.IP,
				Facts: []protocols.Fact{{Name: "dhcp.message_type", Value: "offer"}}})
			addObs(ts.Add(50*time.Millisecond), zero, bcast, protocols.Observation{Protocol: "dhcp", Source: "dhcp.request", About: protocols.Sender, MAC: h.MAC, Hostname: name, Role: "client", Facts: facts("request")})
			addObs(ts.Add(70*time.Millisecond), dhcpSrv, bcast, protocols.Observation{Protocol: "dhcp", Source: "dhcp.ack", About: protocols.Receiver, MAC: h.MAC, IP: h.IP,
				Facts: []protocols.Fact{{Name: "dhcp.message_type", Value: "ack"}}})
		}
		if kind%5 != 4 {
			for k := range 7 {
				ts := when()
				srv := tlsSrv
				if k > 0 {
					srv = public()
				}
				addFlow(ts, h, srv, protocols.TCP, 443, "tls")
				addObs(ts, h, srv, protocols.Observation{Protocol: "tls", Source: "tls.client_hello", About: protocols.Sender,
					Facts: append(slices.Clone(tlsFacts), protocols.Fact{Name: "tls.sni", Value: snis[rng.IntN(len(snis))]})})
			}
		}
	}
	slices.SortStableFunc(calls, func(x, y replayCall) int { return x.ts.Compare(y.ts) })
	return calls
}

// replayInventory feeds calls to a new inventory, calling Advance as a
// replay does, and returns it with the time of the last call.
func replayInventory(calls []replayCall) (*Inventory, time.Time) {
	inv := New(Config{Sensor: "bench"}, func(Event) {})
	var now time.Time
	for i, c := range calls {
		if c.flow != nil {
			inv.Flow(*c.flow)
		} else {
			inv.Observe(c.ts, c.sender, c.receiver, c.o)
		}
		now = c.ts
		if i%256 == 255 {
			inv.Advance(now)
		}
	}
	return inv, now
}

// BenchmarkFlush measures the Flush that ends a replay: 3000 assets built
// on GOMAXPROCS goroutines, most changed since their last event, with the
// caches as the replay left them. The inventory is fed anew for every
// Flush, outside the timer. It reports the CPU-bound cost per asset too.
func BenchmarkFlush(b *testing.B) {
	calls := replayFeed()
	var n int
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		inv, now := replayInventory(calls)
		n = len(inv.buildAll())
		runtime.GC()
		b.StartTimer()
		inv.Flush(now)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/asset")
}
