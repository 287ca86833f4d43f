//go:build !linux

package engine

import (
	"net"
	"syscall"
)

// rawOf: raw reads and writes are for Linux; elsewhere the connection's
// own methods serve.
func rawOf(net.Conn) syscall.RawConn { return nil }

func rawConnRead(syscall.RawConn, []byte) (int, error, error)  { panic("unreachable") }
func rawConnWrite(syscall.RawConn, []byte) (int, error, error) { panic("unreachable") }
