//go:build linux

package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TPACKET_V3 ring layout (linux/if_packet.h).
const (
	blockStatusOff = 8  // tpacket_block_desc.hdr.bh1.block_status
	blockNumOff    = 12 // num_pkts
	blockFirstOff  = 16 // offset_to_first_pkt
	blockLenOff    = 20 // blk_len

	tpNextOff     = 0 // tpacket3_hdr.tp_next_offset
	tpSecOff      = 4
	tpNsecOff     = 8
	tpSnaplenOff  = 12
	tpLenOff      = 16
	tpStatusOff   = 20
	tpMacOff      = 24
	tpVlanTCIOff  = 32
	tpVlanTPIDOff = 36
	tpHdrLen      = 48 // sizeof(struct tpacket3_hdr)

	tpStatusVLANValid     = 0x10 // TP_STATUS_VLAN_VALID
	tpStatusVLANTPIDValid = 0x40 // TP_STATUS_VLAN_TPID_VALID

	arphrdEther    = 1
	arphrdLoopback = 772
	arphrdNone     = 0xfffe
)

// liveSource reads a TPACKET_V3 ring.
type liveSource struct {
	iface   string
	link    LinkType
	snap    int
	pollMs  int
	fd      int
	efd     int // eventfd that Close writes to wake a pending poll
	ring    []byte
	blkSize int
	numBlk  int
	cur     int  // current block
	inBlock bool // cur is ours (TP_STATUS_USER) and being read
	left    int  // packets left in cur
	off     int  // offset in cur of the next packet
	pfds    [2]unix.PollFd
	vlanBuf []byte
	mu      sync.Mutex // held by Next, Stats and Close's teardown
	closed  atomic.Bool
	count   counters
	// statsMu guards the fd for PACKET_STATISTICS and the kernel totals,
	// so that Stats never waits for a Next blocked in poll.
	statsMu       sync.Mutex
	kernelDrops   uint64
	kernelFreezes uint64
	tornDown      bool
}

// OpenLive captures from a network interface with an AF_PACKET socket and a
// TPACKET_V3 memory-mapped ring (Linux only, no cgo; needs CAP_NET_RAW).
// Packet.Data points into the ring and is valid until the next call to Next
// (or Close). Timestamps are the kernel's receive times. Frames whose VLAN
// tag the NIC stripped get it back, so Data is the frame as on the wire.
//
// Next returns ErrTimeout when nothing arrived within opts.PollTimeout, and
// io.EOF once Close was called, also when Close runs on another goroutine
// while Next waits. Stats.KernelDrops and KernelFreezes accumulate the
// kernel's PACKET_STATISTICS.
func OpenLive(iface string, opts LiveOptions) (Source, error) {
	opts = opts.withDefaults()
	fail := func(what string, err error) error {
		return fmt.Errorf("capture on %s: %s: %w", iface, what, err)
	}
	page := os.Getpagesize()
	if opts.BlockSize%page != 0 {
		return nil, fmt.Errorf("capture on %s: block size %d is not a multiple of the page size %d", iface, opts.BlockSize, page)
	}
	if len(opts.Filter) > 4096 {
		return nil, fmt.Errorf("capture on %s: filter has %d instructions, the kernel takes at most 4096", iface, len(opts.Filter))
	}
	ifi, err := net.InterfaceByName(iface)
	if err != nil {
		return nil, fail("find interface", err)
	}
	// Protocol 0: the socket receives nothing until bind, so nothing
	// slips in before the filter is attached.
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fail("open AF_PACKET socket (needs CAP_NET_RAW)", err)
	}
	s := &liveSource{iface: iface, snap: opts.SnapLen, fd: fd, efd: -1, blkSize: opts.BlockSize, numBlk: opts.NumBlocks}
	s.pollMs = int(opts.PollTimeout / time.Millisecond)
	if s.pollMs < 1 {
		s.pollMs = 1
	}
	ok := false
	defer func() {
		if !ok {
			s.teardown()
		}
	}()
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_VERSION, unix.TPACKET_V3); err != nil {
		return nil, fail("set TPACKET_V3", err)
	}
	if prog := s.program(opts); prog != nil {
		fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
		if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &fprog); err != nil {
			return nil, fail("attach filter", err)
		}
	}
	frame := 2048
	if opts.BlockSize < frame {
		frame = opts.BlockSize
	}
	tov := uint32(opts.BlockTimeout / time.Millisecond)
	if tov == 0 {
		tov = 1
	}
	req := unix.TpacketReq3{
		Block_size:       uint32(opts.BlockSize),
		Block_nr:         uint32(opts.NumBlocks),
		Frame_size:       uint32(frame),
		Frame_nr:         uint32(opts.BlockSize / frame * opts.NumBlocks),
		Retire_blk_tov:   tov,
		Feature_req_word: 0,
	}
	if err := unix.SetsockoptTpacketReq3(fd, unix.SOL_PACKET, unix.PACKET_RX_RING, &req); err != nil {
		return nil, fail(fmt.Sprintf("set up a ring of %d blocks of %d bytes", opts.NumBlocks, opts.BlockSize), err)
	}
	s.ring, err = unix.Mmap(fd, 0, opts.BlockSize*opts.NumBlocks, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return nil, fail("map the ring", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifi.Index}); err != nil {
		return nil, fail("bind", err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return nil, fail("read the hardware type", err)
	}
	ll, _ := sa.(*unix.SockaddrLinklayer)
	switch {
	case ll == nil:
		return nil, fail("read the hardware type", errors.New("not a link-layer address"))
	case ll.Hatype == arphrdEther || ll.Hatype == arphrdLoopback:
		s.link = LinkEthernet
	case ll.Hatype == arphrdNone:
		s.link = LinkRaw
	default:
		return nil, fmt.Errorf("capture on %s: hardware type %d is not supported (Ethernet, loopback and raw IP are)", iface, ll.Hatype)
	}
	if len(opts.Filter) > 0 && s.link != LinkEthernet {
		return nil, fmt.Errorf("capture on %s: filters are compiled for Ethernet, the interface is raw IP", iface)
	}
	if !opts.NoPromiscuous {
		mreq := unix.PacketMreq{Ifindex: int32(ifi.Index), Type: unix.PACKET_MR_PROMISC}
		if err := unix.SetsockoptPacketMreq(fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, &mreq); err != nil {
			return nil, fail("enter promiscuous mode", err)
		}
	}
	if opts.FanoutGroup != 0 {
		v := int(opts.FanoutGroup) | (unix.PACKET_FANOUT_HASH|unix.PACKET_FANOUT_FLAG_DEFRAG)<<16
		if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_FANOUT, v); err != nil {
			return nil, fail(fmt.Sprintf("join fanout group %d", opts.FanoutGroup), err)
		}
	}
	if s.efd, err = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK); err != nil {
		return nil, fail("create eventfd", err)
	}
	s.pfds = [2]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN | unix.POLLERR}, {Fd: int32(s.efd), Events: unix.POLLIN}}
	s.vlanBuf = make([]byte, 0, opts.SnapLen+4)
	ok = true
	return s, nil
}

// program returns the socket filter: the caller's with every accepting
// return capped at the snap length, or a lone "ret #snaplen" when the snap
// length is below the default, or nil.
func (s *liveSource) program(opts LiveOptions) []unix.SockFilter {
	const retK = 0x06 // BPF_RET|BPF_K
	if len(opts.Filter) == 0 {
		if opts.SnapLen >= maxSnapLen {
			return nil
		}
		return []unix.SockFilter{{Code: retK, K: uint32(opts.SnapLen)}}
	}
	prog := make([]unix.SockFilter, len(opts.Filter))
	for i, ins := range opts.Filter {
		prog[i] = unix.SockFilter{Code: ins.Op, Jt: ins.Jt, Jf: ins.Jf, K: ins.K}
		if ins.Op == retK && ins.K > uint32(opts.SnapLen) {
			prog[i].K = uint32(opts.SnapLen)
		}
	}
	return prog
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

func (s *liveSource) blockStatus(blk int) *uint32 {
	return (*uint32)(unsafe.Pointer(&s.ring[blk*s.blkSize+blockStatusOff]))
}

// Next returns the next packet from the ring.
func (s *liveSource) Next() (Packet, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		if s.closed.Load() || s.tornDown {
			return Packet{}, io.EOF
		}
		if s.inBlock {
			if s.left > 0 {
				if p, ok := s.packet(); ok {
					return p, nil
				}
			}
			// Done with this block: hand it back to the kernel.
			atomic.StoreUint32(s.blockStatus(s.cur), unix.TP_STATUS_KERNEL)
			s.cur = (s.cur + 1) % s.numBlk
			s.inBlock = false
		}
		if atomic.LoadUint32(s.blockStatus(s.cur))&unix.TP_STATUS_USER != 0 {
			b := s.ring[s.cur*s.blkSize:]
			s.inBlock = true
			s.left = int(binary.NativeEndian.Uint32(b[blockNumOff:]))
			s.off = int(binary.NativeEndian.Uint32(b[blockFirstOff:]))
			continue
		}
		s.pfds[0].Revents, s.pfds[1].Revents = 0, 0
		n, err := unix.Poll(s.pfds[:], s.pollMs)
		if err != nil {
			if err == unix.EINTR {
				continue
			}
			return Packet{}, fmt.Errorf("capture on %s: poll: %w", s.iface, err)
		}
		if s.pfds[1].Revents != 0 || s.closed.Load() {
			return Packet{}, io.EOF
		}
		if n == 0 {
			return Packet{}, ErrTimeout
		}
		if s.pfds[0].Revents&unix.POLLERR != 0 {
			if _, err := unix.GetsockoptInt(s.fd, unix.SOL_SOCKET, unix.SO_ERROR); err != nil {
				return Packet{}, fmt.Errorf("capture on %s: socket error: %w", s.iface, err)
			}
		}
	}
}

// packet decodes the packet at s.off in the current block and moves on.
// It reports false if the block's bookkeeping points outside the block.
func (s *liveSource) packet() (Packet, bool) {
	blk := s.ring[s.cur*s.blkSize : (s.cur+1)*s.blkSize]
	if s.off < 0 || s.off+tpHdrLen > len(blk) {
		s.left = 0
		return Packet{}, false
	}
	h := blk[s.off:]
	next := int(binary.NativeEndian.Uint32(h[tpNextOff:]))
	caplen := int(binary.NativeEndian.Uint32(h[tpSnaplenOff:]))
	wire := int(binary.NativeEndian.Uint32(h[tpLenOff:]))
	status := binary.NativeEndian.Uint32(h[tpStatusOff:])
	mac := int(binary.NativeEndian.Uint16(h[tpMacOff:]))
	if mac+caplen > len(h) {
		s.left = 0
		return Packet{}, false
	}
	data := h[mac : mac+caplen]
	ts := time.Unix(int64(binary.NativeEndian.Uint32(h[tpSecOff:])), int64(binary.NativeEndian.Uint32(h[tpNsecOff:]))).UTC()
	s.left--
	if next <= 0 {
		s.left = 0
	}
	s.off += next
	if status&tpStatusVLANValid != 0 && s.link == LinkEthernet && len(data) >= 12 {
		tpid := uint16(0x8100)
		if status&tpStatusVLANTPIDValid != 0 {
			tpid = binary.NativeEndian.Uint16(h[tpVlanTPIDOff:])
		}
		tci := uint16(binary.NativeEndian.Uint32(h[tpVlanTCIOff:]))
		v := append(s.vlanBuf[:0], data[:12]...)
		v = binary.BigEndian.AppendUint16(v, tpid)
		v = binary.BigEndian.AppendUint16(v, tci)
		v = append(v, data[12:]...)
		s.vlanBuf = v
		data = v
		wire += 4
	}
	if len(data) > s.snap {
		data = data[:s.snap]
	}
	s.count.add(len(data))
	return Packet{Data: data, Timestamp: ts, Length: wire, LinkType: s.link, Interface: s.iface}, true
}

// Stats returns the packets and bytes delivered and the kernel's drop and
// freeze counts so far (the kernel resets its counters on each read, so
// they are summed here). It is safe to call from any goroutine, also while
// Next waits.
func (s *liveSource) Stats() Stats {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	s.readKernelStats()
	st := s.count.stats()
	st.KernelDrops, st.KernelFreezes = s.kernelDrops, s.kernelFreezes
	return st
}

// readKernelStats adds the kernel's counters since the last read; statsMu
// must be held.
func (s *liveSource) readKernelStats() {
	if s.fd < 0 {
		return
	}
	if st, err := unix.GetsockoptTpacketStatsV3(s.fd, unix.SOL_PACKET, unix.PACKET_STATISTICS); err == nil {
		s.kernelDrops += uint64(st.Drops)
		s.kernelFreezes += uint64(st.Freeze_q_cnt)
	}
}

// Close stops the capture. It may be called from another goroutine while
// Next waits: that Next returns io.EOF. Packet data from the ring is
// invalid after Close.
func (s *liveSource) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	if s.efd >= 0 {
		var one [8]byte
		binary.NativeEndian.PutUint64(one[:], 1)
		unix.Write(s.efd, one[:])
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.teardown()
}

func (s *liveSource) teardown() error {
	if s.tornDown {
		return nil
	}
	s.tornDown = true
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	s.readKernelStats() // keep the last counts for Stats after Close
	var errs []error
	if s.ring != nil {
		errs = append(errs, unix.Munmap(s.ring))
		s.ring = nil
	}
	errs = append(errs, unix.Close(s.fd))
	s.fd = -1
	if s.efd >= 0 {
		errs = append(errs, unix.Close(s.efd))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close capture on %s: %w", s.iface, err)
	}
	return nil
}
