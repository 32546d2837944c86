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
//
// One feeder goroutine applies the updates of all n workers to the
// inventory, so that the inventory's data stays in one core's caches and
// its lock is not handed between feeders.
func NewWorkers(n int, cfg Config, specs []protocols.Spec, inv *inventory.Inventory) []*Worker {
	if n <= 1 {
		return []*Worker{NewWorker(cfg, specs, inv)}
	}
	g := &group{
		inv:     inv,
		cfg:     cfg,
		ops:     make(chan heldBatch, 2*n),
		held:    make([][]heldBatch, n),
		waiting: make([]bool, n),
		parties: n,
	}
	ws := make([]*Worker, n)
	for i := range ws {
		ws[i] = newWorker(cfg, specs, inv, g)
		ws[i].index = i
	}
	g.workers = ws
	go g.feed()
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
// Its feed goroutine owns every field.
type group struct {
	inv     *inventory.Inventory
	cfg     Config
	workers []*Worker
	ops     chan heldBatch // from every worker, each in its own order

	held    [][]heldBatch // by worker: batches not yet applied
	waiting []bool        // by worker: it reached the tick at now
	parties int           // workers still feeding
	arrived int           // workers waiting at the tick
	now     time.Time
	pending []*invOp // observations for the anomaly detector, by packet
}

// heldBatch is a worker's batch of updates, applied from next on; done
// marks the worker's end instead.
type heldBatch struct {
	worker int
	ops    []invOp
	next   int
	done   bool
}

// feed applies the workers' batches until every worker is done. A
// worker's updates after a tick wait until every worker reached the tick.
func (g *group) feed() {
	for g.parties > 0 {
		b := <-g.ops
		g.held[b.worker] = append(g.held[b.worker], b)
		for {
			for i := range g.held {
				g.drain(i)
			}
			if g.parties == 0 || g.arrived < g.parties {
				break
			}
			g.tick()
		}
	}
}

// drain applies worker i's held batches up to its next tick.
func (g *group) drain(i int) {
	for !g.waiting[i] && len(g.held[i]) > 0 {
		b := &g.held[i][0]
		w := g.workers[i]
		if b.done {
			g.parties--
			if g.parties == 0 {
				g.raise() // before Close returns: the detector's sink may go then
			}
			close(w.fed)
		}
		for b.next < len(b.ops) && !g.waiting[i] {
			op := &b.ops[b.next]
			b.next++
			switch {
			case !op.advance.IsZero():
				g.waiting[i] = true
				g.arrived++
				g.now = op.advance
			case apply(g.inv, op) && g.cfg.Anomalies != nil:
				c := *op
				g.pending = append(g.pending, &c)
			}
			*op = invOp{} // drop references to facts
		}
		if b.next < len(b.ops) {
			return // the rest waits for the tick
		}
		if b.ops != nil {
			w.free <- b.ops
		}
		g.held[i] = append(g.held[i][:0], g.held[i][1:]...)
	}
}

// tick runs the detector, advances the inventory and lets the workers go
// on.
func (g *group) tick() {
	g.raise()
	g.inv.Advance(g.now)
	g.arrived = 0
	clear(g.waiting)
}

// raise passes the held observations to the detector in packet order.
func (g *group) raise() {
	slices.SortStableFunc(g.pending, func(a, b *invOp) int { return cmp.Compare(a.seq, b.seq) })
	for _, op := range g.pending {
		anomalies(g.inv, g.cfg.Anomalies, op)
	}
	clear(g.pending)
	g.pending = g.pending[:0]
}
