package loadtest_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/matchers"
	"github.com/benchgate/benchgate/scenario"
)

// TestSaturatedGeneratorRefusesVerdicts saturates the process on purpose
// (goroutines that spin on every core) while a plan runs: the report says
// the generator was late, the baseline gate refuses a verdict, a latency
// bound at the measured value is refused, and one far above it (an hour)
// keeps its pass: the generator's delay could not have changed it.
func TestSaturatedGeneratorRefusesVerdicts(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	t.Cleanup(srv.Close)
	plan := func() *loadtest.Report {
		return execute(t, loadtest.Runs(scenario.Run("r", scenario.Get(srv.URL)).Repeat(1_000_000)),
			loadtest.Concurrency(4), loadtest.KeepAlive(true), loadtest.TimeLimit(700*time.Millisecond))
	}
	healthy := plan()
	t.Logf("healthy: %+v", *healthy.Generator)

	var stop atomic.Bool
	var wg sync.WaitGroup
	for i := 0; i < 4*runtime.GOMAXPROCS(0); i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x := 0
			for !stop.Load() {
				for j := 0; j < 1_000_000; j++ {
					x += j
				}
			}
			_ = x
		}()
	}
	saturated := plan()
	stop.Store(true)
	wg.Wait()
	g := saturated.Generator
	t.Logf("saturated: %+v", *g)
	if !g.Saturated || !strings.Contains(saturated.Invalid(), "measurement invalid: the load generator was ") || g.Delay <= loadtest.SaturatedDelay {
		t.Fatalf("a saturated generator went unnoticed: %+v", *g)
	}
	p99 := saturated.Latency.Percentile(99)
	for name, m := range map[string]interface {
		Match(any) (bool, error)
	}{
		"HavePercentileBelow at the value": matchers.HavePercentileBelow(99, p99),
		"HaveLatency at the value":         matchers.HaveLatency(loadtest.Response, matchers.Percentile(99), p99),
		"HaveLatency, BeNumerically":       matchers.HaveLatency(loadtest.Response, matchers.Percentile(99), gomega.BeNumerically("<", p99+time.Millisecond)),
		"HaveLatency, another matcher":     matchers.HaveLatency(loadtest.Response, matchers.Percentile(99), gomega.BeNumerically(">", time.Duration(0))),
	} {
		_, err := m.Match(saturated)
		if err == nil || !strings.Contains(err.Error(), "the load generator was ") {
			t.Errorf("%s gave a verdict on a saturated run: %v", name, err)
		}
	}
	// a stored comparison refuses what the delay could decide
	// (TestStoredComparisonOnALateGenerator); one execution a side
	// decides nothing anyway
	if _, err := matchers.NotRegressFrom(healthy).Match(saturated); err == nil || !strings.Contains(err.Error(), "no verdict") {
		t.Errorf("NotRegressFrom gave a verdict on a saturated run: %v", err)
	}
	for name, m := range map[string]interface {
		Match(any) (bool, error)
	}{
		"HavePercentileBelow an hour": matchers.HavePercentileBelow(99, time.Hour),
		"HaveLatency an hour":         matchers.HaveLatency(loadtest.Response, matchers.Mean(), time.Hour),
		"HaveThroughputAtLeast 1/s":   matchers.HaveThroughputAtLeast(1),
	} {
		if ok, err := m.Match(saturated); !ok || err != nil {
			t.Errorf("%s: a pass the generator's delay (%v) could not have made was refused: %v, %v", name, g.Delay, ok, err)
		}
	}
}

// TestNeighbourShowsInHealth runs a CPU-bound neighbour (this test binary,
// with twice as many threads spinning as there are cores, for at most
// 2 s, killed at cleanup) beside a light plan (one user, a server that
// sleeps 1 ms). With the neighbour, the process's threads wait longer for
// a CPU (per time slice, or as a share of the time they were ready to
// run) than without it (on a shared machine the other
// jobs come and go, so up to three pairs of runs are tried, and one that
// shows it is enough), the machine's CPU pressure shows it, the
// generator's CPU stays low, and when the generator is judged late, the
// neighbour is named as the cause, not the generator's concurrency.
func TestNeighbourShowsInHealth(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the run queue and CPU pressure are Linux's")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Millisecond)
		io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	plan := func() *loadtest.Generator {
		return execute(t, loadtest.Runs(scenario.Run("r", scenario.Get(srv.URL)).Repeat(1_000_000)),
			loadtest.Concurrency(1), loadtest.KeepAlive(true), loadtest.TimeLimit(700*time.Millisecond)).Generator
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	neighbour := func() (stop func()) {
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), spinEnv+"=2s", fmt.Sprintf("GOMAXPROCS=%d", 2*runtime.NumCPU()))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		stop = func() {
			cmd.Process.Kill()
			cmd.Wait()
		}
		t.Cleanup(stop)
		return stop
	}
	var rose bool
	for try := 1; try <= 3 && !rose; try++ {
		quiet := plan()
		if !slices.Contains(quiet.Readings, "schedstat") {
			t.Skipf("no per-thread schedstat here: %v", quiet.Readings)
		}
		stop := neighbour()
		hog := plan()
		stop()
		t.Logf("try %d without the neighbour: %+v", try, *quiet)
		t.Logf("try %d with the neighbour: %+v", try, *hog)
		rose = hog.RunQueueWaitPerSlice > quiet.RunQueueWaitPerSlice || hog.RunQueueShare > quiet.RunQueueShare
		if slices.Contains(hog.Readings, "pressure") && hog.CPUStall < 0.5 {
			t.Errorf("CPU stall %.0f%% of the run with %d threads spinning on %d cores", 100*hog.CPUStall, 2*runtime.NumCPU(), runtime.NumCPU())
		}
		if hog.CPU >= loadtest.SaturatedCPU {
			t.Errorf("one user on a sleeping server used %.0f%% of the cores", 100*hog.CPU)
		}
		if hog.Saturated && (hog.Cause != loadtest.CauseNeighbour || !strings.Contains(hog.Advice, "duet")) {
			t.Errorf("a neighbour blamed on the generator: cause %q: %s; %s", hog.Cause, hog.Why, hog.Advice)
		}
	}
	if !rose {
		t.Errorf("in 3 tries, the run-queue wait per time slice was no longer, nor a larger share of the time, with the neighbour than without")
	}
}
