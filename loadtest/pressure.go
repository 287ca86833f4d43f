package loadtest

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// What the operating system says about the CPU the process got: read at
// the start and the end of an execution (pressure_linux.go), compared
// here. Every parser takes the text of one /proc file and fails with the
// field it could not read; none of them panics on any input
// (FuzzOSParsers).

// osSnapshot is one reading of the operating system's figures. A field
// whose source is absent (another OS, an older kernel, a sandbox) stays
// unset and its has-flag false.
type osSnapshot struct {
	// /proc/pressure/cpu "some" line: avg10 in percent (0-100), total in
	// microseconds since boot during which at least one runnable task of
	// the machine waited for a CPU.
	hasPressure   bool
	pressureAvg10 float64
	pressureTotal time.Duration

	// /proc/self/task/*/schedstat per thread id: time on a CPU, time
	// waiting on a run queue (both ns), time slices run.
	hasSchedstat bool
	threads      map[int]schedstat

	// /proc/stat "cpu" line, in clock ticks: steal and the sum of all
	// fields (the machine's CPU time).
	hasSteal   bool
	steal      uint64
	totalTicks uint64

	// getrusage: involuntary context switches of the whole process.
	hasNivcsw bool
	nivcsw    int64

	// cpu.stat of the process's cgroup and of its parents with a CPU
	// limit (machine.go), by directory.
	hasThrottle bool
	throttle    map[string]throttling
	cpuLimit    float64 // the tightest limit, cores (0: none)
}

// schedstat is one thread's /proc/<pid>/task/<tid>/schedstat.
type schedstat struct {
	run, wait time.Duration
	slices    int64
}

// parsePressure reads the "some" line of /proc/pressure/cpu:
//
//	some avg10=97.59 avg60=96.74 avg300=92.93 total=1761243835
//	full avg10=0.00 avg60=0.00 avg300=0.00 total=0
func parsePressure(text string) (avg10 float64, total time.Duration, err error) {
	for _, line := range strings.Split(text, "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || fields[0] != "some" {
			continue
		}
		var haveAvg, haveTotal bool
		for _, f := range fields[1:] {
			k, v, ok := strings.Cut(f, "=")
			if !ok {
				return 0, 0, fmt.Errorf("cpu pressure: field %q: want key=value", f)
			}
			switch k {
			case "avg10":
				a, err := strconv.ParseFloat(v, 64)
				if err != nil || a < 0 || a > 100 {
					return 0, 0, fmt.Errorf("cpu pressure: avg10 %q: want a percentage", v)
				}
				avg10, haveAvg = a, true
			case "total":
				t, err := strconv.ParseUint(v, 10, 63)
				if err != nil || t > uint64(1<<63-1)/uint64(time.Microsecond) {
					return 0, 0, fmt.Errorf("cpu pressure: total %q: want microseconds", v)
				}
				total, haveTotal = time.Duration(t)*time.Microsecond, true
			}
		}
		if !haveAvg || !haveTotal {
			return 0, 0, fmt.Errorf("cpu pressure: %q: want avg10= and total=", line)
		}
		return avg10, total, nil
	}
	return 0, 0, fmt.Errorf("cpu pressure: no \"some\" line in %q", truncate(text))
}

// parseSchedstat reads a thread's schedstat: "run_ns wait_ns slices".
func parseSchedstat(text string) (schedstat, error) {
	fields := strings.Fields(text)
	if len(fields) != 3 {
		return schedstat{}, fmt.Errorf("schedstat %q: want 3 fields (run ns, wait ns, slices)", truncate(text))
	}
	var n [3]int64
	for i, f := range fields {
		v, err := strconv.ParseInt(f, 10, 64)
		if err != nil || v < 0 {
			return schedstat{}, fmt.Errorf("schedstat field %d %q: want a count", i+1, f)
		}
		n[i] = v
	}
	return schedstat{run: time.Duration(n[0]), wait: time.Duration(n[1]), slices: n[2]}, nil
}

// parseProcStat reads the machine's "cpu" line of /proc/stat: user nice
// system idle iowait irq softirq steal guest guest_nice (clock ticks).
// Guest time is already counted in user and nice, so it is not added.
func parseProcStat(text string) (steal, total uint64, err error) {
	for _, line := range strings.Split(text, "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || fields[0] != "cpu" {
			continue
		}
		if len(fields) < 9 {
			return 0, 0, fmt.Errorf("/proc/stat cpu line %q: no steal field (want at least 8 figures)", truncate(line))
		}
		for i, f := range fields[1:] {
			v, err := strconv.ParseUint(f, 10, 64)
			if err != nil {
				return 0, 0, fmt.Errorf("/proc/stat cpu field %d %q: want ticks", i+1, f)
			}
			if i < 8 {
				if total+v < total {
					return 0, 0, fmt.Errorf("/proc/stat cpu line: total overflows")
				}
				total += v
			}
			if i == 7 {
				steal = v
			}
		}
		return steal, total, nil
	}
	return 0, 0, fmt.Errorf("/proc/stat: no cpu line")
}

func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// osDelta is what the OS figures say about the time between two
// snapshots.
type osDelta struct {
	hasPressure   bool
	pressureAvg10 float64       // at the end, percent
	pressureStall time.Duration // some total, end - start

	hasSchedstat bool
	runQueueWait time.Duration // summed over the threads
	slices       int64

	hasSteal   bool
	stealShare float64 // of the machine's CPU time

	hasNivcsw bool
	nivcsw    int64

	// the cgroup directory whose CPU limit throttled the process most
	hasThrottle      bool
	throttledTime    time.Duration // its run queues' throttled time, summed over CPUs
	throttledPeriods int64         // CFS periods it ran out of quota in
	periods          int64         // CFS periods it had runnable tasks in
	cpuLimit         float64       // cores, at the end
}

// diff compares a snapshot taken at the start (a) with one at the end
// (b). A thread that appeared during the run counts from zero; one that
// exited is left out (its figures went with it). A counter that went
// backwards (a reset) gives no figure rather than a negative one.
func diff(a, b osSnapshot) osDelta {
	var d osDelta
	if a.hasPressure && b.hasPressure && b.pressureTotal >= a.pressureTotal {
		d.hasPressure, d.pressureAvg10, d.pressureStall = true, b.pressureAvg10, b.pressureTotal-a.pressureTotal
	}
	if a.hasSchedstat && b.hasSchedstat {
		d.hasSchedstat = true
		for tid, end := range b.threads {
			start := a.threads[tid]
			if end.wait < start.wait || end.slices < start.slices {
				continue // another thread with a reused id
			}
			d.runQueueWait += end.wait - start.wait
			d.slices += end.slices - start.slices
		}
	}
	if a.hasSteal && b.hasSteal && b.totalTicks > a.totalTicks && b.steal >= a.steal {
		d.hasSteal, d.stealShare = true, float64(b.steal-a.steal)/float64(b.totalTicks-a.totalTicks)
	}
	if a.hasNivcsw && b.hasNivcsw && b.nivcsw >= a.nivcsw {
		d.hasNivcsw, d.nivcsw = true, b.nivcsw-a.nivcsw
	}
	if a.hasThrottle && b.hasThrottle {
		d.cpuLimit = b.cpuLimit
		for dir, end := range b.throttle {
			start, ok := a.throttle[dir]
			if !ok || end.time < start.time || end.throttled < start.throttled || end.periods < start.periods {
				continue // a cgroup joined during the run, or a reset
			}
			d.hasThrottle = true
			if t := end.time - start.time; t >= d.throttledTime {
				d.throttledTime, d.throttledPeriods, d.periods = t, end.throttled-start.throttled, end.periods-start.periods
			}
		}
	}
	return d
}
