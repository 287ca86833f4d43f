package loadtest_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/benchgate/benchgate/engine"
	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

// TestShardReportShowsGlobalIterations: a shard sends its iterations
// alone, and its report keeps their records without holes (the run's
// Repeat is the shard's share, every iteration's records present)
// while every place the user reads an iteration number shows the whole
// plan's: {{iteration}} in the URL, Iteration.Index, the request log.
func TestShardReportShowsGlobalIterations(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.URL.Query().Get("it"))
		mu.Unlock()
	}))
	defer ts.Close()
	for _, c := range []struct {
		name string
		opt  loadtest.Option
	}{
		{"slots", loadtest.Concurrency(3)},
		{"VUs", loadtest.VirtualUsers(engine.VUs{Max: 10})},
		{"arrivals", loadtest.ArrivalRate(engine.Arrivals{Rate: 1000, Duration: 10 * time.Millisecond, MaxVUs: 4})},
	} {
		seen = nil
		var log bytes.Buffer
		p := loadtest.New(loadtest.Runs(scenario.Run("r", scenario.Get(ts.URL+"/a?it={{iteration}}"), scenario.Get(ts.URL+"/b?it={{iteration}}")).KeepLevel(1)),
			loadtest.Repeat(10), loadtest.Shard(1, 3), loadtest.Seed(5), loadtest.LogRequests(&log), c.opt)
		if c.name != "slots" {
			p = loadtest.New(loadtest.Runs(scenario.Run("r", scenario.Get(ts.URL+"/a?it={{iteration}}"), scenario.Get(ts.URL+"/b?it={{iteration}}")).KeepLevel(1)),
				loadtest.Shard(1, 3), loadtest.Seed(5), loadtest.LogRequests(&log), c.opt)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		report, err := p.Execute(ctx)
		cancel()
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		want := []int{1, 4, 7} // iterations i mod 3 = 1 of 10
		run := report.Run("r")
		if run.Repeat != len(want) || report.RequestsSent != int64(2*len(want)) {
			t.Fatalf("%s: the shard's run repeats %d times and sent %d requests, want %d iterations, %d requests", c.name, run.Repeat, report.RequestsSent, len(want), 2*len(want))
		}
		for i, g := range want {
			it, ok := run.Iteration(i)
			if !ok {
				t.Fatalf("%s: iteration %d of the shard: no records", c.name, i)
			}
			if it.Index() != g {
				t.Errorf("%s: the shard's iteration %d: Index %d, want the whole plan's %d", c.name, i, it.Index(), g)
			}
			for k, rq := range it.Requests() {
				if !rq.Sent || rq.Status != 200 {
					t.Errorf("%s: the shard's iteration %d step %d: record %+v, want sent and 200", c.name, i, k+1, rq)
				}
			}
		}
		var logged []int
		sc := bufio.NewScanner(&log)
		for sc.Scan() {
			var l loadtest.RequestLine
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				t.Fatal(err)
			}
			logged = append(logged, l.Iteration)
		}
		slices.Sort(logged)
		slices.Sort(seen)
		if !slices.Equal(logged, []int{1, 1, 4, 4, 7, 7}) || strings.Join(seen, ",") != "1,1,4,4,7,7" {
			t.Errorf("%s: the request log shows iterations %v and the server received %v, want 1, 4 and 7 twice", c.name, logged, seen)
		}
	}
}

// TestShardRefusals: what cannot run as a shard is refused before a
// request is sent, naming the setting: a shard without Seed, a user's
// executor that cannot split its work, a shard that would get no VU or
// no arrival.
func TestShardRefusals(t *testing.T) {
	var sent int
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { sent++ }))
	defer ts.Close()
	run := func() *scenario.RunDef { return scenario.Run("r", scenario.Get(ts.URL+"/")) }
	exec := engine.ExecuteFunc(func(ctx context.Context, p *engine.Plan, rec engine.Recorder) error { return nil })
	for _, c := range []struct {
		name string
		p    *loadtest.Plan
		want []string
	}{
		{"no seed", loadtest.New(loadtest.Runs(run()), loadtest.Shard(0, 2)), []string{`Shard "(0, 2)"`, "needs Seed"}},
		{"own executor", loadtest.New(loadtest.Runs(run()), loadtest.Shard(0, 2), loadtest.Seed(1), loadtest.WithExecutor(exec)), []string{"Segment 0/2", "cannot split its work"}},
		{"VUs", loadtest.New(loadtest.Runs(run()), loadtest.Shard(2, 3), loadtest.Seed(1), loadtest.VirtualUsers(engine.VUs{Max: 2})), []string{"Max 2 for 3 segments", "segment 2/3 gets no virtual user"}},
		{"arrivals", loadtest.New(loadtest.Runs(run()), loadtest.Shard(3, 4), loadtest.Seed(1),
			loadtest.ArrivalRate(engine.Arrivals{Rate: 100, Duration: 30 * time.Millisecond})), []string{"3 arrivals for 4 segments", "segment 3/4 gets none"}},
	} {
		_, err := c.p.Execute(context.Background())
		for _, w := range c.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %v, want it to say %q", c.name, err, w)
			}
		}
	}
	if sent != 0 {
		t.Errorf("%d requests sent by plans refused", sent)
	}
}

// TestShardFor: a shard of a plan run For a duration goes on until the
// time passes, and the iterations it begins are the whole plan's
// numbers it owns (i mod 3 = 1 for shard 1 of 3), each once, its
// records without holes: slots whose runs repeat up to For's bound,
// VUs walking their runs until stopped, an arrival rate lasting For.
func TestShardFor(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer ts.Close()
	for _, c := range []struct {
		name string
		opt  loadtest.Option
	}{
		{"slots", loadtest.Concurrency(3)},
		{"VUs", loadtest.VirtualUsers(engine.VUs{Max: 6})},
		{"arrivals", loadtest.ArrivalRate(engine.Arrivals{Rate: 300, MaxVUs: 6})},
	} {
		var log bytes.Buffer
		p := loadtest.New(loadtest.Runs(scenario.Run("r", scenario.Get(ts.URL+"/a?it={{iteration}}")).KeepLevel(1)),
			loadtest.For(100*time.Millisecond), loadtest.Shard(1, 3), loadtest.Seed(5), loadtest.LogRequests(&log), c.opt)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		report, err := p.Execute(ctx)
		cancel()
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var logged []int
		sc := bufio.NewScanner(&log)
		for sc.Scan() {
			var l loadtest.RequestLine
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				t.Fatal(err)
			}
			if l.Iteration%3 != 1 {
				t.Fatalf("%s: iteration %d sent by shard 1 of 3", c.name, l.Iteration)
			}
			logged = append(logged, l.Iteration)
		}
		slices.Sort(logged)
		if len(logged) < 2 || len(slices.Compact(slices.Clone(logged))) != len(logged) {
			t.Fatalf("%s: iterations %v: want at least 2, each once", c.name, logged)
		}
		run := report.Run("r")
		// an iteration begun as the time passed may have sent nothing
		// (not started): counted, without a request in the log
		if run.Repeat < len(logged) || run.Repeat > len(logged)+6 {
			t.Fatalf("%s: the report counts %d iterations, the log %d", c.name, run.Repeat, len(logged))
		}
		var indexes []int
		for i := range run.Repeat {
			it, ok := run.Iteration(i)
			if !ok {
				t.Fatalf("%s: the shard's iteration %d: no records", c.name, i)
			}
			if it.Index()%3 != 1 {
				t.Fatalf("%s: the shard's iteration %d shows number %d", c.name, i, it.Index())
			}
			if it.Requests()[0].Sent {
				indexes = append(indexes, it.Index())
			}
		}
		slices.Sort(indexes)
		if !slices.Equal(indexes, logged) {
			t.Errorf("%s: the report's iterations %v, the log's %v", c.name, indexes, logged)
		}
	}
}

// unawareExecutor is an executor written before segments: its Validate
// accepts every plan and its Work is the whole plan's.
type unawareExecutor struct{}

func (unawareExecutor) Validate(p *engine.Plan) error { return nil }
func (unawareExecutor) Work(p *engine.Plan) engine.Work {
	return engine.ExecuteFunc(nil).Work(p)
}
func (unawareExecutor) Execute(ctx context.Context, p *engine.Plan, rec engine.Recorder) error {
	panic("a plan refused must not execute")
}

// TestShardUnawareExecutor: an executor of the user's that knows
// nothing of segments (its Validate accepts the shard, its Work is the
// whole plan's, without Work.Global) is refused for a shard, before it
// executes, instead of sending the whole plan in every shard; the whole
// plan runs as before.
func TestShardUnawareExecutor(t *testing.T) {
	run := scenario.Run("r", scenario.Get("http://127.0.0.1:1/"))
	_, err := loadtest.New(loadtest.Runs(run), loadtest.Shard(0, 2), loadtest.Seed(1), loadtest.WithExecutor(unawareExecutor{})).Execute(context.Background())
	if err == nil || !strings.Contains(err.Error(), "Work.Global is nil for segment 0/2") {
		t.Errorf("error %v, want the missing Work.Global named", err)
	}
}
