package engine

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// VUs is HTTP::LoadGen's executor: virtual users, each walking its run's
// steps with its own variables, cookie jar and kept-alive connection,
// for a number of rounds, started on a linear ramp. A VU that finishes
// is not replaced.
//
// VUs are numbered from 0; VU k belongs to shard k mod Shards (a shard is
// HTTP::LoadGen's worker process; here a group of goroutines, numbered as
// a multi-process run will number them) and walks run k mod (number of
// runs). VUs 0 … Start−1 start at once; VU Start+j starts at
// (j+1)·RampUp/(Max−Start), so the last one starts at RampUp.
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
	// Rounds is how often each VU walks its run (default 1).
	Rounds int
	// RandomStart makes each round begin at a step drawn at random (from
	// the VU's seeded generator) and go round the run's steps once, as
	// HTTP::LoadGen's random_start iterator: for runs whose steps do not
	// read what an earlier step extracted or answered.
	RandomStart bool
	// Follow makes every step that sets no FollowRedirects of its own
	// follow up to DefaultMaxRedirects redirects when the plan follows
	// none: HTTP::LoadGen's follow iterator. A post-delay and think time
	// come after the chain's last response.
	Follow bool
	// Hooks are the per-VU and per-request handlers.
	Hooks VUHooks
	// Trace, when set, is called after each request of a VU with the
	// waits drawn around it: a record of the schedule, for tests and
	// debugging. It runs on the VU's goroutine.
	Trace func(VUEvent)
}

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
	if v.Rounds < 1 {
		v.Rounds = 1
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
	return vus * v.Rounds
}

// Execute implements Executor. The plan's runs must have the repeat
// counts Iterations gives (package loadtest sets them) and its
// concurrency must be Max.
func (v VUs) Execute(ctx context.Context, p *Plan, rec Recorder) error {
	v = v.Normalized()
	if len(p.Runs) == 0 {
		return fmt.Errorf("VUs: the plan has no runs")
	}
	if p.Concurrency != v.Max {
		return fmt.Errorf("VUs: the plan's concurrency is %d, want %d (one connection per VU)", p.Concurrency, v.Max)
	}
	for i, r := range p.Runs {
		if want := v.Iterations(i, len(p.Runs)); r.Repeat != want {
			return fmt.Errorf("VUs: run %q repeats %d times, want %d (its VUs × %d rounds)", r.Name, r.Repeat, want, v.Rounds)
		}
	}
	runs, err := compile(p)
	if err != nil {
		return err
	}
	if v.Follow {
		for i := range runs {
			for k := range runs[i].steps {
				if sp := &runs[i].steps[k]; sp.spec.FollowRedirects == nil && sp.follow == 0 {
					sp.follow, sp.keepHeader = DefaultMaxRedirects, true
				}
			}
		}
	}
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	x := &execution{plan: p, runs: runs, sched: newScheduler(p.Priority, nil), dial: newDialer(p), rec: rec, ctx: ctx,
		stopCh: make(chan struct{})}
	x.ioCtx, x.ioCancel = context.WithCancelCause(ctx)
	defer x.ioCancel(nil)
	x.slots = newSlots(p)
	stopWatch := x.watch(x.interruptSlots)
	start := time.Now()
	var wg sync.WaitGroup
	for k := 0; k < v.Max; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x.runVU(v, k, start)
		}()
	}
	wg.Wait()
	stopWatch()
	if err := x.stopCause(); err != nil {
		return err
	}
	return x.hooks.err()
}

// runVU walks VU k's run for its rounds.
func (x *execution) runVU(v VUs, k int, start time.Time) {
	s := x.slots[k]
	defer s.closeConn()
	if !x.sleepUntil(start.Add(v.StartAt(k))) {
		return
	}
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
	base := (k / runs) * v.Rounds
	rp := &x.runs[run]
	n := len(rp.steps)
	for round := 0; round < v.Rounds; round++ {
		offset := 0
		if v.RandomStart {
			offset = rng.IntN(n)
		}
		for i := 0; i < n; i++ {
			step := (offset + i) % n
			if x.stopped.Load() != nil {
				return
			}
			spec := rp.steps[step].spec
			pre := jittered(rng, spec.PreDelay, spec.PreJitter)
			if pre > 0 && !x.sleepUntil(time.Now().Add(pre)) {
				return
			}
			w := work{run: int32(run), step: int32(step), iter: int32(base + round), n: 1}
			if h.RequestStart == nil && h.RequestDone == nil {
				x.do(s, w)
			} else {
				x.doHooked(s, w, h, &RequestEvent{VU: k, Round: round, Step: step, Data: data})
			}
			post := jittered(rng, spec.PostDelay, spec.PostJitter)
			if spec.ThinkMax > spec.ThinkMin {
				post += spec.ThinkMin + time.Duration(rng.Int64N(int64(spec.ThinkMax-spec.ThinkMin)+1))
			} else {
				post += spec.ThinkMin
			}
			if v.Trace != nil {
				v.Trace(VUEvent{VU: k, Round: round, Step: step, Pre: pre, Post: post})
			}
			if post > 0 && !x.sleepUntil(time.Now().Add(post)) {
				return
			}
		}
	}
}

// jittered is HTTP::LoadGen's delay: delay − jitter + rnd(2·jitter),
// never negative.
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

// sleepUntil waits until t; false when the execution stopped meanwhile.
func (x *execution) sleepUntil(t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return x.stopped.Load() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return x.stopped.Load() == nil
	case <-x.stopCh:
		return false
	}
}

// doHooked is do with the request hooks around the request.
func (x *execution) doHooked(s *slot, w work, h VUHooks, e *RequestEvent) {
	if !x.prepare(s, w) {
		return
	}
	if x.stopped.Load() != nil {
		return
	}
	if h.RequestStart != nil {
		e.Header = http.Header{}
		err := callHook(func() error { return h.RequestStart(e) })
		if err == nil {
			err = addHeaders(s, e.Header, len(s.cur.b.body))
		}
		if err != nil {
			x.hooks.add(e.VU, e.Step, "RequestStart", err)
			s.res.NotSent, s.res.Start = true, time.Now()
			x.finish(s, fmt.Errorf("build request: RequestStart hook: %w", err))
			return
		}
	}
	x.finish(s, x.exchange(s))
	if h.RequestDone != nil {
		if err := callHook(func() error { return h.RequestDone(e, &s.res) }); err != nil {
			x.hooks.add(e.VU, e.Step, "RequestDone", err)
		}
	}
}
