package engine

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/benchgate/benchgate/scenario"
)

type startRecorder struct {
	RecorderBase
	mu      sync.Mutex
	results []Result
	lags    []time.Duration
}

func (r *startRecorder) Record(_ int, res *Result) {
	r.mu.Lock()
	r.results = append(r.results, *res)
	r.mu.Unlock()
}

func (r *startRecorder) Arrival(_, _ int, lag time.Duration, dropped bool) {
	r.mu.Lock()
	if !dropped {
		r.lags = append(r.lags, lag)
	}
	r.mu.Unlock()
}

func startSpec(t *testing.T, repeat int) scenario.RunSpec {
	t.Helper()
	spec, err := scenario.Run("r", scenario.Get("/a")).Resolve(0, scenario.Defaults{Repeat: repeat, KeepLevel: 1, BufferBytes: 1024,
		BaseURL: fixedServer(t, []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))})
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

// TestStartSchedulesCountFromIt: an arrival rate whose Start (T0) is
// behind it begins late: its arrivals are due at T0 plus their place on
// the schedule, so the lateness shows as each arrival's lag and in the
// requests' intended starts (Start + ArrivalAt(k)), not hidden by a
// schedule that counts from when the execution happened to begin.
func TestStartSchedulesCountFromIt(t *testing.T) {
	a := Arrivals{Rate: 100, Duration: 100 * time.Millisecond, MaxVUs: 2, MaxLag: time.Minute}
	start := time.Now().Add(-300 * time.Millisecond) // began 300 ms late
	rec := &startRecorder{}
	p := &Plan{Runs: []scenario.RunSpec{startSpec(t, a.Count())}, Concurrency: 2, KeepAlive: true, Start: start}
	if err := a.Execute(context.Background(), p, rec); err != nil {
		t.Fatal(err)
	}
	if len(rec.results) != a.Count() || len(rec.lags) != a.Count() {
		t.Fatalf("%d results, %d arrivals, want %d", len(rec.results), len(rec.lags), a.Count())
	}
	for _, l := range rec.lags {
		if l < 200*time.Millisecond { // the last arrival is due at T0 + 90 ms
			t.Errorf("an arrival's lag %v: the 300 ms late start does not show", l)
		}
	}
	for _, r := range rec.results {
		if want := start.Add(a.ArrivalAt(r.Iteration)); !r.Intended.Equal(want) {
			t.Errorf("iteration %d intended at %v, want T0 + %v = %v", r.Iteration, r.Intended, a.ArrivalAt(r.Iteration), want)
		}
	}
}

// TestStartNothingBeforeIt: no executor sends before the plan's Start,
// and the time limit counts from it (a limit shorter than the wait for
// T0 does not end the execution before it began).
func TestStartNothingBeforeIt(t *testing.T) {
	for _, ex := range []Executor{Slots{}, Slots{Goroutines: true}, VUs{Max: 2}, Arrivals{Rate: 100, Duration: 20 * time.Millisecond, MaxVUs: 2}} {
		p := &Plan{Runs: []scenario.RunSpec{startSpec(t, 2)}, Concurrency: 2, KeepAlive: true, TimeLimit: 2 * time.Second}
		w := ex.Work(p)
		p.Runs[0].Repeat, p.Concurrency = w.Iterations[0], w.Concurrency
		p.Start = time.Now().Add(400 * time.Millisecond)
		p.TimeLimit = 350 * time.Millisecond
		p.GracePeriod = time.Second
		rec := &startRecorder{}
		if err := ex.Execute(context.Background(), p, rec); err != nil {
			t.Fatalf("%T: %v", ex, err)
		}
		if len(rec.results) == 0 {
			t.Fatalf("%T: no request: the time limit did not count from Start", ex)
		}
		for _, r := range rec.results {
			if r.Start.Before(p.Start) {
				t.Errorf("%T: a request started at %v, before Start %v", ex, r.Start, p.Start)
			}
		}
	}
}

// TestStartCancelledWhileWaiting: a cancel while the execution waits
// for its Start ends it at once, with nothing sent and the cancel as
// its error.
func TestStartCancelledWhileWaiting(t *testing.T) {
	for _, ex := range []Executor{Slots{}, Slots{Goroutines: true}, VUs{Max: 2}, Arrivals{Rate: 100, Duration: 20 * time.Millisecond, MaxVUs: 2}} {
		p := &Plan{Runs: []scenario.RunSpec{startSpec(t, 2)}, Concurrency: 2, KeepAlive: true}
		w := ex.Work(p)
		p.Runs[0].Repeat, p.Concurrency = w.Iterations[0], w.Concurrency
		p.Start = time.Now().Add(time.Minute)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(20*time.Millisecond, cancel)
		done := make(chan error, 1)
		rec := &startRecorder{}
		go func() { done <- ex.Execute(ctx, p, rec) }()
		select {
		case err := <-done:
			if err != context.Canceled || len(rec.results) != 0 {
				t.Errorf("%T: error %v, %d requests; want context.Canceled and none", ex, err, len(rec.results))
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("%T: still waiting for Start after the cancel", ex)
		}
		cancel()
	}
}

type dropRecorder struct {
	RecorderBase
	mu               sync.Mutex
	started, dropped map[int]int
}

func (r *dropRecorder) Record(_ int, res *Result) {}

func (r *dropRecorder) Arrival(_, run int, _ time.Duration, dropped bool) {
	r.mu.Lock()
	if dropped {
		r.dropped[run]++
	} else {
		r.started[run]++
	}
	r.mu.Unlock()
}

func (r *dropRecorder) ArrivalsDropped(run, n int) {
	r.mu.Lock()
	r.dropped[run] += n
	r.mu.Unlock()
}

// TestSegmentArrivalsDropped: a segment of an arrival rate whose one VU
// cannot keep up drops arrivals, and accounts for each of its own
// exactly: per run, the arrivals started plus dropped are the run's
// iterations in the segment, and every run's add up to the segment's
// planned arrivals (none of another segment's counted).
func TestSegmentArrivalsDropped(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { time.Sleep(10 * time.Millisecond) }))
	defer srv.Close()
	var runs []scenario.RunSpec
	for i := range 3 {
		spec, err := scenario.Run(fmt.Sprint("r", i), scenario.Get("/")).Resolve(i, scenario.Defaults{Repeat: 1, KeepLevel: 1, BufferBytes: 1024, BaseURL: srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		runs = append(runs, spec)
	}
	a := Arrivals{Rate: 2000, Duration: 50 * time.Millisecond, MaxVUs: 2, MaxLag: 5 * time.Millisecond}
	for k := range 2 {
		p := &Plan{Runs: slices.Clone(runs), KeepAlive: true, Segment: Segment{Index: k, Count: 2}}
		w := a.Work(p)
		for i := range p.Runs {
			p.Runs[i].Repeat = w.Iterations[i]
		}
		p.Concurrency = w.Concurrency
		rec := &dropRecorder{started: map[int]int{}, dropped: map[int]int{}}
		if err := a.Execute(context.Background(), p, rec); err != nil {
			t.Fatal(err)
		}
		total, dropped := 0, 0
		for i := range p.Runs {
			if got := rec.started[i] + rec.dropped[i]; got != w.Iterations[i] {
				t.Errorf("segment %d/2 run %d: %d started + %d dropped, want its %d iterations", k, i, rec.started[i], rec.dropped[i], w.Iterations[i])
			}
			total += rec.started[i] + rec.dropped[i]
			dropped += rec.dropped[i]
		}
		if total != w.Arrivals || dropped == 0 {
			t.Errorf("segment %d/2: %d arrivals accounted for (%d dropped), want its %d planned, some dropped", k, total, dropped, w.Arrivals)
		}
	}
}
