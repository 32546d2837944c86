package inventory

import (
	"encoding/json"
	"strings"
	"testing"
)

// sampleAsset is an asset with every section filled.
func sampleAsset() Asset {
	return Asset{Schema: Schema, ID: "mac:00:11:22:33:44:55", Sensor: "s", MAC: "00:11:22:33:44:55",
		IPs: []string{"10.0.0.1"}, Hostnames: []string{"pacs"}, Vendor: "v", Model: "m", Serial: "1",
		Firmware: "f", OS: "o", Category: "pacs", Confidence: 0.5, Medical: true, Protocols: []string{"dicom"},
		Services:   []Service{{Transport: "tcp", Port: 104, Protocol: "dicom", Role: "server"}},
		DICOM:      &DICOM{AETitles: []string{"PACS"}, ImplementationClassUID: "1.2", ImplementationVersion: "v1", Modalities: []string{"CT"}, SOPClasses: []string{"1.2.3"}},
		HL7:        &HL7{Applications: []string{"a"}, Facilities: []string{"f"}, MessageTypes: []string{"ADT^A01"}, Versions: []string{"2.5"}},
		Peers:      []Peer{{Asset: "ip:10.0.0.2", Protocol: "dicom", Role: "client"}},
		Evidence:   []Evidence{{Source: "dicom", Fact: "dicom.ae_title", Value: "PACS", Time: "2024-03-01T08:00:00Z"}},
		Owner:      &Owner{Responsible: "r", Accountable: "a", Consulted: []string{"c"}, Informed: []string{"i"}},
		Advisories: []Advisory{{ID: "CVE-1", Severity: "high", Source: "x"}},
		Risk:       0.25, FirstSeen: "2024-03-01T08:00:00Z", LastSeen: "2024-03-01T08:00:01Z"}
}

// TestHashFollowsJSON: two assets hash alike exactly when their JSON is
// equal, for a change to every field and for the representations JSON does
// not tell apart.
func TestHashFollowsJSON(t *testing.T) {
	tests := []struct {
		name   string
		change func(a *Asset)
	}{
		{"none", func(a *Asset) {}},
		{"schema", func(a *Asset) { a.Schema = "x" }},
		{"id", func(a *Asset) { a.ID = "ip:10.0.0.1" }},
		{"sensor", func(a *Asset) { a.Sensor = "" }},
		{"mac", func(a *Asset) { a.MAC = "" }},
		{"ips", func(a *Asset) { a.IPs = append(a.IPs, "10.0.0.3") }},
		{"ips empty", func(a *Asset) { a.IPs = []string{} }},
		{"ips moved", func(a *Asset) { a.IPs, a.Hostnames = []string{}, []string{"10.0.0.1", "pacs"} }},
		{"hostname", func(a *Asset) { a.Hostnames[0] = "pacs2" }},
		{"vendor", func(a *Asset) { a.Vendor = "w" }},
		{"vendor to model", func(a *Asset) { a.Vendor, a.Model = "", "vm" }},
		{"model", func(a *Asset) { a.Model = "" }},
		{"serial", func(a *Asset) { a.Serial = "2" }},
		{"firmware", func(a *Asset) { a.Firmware = "g" }},
		{"os", func(a *Asset) { a.OS = "" }},
		{"category", func(a *Asset) { a.Category = "unknown" }},
		{"confidence", func(a *Asset) { a.Confidence = 0.6 }},
		{"medical", func(a *Asset) { a.Medical = false }},
		{"protocols", func(a *Asset) { a.Protocols = []string{"dicom", "tls"} }},
		{"service port", func(a *Asset) { a.Services[0].Port = 4242 }},
		{"service protocol", func(a *Asset) { a.Services[0].Protocol = "" }},
		{"service role", func(a *Asset) { a.Services[0].Role = "client" }},
		{"service transport", func(a *Asset) { a.Services[0].Transport = "udp" }},
		{"dicom nil", func(a *Asset) { a.DICOM = nil }},
		{"dicom empty", func(a *Asset) { a.DICOM = &DICOM{} }},
		{"dicom ae", func(a *Asset) { a.DICOM.AETitles = nil }},
		{"dicom uid", func(a *Asset) { a.DICOM.ImplementationClassUID = "1.3" }},
		{"dicom version", func(a *Asset) { a.DICOM.ImplementationVersion = "" }},
		{"dicom modality", func(a *Asset) { a.DICOM.Modalities = []string{"MR"} }},
		{"dicom sop", func(a *Asset) { a.DICOM.SOPClasses = append(a.DICOM.SOPClasses, "1.2.4") }},
		{"hl7 nil", func(a *Asset) { a.HL7 = nil }},
		{"hl7 app", func(a *Asset) { a.HL7.Applications = []string{"b"} }},
		{"hl7 facility", func(a *Asset) { a.HL7.Facilities = nil }},
		{"hl7 type", func(a *Asset) { a.HL7.MessageTypes = []string{"ORU^R01"} }},
		{"hl7 version", func(a *Asset) { a.HL7.Versions = []string{"2.3"} }},
		{"peer asset", func(a *Asset) { a.Peers[0].Asset = "ip:10.0.0.3" }},
		{"peer protocol", func(a *Asset) { a.Peers[0].Protocol = "tcp" }},
		{"peer role", func(a *Asset) { a.Peers[0].Role = "server" }},
		{"peers empty", func(a *Asset) { a.Peers = []Peer{} }},
		{"evidence source", func(a *Asset) { a.Evidence[0].Source = "x" }},
		{"evidence fact", func(a *Asset) { a.Evidence[0].Fact = "x" }},
		{"evidence value", func(a *Asset) { a.Evidence[0].Value = "x" }},
		{"evidence time", func(a *Asset) { a.Evidence[0].Time = "2024-03-01T08:00:02Z" }},
		{"evidence split", func(a *Asset) { a.Evidence[0].Fact, a.Evidence[0].Value = "dicom.ae_titleP", "ACS" }},
		{"evidence source empty", func(a *Asset) { a.Evidence[0].Source = "" }},
		{"evidence time empty", func(a *Asset) { a.Evidence[0].Time = "" }},
		{"evidence repeated", func(a *Asset) { a.Evidence = append(a.Evidence, a.Evidence[0]) }},
		{"evidence copied", func(a *Asset) {
			x := &a.Evidence[0]
			x.Source, x.Fact, x.Value, x.Time = strings.Clone(x.Source), strings.Clone(x.Fact), strings.Clone(x.Value), strings.Clone(x.Time)
		}},
		{"peer protocol empty", func(a *Asset) { a.Peers[0].Protocol = "" }},
		{"peers repeated", func(a *Asset) { a.Peers = append(a.Peers, a.Peers[0]) }},
		{"owner nil", func(a *Asset) { a.Owner = nil }},
		{"owner empty", func(a *Asset) { a.Owner = &Owner{} }},
		{"owner responsible", func(a *Asset) { a.Owner.Responsible = "" }},
		{"owner accountable", func(a *Asset) { a.Owner.Accountable = "b" }},
		{"owner consulted", func(a *Asset) { a.Owner.Consulted = nil }},
		{"owner consulted empty", func(a *Asset) { a.Owner.Consulted = []string{} }},
		{"owner informed", func(a *Asset) { a.Owner.Informed = []string{"i", "j"} }},
		{"advisories nil", func(a *Asset) { a.Advisories = nil }},
		{"advisories empty", func(a *Asset) { a.Advisories = []Advisory{} }},
		{"advisory id", func(a *Asset) { a.Advisories[0].ID = "CVE-2" }},
		{"advisory severity", func(a *Asset) { a.Advisories[0].Severity = "low" }},
		{"advisory source", func(a *Asset) { a.Advisories[0].Source = "y" }},
		{"risk", func(a *Asset) { a.Risk = 0.3 }},
		{"first seen", func(a *Asset) { a.FirstSeen = "2024-03-01T07:00:00Z" }},
		{"last seen", func(a *Asset) { a.LastSeen = "2024-03-01T09:00:00Z" }},
	}
	inv := New(Config{}, nil)
	base := sampleAsset()
	baseJSON, _ := json.Marshal(&base)
	baseHash := inv.build.hash(&base)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := sampleAsset()
			tt.change(&a)
			j, err := json.Marshal(&a)
			if err != nil {
				t.Fatal(err)
			}
			sameJSON, sameHash := string(j) == string(baseJSON), inv.build.hash(&a) == baseHash
			if sameJSON != sameHash {
				t.Errorf("same JSON %v, same hash %v", sameJSON, sameHash)
			}
			if b := inv.build.hash(&a); b != inv.build.hash(&a) {
				t.Errorf("hash not stable")
			}
		})
	}
}

// BenchmarkHash measures the change hash of a filled asset.
func BenchmarkHash(b *testing.B) {
	inv := New(Config{}, nil)
	a := sampleAsset()
	b.ReportAllocs()
	for b.Loop() {
		inv.build.hash(&a)
	}
}
