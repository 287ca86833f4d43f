package loadtest

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// hostClock describes the host's clock as the kernel sees it: whether
// it is synchronised (by NTP, PTP, …) and its estimated and maximum
// error.
func hostClock() string {
	var tx unix.Timex
	state, err := unix.Adjtimex(&tx)
	if err != nil {
		return "unknown: " + err.Error()
	}
	const staUnsync, timeError = 0x40, 5
	est, maxe := time.Duration(tx.Esterror)*time.Microsecond, time.Duration(tx.Maxerror)*time.Microsecond
	if state == timeError || tx.Status&staUnsync != 0 {
		return fmt.Sprintf("not synchronised (maximum error %v)", maxe)
	}
	return fmt.Sprintf("synchronised, estimated error %v, maximum error %v", est, maxe)
}
