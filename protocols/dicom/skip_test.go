package dicom

import (
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/iomt-sensor/iomt-sensor/protocols"
	"github.com/iomt-sensor/iomt-sensor/protocols/internal/corpustest"
)

// TestCaptureSkips decodes the corpus capture and the repository's dcmtk
// captures with and without honouring the decoder's skips: the observations
// and errors are the same, and the bytes skipped per direction (client,
// server) are the bulk of the C-STORE data sets.
func TestCaptureSkips(t *testing.T) {
	want := map[string]string{
		"ndpi-dicom.pcap":   "skipped 0/0",    // associations only
		"dicom-store.pcap":  "skipped 7588/0", // C-STORE data sets past group 0018
		"dicom-find.pcap":   "skipped 0/176",  // C-FIND-RSP identifiers
		"dicom-reject.pcap": "skipped 1464/0", // the C-STORE before the A-ABORT
	}
	check := func(t *testing.T, path string) {
		plain, errs, none := decodeStreamsSkipping(t, path, false)
		got, gotErrs, skipped := decodeStreamsSkipping(t, path, true)
		if none != [2]int{} {
			t.Errorf("expected nothing skipped when skips are not honoured, got %v", none)
		}
		if !reflect.DeepEqual(plain, got) || fmt.Sprint(errs) != fmt.Sprint(gotErrs) {
			t.Errorf("expected the same observations and errors with skips:\n%v %v\ngot\n%v %v", plain, errs, got, gotErrs)
		}
		s := fmt.Sprintf("skipped %d/%d", skipped[0], skipped[1])
		t.Logf("%s", s)
		if w, ok := want[filepath.Base(path)]; ok && s != w {
			t.Errorf("expected %q, got %q", w, s)
		}
	}
	t.Run("corpus", func(t *testing.T) { check(t, corpustest.File(t, corpusFile)) })
	for _, path := range repoCaptures(t) {
		t.Run(filepath.Base(path), func(t *testing.T) { check(t, path) })
	}
}

// feedSkipping feeds data in 1448-byte segments as TCP would deliver it,
// dropping the bytes the decoder skips, and returns the bytes skipped.
func feedSkipping(tb testing.TB, d protocols.Decoder, dir protocols.Direction, data []byte, emit protocols.Emit) int {
	var skip, skipped int
	for len(data) > 0 {
		n := min(len(data), 1448)
		b := data[:n]
		data = data[n:]
		k := min(len(b), skip)
		skip -= k
		skipped += k
		if b = b[k:]; len(b) == 0 {
			continue
		}
		if err := d.Feed(dir, b, time.Time{}, emit); err != nil {
			tb.Fatal(err)
		}
		skip += d.(protocols.Skipper).Skip(dir)
	}
	return skipped
}

// TestSkipStore checks the skips of a C-STORE of a 256 KiB data set: the
// bulk after the device attributes, PDV by PDV, and the same observations.
func TestSkipStore(t *testing.T) {
	client, server, _ := storeStreams(t, 256<<10)
	rqLen := hexLen(rqHex)
	run := func(honour bool) ([]string, int) {
		var got []string
		emit := func(o protocols.Observation) { got = append(got, compact(o)) }
		d := New(protocols.FlowInfo{Transport: protocols.TCP})
		var skipped int
		for _, p := range []struct {
			dir  protocols.Direction
			data []byte
		}{{c2s, client[:rqLen]}, {s2c, server}, {c2s, client[rqLen:]}} {
			if honour {
				skipped += feedSkipping(t, d, p.dir, p.data, emit)
			} else {
				for b := p.data; len(b) > 0; b = b[min(len(b), 1448):] {
					if err := d.Feed(p.dir, b[:min(len(b), 1448)], time.Time{}, emit); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		d.Close(time.Time{}, emit)
		return got, skipped
	}
	plain, _ := run(false)
	got, skipped := run(true)
	if !reflect.DeepEqual(plain, got) {
		t.Errorf("expected %q with skips, got %q", plain, got)
	}
	// 17 P-DATA-TF PDUs of data set: once the data set is done (past group
	// 0018, early in the first), each skips the rest of its PDV after the
	// segment holding its PDU and PDV headers, which is fed whole: 95% of
	// the 262960 bytes after the association are skipped.
	if want := 250824; skipped != want {
		t.Errorf("expected %d bytes skipped of %d, got %d", want, len(client)-rqLen, skipped)
	}
}

// BenchmarkDecodeSteadySkip is BenchmarkDecodeSteady honouring skips, as
// the sensor does: the data set's bulk is not fed.
func BenchmarkDecodeSteadySkip(b *testing.B) {
	client, server, _ := storeStreams(b, 256<<10)
	d := New(protocols.FlowInfo{Transport: protocols.TCP})
	emit := func(protocols.Observation) {}
	rqLen := hexLen(rqHex)
	feedSkipping(b, d, c2s, client[:rqLen], emit)
	feedSkipping(b, d, s2c, server, emit)
	store := client[rqLen:]
	feedSkipping(b, d, c2s, store, emit)
	b.ReportAllocs()
	b.SetBytes(int64(len(store)))
	for b.Loop() {
		feedSkipping(b, d, c2s, store, emit)
	}
}

// BenchmarkDecodeSkip is BenchmarkDecode as the sensor feeds it: a new
// flow per op (association and one C-STORE of a 256 KiB data set), the
// bytes the decoder does not need skipped.
func BenchmarkDecodeSkip(b *testing.B) {
	client, server, _ := storeStreams(b, 256<<10)
	emit := func(protocols.Observation) {}
	rqLen := hexLen(rqHex)
	b.ReportAllocs()
	for b.Loop() {
		d := New(protocols.FlowInfo{Transport: protocols.TCP})
		feedSkipping(b, d, c2s, client[:rqLen], emit)
		feedSkipping(b, d, s2c, server, emit)
		feedSkipping(b, d, c2s, client[rqLen:], emit)
		d.Close(time.Time{}, emit)
	}
}
