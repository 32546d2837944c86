package inventory

import (
	"encoding/binary"
	"math/bits"
	"slices"
)

// Tags are 16-bit hashes of the elements of a sorted set (an endpoint's
// evidence), kept in a byte slice beside it: two bytes (little endian) an
// element, at the element's index. The elements offered to the set are
// mostly there already; a scan of the tags finds one at a single
// confirming comparison, where a sorted search compared strings at every
// step. Two bytes a tag make the tags of 64 elements two cache lines, and
// findTag compares four tags at once; a false match (one in 65536 an
// element) only costs a comparison.

const (
	tagLanes = 0x0001_0001_0001_0001 // 1 in every 16-bit lane
	tagLow15 = 0x7fff_7fff_7fff_7fff // the low 15 bits of every lane
)

// findTag returns the index of the first tag equal to tag at or after
// index i, or -1.
func findTag(tags []byte, tag uint16, i int) int {
	pattern := uint64(tag) * tagLanes
	for ; 2*i+8 <= len(tags); i += 4 {
		x := binary.LittleEndian.Uint64(tags[2*i:]) ^ pattern // zero lanes match
		// Lane by lane, without carries into the next lane: bit 15 is set
		// when any bit of the lane is; the low 15 bits are set. z is all
		// ones unless a lane is zero.
		z := (x&tagLow15 + tagLow15) | x | tagLow15
		if z != ^uint64(0) {
			return i + bits.TrailingZeros64(^z)/16
		}
	}
	for ; 2*i < len(tags); i++ {
		if binary.LittleEndian.Uint16(tags[2*i:]) == tag {
			return i
		}
	}
	return -1
}

// insertTag inserts tag at index i of tags.
func insertTag(tags []byte, i int, tag uint16) []byte {
	return slices.Insert(tags, 2*i, byte(tag), byte(tag>>8))
}

// dropLastTag removes the last tag.
func dropLastTag(tags []byte) []byte { return tags[:len(tags)-2] }
