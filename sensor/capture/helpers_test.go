package capture

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// testPkt is one packet of a synthetic capture.
type testPkt struct {
	iface  int // pcapng interface index
	ts     time.Time
	data   []byte
	length int // original length; 0 means len(data)
}

func (p testPkt) origLen() int {
	if p.length != 0 {
		return p.length
	}
	return len(p.data)
}

// buildPcap writes a classic pcap file in the given byte order, with
// microsecond or nanosecond timestamps. ends[i] is the file offset where
// packet i ends.
func buildPcap(order binary.ByteOrder, nano bool, link uint32, pkts []testPkt) (file []byte, ends []int) {
	var b bytes.Buffer
	magic := uint32(0xa1b2c3d4)
	if nano {
		magic = 0xa1b23c4d
	}
	hdr := make([]byte, 24)
	order.PutUint32(hdr[0:], magic)
	order.PutUint16(hdr[4:], 2)
	order.PutUint16(hdr[6:], 4)
	order.PutUint32(hdr[16:], 65535)
	order.PutUint32(hdr[20:], link)
	b.Write(hdr)
	for _, p := range pkts {
		rec := make([]byte, 16)
		frac := uint32(p.ts.Nanosecond() / 1000)
		if nano {
			frac = uint32(p.ts.Nanosecond())
		}
		order.PutUint32(rec[0:], uint32(p.ts.Unix()))
		order.PutUint32(rec[4:], frac)
		order.PutUint32(rec[8:], uint32(len(p.data)))
		order.PutUint32(rec[12:], uint32(p.origLen()))
		b.Write(rec)
		b.Write(p.data)
		ends = append(ends, b.Len())
	}
	return b.Bytes(), ends
}

// ngIface is one pcapng interface: link type and if_tsresol (0 = default,
// microseconds).
type ngIface struct {
	link    uint16
	tsresol byte
}

// buildPcapng writes a pcapng file with one section, the given interfaces
// and one enhanced packet block per packet.
func buildPcapng(order binary.ByteOrder, ifaces []ngIface, pkts []testPkt) (file []byte, ends []int) {
	var b bytes.Buffer
	block := func(typ uint32, body []byte) {
		pad := (4 - len(body)%4) % 4
		total := uint32(12 + len(body) + pad)
		h := make([]byte, 8)
		order.PutUint32(h[0:], typ)
		order.PutUint32(h[4:], total)
		b.Write(h)
		b.Write(body)
		b.Write(make([]byte, pad))
		t := make([]byte, 4)
		order.PutUint32(t, total)
		b.Write(t)
	}
	shb := make([]byte, 16)
	order.PutUint32(shb[0:], 0x1a2b3c4d)
	order.PutUint16(shb[4:], 1)
	order.PutUint16(shb[6:], 0)
	binary.LittleEndian.PutUint64(shb[8:], ^uint64(0))
	block(0x0a0d0d0a, shb)
	for _, ifc := range ifaces {
		idb := make([]byte, 8)
		order.PutUint16(idb[0:], ifc.link)
		order.PutUint32(idb[4:], 0)
		if ifc.tsresol != 0 {
			opt := make([]byte, 8)
			order.PutUint16(opt[0:], 9)
			order.PutUint16(opt[2:], 1)
			opt[4] = ifc.tsresol
			idb = append(idb, opt...)
			idb = append(idb, 0, 0, 0, 0) // opt_endofopt
		}
		block(1, idb)
	}
	for _, p := range pkts {
		units := uint64(1e6)
		if r := ifaces[p.iface].tsresol; r != 0 {
			units = 1
			for range r {
				units *= 10
			}
		}
		ts := uint64(p.ts.Unix())*units + uint64(p.ts.Nanosecond())*units/1e9
		epb := make([]byte, 20, 20+len(p.data))
		order.PutUint32(epb[0:], uint32(p.iface))
		order.PutUint32(epb[4:], uint32(ts>>32))
		order.PutUint32(epb[8:], uint32(ts))
		order.PutUint32(epb[12:], uint32(len(p.data)))
		order.PutUint32(epb[16:], uint32(p.origLen()))
		block(6, append(epb, p.data...))
		ends = append(ends, b.Len())
	}
	return b.Bytes(), ends
}

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func writeTemp(t testing.TB, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// readAll reads a source to its end, copying packets, and returns the
// packets and the error that ended it (nil for io.EOF).
func readAll(t testing.TB, s Source) ([]Packet, error) {
	t.Helper()
	var out []Packet
	for range 1 << 20 {
		p, err := s.Next()
		if err != nil {
			if err == io.EOF {
				return out, nil
			}
			return out, err
		}
		p.Data = bytes.Clone(p.Data)
		out = append(out, p)
	}
	t.Fatal("source never ended")
	return nil, nil
}
