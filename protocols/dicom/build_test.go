package dicom

import (
	"encoding/binary"
	"encoding/hex"
	"strings"
	"testing"
)

// This file builds DICOM bytes for the tests, following PS3.8 section 9.3
// (PDUs and their items, big endian lengths) and PS3.5 section 7 (data
// elements, little endian). Each helper returns hex so fixtures read as hex
// dumps with their structure in comments.

func unhex(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// ascii is s as hex.
func ascii(s string) string { return hex.EncodeToString([]byte(s)) }

// ae is an AE title padded with spaces to 16 bytes (PS3.8 9.3.2).
func ae(s string) string { return ascii(s + strings.Repeat(" ", 16-len(s))) }

func be16(n int) string { return hex.EncodeToString(binary.BigEndian.AppendUint16(nil, uint16(n))) }
func be32(n int) string { return hex.EncodeToString(binary.BigEndian.AppendUint32(nil, uint32(n))) }
func le16(n int) string { return hex.EncodeToString(binary.LittleEndian.AppendUint16(nil, uint16(n))) }
func le32(n int) string { return hex.EncodeToString(binary.LittleEndian.AppendUint32(nil, uint32(n))) }

func hexLen(h string) int { return len(strings.Join(strings.Fields(h), "")) / 2 }

// pdu is a PDU: type, reserved 00, 4-byte length, body (PS3.8 9.3.1).
func pdu(typ string, body ...string) string {
	b := strings.Join(body, "")
	return typ + "00" + be32(hexLen(b)) + b
}

// itm is a variable item or sub-item: type, reserved 00, 2-byte length (PS3.8 9.3.2.1).
func itm(typ string, value ...string) string {
	v := strings.Join(value, "")
	return typ + "00" + be16(hexLen(v)) + v
}

// assocFixed is the fixed part of an A-ASSOCIATE-RQ/AC body: protocol
// version 1, reserved, called and calling AE titles, 32 reserved bytes.
func assocFixed(called, calling string) string {
	return "0001" + "0000" + ae(called) + ae(calling) + strings.Repeat("00", 32)
}

// pcRQ is a presentation context item of an RQ (0x20): id, 3 reserved,
// abstract syntax (0x30), transfer syntaxes (0x40).
func pcRQ(id int, abstract string, syntaxes ...string) string {
	v := hex.EncodeToString([]byte{byte(id)}) + "000000" + itm("30", ascii(abstract))
	for _, s := range syntaxes {
		v += itm("40", ascii(s))
	}
	return itm("20", v)
}

// pcAC is a presentation context item of an AC (0x21): id, reserved,
// result/reason (0 acceptance, 3 abstract syntax not supported), reserved,
// transfer syntax (0x40).
func pcAC(id, result int, syntax string) string {
	return itm("21", hex.EncodeToString([]byte{byte(id), 0, byte(result), 0}), itm("40", ascii(syntax)))
}

// userInfo is a user information item (0x50): maximum length (0x51),
// implementation class UID (0x52), implementation version name (0x55).
func userInfo(maxPDU int, uid, version string) string {
	return itm("50", itm("51", be32(maxPDU)), itm("52", ascii(uid)), itm("55", ascii(version)))
}

// pdv is a PDV item: 4-byte length, presentation context id, message control
// header (bit 0 command, bit 1 last fragment), fragment (PS3.8 9.3.5.1, E.2).
func pdv(ctx, mch int, frag string) string {
	return be32(hexLen(frag)+2) + hex.EncodeToString([]byte{byte(ctx), byte(mch)}) + frag
}

// elemI is an implicit VR little endian element: tag, 4-byte length, value
// (PS3.5 7.1.3). Odd values are padded as PS3.5 7.1 requires, with a space
// (or NUL for UIDs: pass pad "00").
func elemI(group, elem int, value string) string {
	return le16(group) + le16(elem) + le32(hexLen(value)) + value
}

// elemE is an explicit VR little endian element (PS3.5 7.1.2): the long
// form (2 reserved bytes and a 4-byte length) for OB/OW/SQ/UN/UT..., else a
// 2-byte length.
func elemE(group, elem int, vr, value string) string {
	if longVR(vr[0], vr[1]) {
		return le16(group) + le16(elem) + ascii(vr) + "0000" + le32(hexLen(value)) + value
	}
	return le16(group) + le16(elem) + ascii(vr) + le16(hexLen(value)) + value
}

// str is s as a DICOM string value padded to even length with a space.
func str(s string) string {
	if len(s)%2 == 1 {
		s += " "
	}
	return ascii(s)
}

// uid is a UID value padded to even length with a NUL (PS3.5 9.1).
func uid(s string) string {
	h := ascii(s)
	if len(s)%2 == 1 {
		h += "00"
	}
	return h
}

func us(v int) string { return le16(v) }

// commandSet is an implicit VR command set with its group length (0000,0000)
// first (PS3.7 E.1).
func commandSet(elems ...string) string {
	body := strings.Join(elems, "")
	return elemI(0, 0, le32(hexLen(body))) + body
}

const (
	uidCTStorage    = "1.2.840.10008.5.1.4.1.1.2"
	uidVerification = "1.2.840.10008.1.1"
	uidImplicitLE   = "1.2.840.10008.1.2"
	uidExplicitLE   = "1.2.840.10008.1.2.1"
	uidAppContext   = "1.2.840.10008.3.1.1.1"
	uidDCMTK        = "1.2.276.0.7230010.3.0.3.6.7"
)

// Planted PHI: none of these may appear in any observation or error.
var phi = []string{"DOE^JANE", "PID-778899", "19700101", "ACC-5555", "WHO^DR", "1.2.3.4.5.6.7.8.9.777", "STUDY-42", "Chest pain"}

// ctDataSet is a C-STORE data set: device attributes between planted
// patient and study attributes, a nested sequence of undefined length and
// pixel data of pixels bytes. explicit picks explicit or implicit VR LE.
func ctDataSet(explicit bool, pixels int) string {
	e := func(group, elem int, vr, value string) string {
		if explicit {
			return elemE(group, elem, vr, value)
		}
		return elemI(group, elem, value)
	}
	sq := func(group, elem int, items ...string) string {
		// Sequence and items of undefined length with their delimiters (PS3.5 7.5.2).
		var b string
		if explicit {
			b = le16(group) + le16(elem) + ascii("SQ") + "0000" + "ffffffff"
		} else {
			b = le16(group) + le16(elem) + "ffffffff"
		}
		for _, it := range items {
			b += "feff00e0" + "ffffffff" + it + "feff0de0" + "00000000"
		}
		return b + "feffdde0" + "00000000"
	}
	return e(0x0008, 0x0016, "UI", uid(uidCTStorage)) +
		e(0x0008, 0x0018, "UI", uid("1.2.3.4.5.6.7.8.9.1")) +
		e(0x0008, 0x0020, "DA", str("19700101")) + // Study Date (planted)
		e(0x0008, 0x0050, "SH", str("ACC-5555")) + // Accession Number (planted)
		e(0x0008, 0x0060, "CS", str("CT")) + // Modality
		e(0x0008, 0x0070, "LO", str("ACME Medical Systems")) + // Manufacturer
		e(0x0008, 0x0080, "LO", str("General Hospital")) + // Institution Name
		e(0x0008, 0x0090, "PN", str("WHO^DR")) + // Referring Physician (planted)
		e(0x0008, 0x1010, "SH", str("CT-ROOM-1")) + // Station Name
		e(0x0008, 0x1030, "LO", str("Chest pain")) + // Study Description (planted)
		e(0x0008, 0x1040, "LO", str("Radiology")) + // Institutional Department Name
		e(0x0008, 0x1090, "LO", str("ScanMaster 3000")) + // Manufacturer's Model Name
		sq(0x0008, 0x1110, // Referenced Study Sequence: nested, carries a planted name
			e(0x0008, 0x1150, "UI", uid("1.2.840.10008.3.1.2.3.1"))+e(0x0010, 0x0010, "PN", str("DOE^JANE"))) +
		e(0x0010, 0x0010, "PN", str("DOE^JANE")) + // Patient's Name (planted)
		e(0x0010, 0x0020, "LO", str("PID-778899")) + // Patient ID (planted)
		e(0x0010, 0x0030, "DA", str("19700101")) + // Patient's Birth Date (planted)
		e(0x0018, 0x0050, "DS", str("1.25")) + // Slice Thickness
		e(0x0018, 0x1000, "LO", str("SN-12345")) + // Device Serial Number
		e(0x0018, 0x1020, "LO", str("VE11A\\SP3 ")) + // Software Versions, two values
		e(0x0020, 0x000D, "UI", uid("1.2.3.4.5.6.7.8.9.777")) + // Study Instance UID (planted)
		e(0x0020, 0x0010, "SH", str("STUDY-42")) + // Study ID (planted)
		e(0x7FE0, 0x0010, "OW", strings.Repeat("00", pixels)) // Pixel Data
}

// association is an RQ from MODALITY1 to PACS proposing CT storage in
// explicit (context 1) and implicit VR (context 3) and verification
// (context 5), and the AC accepting contexts 1 (explicit), 3 (implicit) and
// rejecting 5.
func association() (rq, ac string) {
	rq = pdu("01", assocFixed("PACS", "MODALITY1"),
		itm("10", ascii(uidAppContext)),
		pcRQ(1, uidCTStorage, uidExplicitLE),
		pcRQ(3, uidCTStorage, uidImplicitLE),
		pcRQ(5, uidVerification, uidImplicitLE),
		userInfo(16384, uidDCMTK, "OFFIS_DCMTK_367"))
	ac = pdu("02", assocFixed("PACS", "MODALITY1"),
		itm("10", ascii(uidAppContext)),
		pcAC(1, 0, uidExplicitLE),
		pcAC(3, 0, uidImplicitLE),
		pcAC(5, 3, uidImplicitLE),
		userInfo(65536, "1.2.276.0.7230010.3.0.3.6.8", "OFFIS_DCMTK_368"))
	return rq, ac
}

// cStoreRQ is a C-STORE-RQ command set for CT storage with a data set.
func cStoreRQ(msgID int) string {
	return commandSet(
		elemI(0x0000, 0x0002, uid(uidCTStorage)), // Affected SOP Class UID
		elemI(0x0000, 0x0100, us(0x0001)),        // Command Field: C-STORE-RQ
		elemI(0x0000, 0x0110, us(msgID)),         // Message ID
		elemI(0x0000, 0x0700, us(0)),             // Priority
		elemI(0x0000, 0x0800, us(0)),             // Command Data Set Type: present
		elemI(0x0000, 0x1000, uid("1.2.3.4.5.6.7.8.9.1")))
}

// cStoreRSP is a C-STORE-RSP command set with status.
func cStoreRSP(msgID, status int) string {
	return commandSet(
		elemI(0x0000, 0x0002, uid(uidCTStorage)),
		elemI(0x0000, 0x0100, us(0x8001)),
		elemI(0x0000, 0x0120, us(msgID)),
		elemI(0x0000, 0x0800, us(0x0101)),
		elemI(0x0000, 0x0900, us(status)),
		elemI(0x0000, 0x1000, uid("1.2.3.4.5.6.7.8.9.1")))
}
