package capture

import "sync/atomic"

// counters are a source's packet and byte counts, written by the reading
// goroutine and read by any (a metrics scrape, say).
type counters struct {
	packets, bytes atomic.Uint64
}

func (c *counters) add(n int) {
	c.packets.Add(1)
	c.bytes.Add(uint64(n))
}

func (c *counters) stats() Stats {
	return Stats{Packets: c.packets.Load(), Bytes: c.bytes.Load()}
}
