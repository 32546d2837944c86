// Package capturetest helps tests that read capture files: it locates the
// shared capture corpus, $IOMT_CORPUS or the first shared/corpus folder
// above the working directory. Tests skip without it, or fail when
// IOMT_CORPUS_REQUIRED=1 (as CI sets).
package capturetest

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// Find returns the corpus root, or why there is none.
func Find() (string, error) {
	if dir := os.Getenv("IOMT_CORPUS"); dir != "" {
		if isDir(dir) {
			return dir, nil
		}
		return "", errors.New("IOMT_CORPUS=" + dir + " is not a directory")
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; {
		cand := filepath.Join(dir, "shared", "corpus")
		if isDir(cand) {
			return cand, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return "", errors.New("capture corpus not found: set IOMT_CORPUS to the corpus folder (no shared/corpus above " + wd + ")")
}

// Dir returns the corpus root, or skips tb (fails it with
// IOMT_CORPUS_REQUIRED=1) when there is none.
func Dir(tb testing.TB) string {
	tb.Helper()
	dir, err := Find()
	if err != nil {
		Missing(tb, err.Error())
	}
	return dir
}

// File returns the path of rel inside the corpus, skipping or failing like
// Dir when the corpus or the file is absent.
func File(tb testing.TB, rel string) string {
	tb.Helper()
	p := filepath.Join(Dir(tb), filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		Missing(tb, "corpus file missing: "+err.Error())
	}
	return p
}

// Missing skips tb with msg, or fails it when IOMT_CORPUS_REQUIRED=1.
func Missing(tb testing.TB, msg string) {
	tb.Helper()
	if os.Getenv("IOMT_CORPUS_REQUIRED") == "1" {
		tb.Fatal(msg)
	}
	tb.Skip(msg)
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
