package capture

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
)

// pcapng block types and option codes that the framer validates.
const (
	ngBlockIDB = 1
	ngBlockPB  = 2
	ngBlockSPB = 3
	ngBlockISB = 5
	ngBlockEPB = 6
	ngBlockSHB = 0x0a0d0d0a

	ngByteOrderMagic = 0x1a2b3c4d

	// maxBlockLen caps one pcapng block; larger ones are corrupt input.
	maxBlockLen = 16 << 20
)

// ngFramer sits between the file and pcapgo's NgReader. It reads whole
// pcapng blocks, checks that every length inside a block stays inside it
// (pcapgo trusts them and would allocate, desynchronise or index out of
// range), clamps interface snap lengths, and serves the checked bytes. A file
// cut inside a block is reported as ErrTruncated, which pcapgo alone would
// report as a clean io.EOF.
type ngFramer struct {
	r         *bufio.Reader
	buf       []byte // the current block
	pos       int    // bytes of buf already served
	off       int64  // file offset of the current block (decompressed)
	bigEndian bool
	seenSHB   bool
	snaplens  []uint32   // per interface of the current section
	links     []LinkType // per interface of the current section
	// pktLinkType is the link type of the last packet block read.
	pktLinkType LinkType
	err         error // sticky
}

func (f *ngFramer) Read(p []byte) (int, error) {
	for f.pos >= len(f.buf) {
		if f.err != nil {
			return 0, f.err
		}
		if err := f.nextBlock(); err != nil {
			f.err = err
			f.buf, f.pos = f.buf[:0], 0
			return 0, err
		}
		f.pos = 0
	}
	n := copy(p, f.buf[f.pos:])
	f.pos += n
	return n, nil
}

func (f *ngFramer) u16(b []byte) uint32 {
	if f.bigEndian {
		return uint32(binary.BigEndian.Uint16(b))
	}
	return uint32(binary.LittleEndian.Uint16(b))
}

func (f *ngFramer) u32(b []byte) uint32 {
	if f.bigEndian {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

func (f *ngFramer) corrupt(format string, args ...any) error {
	return fmt.Errorf("pcapng block at offset %d: %s: %w", f.off, fmt.Sprintf(format, args...), errCorrupt)
}

// nextBlock reads and checks one block into f.buf.
func (f *ngFramer) nextBlock() error {
	f.off += int64(len(f.buf))
	if cap(f.buf) < 12 {
		f.buf = make([]byte, 0, 4096)
	}
	hdr := f.buf[:12]
	n, err := io.ReadFull(f.r, hdr[:8])
	if err != nil {
		if n == 0 && errors.Is(err, io.EOF) {
			return io.EOF
		}
		return f.truncated(err)
	}
	typ := binary.LittleEndian.Uint32(hdr) // SHB's type reads the same both ways
	if typ == ngBlockSHB {
		if _, err := io.ReadFull(f.r, hdr[8:12]); err != nil {
			return f.truncated(err)
		}
		switch {
		case binary.BigEndian.Uint32(hdr[8:]) == ngByteOrderMagic:
			f.bigEndian = true
		case binary.LittleEndian.Uint32(hdr[8:]) == ngByteOrderMagic:
			f.bigEndian = false
		default:
			return f.corrupt("section header byte-order magic %x", hdr[8:12])
		}
		f.seenSHB = true
		f.snaplens = f.snaplens[:0]
		f.links = f.links[:0]
	} else if !f.seenSHB {
		return f.corrupt("first block has type %#x, want a section header", typ)
	} else {
		typ = f.u32(hdr)
	}
	total := f.u32(hdr[4:])
	minLen := uint32(12)
	switch typ {
	case ngBlockSHB:
		minLen = 28
	case ngBlockIDB:
		minLen = 20
	case ngBlockEPB, ngBlockPB:
		minLen = 32
	case ngBlockSPB:
		minLen = 16
	case ngBlockISB:
		minLen = 24
	}
	if total < minLen || total%4 != 0 || total > maxBlockLen {
		return f.corrupt("block type %#x has length %d (want a multiple of 4 in [%d, %d])", typ, total, minLen, maxBlockLen)
	}
	have := 8
	if typ == ngBlockSHB {
		have = 12
	}
	// Grow the buffer as bytes arrive, so that a length claimed by a
	// hostile header costs memory only if the file really holds it.
	b := f.buf[:have]
	for len(b) < int(total) {
		chunk := min(int(total)-len(b), 256<<10)
		b = slices.Grow(b, chunk)
		n, err := io.ReadFull(f.r, b[len(b):len(b)+chunk])
		b = b[:len(b)+n]
		if err != nil {
			f.buf = b
			return f.truncated(err)
		}
	}
	f.buf = b
	if trail := f.u32(b[total-4:]); trail != total {
		return f.corrupt("trailing length %d differs from leading length %d", trail, total)
	}
	body := b[:total-4]
	switch typ {
	case ngBlockSHB:
		return f.options(typ, body, 24)
	case ngBlockIDB:
		snap := f.u32(b[12:])
		if snap == 0 || snap > maxSnapLen {
			// pcapgo sizes its packet buffer from the snap length.
			snap = maxSnapLen
			if f.bigEndian {
				binary.BigEndian.PutUint32(b[12:], snap)
			} else {
				binary.LittleEndian.PutUint32(b[12:], snap)
			}
		}
		if len(f.snaplens) >= 1<<16 {
			return f.corrupt("more than 65536 interfaces")
		}
		f.snaplens = append(f.snaplens, snap)
		f.links = append(f.links, LinkType(f.u16(b[8:])))
		return f.options(typ, body, 16)
	case ngBlockEPB, ngBlockPB:
		var id uint32
		if typ == ngBlockEPB {
			id = f.u32(b[8:])
		} else {
			id = f.u16(b[8:])
		}
		if id >= uint32(len(f.snaplens)) {
			return f.corrupt("packet for interface %d, but the section has %d", id, len(f.snaplens))
		}
		caplen, origlen := f.u32(b[20:]), f.u32(b[24:])
		if caplen > total-32 || caplen > maxSnapLen || caplen > origlen {
			return f.corrupt("captured length %d (original %d) does not fit a block of %d bytes", caplen, origlen, total)
		}
		f.pktLinkType = f.links[id]
	case ngBlockSPB:
		if len(f.snaplens) == 0 {
			return f.corrupt("simple packet block before any interface")
		}
		caplen := f.u32(b[8:])
		if caplen > f.snaplens[0] {
			caplen = f.snaplens[0]
		}
		if caplen > total-16 {
			return f.corrupt("simple packet of %d bytes does not fit a block of %d bytes", caplen, total)
		}
		f.pktLinkType = f.links[0]
	case ngBlockISB:
		if id := f.u32(b[8:]); id >= uint32(len(f.snaplens)) {
			return f.corrupt("statistics for interface %d, but the section has %d", id, len(f.snaplens))
		}
		return f.options(typ, body, 20)
	}
	return nil
}

// options checks the options of a block from start to the end of body: each
// must fit, and those that pcapgo decodes must be long enough for it.
func (f *ngFramer) options(typ uint32, body []byte, start int) error {
	for off := start; off < len(body); {
		if len(body)-off < 4 {
			return f.corrupt("option header cut at the end of block type %#x", typ)
		}
		code, l := f.u16(body[off:]), int(f.u16(body[off+2:]))
		if code == 0 {
			return nil
		}
		off += 4
		padded := (l + 3) &^ 3
		if padded > len(body)-off {
			return f.corrupt("option %d of %d bytes overruns block type %#x", code, l, typ)
		}
		need := 0
		switch {
		case typ == ngBlockIDB && code == 9: // if_tsresol
			need = 1
			if l >= 1 {
				v := body[off]
				if (v&0x80 != 0 && v&0x7f > 63) || (v&0x80 == 0 && v > 19) {
					return f.corrupt("timestamp resolution %#x out of range", v)
				}
			}
		case typ == ngBlockIDB && code == 11: // if_filter
			need = 1
		case typ == ngBlockIDB && code == 14: // if_tsoffset
			need = 8
		case typ == ngBlockISB && code >= 2 && code <= 5: // times and counters
			need = 8
		}
		if l < need {
			return f.corrupt("option %d of block type %#x has %d bytes, want %d", code, typ, l, need)
		}
		off += padded
	}
	return nil
}

// truncated reports a block cut by the end of the file.
func (f *ngFramer) truncated(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("pcapng block at offset %d: %w", f.off, ErrTruncated)
	}
	return err
}
