package loadtest

import (
	"fmt"
	"math"
	"runtime"
	"runtime/metrics"
	"strings"
	"time"
)

// Generator says whether the load generator itself held up during the
// execution, from the Go runtime and from what the operating system says
// about the CPU the process got. A latency measured while the generator's
// goroutines waited to run (for a CPU another process held, or behind the
// generator's own work), or while it stopped for garbage collection, is
// partly the generator's latency, not the server's. When the figures
// show that (Saturated), Why says which figures and Cause whose doing it
// was; latency matchers then keep a verdict only where the generator's
// Delay could not have changed it (Refusal), and the baseline gate
// refuses one (Report.Invalid).
//
// Figures of the operating system are Linux's; Readings lists those that
// were read (a figure not read is zero, not "none").
type Generator struct {
	// Wall is the execution's wall time; Cores the GOMAXPROCS it ran
	// with.
	Wall  time.Duration `json:"wall,omitempty"`
	Cores int           `json:"cores,omitempty"`
	// CPU is the process's CPU time (getrusage, user + system) over the
	// wall time, per core (Cores): 1 means every core was busy for the
	// process. A server running in the same process (httptest) counts
	// too.
	CPU float64 `json:"cpu"`
	// GCShare is the share (0-1) of the process's CPU time that garbage
	// collection took: the runtime's own accounting (runtime/metrics
	// /cpu/classes: GC work, less the mark work done on otherwise idle
	// cores, over all busy time). It is a share of CPU, never of the
	// wall time, so GCShare × CPU ≤ CPU: "CPU 7% of 2 cores, GC 72% of
	// the time" cannot be said.
	GCShare float64 `json:"gc_share"`
	// SchedLatencyP99 and SchedLatencyMax are how long the process's
	// goroutines waited, runnable, before they ran (runtime/metrics
	// /sched/latencies): the wait for one of the runtime's Ps. A thread
	// the operating system does not run does not show here.
	SchedLatencyP99 time.Duration `json:"sched_latency_p99"`
	SchedLatencyMax time.Duration `json:"sched_latency_max"`
	// GCPause is the wall time the process stopped for garbage
	// collection. On a busy machine it includes time the operating
	// system did not run the process during a stop, so it can be long
	// while GCShare is small; the cause is then the machine, not GC.
	GCPause time.Duration `json:"gc_pause"`
	// Delay is how late a goroutine that sleeps DelayProbe woke, at the
	// 99th percentile over the run (DelayMax: the latest), measured by a
	// probe goroutine throughout: the timing error that the engine's own
	// timestamps may carry, whatever its cause (a neighbour, the
	// generator's own goroutines, GC). When goroutines waited more than
	// SaturatedSchedLatency for a P, Delay is at least SchedLatencyP99;
	// for an arrival-rate run whose start lag is the generator's doing,
	// at least LagP99. DelayMax is at least Delay.
	Delay    time.Duration `json:"delay"`
	DelayMax time.Duration `json:"delay_max"`
	// LagP99 is an arrival-rate run's start lag (Report.Arrivals.Lag) at
	// the 99th percentile: how late iterations began behind their
	// arrival. Latencies count from the arrival, so the lag is in them;
	// it is the generator's doing when the generator's CPU was near its
	// cores or Delay was high, otherwise the VUs were all busy (the
	// server's doing).
	LagP99 time.Duration `json:"lag_p99,omitempty"`
	// CPUPressure is the machine's CPU pressure at the end of the run
	// (/proc/pressure/cpu "some avg10", percent: the share of the last
	// 10 s in which at least one runnable task waited for a CPU);
	// CPUStall is the same over the run: the "some total" stall time's
	// growth over Wall (0-1).
	CPUPressure float64 `json:"cpu_pressure,omitempty"`
	CPUStall    float64 `json:"cpu_stall,omitempty"`
	// RunQueueWait is the time the process's threads spent runnable but
	// waiting for a CPU, summed over its threads (the second field of
	// /proc/self/task/*/schedstat, ns); RunQueueWaitPerSlice is that over
	// the time slices they ran: the mean wait each time a thread wanted
	// a CPU. On a quiet machine it is some microseconds.
	// RunQueueShare is RunQueueWait over RunQueueWait plus the process's
	// CPU time (0-1): the share of the time its threads were ready to
	// run that they spent waiting for a CPU. Below a few percent on a
	// quiet machine; the generator's own load does not raise it (it
	// runs at most Cores threads of Go code), other processes do.
	RunQueueWait         time.Duration `json:"run_queue_wait,omitempty"`
	RunQueueWaitPerSlice time.Duration `json:"run_queue_wait_per_slice,omitempty"`
	RunQueueShare        float64       `json:"run_queue_share,omitempty"`
	// InvoluntarySwitches counts the times the operating system took a
	// CPU from one of the process's threads (getrusage ru_nivcsw).
	InvoluntarySwitches int64 `json:"involuntary_switches,omitempty"`
	// Steal is the share (0-1) of the machine's CPU time that a
	// hypervisor gave to other guests (/proc/stat cpu steal) over the
	// run.
	Steal float64 `json:"steal,omitempty"`
	// CPULimit is the process's cgroup CPU limit in cores at the end of
	// the run (Machine.CPULimit; 0: none found). Throttled is the time
	// the limit held the process's runnable threads back over the wall
	// time (cpu.stat throttled_usec in cgroup v2, throttled_time in v1,
	// summed over CPUs, so capped at 1), ThrottledPeriods the share of
	// the CFS periods in which the process had work that it ran out of
	// its quota in (nr_throttled over nr_periods): of the process's
	// cgroup or the parent whose limit throttled it most. Throttled
	// threads also count as waiting on the run queue (RunQueueShare),
	// but no other process held the CPU.
	CPULimit         float64 `json:"cpu_limit,omitempty"`
	Throttled        float64 `json:"throttled,omitempty"`
	ThrottledPeriods float64 `json:"throttled_periods,omitempty"`
	// Readings names the operating system's figures that were read:
	// "pressure", "schedstat", "steal", "rusage", "throttling".
	Readings []string `json:"readings,omitempty"`
	// Saturated is true when the figures above make the latencies
	// untrustworthy; Why says which and by how much, Cause whose doing
	// it was (CauseQuota, CauseNeighbour, CauseGenerator, or "" when the
	// figures do not tell) and Advice what to do.
	Saturated bool   `json:"saturated,omitempty"`
	Cause     string `json:"cause,omitempty"`
	Why       string `json:"why,omitempty"`
	Advice    string `json:"advice,omitempty"`
}

// Causes of a saturated generator.
const (
	// CauseNeighbour: other processes took the CPU (the run queue, CPU
	// pressure or steal say so) while the generator's own CPU use was
	// below its cores.
	CauseNeighbour = "neighbour"
	// CauseGenerator: the generator used its cores itself (its CPU near
	// Cores, or GC a large share of it).
	CauseGenerator = "generator"
	// CauseQuota: the process's own cgroup CPU limit (Docker --cpus,
	// Kubernetes CPU limits, a CI runner's size) throttled it
	// (Throttled at BusyThrottled or more): not a neighbour, and not
	// cured by a quieter moment.
	CauseQuota = "quota"
)

// Thresholds of a saturated generator.
const (
	// SaturatedSchedLatency: 1% of the times a goroutine became
	// runnable (and at least 5 times), it waited longer than this to run.
	SaturatedSchedLatency = 5 * time.Millisecond
	// SaturatedDelay: the delay probe woke later than this at the 99th
	// percentile (and at least 5 times).
	SaturatedDelay = 5 * time.Millisecond
	// SaturatedLag: an arrival-rate run's start lag p99, when the
	// generator was the cause (its CPU at SaturatedCPU, or Delay late).
	SaturatedLag = 5 * time.Millisecond
	// SaturatedCPU: the process used this share of its cores: the
	// generator competes with itself.
	SaturatedCPU = 0.85
	// SaturatedGCShare: garbage collection took this share of the
	// process's CPU while the process used at least half its cores.
	SaturatedGCShare = 0.25
	// UnexplainedDelay: a delay probe this late (p99) makes a generator
	// saturated even when the operating system shows no contention and
	// the generator is not busy; below it, and above SaturatedDelay, the
	// probe's lateness must come with a cause the figures show.
	UnexplainedDelay = 4 * SaturatedDelay
	// BusyRunQueueShare: the process's threads spent this share of the
	// time they were ready to run waiting for a CPU (over at least 20
	// time slices): the machine's other processes held the CPUs. A
	// quiet two-core virtual machine running a generator and a CPU-bound
	// application in one process reads about 0.25 (its own threads wait
	// for each other), the same with two spinning threads per core
	// beside it 0.65.
	BusyRunQueueShare = 0.40
	// BusyCPUStall: where the run queue is not readable, the machine had
	// a task waiting for a CPU this share of the run.
	BusyCPUStall = 0.5
	// ownRunQueueWait: below this mean wait per time slice, goroutines
	// that waited for a P did so behind the generator's own work.
	ownRunQueueWait = 500 * time.Microsecond
	// BusySteal: a hypervisor took this share of the machine's CPU.
	BusySteal = 0.10
	// BusyThrottled: the process's cgroup CPU limit held its threads
	// back this share of the wall time (Throttled). A process within its
	// limit reads 0; one over it by half (a 0.5-core quota and a
	// single thread that wants a core) about 0.5.
	BusyThrottled = 0.10
	// DelayProbe is the delay probe's sleep.
	DelayProbe = 2 * time.Millisecond
)

// healthProbe holds what was read at the start of an execution.
type healthProbe struct {
	start    time.Time
	cpu      time.Duration
	sched    *metrics.Float64Histogram
	gcPauses *metrics.Float64Histogram
	classes  cpuClasses
	os       osSnapshot
	late     *Latency
	stop     chan struct{}
	done     chan struct{}
}

func processCPU() time.Duration {
	cpu, _, _ := processUsage()
	return cpu
}

func involuntarySwitches() (int64, bool) {
	_, n, ok := processUsage()
	return n, ok
}

// cpuClasses is the runtime's accounting of its CPU time (seconds).
type cpuClasses struct{ gc, gcIdle, idle, total float64 }

func readCPUClasses() cpuClasses {
	s := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}, {Name: "/cpu/classes/gc/mark/idle:cpu-seconds"},
		{Name: "/cpu/classes/idle:cpu-seconds"}, {Name: "/cpu/classes/total:cpu-seconds"}}
	metrics.Read(s)
	v := func(i int) float64 {
		if s[i].Value.Kind() != metrics.KindFloat64 {
			return 0
		}
		return s[i].Value.Float64()
	}
	return cpuClasses{gc: v(0), gcIdle: v(1), idle: v(2), total: v(3)}
}

// gcShare is GC's share of the busy CPU time between a and b.
func gcShare(a, b cpuClasses) float64 {
	gc := (b.gc - b.gcIdle) - (a.gc - a.gcIdle)
	busy := (b.total - b.idle) - (a.total - a.idle) - (b.gcIdle - a.gcIdle)
	if gc <= 0 || busy <= 0 {
		return 0
	}
	return math.Min(gc/busy, 1)
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
	p := &healthProbe{start: time.Now(), cpu: processCPU(), late: NewLatency(), stop: make(chan struct{}), done: make(chan struct{})}
	p.sched, p.gcPauses, _ = readHistograms()
	p.classes = readCPUClasses()
	p.os = readOS()
	go p.probe()
	return p
}

// probe sleeps DelayProbe again and again until stopped, recording how
// late it woke.
func (p *healthProbe) probe() {
	defer close(p.done)
	t := time.NewTimer(DelayProbe)
	defer t.Stop()
	for {
		at := time.Now()
		t.Reset(DelayProbe)
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.late.Record(max(time.Since(at)-DelayProbe, 0))
		}
	}
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

// finish stops the probe and reads the figures since its start; lag is
// an arrival-rate run's start lag (nil otherwise).
func (p *healthProbe) finish(lag *Latency) *Generator {
	close(p.stop)
	<-p.done
	wall := time.Since(p.start)
	sched, gc, _ := readHistograms()
	ds, dg := delta(sched, p.sched), delta(gc, p.gcPauses)
	cpu := processCPU()
	g := &Generator{Wall: wall, Cores: runtime.GOMAXPROCS(0),
		SchedLatencyP99: quantile(ds, 0.99), SchedLatencyMax: quantile(ds, 1), GCPause: histSum(dg),
		GCShare: gcShare(p.classes, readCPUClasses()),
		Delay:   p.late.Percentile(99), DelayMax: p.late.Max()}
	if wall > 0 {
		g.CPU = float64(cpu-p.cpu) / float64(wall) / float64(g.Cores)
	}
	if lag != nil && lag.Count() > 0 {
		g.LagP99 = lag.Percentile(99)
	}
	d := diff(p.os, readOS())
	if d.hasPressure {
		g.Readings = append(g.Readings, "pressure")
		g.CPUPressure = d.pressureAvg10
		if wall > 0 {
			g.CPUStall = math.Min(float64(d.pressureStall)/float64(wall), 1)
		}
	}
	if d.hasSchedstat {
		g.Readings = append(g.Readings, "schedstat")
		g.RunQueueWait = d.runQueueWait
		if d.slices > 0 {
			g.RunQueueWaitPerSlice = d.runQueueWait / time.Duration(d.slices)
		}
		if busy := d.runQueueWait + (cpu - p.cpu); busy > 0 {
			g.RunQueueShare = float64(d.runQueueWait) / float64(busy)
		}
	}
	if d.hasSteal {
		g.Readings = append(g.Readings, "steal")
		g.Steal = d.stealShare
	}
	if d.hasNivcsw {
		g.Readings = append(g.Readings, "rusage")
		g.InvoluntarySwitches = d.nivcsw
	}
	if d.hasThrottle {
		g.Readings = append(g.Readings, "throttling")
		g.CPULimit = d.cpuLimit
		if wall > 0 {
			g.Throttled = math.Min(float64(d.throttledTime)/float64(wall), 1)
		}
		if d.periods > 0 {
			g.ThrottledPeriods = float64(d.throttledPeriods) / float64(d.periods)
		}
	}
	var late, schedLate uint64
	late = uint64(p.late.CountOver(SaturatedDelay))
	if ds != nil {
		for i, c := range ds.Counts {
			if ds.Buckets[i] >= SaturatedSchedLatency.Seconds() {
				schedLate += c
			}
		}
	}
	g.judge(late, schedLate, d.slices)
	return g
}

// judge sets Saturated, Cause, Why and Advice from the figures. late is
// the number of probe wake-ups later than SaturatedDelay, schedLate the
// number of goroutine waits longer than SaturatedSchedLatency, slices the
// time slices the run queue figures cover. Delay becomes the larger of
// itself, the scheduling p99 and the start lag p99 when the lag is the
// generator's doing.
func (g *Generator) judge(late, schedLate uint64, slices int64) {
	pct := func(f float64) string { return fmt.Sprintf("%.0f%%", 100*f) }
	// goroutines that waited for one of the runtime's Ps while the
	// process's threads did not wait for a CPU: the generator has more
	// to run than its cores
	schedOwn := g.SchedLatencyP99 > SaturatedSchedLatency && schedLate >= 5 &&
		(!g.has("schedstat") || slices < 20 || g.RunQueueWaitPerSlice < ownRunQueueWait)
	own := g.CPU >= SaturatedCPU || schedOwn
	gcHeavy := g.GCShare >= SaturatedGCShare && g.CPU >= 0.5
	// the process's own CPU quota held it back: its threads waited on
	// the run queue, but for the quota, not for another process
	throttled := g.has("throttling") && g.Throttled >= BusyThrottled
	var neighbour []string
	if !throttled && g.has("schedstat") && slices >= 20 && g.RunQueueShare >= BusyRunQueueShare {
		neighbour = append(neighbour, fmt.Sprintf("its threads spent %s of the time they were ready to run waiting for a CPU (%v per time slice; a few %% when the machine is quiet)",
			pct(g.RunQueueShare), g.RunQueueWaitPerSlice.Round(time.Microsecond)))
	}
	if g.has("pressure") && g.CPUStall >= BusyCPUStall {
		neighbour = append(neighbour, fmt.Sprintf("the machine had tasks waiting for a CPU %s of the time (CPU pressure)", pct(g.CPUStall)))
	}
	if g.has("steal") && g.Steal >= BusySteal {
		neighbour = append(neighbour, fmt.Sprintf("the hypervisor took %s of the machine's CPU (steal)", pct(g.Steal)))
	}

	var why []string
	// A late probe where the operating system shows no one else holding
	// the CPU and the generator is not busy itself is the platform's
	// timer lateness (a virtual machine's, typically): the same in the
	// baseline and the candidate, and far from every request, so it
	// does not decide alone below UnexplainedDelay.
	readable := g.has("schedstat") || g.has("pressure") || g.has("steal") || g.has("throttling")
	delayed := g.Delay > SaturatedDelay && late >= 5 &&
		(!readable || own || throttled || len(neighbour) > 0 || g.Delay > UnexplainedDelay)
	if delayed {
		why = append(why, fmt.Sprintf("its goroutines woke up to %v late (p99 of a %v sleep; max %v; at most %v is sound)",
			g.Delay.Round(time.Microsecond), DelayProbe, g.DelayMax.Round(time.Microsecond), SaturatedDelay))
	}
	if g.SchedLatencyP99 > SaturatedSchedLatency && schedLate >= 5 {
		delayed = true
		why = append(why, fmt.Sprintf("its goroutines waited up to %v to run (p99; at most %v is sound)", g.SchedLatencyP99.Round(time.Microsecond), SaturatedSchedLatency))
		g.Delay = max(g.Delay, g.SchedLatencyP99)
	}
	if g.LagP99 > SaturatedLag && (own || delayed) {
		why = append(why, fmt.Sprintf("arrivals started up to %v late (start lag p99), which the latencies from the intended start charge to the server", g.LagP99.Round(time.Microsecond)))
		g.Delay = max(g.Delay, g.LagP99)
		delayed = true
	}
	g.DelayMax = max(g.DelayMax, g.Delay)
	if gcHeavy {
		why = append(why, fmt.Sprintf("garbage collection took %s of its CPU", pct(g.GCShare)))
	}
	if throttled {
		// every thread of the process stopped until the next period:
		// the latencies measured then carry the stop, whatever the
		// probe happened to see
		why = append(why, fmt.Sprintf("its cgroup's CPU limit of %.3g cores throttled it: out of quota in %s of the CFS periods it ran in, its run queues held back %s of the wall time (summed over CPUs)",
			g.CPULimit, pct(g.ThrottledPeriods), pct(g.Throttled)))
	}
	if !delayed && !gcHeavy && !throttled {
		return
	}
	g.Saturated = true
	usage := fmt.Sprintf("CPU %s of %d cores, GC %s of that", pct(g.CPU), g.Cores, pct(g.GCShare))
	switch {
	case throttled:
		g.Cause = CauseQuota
		g.Advice = "the process's CPU quota (cgroup cpu.max or cpu.cfs_quota_us: Docker --cpus, Kubernetes CPU limits, the CI runner's size) throttled it, which a quieter moment does not cure: raise the limit or lower the concurrency (or the arrival rate)"
	case own || gcHeavy:
		g.Cause = CauseGenerator
		g.Advice = "lower the concurrency (or the arrival rate), or give the generator more CPU"
		if len(neighbour) > 0 {
			g.Advice += "; other processes took the CPU too: " + strings.Join(neighbour, ", ")
		}
	case len(neighbour) > 0:
		g.Cause = CauseNeighbour
		why = append(why, neighbour...)
		g.Advice = "other processes held the CPU while the generator's own use was low: rerun on a quieter machine, or compare with a duet (both sides see the same neighbour)"
	default:
		g.Advice = "rerun on a quieter machine, or lower the concurrency"
	}
	if g.has("pressure") {
		usage += fmt.Sprintf("; CPU pressure %.0f%% (avg10)", g.CPUPressure)
	}
	if g.has("rusage") && g.Wall > 0 {
		usage += fmt.Sprintf("; %.0f involuntary context switches/s", float64(g.InvoluntarySwitches)/g.Wall.Seconds())
	}
	g.Why = strings.Join(why, ", ") + "; " + usage
}

func (g *Generator) has(reading string) bool {
	for _, r := range g.Readings {
		if r == reading {
			return true
		}
	}
	return false
}

// Refusal says why a verdict on a latency measured as got against an
// upper bound must be refused ("" when it stands). On a saturated
// generator, a pass by more than twice Delay stands: the generator's
// lateness only adds to a latency, and each request may carry more than
// one late wake-up (sending, receiving). A pass within that margin, or a
// fail, could be the generator's (or the busy machine's) doing, and is
// refused with the figures and the advice.
//
// what names the figure ("p95", "mean") in the reason.
func (g *Generator) Refusal(what string, got, bound time.Duration) string {
	if g == nil || !g.Saturated {
		return ""
	}
	margin := 2 * g.Delay
	if got <= bound && bound-got > margin {
		return ""
	}
	how := fmt.Sprintf("%s %v is within %v of the bound %v", what, got, margin, bound)
	if got > bound {
		how = fmt.Sprintf("%s %v is above the bound %v", what, got, bound)
	}
	msg := fmt.Sprintf("no verdict: %s while the load generator was late by up to %v (%s): %s",
		how, g.Delay.Round(time.Microsecond), g.causeText(), g.Why)
	if g.Advice != "" {
		msg += "; " + g.Advice
	}
	return msg
}

func (g *Generator) causeText() string {
	switch g.Cause {
	case CauseNeighbour:
		return "other processes took the CPU"
	case CauseGenerator:
		return "the generator's own work"
	case CauseQuota:
		return "its CPU quota throttled it"
	}
	return "cause unclear"
}

// Invalid says why the report's latencies cannot be trusted ("" when
// they can): the load generator was saturated, by its own work or by a
// busy machine. A comparison with a baseline refuses a verdict then;
// a latency bound asks Refusal, which keeps a verdict the generator's
// delay could not have changed.
func (r *Report) Invalid() string {
	if r == nil || r.Generator == nil || !r.Generator.Saturated {
		return ""
	}
	g := r.Generator
	state := "saturated" // by its own work, or the figures do not say
	switch g.Cause {
	case CauseNeighbour:
		state = "late"
	case CauseQuota:
		state = "throttled"
	}
	msg := fmt.Sprintf("measurement invalid: the load generator was %s (%s): %s", state, g.causeText(), g.Why)
	if g.Advice != "" {
		msg += "; " + g.Advice
	}
	return msg
}

// Health is the generator's health during the execution of the run's
// report (nil when unknown).
func (r *RunReport) Health() *Generator {
	if r == nil || r.report == nil {
		return nil
	}
	return r.report.Generator
}

// Health is the generator's health during the execution of the step's
// report (nil when unknown).
func (s *StepReport) Health() *Generator {
	if s == nil || s.report == nil {
		return nil
	}
	return s.report.Generator
}
