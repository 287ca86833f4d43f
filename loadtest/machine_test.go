package loadtest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

// TestBaselineCPULimit: a baseline whose machine gave the process a
// different CPU (cores, or a cgroup limit) by more than
// MaxCalibrationRatio either way is refused with both figures and the
// file the limit came from, before any metric is judged; within the
// tolerance, or with a figure the baseline did not record (an older
// file), it is compared.
func TestBaselineCPULimit(t *testing.T) {
	half := &loadtest.Machine{CPU: "test CPU", Cores: 2, CPULimit: 0.5, CPULimitFrom: "/sys/fs/cgroup/cpu/ci/cpu.cfs_quota_us 50000 every cpu.cfs_period_us 100000", CPUs: 0.5, Calibration: 10 * time.Millisecond}
	two := &loadtest.Machine{CPU: "test CPU", Cores: 2, CPUs: 2, Calibration: 10 * time.Millisecond}
	unknown := &loadtest.Machine{CPU: "test CPU", Cores: 2, Calibration: 10 * time.Millisecond} // recorded before CPUs was kept
	baseline := func(m *loadtest.Machine) *loadtest.Baseline {
		b := &loadtest.Baseline{}
		for range 5 {
			if err := b.Add(synth([]string{"GET /a"}, []float64{1000}, 50, 1), m); err != nil {
				t.Fatal(err)
			}
		}
		return b
	}
	// the candidate is 3× slower: judged, it would be a regression
	var cur []*loadtest.Report
	for i := range 3 {
		cur = append(cur, synth([]string{"GET /a"}, []float64{3000}, 50, 1+0.01*float64(i)))
	}
	tests := []struct {
		name     string
		base     *loadtest.Machine
		here     *loadtest.Machine
		refused  []string
		regressd bool
	}{
		{"baseline under a half-core quota", half, two, []string{"this machine gives the process 2 cores (no CPU limit)", "gave it 0.5 cores (a CPU limit: /sys/fs/cgroup/cpu/ci/cpu.cfs_quota_us 50000", "4.00× as much CPU", "MaxCalibrationRatio", "loadtest.Duet"}, false},
		{"here under a half-core quota", two, half, []string{"0.5 cores (a CPU limit", "4.00× less CPU", "Docker --cpus"}, false},
		{"same limit", half, half, nil, true},
		{"1.2× apart", &loadtest.Machine{Cores: 2, CPULimit: 1.2, CPUs: 1.2, Calibration: 10 * time.Millisecond}, &loadtest.Machine{Cores: 2, CPULimit: 1.44, CPUs: 1.44, Calibration: 10 * time.Millisecond}, nil, true},
		{"a baseline without the figure", unknown, half, nil, true},
		{"here without the figure", half, unknown, nil, true},
		{"4 cores against 2", &loadtest.Machine{Cores: 4, CPUs: 4, Calibration: 10 * time.Millisecond}, two, []string{"2 cores (no CPU limit)", "4 cores (no CPU limit)", "2.00× less"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := loadtest.CompareBaseline(baseline(tt.base), cur, tt.here, loadtest.CompareOptions{})
			for _, w := range tt.refused {
				if !strings.Contains(c.Refused, w) {
					t.Errorf("refusal %q does not say %q", c.Refused, w)
				}
			}
			if tt.refused == nil && c.Refused != "" {
				t.Errorf("refused: %s", c.Refused)
			}
			if tt.refused != nil && (len(c.Deltas) > 0 || len(c.Regressions()) > 0) {
				t.Errorf("a refused comparison judged metrics:\n%s", c)
			}
			if got := len(c.Regressions()) > 0; got != tt.regressd {
				t.Errorf("regressions %v, want %v:\n%s", got, tt.regressd, c)
			}
		})
	}
	// the figures survive the file
	path := filepath.Join(t.TempDir(), "b.json")
	if err := baseline(half).Write(path); err != nil {
		t.Fatal(err)
	}
	b, err := loadtest.ReadBaseline(path)
	if err != nil || b.Machines[0].CPULimit != 0.5 || b.Machines[0].CPUs != 0.5 || b.Machines[0].CPULimitFrom != half.CPULimitFrom {
		t.Fatalf("read back: %+v, %v", b.Machines[0], err)
	}
}

// quotaChildEnv names the cgroup directory a child process of
// TestCPUQuota joins; quotaOutEnv the file it writes its baseline to.
const (
	quotaChildEnv = "BENCHGATE_TEST_QUOTA_CGROUP"
	quotaOutEnv   = "BENCHGATE_TEST_QUOTA_OUT"
)

// TestCPUQuota: the real thing, where the test may make a cgroup (root,
// with a writable cgroup v1 cpu controller, or cgroup v2 with the cpu
// controller enabled at its root): a child process of this test binary
// in a quota of half a core reads its CPU limit as 0.5 from the
// cgroup's file, its generator health names the quota (not a
// neighbour) when it used its quota, and a baseline it records is
// refused against this machine with the reason. Skipped elsewhere.
func TestCPUQuota(t *testing.T) {
	if os.Getenv(quotaChildEnv) != "" {
		t.Skip("the child's own run is TestCPUQuotaChild")
	}
	cg, cleanup, err := makeQuotaCgroup()
	if err != nil {
		t.Skipf("cannot make a cgroup with a CPU quota here (root and a writable cpu controller needed): %v", err)
	}
	defer cleanup()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "quota-baseline.json")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, "-test.run=^TestCPUQuotaChild$", "-test.v")
	cmd.Env = append(os.Environ(), quotaChildEnv+"="+cg, quotaOutEnv+"="+out)
	text, err := cmd.CombinedOutput()
	t.Logf("the child in %s:\n%s", cg, text)
	if err != nil {
		t.Fatalf("the child: %v", err)
	}
	b, err := loadtest.ReadBaseline(out)
	if err != nil {
		t.Fatal(err)
	}
	m := b.Machines[0]
	if m.CPULimit != 0.5 || m.CPUs != 0.5 || !strings.Contains(m.CPULimitFrom, cg) {
		t.Errorf("the child's machine: %v (CPU limit %v from %q, CPUs %v), want a limit of 0.5 from %s", m, m.CPULimit, m.CPULimitFrom, m.CPUs, cg)
	}
	here := loadtest.ThisMachine()
	c := loadtest.CompareBaseline(b, b.Executions, here, loadtest.CompareOptions{})
	if here.CPUs/0.5 > 1.3 {
		for _, w := range []string{"gave it 0.5 cores (a CPU limit: " + cg, "MaxCalibrationRatio"} {
			if !strings.Contains(c.Refused, w) {
				t.Errorf("the baseline of the half-core child against this machine (%s): refusal %q does not say %q", here, c.Refused, w)
			}
		}
	} else {
		t.Logf("this machine gives the process %v cores itself: no refusal to check", here.CPUs)
	}
	g := b.Executions[0].Generator
	if g == nil {
		t.Fatal("the child's report has no generator health")
	}
	t.Logf("the child's generator: CPU %.2f of %d cores, throttled %.2f of the time, in %.2f of the periods; cause %q: %s", g.CPU, g.Cores, g.Throttled, g.ThrottledPeriods, g.Cause, g.Why)
	if g.CPULimit != 0.5 {
		t.Errorf("the generator's CPU limit %v, want 0.5 (readings %v)", g.CPULimit, g.Readings)
	}
	// the child wants more than its half core; if the machine's other
	// jobs left it less than most of that, the quota did not bind
	if used := g.CPU * float64(g.Cores); used >= 0.4 {
		if g.Cause != loadtest.CauseQuota || !strings.Contains(g.Why, "CPU limit of 0.5 cores throttled it") || !strings.Contains(g.Advice, "raise the limit") {
			t.Errorf("the child used %.2f cores of its 0.5: cause %q, why %q, advice %q; want the quota named", used, g.Cause, g.Why, g.Advice)
		}
	} else {
		t.Logf("the child got %.2f cores only (a busy machine): the quota's throttling not checked", used)
	}
}

// TestCPUQuotaChild is TestCPUQuota's child: it joins the cgroup, runs
// a CPU-bound plan for a second with two users and records it as a
// baseline with the machine as read here.
func TestCPUQuotaChild(t *testing.T) {
	cg := os.Getenv(quotaChildEnv)
	if cg == "" {
		t.Skip("run by TestCPUQuota in a child process")
	}
	if err := os.WriteFile(filepath.Join(cg, "cgroup.procs"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		t.Fatalf("joining %s: %v", cg, err)
	}
	if mine, err := os.ReadFile("/proc/self/cgroup"); err != nil || !strings.Contains(string(mine), "/"+filepath.Base(cg)+"\n") {
		t.Fatalf("not in the cgroup %s: %s %v", cg, mine, err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x := uint64(1)
		for end := time.Now().Add(2 * time.Millisecond); time.Now().Before(end); {
			for j := range 10_000 {
				x = x*6364136223846793005 + uint64(j)
			}
		}
		fmt.Fprint(w, x)
	}))
	defer srv.Close()
	plan := loadtest.New(loadtest.Runs(scenario.Run("spin", scenario.Get("/")).Repeat(1_000_000)),
		loadtest.BaseURL(srv.URL), loadtest.Concurrency(2), loadtest.TimeLimit(time.Second))
	r, err := plan.Execute(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	m := loadtest.ThisMachine()
	js, _ := json.Marshal(m)
	t.Logf("machine: %s", js)
	b := &loadtest.Baseline{}
	if err := b.Add(r, m); err != nil {
		t.Fatal(err)
	}
	if err := b.Write(os.Getenv(quotaOutEnv)); err != nil {
		t.Fatal(err)
	}
}

// makeQuotaCgroup makes a cgroup whose CPU quota is half a core: cgroup
// v1's cpu controller at /sys/fs/cgroup/cpu, or cgroup v2 at
// /sys/fs/cgroup with the cpu controller enabled for its children.
func makeQuotaCgroup() (string, func(), error) {
	if os.Geteuid() != 0 {
		return "", nil, errors.New("not root")
	}
	name := fmt.Sprintf("benchgate-test-%d", os.Getpid())
	var errs []error
	for _, try := range []struct {
		root  string
		files [][2]string
	}{
		{"/sys/fs/cgroup/cpu", [][2]string{{"cpu.cfs_period_us", "100000"}, {"cpu.cfs_quota_us", "50000"}}},
		{"/sys/fs/cgroup", [][2]string{{"cpu.max", "50000 100000"}}},
	} {
		dir := filepath.Join(try.root, name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			errs = append(errs, err)
			continue
		}
		// the kernel makes a cgroup's files with its directory: without
		// them it is no cgroup (a tmpfs), or the cpu controller is off
		ok := true
		if _, err := os.Stat(filepath.Join(dir, try.files[0][0])); err != nil {
			errs = append(errs, fmt.Errorf("%s: not a cgroup with the cpu controller: %w", dir, err))
			ok = false
		}
		for _, f := range try.files {
			if !ok {
				break
			}
			if err := os.WriteFile(filepath.Join(dir, f[0]), []byte(f[1]), 0o644); err != nil {
				errs = append(errs, err)
				ok = false
				break
			}
		}
		if !ok {
			os.Remove(dir)
			continue
		}
		return dir, func() { os.Remove(dir) }, nil // rmdir, once the child has exited
	}
	return "", nil, errors.Join(errs...)
}
