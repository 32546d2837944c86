package sensor

import (
	"cmp"
	"context"
	"errors"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/iomt-sensor/iomt-sensor/protocols"
	"github.com/iomt-sensor/iomt-sensor/sensor/capture"
	"github.com/iomt-sensor/iomt-sensor/sensor/inventory"
)

// NewWorkers returns n workers that share one capture, split between them
// by capture.PrefetchShards with decode.FlowHash, and one inventory.
//
// Every worker's shard returns the packets at which the capture's clock
// ticks (capture.ShardTick, the sweep period), so all of them sweep at the
// same packet times; the inventory advances (and emits its events) only when
// all of them got there, and the anomaly detector receives the
// observations of that second in packet order. The events are therefore
// the same on every replay of a capture with the same n.
func NewWorkers(n int, cfg Config, specs []protocols.Spec, inv *inventory.Inventory) []*Worker {
	if n <= 1 {
		return []*Worker{NewWorker(cfg, specs, inv)}
	}
	g := &group{inv: inv, cfg: cfg, parties: n}
	g.cond.L = &g.mu
	ws := make([]*Worker, n)
	for i := range ws {
		ws[i] = newWorker(cfg, specs, inv, g)
	}
	return ws
}

// DefaultWorkers is how many workers share a replay unless told otherwise:
// one per core the process may use, up to eight (beyond, the reader and the
// inventory are the limit).
func DefaultWorkers() int { return min(runtime.GOMAXPROCS(0), 8) }

// RunAll runs each worker on its source, each in its own goroutine (see
// Run), until all are done. It closes each source as soon as its worker is
// done, so that a shard's reader is not held up, and returns the sources'
// errors, joined.
func RunAll(ctx context.Context, srcs []capture.Source, ws []*Worker) error {
	errs := make([]error, len(ws))
	var wg sync.WaitGroup
	for i := range ws {
		wg.Go(func() {
			errs[i] = Run(ctx, srcs[i], ws[i])
			srcs[i].Close() // lets the reader go on for the others
		})
	}
	wg.Wait()
	return errors.Join(slices.Compact(errs)...)
}

// group ties the workers of one capture together at each inventory tick.
type group struct {
	inv *inventory.Inventory
	cfg Config

	mu      sync.Mutex
	cond    sync.Cond
	parties int // workers still feeding
	arrived int // workers waiting at the tick
	gen     uint64
	now     time.Time
	pending []*invOp // observations for the anomaly detector, by packet
}

// advance waits until every worker reached the tick at now, then advances
// the inventory once.
func (g *group) advance(now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.arrived++
	g.now = now
	if g.arrived == g.parties {
		g.tick()
		return
	}
	for gen := g.gen; gen == g.gen; {
		g.cond.Wait()
	}
}

// leave takes a worker that has finished out of the group.
func (g *group) leave() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.parties--
	if g.arrived > 0 && g.arrived == g.parties {
		g.tick()
	}
	if g.parties == 0 {
		g.raise()
	}
}

// tick runs the detector, advances the inventory and releases the workers.
// g.mu is held.
func (g *group) tick() {
	g.raise()
	g.inv.Advance(g.now)
	g.arrived = 0
	g.gen++
	g.cond.Broadcast()
}

// anomaly holds an observation for the detector until the next tick.
func (g *group) anomaly(op *invOp) {
	c := *op
	g.mu.Lock()
	g.pending = append(g.pending, &c)
	g.mu.Unlock()
}

// raise passes the held observations to the detector in packet order.
// g.mu is held.
func (g *group) raise() {
	slices.SortStableFunc(g.pending, func(a, b *invOp) int { return cmp.Compare(a.seq, b.seq) })
	for _, op := range g.pending {
		anomalies(g.inv, g.cfg.Anomalies, op)
	}
	clear(g.pending)
	g.pending = g.pending[:0]
}
