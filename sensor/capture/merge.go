package capture

import (
	"errors"
	"fmt"
	"io"
)

// mergeSource merges several file sources by timestamp.
type mergeSource struct {
	srcs   []*fileSource
	heads  []Packet // the next packet of each source, valid while it is in the heap
	heap   []int    // indexes into srcs, ordered by (heads[i].Timestamp, i)
	last   int      // source whose packet Next returned last, or -1
	primed bool     // the heads were read
	warn   func(error)
	count  counters
}

// OpenFiles opens several capture files (see OpenFile) and merges their
// packets in timestamp order; packets with equal timestamps come in the
// order of paths, so the output is deterministic. A file that turns out to be
// truncated or corrupt while reading is reported through warn (which may be
// nil) and the merge goes on with the others. Next returns io.EOF when all
// files are read. A file that cannot be opened or is not a capture fails
// OpenFiles with an error naming it.
func OpenFiles(paths []string, warn func(error)) (Source, error) {
	if len(paths) == 0 {
		return nil, errors.New("open captures: no files given")
	}
	m := &mergeSource{last: -1, warn: warn}
	for _, p := range paths {
		s, err := OpenFile(p)
		if err != nil {
			m.Close()
			return nil, err
		}
		m.srcs = append(m.srcs, s.(*fileSource))
	}
	m.heads = make([]Packet, len(m.srcs))
	m.heap = make([]int, 0, len(m.srcs))
	return m, nil
}

// prime reads the first packet of every file, at the first Next: a merge
// of one classic pcap file read by fillBatch never calls Next.
func (m *mergeSource) prime() {
	m.primed = true
	for i := range m.srcs {
		m.advance(i)
	}
}

// canFillBatch reports whether the merge is of one classic pcap file,
// which then fills batches in blocks as the file does (see Prefetch).
func (m *mergeSource) canFillBatch() bool {
	return !m.primed && len(m.srcs) == 1 && m.srcs[0].canFillBatch()
}

// fillBatch fills b from the only file. Like Next, it turns the file's end
// by truncation or corruption into a warning and io.EOF.
func (m *mergeSource) fillBatch(b *batch) error {
	err := m.srcs[0].fillBatch(b)
	for i := range b.pkts {
		m.count.add(int(b.pkts[i].end - b.pkts[i].off))
	}
	if err != nil && err != io.EOF {
		if m.warn != nil {
			m.warn(err)
		}
		return io.EOF
	}
	return err
}

// advance reads the next packet of source i and puts it in the heap, or
// drops the source at its end.
func (m *mergeSource) advance(i int) {
	p, err := m.srcs[i].Next()
	if err != nil {
		if err != io.EOF && m.warn != nil {
			m.warn(err)
		}
		return
	}
	m.heads[i] = p
	m.heap = append(m.heap, i)
	m.up(len(m.heap) - 1)
}

func (m *mergeSource) less(a, b int) bool {
	ta, tb := m.heads[a].Timestamp, m.heads[b].Timestamp
	if ta.Equal(tb) {
		return a < b
	}
	return ta.Before(tb)
}

func (m *mergeSource) up(j int) {
	for j > 0 {
		parent := (j - 1) / 2
		if !m.less(m.heap[j], m.heap[parent]) {
			return
		}
		m.heap[j], m.heap[parent] = m.heap[parent], m.heap[j]
		j = parent
	}
}

func (m *mergeSource) down(j int) {
	n := len(m.heap)
	for {
		l := 2*j + 1
		if l >= n {
			return
		}
		c := l
		if r := l + 1; r < n && m.less(m.heap[r], m.heap[l]) {
			c = r
		}
		if !m.less(m.heap[c], m.heap[j]) {
			return
		}
		m.heap[j], m.heap[c] = m.heap[c], m.heap[j]
		j = c
	}
}

// Next returns the earliest pending packet. Its Data is valid until the next
// call.
func (m *mergeSource) Next() (Packet, error) {
	if m.srcs == nil {
		return Packet{}, io.EOF
	}
	if !m.primed {
		m.prime()
	}
	if m.last >= 0 {
		// Only now may the last source overwrite its packet buffer.
		m.advance(m.last)
		m.last = -1
	}
	if len(m.heap) == 0 {
		return Packet{}, io.EOF
	}
	i := m.heap[0]
	n := len(m.heap) - 1
	m.heap[0] = m.heap[n]
	m.heap = m.heap[:n]
	m.down(0)
	m.last = i
	p := m.heads[i]
	m.count.add(len(p.Data))
	return p, nil
}

// Stats returns the packets and bytes delivered so far. It is safe to call
// from any goroutine.
func (m *mergeSource) Stats() Stats { return m.count.stats() }

// Close closes every file.
func (m *mergeSource) Close() error {
	var errs []error
	for _, s := range m.srcs {
		if err := s.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close %s: %w", s.path, err))
		}
	}
	m.srcs = nil
	m.heap = nil
	return errors.Join(errs...)
}
