package capture

import (
	"math"
	"time"
)

// ShardTick is the period of a capture's Clock: the sensor's workers sweep
// their flows at its ticks, and PrefetchShards keeps them for every shard.
const ShardTick = time.Second

// Clock is a capture's packet clock: the latest packet time seen, which
// ticks once per ShardTick: at the first packet, then at the first packet
// that reaches ShardTick past the previous tick. Times that go back leave
// it where it is. A worker and PrefetchShards's shards keep one each, so
// that the workers sharing a capture tick at the same packets. The zero
// value has seen no packet.
type Clock struct {
	now, tick int64 // Unix nanoseconds; the clock ticks when it reaches tick
	started   bool
}

// Advance moves the clock to ts, in Unix nanoseconds, when ts is later
// than Now, and reports whether it moved and whether it ticked.
func (c *Clock) Advance(ts int64) (moved, ticked bool) {
	if c.started && ts <= c.now {
		return false, false
	}
	c.now = ts
	if c.started && ts < c.tick {
		return true, false
	}
	c.started, c.tick = true, ts+int64(ShardTick)
	return true, true
}

// Now returns the clock's time in Unix nanoseconds, math.MinInt64 before
// the first packet.
func (c *Clock) Now() int64 {
	if !c.started {
		return math.MinInt64
	}
	return c.now
}
