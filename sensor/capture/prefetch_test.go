package capture

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// TestPrefetchSameStream checks that Prefetch yields exactly the packets of
// the source, in order, then its final error.
func TestPrefetchSameStream(t *testing.T) {
	for _, name := range []string{"clinic.pcap", "truncated.pcap"} {
		path := "../../testdata/captures/" + name
		direct, err := OpenFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var want [][]byte
		var wantErr error
		for {
			p, err := direct.Next()
			if err != nil {
				wantErr = err
				break
			}
			want = append(want, append([]byte(nil), p.Data...))
		}
		direct.Close()

		src, err := OpenFile(path)
		if err != nil {
			t.Fatal(err)
		}
		pf := Prefetch(src)
		for i := 0; ; i++ {
			p, err := pf.Next()
			if err != nil {
				if i != len(want) || (errors.Is(wantErr, io.EOF) != errors.Is(err, io.EOF)) || (errors.Is(wantErr, ErrTruncated) != errors.Is(err, ErrTruncated)) {
					t.Errorf("%s: ended after %d packets with %v, expected %d then %v", name, i, err, len(want), wantErr)
				}
				break
			}
			if i >= len(want) || !bytes.Equal(p.Data, want[i]) {
				t.Fatalf("%s: packet %d differs", name, i)
			}
		}
		if err := pf.Close(); err != nil {
			t.Error(err)
		}
	}
}

// TestPrefetchCloseEarly stops a prefetching source before its end.
func TestPrefetchCloseEarly(t *testing.T) {
	src, err := OpenFile("../../testdata/captures/clinic.pcap")
	if err != nil {
		t.Fatal(err)
	}
	pf := Prefetch(src)
	if _, err := pf.Next(); err != nil {
		t.Fatal(err)
	}
	if err := pf.Close(); err != nil {
		t.Fatal(err)
	}
	if err := pf.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
