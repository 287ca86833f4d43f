//go:build unix

package loadtest

import (
	"fmt"
	"syscall"
)

// fdSlack is what a process needs open besides its connections (stdio,
// the event loops' epoll and wake pipes, a server in the same process).
const fdSlack = 64

// ensureOpenFiles makes room for conns connections in the open-file
// limit, raising the soft limit toward the hard one when it must. The
// error names both numbers.
func ensureOpenFiles(conns int) error {
	need := uint64(conns) + fdSlack
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return nil // nothing to go by: let the connects say it
	}
	if uint64(lim.Cur) >= need {
		return nil
	}
	if uint64(lim.Max) >= need {
		raised := lim
		setLimit(&raised.Cur, need)
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised); err == nil {
			return nil
		}
	}
	return fmt.Errorf("needs about %d open files (one per connection, plus %d), but the open-file limit is %d (hard limit %d); lower the concurrency or raise the limit (ulimit -n)",
		need, fdSlack, lim.Cur, lim.Max)
}

// setLimit sets a limit whose type is uint64 on Linux and macOS, int64
// on the BSDs.
func setLimit[T int64 | uint64](p *T, v uint64) { *p = T(v) }
