package loadtest_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/benchgate/benchgate/demoapp"
	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

// TestGateStudy measures the gate itself (about ten minutes, so only with
// BENCHGATE_GATE_STUDY=1): against the demo application, how often an
// unchanged rerun is called a regression (false alarms), and how often a
// slowdown of one endpoint by 20%, 10% and 5% is caught, with a stored
// baseline and in duet mode. The README's figures come from it:
//
//	BENCHGATE_GATE_STUDY=1 go test ./loadtest -run TestGateStudy -v -timeout 30m
func TestGateStudy(t *testing.T) {
	if os.Getenv("BENCHGATE_GATE_STUDY") == "" {
		t.Skip("set BENCHGATE_GATE_STUDY=1 to measure the gate (about ten minutes)")
	}
	const trials = 20
	const endpoint = "/work?us=2000"
	plan := func(url string, limit time.Duration) *loadtest.Plan {
		var runs []*scenario.Sequence
		for _, u := range []string{"ann"} { // one user: the injected time is not blurred by contention
			runs = append(runs, scenario.Run(u, scenario.Get(endpoint), scenario.Get("/")).Order(scenario.DepthFirst).Repeat(1_000_000))
		}
		opts := []loadtest.Option{loadtest.Runs(runs...), loadtest.BaseURL(url), loadtest.Concurrency(1), loadtest.KeepAlive(true)}
		if limit > 0 {
			opts = append(opts, loadtest.TimeLimit(limit))
		}
		return loadtest.New(opts...)
	}
	caught := func(c *loadtest.Comparison) (slowStep, other bool) {
		for _, d := range c.Regressions() {
			switch d.Step {
			case "GET " + endpoint:
				slowStep = true
			case "(iterations)": // the run's rate follows its slowest step
			default:
				other = true
			}
			t.Logf("    flagged %s / %s %s: %+.1f%% p=%.5f", d.Run, d.Step, d.Metric, d.Change*100, d.P)
		}
		return
	}
	var lines []string
	report := func(format string, args ...any) {
		line := fmt.Sprintf(format, args...)
		lines = append(lines, line)
		t.Log(line)
	}

	// Stored baseline.
	app := demoapp.New()
	srv := httptest.NewServer(app)
	defer srv.Close()
	execute := func() *loadtest.Report {
		r, err := plan(srv.URL, 1500*time.Millisecond).Execute(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	base := execute()
	for _, slowdown := range []float64{0, 0.20, 0.10, 0.05} {
		app.SlowDown("/work", slowdown)
		hits, stray, undecided := 0, 0, 0
		var change float64
		for i := 0; i < trials; i++ {
			c := loadtest.Compare(base, execute(), loadtest.CompareOptions{})
			s, o := caught(c)
			if s {
				hits++
			}
			if o {
				stray++
			}
			if len(c.Undecided()) > 0 {
				undecided++
			}
			for _, d := range c.Deltas {
				if d.Step == "GET "+endpoint && d.Metric == "p50" && d.Run == "ann" {
					change += d.Change / trials
				}
			}
		}
		report("baseline  slowdown %3.0f%% (measured p50 %+5.1f%%): flagged %2d of %d, other steps flagged %d, no verdict %d",
			slowdown*100, change*100, hits, trials, stray, undecided)
	}
	app.SlowDown("/work", 0)

	// Duet.
	appA, appB := demoapp.New(), demoapp.New()
	srvA, srvB := httptest.NewServer(appA), httptest.NewServer(appB)
	defer srvA.Close()
	defer srvB.Close()
	for _, slowdown := range []float64{0, 0.20, 0.10, 0.05} {
		appB.SlowDown("/work", slowdown)
		hits, stray, undecided := 0, 0, 0
		var change float64
		for i := 0; i < trials; i++ {
			d, err := loadtest.Duet(context.Background(), func(url string) *loadtest.Plan { return plan(url, 0) },
				srvA.URL, srvB.URL, loadtest.DuetOptions{Rounds: 12, RoundTime: 100 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			s, o := caught(d.Comparison)
			if s {
				hits++
			}
			if o {
				stray++
			}
			if len(d.Comparison.Undecided()) > 0 {
				undecided++
			}
			for _, x := range d.Comparison.Deltas {
				if x.Step == "GET "+endpoint && x.Metric == "p50" && x.Run == "ann" {
					change += x.Change / trials
				}
			}
		}
		report("duet      slowdown %3.0f%% (measured p50 %+5.1f%%): flagged %2d of %d, other steps flagged %d, no verdict %d",
			slowdown*100, change*100, hits, trials, stray, undecided)
	}
	fmt.Println(strings.Join(lines, "\n"))
}
