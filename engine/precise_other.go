//go:build !linux

package engine

import "time"

// sleepPrecise sleeps for about d.
func sleepPrecise(d time.Duration) { time.Sleep(d) }
