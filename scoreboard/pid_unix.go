//go:build unix

package scoreboard

import (
	"errors"
	"syscall"
)

// processExists sends pid the null signal: ESRCH says there is no such
// process; success or EPERM (another user's) that there is one.
func processExists(pid int) (exists, known bool) {
	err := syscall.Kill(pid, 0)
	switch {
	case err == nil, errors.Is(err, syscall.EPERM):
		return true, true
	case errors.Is(err, syscall.ESRCH):
		return false, true
	}
	return false, false
}
