package publish

// queued is one message waiting in a queue, tagged with its arrival order.
type queued struct {
	seq uint64
	e   entry
}

// fifo is a slice-backed first-in first-out list.
type fifo struct {
	items []queued
	head  int
}

func (f *fifo) len() int { return len(f.items) - f.head }

func (f *fifo) push(q queued) { f.items = append(f.items, q) }

func (f *fifo) peek() queued { return f.items[f.head] }

func (f *fifo) pop() queued {
	q := f.items[f.head]
	f.items[f.head] = queued{} // release the payload
	f.head++
	if f.head == len(f.items) {
		f.items, f.head = f.items[:0], 0
	} else if f.head > 1024 && f.head*2 > len(f.items) {
		n := copy(f.items, f.items[f.head:])
		clear(f.items[n:])
		f.items, f.head = f.items[:n], 0
	}
	return q
}

// boundedQueue holds at most limit messages in arrival order. When full,
// the oldest asset.update message is evicted first, then the oldest of
// any other kind. It is not safe for concurrent use.
type boundedQueue struct {
	limit   int
	seq     uint64
	updates fifo // asset.update messages
	others  fifo // everything else
}

func (q *boundedQueue) len() int { return q.updates.len() + q.others.len() }

// push appends e and reports whether an older message was evicted.
func (q *boundedQueue) push(e entry) (evicted bool) {
	if q.len() >= q.limit {
		if q.updates.len() > 0 {
			q.updates.pop()
		} else {
			q.others.pop()
		}
		evicted = true
	}
	q.seq++
	if isAssetUpdate(e.msg.Subject) {
		q.updates.push(queued{seq: q.seq, e: e})
	} else {
		q.others.push(queued{seq: q.seq, e: e})
	}
	return evicted
}

// oldestAt returns the accepted time of the oldest message, 0 if none.
func (q *boundedQueue) oldestAt() int64 {
	switch {
	case q.updates.len() == 0 && q.others.len() == 0:
		return 0
	case q.updates.len() == 0:
		return q.others.peek().e.at
	case q.others.len() == 0:
		return q.updates.peek().e.at
	}
	return min(q.updates.peek().e.at, q.others.peek().e.at)
}

// pop removes and returns the oldest message.
func (q *boundedQueue) pop() (entry, bool) {
	switch {
	case q.updates.len() == 0 && q.others.len() == 0:
		return entry{}, false
	case q.updates.len() == 0:
		return q.others.pop().e, true
	case q.others.len() == 0:
		return q.updates.pop().e, true
	case q.updates.peek().seq < q.others.peek().seq:
		return q.updates.pop().e, true
	default:
		return q.others.pop().e, true
	}
}
