//go:build !unix

package scoreboard

import (
	"errors"
	"os"
)

func mapFile(f *os.File, size int) ([]byte, error) { return nil, errors.ErrUnsupported }

func unmapFile(b []byte) error { return errors.ErrUnsupported }

const supported = false
