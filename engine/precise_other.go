//go:build !linux

package engine

import "time"

// preciseWaiter waits with Go's timers.
type preciseWaiter struct{}

func newPreciseWaiter() *preciseWaiter { return &preciseWaiter{} }

// sleep waits for about d.
func (w *preciseWaiter) sleep(d time.Duration) { time.Sleep(d) }

func (w *preciseWaiter) close() {}
