package fingerprint

import (
	"testing"

	"github.com/iomt-sensor/iomt-sensor/protocols"
)

// TestIdentify runs families of the default rules on real values.
func TestIdentify(t *testing.T) {
	f := func(kv ...string) []protocols.Fact {
		var out []protocols.Fact
		for i := 0; i+1 < len(kv); i += 2 {
			out = append(out, protocols.Fact{Name: kv[i], Value: kv[i+1]})
		}
		return out
	}
	tests := []struct {
		in                          Input
		vendor, model, category, os string
		medical                     bool
	}{
		{Input{Facts: f("dicom.manufacturer", "GE MEDICAL SYSTEMS", "dicom.model", "Revolution CT", "dicom.modality", "CT")},
			"GE Healthcare", "Revolution CT", "imaging.ct", "", true},
		// A toolkit's UID root names the software, not the device's vendor.
		{Input{Facts: f("dicom.implementation_class_uid", "1.2.276.0.7230010.3.0.3.6.7")}, "", "", "unknown", "", false},
		{Input{Facts: f("dicom.implementation_class_uid", "1.2.826.0.1.3680043.9.7133.1.1")}, "", "", "unknown", "", false},
		{Input{Facts: f("dicom.accepted_sop_class", "1.2.840.10008.5.1.4.1.1.2"), DICOMClients: 3}, "", "", "imaging.pacs", "", true},
		{Input{Facts: f("hl7.message_type", "ORU^R01", "hl7.obx_code", "150456^MDC_PULS_OXIM_SAT_O2^MDC")}, "", "", "clinical.patient_monitor", "", true},
		{Input{HL7Senders: 4}, "", "", "clinical.interface_engine", "", true},
		{Input{Facts: f("dhcp.vendor_class", "android-dhcp-9")}, "", "", "it.phone", "Android", false},
		{Input{Facts: f("dicom.modality", "XC")}, "", "", "imaging.ot", "", true},
		// Apple's captive-portal probe runs on iOS and macOS alike.
		{Input{Facts: f("http.user_agent", "CaptiveNetworkSupport-390.60.1 wispr")}, "Apple", "", "unknown", "", false},
		{Input{Facts: f("http.user_agent", "Dalvik/2.1.0 (Linux; U; Android 9; Nokia 2.2 Build/PPR1.180610.011)")}, "", "", "it.phone", "Android", false},
		{Input{Facts: f("http.user_agent", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15")}, "Apple", "", "it.phone", "iOS", false},
		{Input{Facts: f("http.user_agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64)")}, "", "", "unknown", "Windows", false},
		{Input{}, "", "", "unknown", "", false},
	}
	e, err := New(Defaults()...)
	if err != nil {
		t.Fatal(err)
	}
	for i, tc := range tests {
		got := e.Identify(tc.in)
		if got.Vendor != tc.vendor || got.Model != tc.model || got.Category != tc.category || got.OS != tc.os || got.Medical != tc.medical {
			t.Errorf("Test %d: expected %q %q %q %q medical=%v, got %+v", i, tc.vendor, tc.model, tc.category, tc.os, tc.medical, got)
		}
		if got.Category != Unknown && len(got.Evidence) == 0 {
			t.Errorf("Test %d: a conclusion without a reason", i)
		}
	}
}
