package loadtest_test

import (
	"fmt"
	"time"

	"github.com/benchgate/benchgate/loadtest"
)

// A generator that woke up to 5 ms late keeps a p95 of 12 ms under a
// 200 ms bound: its lateness could not have made that pass. The same p95
// under a 15 ms bound, or above it, gets no verdict.
func ExampleGenerator_Refusal() {
	g := &loadtest.Generator{Saturated: true, Cause: loadtest.CauseNeighbour, Delay: 5 * time.Millisecond,
		Why: "its goroutines woke up to 5ms late", Advice: "rerun on a quieter machine, or compare with a duet"}
	fmt.Printf("%q\n", g.Refusal("p95", 12*time.Millisecond, 200*time.Millisecond))
	fmt.Println(g.Refusal("p95", 12*time.Millisecond, 15*time.Millisecond))
	// Output:
	// ""
	// no verdict: p95 12ms is within 10ms of the bound 15ms while the load generator was late by up to 5ms (other processes took the CPU): its goroutines woke up to 5ms late; rerun on a quieter machine, or compare with a duet
}
