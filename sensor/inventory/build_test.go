package inventory

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"net/netip"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/iomt-sensor/iomt-sensor/fingerprint"
	"github.com/iomt-sensor/iomt-sensor/protocols"
)

// TestBuildLeavesStateAlone: building assets (snapshots, events) between
// calls does not change what the inventory ends up with. Asset building
// shares some of an endpoint's lists instead of copying them.
func TestBuildLeavesStateAlone(t *testing.T) {
	calls := append(mixedCalls(), capCalls()...)
	for _, cfg := range []Config{{}, {MaxEvidence: 3, MaxPeers: 2, MaxHostnames: 1}} {
		want := assetsJSON(t, run(cfg, calls))
		for seed := range 5 {
			order := append([]call(nil), calls...)
			rand.New(rand.NewSource(int64(seed))).Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
			inv := New(cfg, func(Event) {})
			for i, c := range order {
				c(inv)
				inv.Assets()
				inv.Advance(at(i * 40))
				for _, a := range inv.Assets() {
					inv.Asset(a.ID)
					inv.Identity(a.ID)
				}
			}
			inv.Flush(at(100000))
			if got := assetsJSON(t, inv); !bytes.Equal(got, want) {
				t.Errorf("cfg %+v seed %d: assets differ after interleaved builds:\n%s\nwant\n%s", cfg, seed, got, want)
			}
		}
	}
}

// TestParallelBuild: Assets and Flush build many assets on several
// goroutines; each asset equals the one built alone, identities included
// (run with -race).
func TestParallelBuild(t *testing.T) {
	prev := runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0))) // at least two builders
	defer runtime.GOMAXPROCS(prev)
	feed := func(inv *Inventory) {
		srv := ep(pacsMAC, "10.0.0.20")
		for i := range 3 * parallelBuild {
			client := Endpoint{MAC: protocols.MAC{0x00, 0x09, 0xfb, 0, byte(i >> 8), byte(i)}, IP: netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)})}
			inv.Flow(FlowSeen{Time: at(i), Client: client, Server: srv, Transport: protocols.TCP, ServerPort: 2575, Protocol: "hl7", Answered: true})
			inv.Observe(at(i), client, srv, protocols.Observation{Protocol: "hl7", Source: "hl7.oru^r01", About: protocols.Sender,
				Facts: []protocols.Fact{{Name: "hl7.sending_application", Value: "MONITOR" + strconv.Itoa(i%7)}, {Name: "hl7.version", Value: "2.6"}}})
		}
	}
	var events []Event
	inv := New(Config{}, func(e Event) { events = append(events, e) })
	feed(inv)
	inv.Flush(at(100000))
	if len(events) != 3*parallelBuild+1 {
		t.Fatalf("Flush emitted %d events, want %d", len(events), 3*parallelBuild+1)
	}
	// The reference is another inventory fed alike whose assets are built
	// one at a time, with caches of its own.
	alone := New(Config{}, nil)
	feed(alone)
	for i, a := range inv.Assets() {
		ref, ok := alone.Asset(a.ID)
		if !ok {
			t.Fatalf("no asset %s", a.ID)
		}
		got, _ := json.Marshal(a)
		want, _ := json.Marshal(ref)
		if !bytes.Equal(got, want) {
			t.Fatalf("asset %d built with others:\n%s\nalone:\n%s", i, got, want)
		}
		if a.ID != "mac:"+pacsMAC && (a.Vendor == "" || a.HL7 == nil) {
			t.Fatalf("asset %s lost its identity or hl7 section: %s", a.ID, got)
		}
	}
}

// TestStamps: the times of an asset, formatted into one string, read as
// RFC 3339 in UTC each, whatever their zone, monotonic reading or repeats.
func TestStamps(t *testing.T) {
	est := time.FixedZone("EST", -5*3600)
	base := time.Date(2024, 3, 11, 8, 0, 0, 0, time.UTC)
	var many []time.Time // more distinct times than slots, then again
	for i := range 2*len(stamps{}.slots) + 3 {
		many = append(many, base.Add(time.Duration(i)*time.Millisecond))
	}
	var minutes []time.Time // times of the same minutes, or nearly
	rng := rand.New(rand.NewSource(2))
	for range 500 {
		minutes = append(minutes, base.Add(time.Duration(rng.Int63n(int64(3*time.Minute)))-time.Minute))
	}
	tests := []struct {
		name  string
		times []time.Time
	}{
		{"none", nil},
		{"whole second", []time.Time{base}},
		{"fractions", []time.Time{base.Add(time.Microsecond), base.Add(120 * time.Millisecond), base.Add(1)}},
		{"repeats", []time.Time{base, base.Add(time.Second), base, base, base.Add(time.Second)}},
		{"same instant, other zone", []time.Time{base, base.In(est), base.Add(time.Hour).In(est)}},
		{"monotonic", []time.Time{time.Now(), time.Now().Round(0)}},
		{"extreme years", []time.Time{time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), {}}},
		{"more than slots", append(many, many...)},
		{"same minutes", minutes},
		{"years 0000 and 9999 and past", []time.Time{time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(0, 2, 29, 23, 59, 59, 1, time.UTC),
			time.Date(0, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(-1, 12, 31, 23, 59, 59, 999999999, time.UTC),
			time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{"leap days and epoch", []time.Time{time.Date(2000, 2, 29, 12, 0, 0, 0, time.UTC), time.Date(1900, 3, 1, 0, 0, 0, 0, time.UTC),
			time.Date(2024, 2, 29, 23, 59, 59, 0, time.UTC), time.Date(2100, 2, 28, 0, 0, 0, 500, time.UTC),
			time.Unix(0, 0), time.Unix(-1, 0), time.Unix(-1, 999999999)}},
		{"random", randomTimes()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s stamps
			s.buf = append(s.buf, "left over"...)
			s.reset()
			idx := make([]int32, len(tt.times))
			for i, tm := range tt.times {
				idx[i] = s.add(tm)
			}
			all := string(s.buf)
			for i, tm := range tt.times {
				if got, want := s.text(all, idx[i]), tm.UTC().Format(time.RFC3339Nano); got != want {
					t.Errorf("time %d: %q, want %q", i, got, want)
				}
			}
		})
	}
}

// randomTimes returns times spread over years 0000 to 9999 and a little
// beyond, with and without fractions of a second.
func randomTimes() []time.Time {
	rng := rand.New(rand.NewSource(1))
	var out []time.Time
	for i := range 20000 {
		sec := rng.Int63n(maxTimeSec-minTimeSec+2*86400) + minTimeSec - 86400
		ns := rng.Int63n(1e9)
		switch i % 4 {
		case 0:
			ns = 0
		case 1:
			ns -= ns % 1000
		}
		out = append(out, time.Unix(sec, ns))
	}
	return out
}

// TestSections: the dicom and hl7 sections of facts split over runs, as
// endpoints hold them, are those of the facts merged: each list sorted,
// without repeats, at most 64 long; the implementation class UID and
// version the smallest seen.
func TestSections(t *testing.T) {
	f := func(name, value string) protocols.Fact { return protocols.Fact{Name: name, Value: value} }
	var many []protocols.Fact
	var first64 []string
	for i := range 70 {
		v := fmt.Sprintf("1.2.%03d", i)
		many = append(many, f("dicom.sop_class", v))
		if i < 64 {
			first64 = append(first64, v)
		}
	}
	tests := []struct {
		name  string
		runs  [][]protocols.Fact
		dicom *DICOM
		hl7   *HL7
	}{
		{"none", nil, nil, nil},
		{"other facts", [][]protocols.Fact{{f("dhcp.hostname", "x"), f("tls.sni", "y")}}, nil, nil},
		{"dicom", [][]protocols.Fact{{f("dhcp.hostname", "x"), f("dicom.ae_title", "CT2"), f("dicom.accepted_sop_class", "1.3"),
			f("dicom.implementation_class_uid", "1.2.9"), f("dicom.implementation_class_uid", "1.2.10"),
			f("dicom.modality", "CT"), f("dicom.sop_class", "1.1"), f("tls.sni", "y")}},
			&DICOM{AETitles: []string{"CT2"}, ImplementationClassUID: "1.2.10", Modalities: []string{"CT"}, SOPClasses: []string{"1.1", "1.3"}}, nil},
		{"version alone", [][]protocols.Fact{{f("dicom.implementation_version", "V2")}, {f("dicom.implementation_version", "V1")}},
			&DICOM{ImplementationVersion: "V1", AETitles: []string{}, Modalities: []string{}, SOPClasses: []string{}}, nil},
		{"hl7 over two runs", [][]protocols.Fact{
			{f("hl7.message_type", "ORU^R01"), f("hl7.receiving_application", "EHR"), f("hl7.sending_facility", "ICU"), f("hl7.version", "2.6")},
			{f("dicom.ae_title", "MON"), f("hl7.message_type", "ADT^A01"), f("hl7.message_type", "ORU^R01"), f("hl7.receiving_facility", "LAB"),
				f("hl7.sending_application", "MON"), f("hl7.sending_facility", "ICU")}},
			&DICOM{AETitles: []string{"MON"}, Modalities: []string{}, SOPClasses: []string{}},
			&HL7{Applications: []string{"EHR", "MON"}, Facilities: []string{"ICU", "LAB"}, MessageTypes: []string{"ADT^A01", "ORU^R01"}, Versions: []string{"2.6"}}},
		{"capped", [][]protocols.Fact{many[30:], many[:40]},
			&DICOM{AETitles: []string{}, Modalities: []string{}, SOPClasses: first64}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, run := range tt.runs { // as endpoints hold them
				slices.SortFunc(run, func(x, y protocols.Fact) int { return compareFactTo(&x, &y) })
			}
			d, h := sections(tt.runs)
			if !reflect.DeepEqual(d, tt.dicom) || !reflect.DeepEqual(h, tt.hl7) {
				t.Errorf("sections: %+v %+v, want %+v %+v", d, h, tt.dicom, tt.hl7)
			}
		})
	}
}

// TestSharedIdentity: assets whose input to Identify is alike share one
// identity, and those that differ in what rules read of their MAC
// (mac.local), addresses (asset.ip) or VLANs (asset.vlan) do not. Every
// asset equals the one an inventory fed with it alone builds.
func TestSharedIdentity(t *testing.T) {
	const rules = `rules:
  - id: app
    match:
      - {field: hl7.sending_application, equals: MON}
    assert: {firmware: F1}
    weight: 0.5
  - id: local
    match:
      - {field: mac.local, equals: "true"}
    assert: {os: Local}
    weight: 0.5
  - id: net
    match:
      - {field: asset.ip, cidr: 10.0.1.0/24}
    assert: {vendor: Net}
    weight: 0.5
  - id: vlan
    match:
      - {field: asset.vlan, equals: "7"}
    assert: {model: V7}
    weight: 0.5
`
	// Without the net and vlan rules, addresses and VLANs are not read.
	noAddrs := rules[:strings.Index(rules, "  - id: net")]
	srv := ep(pacsMAC, "10.0.9.1")
	hosts := []struct {
		ep   Endpoint
		vlan uint16
	}{
		{ep("fc:ff:ff:00:00:01", "10.0.1.1"), 0}, // an OUI of no vendor
		{ep("fc:ff:ff:00:00:02", "10.0.2.2"), 0},
		{ep("02:ff:ff:00:00:03", "10.0.2.3"), 0}, // locally administered
		{ep("fc:ff:ff:00:00:04", "10.0.2.4"), 7},
		{ep("fc:ff:ff:00:00:05", "10.0.1.5"), 0},
		{ep("fc:ff:ff:00:00:06", "10.0.2.6"), 7},
		{ep("00:09:fb:00:00:07", "10.0.2.7"), 0}, // Philips
	}
	feed := func(inv *Inventory, i int) {
		h := hosts[i]
		inv.Flow(FlowSeen{Time: at(i), Client: h.ep, Server: srv, Transport: protocols.TCP, ServerPort: 2575, Protocol: "hl7", VLAN: h.vlan, Answered: true})
		inv.Observe(at(i), h.ep, srv, protocols.Observation{Protocol: "hl7", Source: "hl7.oru^r01", About: protocols.Sender,
			Facts: []protocols.Fact{{Name: "hl7.sending_application", Value: "MON"}}})
	}
	for _, src := range []string{rules, noAddrs} {
		fp, err := fingerprint.New(fingerprint.File{Name: "rules.yaml", Data: []byte(src)})
		if err != nil {
			t.Fatal(err)
		}
		inv := New(Config{Fingerprint: fp}, func(Event) {})
		for i := range hosts {
			feed(inv, i)
		}
		inv.Flush(at(100))
		oses := map[string]bool{}
		for i, h := range hosts {
			alone := New(Config{Fingerprint: fp}, nil)
			feed(alone, i)
			id := "mac:" + h.ep.MAC.String()
			got, _ := inv.Asset(id)
			want, _ := alone.Asset(id)
			g, _ := json.Marshal(got)
			w, _ := json.Marshal(want)
			if !bytes.Equal(g, w) {
				t.Errorf("asset %s built with others:\n%s\nalone:\n%s", id, g, w)
			}
			gi, _ := inv.Identity(id)
			wi, _ := alone.Identity(id)
			if !reflect.DeepEqual(gi, wi) {
				t.Errorf("asset %s: identity %+v built with others, %+v alone", id, gi, wi)
			}
			if got.Firmware != "F1" {
				t.Errorf("asset %s: firmware %q, want F1", id, got.Firmware)
			}
			oses[got.OS] = true
		}
		if !oses["Local"] || !oses[""] {
			t.Errorf("mac.local told no assets apart: operating systems %v", oses)
		}
	}
}
