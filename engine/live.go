package engine

import "sync/atomic"

// Live is a scoreboard: counters an execution keeps up to date as it
// runs, readable at any time from any goroutine (hooks, a
// progress line) without a lock. Give one to Plan.Live.
type Live struct {
	ActiveVUs   atomic.Int64 // virtual users started and not yet finished
	Started     atomic.Int64 // requests that went to the wire
	Succeeded   atomic.Int64 // good responses
	Failed      atomic.Int64 // failed, interrupted or not sent
	HeaderBytes atomic.Int64 // response status lines and headers read
	BodyBytes   atomic.Int64 // response bodies read
	BytesSent   atomic.Int64 // request lines, headers and bodies written
	// Began is when the virtual users' ramp or the arrivals' schedule
	// began (Unix nanoseconds; 0 before): what their timing is measured
	// from.
	Began atomic.Int64
}

// LiveCounts is a snapshot of Live.
type LiveCounts struct {
	ActiveVUs, Started, Succeeded, Failed, HeaderBytes, BodyBytes, BytesSent int64
}

// Snapshot reads every counter.
func (l *Live) Snapshot() LiveCounts {
	return LiveCounts{l.ActiveVUs.Load(), l.Started.Load(), l.Succeeded.Load(), l.Failed.Load(), l.HeaderBytes.Load(), l.BodyBytes.Load(), l.BytesSent.Load()}
}
