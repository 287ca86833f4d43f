//go:build linux

package faultserver

import (
	"fmt"
	"net"
	"syscall"
	"time"
)

// SYNDrop returns a loopback address whose listener never accepts and
// whose accept queue is full: the kernel drops further SYNs, so a
// connect there never completes (as behind a firewall that drops). stop
// releases it.
func SYNDrop() (addr string, stop func(), err error) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return "", nil, err
	}
	sa := &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}
	if err := syscall.Bind(fd, sa); err != nil {
		syscall.Close(fd)
		return "", nil, err
	}
	if err := syscall.Listen(fd, 0); err != nil {
		syscall.Close(fd)
		return "", nil, err
	}
	bound, err := syscall.Getsockname(fd)
	if err != nil {
		syscall.Close(fd)
		return "", nil, err
	}
	addr = fmt.Sprintf("127.0.0.1:%d", bound.(*syscall.SockaddrInet4).Port)
	// Fill the accept queue until a connect stalls.
	var fillers []net.Conn
	for i := 0; i < 8; i++ {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err != nil {
			break
		}
		fillers = append(fillers, c)
	}
	return addr, func() {
		for _, c := range fillers {
			c.Close()
		}
		syscall.Close(fd)
	}, nil
}
