//go:build !linux

package engine

import (
	"net"
	"syscall"
)

// rawOf: raw reads and writes are for Linux; elsewhere the connection's
// own methods serve.
func rawOf(net.Conn) syscall.RawConn { return nil }

// rawRW is never used where rawOf returns nil.
type rawRW struct{}

func (*rawRW) read(syscall.RawConn, []byte) (int, error, error)  { panic("unreachable") }
func (*rawRW) write(syscall.RawConn, []byte) (int, error, error) { panic("unreachable") }
