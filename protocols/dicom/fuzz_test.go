package dicom

import (
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/iomt-sensor/iomt-sensor/protocols"
	"github.com/iomt-sensor/iomt-sensor/protocols/internal/corpustest"
)

// directions joins a flow's chunks into the bytes of each direction.
func directions(tb testing.TB, chunks []chunk) (client, server []byte) {
	for _, c := range chunks {
		if c.gap > 0 {
			continue
		}
		if c.dir == c2s {
			client = append(client, unhex(tb, c.hex)...)
		} else {
			server = append(server, unhex(tb, c.hex)...)
		}
	}
	return client, server
}

// FuzzDecode feeds two directions of a flow to a decoder in random chunks,
// interleaved, with an occasional gap, and checks what comes out.
func FuzzDecode(f *testing.F) {
	for _, tc := range fixtures {
		c, s := directions(f, tc.chunks)
		f.Add(c, s, uint64(len(tc.name)))
	}
	for _, tc := range negatives {
		f.Add(unhex(f, tc.data), []byte(nil), uint64(1))
	}
	if dir, err := corpustest.Find(); err == nil {
		for _, st := range corpustest.TCPStreams(f, dir+"/"+corpusFile, 104) {
			f.Add(st.Bytes(c2s), st.Bytes(s2c), uint64(7))
		}
	}
	if files, err := filepath.Glob(filepath.Join("..", "..", "testdata", "captures", "dicom-*.pcap")); err == nil {
		for _, file := range files {
			for _, st := range corpustest.TCPStreams(f, file) {
				f.Add(st.Bytes(c2s), st.Bytes(s2c), uint64(len(file)))
			}
		}
	}
	f.Fuzz(func(t *testing.T, client, server []byte, seed uint64) {
		Detect(c2s, client)
		Detect(s2c, server)
		got, _ := fuzzFeed(t, client, server, seed, true, false)
		for _, o := range got {
			if o.Protocol != Name || !strings.HasPrefix(o.Source, "dicom.") || len(o.Facts) == 0 {
				t.Fatalf("bad observation %+v", o)
			}
			for _, fct := range o.Facts {
				if fct.Value == "" || !strings.HasPrefix(fct.Name, "dicom.") {
					t.Fatalf("bad fact %+v", fct)
				}
				checkText(t, fct.Name, fct.Value)
			}
		}
		// Without gaps, honouring skips changes nothing.
		plain, errs := fuzzFeed(t, client, server, seed, false, false)
		skipped, skipErrs := fuzzFeed(t, client, server, seed, false, true)
		if !reflect.DeepEqual(plain, skipped) || !reflect.DeepEqual(errs, skipErrs) {
			t.Fatalf("expected %+v, %q with skips, got %+v, %q", plain, errs, skipped, skipErrs)
		}
		// With gaps too: no panic.
		fuzzFeed(t, client, server, seed, true, true)
	})
}

// fuzzFeed feeds the two directions to a decoder in random chunks drawn
// from seed, interleaved, with an occasional gap when gaps is set, and
// honouring the decoder's skips when honour is set. It returns the
// observations and the errors.
func fuzzFeed(t *testing.T, client, server []byte, seed uint64, gaps, honour bool) ([]protocols.Observation, []string) {
	rng := rand.New(rand.NewPCG(seed, seed>>7))
	d := New(protocols.FlowInfo{Transport: protocols.TCP})
	var got []protocols.Observation
	var errs []string
	emit := func(o protocols.Observation) { got = append(got, o) }
	bufs := [2][]byte{client, server}
	var skip [2]int
	for len(bufs[0])+len(bufs[1]) > 0 {
		dir := protocols.Direction(rng.IntN(2))
		if len(bufs[dir]) == 0 {
			dir = dir.Reverse()
		}
		n := min(len(bufs[dir]), 1+rng.IntN(2000))
		gap := rng.IntN(64) == 0 && gaps
		b := bufs[dir][:n]
		bufs[dir] = bufs[dir][n:]
		k := min(len(b), skip[dir])
		skip[dir] -= k
		b = b[k:]
		if len(b) == 0 {
			continue
		}
		if gap {
			d.Gap(dir, len(b), time.Time{}, emit)
			continue
		}
		if err := d.Feed(dir, b, time.Time{}, emit); err != nil {
			if protocols.Reason(err) == "other" {
				t.Fatalf("error %v wraps no sentinel", err)
			}
			errs = append(errs, err.Error())
		}
		if honour {
			n := d.(protocols.Skipper).Skip(dir)
			if n < 0 || n > protocols.MaxSkip {
				t.Fatalf("Skip returned %d", n)
			}
			skip[dir] += n
		}
	}
	d.Close(time.Time{}, emit)
	return got, errs
}

func checkText(t *testing.T, name, s string) {
	t.Helper()
	if len(s) > maxString {
		t.Fatalf("%s: %d bytes", name, len(s))
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			t.Fatalf("%s: byte %#x in %q", name, s[i], s)
		}
	}
}

// storeStreams builds an association and one C-STORE of a data set with
// pixels bytes of pixel data, in P-DATA-TF PDUs of at most 16 KiB (the
// maximum length the RQ announces), and its response.
func storeStreams(tb testing.TB, pixels int) (client, server []byte, pdus int) {
	rq, ac := association()
	client = unhex(tb, rq)
	server = unhex(tb, ac)
	client = append(client, unhex(tb, pdu("04", pdv(1, 0x03, cStoreRQ(1))))...)
	ds := unhex(tb, ctDataSet(true, pixels))
	pdus = 3
	const frag = 16384 - 6 - 6
	for len(ds) > 0 {
		n := min(len(ds), frag)
		mch := 0
		if n == len(ds) {
			mch = 2
		}
		client = append(client, unhex(tb, pdu("04", pdv(1, mch, hexOf(ds[:n]))))...)
		ds = ds[n:]
		pdus++
	}
	server = append(server, unhex(tb, pdu("04", pdv(1, 0x03, cStoreRSP(1, 0))))...)
	return client, server, pdus + 1
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 2*len(b))
	for i, c := range b {
		out[2*i], out[2*i+1] = digits[c>>4], digits[c&0xf]
	}
	return string(out)
}

// feedSegments feeds b in 1448-byte segments, as TCP would deliver it.
func feedSegments(b *testing.B, d protocols.Decoder, dir protocols.Direction, data []byte, emit protocols.Emit) {
	for len(data) > 0 {
		n := min(len(data), 1448)
		if err := d.Feed(dir, data[:n], time.Time{}, emit); err != nil {
			b.Fatal(err)
		}
		data = data[n:]
	}
}

// BenchmarkDecode decodes a whole flow per iteration: association and one
// C-STORE of a 256 KiB data set, with a fresh decoder.
func BenchmarkDecode(b *testing.B) {
	client, server, pdus := storeStreams(b, 256<<10)
	var facts int
	emit := func(o protocols.Observation) { facts += len(o.Facts) }
	b.ReportAllocs()
	b.SetBytes(int64(len(client) + len(server)))
	rqLen := hexLen(rqHex)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	n := 0
	for b.Loop() {
		d := New(protocols.FlowInfo{Transport: protocols.TCP})
		feedSegments(b, d, c2s, client[:rqLen], emit)
		feedSegments(b, d, s2c, server, emit)
		feedSegments(b, d, c2s, client[rqLen:], emit)
		d.Close(time.Time{}, emit)
		n++
	}
	runtime.ReadMemStats(&after)
	if facts == 0 {
		b.Fatal("nothing emitted")
	}
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(n*pdus), "allocs/PDU")
}

// BenchmarkDecodeSteady feeds C-STOREs of the same device to one decoder:
// the steady state of a long association, which must not allocate.
func BenchmarkDecodeSteady(b *testing.B) {
	client, server, _ := storeStreams(b, 256<<10)
	d := New(protocols.FlowInfo{Transport: protocols.TCP})
	emit := func(protocols.Observation) {}
	rqLen := hexLen(rqHex)
	feedSegments(b, d, c2s, client[:rqLen], emit)
	feedSegments(b, d, s2c, server, emit)
	store := client[rqLen:]
	feedSegments(b, d, c2s, store, emit)
	b.ReportAllocs()
	b.SetBytes(int64(len(store)))
	for b.Loop() {
		feedSegments(b, d, c2s, store, emit)
	}
}
