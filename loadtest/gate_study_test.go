package loadtest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/benchgate/benchgate/internal/studyapp"
	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/matchers"
	"github.com/benchgate/benchgate/scenario"
)

// The gate study's environment variables.
const (
	studyEnv       = "BENCHGATE_GATE_STUDY"        // 1: run TestGateStudy
	studyTrialsEnv = "BENCHGATE_GATE_STUDY_TRIALS" // N: every scenario N trials
	studyOnlyEnv   = "BENCHGATE_GATE_STUDY_ONLY"   // a regexp: the scenarios whose names match
	// N: the stored baseline's executions (default 12), every 4th beside the neighbour
	studyBaselineEnv = "BENCHGATE_GATE_STUDY_BASELINE"
	// N: a stored candidate's executions (default 3)
	studyCandidateEnv = "BENCHGATE_GATE_STUDY_CANDIDATE"
	// "process": each build of the application is served by a child
	// process, not in the test's process beside the load generator
	studyAppEnv = "BENCHGATE_GATE_STUDY_APP"
	// set in a child process: serve studyapp, print its URL, exit when
	// stdin closes; with studySlowEnv and studyTailEnv its knobs' factors
	studyServeEnv = "BENCHGATE_TEST_STUDY_SERVE"
	studySlowEnv  = "BENCHGATE_TEST_STUDY_SLOW"
	studyTailEnv  = "BENCHGATE_TEST_STUDY_TAIL"
	// the slower machine's CFS period in µs (default 100000); its quota is half
	studyPeriodEnv = "BENCHGATE_GATE_STUDY_CFS_PERIOD_US"
	// set in a child process: record a baseline of the study app at this path
	studyRecordEnv = "BENCHGATE_TEST_STUDY_RECORD"
	// set in a child process: the cgroup (v1 cpu) directory it joins first
	studyCgroupEnv = "BENCHGATE_TEST_STUDY_CGROUP"
)

// The study's flow: the four pages of studyapp, one user, keep-alive.
// One user so that the injected time is not blurred by the user's own
// contention.
func studyPlan(url string, limit time.Duration) *loadtest.Plan {
	var steps []*scenario.Step
	for _, p := range studyapp.Steps {
		steps = append(steps, scenario.Get(p))
	}
	run := scenario.Run("ann", steps...).Order(scenario.DepthFirst).Repeat(1_000_000)
	opts := []loadtest.Option{loadtest.Runs(run), loadtest.BaseURL(url), loadtest.Concurrency(1), loadtest.KeepAlive(true)}
	if limit > 0 {
		opts = append(opts, loadtest.TimeLimit(limit))
	}
	return loadtest.New(opts...)
}

const (
	studyExecution  = 1500 * time.Millisecond // one stored execution
	studyBaseline   = 12                      // executions in a stored baseline (by default)
	studyPerSession = 2                       // of them against one process of the application
	studyCandidate  = 5                       // executions of a stored candidate (by default)
	studySlowStep   = studyapp.Mixed          // the step a slowdown slows
	studyTailStep   = studyapp.CPU            // the step whose tail is slowed
	studyNeighbourS = 1500 * time.Millisecond // the neighbour in stored mode: the first candidate execution
	studyNeighbourD = 5 * time.Second         // the neighbour in a duet: its first 5 s
)

// studyScenario is one row of the study.
type studyScenario struct {
	name   string
	duet   bool
	busy   bool    // a CPU-bound neighbour during part of the candidate
	slow   float64 // every request of studySlowStep (1+slow)× the cost
	tail   bool    // every 50th request of studyTailStep twice the cost; p99 compared
	slower bool    // the baseline was recorded on a machine made 2× slower
	trials int     // by default
}

func studyScenarios() []studyScenario {
	return []studyScenario{
		{name: "stored-unchanged-quiet", trials: 20},
		{name: "stored-unchanged-busy", busy: true, trials: 10},
		{name: "stored-slow20-quiet", slow: 0.20, trials: 20},
		{name: "stored-slow20-busy", slow: 0.20, busy: true, trials: 20},
		{name: "stored-slow50-quiet", slow: 0.50, trials: 20},
		{name: "stored-slow50-busy", slow: 0.50, busy: true, trials: 20},
		{name: "stored-slower-machine", slower: true, trials: 20},
		{name: "duet-unchanged-quiet", duet: true, trials: 20},
		{name: "duet-unchanged-busy", duet: true, busy: true, trials: 10},
		{name: "duet-slow20-quiet", duet: true, slow: 0.20, trials: 20},
		{name: "duet-slow20-busy", duet: true, slow: 0.20, busy: true, trials: 20},
		{name: "duet-slow50-quiet", duet: true, slow: 0.50, trials: 20},
		{name: "duet-slow50-busy", duet: true, slow: 0.50, busy: true, trials: 20},
		{name: "duet-tail-p99", duet: true, tail: true, trials: 20},
	}
}

// studyRow is what a scenario measured.
type studyRow struct {
	studyScenario
	n        int
	verdicts map[string]int // regressed, no regression, inconclusive, refused
	refusals map[string]int // why refused: cpu limit, calibration, late generator, other
	slowHit  int            // trials where the slowed step was flagged
	otherHit int            // trials where another step was flagged
	change   []float64      // the slowed step's measured change, per trial
	took     []time.Duration
	wall     time.Duration
}

const (
	vRegressed    = "regressed"
	vNoRegression = "no regression"
	vInconclusive = "inconclusive"
	vRefused      = "refused"
)

// TestGateStudy measures the gate itself against studyapp, a flow of
// four pages (CPU-bound, sleep-bound, mixed, a JSON API): how often an
// unchanged build is called a regression, how often a slowdown of one
// step by 20 % and 50 % or a doubled p99 is caught, in stored mode (a
// baseline of 12 executions recorded at different moments, 3 of them
// beside a neighbour; 3 executions a candidate; the verdict of
// matchers.NotRegressFrom) and in duet mode (the default 60 s budget;
// the verdict of matchers.HaveNoRegressions), quiet and with a
// CPU-bound neighbour process during part of the candidate; and whether
// a baseline recorded on a machine made 2× slower (a cgroup CPU quota)
// is refused. It prints a markdown table for the README. The full study
// takes about two hours, so only with BENCHGATE_GATE_STUDY=1; in parts
// with BENCHGATE_GATE_STUDY_ONLY=<regexp of scenario names>, and a smoke
// run with BENCHGATE_GATE_STUDY_TRIALS=1; BENCHGATE_GATE_STUDY_APP=process
// serves the application from child processes, away from the load
// generator's:
//
//	BENCHGATE_GATE_STUDY=1 BENCHGATE_GATE_STUDY_ONLY='^stored-' go test ./loadtest -run TestGateStudy -v -timeout 150m
func TestGateStudy(t *testing.T) {
	if os.Getenv(studyEnv) == "" {
		t.Skip("set BENCHGATE_GATE_STUDY=1 to measure the gate (about two hours; BENCHGATE_GATE_STUDY_ONLY=<regexp> runs some scenarios)")
	}
	trials := 0
	if v := os.Getenv(studyTrialsEnv); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("%s=%q: want a positive number of trials", studyTrialsEnv, v)
		}
		trials = n
	}
	only, err := regexp.Compile(os.Getenv(studyOnlyEnv))
	if err != nil {
		t.Fatalf("%s=%q: %v", studyOnlyEnv, os.Getenv(studyOnlyEnv), err)
	}
	var chosen []studyScenario
	for _, sc := range studyScenarios() {
		if only.MatchString(sc.name) {
			if trials > 0 {
				sc.trials = trials
			}
			chosen = append(chosen, sc)
		}
	}
	if len(chosen) == 0 {
		var names []string
		for _, sc := range studyScenarios() {
			names = append(names, sc.name)
		}
		t.Fatalf("%s=%q matches no scenario; the scenarios: %s", studyOnlyEnv, only, strings.Join(names, ", "))
	}
	s := &study{t: t}
	var rows []*studyRow
	for _, sc := range chosen {
		start := time.Now()
		var row *studyRow
		switch {
		case sc.slower:
			row = s.slowerMachine(sc)
		case sc.duet:
			row = s.duet(sc)
		default:
			row = s.stored(sc)
		}
		if row == nil {
			continue // skipped, said why
		}
		row.wall = time.Since(start)
		t.Logf("%s: %s (%v a trial)", sc.name, row.line(), (row.wall / time.Duration(max(row.n, 1))).Round(100*time.Millisecond))
		rows = append(rows, row)
	}
	table := studyTable(rows)
	if s.base != nil {
		late := 0
		for _, r := range s.base.Executions {
			if r.Invalid() != "" {
				late++
			}
		}
		table += fmt.Sprintf("\nThe stored baseline: %d executions, %d of them measured by a late generator (%d recorded beside the neighbour).\n",
			len(s.base.Executions), late, (len(s.base.Executions)+2)/4)
	}
	t.Log("\n" + table)
	fmt.Println(table)
}

// study holds what the scenarios share: the neighbour, the stored
// baseline (recorded once, at the first stored scenario).
type study struct {
	t    *testing.T
	base *loadtest.Baseline
	exe  string
}

// neighbour starts a CPU-bound process (one spinning thread per core,
// twice over) for d (at most 5 s, see spin), killed at the test's end
// whatever happens; wait waits for it to end.
func (s *study) neighbour(busy bool, d time.Duration) (wait func()) {
	if !busy {
		return func() {}
	}
	cmd := exec.Command(s.executable(), "-test.run=^$")
	cmd.Env = append(os.Environ(), spinEnv+"="+d.String(), fmt.Sprintf("GOMAXPROCS=%d", 2*runtime.NumCPU()))
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	s.t.Cleanup(func() { cmd.Process.Kill(); <-done })
	return func() { <-done }
}

func (s *study) executable() string {
	if s.exe == "" {
		exe, err := os.Executable()
		if err != nil {
			s.t.Fatal(err)
		}
		s.exe = exe
	}
	return s.exe
}

func (s *study) execute(url string) *loadtest.Report {
	r, err := studyPlan(url, studyExecution).Execute(context.Background())
	if err != nil {
		s.t.Fatal(err)
	}
	return r
}

// baseline records the stored baseline once: 12 executions of the
// unchanged build at different moments (2 s apart), the 2nd, 6th and
// 10th beside the neighbour, each with this machine's record as
// NotRegressFrom's recording keeps it. Why 12: the executions measured
// beside the neighbour are left out when the others settle the
// comparison, and 3 candidate executions bound the 8 metrics' intervals
// at α = 0.05 only with 8 sound baseline executions or more
// (1/C(n+3, 3) ≤ 0.05/8).
func (s *study) baseline() *loadtest.Baseline {
	if s.base != nil {
		return s.base
	}
	n := studyBaseline
	if v := os.Getenv(studyBaselineEnv); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 || n > 100 {
			s.t.Fatalf("%s=%q: want a number of executions from 1 to 100", studyBaselineEnv, v)
		}
	}
	b := &loadtest.Baseline{}
	var url string
	stop := func() {}
	defer func() { stop() }()
	for i := range n {
		if i > 0 {
			time.Sleep(2 * time.Second) // a different moment of the machine
		}
		if i%studyPerSession == 0 {
			// a new process of the application, as each go test run or
			// CI job that records the baseline starts one
			stop()
			url, stop = s.server(0, 0)
		}
		wait := s.neighbour(i%4 == 1, studyExecution)
		r := s.execute(url)
		wait()
		r.Session = fmt.Sprintf("baseline-%d", i/studyPerSession)
		if err := b.Add(r, loadtest.ThisMachine()); err != nil {
			s.t.Fatal(err)
		}
		if why := r.Invalid(); why != "" {
			s.t.Logf("  baseline execution %d: late generator: %s", i+1, why)
		}
	}
	s.base = b
	return b
}

// candidates is the number of executions of a stored candidate.
func (s *study) candidates() int {
	v := os.Getenv(studyCandidateEnv)
	if v == "" {
		return studyCandidate
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 100 {
		s.t.Fatalf("%s=%q: want a number of executions from 1 to 100", studyCandidateEnv, v)
	}
	return n
}

// stored runs a stored-mode scenario: per trial, 3 executions of the
// candidate (the neighbour during the first when busy), judged by
// NotRegressFrom against the baseline.
func (s *study) stored(sc studyScenario) *studyRow {
	base := s.baseline()
	return s.storedTrials(sc, base, func() (string, func()) { return s.server(sc.slow, 0) })
}

// server serves a build of studyapp: studySlowStep slowed by slow,
// every 50th request of studyTailStep by 1+tail more (0: none); in
// this process, or in a child process with BENCHGATE_GATE_STUDY_APP=process.
func (s *study) server(slow, tail float64) (url string, stop func()) {
	if os.Getenv(studyAppEnv) != "process" {
		app := studyapp.New()
		if err := app.SlowDown(studySlowStep, slow); err != nil {
			s.t.Fatal(err)
		}
		if tail > 0 {
			if err := app.SlowTail(studyTailStep, 50, tail); err != nil {
				s.t.Fatal(err)
			}
		}
		srv := httptest.NewServer(app)
		return srv.URL, srv.Close
	}
	cmd := exec.Command(s.executable(), "-test.run=^$")
	cmd.Env = append(os.Environ(), studyServeEnv+"=1", fmt.Sprintf("%s=%g", studySlowEnv, slow), fmt.Sprintf("%s=%g", studyTailEnv, tail))
	in, err := cmd.StdinPipe()
	if err != nil {
		s.t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		s.t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	done := make(chan struct{})
	stop = func() {
		in.Close() // the child exits when its stdin closes
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}
	lines := make(chan string, 1)
	go func() {
		buf := make([]byte, 256)
		n, _ := out.Read(buf)
		lines <- strings.TrimSpace(string(buf[:n]))
		io.Copy(io.Discard, out)
		cmd.Wait()
		close(done)
	}()
	s.t.Cleanup(func() { cmd.Process.Kill(); <-done })
	select {
	case url = <-lines:
	case <-time.After(10 * time.Second):
		s.t.Fatal("the application's child process gave no URL in 10 s")
	}
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		s.t.Fatalf("the application's child process said %q, not its URL", url)
	}
	return url, stop
}

// serveStudyApp is the child process of study.server: it serves
// studyapp with the knobs its environment gives, prints its URL and
// exits when its stdin closes. It returns the exit code.
func serveStudyApp() int {
	app := studyapp.New()
	slow, err1 := strconv.ParseFloat(os.Getenv(studySlowEnv), 64)
	tail, err2 := strconv.ParseFloat(os.Getenv(studyTailEnv), 64)
	if err := errors.Join(err1, err2); err != nil {
		fmt.Fprintf(os.Stderr, "%s, %s: %v\n", studySlowEnv, studyTailEnv, err)
		return 2
	}
	if err := app.SlowDown(studySlowStep, slow); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if tail > 0 {
		if err := app.SlowTail(studyTailStep, 50, tail); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
	}
	srv := httptest.NewServer(app)
	defer srv.Close()
	fmt.Println(srv.URL)
	io.Copy(io.Discard, os.Stdin)
	return 0
}

// storedTrials runs a stored scenario's trials, each against a new
// process of the candidate's application (serve starts it), as each CI
// run of a pull request starts one: its executions are one session.
func (s *study) storedTrials(sc studyScenario, base *loadtest.Baseline, serve func() (string, func())) *studyRow {
	row := newRow(sc)
	for i := 0; i < sc.trials; i++ {
		url, stop := serve()
		start := time.Now()
		wait := s.neighbour(sc.busy, studyNeighbourS)
		cur := []*loadtest.Report{s.execute(url)}
		wait()
		for range s.candidates() - 1 {
			cur = append(cur, s.execute(url))
		}
		stop()
		for _, r := range cur {
			r.Session = fmt.Sprintf("candidate-%d", i)
		}
		ok, err := matchers.NotRegressFrom(base).Match(cur)
		row.took = append(row.took, time.Since(start))
		c, which := storedComparison(base, cur)
		s.t.Logf("    compared: %s", which)
		row.judge(s.t, sc, ok, err, c)
	}
	return row
}

// storedComparison is the comparison NotRegressFrom judged, for the
// figures of the steps (the matcher keeps its own): the executions
// measured by a late generator are left out when the sound ones settle
// it, as matchers.compareMeasured does.
func storedComparison(base *loadtest.Baseline, cur []*loadtest.Report) (c *loadtest.Comparison, which string) {
	sound := &loadtest.Baseline{}
	for i, r := range base.Executions {
		if r.Invalid() == "" {
			sound.Executions = append(sound.Executions, r)
			sound.Machines = append(sound.Machines, base.Machines[i])
		}
	}
	var soundCur []*loadtest.Report
	for _, r := range cur {
		if r.Invalid() == "" {
			soundCur = append(soundCur, r)
		}
	}
	if len(sound.Executions) < len(base.Executions) || len(soundCur) < len(cur) {
		if len(sound.Executions) > 0 && len(soundCur) > 0 {
			c := loadtest.CompareBaseline(sound, soundCur, nil, loadtest.CompareOptions{})
			if c.Settled() {
				return c, fmt.Sprintf("the sound executions only, %d and %d (they settle it)", len(sound.Executions), len(soundCur))
			}
			which = fmt.Sprintf("the sound executions only, %d and %d, do not settle it (%d regressed, %d inconclusive): ", len(sound.Executions), len(soundCur), len(c.Regressions()), len(c.Inconclusive()))
		}
	}
	return loadtest.CompareBaseline(base, cur, nil, loadtest.CompareOptions{}), which + fmt.Sprintf("all executions, %d and %d", len(base.Executions), len(cur))
}

// duet runs a duet scenario: per trial, a duet of the unchanged build
// (A) and the candidate (B) with the default options (p50 and p99 for
// the tail), judged by HaveNoRegressions.
func (s *study) duet(sc studyScenario) *studyRow {
	var opts loadtest.DuetOptions // the defaults: 60 s budget, rounds of 500 ms
	urlA, stopA := s.server(0, 0)
	defer stopA()
	tail := 0.0
	if sc.tail {
		tail = s.tailFactor(urlA)
		opts.Compare.Percentiles = []float64{50, 99}
	}
	urlB, stopB := s.server(sc.slow, tail)
	defer stopB()
	row := newRow(sc)
	for i := 0; i < sc.trials; i++ {
		wait := s.neighbour(sc.busy, studyNeighbourD)
		d, err := loadtest.Duet(context.Background(), func(url string) *loadtest.Plan { return studyPlan(url, 0) },
			urlA, urlB, opts)
		wait()
		if err != nil {
			s.t.Fatal(err)
		}
		ok, merr := matchers.HaveNoRegressions().Match(d)
		row.took = append(row.took, d.Comparison.Elapsed)
		row.judge(s.t, sc, ok, merr, d.Comparison)
		s.t.Logf("    %d pairs (%d contended)", d.Comparison.Pairs, d.Comparison.Contended)
	}
	return row
}

// tailFactor measures the tail step's p99 and p50 in duet-long rounds
// (the median of 5) and returns the factor that makes a request 2× the
// p99: every 50th request of B at that factor doubles its p99 and
// leaves its p50 as it was.
func (s *study) tailFactor(url string) float64 {
	var ratios []float64
	for range 5 {
		r, err := studyPlan(url, 500*time.Millisecond).Execute(context.Background())
		if err != nil {
			s.t.Fatal(err)
		}
		for _, st := range r.Runs[0].Steps {
			if st.Name == "GET "+studyTailStep && st.Latency != nil {
				ratios = append(ratios, float64(st.Latency.Percentile(99))/float64(st.Latency.Percentile(50)))
			}
		}
	}
	if len(ratios) == 0 {
		s.t.Fatalf("no response of GET %s to measure its p99 by", studyTailStep)
	}
	slices.Sort(ratios)
	f := 2*ratios[len(ratios)/2] - 1
	s.t.Logf("  GET %s: p99/p50 %.2f (median of %d rounds): every 50th request of B costs %.2f× more", studyTailStep, ratios[len(ratios)/2], len(ratios), 1+f)
	return f
}

// slowerMachine records a baseline in a child process whose CPU a
// cgroup quota holds to half of one core (the machine's calibration is
// measured there, as NotRegressFrom's recording does), then compares
// candidates of the unchanged build here with it: the comparison should
// be refused for the CPU the machines give the process (the quota's
// 0.5 cores against this machine's cores: Machine.CPUs), not judged.
func (s *study) slowerMachine(sc studyScenario) *studyRow {
	period := 100_000
	if v := os.Getenv(studyPeriodEnv); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 2000 || n > 1_000_000 {
			s.t.Fatalf("%s=%q: want a CFS period in µs from 2000 to 1000000", studyPeriodEnv, v)
		}
		period = n
	}
	cg := filepath.Join("/sys/fs/cgroup/cpu", fmt.Sprintf("benchgate-study-%d", os.Getpid()))
	if err := os.Mkdir(cg, 0o755); err != nil {
		s.t.Logf("%s: skipped: cannot make a cgroup v1 CPU controller group to slow the baseline's machine (root and /sys/fs/cgroup/cpu writable needed): %v", sc.name, err)
		return nil
	}
	defer os.Remove(cg) // a cgroup directory goes with rmdir once empty
	for file, v := range map[string]int{"cpu.cfs_period_us": period, "cpu.cfs_quota_us": period / 2} {
		if err := os.WriteFile(filepath.Join(cg, file), []byte(strconv.Itoa(v)), 0o644); err != nil {
			s.t.Logf("%s: skipped: %s: %v", sc.name, file, err)
			return nil
		}
	}
	path := filepath.Join(s.t.TempDir(), "slower-baseline.json")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.executable(), "-test.run=^$")
	cmd.Env = append(os.Environ(), studyRecordEnv+"="+path, studyCgroupEnv+"="+cg)
	out, err := cmd.CombinedOutput()
	s.t.Logf("  the slower machine (CFS quota %d µs every %d µs) recorded:\n%s", period/2, period, out)
	if err != nil {
		s.t.Fatalf("recording the baseline on the slower machine: %v", err)
	}
	base, err := loadtest.ReadBaseline(path)
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Logf("  this machine: %s", loadtest.ThisMachine())
	return s.storedTrials(sc, base, func() (string, func()) { return s.server(0, 0) })
}

// recordStudyBaseline is the child process of slowerMachine: it joins
// the cgroup, serves studyapp and records a baseline of it, with the
// machine as measured here. It returns the exit code.
func recordStudyBaseline() int {
	if cg := os.Getenv(studyCgroupEnv); cg != "" {
		if err := os.WriteFile(filepath.Join(cg, "cgroup.procs"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "joining the cgroup %s: %v\n", cg, err)
			return 2
		}
		if mine, err := os.ReadFile("/proc/self/cgroup"); err != nil || !strings.Contains(string(mine), "/"+filepath.Base(cg)) {
			fmt.Fprintf(os.Stderr, "not in the cgroup %s: %s %v\n", cg, mine, err)
			return 2
		}
	}
	srv := httptest.NewServer(studyapp.New())
	defer srv.Close()
	b := &loadtest.Baseline{}
	for i := range studyBaseline {
		r, err := studyPlan(srv.URL, studyExecution).Execute(context.Background())
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		m := loadtest.ThisMachine()
		if err := b.Add(r, m); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		var p50s []string
		for _, st := range r.Runs[0].Steps {
			p50s = append(p50s, fmt.Sprintf("%s p50 %v", st.Name, st.Latency.Percentile(50)))
		}
		fmt.Printf("  execution %d: calibration %v, CPUs %v; %s; late generator: %q\n", i+1, m.Calibration, m.CPUs, strings.Join(p50s, ", "), r.Invalid())
	}
	if err := b.Write(os.Getenv(studyRecordEnv)); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func newRow(sc studyScenario) *studyRow {
	return &studyRow{studyScenario: sc, verdicts: map[string]int{}, refusals: map[string]int{}}
}

// judge counts a trial: the matcher's verdict (ok, err) and the steps
// the comparison c flagged.
func (row *studyRow) judge(t *testing.T, sc studyScenario, ok bool, err error, c *loadtest.Comparison) {
	row.n++
	var v string
	switch {
	case err == nil && ok:
		v = vNoRegression
	case err == nil:
		v = vRegressed
	case errors.Is(err, matchers.ErrLateGenerator):
		v = vRefused
		row.refusals["late generator"]++
	case strings.Contains(err.Error(), "no verdict on "):
		v = vInconclusive
	case strings.Contains(err.Error(), "this machine gives the process"): // Machine.CPUs
		v = vRefused
		row.refusals["cpu limit"]++
	case strings.Contains(err.Error(), "MaxCalibrationRatio"):
		v = vRefused
		row.refusals["calibration"]++
	default:
		v = vRefused
		row.refusals["other"]++
	}
	row.verdicts[v]++
	msg := ""
	if err != nil {
		msg = err.Error()
		if i := strings.IndexByte(msg, '\n'); i > 0 {
			msg = msg[:i]
		}
	}
	t.Logf("  %s trial %d: %s %s", sc.name, row.n, v, msg)
	slowStep, metric := "", "p50"
	switch {
	case sc.tail:
		slowStep, metric = "GET "+studyTailStep, "p99"
	case sc.slow > 0:
		slowStep = "GET " + studySlowStep
	}
	var slowHit, otherHit bool
	for _, d := range c.Deltas {
		if d.Step == slowStep && d.Metric == metric {
			row.change = append(row.change, d.Change)
		}
		if d.Verdict == loadtest.Inconclusive {
			t.Logf("    inconclusive %s / %s %s: %s over %s", d.Run, d.Step, d.Metric, d.ChangeText(), d.Compared(false))
		}
		if d.Verdict != loadtest.Regressed && d.Verdict != loadtest.Missing {
			continue
		}
		t.Logf("    flagged %s / %s %s: %s %s", d.Run, d.Step, d.Metric, d.ChangeText(), loadtest.FormatP(d.P))
		switch d.Step {
		case slowStep:
			slowHit = true
		case "(iterations)": // follows the slowest step
		default:
			otherHit = true
		}
	}
	if slowHit {
		row.slowHit++
	}
	if otherHit {
		row.otherHit++
	}
}

func (row *studyRow) mode() string {
	if row.duet {
		return "duet"
	}
	return "stored"
}

func (row *studyRow) what() string {
	var s string
	switch {
	case row.slower:
		s = "unchanged build, baseline recorded on a machine made 2× slower (CPU quota)"
	case row.tail:
		s = fmt.Sprintf("p99 doubled on %s (every 50th request at 2× its p99), p50 unchanged; p50 and p99 compared", studyTailStep)
	case row.slow > 0:
		s = fmt.Sprintf("+%.0f %% on %s (one step of four)", row.slow*100, studySlowStep)
	default:
		s = "unchanged build"
	}
	if row.busy {
		s += ", neighbour"
	}
	return s
}

func (row *studyRow) count(v string) int { return row.verdicts[v] }

func (row *studyRow) refused() string {
	n := row.count(vRefused)
	if n == 0 {
		return "0"
	}
	var why []string
	for _, k := range []string{"cpu limit", "calibration", "late generator", "other"} {
		if row.refusals[k] > 0 {
			why = append(why, fmt.Sprintf("%d %s", row.refusals[k], k))
		}
	}
	return fmt.Sprintf("%d (%s)", n, strings.Join(why, ", "))
}

func (row *studyRow) slowFlagged() string {
	if row.slow == 0 && !row.tail {
		return "—"
	}
	return fmt.Sprintf("%d of %d", row.slowHit, row.n)
}

func (row *studyRow) meanChange() string {
	if len(row.change) == 0 {
		return "—"
	}
	var sum float64
	for _, c := range row.change {
		sum += c
	}
	metric := "p50"
	if row.tail {
		metric = "p99"
	}
	return fmt.Sprintf("%+.0f %% (%s)", 100*sum/float64(len(row.change)), metric)
}

func (row *studyRow) times() string {
	if len(row.took) == 0 {
		return "—"
	}
	ts := slices.Clone(row.took)
	slices.Sort(ts)
	med := ts[len(ts)/2]
	if len(ts)%2 == 0 {
		med = (ts[len(ts)/2-1] + ts[len(ts)/2]) / 2
	}
	return fmt.Sprintf("%.1f s / %.1f s", med.Seconds(), ts[len(ts)-1].Seconds())
}

func (row *studyRow) line() string {
	return fmt.Sprintf("%s %s: %d trials; regressed %d, no regression %d, inconclusive %d, refused %s; slowed step flagged %s; other steps flagged %d; change %s; %s per verdict (median / max)",
		row.mode(), row.what(), row.n, row.count(vRegressed), row.count(vNoRegression), row.count(vInconclusive), row.refused(),
		row.slowFlagged(), row.otherHit, row.meanChange(), row.times())
}

// studyTable is the README's table of the rows.
func studyTable(rows []*studyRow) string {
	var b strings.Builder
	b.WriteString("| mode | scenario | trials | regressed | no regression | inconclusive | refused | slowed step flagged | other steps flagged | slowed step's measured change (mean) | time per verdict (median / max) |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, row := range rows {
		fmt.Fprintf(&b, "| %s | %s | %d | %d | %d | %d | %s | %s | %d | %s | %s |\n",
			row.mode(), row.what(), row.n, row.count(vRegressed), row.count(vNoRegression), row.count(vInconclusive), row.refused(),
			row.slowFlagged(), row.otherHit, row.meanChange(), row.times())
	}
	return b.String()
}
