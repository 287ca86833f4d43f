package loadtest

import (
	"fmt"
	"math"
	"runtime"
	"runtime/metrics"
	"strings"
	"syscall"
	"time"
)

// Generator says whether the load generator itself held up during the
// execution. A latency measured while the generator's goroutines waited
// to run, or while it stopped for garbage collection, is the generator's
// latency, not the server's: latency matchers and the baseline gate
// refuse a verdict on a report whose generator was saturated.
type Generator struct {
	// CPU is the process's CPU time over the wall time, per core
	// (GOMAXPROCS): 1 means every core was busy. A server running in the
	// same process (httptest) counts too.
	CPU float64 `json:"cpu"`
	// SchedLatencyP99 and SchedLatencyMax are how long the process's
	// goroutines waited, runnable, before they ran (runtime/metrics
	// /sched/latencies): the delay the engine's own timestamps may carry.
	SchedLatencyP99 time.Duration `json:"sched_latency_p99"`
	SchedLatencyMax time.Duration `json:"sched_latency_max"`
	// GCPause is the time the process stopped for garbage collection.
	GCPause time.Duration `json:"gc_pause"`
	// Saturated is true when the figures above make the latencies
	// untrustworthy; Why says which and by how much.
	Saturated bool   `json:"saturated,omitempty"`
	Why       string `json:"why,omitempty"`
}

// Thresholds of a saturated generator.
const (
	// SaturatedSchedLatency: 1% of the times a goroutine became
	// runnable (and at least 5 times), it waited longer than this to run.
	SaturatedSchedLatency = 5 * time.Millisecond
	// SaturatedGCFraction: the process was stopped for GC this share of
	// the wall time (and for at least 50 ms in all).
	SaturatedGCFraction = 0.10
)

// healthProbe holds what was read at the start of an execution.
type healthProbe struct {
	start    time.Time
	cpu      time.Duration
	samples  []metrics.Sample
	sched    *metrics.Float64Histogram
	gcPauses *metrics.Float64Histogram
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func readHistograms() (sched, gc *metrics.Float64Histogram, samples []metrics.Sample) {
	samples = []metrics.Sample{{Name: "/sched/latencies:seconds"}, {Name: "/sched/pauses/total/gc:seconds"}}
	metrics.Read(samples)
	pick := func(s metrics.Sample) *metrics.Float64Histogram {
		if s.Value.Kind() != metrics.KindFloat64Histogram {
			return nil
		}
		h := s.Value.Float64Histogram()
		return &metrics.Float64Histogram{Counts: append([]uint64(nil), h.Counts...), Buckets: append([]float64(nil), h.Buckets...)}
	}
	return pick(samples[0]), pick(samples[1]), samples
}

func startHealth() *healthProbe {
	p := &healthProbe{start: time.Now(), cpu: processCPU()}
	p.sched, p.gcPauses, p.samples = readHistograms()
	return p
}

// delta subtracts b's counts from a's (same buckets).
func delta(a, b *metrics.Float64Histogram) *metrics.Float64Histogram {
	if a == nil || b == nil || len(a.Counts) != len(b.Counts) {
		return nil
	}
	d := &metrics.Float64Histogram{Counts: make([]uint64, len(a.Counts)), Buckets: a.Buckets}
	for i := range a.Counts {
		d.Counts[i] = a.Counts[i] - b.Counts[i]
	}
	return d
}

// quantile returns the upper bound of the bucket holding quantile q.
func quantile(h *metrics.Float64Histogram, q float64) time.Duration {
	if h == nil {
		return 0
	}
	var total uint64
	for _, c := range h.Counts {
		total += c
	}
	if total == 0 {
		return 0
	}
	want := uint64(math.Ceil(q * float64(total)))
	var seen uint64
	for i, c := range h.Counts {
		seen += c
		if seen >= want {
			hi := h.Buckets[i+1]
			if math.IsInf(hi, 1) {
				hi = h.Buckets[i]
			}
			return time.Duration(hi * float64(time.Second))
		}
	}
	return 0
}

// histSum estimates the total of a histogram's values from its bucket
// midpoints.
func histSum(h *metrics.Float64Histogram) time.Duration {
	if h == nil {
		return 0
	}
	var s float64
	for i, c := range h.Counts {
		lo, hi := h.Buckets[i], h.Buckets[i+1]
		if math.IsInf(lo, -1) {
			lo = 0
		}
		if math.IsInf(hi, 1) {
			hi = lo
		}
		s += float64(c) * (lo + hi) / 2
	}
	return time.Duration(s * float64(time.Second))
}

// finish reads the probe's figures since its start.
func (p *healthProbe) finish() *Generator {
	wall := time.Since(p.start)
	sched, gc, _ := readHistograms()
	ds, dg := delta(sched, p.sched), delta(gc, p.gcPauses)
	g := &Generator{SchedLatencyP99: quantile(ds, 0.99), SchedLatencyMax: quantile(ds, 1), GCPause: histSum(dg)}
	if wall > 0 {
		g.CPU = float64(processCPU()-p.cpu) / float64(wall) / float64(runtime.GOMAXPROCS(0))
	}
	var why []string
	// The rules need enough to go by: one late goroutine or one GC cycle
	// in a run of a few milliseconds says nothing.
	var late uint64
	if ds != nil {
		for i, c := range ds.Counts {
			if ds.Buckets[i] >= SaturatedSchedLatency.Seconds() {
				late += c
			}
		}
	}
	if g.SchedLatencyP99 > SaturatedSchedLatency && late >= 5 {
		why = append(why, fmt.Sprintf("its goroutines waited up to %v to run (p99; at most %v is sound)", g.SchedLatencyP99.Round(time.Microsecond), SaturatedSchedLatency))
	}
	if wall > 0 && float64(g.GCPause)/float64(wall) > SaturatedGCFraction && g.GCPause >= 50*time.Millisecond {
		why = append(why, fmt.Sprintf("it stopped for garbage collection %.0f%% of the time", 100*float64(g.GCPause)/float64(wall)))
	}
	if len(why) > 0 {
		g.Saturated = true
		g.Why = fmt.Sprintf("%s; CPU %.0f%% of %d cores", strings.Join(why, ", "), 100*g.CPU, runtime.GOMAXPROCS(0))
	}
	return g
}

// Invalid says why the report's latencies cannot be trusted ("" when
// they can): the load generator was saturated.
func (r *Report) Invalid() string {
	if r == nil || r.Generator == nil || !r.Generator.Saturated {
		return ""
	}
	return "measurement invalid: the load generator was saturated: " + r.Generator.Why + "; lower the concurrency or give it more CPU"
}
