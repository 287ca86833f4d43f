package engine

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"time"
)

// Arrivals is the open model: iterations arrive on a schedule of
// iterations per second, whatever the server does, and each is walked
// by a free virtual user (its steps in order, with their waits, on the
// VU's kept-alive connections). A server that slows down does not slow
// the arrivals: iterations queue for a free VU, and every request's
// latency is also measured from its intended start (Result.Intended;
// the iteration's arrival for its first request), so the slowness
// shows instead of hiding in fewer requests (coordinated omission). An
// iteration that cannot start within MaxLag of its arrival is dropped
// and counted, as is one that was due when the execution stopped (time
// limit, cancel) and that no VU was free to start; its requests are
// "not started".
//
// Iteration k (from 0) goes to run k mod (number of runs) and arrives
// when the schedule's cumulative count reaches k: the first at once.
// A plan run as segments (Plan.Segment) gives segment s of N the
// arrivals k mod N = s, at their times in the whole schedule (see
// Work), counted from Plan.Start when it is set.
type Arrivals struct {
	// Rate and Duration are a constant rate: Rate iterations per second
	// for Duration. Stages, when set, replace them.
	Rate     float64
	Duration time.Duration
	// Stages ramp the rate linearly from StartRate (or the previous
	// stage's Target) to each stage's Target over its Duration.
	Stages    []RateStage
	StartRate float64
	// MaxIterations, when above 0, ends the schedule after that many
	// arrivals, if it has not ended before: whichever comes first.
	MaxIterations int
	// MaxVUs bounds the iterations in flight: the VUs, each with one
	// connection. By default (0) it is sized from the rate: enough VUs
	// to hold the peak rate while an iteration takes up to 100 ms
	// (peak rate × 0.1 s, by Little's law), and at least 100.
	MaxVUs int
	// MaxLag is how late an iteration may start behind its arrival
	// (default 1s); later ones are dropped.
	MaxLag time.Duration
	// FollowRedirects follows up to this many redirects in steps that
	// set nothing when the plan follows none, as VUs.FollowRedirects
	// does (0: none).
	FollowRedirects int
	// Follow is FollowRedirects: DefaultMaxRedirects (when
	// FollowRedirects is 0).
	//
	// Deprecated: set FollowRedirects (DefaultMaxRedirects for what
	// Follow did). Follow still works.
	Follow bool
}

// RateStage is a linear ramp of the arrival rate to Target iterations
// per second over Duration.
type RateStage struct {
	Target   float64
	Duration time.Duration
}

// DefaultMaxLag is how late an arrival may start by default.
const DefaultMaxLag = time.Second

var _ Executor = Arrivals{}

// Normalized returns a with its defaults filled in; a constant rate
// becomes one stage.
func (a Arrivals) Normalized() Arrivals {
	if a.MaxLag <= 0 {
		a.MaxLag = DefaultMaxLag
	}
	if len(a.Stages) == 0 {
		a.Stages = []RateStage{{Target: a.Rate, Duration: a.Duration}}
		a.StartRate = a.Rate
	}
	if a.MaxVUs < 1 {
		a.MaxVUs = DefaultVUsFor(a.PeakRate())
	}
	if a.Follow && a.FollowRedirects == 0 {
		a.FollowRedirects = DefaultMaxRedirects
	}
	return a
}

// PeakRate is the schedule's highest rate, in iterations per second.
func (a Arrivals) PeakRate() float64 {
	peak := max(a.Rate, a.StartRate)
	for _, s := range a.Stages {
		peak = max(peak, s.Target)
	}
	return peak
}

// DefaultVUsFor returns the default MaxVUs for a peak rate: enough to
// keep the rate while an iteration takes up to 100 ms (Little's law: in
// flight = rate × time in flight), at least 100, at most 10,000.
func DefaultVUsFor(rate float64) int {
	n := math.Ceil(rate * 0.1)
	if math.IsNaN(n) || n < 100 {
		return 100
	}
	return int(min(n, 10_000))
}

// Validate implements Executor: it says what is wrong with the
// schedule, naming the field, and (p not nil) with the plan: a run that
// gets no iteration.
func (a Arrivals) Validate(p *Plan) error {
	if p != nil && p.For > 0 && (a.Duration > 0 || len(a.Stages) > 0) {
		return fmt.Errorf("Arrivals: the schedule has its own length (Duration %v, %d Stages): For %v would be a second one", a.Duration, len(a.Stages), p.For)
	}
	a = a.forPlan(p)
	if err := a.check(); err != nil {
		return err
	}
	if p == nil {
		return nil
	}
	for i := range p.Runs {
		if a.Iterations(i, len(p.Runs)) == 0 {
			return fmt.Errorf("Arrivals: %d arrivals for %d runs: run %q gets no iteration", a.Count(), len(p.Runs), p.Runs[i].Name)
		}
	}
	if seg := p.Segment; seg.Check() == nil && seg.share(a.Count()) == 0 {
		return fmt.Errorf("Arrivals: %d arrivals for %d segments: segment %v gets none (arrival k is segment k mod %d's)", a.Count(), seg.Count, seg, seg.Count)
	}
	if seg, most := p.Segment, a.Normalized().MaxVUs; !seg.Whole() && seg.Count > most {
		// every segment needs a VU: together they would have more in
		// flight than the plan allows, and drop fewer arrivals
		return fmt.Errorf("Arrivals: MaxVUs %d for %d segments: every segment needs a VU of its own, so together they would hold %d arrivals in flight where the plan holds %d; run at most %d shards, or raise MaxVUs",
			most, seg.Count, seg.Count, most, most)
	}
	return nil
}

// forPlan returns a as plan p runs it: a constant rate without a
// Duration, under p.For, lasts For.
func (a Arrivals) forPlan(p *Plan) Arrivals {
	if p != nil && p.For > 0 && a.Duration == 0 && len(a.Stages) == 0 {
		a.Duration = p.For
	}
	return a
}

// Work implements Executor: the arrivals dealt to the runs in turn, at
// most MaxVUs in flight, the schedule's length.
//
// In segment s of N (Plan.Segment) the arrivals are those k with
// k mod N = s, at the times they have in the whole plan (so the N
// schedules add up to the whole one exactly), each walking the
// iteration it walks there (run k mod runs, iteration k div runs) with
// its generator (from the plan's Seed and k). The segment's VUs are
// its share of MaxVUs, VU j of the whole pool the segment's when
// j mod N = s, and at least one: when MaxVUs < N the segments hold more
// VUs together than the whole plan. Lag and drops are each segment's
// own (an arrival waits only for the segment's VUs).
func (a Arrivals) Work(p *Plan) Work {
	a = a.forPlan(p)
	seg := p.Segment
	w := Work{Iterations: make([]int, len(p.Runs)), Concurrency: a.segVUs(seg), Duration: a.Total(), Arrivals: seg.share(a.Count())}
	maps := make([]iterMap, len(p.Runs))
	for i := range p.Runs {
		w.Iterations[i] = a.segIterations(seg)(i, len(p.Runs))
		maps[i] = runMapArrivals(seg, i, len(p.Runs))
	}
	w.Global = globalFunc(maps)
	return w
}

// segVUs returns segment seg's share of MaxVUs (Validate refuses more
// segments than MaxVUs), at least 1.
func (a Arrivals) segVUs(seg Segment) int {
	return max(seg.share(a.Normalized().MaxVUs), 1)
}

// runMap returns how segment seg's iterations of run i of runs map to
// the whole plan's: iteration j of the run is arrival i + j·runs.
func runMapArrivals(seg Segment, i, runs int) iterMap {
	return stripeMap(seg, 1, func(j int) int { return i + j*runs })
}

// segIterations returns how many iterations run i of runs gets in
// segment seg.
func (a Arrivals) segIterations(seg Segment) func(i, runs int) int {
	return func(i, runs int) int {
		return runMapArrivals(seg, i, runs).blocks(a.Iterations(i, runs))
	}
}

// check says what is wrong with the schedule, naming the field.
func (a Arrivals) check() error {
	if a.MaxVUs < 0 || a.MaxIterations < 0 || a.MaxLag < 0 || a.StartRate < 0 || a.Rate < 0 || a.Duration < 0 || a.FollowRedirects < 0 {
		return fmt.Errorf("Arrivals %+v: no field may be negative", a)
	}
	if len(a.Stages) == 0 && (a.Rate <= 0 || a.Duration <= 0) {
		return fmt.Errorf("Arrivals: Rate %v and Duration %v: a constant rate needs both above 0 (or give Stages)", a.Rate, a.Duration)
	}
	for i, s := range a.Stages {
		if s.Target < 0 || s.Duration <= 0 || math.IsNaN(s.Target) || math.IsInf(s.Target, 0) {
			return fmt.Errorf("Arrivals: Stages[%d] = %+v: Target must be 0 or more and Duration above 0", i, s)
		}
	}
	if a.Normalized().Count() == 0 {
		return fmt.Errorf("Arrivals: the schedule has no arrival")
	}
	if n := a.Normalized().Count(); n > math.MaxInt32 {
		return fmt.Errorf("Arrivals: %d arrivals: at most %d", n, math.MaxInt32)
	}
	return nil
}

// cumulative is the number of arrivals due by t (a real number).
func (a Arrivals) cumulative(t time.Duration) float64 {
	n, from := 0.0, a.StartRate
	for _, s := range a.Stages {
		d := s.Duration.Seconds()
		x := min(t, s.Duration).Seconds()
		n += from*x + (s.Target-from)*x*x/(2*d)
		if t <= s.Duration {
			return n
		}
		t -= s.Duration
		from = s.Target
	}
	return n
}

// Total is the length of the schedule.
func (a Arrivals) Total() time.Duration {
	var d time.Duration
	for _, s := range a.Normalized().Stages {
		d += s.Duration
	}
	return d
}

// Count returns how many iterations arrive: the k ≥ 0 whose arrival
// comes before the schedule ends.
func (a Arrivals) Count() int {
	a = a.Normalized()
	n := a.cumulative(a.Total())
	c := math.Ceil(n - 1e-9)
	if a.MaxIterations > 0 && c > float64(a.MaxIterations) {
		return a.MaxIterations
	}
	if c > math.MaxInt32 {
		return math.MaxInt32 + 1 // Validate refuses it
	}
	return int(c)
}

// ArrivalAt returns when iteration k arrives, from the start.
func (a Arrivals) ArrivalAt(k int) time.Duration {
	a = a.Normalized()
	want := float64(k)
	var at time.Duration
	n, from := 0.0, a.StartRate
	for i, s := range a.Stages {
		d := s.Duration.Seconds()
		end := n + (from+s.Target)*d/2
		if want < end || i == len(a.Stages)-1 {
			// solve from·x + (Target−from)·x²/(2d) = want − n for x
			r, slope := want-n, (s.Target-from)/d
			var x float64
			switch {
			case math.Abs(slope) < 1e-12 && from <= 0:
				x = d // no arrival in this stage
			case math.Abs(slope) < 1e-12:
				x = r / from
			default:
				x = (-from + math.Sqrt(from*from+2*slope*r)) / slope
			}
			return at + time.Duration(x*float64(time.Second))
		}
		n, from = end, s.Target
		at += s.Duration
	}
	return at
}

// Iterations returns how many iterations run i of runs gets.
func (a Arrivals) Iterations(i, runs int) int {
	n := a.Count()
	c := n / runs
	if i < n%runs {
		c++
	}
	return c
}

type arrival struct {
	k  int
	at time.Time
}

// arrivalClock hands the schedule's arrivals, in order, to the VUs that
// are free: a free VU claims the next arrival and waits for it itself
// (see preciseWaiter), so an arrival wakes the one goroutine that sends
// it, and no dispatcher hands it over. Arrivals that no VU was free to
// claim within MaxLag are dropped in bulk when a VU next claims: at a
// rate far above what the VUs can start, a claim costs the same as at
// any other rate.
type arrivalClock struct {
	a     Arrivals
	start time.Time
	count int // the whole plan's arrivals
	runs  int
	ar    Recorder
	// seg is the segment whose arrivals the clock hands out (those k
	// with k mod Count = Index); maps are its runs' iteration maps
	seg  Segment
	maps []iterMap

	mu   sync.Mutex
	next int
}

// claim returns the next arrival, first dropping the ones already later
// than MaxLag; false when the schedule has none left.
func (c *arrivalClock) claim() (arrival, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.next >= c.count {
		return arrival{}, false
	}
	if late := time.Since(c.start) - c.a.MaxLag; late > 0 && c.a.ArrivalAt(c.next) < late {
		end := min(c.a.before(late), c.count)
		c.drop(c.next, end)
		c.next = c.owned(end)
		if c.next >= c.count {
			return arrival{}, false
		}
	}
	k := c.next
	c.next = c.owned(k + 1)
	return arrival{k, c.start.Add(c.a.ArrivalAt(k))}, true
}

// owned returns the first of the segment's arrivals at k or after.
func (c *arrivalClock) owned(k int) int {
	if c.seg.Whole() {
		return k
	}
	return k + ((c.seg.Index-k%c.seg.Count)%c.seg.Count+c.seg.Count)%c.seg.Count
}

// drop records the segment's arrivals in [from, to) as dropped, one
// call per run.
func (c *arrivalClock) drop(from, to int) {
	if c.ar == nil || to <= from {
		return
	}
	for r := range c.runs {
		// arrival k goes to run k mod runs as its iteration k div runs:
		// the run's iterations j from ⌈(from−r)/runs⌉ to ⌈(to−r)/runs⌉
		// (excluded), of which the segment's
		jf, jt := ceilDiv(max(from-r, 0), c.runs), ceilDiv(max(to-r, 0), c.runs)
		if n := c.maps[r].blocks(jt) - c.maps[r].blocks(jf); n > 0 {
			c.ar.ArrivalsDropped(r, n)
		}
	}
}

// ceilDiv is ⌈a/b⌉ for a ≥ 0, b > 0.
func ceilDiv(a, b int) int { return (a + b - 1) / b }

// before returns how many of the schedule's arrivals come before t:
// the first k whose arrival is at t or later, or Count. The count is
// taken from the rate's integral and corrected by a step or two for
// rounding, so it costs the same whatever t.
func (a Arrivals) before(t time.Duration) int {
	count := a.Count()
	if t <= 0 {
		return 0
	}
	if t >= a.Total() {
		return count
	}
	c := math.Ceil(a.cumulative(t) - 1e-9)
	n := int(max(0, min(c, float64(count))))
	for n > 0 && a.ArrivalAt(n-1) >= t {
		n--
	}
	for n < count && a.ArrivalAt(n) < t {
		n++
	}
	return n
}

// Execute implements Executor. The plan's runs must have the repeat
// counts Iterations gives (package loadtest sets them) and its
// concurrency must be MaxVUs.
func (a Arrivals) Execute(ctx context.Context, p *Plan, rec Recorder) error {
	a = a.forPlan(p)
	if err := a.check(); err != nil {
		return err
	}
	a = a.Normalized()
	seg := p.Segment
	if err := seg.Check(); err != nil {
		return fmt.Errorf("Segment: %w", err)
	}
	vus := a.segVUs(seg)
	runs, err := compileVUs(ctx, p, "Arrivals", vus, a.segIterations(seg), a.FollowRedirects)
	if err != nil {
		return err
	}
	maps := make([]iterMap, len(runs))
	for i := range runs {
		maps[i] = runMapArrivals(seg, i, len(runs))
		runs[i].iters = maps[i]
	}
	x := newExecution(ctx, p, runs, newScheduler(p.Priority, nil), rec)
	defer x.end()
	for _, s := range x.slots {
		s.kept.on = true
		if vus > manyVUs {
			s.vuBuffers()
		}
	}
	start, ok := x.begin()
	if !ok {
		return context.Cause(ctx)
	}
	stopWatch := x.watch(x.interruptSlots)
	clock := &arrivalClock{a: a, count: a.Count(), runs: len(runs), ar: rec, seg: seg, maps: maps}
	clock.next = clock.owned(0)
	waiters := newWaiterSet(x.stopCh)
	defer waiters.close()
	clock.start = start
	if l := p.Live; l != nil {
		l.Began.Store(clock.start.UnixNano())
	}
	var wg sync.WaitGroup
	for k := 0; k < vus; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x.arrivalVU(a, k, clock, waiters)
		}()
	}
	wg.Wait()
	clock.finish()
	stopWatch()
	return x.stopCause()
}

// finish drops, after the VUs ended, the arrivals that were due and that
// no VU was free to start before the execution stopped; the ones not
// due yet are not started.
func (c *arrivalClock) finish() {
	c.mu.Lock()
	defer c.mu.Unlock()
	end := min(c.a.before(time.Since(c.start)), c.count)
	c.drop(c.next, end)
	c.next = max(c.next, c.owned(end))
}

// waiterSet makes the VUs' waiters and wakes them all when the
// execution stops.
type waiterSet struct {
	mu      sync.Mutex
	all     []*preciseWaiter
	stopped bool
	done    chan struct{}
}

func newWaiterSet(stop <-chan struct{}) *waiterSet {
	ws := &waiterSet{done: make(chan struct{})}
	go func() {
		select {
		case <-stop:
		case <-ws.done:
		}
		ws.mu.Lock()
		defer ws.mu.Unlock()
		ws.stopped = true
		for _, w := range ws.all {
			w.interrupt()
		}
	}()
	return ws
}

// get returns a new waiter, interrupted already when the execution
// stopped.
func (ws *waiterSet) get(stop <-chan struct{}) *preciseWaiter {
	w := newPreciseWaiter()
	w.stop = stop
	ws.mu.Lock()
	defer ws.mu.Unlock()
	ws.all = append(ws.all, w)
	if ws.stopped {
		w.interrupt()
	}
	return w
}

// close ends the set's goroutine and closes its waiters.
func (ws *waiterSet) close() {
	close(ws.done)
	ws.mu.Lock()
	defer ws.mu.Unlock()
	for _, w := range ws.all {
		w.close()
	}
}

// waitArrival waits until at (see preciseWaiter); false when the
// execution stopped.
func (x *execution) waitArrival(w *preciseWaiter, at time.Time) bool {
	return !x.ending() && w.until(at) && !x.ending()
}

// arrivalVU claims arrivals while it is free, waits for each and walks
// its iteration.
func (x *execution) arrivalVU(a Arrivals, k int, clock *arrivalClock, waiters *waiterSet) {
	s := x.slots[k]
	defer s.closeKept()
	live := x.plan.Live
	runs := len(x.runs)
	var w *preciseWaiter
	for !x.ending() {
		it, ok := clock.claim()
		if !ok {
			return
		}
		if time.Until(it.at) > 0 {
			if w == nil {
				w = waiters.get(x.stopCh)
			}
			if !x.waitArrival(w, it.at) {
				return // claimed, not started: the execution stopped first
			}
		}
		lag := time.Since(it.at)
		run := it.k % runs
		if clock.ar != nil {
			clock.ar.Arrival(k, run, lag, false)
		}
		if live != nil {
			live.ActiveVUs.Add(1)
		}
		rng := rand.New(rand.NewPCG(x.plan.Seed, 1<<32|uint64(it.k)))
		wk := walker{x: x, s: s, rng: rng, vu: k}
		// the iteration's place among the segment's of its run: the
		// run's iterations of the segment before it
		wk.walk(run, x.runs[run].iters.blocks(it.k/runs), it.at)
		s.p.Release()
		if live != nil {
			live.ActiveVUs.Add(-1)
		}
	}
}

// followAll makes every step that sets no FollowRedirects follow n
// redirects when the plan follows none.
func followAll(runs []runPlan, n int) {
	for i := range runs {
		for k := range runs[i].steps {
			if sp := &runs[i].steps[k]; sp.spec.FollowRedirects == nil && sp.follow == 0 {
				sp.follow, sp.keepHeader = n, true
				// each hop goes with keep-alive mode ReuseThenKeep,
				// whatever the step's mode
				hops := *sp
				hops.reuse, hops.keepAlive = true, true
				sp.hops = &hops
			}
		}
	}
}
