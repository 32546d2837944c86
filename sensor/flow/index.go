package flow

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
)

// index maps keys to flows: an open-addressing hash table with linear
// probing over slots that hold a flow's 64-bit hash next to its pointer, so
// a probe reads one cache line of slots and dereferences only the flow whose
// hash matches. The hash is keyed with a random seed per table, so traffic
// cannot be crafted to collide. Deletion shifts the following entries back
// (no tombstones), so probe sequences never degrade with churn. The table
// doubles when three quarters full and never shrinks: in steady state it
// allocates nothing.
type index struct {
	slots []slot
	mask  uint64 // len(slots)-1; len(slots) is a power of two
	n     int
	seed  [6]uint64
}

type slot struct {
	hash uint64
	f    *Flow // nil: empty
}

const minSlots = 1 << 4

// newIndex returns an empty index with room for n flows before it grows.
func newIndex(n int) index {
	var x index
	for i := range x.seed {
		x.seed[i] = rand.Uint64()
	}
	size := minSlots
	for size*3 < n*4 {
		size *= 2
	}
	x.slots = make([]slot, size)
	x.mask = uint64(size - 1)
	return x
}

// equal is k == *o, field by field: a Key has padding, so == would call a
// generated function instead of comparing inline.
func (k *Key) equal(o *Key) bool {
	return k.a == o.a && k.b == o.b && k.pa == o.pa && k.pb == o.pb && k.proto == o.proto
}

// mum is the 64x64->128 multiply-and-fold mixer of wyhash.
func mum(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// hash returns k's seeded hash.
func (x *index) hash(k *Key) uint64 {
	a0 := binary.LittleEndian.Uint64(k.a[:8])
	a1 := binary.LittleEndian.Uint64(k.a[8:])
	b0 := binary.LittleEndian.Uint64(k.b[:8])
	b1 := binary.LittleEndian.Uint64(k.b[8:])
	p := uint64(k.pa) | uint64(k.pb)<<16 | uint64(k.proto)<<32
	h := mum(a0^x.seed[0], a1^x.seed[1]) ^ mum(b0^x.seed[2], b1^x.seed[3])
	return mum(h^x.seed[4], p^x.seed[5])
}

// get returns the flow with key k and hash h, or nil.
func (x *index) get(k *Key, h uint64) *Flow {
	for i := h & x.mask; ; i = (i + 1) & x.mask {
		s := &x.slots[i]
		if s.f == nil {
			return nil
		}
		if s.hash == h && s.f.Key.equal(k) {
			return s.f
		}
	}
}

// insert adds f, whose key is not in the index, under hash h.
func (x *index) insert(f *Flow, h uint64) {
	if (x.n+1)*4 > len(x.slots)*3 {
		x.grow()
	}
	x.place(slot{h, f})
	x.n++
}

func (x *index) place(s slot) {
	i := s.hash & x.mask
	for x.slots[i].f != nil {
		i = (i + 1) & x.mask
	}
	x.slots[i] = s
}

func (x *index) grow() {
	old := x.slots
	x.slots = make([]slot, 2*len(old))
	x.mask = uint64(len(x.slots) - 1)
	for _, s := range old {
		if s.f != nil {
			x.place(s)
		}
	}
}

// delete removes f, stored under hash h, and moves back the entries after
// it whose probe sequence crossed its slot.
func (x *index) delete(f *Flow, h uint64) {
	i := h & x.mask
	for x.slots[i].f != f {
		if x.slots[i].f == nil {
			return // not indexed
		}
		i = (i + 1) & x.mask
	}
	for j := (i + 1) & x.mask; x.slots[j].f != nil; j = (j + 1) & x.mask {
		// The entry at j may fill the hole at i if i lies on its probe
		// sequence: from its home slot up to j.
		if home := x.slots[j].hash & x.mask; (j-home)&x.mask >= (j-i)&x.mask {
			x.slots[i] = x.slots[j]
			i = j
		}
	}
	x.slots[i] = slot{}
	x.n--
}
