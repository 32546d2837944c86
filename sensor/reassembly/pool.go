package reassembly

import "math/bits"

// Size classes of segment buffers: powers of two from minClassSize to
// maxClassSize. A payload larger than maxClassSize is buffered as several
// pieces.
const (
	minClassShift = 7  // 128 bytes
	maxClassShift = 16 // 64 KiB
	numClasses    = maxClassShift - minClassShift + 1
	maxClassSize  = 1 << maxClassShift
)

// segment is one buffered out-of-order piece of a stream. data aliases the
// start of a buffer whose capacity is the segment's size class.
type segment struct {
	next *segment
	data []byte
	seq  uint32
}

func (g *segment) end() uint32 { return g.seq + uint32(len(g.data)) }

// Config bounds the memory of reassembly. The zero value of a field selects
// its default.
type Config struct {
	// MaxBufferedPerStream is the number of out-of-order payload bytes one
	// direction of one flow may hold. Default 64 KiB, at most 1 GiB.
	MaxBufferedPerStream int
	// MaxPendingSegments is the number of out-of-order segments one direction
	// of one flow may hold. Default 64, at most 65535.
	MaxPendingSegments int
	// MaxPoolBytes caps the buffer memory of the Pool across all its streams,
	// counted in whole buffers (a buffer is the payload size rounded up to a
	// power of two, at least 128 bytes). Default 64 MiB.
	MaxPoolBytes int
}

// Defaults of Config.
const (
	DefaultMaxBufferedPerStream = 64 << 10
	DefaultMaxPendingSegments   = 64
	DefaultMaxPoolBytes         = 64 << 20
)

func (c Config) withDefaults() Config {
	if c.MaxBufferedPerStream <= 0 {
		c.MaxBufferedPerStream = DefaultMaxBufferedPerStream
	}
	if c.MaxBufferedPerStream > 1<<30 {
		c.MaxBufferedPerStream = 1 << 30
	}
	if c.MaxPendingSegments <= 0 {
		c.MaxPendingSegments = DefaultMaxPendingSegments
	}
	if c.MaxPendingSegments > 0xffff {
		c.MaxPendingSegments = 0xffff
	}
	if c.MaxPoolBytes <= 0 {
		c.MaxPoolBytes = DefaultMaxPoolBytes
	}
	return c
}

// Stats counts what the reassembler did. Counters only grow.
type Stats struct {
	Delivered      uint64 // bytes handed to Handler.Data
	Retransmitted  uint64 // segments whose bytes were all already seen
	Overlaps       uint64 // segments trimmed because part of them was already seen
	Inconsistent   uint64 // segments whose bytes differed from bytes already seen (first received won); see README
	OutOfOrder     uint64 // segments (or pieces) copied into a buffer to wait for a hole
	Gaps           uint64 // calls to Handler.Gap
	GapBytes       uint64 // bytes reported lost through Handler.Gap
	DroppedOverCap uint64 // times a cap forced the stream to stop waiting for a hole
	OutOfWindow    uint64 // segments ignored because they start implausibly far ahead (more than 1 GiB)
	AfterFIN       uint64 // segments (or their tails) ignored because they lie after the FIN
	Skipped        uint64 // bytes passed over without delivery because the Handler asked (Stream.Skip), arrived or not
}

// Pool holds the out-of-order segment buffers of one worker, reuses them from
// free lists and enforces a byte cap across all the streams that use it. A
// Pool, like the Streams that use it, belongs to one goroutine: it has no lock.
type Pool struct {
	cfg   Config
	free  [numClasses]*segment
	inUse int // bytes of buffers held by streams
	held  int // inUse plus bytes of buffers on the free lists; never above cfg.MaxPoolBytes
	stats Stats
}

// NewPool returns a Pool with the limits of cfg (zero fields take defaults).
func NewPool(cfg Config) *Pool {
	return &Pool{cfg: cfg.withDefaults()}
}

// Config returns the limits in effect.
func (p *Pool) Config() Config { return p.cfg }

// Stats returns the counters accumulated over all streams using p.
func (p *Pool) Stats() Stats { return p.stats }

// InUse returns the bytes of buffers currently holding out-of-order data.
func (p *Pool) InUse() int { return p.inUse }

// Held returns the bytes of buffers allocated by p: those in use and those
// kept on its free lists for reuse.
func (p *Pool) Held() int { return p.held }

// Trim lets the garbage collector have the buffers on the free lists, for
// instance after a burst of out-of-order traffic has passed.
func (p *Pool) Trim() {
	for c := range p.free {
		for g := p.free[c]; g != nil; {
			next := g.next
			g.next, g.data = nil, nil
			p.held -= classSize(c)
			g = next
		}
		p.free[c] = nil
	}
}

// class returns the size class index for n bytes (0 < n <= maxClassSize).
func class(n int) int {
	if n <= 1<<minClassShift {
		return 0
	}
	return bits.Len(uint(n-1)) - minClassShift
}

func classSize(c int) int { return 1 << (c + minClassShift) }

// get returns a segment whose buffer holds n bytes (1 <= n <= maxClassSize),
// or nil when the global cap does not allow it.
func (p *Pool) get(n int) *segment {
	c := class(n)
	size := classSize(c)
	if g := p.free[c]; g != nil {
		p.free[c] = g.next
		g.next = nil
		g.data = g.data[:n]
		p.inUse += size
		return g
	}
	if p.inUse+size > p.cfg.MaxPoolBytes {
		return nil
	}
	// Make room by letting the garbage collector have free buffers of other
	// classes, largest first.
	for k := numClasses - 1; k >= 0 && p.held+size > p.cfg.MaxPoolBytes; k-- {
		for p.free[k] != nil && p.held+size > p.cfg.MaxPoolBytes {
			g := p.free[k]
			p.free[k] = g.next
			g.next, g.data = nil, nil
			p.held -= classSize(k)
		}
	}
	p.inUse += size
	p.held += size
	return &segment{data: make([]byte, n, size)}
}

// put returns g's buffer to its free list.
func (p *Pool) put(g *segment) {
	c := class(cap(g.data))
	p.inUse -= classSize(c)
	g.data = g.data[:0]
	g.seq = 0
	g.next = p.free[c]
	p.free[c] = g
}
