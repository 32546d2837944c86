package inventory

import (
	"container/heap"
	"iter"
	"slices"
)

// Bounded sets keep the smallest elements by a total order. Whatever the
// order of insertions, a set capped at n ends up holding the n smallest
// elements ever offered to it: an element pushed out (or refused) is larger
// than everything kept, the largest kept element only ever decreases, so it
// is refused again if offered later. That is what makes the inventory's
// output independent of the order in which packet workers call it.

// insertSorted offers v to the sorted slice s capped at max elements. It
// returns the new slice, the index of the element equal to v (-1 when v was
// refused) and whether an element (v or the previous largest) was dropped.
func insertSorted[T any](s []T, v T, cmp func(a, b T) int, max int) ([]T, int, bool) {
	if len(s) >= max && max > 0 && cmp(v, s[len(s)-1]) > 0 {
		return s, -1, true // larger than everything kept: refused at one comparison
	}
	i, found := slices.BinarySearchFunc(s, v, cmp)
	if found {
		return s, i, false
	}
	if max <= 0 {
		return s, -1, true
	}
	if len(s) >= max { // v is smaller than the largest (refused above otherwise)
		s = slices.Insert(s[:len(s)-1], i, v) // push out the largest
		return s, i, true
	}
	return slices.Insert(s, i, v), i, false
}

// setCap is the capacity of a large set's first backing array (peers,
// evidence, facts): most of these sets grow past a few elements, and
// doubling from one allocates and copies four times before reaching it.
const setCap = 8

// insertAt is slices.Insert of one element, with room for setCap elements
// in a new set.
func insertAt[T any](s []T, i int, v T) []T {
	if cap(s) == 0 {
		s = make([]T, 0, setCap)
	}
	return slices.Insert(s, i, v)
}

// table is a map capped at max entries that keeps the smallest keys. A
// max-heap over the keys finds the entry to push out in O(log n).
type table[K comparable, V any] struct {
	max   int
	items map[K]*item[K, V]
	heap  itemHeap[K, V]
}

type item[K comparable, V any] struct {
	val V // first: a lookup reads it, only the heap reads key
	key K
	idx int // position in the heap
}

// itemHeap is a max-heap: heap[0] holds the largest key.
type itemHeap[K comparable, V any] struct {
	s   []*item[K, V]
	cmp func(a, b K) int
}

func (h *itemHeap[K, V]) Len() int           { return len(h.s) }
func (h *itemHeap[K, V]) Less(i, j int) bool { return h.cmp(h.s[i].key, h.s[j].key) > 0 }
func (h *itemHeap[K, V]) Swap(i, j int) {
	h.s[i], h.s[j] = h.s[j], h.s[i]
	h.s[i].idx = i
	h.s[j].idx = j
}
func (h *itemHeap[K, V]) Push(x any) {
	it := x.(*item[K, V])
	it.idx = len(h.s)
	h.s = append(h.s, it)
}
func (h *itemHeap[K, V]) Pop() any {
	it := h.s[len(h.s)-1]
	h.s[len(h.s)-1] = nil
	h.s = h.s[:len(h.s)-1]
	return it
}

func newTable[K comparable, V any](max int, cmp func(a, b K) int) *table[K, V] {
	return &table[K, V]{max: max, items: make(map[K]*item[K, V]), heap: itemHeap[K, V]{cmp: cmp}}
}

// get returns the value stored under k, or nil.
func (t *table[K, V]) get(k K) *V {
	if it := t.items[k]; it != nil {
		return &it.val
	}
	return nil
}

// add returns the value stored under k, creating a zero one if needed. When
// the table is full, the largest key is pushed out (and returned as evicted)
// or, if k is the largest, k is refused and add returns nil. dropped reports
// that an entry was pushed out or refused.
func (t *table[K, V]) add(k K) (v *V, evicted K, dropped bool) {
	if it := t.items[k]; it != nil {
		return &it.val, evicted, false
	}
	if t.max <= 0 {
		return nil, evicted, true
	}
	if len(t.items) >= t.max {
		top := t.heap.s[0]
		if t.heap.cmp(k, top.key) > 0 {
			return nil, evicted, true
		}
		heap.Pop(&t.heap)
		delete(t.items, top.key)
		evicted, dropped = top.key, true
	}
	it := &item[K, V]{key: k}
	heap.Push(&t.heap, it)
	t.items[k] = it
	return &it.val, evicted, dropped
}

// len returns the number of entries.
func (t *table[K, V]) len() int { return len(t.items) }

// mergeRuns yields the elements of sorted runs in cmp order, repeats
// included, leaving the runs as they are.
func mergeRuns[T any](runs [][]T, cmp func(a, b *T) int) iter.Seq[*T] {
	return func(yield func(*T) bool) {
		if len(runs) > 4 { // many runs: one sort beats comparing run heads
			n := 0
			for _, r := range runs {
				n += len(r)
			}
			all := make([]T, 0, n)
			for _, r := range runs {
				all = append(all, r...)
			}
			slices.SortFunc(all, func(x, y T) int { return cmp(&x, &y) })
			for i := range all {
				if !yield(&all[i]) {
					return
				}
			}
			return
		}
		var buf [4][]T
		heads := append(buf[:0], runs...)
		for {
			best := -1
			for i, r := range heads {
				if len(r) > 0 && (best < 0 || cmp(&r[0], &heads[best][0]) < 0) {
					best = i
				}
			}
			if best < 0 {
				return
			}
			e := &heads[best][0]
			heads[best] = heads[best][1:]
			if !yield(e) {
				return
			}
		}
	}
}
