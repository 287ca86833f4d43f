//go:build unix

package scoreboard

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"syscall"
)

// processExists sends pid the null signal: ESRCH says there is no such
// process; success or EPERM (another user's) that there is one, unless
// the system says it has ended and waits only to be reaped (a zombie:
// Linux's /proc/PID/stat state Z or X).
func processExists(pid int) (exists, known bool) {
	err := syscall.Kill(pid, 0)
	switch {
	case err == nil, errors.Is(err, syscall.EPERM):
		return !ended(pid), true
	case errors.Is(err, syscall.ESRCH):
		return false, true
	}
	return false, false
}

// ended reports whether process pid has ended but not been reaped,
// where /proc says (false elsewhere).
func ended(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// "pid (comm) S ...": the state follows the last ')'
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return false
	}
	return b[i+2] == 'Z' || b[i+2] == 'X'
}
