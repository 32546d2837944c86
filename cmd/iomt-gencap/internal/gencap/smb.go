package gencap

import "encoding/binary"

// SMB2 over NetBIOS session service on 445: bulk WRITE (backup) or READ
// (file copy) flows.

const (
	smb2Read  = 0x0008
	smb2Write = 0x0009
)

// appendSMB2 appends an NBSS header and SMB2 sync header; the NBSS length is
// patched by finishNBSS.
func appendSMB2(a []byte, cmd uint16, resp bool, msgID uint64, tree uint32, session uint64) []byte {
	a = append(a, 0, 0, 0, 0, 0xfe, 'S', 'M', 'B', 64, 0, 1, 0, 0, 0, 0, 0)
	a = binary.LittleEndian.AppendUint16(a, cmd)
	var flags uint32
	credits := uint16(1)
	if resp {
		flags = 1
		credits = 32
	}
	a = binary.LittleEndian.AppendUint16(a, credits)
	a = binary.LittleEndian.AppendUint32(a, flags)
	a = binary.LittleEndian.AppendUint32(a, 0) // next command
	a = binary.LittleEndian.AppendUint64(a, msgID)
	a = binary.LittleEndian.AppendUint32(a, 0xfeff) // process id
	a = binary.LittleEndian.AppendUint32(a, tree)
	a = binary.LittleEndian.AppendUint64(a, session)
	return append(a, zeros[:16]...) // signature
}

func (g *gen) setupSMB(f *flow) {
	c := g.pickHost(classWorkstation)
	g.initTCP(f, g.local(c), g.local(g.pickServer(roleFile)), 445)
	write := g.rng.IntN(3) != 0
	tree := g.rng.Uint32() & 0xffff
	session := g.rng.Uint64()
	var fileID [16]byte
	binary.LittleEndian.PutUint64(fileID[:], g.rng.Uint64())
	binary.LittleEndian.PutUint64(fileID[8:], g.rng.Uint64())
	const block = 65536
	ops := 4 + g.rng.IntN(24)
	msgID := uint64(10 + g.rng.IntN(100))
	for i := 0; i < ops; i++ {
		off := uint64(i) * block
		f.begin(0)
		start := len(f.arena)
		a := f.arena
		if write {
			a = appendSMB2(a, smb2Write, false, msgID, tree, session)
			a = append(a, 49, 0, 0x70, 0)
			a = binary.LittleEndian.AppendUint32(a, block)
			a = binary.LittleEndian.AppendUint64(a, off)
			a = append(a, fileID[:]...)
			a = append(a, zeros[:16]...) // channel, remaining, channel info, flags
			binary.BigEndian.PutUint32(a[start:], uint32(len(a)-start-4+block))
			f.arena = a
			f.lit(start)
			f.fill(block, chunkRand)
			f.begin(1)
			start = len(f.arena)
			a = appendSMB2(f.arena, smb2Write, true, msgID, tree, session)
			a = append(a, 17, 0, 0, 0)
			a = binary.LittleEndian.AppendUint32(a, block)
			a = append(a, zeros[:8]...)
			binary.BigEndian.PutUint32(a[start:], uint32(len(a)-start-4))
			f.arena = a
			f.lit(start)
		} else {
			a = appendSMB2(a, smb2Read, false, msgID, tree, session)
			a = append(a, 49, 0, 0x50, 0)
			a = binary.LittleEndian.AppendUint32(a, block)
			a = binary.LittleEndian.AppendUint64(a, off)
			a = append(a, fileID[:]...)
			a = binary.LittleEndian.AppendUint32(a, 1) // minimum count
			a = append(a, zeros[:13]...)               // channel, remaining, channel info, buffer
			binary.BigEndian.PutUint32(a[start:], uint32(len(a)-start-4))
			f.arena = a
			f.lit(start)
			f.begin(1)
			start = len(f.arena)
			a = appendSMB2(f.arena, smb2Read, true, msgID, tree, session)
			a = append(a, 17, 0, 0x50, 0)
			a = binary.LittleEndian.AppendUint32(a, block)
			a = append(a, zeros[:8]...)
			binary.BigEndian.PutUint32(a[start:], uint32(len(a)-start-4+block))
			f.arena = a
			f.lit(start)
			f.fill(block, chunkRand)
		}
		msgID++
	}
	f.closer = 0
}
