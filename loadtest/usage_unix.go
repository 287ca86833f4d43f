//go:build unix

package loadtest

import (
	"syscall"
	"time"
)

// processUsage is the process's CPU time and its involuntary context
// switches.
func processUsage() (cpu time.Duration, nivcsw int64, ok bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), int64(ru.Nivcsw), true
}
