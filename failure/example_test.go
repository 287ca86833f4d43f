package failure_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"

	"github.com/benchgate/benchgate/failure"
)

// KindOf reads an error's type, not its words: the same refused
// connection said two ways is one kind, and a text that only says
// "timeout" is no timeout.
func ExampleKindOf() {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	fmt.Println(failure.KindOf(fmt.Errorf("connect: %w", refused)))
	fmt.Println(failure.KindOf(fmt.Errorf("the server would not take the connection (%w)", refused)))
	fmt.Println(failure.KindOf(fmt.Errorf("body: %w after 10 bytes", io.ErrUnexpectedEOF)))
	fmt.Println(failure.KindOf(errors.New("i/o timeout")))
	fmt.Println(failure.KindOf(failure.Wrap(failure.StreamReset, errors.New("RST_STREAM REFUSED_STREAM"))))
	// Output:
	// connect
	// connect
	// connection_closed
	// other
	// stream_reset
}
