package engine

import "time"

// fallback waits for d with Go's timers: the waiter of every platform
// but Linux, and Linux's when its timerfd cannot be had. False when the
// execution stopped first.
func (w *preciseWaiter) fallback(d time.Duration) bool {
	if w.timer == nil {
		w.timer = time.NewTimer(d)
	} else {
		w.timer.Reset(d)
	}
	select {
	case <-w.timer.C:
		return true
	case <-w.stop:
		return false
	}
}
