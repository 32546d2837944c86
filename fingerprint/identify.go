package fingerprint

import (
	"sort"
	"strings"

	"github.com/iomt-sensor/iomt-sensor/protocols"
)

// Input is what the inventory knows of one asset.
type Input struct {
	// Facts are the asset's evidence, "<protocol>.<field>" = value.
	Facts []protocols.Fact
	// DICOMClients counts distinct peers that opened DICOM associations to
	// the asset (it is their SCP); HL7Senders counts distinct peers that
	// sent it HL7 messages.
	DICOMClients, HL7Senders int
	// MAC is the asset's hardware address (zero when unknown); it gives
	// the derived field mac.local.
	MAC protocols.MAC
	// OUIVendor is the registered vendor of MAC's OUI ("" when unknown or
	// locally administered); it gives the derived field oui.vendor.
	OUIVendor string
	// IPs and VLANs give the derived fields asset.ip and asset.vlan.
	IPs   []string
	VLANs []uint16
}

// Identity is what Identify concludes, with the reasons for it.
type Identity struct {
	Vendor, Model, Serial, Firmware, OS string
	Category                            string
	Medical                             bool
	Confidence                          float64
	// Reasons explain each conclusion: "vendor from dicom.manufacturer".
	// Only the deprecated package-level Identify fills them; the engine
	// gives Evidence and Candidates instead.
	Reasons []string
	// Evidence lists the rules that held, in rule id order.
	Evidence []Match
	// Candidates maps each attribute (vendor, model, os, firmware,
	// category, medical) to its candidate values, best first: the winner
	// and the losers.
	Candidates map[string][]Candidate
}

// Identify derives an asset's identity from its facts with hard-coded
// logic. It is pure and deterministic: the same facts give the same
// identity in any order.
//
// Deprecated: build an Engine with New(Defaults()...) and call its
// Identify method, which uses the rule files and explains its result.
func Identify(in Input) Identity {
	facts := map[string][]string{}
	for _, f := range in.Facts {
		facts[f.Name] = append(facts[f.Name], f.Value)
	}
	for _, v := range facts {
		sort.Strings(v)
	}
	first := func(name string) string {
		if v := facts[name]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	id := Identity{Category: Unknown}
	because := func(what, from string) { id.Reasons = append(id.Reasons, what+" from "+from) }

	// Vendor: a data set's Manufacturer is the device speaking for itself;
	// an implementation class UID root names the software's maker.
	if m := first("dicom.manufacturer"); m != "" {
		id.Vendor, id.Confidence = normalizeVendor(m), 0.9
		because("vendor", "dicom.manufacturer")
	} else if v := vendorFromUID(first("dicom.implementation_class_uid")); v != "" {
		id.Vendor, id.Confidence = v, 0.6
		because("vendor", "dicom.implementation_class_uid root")
	}
	if v := first("dicom.model"); v != "" {
		id.Model = v
		because("model", "dicom.model")
	}
	if v := first("dicom.serial"); v != "" {
		id.Serial = v
		because("serial", "dicom.serial")
	}
	if v := first("dicom.software_versions"); v != "" {
		id.Firmware = v
		because("firmware", "dicom.software_versions")
	}

	switch {
	case first("dicom.modality") != "":
		id.Category = modalityCategory(first("dicom.modality"))
		because("category", "dicom.modality")
	case in.DICOMClients >= 2 && hasPrefix(facts["dicom.accepted_sop_class"], storageSOPRoot):
		id.Category = "imaging.pacs"
		because("category", "a DICOM storage SCP with several clients")
	case contains(facts["hl7.message_type"], "ORU^R01") && hasSubstring(facts["hl7.obx_code"], "MDC_"):
		id.Category = "clinical.patient_monitor"
		because("category", "HL7 ORU^R01 with MDC observation codes")
	case in.HL7Senders >= 2:
		id.Category = "clinical.interface_engine"
		because("category", "an HL7 receiver with several senders")
	}

	id.OS, id.Category = operatingSystem(facts, id.Category, because)
	if id.Category != Unknown && id.Confidence == 0 {
		id.Confidence = 0.5
	}
	id.Medical = IsMedical(id.Category)
	return id
}

// operatingSystem finds the OS family from what the device's own software
// says: its DHCP client's vendor class, its web clients' User-Agent, the
// services it announces. A phone OS makes an unidentified device a phone.
func operatingSystem(facts map[string][]string, category string, because func(what, from string)) (string, string) {
	var os, from string
	for _, vc := range facts["dhcp.vendor_class"] {
		switch {
		case strings.HasPrefix(vc, "android-dhcp"):
			os, from = "Android", "dhcp.vendor_class"
		case strings.HasPrefix(vc, "MSFT"):
			os, from = "Windows", "dhcp.vendor_class"
		case strings.HasPrefix(vc, "dhcpcd"):
			os, from = "Linux", "dhcp.vendor_class"
		}
	}
	if os == "" {
		for _, ua := range facts["http.user_agent"] {
			switch {
			case strings.Contains(ua, "Android"):
				os = "Android"
			case strings.Contains(ua, "iPhone"), strings.Contains(ua, "iPad"), strings.HasPrefix(ua, "CaptiveNetworkSupport"):
				os = "iOS"
			case strings.Contains(ua, "Windows NT"):
				os = "Windows"
			case strings.Contains(ua, "Mac OS X"), strings.Contains(ua, "Macintosh"):
				os = "macOS"
			}
			if os != "" {
				from = "http.user_agent"
				break
			}
		}
	}
	if os == "" && contains(facts["mdns.service"], "_apple-mobdev2._tcp") {
		// Announced by iPhones and iPads for Wi-Fi sync.
		os, from = "iOS", "mdns.service _apple-mobdev2._tcp"
	}
	if os == "" {
		return "", category
	}
	because("os", from)
	if category == Unknown && (os == "Android" || os == "iOS") {
		category = "it.phone"
		because("category", "a phone operating system")
	}
	return os, category
}

// storageSOPRoot prefixes the Storage SOP Class UIDs (PS3.4 annex B).
const storageSOPRoot = "1.2.840.10008.5.1.4.1.1."

// modalityCategory maps a DICOM Modality (0008,0060; PS3.3 C.7.3.1.1.1) to
// a category.
func modalityCategory(m string) string {
	switch m = strings.ToLower(strings.TrimSpace(m)); m {
	case "ct", "mr", "us", "cr", "dx", "mg", "nm", "pt", "xa", "rf":
		return "imaging." + m
	}
	return "imaging.ot"
}

// uidRoots are implementation class UID roots of imaging vendors and DICOM
// toolkits, longest first. Sources: the roots as they appear in the
// vendors' DICOM conformance statements and the toolkits' own code (DCMTK
// dcuid.h: 1.2.276.0.7230010.3; fo-dicom DicomImplementation:
// 1.3.6.1.4.1.30071.8; pynetdicom: 1.2.826.0.1.3680043.9.3811; dcm4che
// Implementation: 1.2.40.0.13.1). The fingerprint issue widens this into a
// rule file.
var uidRoots = []struct{ root, vendor string }{
	{"1.2.826.0.1.3680043.9.3811", "pynetdicom"},
	{"1.2.826.0.1.3680043.9.7133", "go-netdicom"},
	{"1.2.392.200036.9116", "Canon Medical Systems"},
	{"1.2.276.0.7230010.3", "OFFIS DCMTK"},
	{"1.3.6.1.4.1.30071.8", "fo-dicom"},
	{"1.3.12.2.1107.5", "Siemens Healthineers"},
	{"1.2.840.113619", "GE Healthcare"},
	{"1.3.46.670589", "Philips"},
	{"1.2.40.0.13.1", "dcm4che"},
}

func vendorFromUID(uid string) string {
	for _, r := range uidRoots {
		if uid == r.root || strings.HasPrefix(uid, r.root+".") {
			return r.vendor
		}
	}
	return ""
}

// normalizeVendor maps common Manufacturer spellings to one name.
func normalizeVendor(m string) string {
	u := strings.ToUpper(m)
	switch {
	case strings.HasPrefix(u, "GE "), u == "GE", strings.Contains(u, "GE MEDICAL"), strings.Contains(u, "GE HEALTHCARE"):
		return "GE Healthcare"
	case strings.HasPrefix(u, "SIEMENS"):
		return "Siemens Healthineers"
	case strings.HasPrefix(u, "PHILIPS"):
		return "Philips"
	case strings.HasPrefix(u, "TOSHIBA"), strings.HasPrefix(u, "CANON"):
		return "Canon Medical Systems"
	}
	return m
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func hasPrefix(s []string, p string) bool {
	for _, x := range s {
		if strings.HasPrefix(x, p) {
			return true
		}
	}
	return false
}

func hasSubstring(s []string, p string) bool {
	for _, x := range s {
		if strings.Contains(x, p) {
			return true
		}
	}
	return false
}
