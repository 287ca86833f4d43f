package engine

import (
	"os"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A VU of the open model waits for its arrival on a timerfd read through
// Go's network poller: the kernel wakes it within microseconds, and
// while it waits its goroutine is parked, so its processor runs the
// other VUs and polls their sockets. (Go's own timers wake up to a
// millisecond late, since the poller waits in whole milliseconds; a
// nanosleep, or a spin, keeps the processor from everything else, which
// with GOMAXPROCS 1 holds every response back until the runtime's 10 ms
// network poll.) A read deadline in the past interrupts the wait when
// the execution stops.
type preciseWaiter struct {
	f     *os.File
	fd    int // f's, kept: f.Fd() would make f blocking
	rc    syscall.RawConn
	buf   [8]byte
	stop  <-chan struct{} // closed when the execution stops (the fallback's)
	timer *time.Timer     // the fallback's

	rd    func(fd uintptr) bool // reads the timerfd; made once (it escapes)
	errno error                 // rd's read's error
}

// newPreciseWaiter returns a waiter; on a kernel without timerfd, or
// where its reads cannot be interrupted, it falls back to Go's timers.
func newPreciseWaiter() *preciseWaiter {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return &preciseWaiter{}
	}
	f := os.NewFile(uintptr(fd), "timerfd")
	rc, err := f.SyscallConn()
	if err != nil || f.SetReadDeadline(time.Time{}) != nil {
		f.Close()
		return &preciseWaiter{}
	}
	return &preciseWaiter{f: f, fd: fd, rc: rc}
}

// until waits until at; false when it was interrupted (the execution
// stopped).
func (w *preciseWaiter) until(at time.Time) bool {
	for {
		d := time.Until(at)
		if d <= 0 {
			return true
		}
		if w.f == nil {
			return w.fallback(d)
		}
		if err := w.wait(d); err != nil {
			if os.IsTimeout(err) {
				return false
			}
			w.f.Close()
			w.f = nil
		}
	}
}

// wait arms the timerfd for d and reads it, with raw system calls (see
// rawOf): the wait itself is in the network poller.
func (w *preciseWaiter) wait(d time.Duration) error {
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(int64(d))}
	if _, _, e := syscall.RawSyscall6(unix.SYS_TIMERFD_SETTIME, uintptr(w.fd), 0, uintptr(unsafe.Pointer(&spec)), 0, 0, 0); e != 0 {
		return e
	}
	if w.rd == nil {
		w.rd = func(fd uintptr) bool {
			_, w.errno = rawRead(int(fd), w.buf[:])
			return w.errno != syscall.EAGAIN && w.errno != syscall.EINTR
		}
	}
	w.errno = nil
	err := w.rc.Read(w.rd)
	if err == nil {
		err = w.errno
	}
	return err
}

// interrupt ends the wait in progress and every later one.
func (w *preciseWaiter) interrupt() {
	if f := w.f; f != nil {
		f.SetReadDeadline(time.Unix(1, 0))
	}
}

func (w *preciseWaiter) close() {
	if w.f != nil {
		w.f.Close()
	}
	if w.timer != nil {
		w.timer.Stop()
	}
}
