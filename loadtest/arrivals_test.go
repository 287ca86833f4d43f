package loadtest_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

	"github.com/benchgate/benchgate/engine"
	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/matchers"
	"github.com/benchgate/benchgate/scenario"
)

// stallServer answers at once, but request number stallAt (from 1)
// takes stall.
func stallServer(t *testing.T, stallAt int64, stall time.Duration) *httptest.Server {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == stallAt {
			time.Sleep(stall)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestArrivalRate: iterations arrive on the schedule across runs, each
// walked with its steps; the counts and the arrival account add up.
func TestArrivalRate(t *testing.T) {
	srv := stallServer(t, -1, 0)
	a := engine.Arrivals{Rate: 200, Duration: 500 * time.Millisecond, MaxVUs: 8}
	report := execute(t, loadtest.Runs(scenario.Run("a", scenario.Get("/a"), scenario.Get("/b")), scenario.Run("b", scenario.Get("/c"))),
		loadtest.BaseURL(srv.URL), loadtest.KeepAlive(true), loadtest.ArrivalRate(a))
	ar := report.Arrivals
	if ar == nil || ar.Planned != 100 || ar.Started != 100 || ar.Dropped != 0 {
		t.Fatalf("arrivals %+v, want 100 planned and started", ar)
	}
	if report.Runs[0].Repeat != 50 || report.Runs[1].Repeat != 50 || report.RequestsSent != 150 || report.ResponsesFailed != 0 {
		t.Errorf("repeats %d and %d, sent %d, failed %d", report.Runs[0].Repeat, report.Runs[1].Repeat, report.RequestsSent, report.ResponsesFailed)
	}
	if ar.Rate < 150 || ar.Rate > 250 {
		t.Errorf("achieved %.1f iterations/s, target 200", ar.Rate)
	}
	// iteration k of the plan arrives at k·5ms: run "a" gets k even
	rq, _ := report.Runs[0].Requests.At(2 * 10) // run a's iteration 10 = plan iteration 20, step 1
	if want := 100 * time.Millisecond; rq.At < want || rq.At > want+100*time.Millisecond {
		t.Errorf("iteration 20 started at %v, scheduled at %v", rq.At, want)
	}
	if c := report.Runs[0].Steps[0].Corrected; c == nil || c.Count() != 50 {
		t.Errorf("corrected latencies: %v", c)
	}
	if err := gomega.NewGomega(func(m string, _ ...int) { t.Error(m) }).Expect(report).To(matchers.HaveNoFailures()); !err {
		t.Error("HaveNoFailures failed")
	}
}

// TestArrivalRateCorrectsOmission: one VU, a server that stalls once
// for 300ms. Iterations that arrive during the stall start late; their
// latencies from the actual start are short, from the intended start
// they show the stall.
func TestArrivalRateCorrectsOmission(t *testing.T) {
	srv := stallServer(t, 10, 300*time.Millisecond)
	a := engine.Arrivals{Rate: 100, Duration: time.Second, MaxVUs: 1}
	report := execute(t, loadtest.Runs(scenario.Run("r", scenario.Get("/"))), loadtest.BaseURL(srv.URL), loadtest.KeepAlive(true),
		loadtest.ArrivalRate(a))
	s := report.Runs[0].Steps[0]
	if report.Arrivals.Started != 100 || report.Arrivals.Dropped != 0 || s.Good != 100 {
		t.Fatalf("arrivals %+v, good %d", report.Arrivals, s.Good)
	}
	slow := func(l *loadtest.Latency) int64 { return l.CountOver(100 * time.Millisecond) }
	if n := slow(s.Latency); n != 1 {
		t.Errorf("%d requests over 100ms from their actual start, want the stalled one only", n)
	}
	// arrivals at 100, 110, …, 390ms wait for the stall to end at ~390ms
	if n := slow(s.Corrected); n < 15 {
		t.Errorf("%d requests over 100ms from their intended start, want the ~20 the stall delayed", n)
	}
	if lag := report.Arrivals.Lag.Max(); lag < 200*time.Millisecond {
		t.Errorf("max lag %v, want the stall's", lag)
	}
	p99 := func(p loadtest.Phase) time.Duration { return s.PhaseLatency(p).Percentile(99) }
	if p99(loadtest.Corrected) < 200*time.Millisecond || p99(loadtest.Response) > 100*time.Millisecond {
		t.Errorf("p99: corrected %v, uncorrected %v", p99(loadtest.Corrected), p99(loadtest.Response))
	}
}

// TestArrivalRateDrops: iterations that cannot start within MaxLag are
// dropped, counted, their requests not started, and HaveNoFailures
// fails.
func TestArrivalRateDrops(t *testing.T) {
	srv := stallServer(t, 3, 400*time.Millisecond)
	a := engine.Arrivals{Rate: 100, Duration: 600 * time.Millisecond, MaxVUs: 1, MaxLag: 50 * time.Millisecond}
	report := execute(t, loadtest.Runs(scenario.Run("r", scenario.Get("/"), scenario.Get("/2"))), loadtest.BaseURL(srv.URL),
		loadtest.KeepAlive(true), loadtest.ArrivalRate(a))
	ar := report.Arrivals
	if ar.Dropped < 20 || ar.Started+ar.Dropped != ar.Planned || report.Runs[0].Dropped != ar.Dropped {
		t.Fatalf("arrivals %+v, run dropped %d", ar, report.Runs[0].Dropped)
	}
	if report.RequestsNotStarted != 2*ar.Dropped || report.ResponsesFailed != 0 {
		t.Errorf("not started %d, want 2 per dropped iteration (%d); failed %d", report.RequestsNotStarted, ar.Dropped, report.ResponsesFailed)
	}
	if ar.Lag.Max() > a.MaxLag+20*time.Millisecond {
		t.Errorf("an iteration started %v late, past MaxLag", ar.Lag.Max())
	}
	var msg string
	gomega.NewGomega(func(m string, _ ...int) { msg = m }).Expect(report).To(matchers.HaveNoFailures())
	if msg == "" {
		t.Error("HaveNoFailures passed with dropped iterations")
	}
}

// TestPacedVUsCorrectOmission: a paced VU whose server stalls once
// starts the rounds it missed late; their corrected latencies show it.
func TestPacedVUsCorrectOmission(t *testing.T) {
	srv := stallServer(t, 5, 250*time.Millisecond)
	v := engine.VUs{Max: 1, Rounds: 40, Pacing: 10 * time.Millisecond}
	report := execute(t, loadtest.Runs(scenario.Run("r", scenario.Get("/"))), loadtest.BaseURL(srv.URL), loadtest.KeepAlive(true),
		loadtest.VirtualUsers(v))
	s := report.Runs[0].Steps[0]
	slow := func(l *loadtest.Latency) int64 { return l.CountOver(100 * time.Millisecond) }
	if s.Good != 40 || slow(s.Latency) != 1 {
		t.Fatalf("good %d, %d slow from the actual start (want 40 and 1)", s.Good, slow(s.Latency))
	}
	// rounds due at 50, 60, …, 290ms start at ~290ms
	if n := slow(s.Corrected); n < 12 {
		t.Errorf("%d rounds over 100ms from their slot, want ~15", n)
	}
	// unpaced, the VU just waits: nothing to correct beyond the stall
	report = execute(t, loadtest.Runs(scenario.Run("r", scenario.Get("/"))), loadtest.BaseURL(stallServer(t, 5, 250*time.Millisecond).URL),
		loadtest.KeepAlive(true), loadtest.VirtualUsers(engine.VUs{Max: 1, Rounds: 40}))
	if s := report.Runs[0].Steps[0]; slow(s.Corrected) != 1 {
		t.Errorf("unpaced: %d slow from the intended start, want 1", slow(s.Corrected))
	}
}

// TestArrivalsOnOneProcessor: with GOMAXPROCS 1 the dispatcher's waits
// leave the processor to the VUs and their sockets. A dispatcher that
// held it (a nanosleep or a spin) kept every response waiting for the
// runtime's 10 ms network poll: latencies of ~10 ms from a server that
// answers in microseconds, taken for the server's, and arrivals dropped.
func TestArrivalsOnOneProcessor(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector slows the generator past what this measures")
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	srv := stallServer(t, -1, 0)
	for _, exec := range []loadtest.Option{
		loadtest.ArrivalRate(engine.Arrivals{Rate: 4000, Duration: time.Second, MaxVUs: 32}),
		// a ramp of 1 VU every 2ms, each sending as fast as it is answered
		loadtest.VirtualUsers(engine.VUs{Start: 1, Max: 100, RampUp: 200 * time.Millisecond, Rounds: 50}),
	} {
		// the server answers in well under a millisecond; 10 ms was the
		// bug, in every attempt; a busy machine's is in some only
		var slow []string
		var report *loadtest.Report
		for range 3 {
			report = execute(t, loadtest.Runs(scenario.Run("a", scenario.Get("/"))),
				loadtest.BaseURL(srv.URL), loadtest.KeepAlive(true), exec)
			lat := report.Runs[0].Steps[0].Latency
			if report.ResponsesFailed != 0 || lat.Count() == 0 {
				t.Fatalf("%d good, %d failed", lat.Count(), report.ResponsesFailed)
			}
			p90 := lat.Percentile(90)
			if p90 <= 4*time.Millisecond {
				slow = nil
				break
			}
			slow = append(slow, fmt.Sprintf("p90 %v (p50 %v)", p90, lat.Percentile(50)))
		}
		if slow != nil {
			t.Errorf("latency on one processor in every attempt: %s: the generator's, not the server's", strings.Join(slow, ", "))
		}
		if ar := report.Arrivals; ar != nil && ar.Dropped > 0 {
			t.Errorf("%d of %d arrivals dropped", ar.Dropped, ar.Planned)
		}
	}
}

// TestArrivalDropsCountEverywhere: dropped arrivals are failures of the
// run wherever a user looks: the error rate and the percentiles count
// their requests (never sent, slower than any bound), a step's
// HaveNoFailures sees them, and the summary and the HTML report say so.
func TestArrivalDropsCountEverywhere(t *testing.T) {
	srv := stallServer(t, 3, 400*time.Millisecond)
	a := engine.Arrivals{Rate: 100, Duration: 600 * time.Millisecond, MaxVUs: 1, MaxLag: 50 * time.Millisecond}
	report := execute(t, loadtest.Runs(scenario.Run("r", scenario.Get("/"), scenario.Get("/2"))), loadtest.BaseURL(srv.URL),
		loadtest.KeepAlive(true), loadtest.ArrivalRate(a))
	ar := report.Arrivals
	if ar.Dropped < 20 || report.ResponsesFailed != 0 {
		t.Fatalf("arrivals %+v, failed %d: want drops and no failed response", ar, report.ResponsesFailed)
	}
	fails := func(actual any, m types.GomegaMatcher, want string) {
		t.Helper()
		var msg string
		gomega.NewGomega(func(m string, _ ...int) { msg = m }).Expect(actual).To(m)
		if msg == "" || !strings.Contains(msg, want) {
			t.Errorf("passed or said %q, want a failure naming %q", msg, want)
		}
	}
	// each dropped iteration is two requests never sent: the error rate
	// is at least 2·dropped / (sent + 2·dropped)
	fails(report, matchers.HaveErrorRateBelow(0.2), "dropped")
	fails(report.Run("r"), matchers.HaveErrorRateBelow(0.2), "dropped")
	fails(report.Run("r").Step(1), matchers.HaveNoFailures(), "MaxLag")
	fails(report, matchers.HavePercentileBelow(99, time.Hour), "dropped arrivals")
	fails(report.Run("r").Step(0), matchers.HavePercentileBelow(90, time.Hour), "dropped arrivals")
	var sum, page strings.Builder
	report.WriteSummary(&sum)
	report.WriteHTML(&page)
	if !strings.Contains(sum.String(), fmt.Sprintf("FAILED: %d arrivals dropped", ar.Dropped)) || !strings.Contains(sum.String(), "left out of the percentiles") {
		t.Errorf("summary:\n%s", sum.String())
	}
	if !strings.Contains(page.String(), fmt.Sprintf("FAILED: %d arrivals were due and never started", ar.Dropped)) ||
		!strings.Contains(page.String(), "dropped arrivals: due and never sent") {
		t.Error("the HTML report does not show the dropped arrivals as failures")
	}
	// the CSV (ab --report-csv, demo --csv): a column of the requests the
	// dropped arrivals never sent, the run's and each step's, beside the
	// percentiles that leave them out
	var table bytes.Buffer
	if err := report.WriteCSV(&table); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&table).ReadAll()
	if err != nil || len(rows) != 4 {
		t.Fatalf("CSV: %v\n%s", err, table.String())
	}
	col := slices.Index(rows[0], "dropped")
	want := []string{strconv.FormatInt(2*ar.Dropped, 10), strconv.FormatInt(ar.Dropped, 10), strconv.FormatInt(ar.Dropped, 10)}
	if col < 0 || rows[1][col] != want[0] || rows[2][col] != want[1] || rows[3][col] != want[2] {
		t.Errorf("CSV: want a dropped column %v (the run's two steps, each step):\n%s", want, table.String())
	}
}

// TestArrivalRateCancel: cancelled in the middle of a schedule far
// above what can be started (and of one below it), Execute returns at
// once with the partial report; VUs waiting for a far arrival are woken;
// the counts add up.
func TestArrivalRateCancel(t *testing.T) {
	srv := stallServer(t, -1, 0)
	for _, a := range []engine.Arrivals{
		{Rate: 1e8, Duration: 10 * time.Second, MaxVUs: 4},
		{Rate: 2, Duration: 10 * time.Second, MaxVUs: 8}, // VUs wait seconds for their arrivals
	} {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		var report *loadtest.Report
		var err error
		go func() {
			defer close(done)
			report, err = newPlan(t, loadtest.Runs(scenario.Run("r", scenario.Get("/"))), loadtest.BaseURL(srv.URL),
				loadtest.KeepAlive(true), loadtest.ArrivalRate(a)).Execute(ctx)
		}()
		time.AfterFunc(100*time.Millisecond, cancel)
		select {
		case <-done:
		case <-time.After(8 * time.Second):
			t.Fatalf("%v/s: still running 8s after the start, cancelled at 100ms", a.Rate)
		}
		if report == nil || !errors.Is(err, context.Canceled) {
			t.Fatalf("%v/s: report %v, err %v", a.Rate, report, err)
		}
		ar := report.Arrivals
		if ar.Started+ar.Dropped > ar.Planned || report.RequestsSent > ar.Started ||
			report.RequestsSent+report.RequestsNotSent+report.RequestsNotStarted != report.RequestsConfigured {
			t.Errorf("%v/s: arrivals %+v; sent %d, not sent %d, not started %d, configured %d", a.Rate, ar,
				report.RequestsSent, report.RequestsNotSent, report.RequestsNotStarted, report.RequestsConfigured)
		}
		if a.Rate > 1000 && (ar.Dropped == 0 || ar.Started == 0) {
			t.Errorf("%v/s: arrivals %+v: want some started and the due ones dropped", a.Rate, ar)
		}
		if a.Rate < 10 && (ar.Started != 1 || ar.Dropped != 0) {
			t.Errorf("%v/s: arrivals %+v: want the first started, none dropped", a.Rate, ar)
		}
	}
}

// TestArrivalRateDefaultVUs: a rate run without MaxVUs is sized from its
// rate (engine.DefaultVUsFor: rate × 100 ms, at least 100), never one
// VU, whatever Concurrency says (which bounds the closed model only).
func TestArrivalRateDefaultVUs(t *testing.T) {
	srv := stallServer(t, -1, 0)
	for _, tc := range []struct {
		rate float64
		want int
	}{{10, 100}, {5000, 500}} {
		for _, opts := range [][]loadtest.Option{nil, {loadtest.Concurrency(1)}} {
			report := execute(t, append(opts, loadtest.Runs(scenario.Run("r", scenario.Get("/"))), loadtest.BaseURL(srv.URL),
				loadtest.ArrivalRate(engine.Arrivals{Rate: tc.rate, Duration: 20 * time.Millisecond}))...)
			if report.Concurrency != tc.want || engine.DefaultVUsFor(tc.rate) != tc.want {
				t.Errorf("%v/s (%d options): concurrency %d, DefaultVUsFor %d, want %d", tc.rate, len(opts),
					report.Concurrency, engine.DefaultVUsFor(tc.rate), tc.want)
			}
		}
	}
}
