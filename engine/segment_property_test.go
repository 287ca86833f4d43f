package engine

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/benchgate/benchgate/scenario"
)

// segRecorder keeps what an execution says of each request: the keys
// the property compares, and each segment's indexes.
type segRecorder struct {
	RecorderBase
	mu      sync.Mutex
	results []Result
	dropped int
}

func (r *segRecorder) Record(_ int, res *Result) {
	r.mu.Lock()
	c := *res
	c.Header, c.Body, c.RequestText = nil, nil, nil
	r.results = append(r.results, c)
	r.mu.Unlock()
}

func (r *segRecorder) Arrival(_, _ int, _ time.Duration, dropped bool) {
	if dropped {
		r.mu.Lock()
		r.dropped++
		r.mu.Unlock()
	}
}

func (r *segRecorder) ArrivalsDropped(_, n int) {
	r.mu.Lock()
	r.dropped += n
	r.mu.Unlock()
}

// segPlan is a random plan of the property test.
type segPlan struct {
	desc  string
	exec  Executor
	runs  []scenario.RunSpec
	conc  int
	seed  uint64
	n     int // segments
	trace *traceLog
}

type traceLog struct {
	mu     sync.Mutex
	events []string
}

func (l *traceLog) add(e VUEvent) {
	l.mu.Lock()
	l.events = append(l.events, fmt.Sprintf("vu %d round %d step %d pre %v post %v", e.VU, e.Round, e.Step, e.Pre, e.Post))
	l.mu.Unlock()
}

func (l *traceLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.events
	l.events = nil
	return e
}

// randomSegPlan draws plan i: an executor among Slots, VUs and
// Arrivals, 1 to 3 runs of 1 to 3 steps whose URLs show the run, the
// step, {{iteration}} and a Unique feeder's row, waits with jitter
// (draws), and 1 to 5 segments; each plan sends at most ~150 requests.
func randomSegPlan(t *testing.T, i int, base string) segPlan {
	r := rand.New(rand.NewPCG(uint64(i), 77))
	sp := segPlan{seed: r.Uint64() | 1, n: 1 + r.IntN(5)}
	nruns := 1 + r.IntN(3)
	kind := i % 3
	// iterations per run, about, to bound the requests
	var iters int
	switch kind {
	case 0:
		iters = 1 + r.IntN(12)
		sp.conc = sp.n + r.IntN(4) // a slot for each segment at least
		sp.exec = Slots{Goroutines: r.IntN(2) == 0}
		sp.desc = fmt.Sprintf("Slots repeat %d concurrency %d", iters, sp.conc)
	case 1:
		v := VUs{Max: max(sp.n, nruns) + r.IntN(6), Rounds: 1 + r.IntN(3), RampUp: time.Duration(r.IntN(3)) * time.Millisecond,
			Shards: 1 + r.IntN(2), RandomStart: r.IntN(3) == 0}
		v.Start = 1 + r.IntN(v.Max)
		sp.trace = &traceLog{}
		v.Trace = sp.trace.add
		v.Hooks.RequestStart = func(e *RequestEvent) error {
			e.Header.Set("X-Vu", fmt.Sprintf("%d/%d", e.VU, e.Round))
			return nil
		}
		sp.exec, sp.conc = v, v.Max
		iters = v.Max * v.Rounds / nruns
		sp.desc = fmt.Sprintf("%+v", v)
	case 2:
		count := max(sp.n, nruns) + r.IntN(40)
		a := Arrivals{Rate: 4000, Duration: time.Duration(count) * time.Second / 4000, MaxVUs: sp.n + r.IntN(10), MaxLag: time.Minute} // a VU for each segment at least
		sp.exec, sp.conc = a, a.MaxVUs
		iters = a.Count() / nruns
		sp.desc = fmt.Sprintf("Arrivals rate %v duration %v (%d arrivals) MaxVUs %d", a.Rate, a.Duration, a.Count(), a.MaxVUs)
	}
	rows := make([][]string, 300)
	for k := range rows {
		rows[k] = []string{fmt.Sprintf("u%03d", k)}
	}
	for ri := range nruns {
		nsteps := 1 + r.IntN(3)
		var steps []*scenario.Step
		for si := range nsteps {
			st := scenario.Get(fmt.Sprintf("/r%d/s%d?it={{iteration}}&user={{user}}", ri, si))
			if r.IntN(2) == 0 {
				st.PreDelay(0, time.Duration(1+r.IntN(300))*time.Microsecond)
			}
			if r.IntN(2) == 0 {
				st.PostDelay(0, time.Duration(1+r.IntN(300))*time.Microsecond)
			}
			if r.IntN(2) == 0 {
				st.ThinkBetween(0, time.Duration(1+r.IntN(300))*time.Microsecond)
			}
			steps = append(steps, st)
		}
		feed := scenario.FeedRows([]string{"user"}, rows).OnEnd(scenario.Fail)
		if ri == 0 {
			feed.Unique()
		} else if r.IntN(2) == 0 {
			feed.Random()
		}
		spec, err := scenario.Run(fmt.Sprintf("run%d", ri), steps...).Feed(feed).Resolve(ri, scenario.Defaults{Repeat: max(iters, 1), KeepLevel: 1, BufferBytes: 4096, BaseURL: base})
		if err != nil {
			t.Fatal(err)
		}
		sp.runs = append(sp.runs, spec)
	}
	sp.desc = fmt.Sprintf("plan %d: %d runs, %d segments, %s", i, nruns, sp.n, sp.desc)
	return sp
}

// segServer records every request it receives: its URL and the VU
// header.
type segServer struct {
	mu   sync.Mutex
	seen []string
}

func (s *segServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.seen = append(s.seen, r.URL.RequestURI()+" vu="+r.Header.Get("X-Vu"))
	s.mu.Unlock()
	w.Write([]byte("ok"))
}

func (s *segServer) take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.seen
	s.seen = nil
	return e
}

// segRun is what one execution (whole or a segment) sent.
type segRun struct {
	keys, server, traces []string
	requests             int
}

// runSegment executes sp's segment seg as package loadtest does
// (Validate, Work, Repeat and Concurrency from it, Execute) and checks
// the segment's indexes: each run's Result.Index runs over 0 …
// Work.Iterations−1, every step of each once, with no hole.
func runSegment(t *testing.T, sp segPlan, seg Segment, srv *segServer) segRun {
	t.Helper()
	p := &Plan{Runs: slices.Clone(sp.runs), Concurrency: sp.conc, KeepAlive: true, Seed: sp.seed, Segment: seg, RecordURLs: true, Live: &Live{}}
	if err := sp.exec.Validate(p); err != nil {
		t.Fatalf("%s: segment %v: Validate: %v", sp.desc, seg, err)
	}
	w := sp.exec.Work(p)
	if err := CheckWork(w, p); err != nil {
		t.Fatalf("%s: segment %v: Work: %v", sp.desc, seg, err)
	}
	for i := range p.Runs {
		p.Runs[i].Repeat = w.Iterations[i]
	}
	p.Concurrency = w.Concurrency
	rec := &segRecorder{}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := sp.exec.Execute(ctx, p, rec); err != nil {
		t.Fatalf("%s: segment %v: Execute: %v", sp.desc, seg, err)
	}
	if rec.dropped > 0 {
		t.Fatalf("%s: segment %v: %d arrivals dropped (MaxLag is a minute)", sp.desc, seg, rec.dropped)
	}
	began := time.Unix(0, p.Live.Began.Load())
	var out segRun
	seen := map[[3]int]int{} // run, index, step → iteration
	for _, res := range rec.results {
		if res.Failed || res.NotSent {
			t.Fatalf("%s: segment %v: run %d iteration %d step %d failed: %s", sp.desc, seg, res.Run, res.Iteration, res.Step, res.Reason)
		}
		k := [3]int{res.Run, res.Index, res.Step}
		if _, dup := seen[k]; dup {
			t.Fatalf("%s: segment %v: run %d index %d step %d recorded twice", sp.desc, seg, res.Run, res.Index, res.Step)
		}
		seen[k] = res.Iteration
		if res.Index < 0 || res.Index >= w.Iterations[res.Run] {
			t.Fatalf("%s: segment %v: run %d index %d: out of 0…%d", sp.desc, seg, res.Run, res.Index, w.Iterations[res.Run]-1)
		}
		key := fmt.Sprintf("run %d iteration %d step %d url %s", res.Run, res.Iteration, res.Step, res.URL)
		if _, ok := sp.exec.(Arrivals); ok && res.Step == 0 {
			// the arrival's time plus the pre-delay drawn: the
			// intended start, from the schedule's start
			key += fmt.Sprintf(" intended %v", res.Intended.Sub(began))
		}
		out.keys = append(out.keys, key)
	}
	// no holes: every index of every run, every step
	for r := range p.Runs {
		for i := range w.Iterations[r] {
			for s := range p.Runs[r].Steps {
				if _, ok := seen[[3]int{r, i, s}]; !ok {
					t.Fatalf("%s: segment %v: run %d index %d step %d: never recorded (of %d iterations)", sp.desc, seg, r, i, s, w.Iterations[r])
				}
			}
		}
	}
	out.requests = len(rec.results)
	out.server = srv.take()
	if sp.trace != nil {
		out.traces = sp.trace.take()
	}
	return out
}

// TestSegmentsAddUpToTheWholePlan is the property of Plan.Segment: for
// random plans, the N segments of a plan, executed one after the other,
// send together exactly what the whole plan sends: the same requests
// (run, the whole plan's iteration number, step, URL with
// {{iteration}} and a feeder's row: a Unique feeder's rows stay unique
// across the segments), the same draws (each VU's waits, from its
// generator; an arrival's pre-delay, in its first request's intended
// start) and, for arrival rates, the same intended times; the server
// receives the same URLs with the same VU numbers.
func TestSegmentsAddUpToTheWholePlan(t *testing.T) {
	srv := &segServer{}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	plans, compared := 30, 0
	if testing.Short() {
		plans = 9
	}
	for i := range plans {
		sp := randomSegPlan(t, i, ts.URL)
		whole := runSegment(t, sp, Segment{}, srv)
		var parts segRun
		for k := range sp.n {
			s := runSegment(t, sp, Segment{Index: k, Count: sp.n}, srv)
			parts.keys = append(parts.keys, s.keys...)
			parts.server = append(parts.server, s.server...)
			parts.traces = append(parts.traces, s.traces...)
			parts.requests += s.requests
		}
		for _, c := range []struct {
			what        string
			whole, segs []string
		}{{"recorded requests", whole.keys, parts.keys}, {"requests the server received", whole.server, parts.server}, {"VUs' draws", whole.traces, parts.traces}} {
			slices.Sort(c.whole)
			slices.Sort(c.segs)
			if !slices.Equal(c.whole, c.segs) {
				t.Fatalf("%s: the %d segments' %s differ from the whole plan's:\n%s", sp.desc, sp.n, c.what, diffLines(c.whole, c.segs))
			}
		}
		if len(whole.server) != whole.requests {
			t.Fatalf("%s: the server received %d requests, the recorder %d", sp.desc, len(whole.server), whole.requests)
		}
		compared += whole.requests
	}
	t.Logf("%d plans, %d requests compared (sent twice: whole and in segments)", plans, compared)
}

// diffLines shows the first lines only one side holds.
func diffLines(a, b []string) string {
	ca, cb := map[string]int{}, map[string]int{}
	for _, s := range a {
		ca[s]++
	}
	for _, s := range b {
		cb[s]++
	}
	var out []string
	for s, n := range ca {
		if cb[s] < n {
			out = append(out, "whole only: "+s)
		}
	}
	for s, n := range cb {
		if ca[s] < n {
			out = append(out, "segments only: "+s)
		}
	}
	slices.Sort(out)
	if len(out) > 10 {
		out = append(out[:10], fmt.Sprintf("… %d more", len(out)-10))
	}
	return fmt.Sprintf("whole %d, segments %d\n", len(a), len(b)) + strings.Join(out, "\n")
}

// TestSlotsRefuseMoreSegmentsThanSlots: every segment of a Slots plan
// needs a slot, so more segments than Concurrency would send more
// requests at once than the plan: refused, naming both.
func TestSlotsRefuseMoreSegmentsThanSlots(t *testing.T) {
	for _, c := range []struct {
		conc, count int
		ok          bool
	}{{1, 1, true}, {2, 2, true}, {4, 3, true}, {1, 2, false}, {3, 4, false}} {
		p := &Plan{Concurrency: c.conc, Segment: Segment{Index: 0, Count: c.count}}
		err := Slots{}.Validate(p)
		if c.ok != (err == nil) || !c.ok && !strings.Contains(err.Error(), fmt.Sprintf("%d shards of a plan of Concurrency %d", c.count, c.conc)) {
			t.Errorf("concurrency %d, %d segments: %v", c.conc, c.count, err)
		}
	}
}

// TestArrivalsRefuseMoreSegmentsThanVUs: every segment of an arrival
// rate needs a VU, so more segments than MaxVUs would hold more
// arrivals in flight than the plan (and drop fewer): refused.
func TestArrivalsRefuseMoreSegmentsThanVUs(t *testing.T) {
	for _, c := range []struct {
		maxVUs, count int
		ok            bool
	}{{1, 1, true}, {4, 4, true}, {8, 3, true}, {1, 4, false}, {3, 4, false}} {
		a := Arrivals{Rate: 100, Duration: time.Second, MaxVUs: c.maxVUs}
		p := &Plan{Runs: []scenario.RunSpec{{Name: "r"}}, Segment: Segment{Index: 0, Count: c.count}}
		err := a.Validate(p)
		if c.ok != (err == nil) || !c.ok && !strings.Contains(err.Error(), fmt.Sprintf("MaxVUs %d for %d segments", c.maxVUs, c.count)) {
			t.Errorf("MaxVUs %d, %d segments: %v", c.maxVUs, c.count, err)
		}
	}
}
