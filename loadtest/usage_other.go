//go:build !unix && !windows

package loadtest

import "time"

// processUsage cannot read the process's CPU time here.
func processUsage() (cpu time.Duration, nivcsw int64, ok bool) { return 0, 0, false }
