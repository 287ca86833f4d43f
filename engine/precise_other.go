//go:build !linux

package engine

import "time"

// preciseWaiter waits with Go's timers.
type preciseWaiter struct {
	stop  <-chan struct{} // closed when the execution stops
	timer *time.Timer
}

func newPreciseWaiter() *preciseWaiter { return &preciseWaiter{} }

// until waits until at; false when the execution stopped first.
func (w *preciseWaiter) until(at time.Time) bool {
	d := time.Until(at)
	if d <= 0 {
		return true
	}
	return w.fallback(d)
}

// interrupt: the stop channel does it.
func (w *preciseWaiter) interrupt() {}

func (w *preciseWaiter) close() {
	if w.timer != nil {
		w.timer.Stop()
	}
}
