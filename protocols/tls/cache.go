package tls

import (
	"encoding/binary"
	"hash/maphash"
	"sync/atomic"
)

// Bounds of the fingerprint cache: at most cacheSlots entries, each keyed by
// at most maxKey bytes of input (its JA3 string at most three times that),
// so a cache holds a few megabytes at worst and tens of kilobytes in practice.
const (
	cacheSlots = 1024
	maxKey     = 512
)

// fingerprints are the JA3 string, its hash and the JA4 of one set of
// fingerprint inputs, the key. Immutable once made.
type fingerprints struct {
	key, ja3, ja3Hash, ja4 string
}

// fingerprintCache remembers the fingerprints of recent ClientHellos. Two
// hellos of one client differ in their random, session id, key share and
// often SNI, but rarely in what the fingerprints read (versions, lists of
// ciphers, extensions, groups, point formats and signature algorithms, the
// ALPN characters), and the hashes and sorts cost most of a hello.
//
// Decoders on several goroutines share a cache without a lock: a slot holds
// an immutable entry, replaced whole by the latest hello that hashes to it,
// and a hit compares the entry's key in full, so a collision costs only a
// recomputation.
type fingerprintCache struct {
	seed  maphash.Seed
	slots [cacheSlots]atomic.Pointer[fingerprints]
}

func newFingerprintCache() *fingerprintCache {
	return &fingerprintCache{seed: maphash.MakeSeed()}
}

// get returns the fingerprints of h, from c when it has them. A nil c
// caches nothing.
func (c *fingerprintCache) get(h *hello) *fingerprints {
	var buf [maxKey]byte
	key, ok := appendKey(buf[:0], h)
	if c == nil || !ok {
		return newFingerprints(h, nil)
	}
	slot := c.slot(key)
	if e := slot.Load(); e != nil && e.key == string(key) {
		return e
	}
	e := newFingerprints(h, key)
	slot.Store(e)
	return e
}

// slot returns the slot of key.
func (c *fingerprintCache) slot(key []byte) *atomic.Pointer[fingerprints] {
	return &c.slots[maphash.Bytes(c.seed, key)%cacheSlots]
}

// appendKey appends to b every input of the fingerprints of h, each list
// after its length, and reports false (appending nothing) when that would
// take more than maxKey bytes.
func appendKey(b []byte, h *hello) ([]byte, bool) {
	n := 8 + 2*(5+len(h.ciphers)+len(h.extensions)+len(h.groups)+len(h.sigAlgs)) + len(h.pointFormats)
	if n > maxKey {
		return b, false
	}
	b = binary.BigEndian.AppendUint16(b, h.version)
	b = binary.BigEndian.AppendUint16(b, h.highest)
	b = appendALPNChars(b, h.alpn)
	hasSNI := byte(0)
	if h.hasSNI {
		hasSNI = 1
	}
	b = append(b, hasSNI, 0)
	for _, list := range [...][]uint16{h.ciphers, h.extensions, h.groups, h.sigAlgs} {
		b = binary.BigEndian.AppendUint16(b, uint16(len(list)))
		for _, v := range list {
			b = binary.BigEndian.AppendUint16(b, v)
		}
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(h.pointFormats)))
	return append(b, h.pointFormats...), true
}

// newFingerprints computes the fingerprints of h. Key and values share one
// string.
func newFingerprints(h *hello, key []byte) *fingerprints {
	var buf [2048]byte
	b := append(buf[:0], key...)
	k := len(b)
	b = appendJA3(b, h)
	j := len(b)
	b = appendJA3Hash(b, b[k:])
	m := len(b)
	s := string(appendJA4(b, h, 't'))
	return &fingerprints{key: s[:k], ja3: s[k:j], ja3Hash: s[j:m], ja4: s[m:]}
}
