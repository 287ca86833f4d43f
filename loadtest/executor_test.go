package loadtest_test

import (
	"context"
	"errors"
	"fmt"
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

// tripled is a user's executor: every run three times over, on the
// slots, at most two in flight; it refuses plans of more than one run.
type tripled struct {
	engine.Slots
	validated, worked atomic.Int32
}

func (e *tripled) Validate(p *engine.Plan) error {
	e.validated.Add(1)
	if len(p.Runs) > 1 {
		return fmt.Errorf("tripled: %d runs: takes one", len(p.Runs))
	}
	return nil
}

func (e *tripled) Work(p *engine.Plan) engine.Work {
	e.worked.Add(1)
	return engine.Work{Iterations: []int{3 * p.Runs[0].Repeat}, Concurrency: 2}
}

// badWork is an executor whose Work does not fit the plan.
type badWork struct{ engine.Slots }

func (badWork) Work(p *engine.Plan) engine.Work { return engine.Work{Concurrency: 1} }

// forever is an executor whose runs go on until stopped.
type forever struct{ engine.VUs }

// TestUserExecutor: an executor of one's own gets what the built-in ones
// get through the interface alone: its Validate's error is the plan's
// (with the field that set it), its Work sizes the runs, the
// concurrency and the report, a Work that does not fit the plan is
// refused before anything is sent, runs that go on until stopped need a
// limit, an executor written as a function alone runs each run's
// Repeat, and a plan given two executors says so.
func TestUserExecutor(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	run := func(name string) *scenario.RunDef { return scenario.Run(name, scenario.Get(srv.URL+"/")).Repeat(2) }

	e := &tripled{}
	report, err := loadtest.New(loadtest.Runs(run("a")), loadtest.WithExecutor(e)).Execute(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if e.validated.Load() == 0 || e.worked.Load() == 0 {
		t.Errorf("Validate called %d times, Work %d", e.validated.Load(), e.worked.Load())
	}
	if report.RequestsConfigured != 6 || report.GoodResponses != 6 || hits.Load() != 6 || report.Concurrency != 2 {
		t.Errorf("configured %d, good %d, server saw %d, concurrency %d; want 6, 6, 6, 2 (the executor's Work)",
			report.RequestsConfigured, report.GoodResponses, hits.Load(), report.Concurrency)
	}

	hits.Store(0)
	_, err = loadtest.New(loadtest.Runs(run("a"), run("b")), loadtest.WithExecutor(&tripled{}), loadtest.Concurrency(0)).Execute(context.Background())
	if err == nil || !strings.Contains(err.Error(), "tripled: 2 runs: takes one") || !strings.Contains(err.Error(), "WithExecutor") ||
		!strings.Contains(err.Error(), "Concurrency") {
		t.Errorf("err %v: want the executor's refusal, named WithExecutor, beside the plan's own errors", err)
	}
	_, err = loadtest.New(loadtest.Runs(run("a")), loadtest.WithExecutor(badWork{})).Execute(context.Background())
	if err == nil || !strings.Contains(err.Error(), "Work.Iterations holds 0 counts for 1 runs") {
		t.Errorf("err %v: want the misfit Work refused", err)
	}
	_, err = loadtest.New(loadtest.Runs(run("a")), loadtest.WithExecutor(forever{engine.VUs{Max: 1, Rounds: engine.RoundsForever}})).Execute(context.Background())
	var ve *scenario.ValidationError
	if !errors.As(err, &ve) || !strings.Contains(err.Error(), "until stopped") {
		t.Errorf("err %v: want runs until stopped refused without a limit", err)
	}
	_, err = loadtest.New(loadtest.Runs(run("a")), loadtest.VirtualUsers(engine.VUs{Max: 1}), loadtest.ArrivalRate(engine.Arrivals{Rate: 10, Duration: time.Second})).Execute(context.Background())
	if err == nil || !strings.Contains(err.Error(), "a plan has one executor") {
		t.Errorf("err %v: want two executors refused", err)
	}
	if hits.Load() != 0 {
		t.Errorf("the refused plans sent %d requests", hits.Load())
	}

	var calls atomic.Int32
	fn := engine.ExecuteFunc(func(ctx context.Context, p *engine.Plan, rec engine.Recorder) error {
		calls.Add(1)
		return engine.Slots{}.Execute(ctx, p, rec)
	})
	report, err = loadtest.New(loadtest.Runs(run("a")), loadtest.WithExecutor(fn)).Execute(context.Background())
	if err != nil || calls.Load() != 1 || report.GoodResponses != 2 {
		t.Errorf("ExecuteFunc: err %v, %d calls, %d good; want 2 good", err, calls.Load(), report.GoodResponses)
	}
}
