package anomaly

import (
	"testing"
	"time"

	"github.com/iomt-sensor/iomt-sensor/protocols"
)

func TestRules(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	rj := protocols.Observation{Protocol: "dicom", Source: "dicom.a-associate-rj", Facts: []protocols.Fact{
		{Name: "dicom.reject_result", Value: "1 (rejected-permanent)"},
		{Name: "dicom.reject_source", Value: "1 (service-user)"},
		{Name: "dicom.reject_reason", Value: "7 (called-AE-title-not-recognized)"},
	}}
	nack := protocols.Observation{Protocol: "hl7", Source: "hl7.ack", Facts: []protocols.Fact{{Name: "hl7.ack_code", Value: "AE"}}}
	ack := protocols.Observation{Protocol: "hl7", Source: "hl7.ack", Facts: []protocols.Fact{{Name: "hl7.ack_code", Value: "AA"}}}
	basic := protocols.Observation{Protocol: "http", Source: "http.request", Facts: []protocols.Fact{{Name: "http.basic_auth", Value: "true"}}}
	tests := []struct {
		obs      protocols.Observation
		at       time.Duration
		typ, sev string
	}{
		{rj, 0, "dicom_association_rejected", Medium},
		{rj, 30 * time.Second, "", ""}, // folded: within the interval
		{rj, 61 * time.Second, "dicom_association_rejected", Medium},
		{nack, 0, "hl7_nack", Low},
		{hl7Ack("CE"), 0, "hl7_nack", Low},
		{hl7Ack("AR"), 0, "hl7_nack", Medium},
		{hl7Ack("CR"), 0, "hl7_nack", Medium},
		{ack, 0, "", ""},
		{hl7Ack("CA"), 0, "", ""},
		{basic, 0, "cleartext_credentials", High},
	}
	if Interesting(&ack) {
		t.Error("Interesting() is true for an accepting HL7 ACK, which can raise nothing")
	}
	for i, tc := range tests {
		var got []Anomaly
		d := New("s1", time.Minute, func(a Anomaly) { got = append(got, a) })
		if tc.at > 0 { // the same detector saw the first one at t0
			d.Observe(t0, "mac:00:09:fb:01:02:03", tc.obs)
			got = nil
		}
		if tc.typ != "" && !Interesting(&tc.obs) {
			t.Errorf("Test %d: Interesting() is false for an anomaly source", i)
		}
		d.Observe(t0.Add(tc.at), "mac:00:09:fb:01:02:03", tc.obs)
		switch {
		case tc.typ == "" && len(got) != 0:
			t.Errorf("Test %d: expected no anomaly, got %+v", i, got)
		case tc.typ != "" && (len(got) != 1 || got[0].Type != tc.typ || got[0].Severity != tc.sev):
			t.Errorf("Test %d: expected one %s/%s, got %+v", i, tc.typ, tc.sev, got)
		case len(got) == 1 && (got[0].Schema != Schema || got[0].ID == "" || got[0].Asset == ""):
			t.Errorf("Test %d: incomplete anomaly %+v", i, got[0])
		}
	}
}

func hl7Ack(code string) protocols.Observation {
	return protocols.Observation{Protocol: "hl7", Source: "hl7.ack", Facts: []protocols.Fact{{Name: "hl7.ack_code", Value: code}}}
}

func TestIDStable(t *testing.T) {
	var ids []string
	for range 2 {
		d := New("s1", time.Minute, func(a Anomaly) { ids = append(ids, a.ID) })
		d.Observe(time.Unix(5, 0), "ip:10.0.0.1", protocols.Observation{Source: "hl7.ack", Facts: []protocols.Fact{{Name: "hl7.ack_code", Value: "AR"}}})
	}
	if len(ids) != 2 || ids[0] != ids[1] {
		t.Errorf("expected the same id twice, got %v", ids)
	}
}
