// Package intellivue decodes the Philips IntelliVue Data Export protocol
// (Philips "Data Export Interface Programming Guide", IntelliVue X2, MP and
// MX series, part 4535 642 59271, here "the guide") on UDP: the Connect
// Indication a monitor broadcasts to announce itself, the Association
// Request / Response that open a data export session, and the MDS Create
// Event Report in which the monitor describes itself. From them it learns
// the monitor's manufacturer and model, system id (its MAC address), IP
// address, serial number, part number and hardware, software and firmware
// revisions.
//
// Measurements, alarms, waveforms and patient demographics (Poll Data
// Results, NOM_ATTR_PT_* attributes, the bed label) are never read: only
// the attributes listed in README.md are looked at.
package intellivue

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"strconv"
	"time"

	"github.com/iomt-sensor/iomt-sensor/protocols"
)

// Ports (the guide, "UDP Port Number" in chapter 4 and the Connect
// Indication section of chapter 6): the monitor broadcasts Connect
// Indications to port 24005; association and data export run on port
// 24105. Both are hints only: content decides.
const (
	ConnectIndicationPort = 24005
	DataExportPort        = 24105
)

// MaxMessageLen caps the datagram the decoder reads; larger ones wrap
// protocols.ErrTooLong. A Connect Indication or MDS Create Event Report is a
// few hundred bytes; the guide limits data export messages to one UDP
// datagram.
const MaxMessageLen = 9000

// Limits.
const (
	// maxString caps every text value emitted, in bytes.
	maxString = 64
	// maxAttributes caps the attributes read from one attribute list.
	maxAttributes = 128
	// maxProdSpec caps the Production Specification entries read.
	maxProdSpec = 32
	// maxProtocols caps the Protocol Support entries emitted.
	maxProtocols = 8
)

// Session (SPDU) header types (the guide, "Session Header" in chapter 5,
// ISO 8327 SPDU identifiers).
const (
	spduConnect    = 0x0D // CN_SPDU_SI: Association Request
	spduAccept     = 0x0E // AC_SPDU_SI: Association Response
	spduRefuse     = 0x0C // RF_SPDU_SI: Refuse
	spduFinish     = 0x09 // FN_SPDU_SI: Release Request
	spduDisconnect = 0x0A // DN_SPDU_SI: Release Response
	spduAbort      = 0x19 // AB_SPDU_SI: Abort
)

// Data export (ROSE) constants (the guide, chapter 5, "Remote Operation
// Header" and "Command Header"; chapter 6, "Protocol Commands").
const (
	sessionDataExport = 0xE100 // SPpdu session_id of every data export message
	roInvoke          = 1      // ROIV_APDU
	roResult          = 2      // RORS_APDU
	roError           = 3      // ROER_APDU
	roLinkedResult    = 5      // ROLRS_APDU
	cmdEventReport    = 0      // CMD_EVENT_REPORT
	cmdConfirmedEvent = 1      // CMD_CONFIRMED_EVENT_REPORT
	notiMDSCreate     = 0x0D06 // NOM_NOTI_MDS_CREAT
	notiConnectIndic  = 0x0D17 // NOM_NOTI_MDS_CONNECT_INDIC
)

// Attribute ids read (the guide, chapter 7, "System Objects" and
// "Attribute Data Types and Constants Used").
const (
	attrModel      = 0x0928 // NOM_ATTR_ID_MODEL: SystemModel
	attrProdSpec   = 0x092D // NOM_ATTR_ID_PROD_SPECN: ProductionSpec
	attrNomVersion = 0x0948 // NOM_ATTR_NOM_VERS: NomenclatureVersion
	attrSysID      = 0x0984 // NOM_ATTR_SYS_ID: VariableLabel holding the MAC address
	attrSysType    = 0x0986 // NOM_ATTR_SYS_TYPE: TYPE
	attrNetAddr    = 0xF100 // NOM_ATTR_NET_ADDR_INFO: IpAddressInfo
	attrProtocols  = 0xF101 // NOM_ATTR_PCOL_SUPPORT: ProtoSupport
)

// ProdSpecEntry spec_type values and the product component id (the guide,
// "Attribute: Production Specification").
const (
	specSerial      = 1 // SERIAL_NUMBER
	specPartNumber  = 2 // PART_NUMBER
	specHWRevision  = 3 // HW_REVISION
	specSWRevision  = 4 // SW_REVISION
	specFWRevision  = 5 // FW_REVISION
	specProtocolRev = 6 // PROTOCOL_REVISION
	compProduct     = 0x0008
)

// Fact names.
const (
	FactMessage             = "intellivue.message"
	FactManufacturer        = "intellivue.manufacturer"
	FactModel               = "intellivue.model"
	FactSystemID            = "intellivue.system_id"
	FactSystemType          = "intellivue.system_type"
	FactSerial              = "intellivue.serial"
	FactPartNumber          = "intellivue.part_number"
	FactHWRevision          = "intellivue.hw_revision"
	FactSWRevision          = "intellivue.sw_revision"
	FactFWRevision          = "intellivue.fw_revision"
	FactProtocolRevision    = "intellivue.protocol_revision"
	FactNomenclatureVersion = "intellivue.nomenclature_version"
	FactProtocolSupport     = "intellivue.protocol_support"
)

// Observation sources.
const (
	SourceConnectIndication   = "intellivue.connect_indication"
	SourceMDSCreate           = "intellivue.mds_create"
	SourceAssociationRequest  = "intellivue.association_request"
	SourceAssociationResponse = "intellivue.association_response"
	SourceAssociationRefuse   = "intellivue.association_refuse"
)

// Spec describes IntelliVue Data Export to the sensor.
func Spec() protocols.Spec {
	return protocols.Spec{
		Name:      "intellivue",
		Transport: protocols.UDP,
		Ports:     []uint16{DataExportPort, ConnectIndicationPort},
		Detect:    Detect,
		New:       New,
	}
}

// ieee1073 is the DER encoding of the OID arc 1.2.840.10004.2 (IEEE 1073 /
// ISO/IEEE 11073 medical device communication) that the presentation layer
// of every Association Request and Response names (the guide, "Association
// Request Message" and "Association Response Message").
var ieee1073 = []byte{0x2A, 0x86, 0x48, 0xCE, 0x14, 0x02}

// Detect reports whether first is a Connect Indication, an Association
// Request, Response or Refuse, or a data export message (SPpdu 0xE100) whose
// ROSE lengths agree with the datagram.
func Detect(_ protocols.Direction, first []byte) bool {
	switch {
	case isConnectIndication(first):
		return true
	case isDataExport(first):
		return true
	}
	n, ok := sessionLen(first)
	if !ok || n != len(first) {
		return false
	}
	switch first[0] {
	case spduConnect, spduAccept:
		return bytes.Contains(first, ieee1073)
	case spduRefuse:
		return true
	}
	return false
}

// isConnectIndication checks the fixed part of a Connect Indication (the
// guide, "CONNECT INDICATION EVENT"): Nomenclature (4 bytes), ROapdus
// {ROIV_APDU, length}, ROIVapdu {invoke_id, CMD_EVENT_REPORT, length},
// EventReportArgument {managed_object (6), event_time (4),
// NOM_NOTI_MDS_CONNECT_INDIC, length}, every length matching the datagram.
func isConnectIndication(b []byte) bool {
	return len(b) >= 32 && len(b) <= MaxMessageLen &&
		be16(b, 4) == roInvoke && int(be16(b, 6)) == len(b)-8 &&
		be16(b, 10) == cmdEventReport && int(be16(b, 12)) == len(b)-14 &&
		be16(b, 24) == notiConnectIndic && int(be16(b, 26)) == len(b)-28
}

// isDataExport checks an SPpdu (session_id 0xE100, p_context_id) followed by
// ROapdus whose type is known and whose length matches the datagram (the
// guide, "Session/Presentation Header" and "Remote Operation Header").
func isDataExport(b []byte) bool {
	if len(b) < 8 || len(b) > MaxMessageLen || be16(b, 0) != sessionDataExport || int(be16(b, 6)) != len(b)-8 {
		return false
	}
	switch be16(b, 4) {
	case roInvoke, roResult, roError, roLinkedResult:
		return true
	}
	return false
}

// sessionLen returns the length of the SPDU that starts b (type, LI of one
// byte, or 0xFF and two bytes, then LI bytes; ISO 8327 §8.2.5, the guide
// "Session Header").
func sessionLen(b []byte) (int, bool) {
	if len(b) < 2 {
		return 0, false
	}
	if b[1] != 0xFF {
		return 2 + int(b[1]), true
	}
	if len(b) < 4 {
		return 0, false
	}
	return 4 + int(be16(b, 2)), true
}

// New returns a decoder for one flow.
func New(protocols.FlowInfo) protocols.Decoder {
	return &Decoder{}
}

// Decoder decodes one IntelliVue flow, a datagram at a time. Monitors repeat
// their Connect Indication every few seconds; an attribute list identical
// to the last one of its kind is not decoded again.
type Decoder struct {
	last [2]uint64 // FNV-1a of the last Connect Indication and MDS Create attribute lists
}

// Feed decodes one datagram. Messages that carry no identity (poll
// requests and results, release, abort) give nothing and no error.
func (d *Decoder) Feed(dir protocols.Direction, data []byte, _ time.Time, emit protocols.Emit) error {
	if len(data) > MaxMessageLen {
		return protocols.ErrTooLong
	}
	if len(data) < 2 {
		return protocols.Malformedf("intellivue: %d-byte datagram", len(data))
	}
	if isConnectIndication(data) {
		return d.attributes(0, data[32:], int(be16(data, 28)), int(be16(data, 30)), SourceConnectIndication, "connect_indication", emit)
	}
	if be16(data, 0) == sessionDataExport {
		return d.dataExport(data, emit)
	}
	switch data[0] {
	case spduConnect, spduAccept, spduRefuse, spduFinish, spduDisconnect, spduAbort:
		return association(data, emit)
	}
	return protocols.Malformedf("intellivue: unknown message 0x%02x%02x", data[0], data[1])
}

// dataExport decodes a data export message: only an MDS Create Event Report
// (the guide, "MDS CREATE EVENT": SPpdu, ROapdus {ROIV_APDU}, ROIVapdu
// {CMD_CONFIRMED_EVENT_REPORT}, EventReportArgument {NOM_NOTI_MDS_CREAT},
// MdsCreateInfo {managed_object (6), AttributeList}) is read.
func (d *Decoder) dataExport(b []byte, emit protocols.Emit) error {
	if len(b) < 8 {
		return protocols.Malformedf("intellivue: %d-byte data export message", len(b))
	}
	if int(be16(b, 6)) > len(b)-8 {
		return protocols.Malformedf("intellivue: ROSE length %d over datagram", be16(b, 6))
	}
	if be16(b, 4) != roInvoke || len(b) < 28 || be16(b, 10) != cmdConfirmedEvent || be16(b, 24) != notiMDSCreate {
		return nil
	}
	if len(b) < 38 || int(be16(b, 26)) > len(b)-28 {
		return protocols.Malformedf("intellivue: short MDS Create Event Report")
	}
	return d.attributes(1, b[38:], int(be16(b, 34)), int(be16(b, 36)), SourceMDSCreate, "mds_create", emit)
}

// association decodes a session header message. Association Request and
// Response carry MDSEUserInfoStd (the guide, "Association Request Message",
// "MDSE User Info Std"), found by its two fixed leading words:
// protocol_version MDDL_VERSION1 (0x80000000) and nomenclature_version
// NOMEN_VERSION (0x40000000).
func association(b []byte, emit protocols.Emit) error {
	n, ok := sessionLen(b)
	if !ok || n > len(b) {
		return protocols.Malformedf("intellivue: session length over datagram")
	}
	var src, role, kind string
	switch b[0] {
	case spduConnect:
		src, role, kind = SourceAssociationRequest, "client", "association_request"
	case spduAccept:
		src, role, kind = SourceAssociationResponse, "server", "association_response"
	case spduRefuse:
		src, role, kind = SourceAssociationRefuse, "server", "association_refuse"
	default:
		return nil
	}
	if b[0] != spduRefuse && !bytes.Contains(b[:n], ieee1073) {
		return protocols.Malformedf("intellivue: association without the IEEE 1073 context")
	}
	facts := make([]protocols.Fact, 0, 2)
	facts = append(facts, protocols.Fact{Name: FactMessage, Value: kind})
	if i := bytes.Index(b[:n], []byte{0x80, 0, 0, 0, 0x40, 0, 0, 0}); i >= 0 && i+16 <= n {
		switch be32(b, i+12) {
		case 0x80000000:
			facts = append(facts, protocols.Fact{Name: FactSystemType, Value: "client"})
		case 0x00800000:
			facts = append(facts, protocols.Fact{Name: FactSystemType, Value: "server"})
		}
	}
	emit(protocols.Observation{Protocol: "intellivue", Source: src, About: protocols.Sender, Role: role, Facts: facts})
	return nil
}

// attributes decodes an AttributeList {count, length, AVAType[count]} (the
// guide, "Attribute List": AVAType {attribute_id, length, value}) into one
// observation about the monitor. kind indexes the repeat filter.
func (d *Decoder) attributes(kind int, b []byte, count, length int, src, message string, emit protocols.Emit) error {
	if length > len(b) {
		return protocols.Malformedf("intellivue: attribute list length %d over %d bytes", length, len(b))
	}
	b = b[:length]
	h := fnv(b)
	if h == d.last[kind] {
		return nil
	}
	o := protocols.Observation{Protocol: "intellivue", Source: src, About: protocols.Sender, Role: "server"}
	facts := make([]protocols.Fact, 0, 12)
	facts = append(facts, protocols.Fact{Name: FactMessage, Value: message})
	add := func(name, v string) {
		if v != "" {
			facts = append(facts, protocols.Fact{Name: name, Value: v})
		}
	}
	protos := 0
	for i := 0; i < count && i < maxAttributes; i++ {
		if len(b) < 4 {
			return protocols.Malformedf("intellivue: attribute list ends after %d of %d attributes", i, count)
		}
		id, n := be16(b, 0), int(be16(b, 2))
		if 4+n > len(b) {
			return protocols.Malformedf("intellivue: attribute 0x%04x length %d over list", id, n)
		}
		v := b[4 : 4+n]
		b = b[4+n:]
		switch id {
		case attrModel: // SystemModel {VariableLabel manufacturer, VariableLabel model_number}
			man, rest, ok := label(v)
			model, _, ok2 := label(rest)
			if !ok || !ok2 {
				return protocols.Malformedf("intellivue: bad System Model")
			}
			add(FactManufacturer, man)
			add(FactModel, model)
		case attrSysID: // VariableLabel: the MAC address
			raw, _, ok := rawLabel(v)
			if !ok {
				return protocols.Malformedf("intellivue: bad System Id")
			}
			if len(raw) == 6 {
				var m protocols.MAC
				copy(m[:], raw)
				if !m.IsZero() {
					o.MAC = m
					add(FactSystemID, m.String())
				}
			}
		case attrNetAddr: // IpAddressInfo {MACAddress (6), IPAddress (4), subnet_mask (4)}
			if len(v) < 14 {
				return protocols.Malformedf("intellivue: %d-byte IP Address Information", len(v))
			}
			var m protocols.MAC
			copy(m[:], v[:6])
			if !m.IsZero() && !m.IsMulticast() {
				o.MAC = m
			}
			if ip := netip.AddrFrom4([4]byte(v[6:10])); !ip.IsUnspecified() {
				o.IP = ip
			}
		case attrSysType: // TYPE {partition, code}
			if len(v) < 4 {
				return protocols.Malformedf("intellivue: %d-byte System Type", len(v))
			}
			add(FactSystemType, strconv.Itoa(int(be16(v, 0)))+":"+strconv.Itoa(int(be16(v, 2))))
		case attrNomVersion: // NomenclatureVersion, u_32
			if len(v) < 4 {
				return protocols.Malformedf("intellivue: %d-byte Nomenclature Version", len(v))
			}
			add(FactNomenclatureVersion, hex32(be32(v, 0)))
		case attrProtocols: // ProtoSupport {count, length, ProtoSupportEntry {appl_proto, trans_proto, port_number, options}}
			if len(v) < 4 {
				return protocols.Malformedf("intellivue: %d-byte Protocol Support", len(v))
			}
			e := v[4:]
			for j := 0; j < int(be16(v, 0)) && len(e) >= 8 && protos < maxProtocols; j++ {
				add(FactProtocolSupport, protoName(be16(e, 0))+"/"+transName(be16(e, 2))+"/"+strconv.Itoa(int(be16(e, 4))))
				protos++
				e = e[8:]
			}
		case attrProdSpec:
			if err := prodSpec(v, add); err != nil {
				return err
			}
		}
	}
	d.last[kind] = h
	o.Facts = facts
	emit(o)
	return nil
}

// prodSpec reads a ProductionSpec {count, length, ProdSpecEntry {spec_type,
// component_id, VariableLabel prod_spec}} (the guide, "Attribute:
// Production Specification"). The serial, part number and hardware
// revision are those of the product component (ID_COMP_PRODUCT); software,
// firmware and protocol revisions are taken from the first entry of their
// type, whatever the component.
func prodSpec(v []byte, add func(string, string)) error {
	if len(v) < 4 {
		return protocols.Malformedf("intellivue: %d-byte Production Specification", len(v))
	}
	count, e := int(be16(v, 0)), v[4:]
	var done [7]bool
	for j := 0; j < count && j < maxProdSpec; j++ {
		if len(e) < 4 {
			return protocols.Malformedf("intellivue: Production Specification ends after %d of %d entries", j, count)
		}
		typ, comp := be16(e, 0), be16(e, 2)
		s, rest, ok := label(e[4:])
		if !ok {
			return protocols.Malformedf("intellivue: bad Production Specification entry")
		}
		e = rest
		if typ >= uint16(len(done)) || done[typ] || s == "" {
			continue
		}
		var name string
		switch typ {
		case specSerial:
			name = FactSerial
		case specPartNumber:
			name = FactPartNumber
		case specHWRevision:
			name = FactHWRevision
		case specSWRevision:
			name = FactSWRevision
		case specFWRevision:
			name = FactFWRevision
		case specProtocolRev:
			name = FactProtocolRevision
		default:
			continue
		}
		if (typ == specSerial || typ == specPartNumber || typ == specHWRevision) && comp != compProduct {
			continue
		}
		done[typ] = true
		add(name, s)
	}
	return nil
}

// rawLabel splits a VariableLabel {u_16 length, u_8 value[length]} off b.
func rawLabel(b []byte) (v, rest []byte, ok bool) {
	if len(b) < 2 {
		return nil, nil, false
	}
	n := int(be16(b, 0))
	if 2+n > len(b) {
		return nil, nil, false
	}
	return b[2 : 2+n], b[2+n:], true
}

// label reads a VariableLabel as sanitized text: cut at the first NUL,
// printable ASCII only, trimmed, capped at maxString; a value without a
// letter or digit ("--------", a placeholder) is empty.
func label(b []byte) (string, []byte, bool) {
	v, rest, ok := rawLabel(b)
	if !ok {
		return "", nil, false
	}
	return text(v), rest, true
}

func text(v []byte) string {
	if i := bytes.IndexByte(v, 0); i >= 0 {
		v = v[:i]
	}
	v = bytes.TrimSpace(v)
	if len(v) > maxString {
		v = v[:maxString]
	}
	alnum := false
	for _, c := range v {
		if c < 0x20 || c > 0x7e {
			return sanitize(v)
		}
		alnum = alnum || c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
	}
	if !alnum {
		return ""
	}
	return string(v)
}

// sanitize drops bytes outside printable ASCII.
func sanitize(v []byte) string {
	out := make([]byte, 0, len(v))
	alnum := false
	for _, c := range v {
		if c >= 0x20 && c <= 0x7e {
			out = append(out, c)
			alnum = alnum || c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
		}
	}
	if !alnum {
		return ""
	}
	return string(bytes.TrimSpace(out))
}

// protoName names ProtoSupportEntry appl_proto values (AP_ID_ACSE 1,
// AP_ID_DATA_OUT 5).
func protoName(v uint16) string {
	switch v {
	case 1:
		return "acse"
	case 5:
		return "data_out"
	}
	return strconv.Itoa(int(v))
}

// transName names ProtoSupportEntry trans_proto values (TP_ID_UDP 1).
func transName(v uint16) string {
	if v == 1 {
		return "udp"
	}
	return strconv.Itoa(int(v))
}

func hex32(v uint32) string {
	var b [8]byte
	for i := range b {
		b[7-i] = "0123456789abcdef"[v&0xf]
		v >>= 4
	}
	return string(b[:])
}

func be16(b []byte, i int) uint16 { return binary.BigEndian.Uint16(b[i:]) }
func be32(b []byte, i int) uint32 { return binary.BigEndian.Uint32(b[i:]) }

// fnv is 64-bit FNV-1a.
func fnv(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}

// Gap does nothing: UDP has no gaps.
func (d *Decoder) Gap(protocols.Direction, int, time.Time, protocols.Emit) {}

// Close does nothing: every datagram is decoded when it arrives.
func (d *Decoder) Close(time.Time, protocols.Emit) {}
