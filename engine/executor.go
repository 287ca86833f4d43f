package engine

import (
	"context"
	"fmt"
	"time"
)

// Executor decides who sends what when: Slots (connection slots that
// drain the runs in a fixed order), VUs (virtual users, each walking its
// run), Arrivals (iterations that begin on a schedule) or one of your
// own. Package loadtest drives every executor through these methods
// alone: Validate before anything is sent, Work to size the plan and
// its report, Execute to send.
type Executor interface {
	// Validate checks the executor's settings against the plan (its
	// runs resolved, its Repeat counts as the plan gave them) before a
	// request is sent. Its error names each bad field and value.
	//
	// Validate sees p.Segment: when the plan runs as one of several
	// segments (shards) and the executor cannot send that segment
	// alone, Validate must refuse it (RefuseSegment), so that no shard
	// sends the whole plan's work.
	Validate(p *Plan) error
	// Work returns the shape of the work the executor does with p:
	// the iterations of each run, the most requests in flight, and how
	// time bounds it. It is asked after Validate returned nil. Package
	// loadtest sets each run's Repeat to Work's Iterations and the
	// plan's Concurrency to Work's before Execute, and sizes the report
	// (configured requests, planned arrivals) from it.
	//
	// For a segment it returns the segment's share: the iterations of
	// each run the segment sends, its VUs or slots.
	Work(p *Plan) Work
	// Execute runs the work, recording every request, until it is
	// done, ctx is cancelled or the plan's time limit passes. It returns
	// what stopped it early (context.Canceled, ErrTimeLimit) or nil.
	//
	// For a segment it sends the segment's iterations alone, each
	// Result carrying the iteration's number in the whole plan
	// (Result.Iteration) and its place among the segment's iterations
	// of its run (Result.Index, from 0 to Work.Iterations−1); the
	// segments of a plan together send what the whole plan sends.
	Execute(ctx context.Context, p *Plan, rec Recorder) error
}

// Work is the shape of an executor's work on a plan.
type Work struct {
	// Iterations[i] is how many iterations run i gets: each sends the
	// run's steps once. A run that goes on until the time limit
	// (UntilStopped) has its bound here.
	Iterations []int
	// UntilStopped[i] says run i goes on until the time limit or a
	// cancel (VUs with RoundsForever, a plan run For a duration), its
	// Iterations only a bound; nil when no run does.
	UntilStopped []bool
	// Concurrency is the most requests in flight at once: the slots,
	// the virtual users.
	Concurrency int
	// Duration is how long the executor itself runs when its schedule
	// bounds it (an arrival rate's stages); 0 when its iterations or the
	// plan's time limit bound it.
	Duration time.Duration
	// Arrivals is the number of iterations planned to begin on a
	// schedule that does not wait for responses (the open model:
	// Arrivals), 0 in a closed model. The recorder is then told of each
	// arrival (Recorder.Arrival).
	Arrivals int
	// Global, when set, maps the place of an iteration among the ones
	// of run the execution sends (Result.Index) to its number in the
	// whole plan (Result.Iteration): set by an executor that sends a
	// segment of the plan (Plan.Segment), and required then (CheckWork
	// refuses a segment's Work without it, so that an executor unaware
	// of segments never sends the whole plan in every shard); nil when
	// the two are one.
	Global func(run, index int) int
}

// Requests is the number of requests the work sends when every
// iteration runs: each run's steps times its iterations.
func (w Work) Requests(p *Plan) int {
	n := 0
	for i, it := range w.Iterations {
		if i < len(p.Runs) {
			n += it * len(p.Runs[i].Steps)
		}
	}
	return n
}

// CheckWork says what is wrong with w for p (nil when nothing): what
// an executor's Work must hold for package loadtest to run it.
func CheckWork(w Work, p *Plan) error {
	if len(w.Iterations) != len(p.Runs) {
		return fmt.Errorf("Work.Iterations holds %d counts for %d runs", len(w.Iterations), len(p.Runs))
	}
	for i, n := range w.Iterations {
		if n < 0 {
			return fmt.Errorf("Work.Iterations[%d] = %d: must not be negative", i, n)
		}
	}
	if w.UntilStopped != nil && len(w.UntilStopped) != len(p.Runs) {
		return fmt.Errorf("Work.UntilStopped holds %d flags for %d runs", len(w.UntilStopped), len(p.Runs))
	}
	if w.Concurrency < 1 {
		return fmt.Errorf("Work.Concurrency = %d: must be at least 1", w.Concurrency)
	}
	if w.Duration < 0 || w.Arrivals < 0 {
		return fmt.Errorf("Work.Duration %v, Work.Arrivals %d: must not be negative", w.Duration, w.Arrivals)
	}
	if !p.Segment.Whole() && w.Global == nil {
		// an executor written before segments would send the whole
		// plan in every shard
		return fmt.Errorf("Work.Global is nil for segment %v: an executor that sends a segment of the plan says which of its iterations (Work.Global); one that cannot refuses the segment in Validate (RefuseSegment)", p.Segment)
	}
	return nil
}

// Recorder receives what an execution measures: one Result per request,
// and the few events that are not a request's. Record is called from
// many goroutines; slot identifies the caller (0 ≤ slot < concurrency)
// so a recorder can keep per-slot state without locks. The Result and
// the byte slices it holds are valid only during the call. The other
// methods may be called from any goroutine. Embed RecorderBase to
// implement Record alone.
type Recorder interface {
	Record(slot int, r *Result)
	// Warn takes a warning found after a request was recorded: bytes
	// that arrived on its kept-alive connection while it sat idle, a
	// run that reached its bound of iterations. run and step name the
	// request it concerns.
	Warn(run, step int, warning string)
	// Hooks takes the errors virtual users' hooks returned or panicked
	// with, once, at the end of the execution.
	Hooks(e *HookError)
	// Arrival takes an open model's arrival of run: begun lag after it
	// was due, or dropped (begun too late, or no VU free).
	Arrival(slot, run int, lag time.Duration, dropped bool)
	// ArrivalsDropped takes n arrivals of run dropped at once (the time
	// limit, a cancel, or no VU to take them).
	ArrivalsDropped(run, n int)
	// IterationsBegun says, at the end of an execution, how many
	// iterations of a run that went on until stopped began (numbered 0
	// to n−1): the run's configured count.
	IterationsBegun(run, n int)
	// ScheduleBegan takes the moment the execution began its schedule,
	// after any wait for Plan.Start (with a Start, the schedule counts
	// from it, and the moment given minus Start is how late the
	// execution began: its start skew). The built-in executors call it
	// once, before the first request.
	ScheduleBegan(at time.Time)
}

// RecorderBase implements every Recorder method but Record by
// discarding what it is given: embed it in a recorder that needs
// requests alone.
type RecorderBase struct{}

// Warn discards the warning.
func (RecorderBase) Warn(run, step int, warning string) {}

// Hooks discards the hook errors.
func (RecorderBase) Hooks(e *HookError) {}

// Arrival discards the arrival.
func (RecorderBase) Arrival(slot, run int, lag time.Duration, dropped bool) {}

// ArrivalsDropped discards the count.
func (RecorderBase) ArrivalsDropped(run, n int) {}

// IterationsBegun discards the count.
func (RecorderBase) IterationsBegun(run, n int) {}

// ScheduleBegan discards the moment.
func (RecorderBase) ScheduleBegan(at time.Time) {}

// Warner takes warnings found after a request was recorded.
//
// Deprecated: every Recorder has Warn; this remains for one release.
type Warner interface {
	Warn(run, step int, warning string)
}

// HookRecorder takes the hook errors.
//
// Deprecated: every Recorder has Hooks; this remains for one release.
type HookRecorder interface {
	Hooks(e *HookError)
}

// ArrivalRecorder takes the open model's arrivals.
//
// Deprecated: every Recorder has Arrival and ArrivalsDropped; this
// remains for one release.
type ArrivalRecorder interface {
	Arrival(slot, run int, lag time.Duration, dropped bool)
	ArrivalsDropped(run, n int)
}

// IterationRecorder takes the iterations begun of runs that went on
// until stopped.
//
// Deprecated: every Recorder has IterationsBegun; this remains for one
// release.
type IterationRecorder interface {
	IterationsBegun(run, n int)
}

// globalFunc returns Work.Global for runs mapped by maps (nil when
// every map is the identity).
func globalFunc(maps []iterMap) func(run, index int) int {
	for _, m := range maps {
		if !m.whole() {
			return func(run, index int) int { return maps[run].global(index) }
		}
	}
	return nil
}

// ExecuteFunc makes an Executor of an execute function alone (an
// executor written before Validate and Work): it accepts every plan
// that runs whole, and its work is each run's Repeat iterations at the
// plan's Concurrency. It cannot split its work: a plan run as one of
// several segments (Plan.Segment) is refused.
type ExecuteFunc func(ctx context.Context, p *Plan, rec Recorder) error

// Validate implements Executor: it accepts every plan that runs whole.
func (f ExecuteFunc) Validate(p *Plan) error { return RefuseSegment(p) }

// RefuseSegment is what Validate of an executor that cannot split its
// work returns: nil when p runs whole, else an error naming the
// segment.
func RefuseSegment(p *Plan) error {
	if p != nil && !p.Segment.Whole() {
		return fmt.Errorf("Segment %v: this executor cannot split its work into segments (run the plan whole)", p.Segment)
	}
	return nil
}

// Work implements Executor: each run's Repeat, the plan's Concurrency.
func (f ExecuteFunc) Work(p *Plan) Work { return repeatWork(p, p.Concurrency) }

// Execute implements Executor.
func (f ExecuteFunc) Execute(ctx context.Context, p *Plan, rec Recorder) error { return f(ctx, p, rec) }

// repeatWork is each run's Repeat iterations at concurrency c.
func repeatWork(p *Plan, c int) Work {
	w := Work{Iterations: make([]int, len(p.Runs)), Concurrency: max(c, 1)}
	for i, r := range p.Runs {
		w.Iterations[i] = r.Repeat
	}
	return w
}
