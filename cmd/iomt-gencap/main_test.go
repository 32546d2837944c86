package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestRun(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "seg.pcap")
	tests := []struct {
		args    []string
		wantErr bool
		size    int64 // expected upper bound of the written file, 0: no file
	}{
		{[]string{"-o", out, "-size", "256KiB", "-hosts", "200", "-seed", "3"}, false, 256 << 10},
		{[]string{"-size", "1MiB"}, true, 0},
		{[]string{"-o", filepath.Join(dir, "bad.pcap"), "-size", "12XB"}, true, 0},
		{[]string{"-o", filepath.Join(dir, "few.pcap"), "-hosts", "5"}, true, 0},
	}
	for i, tc := range tests {
		err := run(tc.args)
		if (err != nil) != tc.wantErr {
			t.Fatalf("Test %d: expected error %v, got %v", i, tc.wantErr, err)
		}
		if tc.size == 0 {
			continue
		}
		fi, err := os.Stat(out)
		if err != nil {
			t.Fatalf("Test %d: %v", i, err)
		}
		if fi.Size() > tc.size || fi.Size() < tc.size-2000 {
			t.Errorf("Test %d: expected about %d bytes, got %d", i, tc.size, fi.Size())
		}
	}
	for _, name := range []string{"bad.pcap", "few.pcap"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			t.Errorf("a failed run left %s behind", name)
		}
	}
}
