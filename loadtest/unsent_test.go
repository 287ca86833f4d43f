package loadtest_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/benchgate/benchgate/engine"
	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

func loginServer(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/login" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	return srv
}

// A breadth-first run with a huge Repeat and a time limit only ever sends
// step 1: the summary and the HTML report say step 2 never ran.
func TestStepNeverSentIsShown(t *testing.T) {
	srv := loginServer(t)
	r := execute(t, loadtest.Runs(scenario.Run("login", scenario.Get("/home"), scenario.Post("/login", "u=a")).Repeat(1_000_000)),
		loadtest.BaseURL(srv.URL), loadtest.Concurrency(2), loadtest.KeepLevel(0), loadtest.TimeLimit(100*time.Millisecond))
	if r.Runs[0].Steps[1].Sent != 0 {
		t.Fatalf("step 2 sent %d: the test needs it never sent", r.Runs[0].Steps[1].Sent)
	}
	want := `step 2 "POST /login" of run "login" never ran: the time limit 100ms ended the run during step 1's breadth-first pass`
	var sum, page strings.Builder
	r.WriteSummary(&sum)
	r.WriteHTML(&page)
	if !strings.Contains(sum.String(), "NOT A VERDICT: "+want) {
		t.Errorf("summary does not say step 2 never ran:\n%s", sum.String())
	}
	if !strings.Contains(page.String(), "never ran") || !strings.Contains(page.String(), `<p class="never"><strong>step 2 &#34;POST /login&#34; of run &#34;login&#34; never ran`) {
		t.Errorf("HTML report does not say step 2 never ran")
	}
	if got := r.StepsNeverSent(); len(got) != 1 || !strings.HasPrefix(got[0], want) {
		t.Errorf("StepsNeverSent = %q", got)
	}
}

// For runs the sequence for a duration and reaches every step, on both
// drivers; the counts are the iterations begun and add up.
func TestForReachesEveryStep(t *testing.T) {
	srv := loginServer(t)
	for _, order := range []scenario.Order{scenario.BreadthFirst, scenario.DepthFirst} {
		t.Run(order.String(), func(t *testing.T) {
			forEachDriver(t, func(t *testing.T) {
				r := execute(t, loadtest.Runs(scenario.Run("login", scenario.Get("/home"), scenario.Get("/x"), scenario.Post("/login", "u=a")).Order(order)),
					loadtest.BaseURL(srv.URL), loadtest.Concurrency(4), loadtest.For(150*time.Millisecond))
				run := r.Runs[0]
				if never := r.StepsNeverSent(); len(never) > 0 {
					t.Fatalf("steps never sent under For: %q", never)
				}
				if (r.StoppedBy == "") != (r.RequestsNotStarted == 0) || r.StoppedBy != "" && !strings.HasPrefix(r.StoppedBy, "time limit 150ms (For): ") {
					t.Errorf("StoppedBy = %q with %d not started", r.StoppedBy, r.RequestsNotStarted)
				}
				begun := run.Steps[0].Sent + run.Steps[0].NotSent
				if int64(run.Repeat) != begun || run.Repeat >= loadtest.ForMaxIterations {
					t.Errorf("Repeat = %d, want the %d iterations begun", run.Repeat, begun)
				}
				var configured int64
				for _, s := range run.Steps {
					if s.Configured != begun || s.Sent == 0 || s.NotStarted() < 0 {
						t.Errorf("step %d: configured %d sent %d not started %d (begun %d)", s.Number, s.Configured, s.Sent, s.NotStarted(), begun)
					}
					configured += s.Configured
				}
				if r.RequestsConfigured != configured || r.RequestsConfigured != r.RequestsSent+r.RequestsNotSent+r.RequestsNotStarted {
					t.Errorf("report counts do not add up: configured %d sent %d not sent %d not started %d", r.RequestsConfigured, r.RequestsSent, r.RequestsNotSent, r.RequestsNotStarted)
				}
				// at most Concurrency iterations are open at the end: the
				// later steps trail step 1 by at most that many
				if lag := run.Steps[0].Sent - run.Steps[2].Sent; lag > 4 {
					t.Errorf("step 3 trails step 1 by %d iterations, want at most 4", lag)
				}
				if got := run.Requests.Len(); got != int(begun)*3 {
					t.Errorf("request log holds %d records, want %d", got, begun*3)
				}
			})
		})
	}
}

// Under For, a Repeat is an upper bound: whichever comes first.
func TestForWithRepeat(t *testing.T) {
	srv := loginServer(t)
	r := execute(t, loadtest.Runs(scenario.Run("login", scenario.Get("/home"), scenario.Get("/x")).Repeat(5)),
		loadtest.BaseURL(srv.URL), loadtest.Concurrency(2), loadtest.For(time.Minute))
	if r.RequestsSent != 10 || r.Runs[0].Repeat != 5 {
		t.Errorf("sent %d, repeat %d; want 10 and 5", r.RequestsSent, r.Runs[0].Repeat)
	}
}

// For is a duration for every executor: VUs without Rounds walk their
// runs until it passes (their counts the iterations begun, adding up),
// an arrival rate without a Duration lasts it; a schedule with its own
// length is refused beside it.
func TestForEveryExecutor(t *testing.T) {
	srv := loginServer(t)
	run := func() loadtest.Option {
		return loadtest.Runs(scenario.Run("login", scenario.Get("/home"), scenario.Post("/login", "u=a")))
	}
	r := execute(t, run(), loadtest.BaseURL(srv.URL), loadtest.VirtualUsers(engine.VUs{Max: 3}), loadtest.For(200*time.Millisecond))
	rr := r.Runs[0]
	if never := r.StepsNeverSent(); len(never) > 0 || r.RequestsSent < 6 {
		t.Fatalf("VUs under For: sent %d, never sent %q", r.RequestsSent, never)
	}
	if begun := rr.Steps[0].Sent + rr.Steps[0].NotSent; int64(rr.Repeat) != begun || rr.Repeat >= engine.ForeverIterations {
		t.Errorf("VUs under For: Repeat %d, want the %d iterations begun", rr.Repeat, begun)
	}
	if r.RequestsConfigured != r.RequestsSent+r.RequestsNotSent+r.RequestsNotStarted {
		t.Errorf("VUs under For: configured %d sent %d not sent %d not started %d", r.RequestsConfigured, r.RequestsSent, r.RequestsNotSent, r.RequestsNotStarted)
	}

	r = execute(t, run(), loadtest.BaseURL(srv.URL), loadtest.ArrivalRate(engine.Arrivals{Rate: 50, MaxVUs: 4}), loadtest.For(400*time.Millisecond))
	if r.Arrivals == nil || r.Arrivals.Planned != 20 {
		t.Fatalf("ArrivalRate under For: arrivals %+v, want 20 planned (50/s for 400 ms)", r.Arrivals)
	}
	// the schedule ends at For and the iterations it began finish: as
	// with a Duration, nothing is cut
	if r.RequestsSent != 40 || r.RequestsNotStarted != 0 || r.StoppedBy != "" {
		t.Errorf("ArrivalRate under For: sent %d, not started %d, stopped by %q; want 40, 0, nothing", r.RequestsSent, r.RequestsNotStarted, r.StoppedBy)
	}

	err := loadtest.New(run(), loadtest.BaseURL(srv.URL), loadtest.ArrivalRate(engine.Arrivals{Rate: 50, Duration: time.Second}), loadtest.For(time.Second)).Validate()
	if err == nil || !strings.Contains(err.Error(), "For 1s would be a second one") {
		t.Errorf("an arrival rate with a Duration under For: err %v", err)
	}
}

func TestForRefusals(t *testing.T) {
	run := scenario.Run("x", scenario.Get("/"))
	for _, tc := range []struct {
		opts []loadtest.Option
		want string
	}{
		{[]loadtest.Option{loadtest.For(-time.Second)}, `For "-1s": must be positive`},
		{[]loadtest.Option{loadtest.For(time.Second), loadtest.TimeLimit(time.Second)}, `For "1s": with TimeLimit 1s`},
	} {
		err := loadtest.New(append(tc.opts, loadtest.Runs(run), loadtest.BaseURL("http://127.0.0.1:1"))...).Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("err = %v, want %q", err, tc.want)
		}
	}
}

// An invalid plan returns an empty report that carries the error.
func TestExecuteErrorInReport(t *testing.T) {
	r, err := loadtest.New(loadtest.Runs(scenario.Run("x", scenario.Get("/")))).Execute(context.Background())
	if err == nil || r == nil || !r.DidNotRun() || r.Err != err || r.RequestsSent != 0 {
		t.Fatalf("report %+v, err %v", r, err)
	}
	if !strings.Contains(r.NoVerdict(), "the plan did not run: invalid plan: ") {
		t.Errorf("NoVerdict = %q", r.NoVerdict())
	}
	var b strings.Builder
	if err := r.WriteSummary(&b); err != nil || !strings.Contains(b.String(), "0 of 0 requests sent") {
		t.Errorf("summary of a plan that did not run: %v\n%s", err, b.String())
	}
}
