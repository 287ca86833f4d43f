package loadtest

import (
	"os"
	"strconv"
)

// readOS reads the operating system's figures; a file that is absent or
// does not parse leaves its figure out.
func readOS() osSnapshot {
	var s osSnapshot
	if b, err := os.ReadFile("/proc/pressure/cpu"); err == nil {
		if avg, total, err := parsePressure(string(b)); err == nil {
			s.hasPressure, s.pressureAvg10, s.pressureTotal = true, avg, total
		}
	}
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		if steal, total, err := parseProcStat(string(b)); err == nil {
			s.hasSteal, s.steal, s.totalTicks = true, steal, total
		}
	}
	s.threads, s.hasSchedstat = readThreads()
	s.nivcsw, s.hasNivcsw = involuntarySwitches()
	s.throttle, s.cpuLimit, s.hasThrottle = readThrottling()
	return s
}

// readThrottling reads cpu.stat in the process's cgroup and in its
// parents that set a CPU limit (a file without the throttling counts,
// such as a cgroup v2 without the cpu controller, is left out).
func readThrottling() (map[string]throttling, float64, bool) {
	lim := readCPULimit()
	out := map[string]throttling{}
	for _, d := range lim.dirs {
		b, err := os.ReadFile(d.path + "/cpu.stat")
		if err != nil {
			continue
		}
		if t, err := parseCPUStat(string(b), d.v2); err == nil {
			out[d.path] = t
		}
	}
	return out, lim.cores, len(out) > 0
}

// readThreads reads the schedstat of each of the process's threads
// (/proc/self/schedstat alone is the main thread's).
func readThreads() (map[int]schedstat, bool) {
	d, err := os.Open("/proc/self/task")
	if err != nil {
		return nil, false
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return nil, false
	}
	threads := make(map[int]schedstat, len(names))
	for _, name := range names {
		tid, err := strconv.Atoi(name)
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/self/task/" + name + "/schedstat")
		if err != nil {
			continue // exited since the listing
		}
		st, err := parseSchedstat(string(b))
		if err != nil {
			return nil, false
		}
		threads[tid] = st
	}
	return threads, len(threads) > 0
}
