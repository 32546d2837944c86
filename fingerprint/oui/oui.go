// Package oui names the organisation a MAC address was assigned to, from an
// embedded copy of the IEEE Registration Authority's registries: MA-L
// (24-bit OUI), MA-M (28-bit), MA-S and the legacy IAB (36-bit).
//
// The table is generated from Debian's ieee-data package by go generate
// and committed (table_gen.go); see README.md for how to regenerate it.
// Lookups search sorted arrays and return substrings of one constant, so
// they allocate nothing.
package oui

//go:generate go run ./internal/gen -in /usr/share/ieee-data -out table_gen.go

import "strings"

// privateName is what the registry publishes when an organisation asked for
// its name to be withheld.
const privateName = "Private"

// Lookup returns the organisation the IEEE assigned mac's prefix to. The
// longest registered prefix wins: MA-S or IAB (36 bits), then MA-M (28),
// then MA-L (24). A block the IEEE sub-assigns is itself an MA-L entry, so
// an address in such a block with no sub-assignment in the table gets
// "IEEE Registration Authority".
//
// ok is false, with no vendor, for locally administered addresses (which
// includes randomized MACs, see IsLocal), for group (multicast and
// broadcast) addresses, for prefixes absent from the registry, and for
// assignments whose owner's name the registry withholds ("Private").
func Lookup(mac [6]byte) (vendor string, ok bool) {
	if IsLocal(mac) || IsMulticast(mac) {
		return "", false
	}
	m := uint64(mac[0])<<40 | uint64(mac[1])<<32 | uint64(mac[2])<<24 |
		uint64(mac[3])<<16 | uint64(mac[4])<<8 | uint64(mac[5])
	off, found := search(ma36[:], m>>12)
	if !found {
		off, found = search(ma28[:], m>>20)
	}
	if !found {
		off, found = search(ma24[:], m>>24)
	}
	if !found {
		return "", false
	}
	vendor = names[off:]
	if i := strings.IndexByte(vendor, '\n'); i >= 0 {
		vendor = vendor[:i]
	}
	if vendor == privateName {
		return "", false
	}
	return vendor, true
}

// search finds prefix in a sorted table of prefix<<offsetBits | offset
// entries and returns the entry's name offset.
func search(table []uint64, prefix uint64) (offset int, ok bool) {
	lo, hi := 0, len(table)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if table[mid]>>offsetBits < prefix {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo < len(table) && table[lo]>>offsetBits == prefix {
		return int(table[lo] & (1<<offsetBits - 1)), true
	}
	return 0, false
}

// IsLocal reports whether mac is locally administered (the U/L bit, 0x02 of
// the first octet, is set): assigned by software rather than from a
// registered prefix. Randomized MACs, which phones and laptops use for
// privacy, are locally administered, as are many virtual interfaces.
func IsLocal(mac [6]byte) bool {
	return mac[0]&0x02 != 0
}

// IsMulticast reports whether mac is a group address (the I/G bit, 0x01
// of the first octet, is set), which includes broadcast. Group addresses
// name no single device.
func IsMulticast(mac [6]byte) bool {
	return mac[0]&0x01 != 0
}

// Registry returns the date, YYYY-MM-DD, of the IEEE registry download the
// table was generated from, or "" when the source carried no date.
func Registry() (date string) {
	return registryDate
}
