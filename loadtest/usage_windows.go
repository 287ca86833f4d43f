package loadtest

import (
	"syscall"
	"time"
)

// processUsage is the process's CPU time; Windows does not count
// involuntary context switches per process, so nivcsw is 0.
func processUsage() (cpu time.Duration, nivcsw int64, ok bool) {
	h, err := syscall.GetCurrentProcess()
	if err != nil {
		return 0, 0, false
	}
	var creation, exit, kernel, user syscall.Filetime
	if err := syscall.GetProcessTimes(h, &creation, &exit, &kernel, &user); err != nil {
		return 0, 0, false
	}
	// a FILETIME duration counts 100 ns ticks
	ticks := func(f syscall.Filetime) int64 { return int64(f.HighDateTime)<<32 | int64(f.LowDateTime) }
	return time.Duration((ticks(kernel) + ticks(user)) * 100), 0, true
}
