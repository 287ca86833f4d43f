package loadtest_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/benchgate/benchgate/engine"
	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

// TestVUsRoundsForever: VUs with a negative Rounds walk their run until
// the execution stops (HTTP::LoadGen's times <= 0), here on a cancel
// once the server has answered 40 requests and on the plan's time
// limit; the run is then configured with the iterations its VUs began,
// so the counts add up and every iteration begun can be read.
func TestVUsRoundsForever(t *testing.T) {
	t.Run("cancel", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		var seen atomic.Int64
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if seen.Add(1) == 40 {
				cancel()
			}
		}))
		t.Cleanup(srv.Close)
		run := scenario.Run("r", scenario.Get("/a"), scenario.Get("/b"))
		report, err := loadtest.New(loadtest.Runs(run), loadtest.BaseURL(srv.URL), loadtest.KeepLevel(1),
			loadtest.VirtualUsers(engine.VUs{Max: 3, Rounds: engine.RoundsForever})).Execute(ctx)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err %v", err)
		}
		checkForeverCounts(t, report, 40)
	})
	t.Run("time limit", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
		t.Cleanup(srv.Close)
		run := scenario.Run("r", scenario.Get("/a"), scenario.Get("/b").Think(time.Millisecond))
		report := execute(t, loadtest.Runs(run), loadtest.BaseURL(srv.URL), loadtest.TimeLimit(150*time.Millisecond),
			loadtest.VirtualUsers(engine.VUs{Max: 2, Rounds: engine.RoundsForever}))
		if report.StoppedBy == "" {
			t.Errorf("not stopped by the time limit")
		}
		checkForeverCounts(t, report, 1)
	})
}

// checkForeverCounts checks the counts of a run walked until stopped.
func checkForeverCounts(t *testing.T, report *loadtest.Report, minSent int64) {
	t.Helper()
	rr := report.Run("r")
	if report.RequestsSent < minSent || rr.Repeat < 1 || rr.Repeat > engine.ForeverIterations {
		t.Fatalf("sent %d, repeat %d", report.RequestsSent, rr.Repeat)
	}
	var configured int64 // the run's repeat per step, and the iterator's extras
	for _, st := range rr.Steps {
		configured += st.Configured
	}
	if report.RequestsConfigured != configured ||
		report.RequestsConfigured != report.RequestsSent+report.RequestsNotSent+report.RequestsNotStarted ||
		report.RequestsSent != report.GoodResponses+report.ResponsesFailed+report.RequestsInterrupted {
		t.Errorf("configured %d (repeat %d), sent %d, not sent %d, not started %d, good %d, failed %d, interrupted %d",
			report.RequestsConfigured, rr.Repeat, report.RequestsSent, report.RequestsNotSent, report.RequestsNotStarted,
			report.GoodResponses, report.ResponsesFailed, report.RequestsInterrupted)
	}
	// the iterations begun are numbered 0 … repeat−1; only the last one
	// of each VU may have been cut short by the stop, before its first
	// request or after
	if report.RequestsNotStarted > int64(2*report.Concurrency) {
		t.Errorf("%d requests not started with %d VUs", report.RequestsNotStarted, report.Concurrency)
	}
	empty := 0
	for i := 0; i < rr.Repeat; i++ {
		it, ok := rr.Iteration(i)
		if !ok {
			t.Fatalf("iteration %d of %d cannot be read", i, rr.Repeat)
		}
		rqs := it.Requests()
		if len(rqs) != 2 {
			t.Fatalf("iteration %d: %d requests", i, len(rqs))
		}
		if !rqs[0].Sent && !rqs[0].NotSent {
			empty++
		}
	}
	if empty > report.Concurrency {
		t.Errorf("%d iterations sent nothing, with %d VUs", empty, report.Concurrency)
	}
	for _, st := range rr.Steps {
		if st.Configured < int64(rr.Repeat) {
			t.Errorf("step %d configured %d, repeat %d", st.Number, st.Configured, rr.Repeat)
		}
	}
}

// TestVUsRoundsForeverNeedsALimit: walking until stopped with nothing
// to stop it is refused before any request, naming the field; a
// context deadline is limit enough.
func TestVUsRoundsForeverNeedsALimit(t *testing.T) {
	var seen atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen.Add(1) }))
	t.Cleanup(srv.Close)
	opts := []loadtest.Option{loadtest.Runs(scenario.Run("r", scenario.Get("/"))), loadtest.BaseURL(srv.URL),
		loadtest.VirtualUsers(engine.VUs{Max: 1, Rounds: -1})}
	refused, err := loadtest.New(opts...).Execute(context.Background())
	if refused == nil || !refused.DidNotRun() {
		t.Errorf("a refused plan returns an empty report that says it did not run, got %v", refused)
	}
	var ve *scenario.ValidationError
	if !errors.As(err, &ve) || ve.Field != "VirtualUsers.Rounds" || !strings.Contains(err.Error(), "-1") || seen.Load() != 0 {
		t.Errorf("err %v, %d requests", err, seen.Load())
	}
	// the engine refuses it too
	if err := (engine.VUs{Max: 1, Rounds: -1}).Execute(context.Background(), &engine.Plan{}, nil); err == nil || !strings.Contains(err.Error(), "VUs.Rounds") {
		t.Errorf("engine: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	report, err := loadtest.New(opts...).Execute(ctx)
	if report == nil || report.RequestsSent == 0 || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("with a deadline: err %v, report %v", err, report)
	}
}

// TestVUsRoundsForeverEndVU: VUs walking until stopped that each end
// themselves (EndVU) in their third round end the execution long before
// its time limit, with the counts adding up, and a StepIterator that
// sends a step again does not break them.
func TestVUsRoundsForeverEndVU(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(srv.Close)
	hooks := engine.VUHooks{RequestDone: func(e *engine.RequestEvent, r *engine.Result) error {
		if e.Round == 2 && e.Step == 0 {
			e.EndVU = true
		}
		return nil
	}}
	iter := func(vu, round int, rng *rand.Rand) engine.StepIterator {
		n := 0
		return func(prev *engine.Result) (engine.NextStep, bool) {
			n++
			switch n {
			case 1:
				return engine.NextStep{Step: 0}, true
			case 2, 3:
				return engine.NextStep{Step: 1}, true // the second a retry
			case 4:
				return engine.NextStep{Step: 0}, true // sent again later: an extra
			}
			n = 0
			return engine.NextStep{}, false
		}
	}
	for _, withIter := range []bool{false, true} {
		v := engine.VUs{Max: 3, Rounds: engine.RoundsForever, Hooks: hooks}
		if withIter {
			v.Iterate = iter
		}
		start := time.Now()
		report := execute(t, loadtest.Runs(scenario.Run("r", scenario.Get("/a"), scenario.Get("/b"))), loadtest.BaseURL(srv.URL),
			loadtest.TimeLimit(15*time.Second), loadtest.VirtualUsers(v))
		if report.StoppedBy != "" || time.Since(start) > 10*time.Second {
			t.Errorf("iterator %v: stopped by %q after %v: every VU ended itself", withIter, report.StoppedBy, time.Since(start))
		}
		rr := report.Run("r")
		if rr.Repeat != 9 {
			t.Errorf("iterator %v: %d iterations begun, want 3 VUs × 3 rounds", withIter, rr.Repeat)
		}
		checkForeverCounts(t, report, 9*2-3)
	}
}
