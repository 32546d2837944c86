package main

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/iomt-sensor/iomt-sensor/sensor/inventory"
)

// TestMedicalInventory replays the dcmtk and mllp_send captures and checks
// each device against the values tshark shows for the same packets
// (testdata/README.md, "Medical captures").
func TestMedicalInventory(t *testing.T) {
	assets := func(name string) map[string]inventory.Asset {
		inv := filepath.Join(t.TempDir(), "inventory.json")
		_, stderr, code := replay(t, "--nats", "off", "--inventory", inv, captures+name)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", name, code, stderr)
		}
		out := map[string]inventory.Asset{}
		for _, a := range readInventory(t, inv) {
			out[a.ID] = a
		}
		return out
	}
	type want struct {
		id, ip, vendor, model, serial, firmware, category, ae string
		sop                                                   string
		app, facility, msgType, version                       string
	}
	const dcmtkUID, dcmtkVersion = "1.2.276.0.7230010.3.0.3.6.7", "OFFIS_DCMTK_367"
	tests := []struct {
		capture string
		want    []want
	}{
		{"dicom-store.pcap", []want{
			{id: "mac:44:4b:5d:77:00:29", ip: "10.77.0.41", vendor: "GE Healthcare", model: "Revolution Apex 128", serial: "CT7712GE0042",
				firmware: `revo_apex_24.1\gmp_os_7.2`, category: "imaging.ct", ae: "CT_ROOM2", sop: "1.2.840.10008.5.1.4.1.1.2"},
			{id: "mac:00:18:65:77:00:2a", ip: "10.77.0.42", vendor: "Siemens Healthineers", model: "MAGNETOM Vida Fit", serial: "41877",
				firmware: "syngo MR XA51", category: "imaging.mr", ae: "MR_ROOM1", sop: "1.2.840.10008.5.1.4.1.1.4"},
			{id: "mac:00:50:56:77:00:28", ip: "10.77.0.40", category: "imaging.pacs", ae: "PACS_MAIN", sop: "1.2.840.10008.5.1.4.1.1.2"},
		}},
		{"hl7-mllp.pcap", []want{
			{id: "mac:00:09:5c:77:00:33", ip: "10.77.0.51", category: "clinical.patient_monitor",
				app: "IntelliVue MX800^00095CFFFE770033^EUI-64", facility: "ICU_EAST^ST_ELSEWHERE", msgType: "ORU^R01", version: "2.6"},
			{id: "mac:00:50:56:77:00:32", ip: "10.77.0.50", category: "clinical.interface_engine",
				app: "HL7_ENGINE", facility: "ST_ELSEWHERE"},
			{id: "mac:00:50:56:77:00:34", ip: "10.77.0.52", app: "HIS_ADT", facility: "ST_ELSEWHERE", msgType: "ADT^A01", version: "2.5"},
		}},
	}
	for _, tc := range tests {
		got := assets(tc.capture)
		for _, w := range tc.want {
			a, ok := got[w.id]
			if !ok {
				t.Errorf("%s: no asset %s", tc.capture, w.id)
				continue
			}
			check := func(field, gotV, wantV string) {
				if wantV != "" && gotV != wantV {
					t.Errorf("%s %s: %s: expected %q, got %q", tc.capture, w.id, field, wantV, gotV)
				}
			}
			check("ip", firstOr(a.IPs), w.ip)
			check("vendor", a.Vendor, w.vendor)
			check("model", a.Model, w.model)
			check("serial", a.Serial, w.serial)
			check("firmware", a.Firmware, w.firmware)
			check("category", a.Category, w.category)
			if w.ae != "" {
				if a.DICOM == nil || !slices.Contains(a.DICOM.AETitles, w.ae) || !slices.Contains(a.DICOM.SOPClasses, w.sop) ||
					a.DICOM.ImplementationClassUID != dcmtkUID || a.DICOM.ImplementationVersion != dcmtkVersion {
					t.Errorf("%s %s: dicom section %+v", tc.capture, w.id, a.DICOM)
				}
			}
			if w.app != "" {
				if a.HL7 == nil || !slices.Contains(a.HL7.Applications, w.app) || !slices.Contains(a.HL7.Facilities, w.facility) ||
					(w.msgType != "" && !slices.Contains(a.HL7.MessageTypes, w.msgType)) || (w.version != "" && !slices.Contains(a.HL7.Versions, w.version)) {
					t.Errorf("%s %s: hl7 section %+v", tc.capture, w.id, a.HL7)
				}
			}
			if w.category != "" && !a.Medical && w.category != "unknown" {
				t.Errorf("%s %s: expected medical=true for %s", tc.capture, w.id, w.category)
			}
		}
	}
}

func firstOr(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}
