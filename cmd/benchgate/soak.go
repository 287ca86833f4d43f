package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/benchgate/benchgate/engine"
	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

// soakSample is one line of the soak log.
type soakSample struct {
	at         time.Duration
	requests   int64
	failed     int64
	heapMB     float64
	goroutines int
}

// runSoak keeps the demo scenario running against the demo application
// for a duration and samples the process's heap and goroutines, to show
// they stay flat. It fails when either grows past a bound.
func runSoak(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("soak", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	duration := fs.DurationP("duration", "d", 10*time.Minute, "how long to keep the load on")
	concurrency := fs.IntP("concurrency", "c", 32, "connection slots")
	every := fs.Duration("every", 30*time.Second, "how often to print a sample")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	base, stopApp, err := startDemoApp()
	if err != nil {
		fmt.Fprintln(stderr, "benchgate soak:", err)
		return 1
	}
	defer stopApp()
	fmt.Fprintf(stdout, "soak: demo scenario at concurrency %d for %v against %s\n", *concurrency, *duration, base)
	fmt.Fprintf(stdout, "%10s %12s %10s %9s %10s %11s\n", "elapsed", "requests", "req/s", "failed", "heap MB", "goroutines")

	start := time.Now()
	var samples []soakSample
	var total, failed int64
	lastPrint, lastTotal := time.Duration(0), int64(0)
	sample := func() {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		at := time.Since(start)
		s := soakSample{at: at, requests: total, failed: failed, heapMB: float64(ms.HeapAlloc) / (1 << 20), goroutines: runtime.NumGoroutine()}
		samples = append(samples, s)
		rate := float64(total-lastTotal) / (at - lastPrint).Seconds()
		fmt.Fprintf(stdout, "%10v %12d %10.0f %9d %10.1f %11d\n", at.Round(time.Second), total, rate, failed, s.heapMB, s.goroutines)
		lastPrint, lastTotal = at, total
	}
	for time.Since(start) < *duration && ctx.Err() == nil {
		left := *duration - time.Since(start)
		plan := DemoPlan(base, 500, *concurrency, loadtest.KeepLevel(scenario.KeepTotals), loadtest.TimeLimit(min(left, *every)))
		report, err := plan.Execute(ctx)
		if report != nil {
			total += report.RequestsSent
			failed += report.ResponsesFailed - interrupted(report)
		}
		if err != nil {
			break
		}
		if time.Since(start)-lastPrint >= *every || len(samples) == 0 {
			sample()
		}
	}
	sample()
	return soakVerdict(stdout, samples)
}

// soakVerdict compares the second half of the run with its first sample
// after warm-up: heap within 50% (and 32 MB), goroutines equal.
func soakVerdict(w io.Writer, samples []soakSample) int {
	if len(samples) < 3 {
		fmt.Fprintln(w, "soak: too short to judge (fewer than 3 samples)")
		return 0
	}
	base := samples[1]
	maxHeap, maxG := base.heapMB, base.goroutines
	for _, s := range samples[len(samples)/2:] {
		maxHeap = max(maxHeap, s.heapMB)
		maxG = max(maxG, s.goroutines)
	}
	last := samples[len(samples)-1]
	fmt.Fprintf(w, "soak: %d requests, %d failed; heap %.1f MB after warm-up, at most %.1f MB in the second half; goroutines %d, at most %d\n",
		last.requests, last.failed, base.heapMB, maxHeap, base.goroutines, maxG)
	if maxHeap > base.heapMB*1.5+32 || maxG > base.goroutines+2 {
		fmt.Fprintln(w, "soak: FAIL: memory or goroutines grew")
		return 1
	}
	fmt.Fprintln(w, "soak: flat")
	return 0
}

// interrupted counts the requests the plan's time limit cut short: the
// soak's own chunking, not a failure of the application.
func interrupted(r *loadtest.Report) (n int64) {
	for _, run := range r.Runs {
		for _, st := range run.Steps {
			for reason, k := range st.Failures {
				if strings.HasPrefix(reason, engine.ErrTimeLimit.Error()) {
					n += k
				}
			}
		}
	}
	return n
}
