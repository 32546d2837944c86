package publish

// queued is one message waiting in a queue, tagged with its arrival order.
type queued struct {
	seq uint64
	msg Message
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

// push appends m and reports whether an older message was evicted.
func (q *boundedQueue) push(m Message) (evicted bool) {
	if q.len() >= q.limit {
		if q.updates.len() > 0 {
			q.updates.pop()
		} else {
			q.others.pop()
		}
		evicted = true
	}
	q.seq++
	e := queued{seq: q.seq, msg: m}
	if isAssetUpdate(m.Subject) {
		q.updates.push(e)
	} else {
		q.others.push(e)
	}
	return evicted
}

// pop removes and returns the oldest message.
func (q *boundedQueue) pop() (Message, bool) {
	switch {
	case q.updates.len() == 0 && q.others.len() == 0:
		return Message{}, false
	case q.updates.len() == 0:
		return q.others.pop().msg, true
	case q.others.len() == 0:
		return q.updates.pop().msg, true
	case q.updates.peek().seq < q.others.peek().seq:
		return q.updates.pop().msg, true
	default:
		return q.others.pop().msg, true
	}
}
