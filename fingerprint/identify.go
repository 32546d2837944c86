package fingerprint

import (
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

// Identity is what Engine.Identify concludes, with the rules behind it.
type Identity struct {
	Vendor, Model, Serial, Firmware, OS string
	Category                            string
	Medical                             bool
	Confidence                          float64
	// Evidence lists the rules that held, in rule id order.
	Evidence []Match
	// Candidates maps each attribute (vendor, model, os, firmware,
	// category, medical) to its candidate values, best first: the winner
	// and the losers.
	Candidates map[string][]Candidate
}
