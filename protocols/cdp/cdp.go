// Package cdp decodes Cisco Discovery Protocol (versions 1 and 2)
// advertisements into an observation of the device that sent them: device
// id, addresses, port, capabilities, software version, platform, native
// VLAN and VTP domain.
//
// CDP travels in IEEE 802.3 frames with an LLC/SNAP header, which the sensor
// hands over with EtherType 0 like every other LLC frame (STP, for one): the
// decoder checks the SNAP header itself.
package cdp

import (
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/iomt-sensor/iomt-sensor/protocols"
)

// EtherType is the EtherType the sensor gives 802.3 (LLC) frames.
const EtherType = 0

// snapHeader is the LLC header (DSAP 0xAA, SSAP 0xAA, UI) and SNAP header
// (Cisco OUI 00-00-0C, protocol id 0x2000) in front of every CDP PDU.
var snapHeader = [8]byte{0xaa, 0xaa, 0x03, 0x00, 0x00, 0x0c, 0x20, 0x00}

// headerLen is the SNAP header plus the CDP header (version, TTL, checksum).
const headerLen = len(snapHeader) + 4

// MaxPDULen caps the frame payload the decoder reads: more than a jumbo
// frame is refused with protocols.ErrTooLong.
const MaxPDULen = 9000

// Caps on what one PDU yields.
const (
	maxTLVs      = 128
	maxFacts     = 32
	maxAddresses = 8
	maxString    = 255
	// MaxSoftwareVersion caps the full software version text.
	MaxSoftwareVersion = 1024
)

// TLV types.
const (
	tlvDeviceID        = 0x01
	tlvAddresses       = 0x02
	tlvPortID          = 0x03
	tlvCapabilities    = 0x04
	tlvSoftwareVersion = 0x05
	tlvPlatform        = 0x06
	tlvVTPDomain       = 0x09
	tlvNativeVLAN      = 0x0a
	tlvMgmtAddresses   = 0x16
)

// Fact names.
const (
	FactVersion             = "cdp.version"
	FactDeviceID            = "cdp.device_id"
	FactAddress             = "cdp.address"
	FactPortID              = "cdp.port_id"
	FactCapabilities        = "cdp.capabilities"
	FactSoftwareVersion     = "cdp.software_version"
	FactSoftwareVersionFull = "cdp.software_version_full"
	FactPlatform            = "cdp.platform"
	FactVTPDomain           = "cdp.vtp_domain"
	FactNativeVLAN          = "cdp.native_vlan"
	FactManagementAddress   = "cdp.management_address"
)

// Spec describes CDP to the sensor.
func Spec() protocols.Spec {
	return protocols.Spec{
		Name:       "cdp",
		Transport:  protocols.Ethernet,
		EtherTypes: []uint16{EtherType},
		Detect:     Detect,
		New:        New,
	}
}

// Detect reports whether first is an LLC/SNAP frame carrying CDP version 1
// or 2.
func Detect(_ protocols.Direction, first []byte) bool {
	return len(first) >= headerLen && [8]byte(first[:8]) == snapHeader && (first[8] == 1 || first[8] == 2)
}

// New returns a decoder for one flow.
func New(protocols.FlowInfo) protocols.Decoder { return &Decoder{} }

// Decoder turns each CDP advertisement into one Observation about its sender. It
// remembers a hash of the last PDU it decoded on the flow and skips an
// identical repeat (neighbours re-send the same PDU every 30 to 60 seconds),
// so steady state costs a hash and no allocation.
type Decoder struct {
	last uint64
	seen bool
}

// Gap does nothing: CDP is not a stream.
func (*Decoder) Gap(protocols.Direction, int, time.Time, protocols.Emit) {}

// Close does nothing: the decoder keeps no state.
func (*Decoder) Close(time.Time, protocols.Emit) {}

// Feed decodes one CDP PDU (the 802.3 payload from the LLC header on) and
// emits one Observation about its sender, Source "cdp.advertisement". The
// device id becomes the Hostname when it is a plausible host name, the first
// IPv4 address (of the Addresses TLV, else of the Management Addresses TLV)
// the IP. Other LLC frames wrap protocols.ErrUnsupported.
func (d *Decoder) Feed(_ protocols.Direction, data []byte, _ time.Time, emit protocols.Emit) error {
	h := protocols.Hash64(data)
	if d.seen && h == d.last {
		return nil // the neighbour repeats itself: nothing new, nothing allocated
	}
	if len(data) > MaxPDULen {
		return protocols.TooLongf("cdp: %d-byte PDU, cap %d", len(data), MaxPDULen)
	}
	if len(data) < len(snapHeader) || [8]byte(data[:8]) != snapHeader {
		return protocols.Unsupportedf("cdp: not an LLC/SNAP frame with Cisco protocol id 0x2000")
	}
	if len(data) < headerLen {
		return protocols.Malformedf("cdp: %d bytes, header needs %d", len(data), headerLen)
	}
	version := data[8]
	if version != 1 && version != 2 {
		return protocols.Unsupportedf("cdp: version %d", version)
	}
	obs := protocols.Observation{Protocol: "cdp", Source: "cdp.advertisement", About: protocols.Sender}
	facts := make([]protocols.Fact, 0, 12)
	add := func(name, value string) {
		if value != "" && len(facts) < maxFacts {
			facts = append(facts, protocols.Fact{Name: name, Value: value})
		}
	}
	if version == 1 {
		add(FactVersion, "1")
	} else {
		add(FactVersion, "2")
	}
	var mgmtIP netip.Addr
	b := data[headerLen:]
	for i := 0; len(b) > 0; i++ {
		if i >= maxTLVs {
			return protocols.TooLongf("cdp: more than %d TLVs", maxTLVs)
		}
		if len(b) < 4 {
			if allZero(b) {
				break // padding
			}
			return protocols.Malformedf("cdp: %d bytes left, a TLV needs 4", len(b))
		}
		typ := int(b[0])<<8 | int(b[1])
		n := int(b[2])<<8 | int(b[3])
		if typ == 0 && n == 0 && allZero(b) {
			break // padding
		}
		if n < 4 || n > len(b) {
			return protocols.Malformedf("cdp: TLV %d (type %#04x) length %d with %d bytes left", i, typ, n, len(b))
		}
		v := b[4:n]
		b = b[n:]
		switch typ {
		case tlvDeviceID:
			id := protocols.Text(v, maxString, false)
			add(FactDeviceID, id)
			if obs.Hostname == "" && protocols.IsHostname(id) {
				obs.Hostname = id
			}
		case tlvAddresses, tlvMgmtAddresses:
			name := FactAddress
			if typ == tlvMgmtAddresses {
				name = FactManagementAddress
			}
			err := addresses(v, func(a netip.Addr) {
				if a.IsUnspecified() {
					return
				}
				add(name, a.String())
				switch {
				case !a.Is4():
				case typ == tlvAddresses && !obs.IP.IsValid():
					obs.IP = a
				case typ == tlvMgmtAddresses && !mgmtIP.IsValid():
					mgmtIP = a
				}
			})
			if err != nil {
				return err
			}
		case tlvPortID:
			add(FactPortID, protocols.Text(v, maxString, false))
		case tlvCapabilities:
			if len(v) != 4 {
				return protocols.Malformedf("cdp: capabilities length %d, want 4", len(v))
			}
			add(FactCapabilities, capNames(uint32(v[0])<<24|uint32(v[1])<<16|uint32(v[2])<<8|uint32(v[3])))
		case tlvSoftwareVersion:
			first, _, multi := strings.Cut(protocols.Text(v, MaxSoftwareVersion, true), "\n")
			add(FactSoftwareVersion, strings.TrimSpace(first))
			if multi {
				add(FactSoftwareVersionFull, protocols.Text(v, MaxSoftwareVersion, true))
			}
		case tlvPlatform:
			add(FactPlatform, protocols.Text(v, maxString, false))
		case tlvVTPDomain:
			add(FactVTPDomain, protocols.Text(v, maxString, false))
		case tlvNativeVLAN:
			if len(v) != 2 {
				return protocols.Malformedf("cdp: native VLAN length %d, want 2", len(v))
			}
			add(FactNativeVLAN, strconv.Itoa(int(v[0])<<8|int(v[1])))
		}
	}
	if !obs.IP.IsValid() {
		obs.IP = mgmtIP
	}
	if len(facts) > 1 {
		obs.Facts = facts
	} else if obs.Hostname == "" {
		return protocols.Malformedf("cdp: PDU without TLVs")
	}
	d.last, d.seen = h, true
	emit(obs)
	return nil
}

// addresses walks an Addresses TLV: a 4-byte count, then per address a
// protocol type (1 NLPID, 2 802.2), protocol length, protocol, 2-byte
// address length and address. It calls fn for each IPv4 (NLPID 0xCC) and
// IPv6 (802.2 SNAP 0x86DD) address.
func addresses(v []byte, fn func(netip.Addr)) error {
	if len(v) < 4 {
		return protocols.Malformedf("cdp: addresses TLV of %d bytes", len(v))
	}
	count := int(v[0])<<24 | int(v[1])<<16 | int(v[2])<<8 | int(v[3])
	v = v[4:]
	for i := 0; i < count; i++ {
		if i >= maxAddresses {
			return nil
		}
		if len(v) < 2 {
			return protocols.Malformedf("cdp: address %d of %d truncated", i, count)
		}
		pt, pl := v[0], int(v[1])
		if len(v) < 2+pl+2 {
			return protocols.Malformedf("cdp: address %d protocol length %d runs past the TLV", i, pl)
		}
		proto := v[2 : 2+pl]
		al := int(v[2+pl])<<8 | int(v[3+pl])
		if len(v) < 4+pl+al {
			return protocols.Malformedf("cdp: address %d length %d runs past the TLV", i, al)
		}
		addr := v[4+pl : 4+pl+al]
		v = v[4+pl+al:]
		switch {
		case pt == 1 && pl == 1 && proto[0] == 0xcc && al == 4:
			fn(netip.AddrFrom4([4]byte(addr)))
		case pt == 2 && pl == 8 && string(proto) == "\xaa\xaa\x03\x00\x00\x00\x86\xdd" && al == 16:
			fn(netip.AddrFrom16([16]byte(addr)))
		}
	}
	return nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// Capability names, bit 0 first.
var capabilityNames = [...]string{"router", "trans-bridge", "source-route-bridge", "switch",
	"host", "igmp", "repeater", "phone", "remote", "cvta", "mac-relay"}

// capNames returns the comma-separated names of the bits set in caps.
func capNames(caps uint32) string {
	switch caps { // common combinations: no allocation
	case 0:
		return ""
	case 0x01:
		return "router"
	case 0x28:
		return "switch,igmp"
	case 0x29:
		return "router,switch,igmp"
	case 0x90:
		return "host,phone"
	case 0x10:
		return "host"
	}
	var sb strings.Builder
	for i := range 32 {
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
