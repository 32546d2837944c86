package capture

import (
	"errors"
	"time"

	"golang.org/x/net/bpf"
)

// ErrTimeout is returned by a live source's Next when no packet arrived
// within LiveOptions.PollTimeout. It is not fatal: call Next again. It lets
// the reading goroutine do periodic work on a quiet link.
var ErrTimeout = errors.New("capture: no packet within the poll timeout")

// LiveOptions configure OpenLive. The zero value gives sane defaults for a
// small (2-core) sensor: a 32 MiB ring of 32 blocks of 1 MiB, whole packets,
// promiscuous mode, no filter, no fanout.
type LiveOptions struct {
	// SnapLen caps the bytes kept per packet; 0 means 262144 (whole
	// packets).
	SnapLen int
	// BlockSize is the size of one TPACKET_V3 ring block, a multiple of
	// the page size; 0 means 1 MiB. A packet larger than a block is cut.
	BlockSize int
	// NumBlocks is the number of ring blocks; 0 means 32.
	NumBlocks int
	// BlockTimeout is how long the kernel fills a block before handing it
	// over even if it is not full, i.e. the worst latency on a quiet link;
	// 0 means 10 ms. The kernel counts it in milliseconds.
	BlockTimeout time.Duration
	// PollTimeout is how long Next waits before returning ErrTimeout; 0
	// means 250 ms. It should exceed BlockTimeout.
	PollTimeout time.Duration
	// Filter, if not empty, is a classic BPF program (see CompileFilter)
	// run by the kernel on each frame; only frames it accepts are captured.
	// The kernel runs it before VLAN tags stripped by the NIC (or veth) are
	// put back, so on such links "vlan" matches nothing and "ip" also
	// matches tagged IPv4.
	Filter []bpf.RawInstruction
	// NoPromiscuous leaves the interface out of promiscuous mode.
	NoPromiscuous bool
	// FanoutGroup, if not 0, joins a PACKET_FANOUT_HASH group with this ID:
	// sources on the same interface with the same group split the traffic
	// by flow, both directions of a flow going to the same source, so that
	// each can run on its own core without locks.
	FanoutGroup uint16
}

func (o LiveOptions) withDefaults() LiveOptions {
	if o.SnapLen <= 0 || o.SnapLen > maxSnapLen {
		o.SnapLen = maxSnapLen
	}
	if o.BlockSize <= 0 {
		o.BlockSize = 1 << 20
	}
	if o.NumBlocks <= 0 {
		o.NumBlocks = 32
	}
	if o.BlockTimeout <= 0 {
		o.BlockTimeout = 10 * time.Millisecond
	}
	if o.PollTimeout <= 0 {
		o.PollTimeout = 250 * time.Millisecond
	}
	return o
}
