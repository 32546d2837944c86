// Package fingerprint turns what the sensor observed about a device into its
// identity: vendor, model, category and whether it is a medical device. It is
// pure: no I/O, no clocks.
package fingerprint

import "strings"

// Categories are the stable, dotted asset categories of SPEC.md.
var Categories = []string{
	"imaging.ct", "imaging.mr", "imaging.us", "imaging.cr", "imaging.dx", "imaging.mg",
	"imaging.nm", "imaging.pt", "imaging.xa", "imaging.rf", "imaging.ot",
	"imaging.pacs", "imaging.workstation",
	"clinical.patient_monitor", "clinical.infusion_pump", "clinical.ventilator",
	"clinical.lab_analyzer", "clinical.interface_engine", "clinical.ehr", "clinical.point_of_care",
	"it.workstation", "it.server", "it.printer", "it.phone", "it.network",
	"iot.camera", "iot.building",
	Unknown,
}

// Unknown is the category of an asset nothing identified yet.
const Unknown = "unknown"

// IsMedical reports whether assets of category are medical devices: the
// clinical.* and imaging.* categories.
func IsMedical(category string) bool {
	return strings.HasPrefix(category, "clinical.") || strings.HasPrefix(category, "imaging.")
}

// IsCategory reports whether category is one of Categories.
func IsCategory(category string) bool {
	for _, c := range Categories {
		if c == category {
			return true
		}
	}
	return false
}
