package capture

import (
	"encoding/binary"
	"fmt"
	"io"
)

// pcapRecordHeader is the size of a classic pcap record header: seconds,
// fraction, captured length, original length.
const pcapRecordHeader = 16

// batchFiller is a Source that can fill a whole batch at once, faster than
// a Next per packet. Prefetch uses it when canFillBatch says so.
type batchFiller interface {
	canFillBatch() bool
	// fillBatch fills the empty batch b with the next packets and returns
	// the error that ends the stream after them (io.EOF at a clean end),
	// or nil when there are more. A nil error comes with at least one
	// packet. b.data may be replaced by a larger buffer.
	fillBatch(b *batch) error
}

// canFillBatch reports whether the file is classic pcap, which fillBatch
// reads; pcapng goes through Next.
func (s *fileSource) canFillBatch() bool { return s.in != nil }

// fillBatch reads classic pcap records in large blocks straight into
// b.data, so that the read (or the gzip output) is the only copy of each
// packet, and parses the record headers in place. A record cut by the end of
// the block is carried to the start of the next batch through s.carry: b
// belongs to the consumer once returned. It keeps every check and error of
// Next (pcapgo's): the maxSnapLen cap, captured length no longer than the
// original, a clean end only between records, ErrTruncated after the last
// complete packet otherwise. Once fillBatch is used, Next must not be.
func (s *fileSource) fillBatch(b *batch) error {
	if s.err != nil {
		return s.err
	}
	b.ifaces = append(b.ifaces, s.name)
	b.data = append(b.data, s.carry...)
	s.carry = s.carry[:0]
	pos := 0 // where the first record not yet in b.pkts starts
	for {
		n, rerr := s.readBlock(b.data[len(b.data):cap(b.data)])
		b.data = b.data[:len(b.data)+n]
		var need int
		var err error
		pos, need, err = s.parseRecords(b, pos)
		switch {
		case err != nil:
			s.err = s.readErr(err)
			return s.err
		case rerr == io.EOF && pos == len(b.data):
			s.err = io.EOF // a clean end between two records
			return s.err
		case rerr == io.EOF:
			s.err = s.readErr(io.ErrUnexpectedEOF)
			return s.err
		case rerr != nil:
			s.err = s.readErr(rerr)
			return s.err
		case len(b.pkts) > 0:
			s.carry = append(s.carry, b.data[pos:]...)
			b.data = b.data[:pos]
			return nil
		}
		// The block is full and holds no complete record (pos is 0):
		// the record is larger than the batch.
		if need > cap(b.data) {
			grown := make([]byte, len(b.data), need)
			copy(grown, b.data)
			b.data = grown
		}
	}
}

// readBlock fills p from s.in. Unlike io.ReadFull it returns the reader's
// own error, so that io.ErrUnexpectedEOF from a cut gzip stream stays
// distinct from a clean io.EOF.
func (s *fileSource) readBlock(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m, err := s.in.Read(p[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// parseRecords appends to b.pkts the complete records of b.data from pos
// on and returns where the first incomplete one starts and how many bytes
// it needs in all (its header, or header and data). err is pcapgo's for a
// record header it would reject.
func (s *fileSource) parseRecords(b *batch, pos int) (next, need int, err error) {
	data := b.data
	be := s.order == binary.BigEndian
	iface := int32(len(b.ifaces) - 1)
	for {
		if len(data)-pos < pcapRecordHeader {
			return pos, pcapRecordHeader, nil
		}
		h := data[pos : pos+pcapRecordHeader]
		sec, frac, capLen, origLen := u32(h[0:], be), u32(h[4:], be), u32(h[8:], be), u32(h[12:], be)
		// pcapgo's checks and messages, with the snap length Next sets.
		if capLen > maxSnapLen {
			return pos, 0, fmt.Errorf("capture length exceeds snap length: %d > %d", capLen, uint32(maxSnapLen))
		}
		if capLen > origLen {
			return pos, 0, fmt.Errorf("capture length exceeds original packet length: %d > %d", capLen, origLen)
		}
		end := pos + pcapRecordHeader + int(capLen)
		if end > len(data) {
			return pos, pcapRecordHeader + int(capLen), nil
		}
		s.count.add(int(capLen))
		// As pcapgo: the fraction times 1000 wraps in 32 bits, and
		// time.Unix(sec, nsec).UnixNano() is sec*1e9+nsec.
		b.pkts = append(b.pkts, record{off: int32(pos + pcapRecordHeader), end: int32(end), length: origLen,
			iface: iface, link: s.linkType, ts: int64(sec)*1e9 + int64(frac*s.nanoMul)})
		pos = end
	}
}

func u32(b []byte, bigEndian bool) uint32 {
	if bigEndian {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}
