package engine

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// A dispatcher waits for the next arrival on a timerfd read through Go's
// network poller: the kernel wakes it within microseconds, and while it
// waits its goroutine is parked, so its processor runs the VUs and polls
// their sockets. (Go's own timers wake up to a millisecond late, since
// the poller waits in whole milliseconds; a nanosleep, or a spin, keeps
// the processor from everything else, which with GOMAXPROCS 1 holds
// every response back until the runtime's 10 ms network poll.)
type preciseWaiter struct {
	f   *os.File
	fd  int // f's, kept: f.Fd() would make f blocking
	buf [8]byte
}

// newPreciseWaiter returns a waiter; on a kernel without timerfd it
// falls back to Go's timers.
func newPreciseWaiter() *preciseWaiter {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return &preciseWaiter{}
	}
	return &preciseWaiter{f: os.NewFile(uintptr(fd), "timerfd"), fd: fd}
}

// sleep waits for about d (d > 0), with Go's timers when the timerfd
// fails.
func (w *preciseWaiter) sleep(d time.Duration) {
	if w.f == nil || w.wait(d) != nil {
		time.Sleep(d)
	}
}

// wait arms the timerfd for d and reads it.
func (w *preciseWaiter) wait(d time.Duration) error {
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(int64(d))}
	if err := unix.TimerfdSettime(w.fd, 0, &spec, nil); err != nil {
		return err
	}
	_, err := w.f.Read(w.buf[:])
	return err
}

func (w *preciseWaiter) close() {
	if w.f != nil {
		w.f.Close()
	}
}
