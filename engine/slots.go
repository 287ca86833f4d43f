package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/benchgate/benchgate/scenario"
)

// Slots is the ApacheBench executor: Plan.Concurrency connection slots
// drain the runs' requests. A slot that finishes a request makes the next
// request of that iteration (or, depth-first, of that run) ready, then
// takes the next ready request by the plan's priority. At concurrency 1
// the server sees exactly the seed API's request order.
type Slots struct {
	// Goroutines runs every slot on its own goroutine with a net.Conn,
	// even where the event loop could serve the plan.
	Goroutines bool
}

var _ Executor = Slots{}

// runPlan and stepPlan hold what is computed once per run and step.
type runPlan struct {
	spec   *scenario.RunSpec
	steps  []stepPlan
	states []*iterState // per iteration, created on first need
}

type stepPlan struct {
	spec       *scenario.StepSpec
	static     bool
	t          *target
	prefix     []byte // request head without cookies, for static steps
	method     string
	head       bool
	keepAlive  bool
	keepHeader bool
	keepBody   bool
	needResp   bool // extractors or the next step read the response
	prevNext   bool // the next step reads this response
}

type execution struct {
	plan  *Plan
	runs  []runPlan
	sched *scheduler
	dial  *dialer
	rec   Recorder
	ctx   context.Context
	slots []*slot
}

// slot is one connection slot: its connection, reader and buffers.
type slot struct {
	id          int
	mu          sync.Mutex // guards nc and interrupted against the watcher
	nc          net.Conn
	interrupted bool
	key         string
	reusable    bool
	deadline    time.Time
	p           *parser
	conn        connReader
	cur         current
	wbuf        []byte
	res         Result
}

// connReader lets the parser read from whatever connection the slot has.
type connReader struct{ s *slot }

func (c connReader) Read(b []byte) (int, error) { return c.s.nc.Read(b) }

func compile(p *Plan) ([]runPlan, error) {
	runs := make([]runPlan, len(p.Runs))
	for i := range p.Runs {
		rs := &p.Runs[i]
		rp := &runs[i]
		rp.spec = rs
		if rs.Stateful || rs.AutoCookies {
			rp.states = make([]*iterState, rs.Repeat)
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
			sp.needResp = len(ss.Extract) > 0
			if k+1 < len(rs.Steps) && rs.Steps[k+1].NeedsPrevious() {
				sp.prevNext, sp.needResp = true, true
			}
			sp.keepHeader = rs.KeepLevel >= scenario.KeepHeaders || sp.needResp
			sp.keepBody = rs.KeepLevel >= scenario.KeepEverything || sp.needResp || len(ss.ExpectBody) > 0
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
			extra := make([]headerKV, len(ss.Headers))
			for j, h := range ss.Headers {
				extra[j] = headerKV{h.Name, h.Value.String()}
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
		u = rs.Base.ResolveReference(u)
	}
	return u, nil
}

// Execute implements Executor.
func (sl Slots) Execute(ctx context.Context, p *Plan, rec Recorder) error {
	if p.Concurrency < 1 {
		return fmt.Errorf("concurrency %d: must be at least 1", p.Concurrency)
	}
	runs, err := compile(p)
	if err != nil {
		return err
	}
	shapes := make([]runShape, len(runs))
	for i, r := range runs {
		shapes[i] = runShape{steps: int32(len(r.steps)), repeat: int32(r.spec.Repeat), depthFirst: r.spec.Order == scenario.DepthFirst}
	}
	if p.TimeLimit > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, p.TimeLimit, ErrTimeLimit)
		defer cancel()
	}
	x := &execution{plan: p, runs: runs, sched: newScheduler(p.Priority, shapes), dial: newDialer(p), rec: rec, ctx: ctx}
	maxHeader := p.MaxHeaderBytes
	if maxHeader <= 0 {
		maxHeader = 64 << 10
	}
	x.slots = make([]*slot, p.Concurrency)
	for i := range x.slots {
		s := &slot{id: i}
		s.conn = connReader{s}
		s.p = newParser(s.conn, 16<<10)
		s.p.maxHeader = maxHeader
		s.wbuf = make([]byte, 0, 1024)
		x.slots[i] = s
	}
	if !sl.Goroutines {
		if ran, err := x.runLoops(); ran || err != nil {
			if err != nil {
				return err
			}
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			return nil
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
	stopWatch := x.watch(func() {
		past := time.Unix(1, 0)
		for _, s := range x.slots {
			s.mu.Lock()
			s.interrupted = true
			if s.nc != nil {
				s.nc.SetDeadline(past)
			}
			s.mu.Unlock()
		}
	})
	wg.Wait()
	stopWatch()
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return nil
}

// watch stops the scheduler and calls interrupt when the context ends
// before the returned stop func is called; stop waits for the watcher.
func (x *execution) watch(interrupt func()) (stop func()) {
	finished := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		select {
		case <-finished:
		case <-x.ctx.Done():
			x.sched.stop()
			interrupt()
		}
	}()
	return func() {
		close(finished)
		<-done
	}
}

func (x *execution) runSlot(s *slot) {
	defer s.closeConn()
	var done *work
	var last work
	for {
		w, ok := x.sched.next(done)
		if !ok {
			return
		}
		x.do(s, w)
		last = w
		done = &last
	}
}

func (s *slot) closeConn() {
	s.mu.Lock()
	if s.nc != nil {
		s.nc.Close()
		s.nc = nil
	}
	s.reusable = false
	s.deadline = time.Time{}
	s.p.discardInput()
	s.mu.Unlock()
}

func (x *execution) state(rp *runPlan, iter int, create bool) *iterState {
	if rp.states == nil {
		return nil
	}
	st := rp.states[iter]
	if st == nil && (create || len(rp.spec.Vars) > 0) {
		st = &iterState{vars: scenario.Vars{scenario.IterationVar: strconv.Itoa(iter)}}
		for k, v := range rp.spec.Vars {
			st.vars[k] = v
		}
		rp.states[iter] = st
	}
	return st
}

// current is the request a slot is working on.
type current struct {
	w  work
	rp *runPlan
	sp *stepPlan
	st *iterState
	b  built
}

// prepare builds request w into s.wbuf and sets the parser up for its
// response. When the request cannot be built it records the failure and
// returns false.
func (x *execution) prepare(s *slot, w work) bool {
	rp := &x.runs[w.run]
	sp := &rp.steps[w.step]
	iter := int(w.iter)
	c := &s.cur
	*c = current{w: w, rp: rp, sp: sp, st: x.state(rp, iter, !sp.static)}
	s.p.begin(false) // no figures of the previous request may leak into this one
	res := &s.res
	*res = Result{Run: int(w.run), Iteration: iter, Step: int(w.step)}

	var err error
	s.wbuf = s.wbuf[:0]
	if sp.static {
		s.wbuf = append(s.wbuf, sp.prefix...)
		c.b = built{method: sp.method, head: sp.head, t: sp.t, body: sp.spec.StaticBody}
	} else {
		s.wbuf, c.b, err = buildDynamic(s.wbuf, x.plan, rp, sp, c.st)
	}
	res.Method = c.b.method
	if err != nil {
		res.Start = time.Now()
		c.b.t = nil
		x.finish(s, fmt.Errorf("build request: %w", err))
		return false
	}
	static := ""
	if rp.spec.Cookies != nil {
		static = rp.spec.Cookies[iter]
	}
	s.wbuf = appendCookieLine(s.wbuf, static, c.st, c.b.t.host)
	s.wbuf = append(s.wbuf, "\r\n"...)
	s.wbuf = append(s.wbuf, c.b.body...)
	res.BodyBytesSent = int64(len(c.b.body))

	s.p.keepHeader, s.p.keepBody, s.p.cookies = sp.keepHeader, sp.keepBody, rp.spec.AutoCookies
	s.p.bodyLimit = rp.spec.BufferBytes
	return true
}

// do sends one request on the slot's goroutine and records it.
func (x *execution) do(s *slot, w work) {
	if !x.prepare(s, w) {
		return
	}
	c := &s.cur
	err := x.roundTrip(s, c.b.t, c.sp, c.b.head, &s.res)
	x.finish(s, err)
}

// roundTrip writes s.wbuf and reads the response, on a kept-alive
// connection when one to the same scheme, host and port is open. A kept
// connection the server closed meanwhile is replaced once.
func (x *execution) roundTrip(s *slot, t *target, sp *stepPlan, head bool, res *Result) error {
	for attempt := 0; ; attempt++ {
		res.Start = time.Now()
		res.Connect, res.Reused = 0, false
		if s.nc != nil && s.reusable && s.key == t.key {
			res.Reused = true
		} else {
			s.closeConn()
			nc, cached, err := x.dial.dial(x.ctx, t)
			res.DNSCached = cached
			if err != nil {
				return err
			}
			s.mu.Lock()
			if s.interrupted {
				s.mu.Unlock()
				nc.Close()
				return context.Cause(x.ctx)
			}
			s.nc, s.key = nc, t.key
			s.mu.Unlock()
			s.p.discardInput()
			res.Connect = time.Since(res.Start) // monotonic clock only: cheaper than time.Now
		}
		if err := s.setDeadline(res.Start, sp.spec.TimeLimit); err != nil {
			return err
		}
		n, err := s.nc.Write(s.wbuf)
		res.BytesSent = int64(n)
		if err != nil {
			s.closeConn()
			if res.Reused && attempt == 0 && x.ctx.Err() == nil {
				continue
			}
			return fmt.Errorf("write request: %w", err)
		}
		written := time.Since(res.Start)
		res.Send = written - res.Connect
		s.p.ref = res.Start
		err = s.p.read(head)
		if err != nil {
			s.closeConn()
			if res.Reused && attempt == 0 && !s.p.gotByte && staleConn(err) && x.ctx.Err() == nil {
				continue
			}
			if s.p.gotByte {
				res.Wait = s.p.firstByte - written
			}
			return fmt.Errorf("read response: %w", err)
		}
		res.Wait = s.p.firstByte - written
		res.HeadersDone = s.p.headersDone
		res.Total = time.Since(res.Start)
		s.reusable = sp.keepAlive && s.p.keepAlive
		if !s.reusable {
			s.closeConn()
		}
		return nil
	}
}

// staleConn reports an error that a server closing an idle kept-alive
// connection produces.
func staleConn(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// setDeadline bounds the request by the step time limit; the plan's time
// limit interrupts through the watcher.
func (s *slot) setDeadline(start time.Time, limit time.Duration) error {
	var dl time.Time
	if limit > 0 {
		dl = start.Add(limit)
	}
	if dl.Equal(s.deadline) {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.interrupted {
		return errInterrupted
	}
	s.deadline = dl
	return s.nc.SetDeadline(dl)
}

var errInterrupted = errors.New("interrupted")

// finish completes a request: checks, cookies, extractors, the previous
// response for the next step, then records it.
func (x *execution) finish(s *slot, err error) {
	c := &s.cur
	rp, sp, w, st, t := c.rp, c.sp, c.w, c.st, c.b.t
	res := &s.res
	iter := int(w.iter)
	if err != nil {
		if x.ctx.Err() != nil {
			err = fmt.Errorf("%w (%v)", context.Cause(x.ctx), err)
		} else if errors.Is(err, os.ErrDeadlineExceeded) && sp.spec.TimeLimit > 0 {
			err = fmt.Errorf("step time limit %v exceeded: %w", sp.spec.TimeLimit, err)
		}
		res.Status, res.Failed, res.Reason = StatusNoResponse, true, reason(err)
		res.BytesRead = s.p.wireBytes
		if res.Total == 0 {
			res.Total = time.Since(res.Start)
		}
	} else {
		res.Status = s.p.status
		res.HTTP11 = s.p.http11
		res.BytesRead, res.HeaderBytes, res.BodyBytes = s.p.wireBytes, s.p.headerBytes, s.p.bodyBytes
		res.Truncated = s.p.truncated
		if reason := checkExpect(sp.spec, s.p); reason != "" {
			res.Failed, res.Reason = true, reason
		}
		if rp.spec.AutoCookies && len(s.p.cookieBuf) > 0 {
			st = x.state(rp, iter, true)
			st.setCookies(s.p.cookieBuf, t.host)
		}
	}
	var resp *scenario.Response
	if sp.needResp {
		resp = responseFor(s.p, res.Status, t, err)
		if err == nil && len(sp.spec.Extract) > 0 {
			st = x.state(rp, iter, true)
			for _, ex := range sp.spec.Extract {
				v, xerr := extract(ex.Extractor, resp)
				if xerr != nil {
					if !res.Failed {
						res.Failed, res.Reason = true, fmt.Sprintf("extract %q: %v", ex.Name, xerr)
					}
					continue
				}
				st.vars[ex.Name] = v
			}
		}
	}
	if sp.prevNext {
		st = x.state(rp, iter, true)
		st.prev = resp
	}
	if int(w.step) == len(rp.steps)-1 && rp.states != nil {
		rp.states[iter] = nil
	}
	keep := rp.spec.KeepLevel
	if keep >= scenario.KeepHeaders && err == nil {
		res.Header = s.p.header
	}
	if keep >= scenario.KeepEverything {
		res.RequestText = s.wbuf
		if err == nil {
			res.Body = s.p.body
		}
	}
	x.rec.Record(s.id, res)
}

// socketPair matches the "read tcp 127.0.0.1:40000->127.0.0.1:80: " that
// net errors carry: the client's port differs for every connection, which
// would make every failure reason unique.
var socketPair = regexp.MustCompile(`\b(read|write) (tcp|udp)[46]? [^ ]+->[^ ]+: `)

// reason is the text recorded for a failure: the error without the
// per-connection socket addresses.
func reason(err error) string {
	return socketPair.ReplaceAllString(err.Error(), "")
}

func checkExpect(spec *scenario.StepSpec, p *parser) string {
	if len(spec.ExpectStatus) > 0 {
		ok := false
		for _, c := range spec.ExpectStatus {
			ok = ok || c == p.status
		}
		if !ok {
			return fmt.Sprintf("status %d, expected %v", p.status, spec.ExpectStatus)
		}
	}
	for _, text := range spec.ExpectBody {
		if !bytes.Contains(p.body, []byte(text)) {
			return fmt.Sprintf("body does not contain %q", text)
		}
	}
	return ""
}
