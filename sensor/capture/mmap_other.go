//go:build !linux

package capture

import (
	"errors"
	"os"
)

// mapFile is Linux only: elsewhere files are read.
func mapFile(*os.File, int) ([]byte, error) { return nil, errors.ErrUnsupported }

func unmapFile([]byte) error { return nil }

func dropPages([]byte) {}

func fileSize(int) int { return -1 }
