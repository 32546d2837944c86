// Package snmp decodes SNMP v1, v2c (RFC 1157, RFC 3416) and v3 (RFC 3412,
// RFC 3414) messages into observations of the agent: the system group
// values it returns (sysDescr, sysObjectID, sysName, sysContact,
// sysLocation) and, for v3, its authoritative engine id.
//
// Community strings and user names are parsed over and never stored or
// emitted.
package snmp

import (
	"strconv"
	"time"

	"github.com/iomt-sensor/iomt-sensor/protocols"
)

// Well-known ports (RFC 3417 §3).
const (
	AgentPort = 161
	TrapPort  = 162
)

// MaxMessageLen caps the datagram the decoder reads (the largest UDP
// payload); longer input wraps protocols.ErrTooLong.
const MaxMessageLen = 65507

// Caps on what one message yields.
const (
	maxVarbinds = 64
	maxOIDArcs  = 128
	maxString   = 255
)

// PDU tags (RFC 3416 §3, RFC 1157 §4.1).
const (
	pduGet      = 0xa0
	pduGetNext  = 0xa1
	pduResponse = 0xa2
	pduSet      = 0xa3
	pduTrapV1   = 0xa4
	pduGetBulk  = 0xa5
	pduInform   = 0xa6
	pduTrapV2   = 0xa7
	pduReport   = 0xa8
)

// Fact names.
const (
	FactVersion          = "snmp.version"
	FactSysDescr         = "snmp.sys_descr"
	FactSysObjectID      = "snmp.sys_object_id"
	FactSysContact       = "snmp.sys_contact"
	FactSysName          = "snmp.sys_name"
	FactSysLocation      = "snmp.sys_location"
	FactEngineID         = "snmp.engine_id"
	FactEngineEnterprise = "snmp.engine_enterprise"
	FactTrapEnterprise   = "snmp.trap_enterprise"
	FactTrapOID          = "snmp.trap_oid"
)

// Spec describes SNMP to the sensor.
func Spec() protocols.Spec {
	return protocols.Spec{
		Name:      "snmp",
		Transport: protocols.UDP,
		Ports:     []uint16{AgentPort, TrapPort},
		Detect:    Detect,
		New:       New,
	}
}

// Detect reports whether first starts like an SNMP message: a SEQUENCE
// whose first element is the INTEGER version 0, 1 or 3.
func Detect(_ protocols.Direction, first []byte) bool {
	tag, body, _, err := next(first)
	if err != nil || tag != 0x30 {
		return false
	}
	return len(body) >= 3 && body[0] == 0x02 && body[1] == 1 && (body[2] == 0 || body[2] == 1 || body[2] == 3)
}

// New returns a decoder for one flow. It remembers which side is the agent
// (the flow's server on port 161, its client when sending to port 162) to
// place encrypted v3 messages.
func New(fi protocols.FlowInfo) protocols.Decoder {
	return Decoder{trapFlow: fi.Server.Port() == TrapPort}
}

// Decoder turns each SNMP datagram into at most one Observation.
type Decoder struct {
	// trapFlow: the flow goes to port 162, so its client is the agent.
	trapFlow bool
}

// Gap does nothing: SNMP runs over UDP.
func (Decoder) Gap(protocols.Direction, int, time.Time, protocols.Emit) {}

// Close does nothing: the decoder keeps no per-flow state.
func (Decoder) Close(time.Time, protocols.Emit) {}

// Feed decodes one SNMP message. Responses, reports and notifications
// give an Observation about their sender (Role "server" for responses and
// reports) with the system group values found in the variable bindings;
// sysName becomes the Hostname when it is a plausible host name. Requests
// give an Observation about their sender with Role "client" (v1/v2c) or,
// for v3, about the receiver when they name its engine id.
func (d Decoder) Feed(dir protocols.Direction, data []byte, _ time.Time, emit protocols.Emit) error {
	if len(data) > MaxMessageLen {
		return protocols.TooLongf("snmp: %d-byte message, cap %d", len(data), MaxMessageLen)
	}
	if len(data) > 0 && data[0] != 0x30 {
		return protocols.Unsupportedf("snmp: message tag %#02x, want SEQUENCE", data[0])
	}
	_, msg, _, err := next(data)
	if err != nil {
		return err
	}
	tag, v, msg, err := next(msg)
	if err != nil {
		return err
	}
	if tag != 0x02 {
		return protocols.Malformedf("snmp: version tag %#02x, want INTEGER", tag)
	}
	version, err := integer(v)
	if err != nil {
		return err
	}
	switch version {
	case 0, 1:
		return d.community(version, msg, emit)
	case 3:
		return d.v3(dir, msg, emit)
	}
	return protocols.Unsupportedf("snmp: version %d", version)
}

// community decodes the rest of a v1 or v2c message: the community (skipped)
// and the PDU.
func (d Decoder) community(version int64, msg []byte, emit protocols.Emit) error {
	tag, _, msg, err := next(msg)
	if err != nil {
		return err
	}
	if tag != 0x04 {
		return protocols.Malformedf("snmp: community tag %#02x, want OCTET STRING", tag)
	}
	tag, pdu, _, err := next(msg)
	if err != nil {
		return err
	}
	ver := "1"
	if version == 1 {
		ver = "2c"
	}
	obs, err := decodePDU(tag, pdu, ver)
	if err != nil {
		return err
	}
	emit(obs)
	return nil
}

// v3 decodes the rest of a v3 message: global data, USM security
// parameters (engine id kept, user name skipped) and a plaintext scoped
// PDU when there is one.
func (d Decoder) v3(dir protocols.Direction, msg []byte, emit protocols.Emit) error {
	tag, _, msg, err := next(msg) // msgGlobalData
	if err != nil {
		return err
	}
	if tag != 0x30 {
		return protocols.Malformedf("snmp: v3 global data tag %#02x, want SEQUENCE", tag)
	}
	tag, sp, msg, err := next(msg) // msgSecurityParameters
	if err != nil {
		return err
	}
	if tag != 0x04 {
		return protocols.Malformedf("snmp: v3 security parameters tag %#02x, want OCTET STRING", tag)
	}
	tag, usm, _, err := next(sp)
	if err != nil {
		return err
	}
	if tag != 0x30 {
		return protocols.Unsupportedf("snmp: v3 security parameters are not USM")
	}
	tag, engineID, _, err := next(usm)
	if err != nil {
		return err
	}
	if tag != 0x04 {
		return protocols.Malformedf("snmp: v3 engine id tag %#02x, want OCTET STRING", tag)
	}
	if len(engineID) > 32 {
		return protocols.TooLongf("snmp: %d-byte engine id, RFC 3411 allows 32", len(engineID))
	}
	tag, scoped, _, err := next(msg) // msgData
	if err != nil {
		return err
	}
	var obs protocols.Observation
	switch tag {
	case 0x30: // plaintext ScopedPDU: contextEngineID, contextName, PDU
		rest := scoped
		for range 2 {
			if tag, _, rest, err = next(rest); err != nil {
				return err
			}
			if tag != 0x04 {
				return protocols.Malformedf("snmp: v3 context tag %#02x, want OCTET STRING", tag)
			}
		}
		tag, pdu, _, err := next(rest)
		if err != nil {
			return err
		}
		if obs, err = decodePDU(tag, pdu, "3"); err != nil {
			return err
		}
		if isRequest(tag) || tag == pduInform {
			// The authoritative engine of a request is its receiver
			// (RFC 3412 §6.4): the request says nothing else about it.
			obs = protocols.Observation{Protocol: "snmp", Source: obs.Source, About: protocols.Receiver,
				Facts: []protocols.Fact{{Name: FactVersion, Value: "3"}}}
		}
	case 0x04: // encryptedPDU: place it by the flow
		obs = protocols.Observation{Protocol: "snmp", Source: "snmp.encrypted", About: protocols.Sender,
			Facts: []protocols.Fact{{Name: FactVersion, Value: "3"}}}
		if agentSent := (dir == protocols.FromServer) != d.trapFlow; !agentSent {
			obs.About = protocols.Receiver
		}
	default:
		return protocols.Malformedf("snmp: v3 data tag %#02x", tag)
	}
	if len(engineID) == 0 {
		if obs.About == protocols.Receiver {
			return nil // engine id discovery: nothing learned
		}
	} else {
		obs.Facts = append(obs.Facts, protocols.Fact{Name: FactEngineID, Value: hexString(engineID)})
		if e, ok := enterprise(engineID); ok {
			obs.Facts = append(obs.Facts, protocols.Fact{Name: FactEngineEnterprise, Value: strconv.FormatUint(uint64(e), 10)})
		}
	}
	emit(obs)
	return nil
}

// enterprise returns the IANA private enterprise number in the first four
// octets of an SnmpEngineID (RFC 3411 §5): with the high bit set (new
// format, 5 to 32 octets) or clear (the 12-octet RFC 1910 format).
func enterprise(id []byte) (uint32, bool) {
	if len(id) < 5 || id[0]&0x80 == 0 && len(id) != 12 {
		return 0, false
	}
	e := (uint32(id[0])<<24 | uint32(id[1])<<16 | uint32(id[2])<<8 | uint32(id[3])) &^ 0x80000000
	return e, e != 0
}

func isRequest(tag byte) bool {
	switch tag {
	case pduGet, pduGetNext, pduSet, pduGetBulk:
		return true
	}
	return false
}

// pduName returns the Observation source of a PDU type.
func pduName(tag byte) string {
	switch tag {
	case pduGet:
		return "snmp.get-request"
	case pduGetNext:
		return "snmp.get-next-request"
	case pduResponse:
		return "snmp.response"
	case pduSet:
		return "snmp.set-request"
	case pduTrapV1:
		return "snmp.trap"
	case pduGetBulk:
		return "snmp.get-bulk-request"
	case pduInform:
		return "snmp.inform-request"
	case pduTrapV2:
		return "snmp.trap"
	case pduReport:
		return "snmp.report"
	}
	return ""
}

// decodePDU decodes a PDU into an observation of its sender.
func decodePDU(tag byte, pdu []byte, version string) (protocols.Observation, error) {
	pduTag := tag
	source := pduName(tag)
	if source == "" {
		return protocols.Observation{}, protocols.Unsupportedf("snmp: PDU tag %#02x", tag)
	}
	obs := protocols.Observation{Protocol: "snmp", Source: source, About: protocols.Sender}
	if isRequest(tag) {
		obs.Role = "client"
		obs.Facts = []protocols.Fact{{Name: FactVersion, Value: version}}
		return obs, nil // the names asked for say nothing about anyone
	}
	facts := make([]protocols.Fact, 1, 6)
	facts[0] = protocols.Fact{Name: FactVersion, Value: version}
	rest := pdu
	var err error
	if pduTag == pduTrapV1 {
		// enterprise OID, agent-addr, generic-trap, specific-trap, time-stamp
		var v []byte
		if tag, v, rest, err = next(rest); err != nil {
			return obs, err
		}
		if tag != 0x06 {
			return obs, protocols.Malformedf("snmp: trap enterprise tag %#02x, want OID", tag)
		}
		s, err := oidString(v)
		if err != nil {
			return obs, err
		}
		facts = append(facts, protocols.Fact{Name: FactTrapEnterprise, Value: s})
		for range 4 {
			if _, _, rest, err = next(rest); err != nil {
				return obs, err
			}
		}
	} else {
		// request-id, error-status, error-index
		for range 3 {
			if tag, _, rest, err = next(rest); err != nil {
				return obs, err
			}
			if tag != 0x02 {
				return obs, protocols.Malformedf("snmp: PDU header tag %#02x, want INTEGER", tag)
			}
		}
	}
	if pduTag == pduResponse || pduTag == pduReport {
		obs.Role = "server"
	}
	tag, list, _, err := next(rest)
	if err != nil {
		return obs, err
	}
	if tag != 0x30 {
		return obs, protocols.Malformedf("snmp: variable bindings tag %#02x, want SEQUENCE", tag)
	}
	for i := 0; len(list) > 0; i++ {
		if i >= maxVarbinds {
			break
		}
		var vb, name, val []byte
		if tag, vb, list, err = next(list); err != nil {
			return obs, err
		}
		if tag != 0x30 {
			return obs, protocols.Malformedf("snmp: variable binding tag %#02x, want SEQUENCE", tag)
		}
		if tag, name, vb, err = next(vb); err != nil {
			return obs, err
		}
		if tag != 0x06 {
			return obs, protocols.Malformedf("snmp: variable binding name tag %#02x, want OID", tag)
		}
		var vtag byte
		if vtag, val, _, err = next(vb); err != nil {
			return obs, err
		}
		fact, kind := systemObject(name)
		switch {
		case fact == "":
		case kind == 0x04 && vtag == 0x04:
			s := protocols.Text(val, maxString, fact == FactSysDescr)
			if s == "" {
				continue
			}
			facts = append(facts, protocols.Fact{Name: fact, Value: s})
			if fact == FactSysName && obs.Hostname == "" && protocols.IsHostname(s) {
				obs.Hostname = s
			}
		case kind == 0x06 && vtag == 0x06:
			s, err := oidString(val)
			if err != nil {
				return obs, err
			}
			facts = append(facts, protocols.Fact{Name: fact, Value: s})
		}
	}
	obs.Facts = facts
	return obs, nil
}

// sysPrefix is the BER encoding of 1.3.6.1.2.1.1 (the system group).
const sysPrefix = "\x2b\x06\x01\x02\x01\x01"

// trapOID is the BER encoding of snmpTrapOID.0, 1.3.6.1.6.3.1.1.4.1.0.
const trapOID = "\x2b\x06\x01\x06\x03\x01\x01\x04\x01\x00"

// systemObject returns the fact for an encoded OID of a system group scalar
// (or snmpTrapOID.0) and the tag of its value, or "" for other objects.
func systemObject(oid []byte) (string, byte) {
	if string(oid) == trapOID {
		return FactTrapOID, 0x06
	}
	if len(oid) != len(sysPrefix)+2 || string(oid[:len(sysPrefix)]) != sysPrefix || oid[len(oid)-1] != 0 {
		return "", 0
	}
	switch oid[len(sysPrefix)] {
	case 1:
		return FactSysDescr, 0x04
	case 2:
		return FactSysObjectID, 0x06
	case 4:
		return FactSysContact, 0x04
	case 5:
		return FactSysName, 0x04
	case 6:
		return FactSysLocation, 0x04
	}
	return "", 0
}

// next reads one BER TLV from b: single-byte tags only, definite lengths of
// at most 4 length octets, contents within b. It returns the tag, the
// contents and what follows.
func next(b []byte) (tag byte, content, rest []byte, err error) {
	if len(b) < 2 {
		return 0, nil, nil, protocols.Malformedf("snmp: %d bytes left, a TLV needs 2", len(b))
	}
	tag = b[0]
	if tag&0x1f == 0x1f {
		return 0, nil, nil, protocols.Malformedf("snmp: multi-byte tag %#02x", tag)
	}
	n, hdr := int(b[1]), 2
	if n&0x80 != 0 {
		k := n & 0x7f
		if k == 0 {
			return 0, nil, nil, protocols.Malformedf("snmp: indefinite length (not allowed in SNMP)")
		}
		if k > 3 {
			return 0, nil, nil, protocols.TooLongf("snmp: %d length octets", k)
		}
		if len(b) < 2+k {
			return 0, nil, nil, protocols.Malformedf("snmp: truncated length")
		}
		n = 0
		for _, c := range b[2 : 2+k] {
			n = n<<8 | int(c)
		}
		hdr = 2 + k
	}
	if n > len(b)-hdr {
		return 0, nil, nil, protocols.Malformedf("snmp: length %d with %d bytes left", n, len(b)-hdr)
	}
	return tag, b[hdr : hdr+n], b[hdr+n:], nil
}

// integer decodes a BER INTEGER of 1 to 8 octets.
func integer(v []byte) (int64, error) {
	if len(v) == 0 || len(v) > 8 {
		return 0, protocols.Malformedf("snmp: %d-octet INTEGER", len(v))
	}
	x := int64(int8(v[0]))
	for _, c := range v[1:] {
		x = x<<8 | int64(c)
	}
	return x, nil
}

// oidString formats an encoded OBJECT IDENTIFIER in dotted decimal;
// sub-identifiers over 32 bits, more than 128 arcs and a truncated last
// sub-identifier are errors.
func oidString(v []byte) (string, error) {
	if len(v) == 0 {
		return "", protocols.Malformedf("snmp: empty OID")
	}
	var buf [256]byte
	out := buf[:0]
	var x uint64
	arcs := 0
	for i, c := range v {
		if x == 0 && c == 0x80 {
			return "", protocols.Malformedf("snmp: OID sub-identifier with a leading 0x80")
		}
		x = x<<7 | uint64(c&0x7f)
		if x > 0xffffffff {
			return "", protocols.Malformedf("snmp: OID sub-identifier over 32 bits")
		}
		if c&0x80 != 0 {
			if i == len(v)-1 {
				return "", protocols.Malformedf("snmp: truncated OID")
			}
			continue
		}
		if arcs++; arcs > maxOIDArcs {
			return "", protocols.TooLongf("snmp: OID with more than %d arcs", maxOIDArcs)
		}
		if len(out) == 0 {
			first := min(x/40, 2)
			out = strconv.AppendUint(out, first, 10)
			out = append(out, '.')
			out = strconv.AppendUint(out, x-40*first, 10)
		} else {
			out = append(out, '.')
			out = strconv.AppendUint(out, x, 10)
		}
		x = 0
	}
	return string(out), nil
}

func hexString(b []byte) string {
	out := make([]byte, 2*len(b))
	const digits = "0123456789abcdef"
	for i, c := range b {
		out[2*i] = digits[c>>4]
		out[2*i+1] = digits[c&0xf]
	}
	return string(out)
}
