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
// and counted; its requests are "not started".
//
// Iteration k (from 0) goes to run k mod (number of runs) and arrives
// when the schedule's cumulative count reaches k: the first at once.
type Arrivals struct {
	// Rate and Duration are a constant rate: Rate iterations per second
	// for Duration. Stages, when set, replace them.
	Rate     float64
	Duration time.Duration
	// Stages ramp the rate linearly from StartRate (or the previous
	// stage's Target) to each stage's Target over its Duration.
	Stages    []RateStage
	StartRate float64
	// MaxVUs bounds the iterations in flight (default 100): the VUs, each
	// with one connection.
	MaxVUs int
	// MaxLag is how late an iteration may start behind its arrival
	// (default 1s); later ones are dropped.
	MaxLag time.Duration
	// Follow follows redirects in steps that set nothing (as VUs.Follow).
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

// ArrivalRecorder is a Recorder that also takes the open model's
// iterations: each that started, with its lag behind its arrival, and
// each dropped. Record's slot is the VU; a dropped iteration may come
// from the dispatcher, with slot −1.
type ArrivalRecorder interface {
	Arrival(slot, run int, lag time.Duration, dropped bool)
}

var _ Executor = Arrivals{}

// Normalized returns a with its defaults filled in; a constant rate
// becomes one stage.
func (a Arrivals) Normalized() Arrivals {
	if a.MaxVUs < 1 {
		a.MaxVUs = 100
	}
	if a.MaxLag <= 0 {
		a.MaxLag = DefaultMaxLag
	}
	if len(a.Stages) == 0 {
		a.Stages = []RateStage{{Target: a.Rate, Duration: a.Duration}}
		a.StartRate = a.Rate
	}
	return a
}

// Validate says what is wrong with the schedule, naming the field.
func (a Arrivals) Validate() error {
	if a.MaxVUs < 0 || a.MaxLag < 0 || a.StartRate < 0 || a.Rate < 0 || a.Duration < 0 {
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
	return int(math.Ceil(n - 1e-9))
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

// Execute implements Executor. The plan's runs must have the repeat
// counts Iterations gives (package loadtest sets them) and its
// concurrency must be MaxVUs.
func (a Arrivals) Execute(ctx context.Context, p *Plan, rec Recorder) error {
	if err := a.Validate(); err != nil {
		return err
	}
	a = a.Normalized()
	runs, err := compileVUs(ctx, p, "Arrivals", a.MaxVUs, a.Iterations, a.Follow)
	if err != nil {
		return err
	}
	x := newExecution(ctx, p, runs, newScheduler(p.Priority, nil), rec)
	defer x.end()
	for _, s := range x.slots {
		s.kept.on = true
		if a.MaxVUs > manyVUs {
			s.vuBuffers()
		}
	}
	stopWatch := x.watch(x.interruptSlots)
	ar, _ := rec.(ArrivalRecorder)
	count := a.Count()
	queue := make(chan arrival, min(count, 1<<16))
	var wg sync.WaitGroup
	for k := 0; k < a.MaxVUs; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x.arrivalVU(a, k, queue, ar)
		}()
	}
	w := newPreciseWaiter()
	defer w.close()
	start := time.Now()
	if l := p.Live; l != nil {
		l.Began.Store(start.UnixNano())
	}
	for k := 0; k < count; k++ {
		at := start.Add(a.ArrivalAt(k))
		if !x.waitArrival(w, at) {
			break
		}
		select {
		case queue <- arrival{k, at}:
		default:
			if ar != nil {
				ar.Arrival(-1, k%len(runs), time.Since(at), true)
			}
		}
	}
	close(queue)
	wg.Wait()
	stopWatch()
	return x.stopCause()
}

// waitArrival waits until at, precisely (see preciseWaiter), in
// slices so that a stop is seen within 50ms. False when the execution
// stopped.
func (x *execution) waitArrival(w *preciseWaiter, at time.Time) bool {
	for {
		if x.ending() {
			return false
		}
		d := time.Until(at)
		if d <= 0 {
			return true
		}
		w.sleep(min(d, 50*time.Millisecond))
	}
}

// arrivalVU walks the iterations it takes from the queue.
func (x *execution) arrivalVU(a Arrivals, k int, queue <-chan arrival, ar ArrivalRecorder) {
	s := x.slots[k]
	defer s.closeKept()
	live := x.plan.Live
	runs := len(x.runs)
	for it := range queue {
		lag := time.Since(it.at)
		if x.ending() {
			continue // drained: not started
		}
		run := it.k % runs
		if lag > a.MaxLag {
			if ar != nil {
				ar.Arrival(k, run, lag, true)
			}
			continue
		}
		if ar != nil {
			ar.Arrival(k, run, lag, false)
		}
		if live != nil {
			live.ActiveVUs.Add(1)
		}
		rng := rand.New(rand.NewPCG(x.plan.Seed, 1<<32|uint64(it.k)))
		w := walker{x: x, s: s, rng: rng, vu: k}
		w.walk(run, it.k/runs, it.at)
		s.p.release()
		if live != nil {
			live.ActiveVUs.Add(-1)
		}
	}
}

// followAll makes every step that sets no FollowRedirects follow
// DefaultMaxRedirects when the plan follows none.
func followAll(runs []runPlan) {
	for i := range runs {
		for k := range runs[i].steps {
			if sp := &runs[i].steps[k]; sp.spec.FollowRedirects == nil && sp.follow == 0 {
				sp.follow, sp.keepHeader = DefaultMaxRedirects, true
				// HTTP::LoadGen's follow iterator sends each hop with
				// keep-alive KEEPALIVE (use and store), whatever the
				// step's mode
				hops := *sp
				hops.reuse, hops.keepAlive = true, true
				sp.hops = &hops
			}
		}
	}
}
