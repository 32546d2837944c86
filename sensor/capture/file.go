package capture

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/google/gopacket"
	"github.com/google/gopacket/pcapgo"
)

// maxSnapLen caps the captured length of one packet read from a file, like
// libpcap's MAXIMUM_SNAPLEN. A file that announces a larger (or zero) snap
// length is read as if it had announced this one, so a hostile header can
// never make the reader allocate more than this per packet.
const maxSnapLen = 262144

// Magic numbers, as read little endian from the first four bytes.
const (
	magicPcapMicroLE = 0xa1b2c3d4
	magicPcapMicroBE = 0xd4c3b2a1
	magicPcapNanoLE  = 0xa1b23c4d
	magicPcapNanoBE  = 0x4d3cb2a1
	magicPcapNG      = 0x0a0d0d0a
)

// errCorrupt marks a capture file whose structure is broken (not just cut
// short).
var errCorrupt = errors.New("corrupt capture file")

// packetReader is what both pcapgo readers offer.
type packetReader interface {
	ZeroCopyReadPacketData() ([]byte, gopacket.CaptureInfo, error)
}

// fileSource reads one pcap or pcapng file.
type fileSource struct {
	path     string
	name     string // base name, reported as Packet.Interface
	f        *os.File
	gz       *gzip.Reader
	r        packetReader
	ng       bool
	linkType LinkType // pcap only; pcapng has it per interface
	framer   *ngFramer
	in       io.Reader        // pcap only: the (decompressed) stream after the file header
	order    binary.ByteOrder // pcap only
	nanoMul  uint32           // pcap only: 1000 for microsecond timestamps, 1 for nanosecond
	carry    []byte           // fillBatch: the start of a record cut by the end of a batch
	count    counters
	err      error // sticky once Next failed
}

// OpenFile opens a pcap or pcapng capture file, gzip-compressed or not. The
// format is detected from the magic bytes, not from the name. Classic pcap
// may use microsecond or nanosecond timestamps in either byte order; pcapng
// may hold several interfaces with different link types and timestamp
// resolutions.
//
// A file that is not a capture gives an error wrapping ErrNotCapture. A file
// cut short delivers every complete packet, then Next returns an error
// wrapping ErrTruncated. Both name the file. Packet.Interface is the file's
// base name and Packet.Data is valid until the next call to Next.
func OpenFile(path string) (Source, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open capture: %w", err)
	}
	s, err := newFileSource(path, f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return s, nil
}

func newFileSource(path string, f *os.File) (*fileSource, error) {
	s := &fileSource{path: path, name: filepath.Base(path), f: f}
	br := bufio.NewReaderSize(f, 64<<10)
	in := br
	head, err := br.Peek(2)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("open capture %s: %w", path, err)
	}
	if len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, s.notCapture(fmt.Sprintf("a gzip header that does not decode (%v)", err))
		}
		gz.Multistream(true)
		s.gz = gz
		in = bufio.NewReaderSize(gz, 64<<10)
	}
	hdr, err := in.Peek(24)
	if len(hdr) < 4 {
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("open capture %s: %w", path, err)
		}
		return nil, s.notCapture(fmt.Sprintf("%d bytes", len(hdr)))
	}
	switch magic := binary.LittleEndian.Uint32(hdr); magic {
	case magicPcapMicroLE, magicPcapMicroBE, magicPcapNanoLE, magicPcapNanoBE:
		if len(hdr) < 24 {
			return nil, fmt.Errorf("open capture %s: pcap file header: %w", path, ErrTruncated)
		}
		order := binary.ByteOrder(binary.LittleEndian)
		if magic == magicPcapMicroBE || magic == magicPcapNanoBE {
			order = binary.BigEndian
		}
		if maj, min := order.Uint16(hdr[4:]), order.Uint16(hdr[6:]); maj != 2 || min != 4 {
			return nil, s.notCapture(fmt.Sprintf("pcap version %d.%d (only 2.4 exists)", maj, min))
		}
		// The low 16 bits are the link type; the high ones carry FCS flags.
		// (pcapgo keeps only 8 bits, so read it here).
		lt := LinkType(order.Uint32(hdr[20:]))
		r, err := pcapgo.NewReader(in)
		if err != nil {
			return nil, s.readErr(err)
		}
		// Like libpcap, accept packets longer than the header's snap
		// length (some writers do not enforce it) up to maxSnapLen, and
		// no longer: pcapgo sizes its buffer from this value.
		r.SetSnaplen(maxSnapLen)
		s.r = r
		s.linkType = lt
		s.in, s.order, s.nanoMul = in, order, 1000
		if magic == magicPcapNanoLE || magic == magicPcapNanoBE {
			s.nanoMul = 1
		}
	case magicPcapNG:
		s.framer = &ngFramer{r: in}
		r, err := pcapgo.NewNgReader(s.framer, pcapgo.NgReaderOptions{WantMixedLinkType: true})
		if err != nil {
			return nil, s.readErr(err)
		}
		s.r = r
		s.ng = true
	default:
		return nil, s.notCapture(fmt.Sprintf("magic bytes %x", hdr[:4]))
	}
	return s, nil
}

func (s *fileSource) notCapture(got string) error {
	return fmt.Errorf("open capture %s: %w: expected pcap (magic a1b2c3d4 or a1b23c4d, either byte order) or pcapng (0a0d0d0a), optionally gzip-compressed, got %s",
		s.path, ErrNotCapture, got)
}

// readErr turns a reader error into one that names the file and wraps
// ErrTruncated or errCorrupt. truncated says the reader stopped inside a
// packet.
func (s *fileSource) readErr(err error) error {
	switch {
	case errors.Is(err, ErrTruncated), errors.Is(err, errCorrupt):
		return fmt.Errorf("read capture %s after %d packets: %w", s.path, s.count.packets.Load(), err)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return fmt.Errorf("read capture %s after %d packets: %w", s.path, s.count.packets.Load(), ErrTruncated)
	case errors.Is(err, gzip.ErrChecksum), errors.Is(err, gzip.ErrHeader):
		return fmt.Errorf("read capture %s after %d packets: %w: %w", s.path, s.count.packets.Load(), errCorrupt, err)
	}
	return fmt.Errorf("read capture %s after %d packets: %w: %v", s.path, s.count.packets.Load(), errCorrupt, err)
}

// Next returns the next packet. Data is valid until the next call.
func (s *fileSource) Next() (Packet, error) {
	if s.err != nil {
		return Packet{}, s.err
	}
	data, ci, err := s.r.ZeroCopyReadPacketData()
	if err != nil {
		if err == io.EOF && (s.ng || ci.CaptureLength == 0) {
			// A clean end between two records: pcapgo reports io.EOF
			// only when no byte of the next record was there (the
			// pcapng framer reports a cut block as ErrTruncated).
			s.err = io.EOF
		} else {
			s.err = s.readErr(err)
		}
		return Packet{}, s.err
	}
	lt := s.linkType
	if s.ng {
		// The framer never reads past the block pcapgo is in, so its
		// last packet block is this packet's.
		lt = s.framer.pktLinkType
	}
	s.count.add(len(data))
	return Packet{
		Data:      data,
		Timestamp: ci.Timestamp,
		Length:    ci.Length,
		LinkType:  lt,
		Interface: s.name,
	}, nil
}

// Stats returns the packets and bytes read so far. It is safe to call from
// any goroutine.
func (s *fileSource) Stats() Stats { return s.count.stats() }

// Close closes the file.
func (s *fileSource) Close() error {
	if s.gz != nil {
		s.gz.Close()
	}
	return s.f.Close()
}
