package loadtest_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/benchgate/benchgate/demoapp"
	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/matchers"
	"github.com/benchgate/benchgate/scenario"
)

// TestGateStudy measures the gate itself (up to two hours, so only with
// BENCHGATE_GATE_STUDY=1; BENCHGATE_GATE_STUDY_TRIALS=1 for a smoke
// run of a few minutes): against the demo application, how often
// an unchanged build is called a regression (false alarms), and how
// often a slowdown of one endpoint by 50%, 20%, 10% and 5% is caught,
// with a stored baseline (10 executions recorded first, 3 per trial) and
// in duet mode (adaptive, the default 60 s budget), with the verdicts'
// three-way counts and the time each took. The README's figures come
// from it:
//
//	BENCHGATE_GATE_STUDY=1 go test ./loadtest -run TestGateStudy -v -timeout 150m
func TestGateStudy(t *testing.T) {
	if os.Getenv("BENCHGATE_GATE_STUDY") == "" {
		t.Skip("set BENCHGATE_GATE_STUDY=1 to measure the gate (about ten minutes)")
	}
	trials := 20
	if n, err := strconv.Atoi(os.Getenv("BENCHGATE_GATE_STUDY_TRIALS")); err == nil && n > 0 {
		trials = n // a smoke run of the study: BENCHGATE_GATE_STUDY_TRIALS=1
	}
	// BENCHGATE_GATE_STUDY_NEIGHBOUR=1: a CPU-bound neighbour process
	// (one spinning thread per core, twice over) during part of every
	// candidate: its first execution in stored mode, the first 5 s of a
	// duet.
	busy := os.Getenv("BENCHGATE_GATE_STUDY_NEIGHBOUR") != ""
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	neighbour := func(d time.Duration) (wait func()) {
		if !busy {
			return func() {}
		}
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), spinEnv+"="+d.String(), fmt.Sprintf("GOMAXPROCS=%d", 2*runtime.NumCPU()))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		return func() { cmd.Wait() }
	}
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
	caught := func(c *loadtest.Comparison) (slowStep, other bool, verdict loadtest.Verdict) {
		verdict = loadtest.NoRegression
		if c.Refused != "" {
			verdict = "refused"
		} else if len(c.Regressions()) > 0 {
			verdict = loadtest.Regressed
		} else if len(c.Inconclusive()) > 0 {
			verdict = loadtest.Inconclusive
		}
		for _, d := range c.Regressions() {
			switch d.Step {
			case "GET " + endpoint:
				slowStep = true
			case "(iterations)": // the run's rate follows its slowest step
			default:
				other = true
			}
			t.Logf("    flagged %s / %s %s: %s %s", d.Run, d.Step, d.Metric, d.ChangeText(), loadtest.FormatP(d.P))
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
	var base []*loadtest.Report
	for range 10 {
		base = append(base, execute())
	}
	for _, slowdown := range []float64{0, 0.50, 0.20, 0.10, 0.05} {
		app.SlowDown("/work", slowdown)
		hits, stray := 0, 0
		verdicts := map[loadtest.Verdict]int{}
		var change float64
		var took time.Duration
		for i := 0; i < trials; i++ {
			start := time.Now()
			wait := neighbour(1500 * time.Millisecond)
			cur := []*loadtest.Report{execute()}
			wait()
			cur = append(cur, execute(), execute())
			c := loadtest.CompareExecutions(base, cur, loadtest.CompareOptions{})
			took += time.Since(start) / time.Duration(trials)
			s, o, v := caught(c)
			// what a spec gets: NotRegressFrom refuses what a late
			// generator could have decided
			if _, err := matchers.NotRegressFrom(base).Match(cur); errors.Is(err, matchers.ErrLateGenerator) {
				t.Logf("    refused: %v", err)
				s, o, v = false, false, "refused"
			}
			verdicts[v]++
			if s {
				hits++
			}
			if o {
				stray++
			}
			for _, d := range c.Deltas {
				if d.Step == "GET "+endpoint && d.Metric == "p50" && d.Run == "ann" {
					change += d.Change / float64(trials)
				}
			}
		}
		report("baseline  slowdown %3.0f%% (measured p50 %+5.1f%%): slow step flagged %2d of %d; verdicts %v; other steps flagged %d; %v per verdict",
			slowdown*100, change*100, hits, trials, verdicts, stray, took.Round(100*time.Millisecond))
	}
	app.SlowDown("/work", 0)

	// Duet.
	appA, appB := demoapp.New(), demoapp.New()
	srvA, srvB := httptest.NewServer(appA), httptest.NewServer(appB)
	defer srvA.Close()
	defer srvB.Close()
	for _, slowdown := range []float64{0, 0.50, 0.20, 0.10, 0.05} {
		appB.SlowDown("/work", slowdown)
		hits, stray := 0, 0
		verdicts := map[loadtest.Verdict]int{}
		var change float64
		var took time.Duration
		for i := 0; i < trials; i++ {
			wait := neighbour(5 * time.Second)
			d, err := loadtest.Duet(context.Background(), func(url string) *loadtest.Plan { return plan(url, 0) },
				srvA.URL, srvB.URL, loadtest.DuetOptions{}) // the defaults: 60 s, rounds of 500 ms
			wait()
			if err != nil {
				t.Fatal(err)
			}
			took += d.Comparison.Elapsed / time.Duration(trials)
			s, o, v := caught(d.Comparison)
			verdicts[v]++
			if s {
				hits++
			}
			if o {
				stray++
			}
			for _, x := range d.Comparison.Deltas {
				if x.Step == "GET "+endpoint && x.Metric == "p50" && x.Run == "ann" {
					change += x.Change / float64(trials)
				}
			}
		}
		report("duet      slowdown %3.0f%% (measured p50 %+5.1f%%): slow step flagged %2d of %d; verdicts %v; other steps flagged %d; %v per verdict",
			slowdown*100, change*100, hits, trials, verdicts, stray, took.Round(100*time.Millisecond))
	}
	fmt.Println(strings.Join(lines, "\n"))
}
