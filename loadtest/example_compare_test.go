package loadtest_test

import (
	"fmt"
	"strings"
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

// ExampleConfirmComparison confirms a stored comparison's regression by
// a rerun: the first candidate executions were slow (a neighbour, say),
// the rerun's are not, so the regression is not confirmed.
func ExampleConfirmComparison() {
	executions := func(checkoutMicros float64) []*loadtest.Report {
		var out []*loadtest.Report
		for i := range 6 {
			s := &loadtest.StepReport{Number: 1, Name: "POST /checkout", Latency: loadtest.NewLatency(), Sent: 100, Good: 100}
			for j := range 100 {
				s.Latency.Record(time.Duration(checkoutMicros * (1 + 0.004*float64(i%3)) * (1 + 0.001*float64(j%11)) * float64(time.Microsecond)))
			}
			run := &loadtest.RunReport{Name: "shop", Latency: loadtest.NewLatency(), Steps: []*loadtest.StepReport{s}}
			out = append(out, &loadtest.Report{Version: loadtest.ReportVersion, TotalTime: time.Second, Runs: []*loadtest.RunReport{run}})
		}
		return out
	}
	opts := loadtest.CompareOptions{Percentiles: []float64{50}, GatedSpecs: 1}
	base := executions(2000)
	first := loadtest.CompareExecutions(base, executions(3000), opts)
	fmt.Println(len(first.Regressions()), "regression(s) at first")
	c := loadtest.ConfirmComparison(first, loadtest.CompareExecutions(base, executions(2000), opts))
	for _, d := range c.Deltas {
		if d.Metric == "p50" {
			fmt.Printf("%s %s: %s (%s)\n", d.Step, d.Metric, d.Verdict, d.Why)
		}
	}
	fmt.Println(len(c.Regressions()), "regression(s) confirmed")
	// Output:
	// 1 regression(s) at first
	// POST /checkout p50: no regression (the first executions flagged +50.0% [+49.4%, +50.7%], the rerun did not: not confirmed)
	// 0 regression(s) confirmed
}

// ExampleComparison_WriteHTML writes a comparison's page: per step both
// sides' latency distributions and each change with its interval, the
// verdict at the top.
func ExampleComparison_WriteHTML() {
	execution := func(us float64) *loadtest.Report {
		s := &loadtest.StepReport{Number: 1, Name: "POST /checkout", Latency: loadtest.NewLatency(), Sent: 100, Good: 100}
		for j := range 100 {
			s.Latency.Record(time.Duration(us * (1 + 0.001*float64(j%11)) * float64(time.Microsecond)))
		}
		run := &loadtest.RunReport{Name: "shop", Latency: loadtest.NewLatency(), Steps: []*loadtest.StepReport{s}}
		return &loadtest.Report{Version: loadtest.ReportVersion, TotalTime: time.Second, Runs: []*loadtest.RunReport{run}}
	}
	var base, cur []*loadtest.Report
	for range 6 {
		base, cur = append(base, execution(2000)), append(cur, execution(3000))
	}
	c := loadtest.CompareExecutions(base, cur, loadtest.CompareOptions{Percentiles: []float64{50}})
	var page strings.Builder
	if err := c.WriteHTML(&page); err != nil { // to a file: os.Create("comparison.html")
		fmt.Println(err)
	}
	fmt.Println(strings.Count(page.String(), `class="cdf-line"`), "distributions drawn")
	fmt.Println(strings.Contains(page.String(), "<strong>Regressed: 1 metric(s)</strong>"))
	// Output:
	// 2 distributions drawn
	// true
}
