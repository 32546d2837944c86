// Package capture reads packets from capture files (pcap, pcapng, gzip) and
// from live interfaces (Linux AF_PACKET), without libpcap.
package capture

import (
	"errors"
	"time"
)

// LinkType is a pcap LINKTYPE_ value. It is our own 16-bit type because
// gopacket's layers.LinkType is 8 bits wide and cannot hold LINUX_SLL2 (276);
// pcapgo's readers truncate it the same way, so read the header's value
// yourself.
type LinkType uint16

// Link types the sensor decodes.
const (
	LinkNull     LinkType = 0   // BSD loopback, host byte order family
	LinkEthernet LinkType = 1   // IEEE 802.3 Ethernet
	LinkRawDLT12 LinkType = 12  // raw IP (OpenBSD value of DLT_RAW)
	LinkRawDLT14 LinkType = 14  // raw IP (BSD/OS value of DLT_RAW)
	LinkRaw      LinkType = 101 // raw IPv4 or IPv6
	LinkLoop     LinkType = 108 // OpenBSD loopback, network byte order family
	LinkSLL      LinkType = 113 // Linux cooked capture v1
	LinkIPv4     LinkType = 228 // raw IPv4
	LinkIPv6     LinkType = 229 // raw IPv6
	LinkSLL2     LinkType = 276 // Linux cooked capture v2
)

// Packet is one captured frame. Data is owned by the Source and valid only
// until the next call to Next.
type Packet struct {
	Data      []byte
	Timestamp time.Time
	// Length is the frame's length on the wire; len(Data) may be smaller
	// when the capture was truncated by a snap length.
	Length   int
	LinkType LinkType
	// Interface names where the packet came from: the interface for live
	// capture, the file name for replay.
	Interface string
	// Foreign marks a packet that went to another shard (PrefetchShards):
	// only its Timestamp is set, to keep the worker's clock.
	Foreign bool
	// Skipped counts the packets of other shards passed over just before
	// this one (PrefetchShards), which the consumer never sees.
	Skipped int
}

// Source yields packets. Sources are used by one goroutine.
type Source interface {
	// Next returns the next packet, or io.EOF when there are no more.
	Next() (Packet, error)
	// Stats returns counters so far. Unlike Next, it may be called from
	// any goroutine (a metrics scrape, say), also while Next waits.
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
