package engine

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/benchgate/benchgate/internal/h1"
	"github.com/benchgate/benchgate/scenario"
)

// Slots is the connection-slot executor: Plan.Concurrency connection
// slots drain the runs' requests. A slot that finishes a request makes
// the next request of that iteration (or, depth-first, of that run)
// ready, then takes the next ready request by the plan's priority. At
// concurrency 1 the server sees the requests in exactly that order.
type Slots struct {
	// Goroutines runs every slot on its own goroutine with a net.Conn,
	// even where the event loop could serve the plan.
	Goroutines bool
}

var _ Executor = Slots{}

// stateTable holds the iterations' states in chunks allocated when an
// iteration first needs one, so memory follows the iterations begun, not
// the repeat count. One iteration's state is used by one slot at a time
// (its steps run one after the other, ordered by the scheduler's lock).
type stateTable []atomic.Pointer[[1 << 12]*iterState]

func newStateTable(n int) stateTable { return make(stateTable, (n+1<<12-1)>>12) }

// peek returns iteration i's state without allocating, nil when none.
func (t stateTable) peek(i int) *iterState {
	if c := t[i>>12].Load(); c != nil {
		return c[i&(1<<12-1)]
	}
	return nil
}

func (t stateTable) at(i int) **iterState {
	p := &t[i>>12]
	c := p.Load()
	if c == nil {
		c = new([1 << 12]*iterState)
		if !p.CompareAndSwap(nil, c) {
			c = p.Load()
		}
	}
	return &c[i&(1<<12-1)]
}

// runPlan and stepPlan hold what is computed once per run and step.
type runPlan struct {
	spec   *scenario.RunSpec
	steps  []stepPlan
	states stateTable // per iteration, created on first need
	// iters maps the iterations the execution sends (its segment's) to
	// their numbers in the whole plan
	iters iterMap
	// begun counts the iterations VUs with RoundsForever began (set
	// by compileVUs)
	begun *atomic.Int64
}

type stepPlan struct {
	spec       *scenario.StepSpec
	static     bool
	t          *target
	prefix     []byte // request head without cookies, for static steps
	method     string
	head       bool
	keepAlive  bool // keep the connection alive after (and say so)
	reuse      bool // may go on a connection kept alive before
	keepHeader bool
	keepBody   bool
	needResp   bool // extractors or the next step read the response
	follow     int  // redirects to follow (0: none)
	expectVars bool // an expectation reads variables
	prevNext   bool // the next step reads this response

	// hops, when set, is the plan for the requests of a redirect chain
	// after the first (the follow iterator's keep-alive)
	hops *stepPlan
}

type execution struct {
	plan  *Plan
	runs  []runPlan
	sched *scheduler
	dial  *dialer
	rec   Recorder
	ctx   context.Context
	slots []*slot

	// stopped is why no new request starts (the time limit, or ctx's
	// cause); halted is set, after cause, when requests in flight are
	// being cut: they are recorded as interrupted.
	stopped atomic.Pointer[error]
	halted  atomic.Bool
	cause   error
	// ioCtx ends when requests in flight are cut: it bounds resolving,
	// connecting and TLS handshakes, which have no connection to
	// interrupt yet.
	ioCtx    context.Context
	ioCancel context.CancelCauseFunc

	stopCh chan struct{} // closed when stopped is first set
	hooks  hookLog
	h2     *h2pool // HTTP/2 connections, when the plan speaks it
}

// ending reports whether no new request may start: the execution
// stopped (the time limit, or a cancel the watcher saw), or its context
// ended and the watcher has not stopped it yet, which this then does. Every
// place that takes a new request asks it: a cancel is seen at once, not
// after the watcher's goroutine runs.
func (x *execution) ending() bool {
	if x.stopped.Load() != nil {
		return true
	}
	if x.ctx.Err() != nil {
		x.stop(context.Cause(x.ctx))
		return true
	}
	return false
}

// cutting reports whether requests in flight are being cut, so that one
// that fails now was interrupted: the watcher halted the execution, or its
// context ended (which ends the connects and handshakes in flight at once,
// through ioCtx, before the watcher runs). cutCause is why.
func (x *execution) cutting() bool { return x.halted.Load() || x.ctx.Err() != nil }

func (x *execution) cutCause() error {
	if x.halted.Load() {
		return x.cause
	}
	return context.Cause(x.ctx)
}

// stopCause returns why the execution stopped early, or nil.
func (x *execution) stopCause() error {
	if p := x.stopped.Load(); p != nil {
		return *p
	}
	return nil
}

func compile(p *Plan) ([]runPlan, error) {
	runs := make([]runPlan, len(p.Runs))
	for i := range p.Runs {
		rs := &p.Runs[i]
		rp := &runs[i]
		rp.spec = rs
		if rs.Stateful || rs.AutoCookies {
			rp.states = newStateTable(rs.Repeat)
		}
		rp.steps = make([]stepPlan, len(rs.Steps))
		for k := range rs.Steps {
			ss := &rs.Steps[k]
			sp := &rp.steps[k]
			sp.spec = ss
			sp.keepAlive = p.KeepAlive
			if ss.KeepAlive != nil {
				sp.keepAlive = *ss.KeepAlive
			}
			sp.reuse = sp.keepAlive
			if m := ss.KeepAliveMode; m != nil {
				sp.reuse, sp.keepAlive = m.Reuses(), m.Keeps()
			}
			sp.follow = p.FollowRedirects
			if ss.FollowRedirects != nil {
				sp.follow = *ss.FollowRedirects
			}
			sp.needResp = len(ss.Extract) > 0 || len(ss.Expect) > 0
			for _, e := range ss.Expect {
				sp.expectVars = sp.expectVars || !e.Template().Static()
			}
			if k+1 < len(rs.Steps) && rs.Steps[k+1].NeedsPrevious() {
				sp.prevNext, sp.needResp = true, true
			}
			sp.keepHeader = rs.KeepLevel >= scenario.KeepHeaders || sp.needResp || sp.follow > 0
			sp.keepBody = rs.KeepLevel >= scenario.KeepBodies || sp.needResp
			if !ss.Static {
				continue
			}
			u, err := ss.URL.ExpandString(nil)
			if err != nil {
				return nil, err
			}
			pu, err := parseStepURL(u, rs)
			if err != nil {
				return nil, fmt.Errorf("run %q step %d: URL %q: %w", rs.Name, k+1, u, err)
			}
			sp.t, err = resolveTarget(pu, p.Proxy)
			if err != nil {
				return nil, fmt.Errorf("run %q step %d: %w", rs.Name, k+1, err)
			}
			sp.static = true
			sp.method, sp.head = methodFor(ss, ss.StaticBody != nil)
			sp.head = sp.head || p.noBodyMethod(sp.method)
			extra := make([]headerKV, len(ss.Headers))
			for j, h := range ss.Headers {
				extra[j] = headerKV{Name: h.Name, Value: h.Value.String()}
			}
			ct := ss.ContentType
			if ct == "" {
				ct = scenario.DefaultContentType
			}
			sp.prefix = appendHead(nil, p, sp.method, sp.t, sp.keepAlive, extra, ct, ss.StaticBody != nil, len(ss.StaticBody))
		}
	}
	return runs, nil
}

func parseStepURL(raw string, rs *scenario.RunSpec) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	if !u.IsAbs() {
		if rs.Base == nil {
			return nil, errors.New("relative URL without a base URL")
		}
		u = scenario.JoinURL(rs.Base, u)
	}
	return u, nil
}

// Validate implements Executor: Slots take any plan (the plan's own
// checks refuse a concurrency below 1, and so does Execute), except a
// segment of more shards than the plan has slots: every shard needs one,
// so together they would hold more requests in flight than the plan's
// Concurrency, a heavier load than the one planned (as VUs refuse a
// segment without a virtual user).
func (sl Slots) Validate(p *Plan) error {
	if seg := p.Segment; !seg.Whole() && p.Concurrency >= 1 && seg.Count > p.Concurrency {
		return fmt.Errorf("Segment %v: %d shards of a plan of Concurrency %d: each shard needs a slot of its own, so together they would send %d requests at once where the plan sends %d; run at most %d shards, or raise Concurrency",
			seg, seg.Count, p.Concurrency, seg.Count, p.Concurrency, p.Concurrency)
	}
	return nil
}

// Work implements Executor: each run's Repeat iterations, at most
// Concurrency in flight, and no more slots than requests (more would
// only hold idle connections).
//
// In a segment k of N (Plan.Segment), iteration i of each run is the
// segment's when i mod N = k, and so is slot j: the segment has the
// slots j mod N = k (Validate refuses Concurrency < N, where some
// segment would have none).
func (sl Slots) Work(p *Plan) Work {
	w := repeatWork(p, p.Concurrency)
	if seg := p.Segment; !seg.Whole() {
		for i, n := range w.Iterations {
			w.Iterations[i] = seg.share(n)
		}
		w.Concurrency = seg.share(w.Concurrency)
		maps := make([]iterMap, len(p.Runs))
		for i := range maps {
			maps[i] = stripeMap(seg, 1, func(j int) int { return j })
		}
		w.Global = globalFunc(maps)
	}
	if n := w.Requests(p); n > 0 && w.Concurrency > n {
		w.Concurrency = n
	}
	return w
}

// Execute implements Executor.
func (sl Slots) Execute(ctx context.Context, p *Plan, rec Recorder) error {
	if p.Concurrency < 1 {
		return fmt.Errorf("concurrency %d: must be at least 1", p.Concurrency)
	}
	if err := p.Segment.Check(); err != nil {
		return fmt.Errorf("Segment: %w", err)
	}
	runs, err := compile(p)
	if err != nil {
		return err
	}
	for i := range runs {
		runs[i].iters = stripeMap(p.Segment, 1, func(j int) int { return j })
	}
	shapes := make([]runShape, len(runs))
	for i, r := range runs {
		shapes[i] = runShape{steps: int32(len(r.steps)), repeat: int32(r.spec.Repeat), depthFirst: r.spec.Order == scenario.DepthFirst,
			window: int32(r.spec.Window)}
	}
	if ctx.Err() != nil {
		return context.Cause(ctx) // cancelled before the start: nothing is sent
	}
	x := newExecution(ctx, p, runs, newScheduler(p.Priority, shapes), rec)
	defer x.end()
	if _, ok := x.begin(); !ok {
		return context.Cause(ctx) // cancelled before the start: nothing is sent
	}
	if !sl.Goroutines {
		if ran, err := x.runLoops(); ran || err != nil {
			if err != nil {
				return err
			}
			return x.stopCause()
		}
	}
	var wg sync.WaitGroup
	for _, s := range x.slots {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x.runSlot(s)
		}()
	}
	stopWatch := x.watch(x.interruptSlots)
	wg.Wait()
	stopWatch()
	return x.stopCause()
}

// newExecution sets an execution of p up, with its slots.
func newExecution(ctx context.Context, p *Plan, runs []runPlan, sched *scheduler, rec Recorder) *execution {
	x := &execution{plan: p, runs: runs, sched: sched, dial: newDialer(p), rec: rec, ctx: ctx, stopCh: make(chan struct{})}
	x.ioCtx, x.ioCancel = context.WithCancelCause(ctx)
	x.slots = newSlots(p)
	if p.HTTP2 {
		x.h2 = newH2Pool(x.ioCtx, p)
	}
	for _, s := range x.slots {
		s.wire = x.newWire(s)
	}
	return x
}

// begin waits for the plan's Start, when it has one, and returns the
// time the execution's schedule counts from: Start, or now. false when
// ctx ended first.
func (x *execution) begin() (time.Time, bool) {
	start := x.plan.Start
	if start.IsZero() {
		now := time.Now()
		x.began(now)
		return now, x.ctx.Err() == nil
	}
	if d := time.Until(start); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-x.ctx.Done():
			return start, false
		}
	}
	x.began(time.Now())
	return start, x.ctx.Err() == nil
}

// began tells the recorder the moment the execution's schedule began.
func (x *execution) began(at time.Time) { x.rec.ScheduleBegan(at) }

// end releases what the execution holds: its context, its HTTP/2
// connections.
func (x *execution) end() {
	x.ioCancel(nil)
	if x.h2 != nil {
		x.h2.close()
	}
}

// manyVUs is the number of virtual users above which each holds as
// little as it can (vuBuffers): below it, a VU keeps its 16 KiB read
// buffer and reads without first waiting for the socket to be readable.
const manyVUs = 512

// vuBuffers sets a virtual user's slot up to hold as little as it can:
// a 4 KiB read buffer taken while a response is read, a request buffer
// grown to what it sends.
func (s *slot) vuBuffers() {
	s.p.Pool, s.wbuf = vuBufs, nil
	s.p.WaitReadable = s.waitReadable
}

// maxHeaderBytes is the bound of a response's status line and headers
// (over HTTP/2, of its header list as SETTINGS_MAX_HEADER_LIST_SIZE
// counts it: each field's name and value and 32 bytes).
func maxHeaderBytes(p *Plan) int {
	if p.MaxHeaderBytes <= 0 {
		return DefaultMaxHeaderBytes
	}
	return p.MaxHeaderBytes
}

// newSlots makes the plan's connection slots, one per unit of
// concurrency.
func newSlots(p *Plan) []*slot {
	maxHeader := maxHeaderBytes(p)
	noBody := p.noBodyStatuses()
	slots := make([]*slot, p.Concurrency)
	for i := range slots {
		s := &slot{id: i}
		s.conn = connReader{s}
		s.p = h1.NewParser(s.conn, 0, slotBufs)
		s.p.MaxHeader = maxHeader
		s.p.NoBody = noBody
		s.wbuf = make([]byte, 0, 1024)
		slots[i] = s
	}
	return slots
}

// interruptSlots cuts every slot's connection in flight.
func (x *execution) interruptSlots() {
	past := time.Unix(1, 0)
	for _, s := range x.slots {
		s.mu.Lock()
		s.interrupted = true
		if s.nc != nil {
			s.nc.SetDeadline(past)
		}
		s.mu.Unlock()
	}
}

// stop records why no new request starts and wakes what waits.
func (x *execution) stop(cause error) {
	if x.stopped.CompareAndSwap(nil, &cause) {
		close(x.stopCh)
	}
	x.sched.stop()
}

// watch ends the execution early: when ctx ends, no new request starts
// and the ones in flight are interrupted at once; when the plan's time
// limit passes, no new request starts and the ones in flight get the
// grace period before they are interrupted. stop, returned, ends the
// watch and waits for it.
func (x *execution) watch(interrupt func()) (stop func()) {
	finished := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var limit, grace <-chan time.Time
		if x.plan.TimeLimit > 0 {
			// the time limit counts from the plan's Start
			t := time.NewTimer(x.plan.TimeLimit + max(time.Until(x.plan.Start), 0))
			defer t.Stop()
			limit = t.C
		}
		halt := func(cause error) {
			x.cause = cause
			x.halted.Store(true)
			x.ioCancel(cause)
			interrupt()
		}
		for {
			select {
			case <-finished:
				return
			case <-x.ctx.Done():
				x.stop(context.Cause(x.ctx))
				halt(context.Cause(x.ctx))
				return
			case <-limit:
				limit = nil
				x.stop(ErrTimeLimit)
				g := x.plan.GracePeriod
				if g == 0 {
					g = DefaultGracePeriod
				}
				if g < 0 {
					halt(ErrTimeLimit)
					return
				}
				t := time.NewTimer(g)
				defer t.Stop()
				grace = t.C
			case <-grace:
				halt(ErrTimeLimit)
				return
			}
		}
	}()
	return func() {
		close(finished)
		<-done
	}
}

func (x *execution) state(rp *runPlan, iter int, create bool) *iterState {
	if rp.states == nil {
		return nil
	}
	needed := create || len(rp.spec.Vars) > 0 || rp.spec.Feeder != nil
	if !needed {
		return rp.states.peek(iter) // no chunk allocated for a lookup
	}
	slot := rp.states.at(iter)
	st := *slot
	if st == nil {
		g := rp.iters.global(iter) // the whole plan's number
		st = &iterState{vars: scenario.Vars{scenario.IterationVar: strconv.Itoa(g)}}
		for k, v := range rp.spec.Vars {
			st.vars[k] = v
		}
		if f := rp.spec.Feeder; f != nil {
			row, ok := f.Row(g, x.plan.Seed)
			for k, v := range row {
				st.vars[k] = v
			}
			st.feedOut = !ok
		}
		*slot = st
	}
	return st
}
