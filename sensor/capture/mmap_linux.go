//go:build linux

package capture

import (
	"os"
	"syscall"
)

// mapFile maps the first size bytes of f read-only and shared: the pages
// are the page cache's, read with no copy.
func mapFile(f *os.File, size int) ([]byte, error) {
	return syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ, syscall.MAP_SHARED)
}

// unmapFile undoes mapFile.
func unmapFile(b []byte) error { return syscall.Munmap(b) }

// dropPages takes the whole pages of b out of the process (they stay in the
// page cache): a later access reads the file again.
func dropPages(b []byte) { _ = syscall.Madvise(b, syscall.MADV_DONTNEED) }

// fileSize returns the size of the file open as fd now, or -1.
func fileSize(fd int) int {
	var st syscall.Stat_t
	if syscall.Fstat(fd, &st) != nil {
		return -1
	}
	return int(st.Size)
}
