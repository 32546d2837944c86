package dicom

import "strconv"

// clean returns b trimmed of padding (spaces and NULs, PS3.5 6.2), cut to
// printable ASCII (other bytes become '?') and capped at maxString bytes.
func clean(b []byte) string {
	for len(b) > 0 && (b[0] == ' ' || b[0] == 0) {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == 0) {
		b = b[:len(b)-1]
	}
	if len(b) > maxString {
		b = b[:maxString]
	}
	printable := true
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			printable = false
			break
		}
	}
	if printable {
		return string(b)
	}
	out := make([]byte, len(b))
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			c = '?'
		}
		out[i] = c
	}
	return string(out)
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
// table E.1-1); "" for an unknown one.
func commandName(v uint16) string {
	switch v {
	case 0x0001:
		return "C-STORE-RQ"
	case 0x8001:
		return "C-STORE-RSP"
	case 0x0010:
		return "C-GET-RQ"
	case 0x8010:
		return "C-GET-RSP"
	case 0x0020:
		return "C-FIND-RQ"
	case 0x8020:
		return "C-FIND-RSP"
	case 0x0021:
		return "C-MOVE-RQ"
	case 0x8021:
		return "C-MOVE-RSP"
	case 0x0030:
		return "C-ECHO-RQ"
	case 0x8030:
		return "C-ECHO-RSP"
	case 0x0100:
		return "N-EVENT-REPORT-RQ"
	case 0x8100:
		return "N-EVENT-REPORT-RSP"
	case 0x0110:
		return "N-GET-RQ"
	case 0x8110:
		return "N-GET-RSP"
	case 0x0120:
		return "N-SET-RQ"
	case 0x8120:
		return "N-SET-RSP"
	case 0x0130:
		return "N-ACTION-RQ"
	case 0x8130:
		return "N-ACTION-RSP"
	case 0x0140:
		return "N-CREATE-RQ"
	case 0x8140:
		return "N-CREATE-RSP"
	case 0x0150:
		return "N-DELETE-RQ"
	case 0x8150:
		return "N-DELETE-RSP"
	case 0x0FFF:
		return "C-CANCEL-RQ"
	}
	return ""
}

// commandSource is the observation source of a command: "dicom.c-store-rq".
func commandSource(name string) string {
	b := []byte("dicom.")
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return string(b)
}

// hex16 formats v as "0x0000".
func hex16(v uint16) string {
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

func syntaxOf(uid string) ts {
	switch uid {
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
