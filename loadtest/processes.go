package loadtest

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/benchgate/benchgate/engine"
	"github.com/benchgate/benchgate/scenario"
	"github.com/benchgate/benchgate/scoreboard"
)

// Processes runs the plan as n shards, each in a process of its own
// (HTTP::LoadGen's NWorker with real processes): Execute, in the
// process that calls it (the parent), starts n copies of the same
// executable (os.Executable) with the same arguments, shard k of n in
// the environment of copy k (BENCHGATE_SHARD, BENCHGATE_SHARDS,
// BENCHGATE_OUT, and BENCHGATE_PROCESS_PLAN, the plan's hash). Each
// copy runs the same code up to the same Execute call, where Execute
// sees the environment and becomes shard k: it says it is ready, waits
// for T0 (chosen by the parent once every copy is ready, and handed
// to them on their standard input), sends its segment of the plan
// (Shard(k, n), StartAt(T0, 0)), writes its Report as JSON to
// BENCHGATE_OUT and ends the process (status 0, or 3 when its
// execution returned an error): the copy's own code after Execute never
// runs, so nothing gates one shard's partial report. The parent waits
// for them all, reads their reports, checks each ran its shard of this
// plan, adds them up (Merge) and returns the merged Report, whose
// Shards list the shards' manifests (their PIDs among them).
//
// Plans written in Go need no serialisation: hooks, feeders and
// functions are the copies' own. What runs per process is what
// HTTP::LoadGen's worker processes keep apart: the DNS cache, the
// random streams (each VU's from the plan's seed: the same draws
// whatever n), and the virtual users' ShardInit and ShardExit hooks:
// with VirtualUsers and engine.VUs.Shards = n, VU k runs in process k
// mod n and in hook shard k mod n, so ShardInit(k) and ShardExit(k) run
// once, in process k (HTTP::LoadGen's per-process init and exit).
// Without Seed the parent draws one and hands it to every copy.
//
// In a test binary the copies must run the calling test alone:
// give ProcessTest(t) (its -test.run selects t's test, subtests
// included) or ProcessArgs; Execute refuses Processes in a test binary
// with neither. Each copy runs the test from its start: a target it
// reaches must be the parent's, so a test that starts its own server
// hands its URL to the copies in the environment (t.Setenv before
// Execute; the copies inherit the parent's environment) and uses the
// URL it finds there instead of starting another. A copy whose plan is
// not the parent's (another URL, another setting: its plan hash
// differs) refuses to run with an error saying so, and the parent
// reports that shard failed. So a test (or spec) runs one Processes
// plan: a copy becomes a shard at the first Processes Execute it
// reaches, and a second plan's copies would reach the first plan's
// Execute and refuse it; and whatever the test does before that
// Execute (a warm-up's requests, set-up calls) every copy does again.
// Give each Processes plan a test or spec of its own, with nothing
// before its Execute that must happen once.
//
// A shard that dies (killed, crashed, or its test failed before its
// Execute) is named in the merged Report's Warnings and in the error
// Execute returns (Report.Err: no gate passes), with its exit status,
// what it had done by its live counters and the tail of its output; the
// other shards' results are kept, and the dead shard counts as having
// sent nothing. The copies publish their live counters on a scoreboard
// (package scoreboard, in a temporary directory; Unix), and the
// parent's LiveCounters follow their total while they run. Cancelling ctx closes
// the copies' standard input, which cancels their executions (they
// write their partial reports); a copy still running the plan's grace
// period later is killed. Execute waits for every copy (no process is
// left behind), each bounded by the plan's time limit (or For) plus
// its grace period and a margin after T0; a copy not ready within
// ProcessReadyTimeout fails the run.
//
// Not with Shard or ShardEnv in the parent (a plan runs as processes on
// one machine or as one shard of a larger run, not both), nor
// LogRequests or Scoreboard (they write to the parent's writer and
// board, which the copies do not share). With StartAt(T0, ready) the
// copies start at that T0 instead of one the parent picks; when they are
// not ready early enough (by T0 − ready, less the time they need to
// start) nothing is sent and Execute says so, as StartAt does.
func Processes(n int) Option {
	return func(p *Plan) { p.procs, p.procsSet = n, true }
}

// ProcessTest makes Processes' copies of a test binary run t's test
// alone: the arguments are this process's, with -test.run replaced by
// t.Name() quoted as a pattern (^TestX$/^sub$) and the flags that name
// output files (profiles, coverage, the test log) or select other work
// (-test.bench, -test.fuzz, -test.list) left out.
func ProcessTest(t interface{ Name() string }) Option {
	return func(p *Plan) { p.procTest = t.Name() }
}

// ProcessSpec makes Processes' copies of a Ginkgo suite's test binary
// run one spec alone: give it the spec's full text
// (CurrentSpecReport().FullText()). The copies run the Go tests this
// process's -test.run selects (go test -run TestSuite), or, with
// ProcessTest(t) given the suite's Test function's t, that test alone:
// without either, every Go test of the package runs in each copy before
// the suite. The arguments are otherwise this process's,
// with the Ginkgo flags that select specs (focus, skip, label filter)
// replaced by --ginkgo.focus matching the text to its end (a spec whose
// full text ends in another's whole full text, after a space, would run
// too: its own Processes plan is then refused by its hash), and those of
// Ginkgo's parallel processes and report files left out, as ProcessTest
// leaves out the testing package's output flags. Under `ginkgo -p` each
// copy then runs as a serial suite: it does not join Ginkgo's parallel
// run (its specs are not Ginkgo's to hand out). The copies run the
// suite's set-up nodes (BeforeSuite and the like) before the spec, so
// the target they reach must be the parent's: hand its URL over in the
// environment (GinkgoT().Setenv before Execute), as with ProcessTest.
func ProcessSpec(fullText string) Option {
	return func(p *Plan) { p.procSpec, p.procSpecSet = fullText, true }
}

// ProcessArgs sets the arguments Processes' copies are started with
// (without the executable's name), replacing this process's own. Use
// it to select a Ginkgo spec (-test.run=^TestSuite$
// -ginkgo.focus=...) or a program's subcommand.
func ProcessArgs(args ...string) Option {
	return func(p *Plan) { p.procArgs, p.procArgsSet = append([]string(nil), args...), true }
}

// ProcessReadyTimeout is how long Processes waits for every copy to
// reach its Execute and be ready.
const ProcessReadyTimeout = 60 * time.Second

// EnvProcessPlan is set in the environment of Processes' copies to
// the plan's hash: it marks a copy, and a copy whose plan hashes
// otherwise refuses to run. EnvProcessSeed holds the seed.
const (
	EnvProcessPlan = "BENCHGATE_PROCESS_PLAN"
	EnvProcessSeed = "BENCHGATE_PROCESS_SEED"
)

// processLead is how long after every copy is ready T0 is.
const processLead = 200 * time.Millisecond

// processExit is the status of a copy whose execution returned an
// error (its report written all the same).
const processExit = 3

// checkProcesses says what is wrong with Processes' settings.
func (p *Plan) checkProcesses() error {
	bad := func(value, reason string) error {
		return &scenario.ValidationError{Field: "Processes", Value: value, Reason: reason}
	}
	v := strconv.Itoa(p.procs)
	switch {
	case p.procs < 1:
		return bad(v, "must be at least 1")
	case p.shardSet || p.envErr != nil:
		return bad(v, "with Shard or ShardEnv: a plan runs as processes on one machine or as one shard of a larger run, not both")
	case p.requestLog != nil:
		return bad(v, "with LogRequests: the shard processes cannot write to this process's writer")
	case p.boardSet:
		return bad(v, "with Scoreboard: the shard processes do not share this process's board")
	case p.procSpecSet && strings.TrimSpace(p.procSpec) == "":
		return bad(v, "with ProcessSpec(\"\"): give the spec's full text (CurrentSpecReport().FullText())")
	case inTestBinary() && p.procTest == "" && !p.procArgsSet && !p.procSpecSet:
		return bad(v, "in a test binary: say which test or spec the shard processes run (ProcessTest(t), ProcessSpec) or their arguments (ProcessArgs)")
	}
	return nil
}

// inTestBinary reports whether this process is a test binary.
func inTestBinary() bool { return flag.Lookup("test.run") != nil }

// executeProcesses is Execute under Processes: in a copy, the shard's
// execution; in the parent, the copies' run and their merge.
func (p *Plan) executeProcesses(ctx context.Context) (*Report, error) {
	notRun := func(err error) (*Report, error) {
		return &Report{Version: ReportVersion, Latency: NewLatency(), notRun: true}, err
	}
	if want, ok := os.LookupEnv(EnvProcessPlan); ok {
		return p.executeCopy(ctx, want)
	}
	if err := p.checkProcesses(); err != nil {
		return notRun(err)
	}
	if err := ctx.Err(); err != nil {
		return notRun(context.Cause(ctx)) // nothing started
	}
	q := *p
	q.procsSet, q.procs = false, 0
	if q.cfg.Seed == 0 {
		q.cfg.Seed = rand.Uint64() | 1
	}
	ep, work, err := q.compile()
	if err == nil {
		err = q.checkForever(ctx, work)
	}
	if err != nil {
		return notRun(err)
	}
	hash := planHash(ep, q.executor)
	exe, err := os.Executable()
	if err != nil {
		return notRun(fmt.Errorf("Processes: this executable: %v", err))
	}
	args := p.procArgs
	switch {
	case p.procArgsSet:
	case p.procSpecSet:
		args = specArgs(os.Args[1:], p.procSpec, p.procTest)
	default:
		args = childArgs(os.Args[1:], p.procTest)
	}
	dir, err := os.MkdirTemp("", "benchgate-processes-")
	if err != nil {
		return notRun(fmt.Errorf("Processes: %v", err))
	}
	defer os.RemoveAll(dir)
	grace := ep.GracePeriod
	if grace == 0 {
		grace = engine.DefaultGracePeriod
	}
	run := &procRun{n: p.procs, exe: exe, args: args, dir: dir, hash: hash, seed: q.cfg.Seed, grace: max(grace, time.Second)}
	if q.startSet {
		run.t0, run.ready = q.startAt, q.startReady
		q.startSet = false // the copies get T0 from the parent
	}
	// a scoreboard the copies publish their live counters to (where
	// the system has shared mappings): the parent's LiveCounters follow
	// their total, and a copy that dies is reported with what it had done
	if b, err := scoreboard.Create(filepath.Join(dir, "board"), p.procs); err == nil {
		defer b.Close()
		run.board = b
		if l := p.cfg.Live; l != nil {
			stop := make(chan struct{})
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				t := time.NewTicker(50 * time.Millisecond)
				defer t.Stop()
				for {
					mirrorLive(l, b)
					select {
					case <-stop:
						mirrorLive(l, b)
						return
					case <-t.C:
					}
				}
			}()
			defer wg.Wait()
			defer close(stop)
		}
	}
	return run.execute(ctx, &q, ep)
}

// mirrorLive sets l to the total of b's slots.
func mirrorLive(l *engine.Live, b *scoreboard.Board) {
	c := b.Total()
	l.ActiveVUs.Store(c.ActiveVUs)
	l.Started.Store(c.Started)
	l.Succeeded.Store(c.Succeeded)
	l.Failed.Store(c.Failed)
	l.HeaderBytes.Store(c.HeaderBytes)
	l.BodyBytes.Store(c.BodyBytes)
	l.BytesSent.Store(c.BytesSent)
}

// childArgs is args (this test binary's) made to run test alone (all
// of them when test is ""): without the flags that select other tests
// or name output files, nor Ginkgo's parallel and report-file flags (a
// copy runs as a serial suite, writing no report of its own).
func childArgs(args []string, test string) []string {
	out := withoutFlags(args, dropForCopies)
	if test == "" {
		return out
	}
	parts := strings.Split(test, "/")
	for i, s := range parts {
		parts[i] = "^" + regexp.QuoteMeta(s) + "$"
	}
	// first: the flag package stops at the first argument that is not
	// a flag, and a test binary may be given some (flag.Args)
	return append([]string{"-test.run=" + strings.Join(parts, "/")}, out...)
}

// dropForCopies says whether the copies leave the flag out: it selects
// other tests, names an output file, or joins Ginkgo's parallel run.
func dropForCopies(name string) bool {
	if rest, ok := strings.CutPrefix(name, "test."); ok {
		switch rest {
		case "run", "bench", "fuzz", "list", "coverprofile", "cpuprofile", "memprofile", "blockprofile", "mutexprofile",
			"trace", "testlogfile", "outputdir":
			return true
		}
	}
	if rest, ok := strings.CutPrefix(name, "ginkgo."); ok {
		switch rest {
		case "json-report", "junit-report", "teamcity-report", "output-dir":
			return true
		}
		return strings.HasPrefix(rest, "parallel.")
	}
	return false
}

// specArgs is args (a Ginkgo suite's test binary's) made to run the
// spec of the full text given alone, as a serial suite, in the Go test
// named test ("": the one this process's -test.run selects, kept).
func specArgs(args []string, fullText, test string) []string {
	base := childArgs(args, test)
	if test == "" {
		// the parent's -test.run (the suite's Test function) stays
		base = withoutFlags(args, func(name string) bool { return name != "test.run" && dropForCopies(name) })
	}
	out := withoutFlags(base, func(name string) bool {
		switch name {
		case "ginkgo.focus", "ginkgo.skip", "ginkgo.focus-file", "ginkgo.skip-file", "ginkgo.label-filter":
			return true
		}
		return false
	})
	// Ginkgo matches the focus against the suite's description, a
	// space and the spec's full text
	return append([]string{"--ginkgo.focus=(^| )" + regexp.QuoteMeta(fullText) + "$"}, out...)
}

// withoutFlags is args less the flags drop says (by name, without
// dashes), with their values (=value, or the next argument).
func withoutFlags(args []string, drop func(name string) bool) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if strings.HasPrefix(a, "-") && drop(name) {
			if !hasValue && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
				i++ // its value is the next argument
			}
			continue
		}
		out = append(out, a)
	}
	return out
}

// procRun is the parent's side of one Processes execution.
type procRun struct {
	n     int
	exe   string
	args  []string
	dir   string
	hash  string
	seed  uint64
	grace time.Duration
	board *scoreboard.Board // nil where there is none
	// t0 and ready are StartAt's (zero t0: the parent picks T0 once
	// every copy is ready)
	t0    time.Time
	ready time.Duration
}

// child is one copy, as the parent sees it.
type child struct {
	k      int
	cmd    *exec.Cmd
	stdin  *os.File // the parent's end: T0 goes there, closing it cancels
	once   sync.Once
	out    *tailBuffer
	done   chan struct{}
	err    error // Wait's
	ready  string
	report string
}

func (c *child) closeStdin() { c.once.Do(func() { c.stdin.Close() }) }

func (r *procRun) execute(ctx context.Context, q *Plan, ep *engine.Plan) (*Report, error) {
	if !r.t0.IsZero() {
		// a T0 already too near: no copy is started for nothing
		if err := r.late(time.Now(), processLead, "would be started"); err != nil {
			return &Report{Version: ReportVersion, Latency: NewLatency(), notRun: true}, err
		}
	}
	kids := make([]*child, r.n)
	var startErr error
	for k := range kids {
		c, err := r.start(k)
		if err != nil {
			startErr = fmt.Errorf("Processes: starting shard %d/%d: %v", k, r.n, err)
			break
		}
		kids[k] = c
	}
	stopAll := func() {
		for _, c := range kids {
			if c != nil {
				c.closeStdin()
				c.cmd.Process.Kill()
			}
		}
	}
	waitAll := func() {
		for _, c := range kids {
			if c != nil {
				<-c.done
			}
		}
	}
	if startErr != nil {
		stopAll()
		waitAll()
		return &Report{Version: ReportVersion, Latency: NewLatency(), notRun: true}, startErr
	}
	// every copy ready (its file written), or one ended, or time up
	readyErr := r.waitReady(ctx, kids)
	if readyErr != nil {
		stopAll()
		waitAll()
		return &Report{Version: ReportVersion, Latency: NewLatency(), notRun: true}, readyErr
	}
	// T0 far enough ahead for the slowest copy to compile the plan
	// again (as it did before it said it was ready) and wait for it
	lead := processLead
	for _, c := range kids {
		if b, err := os.ReadFile(c.ready); err == nil {
			if d, err := time.ParseDuration(strings.TrimSpace(string(b))); err == nil {
				lead = max(lead, 2*d+100*time.Millisecond)
			}
		}
	}
	t0 := time.Now().Add(lead)
	if !r.t0.IsZero() {
		// StartAt's T0: the copies must get it early enough to compile
		// the plan again and be ready by T0 − ready
		if err := r.late(time.Now(), lead, "were ready"); err != nil {
			stopAll()
			waitAll()
			return &Report{Version: ReportVersion, Latency: NewLatency(), notRun: true}, err
		}
		t0 = r.t0
	}
	line := t0.UTC().Format(time.RFC3339Nano) + "\n"
	for _, c := range kids {
		c.stdin.Write([]byte(line)) // a copy that died shows in its status
	}
	// wait, bounded; on ctx's end or the bound, close their input (they
	// cancel and write what they have), then kill after the grace
	var bound <-chan time.Time
	if limit := ep.TimeLimit; limit > 0 {
		t := time.NewTimer(time.Until(t0) + limit + r.grace + 10*time.Second)
		defer t.Stop()
		bound = t.C
	}
	all := make(chan struct{})
	go func() { waitAll(); close(all) }()
	var why error
	select {
	case <-all:
	case <-ctx.Done():
		why = context.Cause(ctx)
	case <-bound:
		why = fmt.Errorf("Processes: the shard processes were still running %v after the plan's time limit %v and grace period", 10*time.Second, ep.TimeLimit)
	}
	if why != nil {
		for _, c := range kids {
			c.closeStdin()
		}
		t := time.NewTimer(r.grace + 2*time.Second)
		select {
		case <-all:
		case <-t.C:
			stopAll()
			<-all
		}
		t.Stop()
	}
	for _, c := range kids {
		c.closeStdin()
	}
	merged, err := r.collect(q, ep, kids, t0)
	if why != nil {
		err = errors.Join(why, err)
	}
	return merged, err
}

// late is StartAt's refusal when the copies, ready (or about to start)
// at now and needing lead to start, cannot begin by T0 − ready; nil
// when they can.
func (r *procRun) late(now time.Time, lead time.Duration, state string) error {
	deadline := r.t0.Add(-r.ready)
	if !now.Add(lead).After(deadline) {
		return nil
	}
	return fmt.Errorf("StartAt: not ready in time: T0 %s; the %d shard processes %s at %s and need %v to start, the deadline was %s (T0 − %v): nothing was sent",
		r.t0.Format(time.RFC3339Nano), r.n, state, now.Format(time.RFC3339Nano), lead.Round(time.Millisecond), deadline.Format(time.RFC3339Nano), r.ready)
}

// start starts copy k.
func (r *procRun) start(k int) (*child, error) {
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	c := &child{k: k, stdin: pw, out: &tailBuffer{max: 4 << 10}, done: make(chan struct{}),
		report: filepath.Join(r.dir, fmt.Sprintf("shard-%d.json", k))}
	c.ready = c.report + ".ready"
	cmd := exec.Command(r.exe, r.args...)
	env := make([]string, 0, len(os.Environ())+6)
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case EnvShard, EnvShards, EnvT0, EnvOut, EnvJobIndex, EnvProcessPlan, EnvProcessSeed, scoreboard.EnvPath, scoreboard.EnvRun:
			continue
		}
		env = append(env, kv)
	}
	cmd.Env = append(env, EnvShard+"="+strconv.Itoa(k), EnvShards+"="+strconv.Itoa(r.n), EnvOut+"="+c.report,
		EnvProcessPlan+"="+r.hash, EnvProcessSeed+"="+strconv.FormatUint(r.seed, 10))
	if r.board != nil {
		cmd.Env = append(cmd.Env, r.board.Env()...)
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = pr, c.out, c.out
	cmd.WaitDelay = 2 * time.Second // a process of its own that keeps its output open does not hold Wait
	if err := cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		return nil, err
	}
	pr.Close()
	c.cmd = cmd
	go func() { c.err = cmd.Wait(); close(c.done) }()
	return c, nil
}

// waitReady waits until every copy has written its ready file.
func (r *procRun) waitReady(ctx context.Context, kids []*child) error {
	deadline := time.Now().Add(ProcessReadyTimeout)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		all := true
		for _, c := range kids {
			select {
			case <-c.done:
				return fmt.Errorf("Processes: shard %d/%d (pid %d) ended before it was ready: %s%s", c.k, r.n, c.cmd.Process.Pid, exitStatus(c.err), c.out.tail())
			default:
			}
			if _, err := os.Stat(c.ready); err != nil {
				all = false
			}
		}
		if all {
			return nil
		}
		if time.Now().After(deadline) {
			var late []string
			for _, c := range kids {
				if _, err := os.Stat(c.ready); err != nil {
					late = append(late, fmt.Sprintf("shard %d/%d (pid %d)%s", c.k, r.n, c.cmd.Process.Pid, c.out.tail()))
				}
			}
			return fmt.Errorf("Processes: not every shard process was ready within %v (ProcessReadyTimeout): %s", ProcessReadyTimeout, strings.Join(late, "; "))
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-tick.C:
		}
	}
}

// collect reads the copies' reports and merges them; a copy that left
// none is reported, the others kept.
func (r *procRun) collect(q *Plan, ep *engine.Plan, kids []*child, t0 time.Time) (*Report, error) {
	var reports []*Report
	var names []string
	var failures []string
	for k, c := range kids {
		pid := c.cmd.Process.Pid
		name := fmt.Sprintf("shard %d/%d (pid %d)", k, r.n, pid)
		rep, err := readReportFile(c.report)
		switch {
		case err == nil && (rep.Shard == nil || rep.Shard.Index != k || rep.Shard.Count != r.n || rep.Shard.PlanHash != r.hash):
			err = fmt.Errorf("its report is of shard %v of plan %s, not shard %d/%d of plan %s", rep.Shard, short(manifestHash(rep)), k, r.n, short(r.hash))
		case err == nil && rep.Shard.PID != pid:
			err = fmt.Errorf("its report was written by pid %d", rep.Shard.PID)
		case err == nil && !rep.Shard.T0.Equal(t0):
			err = fmt.Errorf("its report's T0 is %s, not %s", fmtT0(rep.Shard.T0), fmtT0(t0))
		}
		if err != nil {
			// the merged report lists it as missing (MissingShards),
			// which no verdict passes, in memory or read from a file
			failures = append(failures, fmt.Sprintf("%s: %s, no report (%v): its requests are not in the merged figures%s%s", name, exitStatus(c.err), err, r.liveOf(k), c.out.tail()))
			continue
		}
		if c.err != nil {
			failures = append(failures, fmt.Sprintf("%s: %s; its report is kept%s", name, exitStatus(c.err), c.out.tail()))
		}
		reports, names = append(reports, rep), append(names, name)
	}
	if len(reports) == 0 {
		return r.emptyShard(q, t0), fmt.Errorf("Processes: no shard process left a report: %s", strings.Join(failures, "; "))
	}
	merged, err := MergeWith(MergeOptions{Names: names, AllowFailed: true, AllowMissing: true}, reports...)
	if err != nil {
		return &Report{Version: ReportVersion, Latency: NewLatency(), notRun: true}, errors.Join(append([]error{err}, stringErrs(failures)...)...)
	}
	if len(failures) > 0 {
		merged.Warnings = append(merged.Warnings, failures...)
		return merged, fmt.Errorf("Processes: %d of %d shard processes failed: %s", len(failures), r.n, strings.Join(failures, "; "))
	}
	return merged, nil
}

// liveOf says what shard k's live counters held, "" without a board.
func (r *procRun) liveOf(k int) string {
	if r.board == nil {
		return ""
	}
	c := r.board.Read()[k]
	return fmt.Sprintf("; by its live counters it had started %d requests, %d good, %d failed", c.Started, c.Succeeded, c.Failed)
}

func stringErrs(ss []string) []error {
	out := make([]error, len(ss))
	for i, s := range ss {
		out[i] = errors.New(s)
	}
	return out
}

func manifestHash(r *Report) string {
	if r == nil || r.Shard == nil {
		return ""
	}
	return r.Shard.PlanHash
}

// emptyShard is the report when no process left one: the plan's
// shape, nothing sent.
func (r *procRun) emptyShard(q *Plan, t0 time.Time) *Report {
	ep, _, _ := q.compile()
	rec := newRecorder(ep, q.cfg.Secrets)
	rec.start = t0
	rep := rec.report()
	rep.Seed = r.seed
	rep.Started = t0
	return rep
}

func readReportFile(path string) (*Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadJSON(bufio.NewReader(f))
}

// exitStatus says how a copy ended.
func exitStatus(err error) string {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return "exit status 0"
	case errors.As(err, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return "killed by signal " + ws.Signal().String()
		}
		return fmt.Sprintf("exit status %d", ee.ExitCode())
	}
	return err.Error()
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

// tail is the output's end, as ": output: …", or "".
func (t *tailBuffer) tail() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := strings.TrimSpace(string(t.b))
	if s == "" {
		return ""
	}
	if len(t.b) >= t.max {
		s = "…" + s
	}
	return "; its output ends: " + s
}

// executeCopy is Execute in a copy started by Processes: it runs shard
// BENCHGATE_SHARD of the plan, writes its report and ends the process.
func (p *Plan) executeCopy(ctx context.Context, want string) (*Report, error) {
	fail := func(err error) (*Report, error) {
		fmt.Fprintf(os.Stderr, "benchgate: shard process: %v\n", err)
		return &Report{Version: ReportVersion, Latency: NewLatency(), notRun: true}, err
	}
	c, ok, err := ShardFromEnv()
	switch {
	case err != nil:
		return fail(err)
	case !ok || c.Out == "":
		return fail(fmt.Errorf("%s is set without a shard and %s", EnvProcessPlan, EnvOut))
	case c.Count != p.procs:
		return fail(fmt.Errorf("Processes(%d) in a shard process of %d", p.procs, c.Count))
	}
	seed, err := strconv.ParseUint(os.Getenv(EnvProcessSeed), 10, 64)
	if err != nil {
		return fail(fmt.Errorf("%s=%q: %v", EnvProcessSeed, os.Getenv(EnvProcessSeed), err))
	}
	q := *p
	q.procsSet, q.procs = false, 0
	q.envErr = nil
	if q.cfg.Seed != 0 && q.cfg.Seed != seed {
		return fail(fmt.Errorf("this process's plan has Seed %d, the parent's %d", q.cfg.Seed, seed))
	}
	q.cfg.Seed = seed
	whole := q
	whole.shardSet, whole.cfg.Segment = false, engine.Segment{}
	compileStart := time.Now()
	ep, _, err := whole.compile()
	if err != nil {
		return fail(err)
	}
	compiled := time.Since(compileStart)
	if h := planHash(ep, q.executor); h != want {
		return fail(fmt.Errorf("shard %d/%d: this process's plan (hash %s) is not the parent's (%s): another plan, or one built otherwise here (another Processes plan earlier in the same test? give each its own test; a URL of a server this process started itself? hand the parent's URL to the shard processes in the environment): nothing sent",
			c.Index, c.Count, short(h), short(want)))
	}
	Shard(c.Index, c.Count)(&q)
	if b, err := scoreboard.FromEnv(); err != nil {
		return fail(err)
	} else if b != nil {
		slot, err := b.Slot(c.Index)
		if err != nil {
			return fail(err)
		}
		Scoreboard(slot)(&q)
	}
	// ready: the parent hands T0 on standard input, then closes it to cancel
	if err := os.WriteFile(c.Out+".ready", []byte(compiled.String()), 0o644); err != nil {
		return fail(err)
	}
	in := bufio.NewReader(os.Stdin)
	line, err := in.ReadString('\n')
	if err != nil {
		exitProcess(processExit) // the parent is gone, or cancelled before T0
	}
	t0, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(line))
	if err != nil {
		return fail(fmt.Errorf("T0 %q from the parent: %v", line, err))
	}
	StartAt(t0, 0)(&q)
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		in.ReadString('\n') // EOF: the parent cancels (or died)
		cancel()
	}()
	report, err := q.Execute(cctx)
	code := 0
	if err != nil {
		code = processExit
		fmt.Fprintf(os.Stderr, "benchgate: shard process %d/%d: %v\n", c.Index, c.Count, err)
	}
	if werr := writeReportFile(report, c.Out); werr != nil {
		fmt.Fprintf(os.Stderr, "benchgate: shard process %d/%d: writing its report: %v\n", c.Index, c.Count, werr)
		code = processExit
	}
	exitProcess(code)
	return report, err // not reached
}

// writeReportFile writes r to path, whole or not at all (a file beside
// it renamed into place).
func writeReportFile(r *Report, path string) error { return writeFileWhole(path, r.WriteJSON) }

// writeFileWhole writes path by write, whole or not at all (a file
// beside it renamed into place; removed when writing failed).
func writeFileWhole(path string, write func(io.Writer) error) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	err = write(w)
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// exitProcess ends a shard process. A test binary panics on os.Exit(0)
// while a test runs (the testing package takes it for a test that
// ended early): there the process ends by syscall.Exit, which skips the
// race detector's and coverage's end-of-process work.
func exitProcess(code int) {
	if inTestBinary() {
		syscall.Exit(code)
	}
	os.Exit(code)
}
