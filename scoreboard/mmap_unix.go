//go:build unix

package scoreboard

import (
	"os"

	"golang.org/x/sys/unix"
)

// mapFile maps size bytes of f shared and writable.
func mapFile(f *os.File, size int) ([]byte, error) {
	return unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
}

func unmapFile(b []byte) error { return unix.Munmap(b) }

const supported = true
