//go:build linux

package engine

import (
	"crypto/tls"
	"fmt"
	"net"
	"syscall"
	"time"
)

// idleWarning is recorded when a kept-alive connection spoke between two
// requests: those bytes answer no request of ours.
const idleWarning = "%d unsolicited bytes arrived on the idle kept-alive connection: connection closed"

// idleData looks, without blocking, at a kept-alive connection before it
// is reused. warn is set when bytes arrived while it was idle (they must
// never be read as the next response); gone when the server closed it.
func idleData(nc net.Conn) (warn string, gone bool) {
	switch c := nc.(type) {
	case *net.TCPConn:
		rc, err := c.SyscallConn()
		if err != nil {
			return "", false
		}
		var buf [512]byte
		n, rerr := 0, error(nil)
		err = rc.Read(func(fd uintptr) bool {
			n, rerr = rawPeek(int(fd), buf[:])
			return true
		})
		switch {
		case err != nil:
			return "", true
		case rerr == syscall.EAGAIN || rerr == syscall.EINTR:
			return "", false
		case rerr != nil || n == 0:
			return "", true // reset or closed: a new connection will do
		}
		return fmt.Sprintf(idleWarning, n), true
	case *tls.Conn:
		// A read with a deadline in the past processes what the server
		// sent while the connection was idle (session tickets among it)
		// and returns application data only if some came.
		var buf [512]byte
		c.SetReadDeadline(time.Unix(1, 0))
		n, err := c.Read(buf[:])
		c.SetReadDeadline(time.Time{})
		if n > 0 {
			return fmt.Sprintf(idleWarning, n), true
		}
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			return "", false
		}
		return "", err != nil
	}
	return "", false
}

// peekFd reports how many bytes wait unread on a non-blocking socket.
func peekFd(fd int) int {
	var buf [512]byte
	n, err := rawPeek(fd, buf[:])
	if err != nil {
		return 0
	}
	return n
}

// awaitReadable waits until a TCP connection has a byte to read, the
// peer closed it, or its read deadline passed, without a buffer to read
// into. Other connections (TLS: bytes need decrypting) return at once.
func awaitReadable(nc net.Conn) error {
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		return nil
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return nil
	}
	var one [1]byte
	return rc.Read(func(fd uintptr) bool {
		_, err := rawPeek(int(fd), one[:])
		return err != syscall.EAGAIN // ready, closed or failed: the read that follows says which
	})
}
