package http

import "bytes"

// fhirTypes are FHIR R4 resource types (hl7.org/fhir/R4/resourcelist.html)
// the decoder names. distinctive marks names unlikely outside FHIR, which
// identify a FHIR request even without a /fhir/ path segment.
var fhirTypes = []struct {
	name        string
	distinctive bool
}{
	{"AllergyIntolerance", true}, {"Appointment", false}, {"AuditEvent", true},
	{"Binary", false}, {"BodyStructure", true}, {"Bundle", false},
	{"CapabilityStatement", true}, {"CarePlan", true}, {"CareTeam", true},
	{"Claim", false}, {"CodeSystem", true}, {"Communication", false},
	{"Composition", false}, {"Condition", false}, {"Consent", false},
	{"Coverage", false}, {"Device", false}, {"DeviceDefinition", true},
	{"DeviceMetric", true}, {"DeviceRequest", true}, {"DeviceUseStatement", true},
	{"DiagnosticReport", true}, {"DocumentReference", true}, {"Encounter", true},
	{"Endpoint", false}, {"EpisodeOfCare", true}, {"FamilyMemberHistory", true},
	{"Flag", false}, {"Goal", false}, {"Group", false},
	{"HealthcareService", true}, {"ImagingStudy", true}, {"Immunization", true},
	{"List", false}, {"Location", false}, {"Media", false},
	{"Medication", true}, {"MedicationAdministration", true}, {"MedicationDispense", true},
	{"MedicationRequest", true}, {"MedicationStatement", true}, {"NutritionOrder", true},
	{"Observation", true}, {"OperationOutcome", true}, {"Organization", false},
	{"Patient", true}, {"Person", false}, {"Practitioner", true},
	{"PractitionerRole", true}, {"Procedure", true}, {"Provenance", true},
	{"Questionnaire", false}, {"QuestionnaireResponse", true}, {"RelatedPerson", true},
	{"RiskAssessment", true}, {"Schedule", false}, {"ServiceRequest", true},
	{"Slot", false}, {"Specimen", true}, {"StructureDefinition", true},
	{"Subscription", false}, {"Task", false}, {"ValueSet", true},
}

// fhirTarget looks at a request target's path (never its query) and reports
// whether it addresses a FHIR server, and the resource type if one is
// named. A FHIR request has a path segment starting with "fhir" (any case:
// /fhir/, /fhir-r4/, /baseR4 is not recognised) followed somewhere by a
// resource type, or names a distinctive resource type as a whole segment.
// Resource ids, versions, operations and search parameters are never returned.
func fhirTarget(target []byte) (resource string, fhir bool) {
	for i, c := range target {
		if c == '?' || c == '#' {
			target = target[:i]
			break
		}
	}
	if rest, ok := bytes.CutPrefix(target, []byte("http://")); ok {
		target = rest
	} else if rest, ok := bytes.CutPrefix(target, []byte("https://")); ok {
		target = rest
	}
	if i := bytes.IndexByte(target, '/'); i >= 0 {
		target = target[i:]
	} else {
		return "", false
	}
	var afterFHIR bool
	var distinctive string
	for seg := range bytes.SplitSeq(target, []byte("/")) {
		if len(seg) >= 4 && equalFold(seg[:4], "fhir") {
			afterFHIR, fhir = true, true
			continue
		}
		if len(seg) == 0 || seg[0] < 'A' || seg[0] > 'Z' {
			continue // every resource type starts with a capital letter
		}
		for _, t := range fhirTypes {
			if string(seg) != t.name {
				continue
			}
			if afterFHIR {
				return t.name, true
			}
			if t.distinctive && distinctive == "" {
				distinctive = t.name
			}
		}
	}
	if distinctive != "" {
		return distinctive, true
	}
	return "", fhir
}
