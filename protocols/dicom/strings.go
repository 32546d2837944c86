package dicom

import "strconv"

// clean returns b trimmed of padding (spaces and NULs, PS3.5 6.2), cut to
// printable ASCII (other bytes become '?') and capped at maxString bytes.
func clean(b []byte) string {
	s, _ := cleanIn(nil, b)
	return s
}

// cleanIn returns clean(b) and whether it is in list. The string is list's
// when it is there, a constant for a well-known UID, and allocated only
// otherwise.
func cleanIn(list []string, b []byte) (string, bool) {
	v := cleanView(b)
	for _, s := range list {
		if s == string(v) {
			return s, true
		}
	}
	for _, u := range knownUIDs {
		if u == string(v) {
			return u, false
		}
	}
	return string(v), false
}

// cleanView is clean without the string: b itself, trimmed and capped,
// when it is printable (nearly always), else a cleaned copy.
func cleanView(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == 0) {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == 0) {
		b = b[:len(b)-1]
	}
	if len(b) > maxString {
		b = b[:maxString]
	}
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			out := append([]byte(nil), b...)
			for j := i; j < len(out); j++ {
				if out[j] < 0x20 || out[j] > 0x7e {
					out[j] = '?'
				}
			}
			return out
		}
	}
	return b
}

// knownUIDs are UIDs nearly every association carries (PS3.6 annex A): the
// DICOM application context, the uncompressed little endian transfer
// syntaxes and the Verification SOP class.
var knownUIDs = [...]string{
	"1.2.840.10008.3.1.1.1",
	"1.2.840.10008.1.2",
	"1.2.840.10008.1.2.1",
	"1.2.840.10008.1.1",
}

// coded formats a code and its name as "1 (rejected-permanent)".
func coded(v byte, name string) string {
	return strconv.Itoa(int(v)) + " (" + name + ")"
}

// rejectResultName names A-ASSOCIATE-RJ results (PS3.8 table 9-21).
func rejectResultName(v byte) string {
	switch v {
	case 1:
		return "rejected-permanent"
	case 2:
		return "rejected-transient"
	}
	return "reserved"
}

// rejectSourceName names A-ASSOCIATE-RJ sources (PS3.8 table 9-21).
func rejectSourceName(v byte) string {
	switch v {
	case 1:
		return "DICOM UL service-user"
	case 2:
		return "DICOM UL service-provider (ACSE related function)"
	case 3:
		return "DICOM UL service-provider (Presentation related function)"
	}
	return "reserved"
}

// rejectReasonName names A-ASSOCIATE-RJ reasons, which depend on the source
// (PS3.8 table 9-21).
func rejectReasonName(source, v byte) string {
	switch source {
	case 1:
		switch v {
		case 1:
			return "no-reason-given"
		case 2:
			return "application-context-name-not-supported"
		case 3:
			return "calling-AE-title-not-recognized"
		case 7:
			return "called-AE-title-not-recognized"
		}
	case 2:
		switch v {
		case 1:
			return "no-reason-given"
		case 2:
			return "protocol-version-not-supported"
		}
	case 3:
		switch v {
		case 1:
			return "temporary-congestion"
		case 2:
			return "local-limit-exceeded"
		}
	}
	return "reserved"
}

// abortSourceName names A-ABORT sources (PS3.8 table 9-26).
func abortSourceName(v byte) string {
	switch v {
	case 0:
		return "DICOM UL service-user"
	case 2:
		return "DICOM UL service-provider"
	}
	return "reserved"
}

// abortReasonName names A-ABORT reasons of a service-provider abort (PS3.8
// table 9-26).
func abortReasonName(v byte) string {
	switch v {
	case 0:
		return "reason-not-specified"
	case 1:
		return "unrecognized-PDU"
	case 2:
		return "unexpected-PDU"
	case 4:
		return "unrecognized-PDU-parameter"
	case 5:
		return "unexpected-PDU-parameter"
	case 6:
		return "invalid-PDU-parameter-value"
	}
	return "reserved"
}

// commandName names a DIMSE Command Field (0000,0100) value (PS3.7 E.1,
// table E.1-1), with the source of its observations ("C-STORE-RQ",
// "dicom.c-store-rq"); "" for an unknown one.
func commandName(v uint16) (name, source string) {
	switch v {
	case 0x0001:
		return "C-STORE-RQ", "dicom.c-store-rq"
	case 0x8001:
		return "C-STORE-RSP", "dicom.c-store-rsp"
	case 0x0010:
		return "C-GET-RQ", "dicom.c-get-rq"
	case 0x8010:
		return "C-GET-RSP", "dicom.c-get-rsp"
	case 0x0020:
		return "C-FIND-RQ", "dicom.c-find-rq"
	case 0x8020:
		return "C-FIND-RSP", "dicom.c-find-rsp"
	case 0x0021:
		return "C-MOVE-RQ", "dicom.c-move-rq"
	case 0x8021:
		return "C-MOVE-RSP", "dicom.c-move-rsp"
	case 0x0030:
		return "C-ECHO-RQ", "dicom.c-echo-rq"
	case 0x8030:
		return "C-ECHO-RSP", "dicom.c-echo-rsp"
	case 0x0100:
		return "N-EVENT-REPORT-RQ", "dicom.n-event-report-rq"
	case 0x8100:
		return "N-EVENT-REPORT-RSP", "dicom.n-event-report-rsp"
	case 0x0110:
		return "N-GET-RQ", "dicom.n-get-rq"
	case 0x8110:
		return "N-GET-RSP", "dicom.n-get-rsp"
	case 0x0120:
		return "N-SET-RQ", "dicom.n-set-rq"
	case 0x8120:
		return "N-SET-RSP", "dicom.n-set-rsp"
	case 0x0130:
		return "N-ACTION-RQ", "dicom.n-action-rq"
	case 0x8130:
		return "N-ACTION-RSP", "dicom.n-action-rsp"
	case 0x0140:
		return "N-CREATE-RQ", "dicom.n-create-rq"
	case 0x8140:
		return "N-CREATE-RSP", "dicom.n-create-rsp"
	case 0x0150:
		return "N-DELETE-RQ", "dicom.n-delete-rq"
	case 0x8150:
		return "N-DELETE-RSP", "dicom.n-delete-rsp"
	case 0x0FFF:
		return "C-CANCEL-RQ", "dicom.c-cancel-rq"
	}
	return "", ""
}

// hex16 formats v as "0x0000".
func hex16(v uint16) string {
	if v == 0 {
		return "0x0000" // success, the status of nearly every response
	}
	const digits = "0123456789abcdef"
	return string([]byte{'0', 'x', digits[v>>12], digits[v>>8&0xf], digits[v>>4&0xf], digits[v&0xf]})
}

// ts is how a data set is encoded (PS3.5 section 10, annex A).
type ts uint8

const (
	tsUnknown     ts = iota // no accepted context seen: guess from the first element
	tsImplicitLE            // 1.2.840.10008.1.2
	tsExplicitLE            // 1.2.840.10008.1.2.1 and every encapsulated (compressed) syntax
	tsUnsupported           // explicit VR big endian (retired), deflated
)

func syntaxOf(uid []byte) ts {
	switch string(uid) {
	case "":
		return tsUnknown
	case "1.2.840.10008.1.2":
		return tsImplicitLE
	case "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.4.95":
		// Big endian, deflate, JPIP referenced deflate.
		return tsUnsupported
	}
	return tsExplicitLE
}
