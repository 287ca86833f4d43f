package loadtest_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/benchgate/benchgate/engine"
	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

// cancelTap runs an executor and counts what it records once the
// context was cancelled.
type cancelTap struct {
	engine.Executor             // the inner one: its Validate and Work are the tap's
	cancelled       atomic.Bool // set just after cancel returned
	after           atomic.Int64
	failed          atomic.Int64 // recorded as failed after the cancel
	mu              sync.Mutex
	reason          string // a failure's reason, for the message
}

func (c *cancelTap) Execute(ctx context.Context, p *engine.Plan, rec engine.Recorder) error {
	return c.Executor.Execute(ctx, p, tapRecorder{rec, c})
}

// tapRecorder counts what is recorded and forwards every call to the
// report's recorder.
type tapRecorder struct {
	engine.Recorder
	c *cancelTap
}

func (r tapRecorder) Record(slot int, res *engine.Result) {
	if r.c.cancelled.Load() {
		r.c.after.Add(1)
		if res.Failed {
			r.c.failed.Add(1)
			r.c.mu.Lock()
			r.c.reason = res.Reason
			r.c.mu.Unlock()
		}
	}
	r.Recorder.Record(slot, res)
}

// cancelTrials is how many trials each case of TestCancelRecordsOnlyInFlight
// runs: BENCHGATE_CANCEL_TRIALS, or a few (fewer with -short).
func cancelTrials(t *testing.T) int {
	if s := os.Getenv("BENCHGATE_CANCEL_TRIALS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("BENCHGATE_CANCEL_TRIALS=%q: want a count of at least 1", s)
		}
		return n
	}
	if testing.Short() {
		return 1
	}
	return 3
}

// TestCancelRecordsOnlyInFlight: cancelled at a random moment in its
// first 50 ms, a plan against a healthy server starts no new request:
// at most one request per slot (or VU) is recorded after the cancel,
// none of them as failed (the ones the cancel cut are interrupted), and
// the counts add up. On every executor (slots on both drivers, virtual
// users, arrival rate), over plain HTTP/1.1, TLS and HTTP/2, with and
// without keep-alive, at concurrency 1, 16 and 64. The table of the
// trials is logged (-v); BENCHGATE_CANCEL_TRIALS sets how many.
func TestCancelRecordsOnlyInFlight(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	plain := httptest.NewServer(ok)
	t.Cleanup(plain.Close)
	secure := httptest.NewUnstartedServer(ok)
	secure.EnableHTTP2 = true
	secure.Config.ErrorLog = log.New(io.Discard, "", 0) // handshakes the cancel cut
	secure.StartTLS()
	t.Cleanup(secure.Close)
	pool := x509.NewCertPool()
	pool.AddCert(secure.Certificate())
	trust := loadtest.TLSConfig(&tls.Config{RootCAs: pool})

	type proto struct {
		name string
		url  string
		opts []loadtest.Option
	}
	protos := []proto{
		{"http/1.1", plain.URL, nil},
		{"tls", secure.URL, []loadtest.Option{trust}},
		{"h2", secure.URL, []loadtest.Option{trust, loadtest.HTTP2(0)}},
	}
	type exec struct {
		name string
		// make returns the executor for concurrency c (the tap wraps it:
		// the plan takes its work from it)
		make func(c int) engine.Executor
	}
	vus := func(c int) engine.Executor { return engine.VUs{Start: c, Max: c, Rounds: 1_000_000 / c} }
	arr := func(c int) engine.Executor {
		return engine.Arrivals{Rate: 200_000, Duration: 10 * time.Second, MaxVUs: c, MaxLag: time.Hour}
	}
	execs := []exec{
		{"slots/eventloop", func(int) engine.Executor { return engine.Slots{} }},
		{"slots/goroutines", func(int) engine.Executor { return engine.Slots{Goroutines: true} }},
		{"vus", vus},
		{"arrivals", arr},
	}
	trials := cancelTrials(t)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 17))
	var table strings.Builder
	fmt.Fprintf(&table, "\n%-17s %-8s %3s %6s %14s %14s %12s\n", "executor", "protocol", "c", "trials", "max rec. after", "failed after", "interrupted")
	for _, ex := range execs {
		for _, pr := range protos {
			if ex.name == "slots/eventloop" && (pr.name != "http/1.1" || raceEnabled) {
				continue // the event loop serves plain http only, and not under -race
			}
			for _, c := range []int{1, 16, 64} {
				maxAfter, failedAfter, interrupted := int64(0), int64(0), int64(0)
				for trial := 0; trial < trials; trial++ {
					tap := &cancelTap{Executor: ex.make(c)}
					opts := append([]loadtest.Option{
						loadtest.Runs(scenario.Run("r", scenario.Get(pr.url+"/")).Repeat(1_000_000)),
						loadtest.Concurrency(c), loadtest.KeepAlive(trial%2 == 0),
					}, pr.opts...)
					opts = append(opts, loadtest.WithExecutor(tap))
					ctx, cancel := context.WithCancel(context.Background())
					at := time.Duration(rng.Int64N(int64(50 * time.Millisecond)))
					timer := time.AfterFunc(at, func() {
						cancel()
						tap.cancelled.Store(true)
					})
					report, err := loadtest.New(opts...).Execute(ctx)
					timer.Stop()
					cancel()
					name := fmt.Sprintf("%s %s c=%d keep-alive=%v cancel at %v", ex.name, pr.name, c, trial%2 == 0, at)
					if !errors.Is(err, context.Canceled) {
						t.Fatalf("%s: err %v, want context.Canceled", name, err)
					}
					if tap.failed.Load() != 0 || report.ResponsesFailed != 0 {
						t.Errorf("%s: %d failed after the cancel, %d in all (%q)", name, tap.failed.Load(), report.ResponsesFailed, tap.reason)
					}
					if n := tap.after.Load(); n > int64(c) {
						t.Errorf("%s: %d recorded after the cancel, at most %d were in flight", name, n, c)
					}
					if report.RequestsInterrupted > int64(c) {
						t.Errorf("%s: %d interrupted, at most %d were in flight", name, report.RequestsInterrupted, c)
					}
					checkCounts(t, name, report)
					maxAfter = max(maxAfter, tap.after.Load())
					failedAfter += tap.failed.Load()
					interrupted += report.RequestsInterrupted
				}
				fmt.Fprintf(&table, "%-17s %-8s %3d %6d %14d %14d %12d\n", ex.name, pr.name, c, trials, maxAfter, failedAfter, interrupted)
			}
		}
	}
	t.Log(table.String())
}

// checkCounts checks the report's identities: configured = sent + not
// sent + not started, sent = good + failed + interrupted, in all and per
// step.
func checkCounts(t *testing.T, name string, r *loadtest.Report) {
	t.Helper()
	if r.RequestsConfigured != r.RequestsSent+r.RequestsNotSent+r.RequestsNotStarted {
		t.Errorf("%s: configured %d != sent %d + not sent %d + not started %d", name, r.RequestsConfigured,
			r.RequestsSent, r.RequestsNotSent, r.RequestsNotStarted)
	}
	if r.RequestsSent != r.GoodResponses+r.ResponsesFailed+r.RequestsInterrupted {
		t.Errorf("%s: sent %d != good %d + failed %d + interrupted %d", name, r.RequestsSent,
			r.GoodResponses, r.ResponsesFailed, r.RequestsInterrupted)
	}
	for _, run := range r.Runs {
		for _, st := range run.Steps {
			if st.Configured != st.Sent+st.NotSent+st.NotStarted() || st.Sent != st.Good+st.Failed+st.Interrupted || st.NotStarted() < 0 {
				t.Errorf("%s: step %q: counts do not add up: configured %d sent %d not sent %d good %d failed %d interrupted %d",
					name, st.Name, st.Configured, st.Sent, st.NotSent, st.Good, st.Failed, st.Interrupted)
			}
		}
	}
}

// TestCancelFromUserCode: a cancel made while a request is being built
// (by a body func on the slots, by a RequestStart hook of a virtual
// user) keeps that request from being sent: the four before it are
// good, it and the rest are not started, nothing failed or was
// interrupted. Deterministic: the cancel happens before the request
// could be sent.
func TestCancelFromUserCode(t *testing.T) {
	srv, seen := countServer(t, 0)
	check := func(t *testing.T, report *loadtest.Report, err error) {
		t.Helper()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err %v, want context.Canceled", err)
		}
		if report.RequestsSent != 4 || report.GoodResponses != 4 || report.ResponsesFailed != 0 ||
			report.RequestsInterrupted != 0 || report.RequestsNotStarted != 6 || seen.Load() != 4 {
			t.Errorf("sent %d good %d failed %d interrupted %d not started %d, server saw %d; want 4 sent and good, 6 not started",
				report.RequestsSent, report.GoodResponses, report.ResponsesFailed, report.RequestsInterrupted,
				report.RequestsNotStarted, seen.Load())
		}
		checkCounts(t, t.Name(), report)
	}
	for _, ka := range []bool{true, false} {
		t.Run(fmt.Sprintf("keepalive=%v", ka), func(t *testing.T) {
			t.Run("slots", func(t *testing.T) { // user code: on the goroutine driver
				seen.Store(0)
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				var calls atomic.Int64
				body := func(*scenario.Response, scenario.Vars) (string, bool) {
					if calls.Add(1) == 5 {
						cancel()
					}
					return "x", true
				}
				report, err := newPlan(t, loadtest.Runs(scenario.Run("r", scenario.Post(srv.URL+"/", "").BodyFunc(body)).Repeat(10)),
					loadtest.KeepAlive(ka)).Execute(ctx)
				check(t, report, err)
			})
			t.Run("vus", func(t *testing.T) {
				seen.Store(0)
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				var calls atomic.Int64
				hooks := engine.VUHooks{RequestStart: func(*engine.RequestEvent) error {
					if calls.Add(1) == 5 {
						cancel()
					}
					return nil
				}}
				report, err := loadtest.New(loadtest.Runs(scenario.Run("r", scenario.Get(srv.URL+"/"))), loadtest.KeepAlive(ka),
					loadtest.VirtualUsers(engine.VUs{Rounds: 10, Hooks: hooks})).Execute(ctx)
				check(t, report, err)
			})
		})
	}
}
