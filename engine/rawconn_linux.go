//go:build linux

package engine

import (
	"net"
	"syscall"
	"unsafe"
)

// rawOf returns the raw connection of a plain TCP connection, nil for
// others (TLS). A VU or a slot goroutine reads and writes through it
// with raw system calls: the socket is non-blocking, so they never
// block, and they skip the runtime's syscall bookkeeping, which wakes
// the runtime's monitor thread from its sleep whenever the process
// was idle (about two thread switches per request at a steady rate).
// Under the race detector the connection's own methods serve: raw I/O
// carries none of the happens-before edges they give it (see
// raceEnabled).
func rawOf(nc net.Conn) syscall.RawConn {
	tc, ok := nc.(*net.TCPConn)
	if !ok || raceEnabled {
		return nil
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}

// rawConnRead reads into b through rc, waiting in the network poller
// while nothing is there; errno is the read's own error.
func rawConnRead(rc syscall.RawConn, b []byte) (n int, errno, err error) {
	err = rc.Read(func(fd uintptr) bool {
		for {
			n, errno = rawRead(int(fd), b)
			if errno != syscall.EINTR {
				return errno != syscall.EAGAIN
			}
		}
	})
	return n, errno, err
}

// rawConnWrite writes b through rc, waiting while the socket is full.
func rawConnWrite(rc syscall.RawConn, b []byte) (done int, errno, err error) {
	err = rc.Write(func(fd uintptr) bool {
		for done < len(b) {
			n, e := rawWrite(int(fd), b[done:])
			switch e {
			case nil:
				done += n
			case syscall.EINTR:
			case syscall.EAGAIN:
				return false
			default:
				errno = e
				return true
			}
		}
		return true
	})
	return done, errno, err
}

// rawPeek is recv(2) with MSG_PEEK|MSG_DONTWAIT, without the runtime's
// syscall bookkeeping.
func rawPeek(fd int, b []byte) (int, error) {
	n, _, e := syscall.RawSyscall6(syscall.SYS_RECVFROM, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)),
		syscall.MSG_PEEK|syscall.MSG_DONTWAIT, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}
