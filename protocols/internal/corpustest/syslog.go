package corpustest

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
)

// RawIPAsLinkRaw returns path itself, or, when path is a classic pcap file
// of link type 228 or 229 (LINKTYPE_IPV4/IPV6, which gopacket does not
// decode, though the sensor does), a copy in a temporary folder relabelled
// as link type 101 (raw IP, which gopacket decodes), so that UDP and
// TCPStreams see its packets.
func RawIPAsLinkRaw(tb testing.TB, path string) string {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	if len(data) < 24 {
		return path
	}
	var order binary.ByteOrder
	switch {
	case data[0] == 0xd4 && data[1] == 0xc3 || data[0] == 0x4d && data[1] == 0x3c:
		order = binary.LittleEndian
	case data[0] == 0xa1 && data[1] == 0xb2:
		order = binary.BigEndian
	default:
		return path
	}
	if lt := order.Uint32(data[20:24]); lt != 228 && lt != 229 {
		return path
	}
	order.PutUint32(data[20:24], 101)
	out := filepath.Join(tb.TempDir(), filepath.Base(path))
	if err := os.WriteFile(out, data, 0o644); err != nil {
		tb.Fatal(err)
	}
	return out
}
