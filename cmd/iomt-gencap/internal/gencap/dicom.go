package gencap

import (
	"encoding/binary"
	"strconv"
)

// DICOM upper layer (PS3.8 section 9.3) on port 104.

const (
	uidAppContext   = "1.2.840.10008.3.1.1.1"
	uidImplicitLE   = "1.2.840.10008.1.2"
	uidExplicitLE   = "1.2.840.10008.1.2.1"
	uidVerification = "1.2.840.10008.1.1"
	uidRoot         = "1.2.826.0.1.3680043.8.498."
	maxPDU          = 16384
)

// modality describes what one imaging vendor/prefix sends.
type modality struct {
	prefix, code, sopClass, model, implUID, implVersion, software string
}

var modalities = []modality{
	{"CT", "CT", "1.2.840.10008.5.1.4.1.1.2", "Revolution CT", "1.2.840.113619.6.374", "REVOLUTION_CT", "rev_ct.21"},
	{"MR", "MR", "1.2.840.10008.5.1.4.1.1.4", "MAGNETOM Vida", "1.3.12.2.1107.5.2", "MR_VE11E", "syngo MR XA50"},
	{"US", "US", "1.2.840.10008.5.1.4.1.1.6.1", "EPIQ 7G", "1.3.46.670589.14.1", "PMS_EPIQ_9", "9.0.3"},
	{"DR", "DX", "1.2.840.10008.5.1.4.1.1.1.1", "DRX-Evolution Plus", "1.2.840.113564.3.1", "CSH_DRX_57", "5.7.412"},
	{"CR", "CR", "1.2.840.10008.5.1.4.1.1.1", "FCR PRIMA T2", "1.2.392.200036.9125.0.19950720112207", "FUJI_CR_V1", "V1.2"},
	{"LAB", "OT", "1.2.840.10008.5.1.4.1.1.7", "Atellica Solution", "1.3.12.2.1107.5.99", "ATELLICA_12", "1.2"},
}

func modalityFor(prefix string) *modality {
	for i := range modalities {
		if modalities[i].prefix == prefix {
			return &modalities[i]
		}
	}
	return &modalities[len(modalities)-1]
}

func appendAE(b []byte, ae string) []byte {
	b = append(b, ae...)
	for i := len(ae); i < 16; i++ {
		b = append(b, ' ')
	}
	return b
}

// appendItem appends an item of type t with a 16-bit length and string value.
func appendItem(b []byte, t byte, v string) []byte {
	b = append(b, t, 0)
	b = be16(b, len(v))
	return append(b, v...)
}

// appendElem appends an implicit VR little endian element with a string
// value padded to even length with pad.
func appendElem[T string | []byte](b []byte, group, elem uint16, v T, pad byte) []byte {
	b = binary.LittleEndian.AppendUint16(b, group)
	b = binary.LittleEndian.AppendUint16(b, elem)
	n := len(v) + len(v)%2
	b = binary.LittleEndian.AppendUint32(b, uint32(n))
	b = append(b, v...)
	if len(v)%2 == 1 {
		b = append(b, pad)
	}
	return b
}

func appendUS(b []byte, group, elem uint16, v uint16) []byte {
	b = binary.LittleEndian.AppendUint16(b, group)
	b = binary.LittleEndian.AppendUint16(b, elem)
	b = binary.LittleEndian.AppendUint32(b, 2)
	return binary.LittleEndian.AppendUint16(b, v)
}

// appendUIDElem appends a UI element whose value is uidRoot + a + "." + b.
func appendUIDElem(dst []byte, group, elem uint16, a, b uint64) []byte {
	var tmp [64]byte
	v := append(tmp[:0], uidRoot...)
	v = strconv.AppendUint(v, a, 10)
	v = append(v, '.')
	v = strconv.AppendUint(v, b, 10)
	return appendElem(dst, group, elem, v, 0)
}

// associate appends an A-ASSOCIATE-RQ (t=0x01) or -AC (t=0x02) PDU.
func appendAssociate(a []byte, t byte, called, calling string, m *modality, implUID, implVersion string) []byte {
	start := len(a)
	a = append(a, t, 0, 0, 0, 0, 0, 0, 1, 0, 0)
	a = appendAE(a, called)
	a = appendAE(a, calling)
	a = append(a, zeros[:32]...)
	a = appendItem(a, 0x10, uidAppContext)
	for _, ctx := range [2]struct {
		id  byte
		sop string
	}{{1, m.sopClass}, {3, uidVerification}} {
		item := len(a)
		if t == 0x01 {
			a = append(a, 0x20, 0, 0, 0, ctx.id, 0, 0, 0)
			a = appendItem(a, 0x30, ctx.sop)
			a = appendItem(a, 0x40, uidExplicitLE)
			a = appendItem(a, 0x40, uidImplicitLE)
		} else {
			a = append(a, 0x21, 0, 0, 0, ctx.id, 0, 0, 0)
			a = appendItem(a, 0x40, uidImplicitLE)
		}
		putLen16(a[item+2:], len(a)-item-4)
	}
	ui := len(a)
	a = append(a, 0x50, 0, 0, 0)
	a = append(a, 0x51, 0, 0, 4)
	a = be32(a, maxPDU)
	a = appendItem(a, 0x52, implUID)
	a = appendItem(a, 0x55, implVersion)
	putLen16(a[ui+2:], len(a)-ui-4)
	binary.BigEndian.PutUint32(a[start+2:], uint32(len(a)-start-6))
	return a
}

// appendCommand appends a P-DATA-TF PDU holding one command PDV built by
// body, with its (0000,0000) group length filled in.
func appendCommandPDU(a []byte, pcid byte, body func([]byte) []byte) []byte {
	pdu := len(a)
	a = append(a, 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0, pcid, 0x03)
	gl := len(a)
	a = append(a, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0) // (0000,0000) UL
	a = body(a)
	binary.LittleEndian.PutUint32(a[gl+8:], uint32(len(a)-gl-12))
	binary.BigEndian.PutUint32(a[pdu+6:], uint32(len(a)-pdu-10))
	binary.BigEndian.PutUint32(a[pdu+2:], uint32(len(a)-pdu-6))
	return a
}

func (g *gen) setupDICOM(f *flow) {
	c := g.pickHost(classImaging)
	srv := g.pickServer(rolePACS)
	g.initTCP(f, g.local(c), g.local(srv), 104)
	h := &g.seg.hosts[c]
	m := modalityFor(h.v.prefix)
	called := "PACS_ARCHIVE"
	calling := h.name
	if len(calling) > 16 {
		calling = calling[:16]
	}

	f.begin(0)
	start := len(f.arena)
	f.arena = appendAssociate(f.arena, 0x01, called, calling, m, m.implUID, m.implVersion)
	f.lit(start)
	f.begin(1)
	start = len(f.arena)
	f.arena = appendAssociate(f.arena, 0x02, called, calling, m, "1.2.40.0.13.1.3", "dcm4che-5.31.0")
	f.lit(start)

	study := g.rng.Uint64() >> 20
	images := 1
	switch g.rng.IntN(8) {
	case 0:
		images = 2
	case 1, 2, 3, 4:
		images = 0 // a C-ECHO: the modality checks its PACS link
		g.msgID++
		id := uint16(g.msgID)
		f.begin(0)
		start = len(f.arena)
		f.arena = appendCommandPDU(f.arena, 3, func(a []byte) []byte {
			a = appendElem(a, 0, 0x0002, uidVerification, 0)
			a = appendUS(a, 0, 0x0100, 0x0030)
			a = appendUS(a, 0, 0x0110, id)
			return appendUS(a, 0, 0x0800, 0x0101)
		})
		f.lit(start)
		f.begin(1)
		start = len(f.arena)
		f.arena = appendCommandPDU(f.arena, 3, func(a []byte) []byte {
			a = appendElem(a, 0, 0x0002, uidVerification, 0)
			a = appendUS(a, 0, 0x0100, 0x8030)
			a = appendUS(a, 0, 0x0120, id)
			a = appendUS(a, 0, 0x0800, 0x0101)
			return appendUS(a, 0, 0x0900, 0)
		})
		f.lit(start)
	}
	for i := 0; i < images; i++ {
		g.msgID++
		id := uint16(g.msgID)
		inst := uint64(g.msgID)
		f.begin(0)
		a := f.arena
		start = len(a)
		a = appendCommandPDU(a, 1, func(a []byte) []byte {
			a = appendElem(a, 0, 0x0002, m.sopClass, 0)
			a = appendUS(a, 0, 0x0100, 0x0001)
			a = appendUS(a, 0, 0x0110, id)
			a = appendUS(a, 0, 0x0700, 0)
			a = appendUS(a, 0, 0x0800, 0)
			return appendUIDElem(a, 0, 0x1000, study, inst)
		})
		// First data PDV: the data set header; pixel data is filler.
		rows := 256 + 64*g.rng.IntN(4)
		pix := rows * rows * 2
		pdu := len(a)
		a = append(a, 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0)
		ds := len(a)
		a = appendElem(a, 0x0008, 0x0016, m.sopClass, 0)
		a = appendUIDElem(a, 0x0008, 0x0018, study, inst)
		a = appendElem(a, 0x0008, 0x0060, m.code, ' ')
		a = appendElem(a, 0x0008, 0x0070, h.v.name, ' ')
		a = appendElem(a, 0x0008, 0x1010, calling, ' ')
		a = appendElem(a, 0x0008, 0x1090, m.model, ' ')
		a = appendElem(a, 0x0010, 0x0010, "TEST^PATIENT", ' ')
		a = appendElem(a, 0x0010, 0x0020, "PID0001", ' ')
		var serial [16]byte
		a = appendElem(a, 0x0018, 0x1000, appendEUI64(serial[:0], h.mac)[4:], ' ')
		a = appendElem(a, 0x0018, 0x1020, m.software, ' ')
		a = appendUS(a, 0x0028, 0x0010, uint16(rows))
		a = appendUS(a, 0x0028, 0x0011, uint16(rows))
		a = appendUS(a, 0x0028, 0x0100, 16)
		a = append(a, 0xe0, 0x7f, 0x10, 0)
		a = binary.LittleEndian.AppendUint32(a, uint32(pix))
		hdr := len(a) - ds
		total := hdr + pix
		const room = maxPDU - 6
		first := total
		if first > room {
			first = room
		}
		if first == total {
			a[pdu+11] = 0x02
		}
		binary.BigEndian.PutUint32(a[pdu+6:], uint32(first+2))
		binary.BigEndian.PutUint32(a[pdu+2:], uint32(first+6))
		f.arena = a
		f.lit(start)
		f.fill(first-hdr, chunkRand)
		for sent := first; sent < total; {
			n := total - sent
			mch := byte(0x02)
			if n > room {
				n, mch = room, 0
			}
			start = len(f.arena)
			f.arena = append(f.arena, 0x04, 0)
			f.arena = be32(f.arena, uint32(n+6))
			f.arena = be32(f.arena, uint32(n+2))
			f.arena = append(f.arena, 1, mch)
			f.lit(start)
			f.fill(n, chunkRand)
			sent += n
		}

		f.begin(1)
		start = len(f.arena)
		f.arena = appendCommandPDU(f.arena, 1, func(a []byte) []byte {
			a = appendElem(a, 0, 0x0002, m.sopClass, 0)
			a = appendUS(a, 0, 0x0100, 0x8001)
			a = appendUS(a, 0, 0x0120, id)
			a = appendUS(a, 0, 0x0800, 0x0101)
			a = appendUS(a, 0, 0x0900, 0)
			return appendUIDElem(a, 0, 0x1000, study, inst)
		})
		f.lit(start)
	}
	f.begin(0)
	f.appendStr("\x05\x00\x00\x00\x00\x04\x00\x00\x00\x00")
	f.begin(1)
	f.appendStr("\x06\x00\x00\x00\x00\x04\x00\x00\x00\x00")
	f.closer = 0
}
