//go:build unix

package loadtest_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/benchgate/benchgate/engine"
	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

// procServer counts requests per path and per sending process (the
// X-Pid header a hook adds).
type procServer struct {
	mu     sync.Mutex
	paths  map[string]int
	pids   map[string]int
	closed func()
}

// processTarget returns the URL of the test's target: in the parent a
// server it starts (and hands to the shard processes in the
// environment, variable env), in a shard process the parent's.
func processTarget(t *testing.T, env string) (string, *procServer) {
	if u := os.Getenv(env); u != "" && os.Getenv(loadtest.EnvProcessPlan) != "" {
		return u, nil
	}
	s := &procServer{paths: map[string]int{}, pids: map[string]int{}}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.paths[r.URL.Path]++
		s.pids[r.Header.Get("X-Pid")]++
		s.mu.Unlock()
	}))
	t.Cleanup(ts.Close)
	t.Setenv(env, ts.URL)
	return ts.URL, s
}

func pidHook(e *engine.RequestEvent) error {
	e.Header.Set("X-Pid", strconv.Itoa(os.Getpid()))
	return nil
}

// TestProcesses: a plan run as 4 shard processes (copies of this test
// binary running this test) sends exactly what one process sends, per
// step, from 4 processes other than this one, and the merged report
// counts it all.
func TestProcesses(t *testing.T) {
	url, srv := processTarget(t, "BENCHGATE_TEST_PROCESSES_URL")
	vus := engine.VUs{Max: 8, Rounds: 5, Hooks: engine.VUHooks{RequestStart: pidHook}}
	run := scenario.Run("r", scenario.Get(url+"/a"), scenario.Get(url+"/b"))
	live := new(engine.Live)
	report, err := loadtest.New(loadtest.Runs(run), loadtest.VirtualUsers(vus), loadtest.Seed(5), loadtest.LiveCounters(live),
		loadtest.Processes(4), loadtest.ProcessTest(t), loadtest.TimeLimit(time.Minute)).Execute(context.Background())
	// a shard process never gets here: it ended in Execute
	if err != nil {
		t.Fatal(err)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.paths["/a"] != 40 || srv.paths["/b"] != 40 {
		t.Errorf("the server received %v, want 40 requests per step (8 VUs × 5 rounds)", srv.paths)
	}
	if len(srv.pids) != 4 || srv.pids[strconv.Itoa(os.Getpid())] != 0 {
		t.Errorf("requests by pid %v: want 4 processes, none of them this one (%d)", srv.pids, os.Getpid())
	}
	a, b := report.Runs[0].Steps[0], report.Runs[0].Steps[1]
	if report.RequestsSent != 80 || a.Good != 40 || b.Good != 40 || a.Configured != 40 || b.Configured != 40 || len(report.Warnings) != 0 {
		t.Errorf("merged report: %d sent, steps good %d and %d of %d and %d, warnings %q", report.RequestsSent, a.Good, b.Good, a.Configured, b.Configured, report.Warnings)
	}
	if c := live.Snapshot(); runtime.GOOS == "linux" && (c.Started != 80 || c.Succeeded != 80) {
		t.Errorf("the parent's live counters %+v: want the shard processes' total, 80 started and succeeded", c)
	}
	pids := map[int]bool{}
	for _, m := range report.Shards {
		pids[m.PID] = true
		if srv.pids[strconv.Itoa(m.PID)] != 20 {
			t.Errorf("shard %v (pid %d) sent %d requests, want 20 (its 2 VUs × 5 rounds × 2 steps)", &m, m.PID, srv.pids[strconv.Itoa(m.PID)])
		}
	}
	if len(pids) != 4 || len(report.Shards) != 4 {
		t.Errorf("manifests %+v: want 4 shards of 4 distinct processes", report.Shards)
	}
}

// TestProcessesShardKilled: a shard process killed mid-run (SIGKILL,
// by itself after its third request) is named with how it ended in
// Execute's error and the merged report's warnings; what the others
// measured is kept, exactly.
func TestProcessesShardKilled(t *testing.T) {
	url, srv := processTarget(t, "BENCHGATE_TEST_PROCESSES_KILL_URL")
	var sent int
	hooks := engine.VUHooks{RequestStart: pidHook, RequestDone: func(e *engine.RequestEvent, r *engine.Result) error {
		if os.Getenv(loadtest.EnvShard) == "1" {
			if sent++; sent == 3 {
				syscall.Kill(os.Getpid(), syscall.SIGKILL)
			}
		}
		return nil
	}}
	vus := engine.VUs{Max: 3, Rounds: 10, Hooks: hooks}
	report, err := loadtest.New(loadtest.Runs(scenario.Run("r", scenario.Get(url+"/"))), loadtest.VirtualUsers(vus), loadtest.Seed(5),
		loadtest.Processes(3), loadtest.ProcessTest(t), loadtest.TimeLimit(time.Minute)).Execute(context.Background())
	if err == nil || !strings.Contains(err.Error(), "shard 1/3") || !strings.Contains(err.Error(), "killed by signal") || report.Err == nil {
		t.Fatalf("error %v, report.Err %v: want shard 1/3 named, killed by a signal", err, report.Err)
	}
	if runtime.GOOS == "linux" && !strings.Contains(err.Error(), "it had started") {
		t.Errorf("error %v: want what the killed shard had done, by its live counters", err)
	}
	if !strings.Contains(strings.Join(report.Warnings, "\n"), "shard 1/3") {
		t.Errorf("warnings %q: want shard 1/3 named", report.Warnings)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	var others int64
	for _, m := range report.Shards {
		if m.Index != 1 {
			others += int64(srv.pids[strconv.Itoa(m.PID)])
		}
	}
	if others != 20 || report.RequestsSent != others {
		t.Errorf("the merged report counts %d requests, the server %d from shards 0 and 2 (want 20: 2 VUs × 10 rounds)", report.RequestsSent, others)
	}
	if killed := srv.paths["/"] - int(others); killed < 3 {
		t.Errorf("the killed shard sent %d requests, want 3 or more", killed)
	}
	// the killed shard is missing from the merge, in memory and in the
	// merged report's file: no verdict passes on it either way
	var buf bytes.Buffer
	if err := report.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := loadtest.ReadJSON(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]*loadtest.Report{"in memory": report, "read back": back} {
		if !slices.Equal(r.MissingShards, []int{1}) || !strings.Contains(r.NoVerdict(), "1/3") {
			t.Errorf("%s: missing shards %v, no verdict %q: want shard 1 missing and no verdict", name, r.MissingShards, r.NoVerdict())
		}
	}
}

// TestProcessesPlanMismatch: a shard process whose plan is not the
// parent's (here its User-Agent names its shard) refuses to send
// anything, and the parent says why.
func TestProcessesPlanMismatch(t *testing.T) {
	url, srv := processTarget(t, "BENCHGATE_TEST_PROCESSES_MISMATCH_URL")
	report, err := loadtest.New(loadtest.Runs(scenario.Run("r", scenario.Get(url+"/"))), loadtest.UserAgent("ua"+os.Getenv(loadtest.EnvShard)),
		loadtest.Processes(2), loadtest.ProcessTest(t)).Execute(context.Background())
	if srv == nil {
		t.Fatal(err) // a shard process: it refused to run
	}
	if err == nil || !strings.Contains(err.Error(), "is not the parent's") || !report.DidNotRun() {
		t.Fatalf("error %v: want the plans' difference named", err)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if len(srv.paths) != 0 {
		t.Errorf("the server received %v", srv.paths)
	}
}

// TestProcessesInvalid: bad settings are errors naming Processes, before
// any process starts.
func TestProcessesInvalid(t *testing.T) {
	run := scenario.Run("r", scenario.Get("http://127.0.0.1:1/"))
	for _, c := range []struct {
		opts []loadtest.Option
		want string
	}{
		{[]loadtest.Option{loadtest.Processes(0), loadtest.ProcessTest(t)}, "at least 1"},
		{[]loadtest.Option{loadtest.Processes(2), loadtest.ProcessTest(t), loadtest.Shard(0, 2), loadtest.Seed(1)}, "not both"},
		{[]loadtest.Option{loadtest.Processes(2)}, "ProcessTest"},
		{[]loadtest.Option{loadtest.Processes(2), loadtest.ProcessTest(t), loadtest.LogRequests(new(strings.Builder))}, "LogRequests"},
	} {
		_, err := loadtest.New(append(c.opts, loadtest.Runs(run))...).Execute(context.Background())
		if err == nil || !strings.Contains(err.Error(), "Processes") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want Processes named and %q", err, c.want)
		}
	}
}

// TestProcessesShardHooks: with VUs.Shards = n, ShardInit(k) and
// ShardExit(k) run once each, in shard process k (HTTP::LoadGen's
// per-process init and exit hooks).
func TestProcessesShardHooks(t *testing.T) {
	url, _ := processTarget(t, "BENCHGATE_TEST_PROCESSES_HOOKS_URL")
	dir := os.Getenv("BENCHGATE_TEST_PROCESSES_HOOKS_DIR")
	if dir == "" {
		dir = t.TempDir()
		t.Setenv("BENCHGATE_TEST_PROCESSES_HOOKS_DIR", dir)
	}
	mark := func(what string) func(int) error {
		return func(k int) error {
			f, err := os.OpenFile(filepath.Join(dir, what+"-"+strconv.Itoa(k)), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = f.WriteString(strconv.Itoa(os.Getpid()) + "\n")
			return err
		}
	}
	vus := engine.VUs{Max: 6, Shards: 3, Hooks: engine.VUHooks{ShardInit: mark("init"), ShardExit: mark("exit")}}
	report, err := loadtest.New(loadtest.Runs(scenario.Run("r", scenario.Get(url+"/"))), loadtest.VirtualUsers(vus), loadtest.Seed(1),
		loadtest.Processes(3), loadtest.ProcessTest(t), loadtest.TimeLimit(time.Minute)).Execute(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range report.Shards {
		for _, what := range []string{"init", "exit"} {
			b, err := os.ReadFile(filepath.Join(dir, what+"-"+strconv.Itoa(m.Index)))
			if got, want := string(b), strconv.Itoa(m.PID)+"\n"; err != nil || got != want {
				t.Errorf("Shard%s(%d) ran in %q (%v), want once in shard process %d", strings.ToUpper(what[:1])+what[1:], m.Index, got, err, m.PID)
			}
		}
	}
}

// TestProcessesCancel: cancelling the parent's ctx cancels the shard
// processes, which write what they measured: Execute returns ctx's
// error with their partial reports merged, every process ended.
func TestProcessesCancel(t *testing.T) {
	url, srv := processTarget(t, "BENCHGATE_TEST_PROCESSES_CANCEL_URL")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if srv != nil {
		go func() {
			for i := 0; i < 1000; i++ { // up to 10 s
				srv.mu.Lock()
				n := srv.paths["/"]
				srv.mu.Unlock()
				if n >= 50 {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			cancel()
		}()
	}
	vus := engine.VUs{Max: 4, Rounds: engine.RoundsForever, Pacing: 5 * time.Millisecond}
	report, err := loadtest.New(loadtest.Runs(scenario.Run("r", scenario.Get(url+"/"))), loadtest.VirtualUsers(vus), loadtest.Seed(1),
		loadtest.Processes(2), loadtest.ProcessTest(t), loadtest.TimeLimit(time.Minute)).Execute(ctx)
	if err == nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if report.DidNotRun() || report.RequestsSent < 10 || len(report.Shards) != 2 {
		t.Errorf("report: %d sent, %d shards: want the shard processes' partial reports merged", report.RequestsSent, len(report.Shards))
	}
	for _, m := range report.Shards {
		if p, _ := os.FindProcess(m.PID); p != nil && p.Signal(syscall.Signal(0)) == nil {
			t.Errorf("shard process %d is still there", m.PID)
		}
	}
}

// TestProcessesShardError: a shard process whose execution returns an
// error (a hook's) writes its report all the same: the merged report
// keeps what it sent, and the error names the shard.
func TestProcessesShardError(t *testing.T) {
	url, srv := processTarget(t, "BENCHGATE_TEST_PROCESSES_ERROR_URL")
	hooks := engine.VUHooks{RequestStart: pidHook, Exit: func(vu int, data any) error {
		if os.Getenv(loadtest.EnvShard) == "2" {
			return errors.New("exit hook failed on purpose")
		}
		return nil
	}}
	vus := engine.VUs{Max: 3, Rounds: 4, Hooks: hooks}
	report, err := loadtest.New(loadtest.Runs(scenario.Run("r", scenario.Get(url+"/"))), loadtest.VirtualUsers(vus), loadtest.Seed(5),
		loadtest.Processes(3), loadtest.ProcessTest(t), loadtest.TimeLimit(time.Minute)).Execute(context.Background())
	if err == nil || !strings.Contains(err.Error(), "shard 2/3") || !strings.Contains(err.Error(), "its report is kept") ||
		!strings.Contains(err.Error(), "failed on purpose") {
		t.Fatalf("error %v: want shard 2/3 named, its report kept, the hook's error shown", err)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.paths["/"] != 12 || report.RequestsSent != 12 || len(srv.pids) != 3 {
		t.Errorf("server %v from %d processes, merged report %d sent: want 12 (3 VUs × 4 rounds), all counted", srv.paths, len(srv.pids), report.RequestsSent)
	}
}

// TestProcessesStartAt: with StartAt the shard processes start at the
// T0 given, not one the parent picks, and count from it.
func TestProcessesStartAt(t *testing.T) {
	url, srv := processTarget(t, "BENCHGATE_TEST_PROCESSES_STARTAT_URL")
	// T0 far enough ahead for the copies to start on a loaded machine;
	// they find it in the environment, as they find the URL
	const env = "BENCHGATE_TEST_PROCESSES_STARTAT_T0"
	t0 := time.Now().Add(10 * time.Second).Round(time.Millisecond)
	if v := os.Getenv(env); v != "" && os.Getenv(loadtest.EnvProcessPlan) != "" {
		t0, _ = time.Parse(time.RFC3339Nano, v)
	} else {
		t.Setenv(env, t0.Format(time.RFC3339Nano))
	}
	report, err := loadtest.New(loadtest.Runs(scenario.Run("r", scenario.Get(url+"/at")).Repeat(10)), loadtest.Seed(5), loadtest.Concurrency(2),
		loadtest.Processes(2), loadtest.ProcessTest(t), loadtest.StartAt(t0, 100*time.Millisecond)).Execute(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if time.Now().Before(t0) || !report.Started.Equal(t0) {
		t.Errorf("started %v, T0 %v, now %v", report.Started, t0, time.Now())
	}
	for _, m := range report.Shards {
		if !m.T0.Equal(t0) || m.Skew < 0 {
			t.Errorf("shard %s: T0 %v, skew %v; want T0 %v", m.String(), m.T0, m.Skew, t0)
		}
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.paths["/at"] != 10 || report.GoodResponses != 10 || len(report.Shards) != 2 {
		t.Errorf("the server received %v, the report %d good from %d shards; want 10 from 2", srv.paths, report.GoodResponses, len(report.Shards))
	}
}

// TestProcessesStartAtTooLate: a T0 the copies cannot be ready for
// sends nothing, and says so as StartAt does.
func TestProcessesStartAtTooLate(t *testing.T) {
	url, srv := processTarget(t, "BENCHGATE_TEST_PROCESSES_LATE_URL")
	report, err := loadtest.New(loadtest.Runs(scenario.Run("r", scenario.Get(url+"/late")).Repeat(10)), loadtest.Seed(5), loadtest.Concurrency(2),
		loadtest.Processes(2), loadtest.ProcessTest(t), loadtest.StartAt(time.Now().Add(50*time.Millisecond), 0)).Execute(context.Background())
	if err == nil || !strings.Contains(err.Error(), "StartAt: not ready in time") || !strings.Contains(err.Error(), "nothing was sent") {
		t.Fatalf("a T0 too near: %v", err)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.paths["/late"] != 0 || report.RequestsSent != 0 {
		t.Errorf("sent %d, the server received %v", report.RequestsSent, srv.paths)
	}
}

// TestProcessesArgs: ProcessArgs gives the copies their arguments in
// place of this process's (here selecting this test alone, as
// ProcessTest would): they run it and send the plan's requests.
func TestProcessesArgs(t *testing.T) {
	url, srv := processTarget(t, "BENCHGATE_TEST_PROCESSES_ARGS_URL")
	report, err := loadtest.New(loadtest.Runs(scenario.Run("r", scenario.Get(url+"/args")).Repeat(6)), loadtest.Seed(5), loadtest.Concurrency(2),
		loadtest.Processes(2), loadtest.ProcessArgs("-test.run=^TestProcessesArgs$")).Execute(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.paths["/args"] != 6 || report.GoodResponses != 6 || len(report.Shards) != 2 {
		t.Errorf("the server received %v, the report %d good from %d shards; want 6 from 2", srv.paths, report.GoodResponses, len(report.Shards))
	}
}
