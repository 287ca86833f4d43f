package engine

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// VUs is the virtual-user executor: virtual users, each walking its run's
// steps with its own variables, cookie jar and kept-alive connections,
// for a number of rounds, started on a linear ramp. A VU that finishes
// is not replaced.
//
// Each VU keeps a pool of kept-alive connections, per origin (scheme,
// host and port): a request whose keep-alive mode lets it reuse one
// (scenario.ReuseThenClose or ReuseThenKeep) takes one to its origin when
// there is one; a request of mode OpenThenClose or OpenThenKeep, or one
// to another origin, opens a connection of its own and leaves the kept
// ones alone; a connection whose request has mode OpenThenKeep or
// ReuseThenKeep is kept after
// the response when the server allows it. At most MaxKeptConns are kept
// idle per VU.
//
// VUs are numbered from 0; VU k belongs to shard k mod Shards (a group
// of goroutines with its own DNS cache and hooks, numbered as a
// multi-process run will number its processes) and walks run k mod (number of
// runs). VUs 0 … Start−1 start at once; VU Start+j starts at
// (j+1)·RampUp/(Max−Start), so the last one starts at RampUp.
//
// Shards are goroutine groups in one execution; a plan run as several
// executions (Plan.Segment: processes, pods, hosts) gives segment s of
// N the VUs k mod N = s, each as it is in the whole plan (see Work).
type VUs struct {
	// Shards is the number of shards (default 1).
	Shards int
	// Start is the number of VUs started at once (default Shards). A
	// Start above Max starts Start VUs at once and never ramps.
	Start int
	// Max is the number of VUs in all (default Start).
	Max int
	// RampUp is when the last VU starts.
	RampUp time.Duration
	// Rounds is how often each VU walks its run (default 1): a run's
	// iterations are its VUs times Rounds. It is not the runs' Repeat
	// (loadtest.Repeat, scenario.RunDef.Repeat: the iterations of a run
	// under Slots, spread over its slots), which gives way to it. A negative
	// Rounds (RoundsForever) walks it until the plan's time limit, the
	// context's end or the VU's EndVU: the plan must then have a time
	// limit or the context a deadline.
	// Such a run's iterations are numbered in the order they begin,
	// whichever VU walks them, and a run begins at most
	// ForeverIterations of them.
	Rounds int
	// RandomStart makes each round begin at a step drawn at random (from
	// the VU's seeded generator) and go round the run's steps once: for
	// runs whose steps do not read what an earlier step extracted or
	// answered.
	RandomStart bool
	// FollowRedirects makes every step that sets no FollowRedirects of
	// its own follow up to this many redirects when the plan follows
	// none (Plan.FollowRedirects 0); 0 follows none, DefaultMaxRedirects
	// is the usual limit. The name is the plan's and the step's: the
	// step's own setting comes first, then the plan's, then this one.
	// Unlike the plan's, each request of the chain after the first is
	// sent with keep-alive mode scenario.ReuseThenKeep, whatever the
	// step's (HTTP::LoadGen's follow iterator). A post-delay and think
	// time come after the chain's last response.
	FollowRedirects int
	// Follow is FollowRedirects: DefaultMaxRedirects (when
	// FollowRedirects is 0).
	//
	// Deprecated: set FollowRedirects (DefaultMaxRedirects for what
	// Follow did). Follow still works.
	Follow bool
	// Pacing, when set, starts VU k's round r at its start time plus
	// r·Pacing: a round that ends early waits for its slot, one that
	// ends late is followed at once, and the next round's first request
	// keeps its scheduled start as its intended start, so the delay shows
	// in the corrected latencies (coordinated omission).
	Pacing time.Duration
	// Iterate, when set, chooses each round's requests instead of the
	// run's order (RandomStart is then ignored). It is called at the start of each round of
	// each VU, with the VU's generator, and returns the round's
	// iterator. See StepIterator.
	Iterate func(vu, round int, rng *rand.Rand) StepIterator
	// Hooks are the per-VU and per-request handlers.
	Hooks VUHooks
	// Trace, when set, is called after each request of a VU with the
	// waits drawn around it: a record of the schedule, for tests and
	// debugging. It runs on the VU's goroutine.
	Trace func(VUEvent)
}

// MaxRetries bounds how many requests a StepIterator may send again
// in one round (retries and steps sent again later) when neither the
// plan's time limit nor the context's deadline would end an iterator
// that never does: that is a hook error, not a run that never ends.
// With a time limit or a deadline the number is not bounded.
const MaxRetries = 100

// StepIterator chooses a round's requests. It is called with nil at the
// start of the round, then with each request's result (before it is
// recorded; its byte slices are valid during the call), and returns the
// step to send next (an index into the run's steps) with header fields
// to add and any change to its request, or more = false when the round
// is over. Any step may be sent any number of times. Returning the step
// just sent sends it again as a retry (on a 401, with an Authorization
// field, say): the earlier attempt is then recorded as retried, apart
// from the step's counts, and the retry's result is the step's. Once a
// step has its result, sending it again later in the round is an extra
// request of the step (Result.Again): counted as one more configured
// request of the step, with its own result, so that its failure is the
// step's failure. The steps a round never sends are "not started".
// See MaxRetries for the bound without a time limit. An iterator that
// panics or names no step of the run ends the round and is reported as
// a hook error.
type StepIterator func(prev *Result) (next NextStep, more bool)

// NextStep is what a StepIterator sends next: a step of the run, with
// header fields to add. Method, URL and, when SetBody is true, Body
// replace the step's, as RequestEvent's do, so an iterator may send
// any request; its result counts as the step's.
type NextStep struct {
	Step   int
	Header http.Header

	Method, URL string
	Body        []byte
	SetBody     bool
}

// changed reports whether the iterator changed the step's request.
func (n *NextStep) changed() bool { return n.Method != "" || n.URL != "" || n.SetBody }

// VUEvent is one request of a virtual user, for VUs.Trace.
type VUEvent struct {
	VU, Round, Step int
	// Pre is the wait before the request (its pre-delay); Post the wait
	// after it (post-delay and think time).
	Pre, Post time.Duration
}

var _ Executor = VUs{}

// Normalized returns v with its defaults filled in.
func (v VUs) Normalized() VUs {
	if v.Shards < 1 {
		v.Shards = 1
	}
	if v.Start < 1 {
		v.Start = v.Shards
	}
	if v.Max < 1 || v.Start > v.Max {
		v.Max = v.Start
	}
	if v.Rounds == 0 {
		v.Rounds = 1
	}
	if v.Follow && v.FollowRedirects == 0 {
		v.FollowRedirects = DefaultMaxRedirects
	}
	return v
}

// StartAt returns when VU k starts, from the start of the execution.
func (v VUs) StartAt(k int) time.Duration {
	v = v.Normalized()
	if k < v.Start || v.Max == v.Start {
		return 0
	}
	j := k - v.Start
	return time.Duration(int64(j+1) * int64(v.RampUp) / int64(v.Max-v.Start))
}

// ShardOf returns the shard of VU k.
func (v VUs) ShardOf(k int) int { return k % v.Normalized().Shards }

// ShardSize returns how many VUs shard i holds.
func (v VUs) ShardSize(i int) int {
	v = v.Normalized()
	n := v.Max / v.Shards
	if i < v.Max%v.Shards {
		n++
	}
	return n
}

// Iterations returns how many iterations run i of n runs gets: its VUs
// times the rounds.
func (v VUs) Iterations(i, runs int) int {
	v = v.Normalized()
	vus := v.Max / runs
	if i < v.Max%runs {
		vus++
	}
	if v.Rounds < 0 {
		return min(vus, 1) * foreverBound
	}
	return vus * v.Rounds
}

// runMap returns how segment seg's iterations of run i of runs map to
// the whole plan's: VU k (walking run k mod runs, its iterations
// (k div runs)·Rounds + round) is the segment's when seg owns k; until
// stopped, the run's iterations, numbered as they begin, are striped
// (the segment's n-th is the whole plan's n·Count + Index).
func (v VUs) runMap(seg Segment, i, runs int) iterMap {
	v = v.Normalized()
	if v.Rounds < 0 {
		return stripeMap(seg, 1, func(j int) int { return j })
	}
	return stripeMap(seg, v.Rounds, func(j int) int { return i + j*runs })
}

// segIterations returns how many iterations run i of runs gets in
// segment seg.
func (v VUs) segIterations(seg Segment) func(i, runs int) int {
	return func(i, runs int) int {
		n := v.Normalized()
		if seg.Whole() {
			return n.Iterations(i, runs)
		}
		vus := n.Max / runs
		if i < n.Max%runs {
			vus++
		}
		own := stripeMap(seg, 1, func(j int) int { return i + j*runs }).blocks(vus)
		if n.Rounds < 0 {
			return min(own, 1) * foreverBound
		}
		return own * n.Rounds
	}
}

// RoundsForever is VUs.Rounds for VUs that walk their run until the
// execution stops.
const RoundsForever = -1

// ForeverIterations bounds the iterations a run of VUs with
// RoundsForever begins: its VUs end when it is reached, before the time
// limit, and a Warner is told so (a warning of the run's first step). What a run
// holds per request is allocated as requests are made, so the bound
// costs a pointer per 4096 requests it allows, not a record each.
const ForeverIterations = 1 << 22

// foreverBound is ForeverIterations, lowered by tests.
var foreverBound = ForeverIterations

// forPlan returns v as plan p runs it: without Rounds, under p.For, its
// VUs walk their runs until the time passes.
func (v VUs) forPlan(p *Plan) VUs {
	if p != nil && p.For > 0 && v.Rounds == 0 {
		v.Rounds = RoundsForever
	}
	return v
}

// Validate implements Executor: no field may be negative (but Rounds),
// every run needs a VU, and VUs that walk their runs until stopped need
// the plan's time limit (package loadtest also takes a context's
// deadline).
func (v VUs) Validate(p *Plan) error {
	if p != nil && p.For > 0 && v.Rounds > 0 {
		// For would end the rounds where it passes and the report,
		// configured with the iterations begun, would read complete
		return fmt.Errorf("VUs: Rounds %d bounds the runs: For %v would be a second bound (without Rounds, the VUs walk their runs until For passes; with Rounds, bound them by TimeLimit)", v.Rounds, p.For)
	}
	v = v.forPlan(p)
	// every error at once, each naming its field and value
	var errs []error
	for _, f := range []struct {
		name string
		neg  bool
		val  any
	}{{"Max", v.Max < 0, v.Max}, {"Start", v.Start < 0, v.Start}, {"Shards", v.Shards < 0, v.Shards},
		{"RampUp", v.RampUp < 0, v.RampUp}, {"Pacing", v.Pacing < 0, v.Pacing},
		{"FollowRedirects", v.FollowRedirects < 0, v.FollowRedirects}} {
		if f.neg {
			errs = append(errs, fmt.Errorf("VUs.%s %v: must not be negative", f.name, f.val))
		}
	}
	if len(errs) > 0 || p == nil {
		return errors.Join(errs...)
	}
	n := v.Normalized()
	for i := range p.Runs {
		if n.Iterations(i, len(p.Runs)) == 0 {
			errs = append(errs, fmt.Errorf("VUs: %d VUs for %d runs: run %q gets no virtual user", n.Max, len(p.Runs), p.Runs[i].Name))
		}
	}
	if seg := p.Segment; seg.Check() == nil && seg.share(n.Max) == 0 {
		// a shard with no VU would send nothing: surely not what was meant
		errs = append(errs, fmt.Errorf("VUs: Max %d for %d segments: segment %v gets no virtual user (VU k is segment k mod %d's)", n.Max, seg.Count, seg, seg.Count))
	}
	return errors.Join(errs...)
}

// Work implements Executor: the VUs dealt to the runs in turn (VU k
// walks run k mod runs), each for Rounds iterations; Max in flight.
//
// In segment s of N (Plan.Segment) the VUs are those k with k mod N = s
// (HTTP::LoadGen's rule for its worker processes), each with its number
// in the whole plan: its hooks' vu argument, its generator (from the
// plan's Seed and k), its start on the ramp and the iterations it walks
// are the ones it has in the whole plan. Until stopped (RoundsForever),
// the segment's iterations of a run are numbered s, s+N, s+2N, … as
// they begin.
func (v VUs) Work(p *Plan) Work {
	n := v.forPlan(p).Normalized()
	w := Work{Iterations: make([]int, len(p.Runs)), Concurrency: max(p.Segment.share(n.Max), 1)}
	its := n.segIterations(p.Segment)
	maps := make([]iterMap, len(p.Runs))
	for i := range p.Runs {
		w.Iterations[i] = its(i, len(p.Runs))
		maps[i] = n.runMap(p.Segment, i, len(p.Runs))
	}
	w.Global = globalFunc(maps)
	if n.Rounds < 0 {
		w.UntilStopped = make([]bool, len(p.Runs))
		for i := range w.UntilStopped {
			w.UntilStopped[i] = true
		}
	}
	return w
}

// Execute implements Executor. The plan's runs must have the repeat
// counts Iterations gives (package loadtest sets them) and its
// concurrency must be Max.
func (v VUs) Execute(ctx context.Context, p *Plan, rec Recorder) error {
	v = v.forPlan(p).Normalized()
	if v.Rounds < 0 && p.TimeLimit <= 0 {
		if _, ok := ctx.Deadline(); !ok {
			return fmt.Errorf("VUs.Rounds %d walks the runs until stopped: the plan needs a time limit or the context a deadline", v.Rounds)
		}
	}
	seg := p.Segment
	if err := seg.Check(); err != nil {
		return fmt.Errorf("Segment: %w", err)
	}
	mine := seg.share(v.Max) // the segment's VUs: k = seg.global(0 … mine−1)
	if mine == 0 {
		return fmt.Errorf("VUs: Max %d for %d segments: segment %v gets no virtual user", v.Max, seg.Count, seg)
	}
	runs, err := compileVUs(ctx, p, "VUs", mine, v.segIterations(seg), v.FollowRedirects)
	if err != nil {
		return err
	}
	for i := range runs {
		runs[i].iters = v.runMap(seg, i, len(runs))
	}
	x := newExecution(ctx, p, runs, newScheduler(p.Priority, nil), rec)
	defer x.end()
	// the segment's shards: those of its VUs (in the whole plan, VU k
	// is in shard k mod Shards)
	sizes := make([]int, v.Shards)
	for l, s := range x.slots {
		s.shard = v.ShardOf(seg.global(l))
		sizes[s.shard]++
		s.kept.on = true
		if v.Max > manyVUs {
			s.vuBuffers()
		}
	}
	h := v.Hooks
	if h.Before != nil {
		if err := callHook(h.Before); err != nil {
			x.hooks.addAt("run", "Before", err)
			return x.endHooks()
		}
	}
	stopWatch := x.watch(x.interruptSlots)
	failed := make([]bool, v.Shards)
	for i, n := range sizes {
		// a shard without a VU of this segment does not run here (in
		// the whole plan, every shard runs its hooks)
		failed[i] = !seg.Whole() && n == 0
	}
	if h.ShardInit != nil {
		var wg sync.WaitGroup
		for i := range failed {
			if failed[i] {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := callHook(func() error { return h.ShardInit(i) }); err != nil {
					x.hooks.shardFailed(i, "ShardInit", err)
					failed[i] = true
				}
			}()
		}
		wg.Wait() // every shard is ready before the first VU starts
	}
	shards := make([]sync.WaitGroup, v.Shards)
	var all sync.WaitGroup
	for i := range failed {
		if failed[i] {
			continue
		}
		shards[i].Add(sizes[i])
		all.Add(1)
		go func() {
			defer all.Done()
			shards[i].Wait()
			if h.ShardExit != nil {
				if err := callHook(func() error { return h.ShardExit(i) }); err != nil {
					x.hooks.shardFailed(i, "ShardExit", err)
				}
			}
		}()
	}
	// VUs start in number order on the ramp, each on a goroutine made
	// when it starts; the dispatcher waits precisely (see waitArrival)
	// after the hooks' readiness, the start (T0, when the plan has
	// one); a cancel meanwhile ends the dispatch below, VU by VU
	start, _ := x.begin()
	ws := newWaiterSet(x.stopCh)
	w := ws.get(x.stopCh)
	if l := p.Live; l != nil {
		l.Began.Store(start.UnixNano())
	}
	for l := range mine {
		k := seg.global(l)
		i := v.ShardOf(k)
		if failed[i] {
			continue
		}
		if !x.waitArrival(w, start.Add(v.StartAt(k))) {
			shards[i].Done() // stopped: this VU never starts
			continue
		}
		go func() {
			defer shards[i].Done()
			x.runVU(v, k)
		}()
	}
	ws.close()
	all.Wait()
	stopWatch()
	if v.Rounds < 0 {
		for i := range x.runs {
			rec.IterationsBegun(i, int(min(x.runs[i].begun.Load(), int64(x.runs[i].spec.Repeat))))
		}
		for i := range x.runs {
			if n := x.runs[i].spec.Repeat; x.runs[i].begun.Load() > int64(n) && len(x.runs[i].steps) > 0 {
				// a VU asked for one more: the run did not go on until
				// stopped, as it was told to
				rec.Warn(i, 0, fmt.Sprintf("the run reached its bound of %d iterations (engine.ForeverIterations) and its VUs ended before the time limit", n))
			}
		}
	}
	if h.After != nil {
		if err := callHook(h.After); err != nil {
			x.hooks.addAt("run", "After", err)
		}
	}
	return x.endHooks()
}

// endHooks hands the hook errors to the recorder and returns what
// stopped the execution early, else the hook errors.
func (x *execution) endHooks() error {
	herr := x.hooks.err()
	if herr != nil {
		x.rec.Hooks(herr.(*HookError))
	}
	if err := x.stopCause(); err != nil {
		return err
	}
	return herr
}

// compileVUs checks that p fits an executor of vus virtual users with
// one connection each, whose run i of n repeats iterations(i, n)
// times, and compiles it; follow is the executor's FollowRedirects.
func compileVUs(ctx context.Context, p *Plan, name string, vus int, iterations func(i, n int) int, follow int) ([]runPlan, error) {
	if len(p.Runs) == 0 {
		return nil, fmt.Errorf("%s: the plan has no runs", name)
	}
	if p.Concurrency != vus {
		return nil, fmt.Errorf("%s: the plan's concurrency is %d, want %d (one connection per VU)", name, p.Concurrency, vus)
	}
	for i, r := range p.Runs {
		if want := iterations(i, len(p.Runs)); r.Repeat != want {
			return nil, fmt.Errorf("%s: run %q repeats %d times, want %d", name, r.Name, r.Repeat, want)
		}
	}
	runs, err := compile(p)
	if err != nil {
		return nil, err
	}
	if follow > 0 {
		followAll(runs, follow)
	}
	for i := range runs {
		runs[i].begun = new(atomic.Int64)
	}
	if ctx.Err() != nil {
		return nil, context.Cause(ctx)
	}
	return runs, nil
}

// runVU walks VU k's run for its rounds.
func (x *execution) runVU(v VUs, k int) {
	s := x.slots[x.plan.Segment.local(k)]
	defer s.closeKept()
	if l := x.plan.Live; l != nil {
		l.ActiveVUs.Add(1)
		defer l.ActiveVUs.Add(-1)
	}
	rng := rand.New(rand.NewPCG(x.plan.Seed, uint64(k)))
	h := v.Hooks
	var data any
	if h.Init != nil {
		if err := callHook(func() (err error) { data, err = h.Init(k, rng); return err }); err != nil {
			x.hooks.add(k, -1, "Init", err)
			return
		}
	}
	if h.Exit != nil {
		defer func() {
			if err := callHook(func() error { return h.Exit(k, data) }); err != nil {
				x.hooks.add(k, -1, "Exit", err)
			}
		}()
	}
	runs := len(x.runs)
	run := k % runs
	// the VU's first iteration, as the segment numbers them (its
	// blocks of Rounds before this VU's)
	base := x.runs[run].iters.blocks(k/runs) * v.Rounds
	vuStart := time.Now() // after Init: its time is no request's
	due := vuStart
	for round := 0; v.Rounds < 0 || round < v.Rounds; round++ {
		iter := base + round
		if v.Rounds < 0 {
			// until stopped: iterations numbered as they begin
			if x.stopped.Load() != nil {
				return
			}
			n := x.runs[run].begun.Add(1) - 1
			if n >= int64(x.runs[run].spec.Repeat) {
				return
			}
			iter = int(n)
		}
		if v.Pacing > 0 {
			// the round is due on its schedule, however late the last one
			// ended: the delay counts in the corrected latencies
			due = vuStart.Add(time.Duration(round) * v.Pacing)
		}
		w := walker{x: x, s: s, rng: rng, hooks: h, trace: v.Trace, vu: k, round: round, data: data, randomStart: v.RandomStart}
		if v.Iterate != nil {
			if err := callHook(func() error { w.next = v.Iterate(k, round, rng); return nil }); err != nil || w.next == nil {
				if err == nil {
					err = errors.New("returned a nil iterator")
				}
				x.hooks.add(k, -1, "Iterate", err)
				return
			}
		}
		var ok bool
		if due, ok = w.walk(run, iter, due); !ok {
			return
		}
	}
}

// walker walks one iteration of a run on a slot: one round of one
// virtual user.
type walker struct {
	x           *execution
	s           *slot
	rng         *rand.Rand
	hooks       VUHooks
	trace       func(VUEvent)
	vu, round   int
	data        any
	randomStart bool
	next        StepIterator // nil: the run's order
}

// walk sends iteration iter of run, its first request due at due (plus
// its pre-delay). Each request's intended start is the previous one's
// end plus the waits drawn between them; walk returns when the next
// request is due, after the last one's post-delay and think time, and
// false when the execution stopped.
func (w *walker) walk(run, iter int, due time.Time) (time.Time, bool) {
	defer func() { w.s.intended = time.Time{} }()
	if w.next != nil {
		return w.iterate(run, iter, due)
	}
	n := len(w.x.runs[run].steps)
	offset := 0
	if w.randomStart {
		offset = w.rng.IntN(n)
	}
	for i := 0; i < n; i++ {
		var ok bool
		if due, ok = w.request(run, iter, (offset+i)%n, due, nil); !ok {
			return due, false
		}
	}
	return due, true
}

// iterate walks a round as the VU's iterator says: each request's
// result, held back from the recorder, goes to the iterator, which
// names the next step (and may change its request). Each step has one
// result of its own per round: the last of the first sends of it in a
// row. A step sent again at once is a retry: the earlier attempt is
// recorded as retried (Result.Retried), apart from the step's counts;
// a step sent again later in the round, once it has its own result, is
// an extra request of the step (Result.Again), counted as one.
func (w *walker) iterate(run, iter int, due time.Time) (time.Time, bool) {
	x, s := w.x, w.s
	steps := len(x.runs[run].steps)
	owned := make([]bool, steps) // the step's own result is recorded
	_, deadline := x.ioCtx.Deadline()
	bounded := x.plan.TimeLimit > 0 || deadline
	var prev *Result
	last, extras := -1, 0
	record := func(retried bool) {
		prev.Retried = retried
		prev.Again = !retried && owned[prev.Step]
		owned[prev.Step] = owned[prev.Step] || !retried
		x.rec.Record(s.id, prev)
	}
	for {
		var nx NextStep
		more := false
		err := callHook(func() error { nx, more = w.next(prev); return nil })
		switch {
		case err != nil || !more:
		case nx.Step < 0 || nx.Step >= steps:
			err = fmt.Errorf("step %d: the run has steps 0 to %d", nx.Step, steps-1)
		case nx.Step == last || owned[nx.Step]:
			if extras++; extras > MaxRetries && !bounded {
				err = fmt.Errorf("more than %d requests sent again in one round, and neither a time limit nor a deadline would end it", MaxRetries)
			}
		}
		if prev != nil {
			record(err == nil && more && nx.Step == last)
		}
		if err != nil {
			x.hooks.add(w.vu, last, "Iterate", err)
			return due, true
		}
		if !more {
			return due, true
		}
		last = nx.Step
		s.hold, s.held = true, false
		var ok bool
		due, ok = w.request(run, iter, nx.Step, due, &nx)
		s.hold = false
		prev = nil
		if s.held {
			prev = &s.res
		}
		if !ok {
			if prev != nil {
				record(false)
			}
			return due, false
		}
	}
}

// request sends step of iteration iter of run, due at due (plus its
// pre-delay), with extra header fields, then waits its post-delay and
// think time. It returns when the next request is due, and false when
// the execution stopped.
func (w *walker) request(run, iter, step int, due time.Time, nx *NextStep) (time.Time, bool) {
	x, s, rng := w.x, w.s, w.rng
	if x.ending() {
		return due, false
	}
	spec := x.runs[run].steps[step].spec
	pre := jittered(rng, spec.PreDelay, spec.PreJitter)
	due = due.Add(pre)
	if !x.sleepWith(s, due) {
		return due, false
	}
	s.intended = due
	wk := work{run: int32(run), step: int32(step), iter: int32(iter), n: 1}
	if w.hooks.RequestStart == nil && w.hooks.RequestDone == nil && nx == nil {
		x.do(s, wk)
	} else {
		e := &RequestEvent{VU: w.vu, Round: w.round, Step: step, Data: w.data}
		x.doHooked(s, wk, w.hooks, e, nx)
		if e.EndVU {
			s.p.Release()
			if w.trace != nil {
				w.trace(VUEvent{VU: w.vu, Round: w.round, Step: step, Pre: pre})
			}
			return due, false // EndVU: the VU ends here
		}
	}
	s.p.Release() // a waiting VU holds no read buffer
	post := jittered(rng, spec.PostDelay, spec.PostJitter)
	if spec.ThinkMax > spec.ThinkMin {
		post += spec.ThinkMin + time.Duration(rng.Int64N(int64(spec.ThinkMax-spec.ThinkMin)+1))
	} else {
		post += spec.ThinkMin
	}
	if w.trace != nil {
		w.trace(VUEvent{VU: w.vu, Round: w.round, Step: step, Pre: pre, Post: post})
	}
	due = time.Now().Add(post)
	return due, x.sleepWith(s, due)
}

// jittered draws a wait: delay − jitter + a uniform draw from
// [0, 2·jitter), never negative.
func jittered(rng *rand.Rand, delay, jitter time.Duration) time.Duration {
	if delay <= 0 && jitter <= 0 {
		return 0
	}
	d := delay - jitter
	if jitter > 0 {
		d += time.Duration(rng.Float64() * float64(2*jitter))
	}
	return max(d, 0)
}

// sleepWith waits until t, false when the execution stopped meanwhile,
// with the slot's timer, made once and reset for every wait (nil: a
// timer of its own).
func (x *execution) sleepWith(s *slot, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return !x.ending()
	}
	var timer *time.Timer
	switch {
	case s == nil:
		timer = time.NewTimer(d)
		defer timer.Stop()
	case s.timer == nil:
		s.timer = time.NewTimer(d)
		timer = s.timer
	default:
		timer = s.timer
		timer.Reset(d) // since Go 1.23 no stale value can be left in C
	}
	select {
	case <-timer.C:
		return !x.ending()
	case <-x.stopCh:
		timer.Stop()
		return false
	}
}

// doHooked is do with the request hooks around the request.
func (x *execution) doHooked(s *slot, w work, h VUHooks, e *RequestEvent, nx *NextStep) {
	if !x.prepare(s, w) {
		return
	}
	if x.ending() {
		return
	}
	var extra http.Header
	if nx != nil {
		extra = nx.Header
		var err error
		if nx.changed() {
			err = x.rebuild(s, nx.Method, nx.URL, nx.Body, nx.SetBody, extra)
		} else {
			err = addHeaders(s, extra, len(s.cur.b.body))
		}
		if err != nil {
			x.hooks.add(e.VU, e.Step, "Iterate", err)
			s.res.NotSent, s.res.Start = true, time.Now()
			x.finish(s, fmt.Errorf("build request: iterator's request: %w", err))
			return
		}
	}
	if h.RequestStart != nil {
		e.Header = http.Header{}
		began := time.Now()
		err := callHook(func() error { return h.RequestStart(e) })
		if !s.res.Intended.IsZero() {
			s.res.Intended = s.res.Intended.Add(time.Since(began)) // the hook's time is no request's
		}
		if err == nil && e.changed() {
			err = x.rebuild(s, e.Method, e.URL, e.body, e.bodySet, extra)
		}
		if err == nil {
			err = addHeaders(s, e.Header, len(s.cur.b.body))
		}
		if err != nil {
			x.hooks.add(e.VU, e.Step, "RequestStart", err)
			s.res.NotSent, s.res.Start = true, time.Now()
			x.finish(s, fmt.Errorf("build request: RequestStart hook: %w", err))
			return
		}
		if x.ending() {
			return // stopped while the hook ran: the request never starts
		}
	}
	x.finish(s, x.exchange(s))
	if h.RequestDone != nil {
		if err := callHook(func() error { return h.RequestDone(e, &s.res) }); err != nil {
			x.hooks.add(e.VU, e.Step, "RequestDone", err)
		}
	}
}
