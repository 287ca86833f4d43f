package loadtest

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/benchgate/benchgate/engine"
	"github.com/benchgate/benchgate/failure"
	"github.com/benchgate/benchgate/scenario"
)

// recorder collects results as the engine streams them: per-step counters
// and histograms under a per-step lock, per-request records into
// preallocated slices (each index is written once).
type recorder struct {
	plan  *engine.Plan
	start time.Time
	runs  []*runRec
	// per-slot timelines: each slot's results come from one goroutine at
	// a time, so they need no lock; they are merged at the end.
	timelines [][]Second

	sent, good, failed, bytesIn, bytesOut atomic.Int64
	notSent, interrupted                  atomic.Int64
	redact                                *redactor
	lines                                 *lineLog // LogRequests
	windowSize                            time.Duration
	// openEnded marks the runs whose iterations are bounded by time
	// alone (For): their configured count is what they began.
	openEnded           []bool
	firstStart, lastEnd atomic.Int64 // unix nanos
	// began is when the executor began its schedule (unix nanos, 0:
	// not told: Recorder.ScheduleBegan)
	began    atomic.Int64
	arrMu    sync.Mutex
	arrivals *ArrivalReport // ArrivalRate
	hookErr  *engine.HookError

	// begun holds the iterations begun of runs walked until stopped
	begun map[int]int
}

// ScheduleBegan implements engine.Recorder: the moment the
// executor began its schedule (after waiting for T0), the first it is
// told.
func (rec *recorder) ScheduleBegan(at time.Time) { rec.began.CompareAndSwap(0, at.UnixNano()) }

// IterationsBegun implements engine.IterationRecorder: a run of VUs
// that walked it until stopped is configured with the iterations they
// began.
func (rec *recorder) IterationsBegun(run, n int) {
	rec.arrMu.Lock()
	defer rec.arrMu.Unlock()
	if rec.begun == nil {
		rec.begun = map[int]int{}
	}
	rec.begun[run] = n
}

// Hooks implements engine.HookRecorder.
func (rec *recorder) Hooks(e *engine.HookError) {
	rec.arrMu.Lock()
	defer rec.arrMu.Unlock()
	rec.hookErr = e
}

// Arrival implements engine.ArrivalRecorder.
func (rec *recorder) Arrival(slot, run int, lag time.Duration, dropped bool) {
	rec.arrMu.Lock()
	defer rec.arrMu.Unlock()
	a := rec.arrivals
	if a == nil {
		return
	}
	if dropped {
		a.Dropped++
		rec.runs[run].report.Dropped++
		return
	}
	now := time.Now()
	if a.Started == 0 {
		a.first = now
	}
	a.Started++
	a.last = now
	a.Lag.Record(lag)
}

// ArrivalsDropped implements engine.ArrivalRecorder.
func (rec *recorder) ArrivalsDropped(run, n int) {
	rec.arrMu.Lock()
	defer rec.arrMu.Unlock()
	if a := rec.arrivals; a != nil {
		a.Dropped += int64(n)
		rec.runs[run].report.Dropped += int64(n)
	}
}

type runRec struct {
	report                    *RunReport
	steps                     []*stepRec
	headers, bodies, reqTexts *textLog
}

type stepRec struct {
	mu sync.Mutex
	r  *StepReport
	// extra counts the requests a VU's iterator sent again later in a
	// round (engine.Result.Again): configured beyond the run's repeat
	extra int64
}

func newRecorder(p *engine.Plan, secrets []string) *recorder {
	rec := &recorder{plan: p, start: time.Now(), timelines: make([][]Second, p.Concurrency), redact: newRedactor(secrets),
		windowSize: DefaultWindow}
	for _, rs := range p.Runs {
		rr := &RunReport{Name: rs.Name, Repeat: rs.Repeat, Order: rs.Order.String(), KeepLevel: rs.KeepLevel, Latency: NewLatency(),
			AllowUnsentSteps: rs.AllowUnsentSteps}
		n := rs.Repeat * len(rs.Steps)
		run := &runRec{report: rr}
		if rs.KeepLevel >= scenario.KeepTimes {
			rr.Requests = newRequestLog(n, len(rs.Steps), rs.KeepLevel >= scenario.KeepHeaders)
		}
		if rs.KeepLevel >= scenario.KeepHeaders {
			run.headers = newTextLog(n)
		}
		if rs.KeepLevel >= scenario.KeepBodies {
			run.bodies, run.reqTexts = newTextLog(n), newTextLog(n)
		}
		for k, ss := range rs.Steps {
			sr := &StepReport{run: rs.Name, Number: k + 1, Name: ss.Name, Configured: int64(rs.Repeat), Statuses: map[int]int64{},
				Latency: NewLatency(), Connect: NewLatency(), FirstByte: NewLatency()}
			rr.Steps = append(rr.Steps, sr)
			run.steps = append(run.steps, &stepRec{r: sr})
		}
		rec.runs = append(rec.runs, run)
	}
	return rec
}

// Record implements engine.Recorder.
func (rec *recorder) Record(slot int, res *engine.Result) {
	run := rec.runs[res.Run]
	if rec.lines != nil {
		rec.lines.write(rec, slot, res)
	}
	if res.Followed || res.Retried {
		// on the wire, but not one of the step's configured requests
		rec.bytesIn.Add(res.BytesRead)
		rec.bytesOut.Add(res.BytesSent)
		st := run.steps[res.Step]
		st.mu.Lock()
		if res.Followed {
			st.r.Followed++
		} else {
			st.r.Retried++
		}
		st.r.BytesRead += res.BytesRead
		if res.Warning != "" {
			st.r.addWarning(res.Warning) // a hop's connection is as suspect as any
		}
		st.mu.Unlock()
		return
	}
	own := res
	if res.Hop > 0 {
		// the step's answer came after redirects: its time is the chain's
		chain := *res
		chain.Start, chain.Total = res.ChainStart, res.Start.Add(res.Total).Sub(res.ChainStart)
		res = &chain
	}
	rec.second(slot, res)
	st := run.steps[res.Step]
	switch {
	case res.NotSent:
		rec.notSent.Add(1)
	case res.Interrupted:
		rec.sent.Add(1)
		rec.interrupted.Add(1)
	case res.Failed:
		rec.sent.Add(1)
		rec.failed.Add(1)
	default:
		rec.sent.Add(1)
		rec.good.Add(1)
	}
	rec.bytesIn.Add(res.BytesRead)
	rec.bytesOut.Add(res.BytesSent)
	if !res.NotSent {
		startNs := res.Start.UnixNano()
		endNs := startNs + int64(res.Total)
		for {
			cur := rec.firstStart.Load()
			if (cur != 0 && cur <= startNs) || rec.firstStart.CompareAndSwap(cur, startNs) {
				break
			}
		}
		for {
			cur := rec.lastEnd.Load()
			if cur >= endNs || rec.lastEnd.CompareAndSwap(cur, endNs) {
				break
			}
		}
	}

	st.mu.Lock()
	s := st.r
	if res.Again {
		s.Configured++
		st.extra++
	}
	switch {
	case res.NotSent:
		s.NotSent++
		if s.Unsent == nil {
			s.Unsent = map[string]int64{}
		}
		countReason(s.Unsent, res.Reason)
		s.countKind(res)
		s.sample(res, rec.redact)
	case res.Interrupted:
		s.Sent++
		s.Interrupted++
	case res.Failed:
		s.Sent++
		s.Failed++
		if s.Failures == nil {
			s.Failures = map[string]int64{}
		}
		countReason(s.Failures, res.Reason)
		s.countKind(res)
		s.sample(res, rec.redact)
		s.Statuses[res.Status]++
	default:
		s.Sent++
		s.Good++
		s.Latency.Record(res.Total)
		s.Connect.Record(res.Connect)
		s.FirstByte.Record(res.Connect + res.Send + res.Wait)
		if res.TLSHandshake > 0 {
			if s.TLSHandshake == nil {
				s.TLSHandshake = NewLatency()
			}
			s.TLSHandshake.Record(res.TLSHandshake)
			if res.TLSResumed {
				s.TLSResumed++
			}
		}
		if !res.Intended.IsZero() {
			if s.Corrected == nil {
				s.Corrected = NewLatency()
			}
			s.Corrected.Record(max(res.Start.Add(res.Total).Sub(res.Intended), res.Total))
		}
		s.Statuses[res.Status]++
	}
	if !res.NotSent && !res.Interrupted {
		rec.window(s, res)
		at, end := res.Start.Sub(rec.start), res.Start.Sub(rec.start)+res.Total
		if s.Sent == 1 || at < s.First {
			s.First = at
		}
		s.Last = max(s.Last, end)
	}
	if res.Truncated {
		s.Truncated++
	}
	if res.Warning != "" {
		s.addWarning(res.Warning)
	}
	s.BytesRead += res.BytesRead
	if !res.NotSent && !res.Interrupted && !res.Failed {
		if s.Good == 1 || res.BodyBytes < s.MinBodyBytes {
			s.MinBodyBytes = res.BodyBytes
		}
		s.MaxBodyBytes = max(s.MaxBodyBytes, res.BodyBytes)
	}
	s.BodyBytes += res.BodyBytes
	s.DecodedBytes += res.DecodedBytes
	rr := run.report
	var key textKey
	var text uint16
	if rr.Requests != nil && !res.Again {
		key = textKey{method: res.Method, bodySent: res.BodyBytesSent}
		if res.Failed || res.NotSent || res.Interrupted {
			key.reason, key.kind = res.Reason, res.Kind
		}
		text = rr.Requests.texts[res.Step].intern(key)
	}
	st.mu.Unlock()
	if res.Again {
		return // the iteration's record of the step holds its own result
	}

	// a segment's records are indexed by the iteration's place among
	// the segment's (the whole plan's number is shown, not stored)
	it := res.Iteration
	if !rec.plan.Segment.Whole() {
		it = res.Index
	}
	i := it*len(rr.Steps) + res.Step
	if rr.Requests != nil {
		// the record holds the last request of a redirect chain, with its
		// own timings
		rq := Request{
			Sent: !res.NotSent, NotSent: res.NotSent, Interrupted: res.Interrupted, At: own.Start.Sub(rec.start),
			Connect: res.Connect, Send: res.Send, Wait: res.Wait, HeadersDone: res.HeadersDone,
			Total: own.Total, Status: res.Status, BytesSent: res.BytesSent, BytesRead: res.BytesRead,
			HeaderBytes: res.HeaderBytes, BodyBytes: res.BodyBytes, Reused: res.Reused, DNSCached: res.DNSCached,
			Failed: res.Failed,
		}
		rr.Requests.put(i, &rq, text, key)
	}
	if run.headers != nil {
		run.headers.put(i, rec.redact.head(string(res.Header)))
	}
	if run.bodies != nil {
		run.bodies.put(i, scenario.RedactText(string(res.Body), rec.redact.extra...))
		run.reqTexts.put(i, rec.redact.head(string(res.RequestText)))
	}
}

// sample keeps res as the sample of its reason, if it is the first,
// redacted when kept as reasons are (the JSON report, the matchers and
// the summary show it as kept), with the plan's RedactFields too.
func (s *StepReport) sample(res *engine.Result, rd *redactor) {
	if _, ok := s.Samples[res.Reason]; ok || len(s.Samples) >= 100 {
		return
	}
	if s.Samples == nil {
		s.Samples = map[string]Sample{}
	}
	// redacted before it is cut to its size, so a value the cut would
	// split is still known by its name; bounded work for a large body
	// (the redaction of a cut text redacts what it cuts to its end)
	body := res.Sample
	if len(body) > 16*SampleBodyBytes {
		body = body[:16*SampleBodyBytes]
	}
	text := scenario.RedactText(string(body), rd.extra...)
	if len(text) > SampleBodyBytes {
		text = text[:SampleBodyBytes]
	}
	s.Samples[res.Reason] = Sample{Method: res.Method, URL: scenario.RedactText(res.URL, rd.extra...), Status: res.Status, Body: text}
}

// window adds res to its step's time window (the step's lock is held).
func (rec *recorder) window(s *StepReport, res *engine.Result) {
	at := int(res.Start.Sub(rec.start) / rec.windowSize)
	if at < 0 {
		at = 0
	}
	if at >= 1<<20 {
		return // beyond ~2 days of 200 ms windows: the comparison has enough
	}
	for len(s.Windows) <= at {
		s.Windows = append(s.Windows, Window{})
	}
	w := &s.Windows[at]
	if res.Failed {
		w.Failed++
		return
	}
	w.Good++
	if w.Latency == nil {
		w.Latency = NewLatency()
	}
	w.Latency.Record(res.Total)
}

// Warn implements engine.Warner.
func (rec *recorder) Warn(run, step int, warning string) {
	st := rec.runs[run].steps[step]
	st.mu.Lock()
	st.r.addWarning(warning)
	st.mu.Unlock()
}

// addWarning counts a warning of the step's (its lock held).
func (s *StepReport) addWarning(w string) {
	if s.Warnings == nil {
		s.Warnings = map[string]int64{}
	}
	countReason(s.Warnings, w)
}

// countReason counts reason in m, which holds at most 100 distinct
// reasons; later ones count as "(other reasons)".
// countKind counts a failed or not-sent result by its kind (Kinds), a
// status failure by its status too (FailedStatuses). A result the engine
// gave no kind counts as failure.Other, a not-sent one as
// failure.NotSent: the kinds add up to Failed + NotSent.
func (s *StepReport) countKind(res *engine.Result) {
	k := res.Kind
	switch {
	case res.NotSent:
		k = failure.NotSent
	case k == failure.None || !k.Valid():
		k = failure.Other
	}
	if s.Kinds == nil {
		s.Kinds = map[failure.Kind]int64{}
	}
	if s.Kinds[k] == 0 {
		if s.KindReasons == nil {
			s.KindReasons = map[failure.Kind]string{}
		}
		s.KindReasons[k] = res.Reason
	}
	s.Kinds[k]++
	if k == failure.Status {
		if s.FailedStatuses == nil {
			s.FailedStatuses = map[int]int64{}
		}
		s.FailedStatuses[res.Status]++
	}
}

func countReason(m map[string]int64, reason string) {
	if _, ok := m[reason]; ok || len(m) < 100 {
		m[reason]++
		return
	}
	m["(other reasons)"]++
}

// second adds res to its slot's timeline, in the second it started.
func (rec *recorder) second(slot int, res *engine.Result) {
	if slot < 0 || slot >= len(rec.timelines) {
		return
	}
	at := int(res.Start.Sub(rec.start) / time.Second)
	if at < 0 {
		at = 0
	}
	tl := rec.timelines[slot]
	for len(tl) <= at {
		tl = append(tl, Second{At: len(tl)})
	}
	sec := &tl[at]
	sec.BytesRead += res.BytesRead
	switch {
	case res.NotSent:
		sec.NotSent++
		rec.timelines[slot] = tl
		return
	case res.Interrupted:
		sec.Sent++
		sec.Interrupted++
	case res.Failed:
		sec.Sent++
		sec.Failed++
	default:
		sec.Sent++
		sec.Good++
		sec.LatencySum += res.Total
		sec.LatencyMax = max(sec.LatencyMax, res.Total)
	}
	rec.timelines[slot] = tl
}

func (rec *recorder) timeline() []Second {
	var out []Second
	for _, tl := range rec.timelines {
		for len(out) < len(tl) {
			out = append(out, Second{At: len(out)})
		}
		for i, s := range tl {
			out[i].add(s)
		}
	}
	return out
}

func (rec *recorder) report() *Report {
	r := &Report{
		Version: ReportVersion, Started: rec.start, Concurrency: rec.plan.Concurrency,
		Priority: rec.plan.Priority.String(), RequestsSent: rec.sent.Load(),
		GoodResponses: rec.good.Load(), ResponsesFailed: rec.failed.Load(),
		RequestsNotSent: rec.notSent.Load(), RequestsInterrupted: rec.interrupted.Load(),
		BytesReceived: rec.bytesIn.Load(), BytesSent: rec.bytesOut.Load(),
		TLSVerifySkipped: rec.plan.InsecureSkipVerify, Latency: NewLatency(), Timeline: rec.timeline(), Window: rec.windowSize,
	}
	r.ResponsesReceived = r.GoodResponses // the deprecated name, kept equal
	if f, l := rec.firstStart.Load(), rec.lastEnd.Load(); f != 0 && l > f {
		r.TotalTime = time.Duration(l - f)
	}
	if r.TLSVerifySkipped {
		r.Warnings = append(r.Warnings, "TLS certificate verification was skipped")
	}
	rec.arrMu.Lock()
	begun := rec.begun
	rec.arrMu.Unlock()
	for k, run := range rec.runs {
		rs := rec.plan.Runs[k]
		switch n, ok := begun[k]; {
		case k < len(rec.openEnded) && rec.openEnded[k]:
			rec.closeOpenEnded(run)
			r.RequestsConfigured += int64(run.report.Repeat * len(rs.Steps))
		case ok:
			run.configure(n)
			rs.Repeat = n
			r.RequestsConfigured += int64(rs.Repeat * len(rs.Steps))
		default:
			r.RequestsConfigured += int64(rs.Repeat * len(rs.Steps))
		}
		for _, st := range run.steps {
			r.RequestsConfigured += st.extra
			run.report.Latency.Merge(st.r.Latency)
			for _, w := range sortedKeys(st.r.Warnings) {
				r.Warnings = append(r.Warnings, fmt.Sprintf("run %q step %q: %d× %s", rs.Name, st.r.Name, st.r.Warnings[w], w))
			}
			if st.r.Truncated > 0 {
				r.Warnings = append(r.Warnings, fmt.Sprintf("run %q step %q: %d response bodies longer than the buffer (%d bytes) were cut",
					rs.Name, st.r.Name, st.r.Truncated, rs.BufferBytes))
			}
		}
		r.Latency.Merge(run.report.Latency)
		if run.headers != nil {
			run.report.Headers = run.headers.strings()
		}
		if run.bodies != nil {
			run.report.Bodies, run.report.RequestTexts = run.bodies.strings(), run.reqTexts.strings()
		}
		r.Runs = append(r.Runs, run.report)
	}
	r.RequestsNotStarted = r.RequestsConfigured - r.RequestsSent - r.RequestsNotSent
	rec.arrMu.Lock()
	if e := rec.hookErr; e != nil {
		r.HookErrors, r.FailedShards = e.Errors, e.FailedShards
	}
	rec.arrMu.Unlock()
	if a := rec.arrivals; a != nil {
		rec.arrMu.Lock()
		c := *a
		rec.arrMu.Unlock()
		if c.Started > 1 && c.last.After(c.first) {
			c.Rate = float64(c.Started-1) / c.last.Sub(c.first).Seconds()
		}
		r.Arrivals = &c
	}
	for _, run := range r.Runs {
		run.report = r
		for _, s := range run.Steps {
			s.report = r
		}
	}
	return r
}

// closeOpenEnded sets an open-ended run's repeat count, and its steps'
// configured counts, to the iterations it began.
func (rec *recorder) closeOpenEnded(run *runRec) {
	if len(run.steps) == 0 {
		return
	}
	first := run.steps[0].r
	begun := first.Sent + first.NotSent
	run.report.Repeat = int(begun)
	for _, st := range run.steps {
		st.r.Configured = begun
	}
	n := int(begun) * len(run.steps)
	if run.report.Requests != nil {
		run.report.Requests.trim(n)
	}
	for _, t := range []*textLog{run.headers, run.bodies, run.reqTexts} {
		if t != nil {
			t.c.trim(n)
		}
	}
}

func sortedKeys(m map[string]int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
