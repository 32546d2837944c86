package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"testing"

	"github.com/iomt-sensor/iomt-sensor/sensor/inventory"
)

// TestWriteAssetsChunks: an inventory of several chunks, encoded in
// parallel, is byte for byte what encoding the whole array at once gives.
func TestWriteAssetsChunks(t *testing.T) {
	golden, err := os.ReadFile("testdata/golden/clinic.json")
	if err != nil {
		t.Fatal(err)
	}
	var some []inventory.Asset
	if err := json.Unmarshal(golden, &some); err != nil {
		t.Fatal(err)
	}
	var all []inventory.Asset
	for len(all) < 3*assetsPerChunk+1 {
		all = append(all, some...)
	}
	for _, n := range []int{assetsPerChunk - 1, assetsPerChunk, assetsPerChunk + 1, len(all)} {
		var want, got bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetIndent("", "  ")
		if err := enc.Encode(all[:n]); err != nil {
			t.Fatal(err)
		}
		if err := writeAssets(&got, all[:n]); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Errorf("Test %d assets: expected the encoder's JSON, got a difference", n)
		}
	}
}

// failingWriter accepts n writes, then fails.
type failingWriter struct{ n int }

var errWrite = errors.New("disk full")

func (f *failingWriter) Write(b []byte) (int, error) {
	if f.n == 0 {
		return 0, errWrite
	}
	f.n--
	return len(b), nil
}

// TestWriteAssetsError: a write error ends writeAssets with that error.
func TestWriteAssetsError(t *testing.T) {
	all := make([]inventory.Asset, 5*assetsPerChunk)
	for i, n := range []int{0, 1, 4} {
		if err := writeAssets(&failingWriter{n: n}, all); !errors.Is(err, errWrite) {
			t.Errorf("Test %d: expected %v, got %v", i, errWrite, err)
		}
	}
}

var indentCases = []string{
	`{}`, `[]`, `""`, `0`, `null`, `[{}]`, `{"a":[]}`, `[[],{},[[]]]`,
	`{"a":1,"b":[true,false,null],"c":{"d":"e"}}`,
	`["\"","\\","\\\"","a\\\\\"b",":,{}[]","\u003c\u0026\u003e","é ✓"]`,
	`{"":"","\\":{"\"":[-1.5e+10]}}`,
}

// TestAppendIndented compares with json.Indent, which MarshalIndent uses.
func TestAppendIndented(t *testing.T) {
	for i, src := range indentCases {
		checkIndented(t, i, []byte(src))
	}
}

func checkIndented(t *testing.T, i int, src []byte) {
	t.Helper()
	for _, p := range [][2]string{{"", "  "}, {"  ", "  "}, {">", "\t"}} {
		var want bytes.Buffer
		if err := json.Indent(&want, src, p[0], p[1]); err != nil {
			t.Fatalf("Test %d: %v", i, err)
		}
		if got := appendIndented([]byte("x"), src, p[0], p[1]); !bytes.Equal(got[1:], want.Bytes()) || got[0] != 'x' {
			t.Errorf("Test %d: expected\n%s\ngot\n%s", i, want.Bytes(), got)
		}
	}
}

// FuzzAppendIndented checks appendIndented against json.Indent on any
// valid JSON, compacted as json.Marshal would leave it.
func FuzzAppendIndented(f *testing.F) {
	for _, s := range indentCases {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var compact bytes.Buffer
		if json.Compact(&compact, data) != nil {
			return
		}
		checkIndented(t, 0, compact.Bytes())
	})
}

// BenchmarkWriteAssets encodes the clinic inventory repeated to a
// thousand assets, as replay --format json prints it.
func BenchmarkWriteAssets(b *testing.B) {
	golden, err := os.ReadFile("testdata/golden/clinic.json")
	if err != nil {
		b.Fatal(err)
	}
	var some, all []inventory.Asset
	if err := json.Unmarshal(golden, &some); err != nil {
		b.Fatal(err)
	}
	for len(all) < 1000 {
		all = append(all, some...)
	}
	var n countingWriter
	b.ReportAllocs()
	for b.Loop() {
		if err := writeAssets(&n, all); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(n) / int64(b.N))
}

type countingWriter int

func (c *countingWriter) Write(b []byte) (int, error) {
	*c += countingWriter(len(b))
	return len(b), nil
}
