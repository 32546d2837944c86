// Package lldp decodes IEEE 802.1AB Link Layer Discovery Protocol data units
// into an observation of the station that sent them: chassis and port
// identity, system name and description, capabilities, management
// addresses, and the organisationally specific TLVs that name a device
// (IEEE 802.1 VLAN, IEEE 802.3 MAU type, LLDP-MED inventory, MUD URL).
package lldp

import (
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/iomt-sensor/iomt-sensor/protocols"
)

// EtherType is the EtherType of LLDP frames.
const EtherType = 0x88cc

// MaxPDULen caps the LLDPDU the decoder reads: more than a jumbo frame is
// refused with protocols.ErrTooLong.
const MaxPDULen = 9000

// maxTLVs caps the number of TLVs walked in one LLDPDU.
const maxTLVs = 256

// maxFacts caps the facts emitted for one LLDPDU.
const maxFacts = 32

// maxString caps every short text value the decoder emits; descriptions,
// whose TLVs hold up to 255 bytes, are kept whole.
const maxString = 255

// TLV types (IEEE 802.1AB-2016 §8.4, table 8-1).
const (
	tlvEnd         = 0
	tlvChassisID   = 1
	tlvPortID      = 2
	tlvTTL         = 3
	tlvPortDesc    = 4
	tlvSystemName  = 5
	tlvSystemDesc  = 6
	tlvSystemCaps  = 7
	tlvMgmtAddress = 8
	tlvOrgSpecific = 127
)

// Organisationally unique identifiers of the organisationally specific TLVs
// decoded.
var (
	ouiIEEE8021 = [3]byte{0x00, 0x80, 0xc2}
	ouiIEEE8023 = [3]byte{0x00, 0x12, 0x0f}
	ouiMED      = [3]byte{0x00, 0x12, 0xbb} // ANSI/TIA-1057
	ouiIANA     = [3]byte{0x00, 0x00, 0x5e} // RFC 8520 §4.1
)

// Fact names.
const (
	FactChassisID         = "lldp.chassis_id"
	FactChassisIDSubtype  = "lldp.chassis_id_subtype"
	FactPortID            = "lldp.port_id"
	FactPortIDSubtype     = "lldp.port_id_subtype"
	FactTTL               = "lldp.ttl"
	FactPortDescription   = "lldp.port_description"
	FactSystemName        = "lldp.system_name"
	FactSystemDescription = "lldp.system_description"
	FactCapabilities      = "lldp.capabilities"
	FactEnabled           = "lldp.capabilities_enabled"
	FactManagementAddress = "lldp.management_address"
	FactPortVLAN          = "lldp.port_vlan_id"
	FactVLANName          = "lldp.vlan_name"
	FactMAUType           = "lldp.mau_type"
	FactMEDDeviceType     = "lldp.med.device_type"
	FactMEDHardware       = "lldp.med.hardware_revision"
	FactMEDFirmware       = "lldp.med.firmware_revision"
	FactMEDSoftware       = "lldp.med.software_revision"
	FactMEDSerial         = "lldp.med.serial_number"
	FactMEDManufacturer   = "lldp.med.manufacturer"
	FactMEDModel          = "lldp.med.model_name"
	FactMEDAssetID        = "lldp.med.asset_id"
	FactMUDURL            = "lldp.mud_url"
)

// Spec describes LLDP to the sensor.
func Spec() protocols.Spec {
	return protocols.Spec{
		Name:       "lldp",
		Transport:  protocols.Ethernet,
		EtherTypes: []uint16{EtherType},
		Detect:     Detect,
		New:        New,
	}
}

// Detect reports whether first starts with a Chassis ID TLV, as every
// LLDPDU must (IEEE 802.1AB §8.2).
func Detect(_ protocols.Direction, first []byte) bool {
	if len(first) < 2 || first[0]>>1 != tlvChassisID {
		return false
	}
	n := int(first[0]&1)<<8 | int(first[1])
	return n >= 2 && n <= 256 && len(first) >= 2+n
}

// New returns a decoder for one flow.
func New(protocols.FlowInfo) protocols.Decoder { return &Decoder{} }

// Decoder turns each LLDPDU into one Observation about its sender. It
// remembers a hash of the last PDU it decoded on the flow and skips an
// identical repeat (neighbours re-send the same PDU every 30 to 60 seconds),
// so steady state costs a hash and no allocation.
type Decoder struct {
	last uint64
	seen bool
}

// Gap does nothing: LLDP is not a stream.
func (*Decoder) Gap(protocols.Direction, int, time.Time, protocols.Emit) {}

// Close does nothing: the decoder keeps no state.
func (*Decoder) Close(time.Time, protocols.Emit) {}

// Feed decodes one LLDPDU (the Ethernet payload after the EtherType) and
// emits one Observation about its sender, Source "lldp.lldpdu" (or
// "lldp.shutdown" for a TTL of 0). The system name becomes the Hostname when
// it is a plausible host name, a MAC-address chassis id the MAC, and the
// first IPv4 or IPv6 management address the IP. Bytes after the End TLV
// (Ethernet padding) are ignored; a PDU without one ends at the data's end.
func (d *Decoder) Feed(_ protocols.Direction, data []byte, _ time.Time, emit protocols.Emit) error {
	h := protocols.Hash64(data)
	if d.seen && h == d.last {
		return nil // the neighbour repeats itself: nothing new, nothing allocated
	}
	if len(data) > MaxPDULen {
		return protocols.TooLongf("lldp: %d-byte PDU, cap %d", len(data), MaxPDULen)
	}
	obs := protocols.Observation{Protocol: "lldp", Source: "lldp.lldpdu", About: protocols.Sender}
	facts := make([]protocols.Fact, 0, 16)
	add := func(name, value string) {
		if value != "" && len(facts) < maxFacts {
			facts = append(facts, protocols.Fact{Name: name, Value: value})
		}
	}
	b := data
	for i := 0; len(b) > 0; i++ {
		if i >= maxTLVs {
			return protocols.TooLongf("lldp: more than %d TLVs", maxTLVs)
		}
		if len(b) < 2 {
			return protocols.Malformedf("lldp: TLV %d at offset %d has no length", i, len(data)-len(b))
		}
		typ := b[0] >> 1
		if i == 0 && typ != tlvChassisID {
			return protocols.Unsupportedf("lldp: first TLV has type %d, an LLDPDU starts with a chassis id", typ)
		}
		n := int(b[0]&1)<<8 | int(b[1])
		if 2+n > len(b) {
			return protocols.Malformedf("lldp: TLV %d (type %d) length %d runs past the end", i, typ, n)
		}
		v := b[2 : 2+n]
		b = b[2+n:]
		// The first three TLVs are mandatory and ordered (§8.2).
		if i < 3 && typ != byte(i+1) {
			return protocols.Malformedf("lldp: TLV %d has type %d, want %d", i, typ, i+1)
		}
		switch typ {
		case tlvEnd:
			b = nil
		case tlvChassisID:
			if i != 0 {
				return protocols.Malformedf("lldp: second chassis id TLV")
			}
			if n < 2 {
				return protocols.Malformedf("lldp: chassis id length %d", n)
			}
			id, mac := formatID(v[0], v[1:], chassisSubtypes[:], 4, 5)
			add(FactChassisID, id)
			add(FactChassisIDSubtype, subtypeName(v[0], chassisSubtypes[:]))
			if !mac.IsZero() && !mac.IsMulticast() {
				obs.MAC = mac
			}
		case tlvPortID:
			if i != 1 {
				return protocols.Malformedf("lldp: second port id TLV")
			}
			if n < 2 {
				return protocols.Malformedf("lldp: port id length %d", n)
			}
			id, _ := formatID(v[0], v[1:], portSubtypes[:], 3, 4)
			add(FactPortID, id)
			add(FactPortIDSubtype, subtypeName(v[0], portSubtypes[:]))
		case tlvTTL:
			if i != 2 || n < 2 {
				return protocols.Malformedf("lldp: TTL TLV %d with length %d", i, n)
			}
			ttl := int(v[0])<<8 | int(v[1])
			if ttl == 0 {
				obs.Source = "lldp.shutdown"
			}
			add(FactTTL, strconv.Itoa(ttl))
		case tlvPortDesc:
			add(FactPortDescription, protocols.Text(v, maxString, false))
		case tlvSystemName:
			name := protocols.Text(v, maxString, false)
			add(FactSystemName, name)
			if obs.Hostname == "" && protocols.IsHostname(name) {
				obs.Hostname = name
			}
		case tlvSystemDesc:
			add(FactSystemDescription, protocols.Text(v, 511, true))
		case tlvSystemCaps:
			if n != 4 {
				return protocols.Malformedf("lldp: system capabilities length %d, want 4", n)
			}
			add(FactCapabilities, capNames(uint16(v[0])<<8|uint16(v[1])))
			add(FactEnabled, capNames(uint16(v[2])<<8|uint16(v[3])))
		case tlvMgmtAddress:
			addr, err := mgmtAddress(v)
			if err != nil {
				return err
			}
			if addr.IsValid() {
				add(FactManagementAddress, addr.String())
				if !obs.IP.IsValid() && !addr.IsUnspecified() {
					obs.IP = addr
				}
			}
		case tlvOrgSpecific:
			if n < 4 {
				return protocols.Malformedf("lldp: organisationally specific TLV length %d", n)
			}
			orgSpecific([3]byte(v[:3]), v[3], v[4:], add)
		}
	}
	if len(facts) == 0 {
		return protocols.Malformedf("lldp: empty PDU")
	}
	obs.Facts = facts
	d.last, d.seen = h, true
	emit(obs)
	return nil
}

// orgSpecific decodes the organisationally specific TLVs the decoder knows;
// it ignores the others and short ones.
func orgSpecific(oui [3]byte, sub byte, v []byte, add func(name, value string)) {
	switch oui {
	case ouiIEEE8021:
		switch {
		case sub == 1 && len(v) == 2: // Port VLAN ID (802.1Q-2014 annex D.2.1)
			add(FactPortVLAN, strconv.Itoa(int(v[0])<<8|int(v[1])))
		case sub == 3 && len(v) >= 3: // VLAN Name (annex D.2.3)
			n := int(v[2])
			if 3+n <= len(v) {
				add(FactVLANName, strconv.Itoa(int(v[0]&0x0f)<<8|int(v[1]))+" "+protocols.Text(v[3:3+n], 32, false))
			}
		}
	case ouiIEEE8023:
		if sub == 1 && len(v) == 5 { // MAC/PHY Configuration/Status (802.3 clause 79.3.1)
			add(FactMAUType, strconv.Itoa(int(v[3])<<8|int(v[4])))
		}
	case ouiMED:
		switch sub {
		case 1: // LLDP-MED Capabilities: capabilities (2), device type (1)
			if len(v) == 3 {
				add(FactMEDDeviceType, medDeviceType(v[2]))
			}
		case 5:
			add(FactMEDHardware, protocols.Text(v, 32, false))
		case 6:
			add(FactMEDFirmware, protocols.Text(v, 32, false))
		case 7:
			add(FactMEDSoftware, protocols.Text(v, 32, false))
		case 8:
			add(FactMEDSerial, protocols.Text(v, 32, false))
		case 9:
			add(FactMEDManufacturer, protocols.Text(v, 32, false))
		case 10:
			add(FactMEDModel, protocols.Text(v, 32, false))
		case 11:
			add(FactMEDAssetID, protocols.Text(v, 32, false))
		}
	case ouiIANA:
		if sub == 1 { // MUD URL (RFC 8520 §4.1)
			add(FactMUDURL, protocols.Text(v, maxString, false))
		}
	}
}

func medDeviceType(t byte) string {
	switch t {
	case 1:
		return "endpoint-class-1"
	case 2:
		return "endpoint-class-2"
	case 3:
		return "endpoint-class-3"
	case 4:
		return "network-connectivity"
	}
	return strconv.Itoa(int(t))
}

// mgmtAddress decodes a Management Address TLV (§8.5.9) and returns its
// address when it is IPv4 or IPv6 (IANA address family 1 or 2).
func mgmtAddress(v []byte) (netip.Addr, error) {
	if len(v) < 1 {
		return netip.Addr{}, protocols.Malformedf("lldp: empty management address TLV")
	}
	l := int(v[0]) // subtype + address
	if l < 2 || l > 32 || 1+l+6 > len(v) {
		return netip.Addr{}, protocols.Malformedf("lldp: management address string length %d in a %d-byte TLV", l, len(v))
	}
	if oid := int(v[1+l+5]); 1+l+6+oid > len(v) {
		return netip.Addr{}, protocols.Malformedf("lldp: management address OID length %d runs past the TLV", oid)
	}
	return ipAddr(v[1], v[2:1+l]), nil
}

// ipAddr returns the address of IANA family fam when it is a well-formed
// IPv4 or IPv6 address.
func ipAddr(fam byte, a []byte) netip.Addr {
	switch {
	case fam == 1 && len(a) == 4:
		return netip.AddrFrom4([4]byte(a))
	case fam == 2 && len(a) == 16:
		return netip.AddrFrom16([16]byte(a))
	}
	return netip.Addr{}
}

// Chassis and port id subtypes (§8.5.2.2 table 8-2, §8.5.3.2 table 8-3).
var (
	chassisSubtypes = [...]string{"", "chassis_component", "interface_alias", "port_component",
		"mac", "network_address", "interface_name", "locally_assigned"}
	portSubtypes = [...]string{"", "interface_alias", "port_component", "mac",
		"network_address", "interface_name", "agent_circuit_id", "locally_assigned"}
)

func subtypeName(sub byte, names []string) string {
	if int(sub) < len(names) && sub != 0 {
		return names[sub]
	}
	return strconv.Itoa(int(sub))
}

// formatID formats a chassis or port id: a MAC address (subtype macSub) as
// six colon-separated hex bytes, a network address (subtype netSub) as the
// IP address, text subtypes as text, and anything unprintable as hex.
func formatID(sub byte, id []byte, names []string, macSub, netSub byte) (string, protocols.MAC) {
	switch {
	case sub == macSub && len(id) == 6:
		m := protocols.MAC(id)
		return m.String(), m
	case sub == netSub && len(id) >= 1:
		if a := ipAddr(id[0], id[1:]); a.IsValid() {
			return a.String(), protocols.MAC{}
		}
	case sub != 0 && int(sub) < len(names) && printable(id):
		return protocols.Text(id, maxString, false), protocols.MAC{}
	}
	return hexString(id, maxString/2), protocols.MAC{}
}

// Capability names, bit 0 first (§8.5.8.1 table 8-4).
var capabilityNames = [...]string{"other", "repeater", "bridge", "wlan-ap", "router",
	"telephone", "docsis", "station", "c-vlan", "s-vlan", "tpmr"}

// capNames returns the comma-separated names of the bits set in caps.
func capNames(caps uint16) string {
	if caps == 0 {
		return ""
	}
	// The common combinations are constants: no allocation.
	switch caps {
	case 1 << 2:
		return "bridge"
	case 1 << 4:
		return "router"
	case 1<<2 | 1<<4:
		return "bridge,router"
	case 1 << 5:
		return "telephone"
	case 1 << 7:
		return "station"
	case 1 << 3:
		return "wlan-ap"
	}
	var sb strings.Builder
	for i := range 16 {
		if caps&(1<<i) == 0 {
			continue
		}
		if sb.Len() > 0 {
			sb.WriteByte(',')
		}
		if i < len(capabilityNames) {
			sb.WriteString(capabilityNames[i])
		} else {
			sb.WriteString("bit" + strconv.Itoa(i))
		}
	}
	return sb.String()
}

func printable(b []byte) bool {
	if len(b) == 0 || !utf8.Valid(b) {
		return false
	}
	for _, c := range b {
		if c < 0x20 || c == 0x7f {
			return false
		}
	}
	return true
}

func hexString(b []byte, limit int) string {
	if len(b) > limit {
		b = b[:limit]
	}
	out := make([]byte, 2*len(b))
	const digits = "0123456789abcdef"
	for i, c := range b {
		out[2*i] = digits[c>>4]
		out[2*i+1] = digits[c&0xf]
	}
	return string(out)
}
