package engine

import (
	"syscall"
	"time"
)

// sleepPrecise sleeps for about d. Go's timers wake up to a millisecond
// late on Linux (its poller waits in whole milliseconds); nanosleep on
// the caller's thread wakes within ~100µs and costs no CPU.
func sleepPrecise(d time.Duration) {
	ts := syscall.NsecToTimespec(int64(d))
	for {
		// on EINTR, the remaining time is in ts
		if err := syscall.Nanosleep(&ts, &ts); err != syscall.EINTR {
			return
		}
	}
}
