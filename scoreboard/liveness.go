package scoreboard

import (
	"fmt"
	"time"
)

// StaleAfter is how long a Running slot's heartbeat may go unstamped
// before a reader takes its writer for stopped: 20 heartbeat periods
// (HeartbeatEvery), room for the late ticks of a busy machine.
const StaleAfter = 20 * HeartbeatEvery

// DeadAfter is how long a Running slot's heartbeat must have gone
// unstamped, 3 heartbeat periods, before a reader that finds no process
// of the slot's pid on its host takes the writer for dead. A writer that
// still beats is never called dead, even when the reader cannot see its
// pid (a container of its own pid namespace sharing the board's file).
const DeadAfter = 3 * HeartbeatEvery

// Liveness is what a reader can tell, from a slot and the processes of
// its host, of the slot's writer.
type Liveness int

// The liveness of a slot's writer.
const (
	// Live: the slot is not Running (Idle or Done: nothing to check),
	// or its heartbeat is fresh.
	Live Liveness = iota
	// Stale: the slot is Running but its heartbeat is older than
	// StaleAfter, and its pid is a process on this host (stopped,
	// hung, or the pid taken by another process) or cannot be checked:
	// its process may have died.
	Stale
	// Dead: the slot is Running, its heartbeat is older than DeadAfter
	// and its pid is no process on this host: its process died.
	Dead
)

// String returns "live", "stale" or "dead".
func (l Liveness) String() string {
	switch l {
	case Live:
		return "live"
	case Stale:
		return "stale"
	case Dead:
		return "dead"
	}
	return fmt.Sprintf("Liveness(%d)", int(l))
}

// Age is how long before now the slot's heartbeat was stamped (0 when
// it never was).
func (c Counts) Age(now time.Time) time.Duration {
	if c.Heartbeat.IsZero() {
		return 0
	}
	return now.Sub(c.Heartbeat)
}

// WriterExists reports whether the slot's pid is a process on this
// host (kill(pid, 0) on Unix: a process of another user counts), and
// whether that could be told at all (not without a pid, nor off Unix).
// A pid is only a process's while it runs: after it died, another may
// take it.
func (c Counts) WriterExists() (exists, known bool) {
	if c.PID <= 0 {
		return false, false
	}
	return processExists(c.PID)
}

// Liveness tells, at now, whether the slot's writer still writes: Live
// unless the slot is Running with a heartbeat older than DeadAfter and
// no process of its pid on this host (Dead), or older than StaleAfter
// (Stale). A board's file is only shared on one host, so the pid is
// looked up on the reader's.
func (c Counts) Liveness(now time.Time) Liveness {
	if c.State != Running || c.Heartbeat.IsZero() {
		return Live
	}
	age := c.Age(now)
	if age > DeadAfter {
		if exists, known := c.WriterExists(); known && !exists {
			return Dead
		}
	}
	if age > StaleAfter {
		return Stale
	}
	return Live
}
