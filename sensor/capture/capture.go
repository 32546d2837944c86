// Package capture reads packets from capture files (pcap, pcapng, gzip) and
// from live interfaces (Linux AF_PACKET), without libpcap.
package capture

import (
	"errors"
	"time"

	"github.com/google/gopacket/layers"
)

// Packet is one captured frame. Data is owned by the Source and valid only
// until the next call to Next.
type Packet struct {
	Data      []byte
	Timestamp time.Time
	// Length is the frame's length on the wire; len(Data) may be smaller
	// when the capture was truncated by a snap length.
	Length   int
	LinkType layers.LinkType
	// Interface names where the packet came from: the interface for live
	// capture, the file name for replay.
	Interface string
}

// Source yields packets. Sources are used by one goroutine.
type Source interface {
	// Next returns the next packet, or io.EOF when there are no more.
	Next() (Packet, error)
	// Stats returns counters so far.
	Stats() Stats
	Close() error
}

// Stats are a source's counters.
type Stats struct {
	Packets uint64
	Bytes   uint64
	// KernelDrops counts packets the kernel dropped before we read them
	// (live capture only).
	KernelDrops uint64
	// KernelFreezes counts ring queue freezes (TPACKET_V3, live only).
	KernelFreezes uint64
}

// Sentinel errors.
var (
	// ErrNotCapture: the file is not pcap or pcapng (gzip-compressed or not).
	ErrNotCapture = errors.New("not a pcap or pcapng capture")
	// ErrTruncated: a capture file ends in the middle of a packet or block.
	ErrTruncated = errors.New("capture file is truncated")
)
