package dicom

import (
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/iomt-sensor/iomt-sensor/protocols"
)

// Fact names.
const (
	FactAETitle           = "dicom.ae_title"
	FactApplicationCtx    = "dicom.application_context"
	FactSOPClass          = "dicom.sop_class"
	FactTransferSyntax    = "dicom.transfer_syntax"
	FactAcceptedSOPClass  = "dicom.accepted_sop_class"
	FactMaxPDU            = "dicom.max_pdu"
	FactImplementationUID = "dicom.implementation_class_uid"
	FactImplementationVer = "dicom.implementation_version"
	FactRejectResult      = "dicom.reject_result"
	FactRejectSource      = "dicom.reject_source"
	FactRejectReason      = "dicom.reject_reason"
	FactRelease           = "dicom.release"
	FactAbortSource       = "dicom.abort_source"
	FactAbortReason       = "dicom.abort_reason"
	FactCommand           = "dicom.command"
	FactStatus            = "dicom.status"
	FactModality          = "dicom.modality"
	FactManufacturer      = "dicom.manufacturer"
	FactModel             = "dicom.model"
	FactSerial            = "dicom.serial"
	FactSoftwareVersions  = "dicom.software_versions"
	FactStationName       = "dicom.station_name"
	FactInstitution       = "dicom.institution"
	FactDepartment        = "dicom.department"
)

// Item types of the A-ASSOCIATE variable part (PS3.8 9.3.2.1-9.3.3.3, D.3.3).
const (
	itemAppContext   = 0x10
	itemPresCtxRQ    = 0x20
	itemPresCtxAC    = 0x21
	itemAbstract     = 0x30
	itemTransfer     = 0x40
	itemUserInfo     = 0x50
	itemMaxLength    = 0x51
	itemImplClassUID = 0x52
	itemImplVersion  = 0x55
)

func fmtTooLong(n uint32) error {
	return fmt.Errorf("%w: dicom: A-ASSOCIATE PDU of %d bytes, cap %d", protocols.ErrTooLong, n, MaxAssociatePDU)
}

// item is one variable item: type and value.
type item struct {
	typ   byte
	value []byte
}

// items splits b into items of a 1-byte type, a reserved byte and a 2-byte
// big-endian length (PS3.8 9.3.2), calling fn for each.
func items(b []byte, fn func(item) error) error {
	for len(b) > 0 {
		if len(b) < 4 {
			return protocols.Malformedf("dicom: truncated item header")
		}
		n := int(binary.BigEndian.Uint16(b[2:4]))
		if 4+n > len(b) {
			return protocols.Malformedf("dicom: item %#x of %d bytes runs past its parent", b[0], n)
		}
		if err := fn(item{b[0], b[4 : 4+n]}); err != nil {
			return err
		}
		b = b[4+n:]
	}
	return nil
}

// assoc is what the fixed and user information parts of an A-ASSOCIATE-RQ/AC
// say (PS3.8 9.3.2, 9.3.3, D.3.3).
type assoc struct {
	called, calling string
	appContext      string
	maxPDU          string
	implUID         string
	implVersion     string
}

func (a *assoc) userInfo(v []byte) error {
	return items(v, func(it item) error {
		switch it.typ {
		case itemMaxLength:
			if len(it.value) != 4 {
				return protocols.Malformedf("dicom: maximum length item of %d bytes", len(it.value))
			}
			a.maxPDU = strconv.FormatUint(uint64(binary.BigEndian.Uint32(it.value)), 10)
		case itemImplClassUID:
			a.implUID = clean(it.value)
		case itemImplVersion:
			a.implVersion = clean(it.value)
		}
		// Others (async window, role selection, extended negotiation, user
		// identity with its passwords) are not read.
		return nil
	})
}

// tail appends the user information facts.
func (a *assoc) tail(facts []protocols.Fact) []protocols.Fact {
	facts = addFact(facts, FactMaxPDU, a.maxPDU)
	facts = addFact(facts, FactImplementationUID, a.implUID)
	return addFact(facts, FactImplementationVer, a.implVersion)
}

func addFact(facts []protocols.Fact, name, value string) []protocols.Fact {
	if value == "" {
		return facts
	}
	return append(facts, protocols.Fact{Name: name, Value: value})
}

// associateRQ decodes an A-ASSOCIATE-RQ body (PS3.8 9.3.2).
func (d *decoder) associateRQ(body []byte, emit protocols.Emit) error {
	var a assoc
	a.called, a.calling = clean(body[4:20]), clean(body[20:36])
	var sopBuf, syntaxBuf [8]string
	sops, syntaxes := sopBuf[:0], syntaxBuf[:0]
	d.contexts = d.contexts[:0]
	err := items(body[minAssociatePDU:], func(it item) error {
		switch it.typ {
		case itemAppContext:
			a.appContext = clean(it.value)
		case itemPresCtxRQ:
			if len(it.value) < 4 {
				return protocols.Malformedf("dicom: presentation context item of %d bytes", len(it.value))
			}
			var abstract string
			err := items(it.value[4:], func(sub item) error {
				switch sub.typ {
				case itemAbstract:
					var dup bool
					abstract, dup = cleanIn(sops, sub.value)
					if !dup && abstract != "" {
						sops = append(sops, abstract)
					}
				case itemTransfer:
					if s, dup := cleanIn(syntaxes, sub.value); s != "" && !dup && len(syntaxes) < 64 {
						syntaxes = append(syntaxes, s)
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
			if c := d.context(it.value[0], true); c != nil {
				c.abstract = abstract
			}
		case itemUserInfo:
			return a.userInfo(it.value)
		}
		return nil
	})
	if err != nil {
		return err
	}
	facts := make([]protocols.Fact, 0, 5+len(sops)+len(syntaxes))
	facts = addFact(facts, FactAETitle, a.calling)
	facts = addFact(facts, FactApplicationCtx, a.appContext)
	for _, s := range sops {
		facts = addFact(facts, FactSOPClass, s)
	}
	for _, s := range syntaxes {
		facts = addFact(facts, FactTransferSyntax, s)
	}
	facts = a.tail(facts)
	emit(protocols.Observation{Protocol: Name, Source: "dicom.a-associate-rq", About: protocols.Sender, Role: "scu", Facts: facts})
	if a.called != "" {
		emit(protocols.Observation{Protocol: Name, Source: "dicom.a-associate-rq", About: protocols.Receiver,
			Facts: []protocols.Fact{{Name: FactAETitle, Value: a.called}}})
	}
	return nil
}

// associateAC decodes an A-ASSOCIATE-AC body (PS3.8 9.3.3). Accepted
// contexts are named by the abstract syntax the RQ proposed under their id.
func (d *decoder) associateAC(body []byte, emit protocols.Emit) error {
	var a assoc
	a.called = clean(body[4:20]) // the calling AE title is the RQ's
	var acceptedBuf [8]string
	accepted := acceptedBuf[:0]
	err := items(body[minAssociatePDU:], func(it item) error {
		switch it.typ {
		case itemAppContext:
			a.appContext = clean(it.value)
		case itemPresCtxAC:
			if len(it.value) < 4 {
				return protocols.Malformedf("dicom: presentation context item of %d bytes", len(it.value))
			}
			id, result := it.value[0], it.value[2]
			syntax := tsUnknown
			err := items(it.value[4:], func(sub item) error {
				if sub.typ == itemTransfer {
					syntax = syntaxOf(cleanView(sub.value))
				}
				return nil
			})
			if err != nil {
				return err
			}
			c := d.context(id, true)
			if c == nil || result != 0 {
				return nil
			}
			c.accepted = true
			c.syntax = syntax
			if c.abstract != "" && !containsString(accepted, c.abstract) {
				accepted = append(accepted, c.abstract)
			}
		case itemUserInfo:
			return a.userInfo(it.value)
		}
		return nil
	})
	if err != nil {
		return err
	}
	// The AC echoes the called AE title: the acceptor's own (PS3.8 9.3.3.2).
	facts := make([]protocols.Fact, 0, 5+len(accepted))
	facts = addFact(facts, FactAETitle, a.called)
	facts = addFact(facts, FactApplicationCtx, a.appContext)
	for _, s := range accepted {
		facts = addFact(facts, FactAcceptedSOPClass, s)
	}
	facts = a.tail(facts)
	emit(protocols.Observation{Protocol: Name, Source: "dicom.a-associate-ac", About: protocols.Sender, Role: "scp", Facts: facts})
	return nil
}

// associateRJ decodes the 4-byte A-ASSOCIATE-RJ body (PS3.8 9.3.4, table 9-21).
func (d *decoder) associateRJ(body []byte, emit protocols.Emit) error {
	result, source, reason := body[1], body[2], body[3]
	if result < 1 || result > 2 || source < 1 || source > 3 {
		return protocols.Malformedf("dicom: A-ASSOCIATE-RJ result %d source %d", result, source)
	}
	emit(protocols.Observation{Protocol: Name, Source: "dicom.a-associate-rj", About: protocols.Sender, Facts: []protocols.Fact{
		{Name: FactRejectResult, Value: coded(result, rejectResultName(result))},
		{Name: FactRejectSource, Value: coded(source, rejectSourceName(source))},
		{Name: FactRejectReason, Value: coded(reason, rejectReasonName(source, reason))},
	}})
	return nil
}

// release handles A-RELEASE-RQ/RP (PS3.8 9.3.6, 9.3.7), once per flow and direction.
func (d *decoder) release(typ byte, dir protocols.Direction, emit protocols.Emit) {
	if d.released[dir&1] {
		return
	}
	d.released[dir&1] = true
	src, v := "dicom.a-release-rq", "requested"
	if typ == pduReleaseRP {
		src, v = "dicom.a-release-rp", "confirmed"
	}
	emit(protocols.Observation{Protocol: Name, Source: src, About: protocols.Sender, Facts: []protocols.Fact{{Name: FactRelease, Value: v}}})
}

// abort decodes A-ABORT (PS3.8 9.3.8, table 9-26), once per flow.
func (d *decoder) abort(body []byte, emit protocols.Emit) {
	if d.aborted {
		return
	}
	d.aborted = true
	source, reason := body[2], body[3]
	facts := []protocols.Fact{{Name: FactAbortSource, Value: coded(source, abortSourceName(source))}}
	if source == 2 {
		facts = append(facts, protocols.Fact{Name: FactAbortReason, Value: coded(reason, abortReasonName(reason))})
	}
	emit(protocols.Observation{Protocol: Name, Source: "dicom.a-abort", About: protocols.Sender, Facts: facts})
}

func containsString(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
