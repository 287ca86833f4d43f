package loadtest

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"os"
	"path"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Machine is what a baseline records of the machine an execution ran
// on: its fingerprint, and how long it took for a fixed CPU workload.
type Machine struct {
	CPU        string `json:"cpu"` // the processor's model name ("" when unknown)
	Cores      int    `json:"cores"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	OS         string `json:"os"`
	Arch       string `json:"arch"`
	GoVersion  string `json:"go_version"`
	// Calibration is the fastest of CalibrationRepeats timings of a
	// fixed single-threaded CPU workload (about 2.5 ms each on a current
	// x86 core): the machine's speed at the moment, as the code under
	// test would see it.
	Calibration time.Duration `json:"calibration"`
	// CPULimit is the CPU the process's cgroup allows, in cores (a
	// quota: cgroup v2 cpu.max, v1 cpu.cfs_quota_us over
	// cpu.cfs_period_us; the tightest of the process's cgroup and its
	// parents): how Docker --cpus, Kubernetes CPU limits and many CI
	// runners make a machine slower. 0: no limit found (none set, not
	// Linux, or the cgroup files not readable). CPULimitFrom names the
	// file it came from.
	CPULimit     float64 `json:"cpu_limit,omitempty"`
	CPULimitFrom string  `json:"cpu_limit_from,omitempty"`
	// CPUs is the CPU the machine gives the process, in cores: Cores,
	// or CPULimit where that is lower. GOMAXPROCS is left out: it bounds
	// only the Go code of this process, not a server under test in
	// another one, and Go derives it from the limit anyway (rounded up).
	// A stored comparison is refused when the baseline's CPUs and this
	// machine's differ by more than MaxCalibrationRatio either way. 0 in
	// a baseline recorded before the figure was kept: unknown, and not
	// checked.
	CPUs float64 `json:"cpus,omitempty"`
}

// CalibrationRepeats is how many times ThisMachine times the workload
// (the fastest counts: a neighbour can only slow a timing).
const CalibrationRepeats = 20

// ThisMachine returns this machine's fingerprint and calibration
// (about 50 ms of one core; short timings, so that one of them likely runs between a neighbour's time slices),
// and the process's cgroup CPU limit (CPULimit, CPUs).
//
// The calibration cannot see a CPU quota, and is not made to: a CFS
// quota lets a burst run at full speed until the period's quota is
// spent, so a timing sees it only when it lasts longer than the quota
// of a period (at a half-core quota and the usual 100 ms period, more
// than 50 ms of work, and more than two periods to be sure it is not
// one period's fresh quota): 200 ms of one core or more on every
// machine, for every record and every comparison. And a single-threaded
// timing does not see a limit of one core or more at all, although the
// application's and the generator's threads together do. The limit is
// read instead, exactly, from the cgroup files, and compared as such
// (Baseline's refusal on CPUs); the generator's health reads the
// throttling the limit caused during each execution (Generator.Throttled).
func ThisMachine() *Machine {
	m := &Machine{CPU: cpuModel(), Cores: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0),
		OS: runtime.GOOS, Arch: runtime.GOARCH, GoVersion: runtime.Version()}
	if lim := readCPULimit(); lim.cores > 0 {
		m.CPULimit, m.CPULimitFrom = lim.cores, lim.from
	}
	m.CPUs = effectiveCPUs(m.Cores, m.CPULimit)
	for range CalibrationRepeats {
		start := time.Now()
		calibrationSink += calibrationWork()
		if d := time.Since(start); m.Calibration == 0 || d < m.Calibration {
			m.Calibration = d
		}
	}
	return m
}

// String prints the fingerprint and the calibration on one line.
func (m *Machine) String() string {
	if m == nil {
		return "unknown"
	}
	cpu := m.CPU
	if cpu == "" {
		cpu = "CPU model unknown"
	}
	limit := ""
	if m.CPULimit > 0 {
		limit = fmt.Sprintf(", CPU limit %.3g cores (%s)", m.CPULimit, m.CPULimitFrom)
	}
	return fmt.Sprintf("%s, %d cores%s, GOMAXPROCS %d, %s/%s, %s, calibration %v", cpu, m.Cores, limit, m.GOMAXPROCS, m.OS, m.Arch, m.GoVersion, roundSig(m.Calibration))
}

// effectiveCPUs is the CPU a machine of cores cores under a limit of
// limit cores (0: none) gives a process.
func effectiveCPUs(cores int, limit float64) float64 {
	c := float64(cores)
	if limit > 0 && (c <= 0 || limit < c) {
		return limit
	}
	return c
}

var calibrationSink uint64

// calibrationWork is the fixed workload: integer mixing over a small
// table (the CPU and its first-level cache, no allocation, no system
// call).
func calibrationWork() uint64 {
	var table [4096]uint64
	x := uint64(0x9e3779b97f4a7c15)
	for i := range 1_000_000 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		j := x & 4095
		table[j] += x + uint64(i)
	}
	var s uint64
	for _, v := range table {
		s ^= v
	}
	return s
}

// cpuModel reads the processor's model name (Linux), "" elsewhere.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// The process's cgroup CPU limit. Every parser takes the text of one
// file and fails with the field it could not read; none panics on any
// input (FuzzCgroupParsers).

// cgroupMount is a cgroup file system's mount (/proc/self/mountinfo):
// v2 (cgroup2), or v1 with the cpu controller.
type cgroupMount struct {
	v2    bool
	root  string // the cgroup path the mount shows at point
	point string // where it is mounted
}

// parseMountinfo returns the cgroup2 mounts and the cgroup v1 mounts of
// the cpu controller in /proc/self/mountinfo:
//
//	32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
//	41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
func parseMountinfo(text string) []cgroupMount {
	var out []cgroupMount
	for _, line := range strings.Split(text, "\n") {
		pre, post, ok := strings.Cut(line, " - ")
		if !ok {
			continue
		}
		f, g := strings.Fields(pre), strings.Fields(post)
		if len(f) < 5 || len(g) < 1 {
			continue
		}
		m := cgroupMount{root: unescapeMount(f[3]), point: unescapeMount(f[4])}
		switch g[0] {
		case "cgroup2":
			m.v2 = true
		case "cgroup":
			if len(g) < 3 || !hasOption(g[2], "cpu") {
				continue
			}
		default:
			continue
		}
		out = append(out, m)
	}
	return out
}

// unescapeMount undoes mountinfo's octal escapes of space, tab, newline
// and backslash.
func unescapeMount(s string) string {
	if !strings.Contains(s, "\\") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func hasOption(opts, want string) bool {
	for _, o := range strings.Split(opts, ",") {
		if o == want {
			return true
		}
	}
	return false
}

// parseProcCgroup reads /proc/self/cgroup: the process's cgroup v2 path
// (the "0::" line) and its cgroup v1 cpu controller's path (the line
// whose controllers include cpu, as "cpu" or "cpu,cpuacct"); "" where
// there is none.
//
//	1:cpu:/benchgate-study-42
//	0::/user.slice/session-1.scope
func parseProcCgroup(text string) (v2, v1 string, err error) {
	for _, line := range strings.Split(text, "\n") {
		if line == "" {
			continue
		}
		id, rest, ok := strings.Cut(line, ":")
		ctrl, p, ok2 := strings.Cut(rest, ":")
		if !ok || !ok2 || !strings.HasPrefix(p, "/") {
			return "", "", fmt.Errorf("/proc/self/cgroup line %q: want id:controllers:/path", truncate(line))
		}
		switch {
		case id == "0" && ctrl == "":
			v2 = p
		case hasOption(ctrl, "cpu"):
			v1 = p
		}
	}
	return v2, v1, nil
}

// parseCPUMax reads a cgroup v2 cpu.max: "max 100000" (no limit: 0) or
// "50000 100000" (half a core).
func parseCPUMax(text string) (float64, error) {
	f := strings.Fields(text)
	if len(f) != 2 {
		return 0, fmt.Errorf("cpu.max %q: want quota and period", truncate(text))
	}
	period, err := strconv.ParseUint(f[1], 10, 63)
	if err != nil || period == 0 {
		return 0, fmt.Errorf("cpu.max period %q: want microseconds", f[1])
	}
	if f[0] == "max" {
		return 0, nil
	}
	quota, err := strconv.ParseUint(f[0], 10, 63)
	if err != nil || quota == 0 {
		return 0, fmt.Errorf("cpu.max quota %q: want microseconds or max", f[0])
	}
	return float64(quota) / float64(period), nil
}

// parseCFSQuota reads a cgroup v1 cpu.cfs_quota_us and
// cpu.cfs_period_us: -1 is no limit (0).
func parseCFSQuota(quotaText, periodText string) (float64, error) {
	q, err := strconv.ParseInt(strings.TrimSpace(quotaText), 10, 64)
	if err != nil || q == 0 || q < -1 {
		return 0, fmt.Errorf("cpu.cfs_quota_us %q: want microseconds or -1", truncate(quotaText))
	}
	if q == -1 {
		return 0, nil
	}
	p, err := strconv.ParseInt(strings.TrimSpace(periodText), 10, 64)
	if err != nil || p <= 0 {
		return 0, fmt.Errorf("cpu.cfs_period_us %q: want microseconds", truncate(periodText))
	}
	return float64(q) / float64(p), nil
}

// cpuLimit is a cgroup CPU limit found, and the directories whose
// cpu.stat says how often it throttled the process.
type cpuLimit struct {
	cores float64 // 0: none
	from  string  // the file the tightest limit came from
	// dirs are the cgroup directories (the process's, and its parents'
	// with a limit) whose cpu.stat counts its throttling; v2 is true
	// for cgroup v2 ones.
	dirs []cgroupDir
}

type cgroupDir struct {
	path string
	v2   bool
}

// findCPULimit walks from the process's cgroup up to the mount's root,
// in each cgroup file system of mountinfo, and returns the tightest CPU
// limit found; readFile reads a file (os.ReadFile, or a table in a
// test). A file not readable is no limit.
func findCPULimit(procCgroup, mountinfo string, readFile func(string) ([]byte, error)) cpuLimit {
	var lim cpuLimit
	v2, v1, err := parseProcCgroup(procCgroup)
	if err != nil {
		return lim
	}
	for _, m := range parseMountinfo(mountinfo) {
		p := v1
		if m.v2 {
			p = v2
		}
		if p == "" {
			continue
		}
		// the path as the mount shows it: below the mount's root (a
		// container's mount shows its own cgroup as the root)
		rel := p
		if m.root != "/" {
			if p != m.root && !strings.HasPrefix(p, m.root+"/") {
				continue
			}
			rel = p[len(m.root):]
		}
		dir := path.Join(m.point, rel)
		for first := true; ; first = false {
			cores, from := limitIn(dir, m.v2, readFile)
			if cores > 0 && (lim.cores == 0 || cores < lim.cores) {
				lim.cores, lim.from = cores, from
			}
			if first || cores > 0 {
				lim.dirs = append(lim.dirs, cgroupDir{path: dir, v2: m.v2})
			}
			if dir == m.point || !strings.HasPrefix(dir, m.point+"/") {
				break
			}
			dir = path.Dir(dir)
		}
	}
	return lim
}

// limitIn reads the CPU limit of one cgroup directory (0: none).
func limitIn(dir string, v2 bool, readFile func(string) ([]byte, error)) (float64, string) {
	if v2 {
		b, err := readFile(dir + "/cpu.max")
		if err != nil {
			return 0, ""
		}
		c, err := parseCPUMax(string(b))
		if err != nil || c <= 0 {
			return 0, ""
		}
		return c, fmt.Sprintf("%s/cpu.max %q", dir, strings.TrimSpace(string(b)))
	}
	q, err := readFile(dir + "/cpu.cfs_quota_us")
	if err != nil {
		return 0, ""
	}
	p, err := readFile(dir + "/cpu.cfs_period_us")
	if err != nil {
		return 0, ""
	}
	c, err := parseCFSQuota(string(q), string(p))
	if err != nil || c <= 0 {
		return 0, ""
	}
	return c, fmt.Sprintf("%s/cpu.cfs_quota_us %s every cpu.cfs_period_us %s", dir, strings.TrimSpace(string(q)), strings.TrimSpace(string(p)))
}

// readCPULimit finds this process's cgroup CPU limit (none outside
// Linux).
func readCPULimit() cpuLimit {
	if runtime.GOOS != "linux" {
		return cpuLimit{}
	}
	cg, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return cpuLimit{}
	}
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return cpuLimit{}
	}
	return findCPULimit(string(cg), string(mi), os.ReadFile)
}

// throttling is a cgroup's cpu.stat: how often and how long its CPU
// limit held the process back.
type throttling struct {
	periods   int64         // CFS periods in which it had runnable tasks
	throttled int64         // of those, the ones it ran out of quota in
	time      time.Duration // time its run queues spent throttled, summed over CPUs
}

// parseCPUStat reads a cgroup's cpu.stat: v2 (nr_periods, nr_throttled,
// throttled_usec) or v1 (nr_periods, nr_throttled, throttled_time in
// ns). A cgroup v2 without the cpu controller has no nr_throttled: an
// error.
func parseCPUStat(text string, v2 bool) (throttling, error) {
	var t throttling
	var havePeriods, haveThrottled, haveTime bool
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		v, err := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "nr_periods", "nr_throttled", "throttled_usec", "throttled_time":
			if err != nil || v < 0 {
				return throttling{}, fmt.Errorf("cpu.stat %s %q: want a count", f[0], f[1])
			}
		}
		switch {
		case f[0] == "nr_periods":
			t.periods, havePeriods = v, true
		case f[0] == "nr_throttled":
			t.throttled, haveThrottled = v, true
		case f[0] == "throttled_usec" && v2:
			if v > math.MaxInt64/int64(time.Microsecond) {
				return throttling{}, fmt.Errorf("cpu.stat throttled_usec %q: too large", f[1])
			}
			t.time, haveTime = time.Duration(v)*time.Microsecond, true
		case f[0] == "throttled_time" && !v2:
			t.time, haveTime = time.Duration(v), true
		}
	}
	if !havePeriods || !haveThrottled || !haveTime {
		return throttling{}, errors.New("cpu.stat: no nr_periods, nr_throttled and throttled time (no cpu controller)")
	}
	return t, nil
}
