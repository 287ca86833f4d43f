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

// rawRW reads and writes through a connection's RawConn without an
// allocation per call: a closure passed to RawConn.Read escapes, so a
// slot makes its two once and they take their buffer and leave their
// results in its fields.
type rawRW struct {
	b      []byte
	n      int
	errno  error
	rd, wr func(fd uintptr) bool
}

// read reads into b through rc, waiting in the network poller while
// nothing is there; errno is the read's own error.
func (r *rawRW) read(rc syscall.RawConn, b []byte) (n int, errno, err error) {
	if r.rd == nil {
		r.rd = func(fd uintptr) bool {
			for {
				r.n, r.errno = rawRead(int(fd), r.b)
				if r.errno != syscall.EINTR {
					return r.errno != syscall.EAGAIN
				}
			}
		}
	}
	r.b, r.n, r.errno = b, 0, nil
	err = rc.Read(r.rd)
	n, errno, r.b = r.n, r.errno, nil
	return n, errno, err
}

// write writes b through rc, waiting while the socket is full.
func (r *rawRW) write(rc syscall.RawConn, b []byte) (done int, errno, err error) {
	if r.wr == nil {
		r.wr = func(fd uintptr) bool {
			for r.n < len(r.b) {
				n, e := rawWrite(int(fd), r.b[r.n:])
				switch e {
				case nil:
					r.n += n
				case syscall.EINTR:
				case syscall.EAGAIN:
					return false
				default:
					r.errno = e
					return true
				}
			}
			return true
		}
	}
	r.b, r.n, r.errno = b, 0, nil
	err = rc.Write(r.wr)
	done, errno, r.b = r.n, r.errno, nil
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
