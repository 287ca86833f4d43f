package loadtest_test

import (
	"fmt"
	"time"

	"github.com/benchgate/benchgate/loadtest"
)

// ExampleCompareExecutions compares seven executions of a baseline with
// seven of a candidate whose checkout step answers 50% slower: the
// change of each metric with its interval, and the verdict.
func ExampleCompareExecutions() {
	execution := func(checkoutMicros float64, drift float64) *loadtest.Report {
		run := &loadtest.RunReport{Name: "shop", Latency: loadtest.NewLatency()}
		for k, us := range []float64{1000, checkoutMicros} {
			s := &loadtest.StepReport{Number: k + 1, Name: []string{"GET /cart", "POST /checkout"}[k], Latency: loadtest.NewLatency(), Sent: 100, Good: 100}
			for i := range 100 {
				s.Latency.Record(time.Duration(us * drift * (1 + 0.001*float64(i%11)) * float64(time.Microsecond)))
			}
			run.Steps = append(run.Steps, s)
		}
		return &loadtest.Report{Version: loadtest.ReportVersion, TotalTime: time.Second, Runs: []*loadtest.RunReport{run}}
	}
	var base, cur []*loadtest.Report
	for i := range 7 {
		drift := 1 + 0.01*float64(i%3) // the machine, from one execution to the next
		base = append(base, execution(2000, drift))
		cur = append(cur, execution(3000, drift))
	}
	c := loadtest.CompareExecutions(base, cur, loadtest.CompareOptions{Percentiles: []float64{50}})
	for _, d := range c.Deltas {
		if d.Metric == "p50" {
			fmt.Printf("%s %s: %s %s\n", d.Step, d.Metric, d.ChangeText(), d.Verdict)
		}
	}
	fmt.Println(len(c.Regressions()), "regression(s)")
	// Output:
	// GET /cart p50: +0.0% [-1.1%, +1.1%] no regression
	// POST /checkout p50: +50.1% [+48.5%, +51.6%] REGRESSED
	// 1 regression(s)
}
