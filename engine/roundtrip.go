package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/benchgate/benchgate/failure"
	"github.com/benchgate/benchgate/internal/h1"
	"github.com/benchgate/benchgate/scenario"
)

// One request's path, from prepare to finish, in call order:
//
//	do                 the goroutine driver's request (runSlot, conn.go);
//	                   a virtual user's is doHooked (vus.go), the same
//	                   path with its iterator and hooks between prepare
//	                   and exchange
//	prepare            builds the request into s.wbuf (request.go for
//	                   dynamic steps), sets the parser up
//	exchange           the request and, for a step that follows
//	                   redirects, each Location in turn:
//	  wire.roundTrip   the protocol's part, behind the wire interface:
//	                   (*h1conn).roundTrip (conn.go: a kept-alive
//	                   connection or a new one from internal/dial, the
//	                   write, internal/h1's parser, one retry on a stale
//	                   kept connection, replaceStale) or
//	                   (*h2stream).roundTrip (h2.go: a stream on the
//	                   origin's pooled internal/h2 connection)
//	  followed, location, recordFollowed, buildHop, stepHeaders, hop
//	                   a redirect followed: the response recorded as a
//	                   hop, the next request built, wire.roundTrip again
//	finish             classifies a failure, decodes the body
//	                   (internal/decode), checks (checkExpect, checkStatus),
//	                   extracts, records (reason)
//
// The event loop (evloop_linux.go) drives the same path as states of a
// non-blocking socket: fill calls prepare; begin, dial, connected,
// startWrite, write, read, ioError (replaceStale) and complete are
// (*h1conn).roundTrip's steps; done calls finish. It serves no step
// that follows redirects, so it needs no exchange.

// wire is how one request crosses the network: a slot's HTTP/1
// connection (h1conn, conn.go) or its HTTP/2 stream (h2stream, h2.go).
// The request path calls it and nothing protocol-specific.
//
// roundTrip sends the request prepare (or buildHop) left in s.wbuf to t
// and delivers the response into the slot's parser, s.p: status, header
// block (kept or only counted), body, cookies and content codings, the
// bytes read, which finish and recordFollowed read whatever the
// protocol. It fills res's times (Start, Connect, Send, Wait,
// HeadersDone, Total), Reused, BytesSent and the dial's facts; a
// retry it makes (a stale kept-alive connection, a stream the server
// did not process) is its own. The error it returns is the request's
// failure, classified by finish.
//
// Each slot's wire is made once, when its execution is (newWire): a
// request costs no allocation for it.
type wire interface {
	roundTrip(t *target, sp *stepPlan, head bool, res *Result) error
}

// Both protocols are wires.
var (
	_ wire = (*h1conn)(nil)
	_ wire = (*h2stream)(nil)
)

// newWire returns slot s's wire: an HTTP/2 stream when the plan speaks
// HTTP/2, else an HTTP/1 connection.
func (x *execution) newWire(s *slot) wire {
	if x.h2 != nil {
		return &h2stream{x: x, s: s}
	}
	return &h1conn{x: x, s: s}
}

// current is the request a slot is working on.
type current struct {
	w  work
	rp *runPlan
	sp *stepPlan
	st *iterState
	b  built
	// cookie is the run's static Cookie value for this iteration;
	// note, when set, is why the response fails before any expectation
	// (a redirect that could not be followed), noteKind its kind.
	cookie, note string
	noteKind     failure.Kind
	// origin is the step's own target, before an iterator or a hook
	// changed the request's URL
	origin *target
}

// do sends one request on the slot's goroutine and records it.
func (x *execution) do(s *slot, w work) {
	if !x.prepare(s, w) {
		return
	}
	if x.ending() {
		return // stopped while the request was built: it never starts
	}
	x.finish(s, x.exchange(s))
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
	s.p.Begin(false) // no figures of the previous request may leak into this one
	res := &s.res
	*res = Result{Run: int(w.run), Iteration: rp.iters.global(iter), Index: iter, Step: int(w.step), Intended: s.intended}

	if c.st != nil && c.st.feedOut {
		if rp.spec.Feeder.End() == scenario.Stop {
			return false // the run starts no more iterations: not started
		}
		res.Start, res.NotSent = time.Now(), true
		x.finish(s, fmt.Errorf("build request: %w", scenario.ErrFeedEnded))
		return false
	}
	var err error
	s.wbuf = s.wbuf[:0]
	if sp.static {
		s.wbuf = append(s.wbuf, sp.prefix...)
		c.b = built{method: sp.method, head: sp.head, t: sp.t, body: sp.spec.StaticBody}
	} else {
		s.wbuf, c.b, err = buildDynamic(s.wbuf, x.plan, rp, sp, c.st)
		if c.st != nil {
			c.st.prev = nil // only this step reads it
		}
	}
	res.Method = c.b.method
	if err != nil {
		res.Start = time.Now()
		res.NotSent = true
		c.b.t = nil
		x.finish(s, fmt.Errorf("build request: %w", err))
		return false
	}
	static := ""
	if rp.spec.Cookies != nil {
		static = rp.spec.Cookies[res.Iteration]
		if strings.Contains(static, "{{") {
			var vars scenario.Vars
			if c.st != nil {
				vars = c.st.vars
			}
			t, terr := scenario.ParseTemplate(static)
			if terr == nil {
				static, terr = t.ExpandString(vars)
			}
			if terr == nil {
				terr = scenario.CheckHeaderValue(static)
			}
			if terr != nil {
				res.Start, res.NotSent = time.Now(), true
				c.b.t = nil
				x.finish(s, fmt.Errorf("build request: cookie: %w", terr))
				return false
			}
		}
	}
	c.cookie, c.origin = static, c.b.t
	s.wbuf = appendCookieLine(s.wbuf, static, c.st, c.b.t.url)
	s.wbuf = append(s.wbuf, "\r\n"...)
	s.wbuf = append(s.wbuf, c.b.body...)
	res.BodyBytesSent = int64(len(c.b.body))

	s.p.KeepHeader, s.p.KeepBody, s.p.CollectCookies = sp.keepHeader, sp.keepBody, rp.spec.AutoCookies
	s.p.BodyLimit = rp.spec.BufferBytes
	return true
}

// DefaultMaxRedirects is how many redirects a step that follows them
// takes before it fails (net/http's and curl's limit).
const DefaultMaxRedirects = 10

// errChainStopped ends a redirect chain when the execution stopped
// before the next Location could be requested.
var errChainStopped = errors.New("stopped before the redirect was followed")

// exchange sends the prepared request and, for a step that follows
// redirects, each Location in turn: every response followed is recorded
// as its own request (Result.Followed), the last one is left in s.res
// for finish.
func (x *execution) exchange(s *slot) error {
	c := &s.cur
	err := s.wire.roundTrip(c.b.t, c.sp, c.b.head, &s.res)
	if c.sp.follow == 0 {
		return err
	}
	first := c.b.t
	chainStart := s.res.Start
	for hop := 1; err == nil && followed(s.p.Status); hop++ {
		loc, lerr := location(s.p.Header)
		if lerr != nil {
			c.note, c.noteKind = lerr.Error(), failure.Redirect
			return nil
		}
		if loc == "" {
			return nil // a 3xx without Location is an answer of its own
		}
		u, uerr := c.b.t.url.Parse(loc)
		var t *target
		if uerr == nil {
			t, uerr = newTarget(u, x.plan.Proxy)
		}
		if uerr != nil {
			c.note, c.noteKind = fmt.Sprintf("redirect to %q: %v", h1.Clip([]byte(loc)), uerr), failure.Redirect
			return nil
		}
		if hop > c.sp.follow {
			c.note, c.noteKind = fmt.Sprintf("redirect limit %d reached (next Location %q)", c.sp.follow, h1.Clip([]byte(loc))), failure.Redirect
			return nil
		}
		if x.ending() {
			return errChainStopped
		}
		x.recordFollowed(s)
		if err := x.buildHop(s, first, t); err != nil {
			c.b.t = t
			s.res = Result{Run: s.res.Run, Iteration: s.res.Iteration, Index: s.res.Index, Step: s.res.Step, Hop: hop, ChainStart: chainStart,
				NotSent: true, Start: time.Now(), Intended: s.res.Intended}
			return err
		}
		s.res.Hop, s.res.ChainStart = hop, chainStart
		err = s.wire.roundTrip(c.b.t, c.sp.hop(), c.b.head, &s.res)
	}
	return err
}

// followed reports the statuses whose Location is followed.
func followed(status int) bool {
	switch status {
	case 301, 302, 303, 307, 308:
		return true
	}
	return false
}

// location returns the response's Location value ("" when it has none).
// Several Location fields are an error: which one the server meant is a
// guess.
func location(header []byte) (string, error) {
	var loc []byte
	n := 0
	for k, v := range headerFields(header) {
		if h1.EqualFold(k, "location") {
			loc = v
			n++
		}
	}
	if n > 1 {
		return "", fmt.Errorf("redirect with %d Location fields", n)
	}
	return string(loc), nil
}

// recordFollowed records the response in s.res as a redirect that was
// followed: its cookies go to the iteration's jar, it counts as a good
// request on the live counters, its expectations wait for the chain's
// last response.
func (x *execution) recordFollowed(s *slot) {
	c := &s.cur
	res := &s.res
	res.Followed = true
	res.Status, res.HTTP11, res.HTTP2 = s.p.Status, s.p.HTTP11, s.p.HTTP2
	res.BytesRead, res.HeaderBytes, res.BodyBytes = s.p.WireBytes, s.p.HeaderBytes, s.p.BodyBytes
	res.Truncated = s.p.Truncated
	if c.rp.spec.AutoCookies && len(s.p.SetCookies) > 0 {
		x.state(c.rp, res.Index, true).setCookies(s.p.SetCookies, c.b.t.url)
	}
	if x.plan.RecordURLs {
		res.URL = scenario.RedactURL(c.b.t.url.String())
	}
	if c.rp.spec.KeepLevel >= scenario.KeepHeaders {
		res.Header = s.p.Header
	}
	if l := x.plan.Live; l != nil {
		l.Succeeded.Add(1)
		l.HeaderBytes.Add(res.HeaderBytes)
		l.BodyBytes.Add(res.BodyBytes)
		l.BytesSent.Add(res.BytesSent)
	}
	x.rec.Record(s.id, res)
}

// buildHop writes the request for the redirect to t into s.wbuf: 301,
// 302 and 303 turn into GET without a body (HEAD stays HEAD), 307 and 308
// keep the method and body. The step's header fields go along, but
// Authorization, Cookie and Host only to the origin of the step's first
// request; cookies come from the iteration's jar for the new URL.
func (x *execution) buildHop(s *slot, first, t *target) error {
	c := &s.cur
	status := s.p.Status
	b := built{method: c.b.method, head: c.b.head, t: t, body: c.b.body}
	if status != 307 && status != 308 && b.method != "HEAD" {
		b.method, b.body = "GET", nil
	}
	sameOrigin := t.url.Scheme == first.url.Scheme && t.host == first.host && t.port == first.port
	if sameOrigin && t.auth == "" {
		t.auth = first.auth
	}
	var vars scenario.Vars
	if c.st != nil {
		vars = c.st.vars
	}
	hs, err := stepHeaders(c.sp.spec, vars)
	if err != nil {
		return err
	}
	extra := hs[:0]
	for _, h := range hs {
		switch {
		case !sameOrigin && (strings.EqualFold(h.Name, "Authorization") || strings.EqualFold(h.Name, "Cookie") || strings.EqualFold(h.Name, "Host")):
		case b.body == nil && strings.EqualFold(h.Name, "Content-Type"):
		default:
			extra = append(extra, h)
		}
	}
	ct := c.sp.spec.ContentType
	if ct == "" {
		ct = c.b.contentType
	}
	if ct == "" {
		ct = scenario.DefaultContentType
	}
	b.contentType = c.b.contentType
	s.wbuf = appendHead(s.wbuf[:0], x.plan, b.method, t, c.sp.hop().keepAlive, extra, ct, b.body != nil, len(b.body))
	static := ""
	if sameOrigin && c.rp.spec.Cookies != nil {
		static = c.cookie
	}
	st := c.st
	if st == nil {
		st = x.state(c.rp, s.res.Index, false)
	}
	s.wbuf = appendCookieLine(s.wbuf, static, st, t.url)
	s.wbuf = append(s.wbuf, "\r\n"...)
	s.wbuf = append(s.wbuf, b.body...)
	c.b = b
	s.res = Result{Run: s.res.Run, Iteration: s.res.Iteration, Index: s.res.Index, Step: s.res.Step, Method: b.method, BodyBytesSent: int64(len(b.body)),
		Intended: s.res.Intended}
	s.p.Begin(b.head)
	return nil
}

// stepHeaders returns the step's extra header fields, expanded and
// checked.
func stepHeaders(spec *scenario.StepSpec, vars scenario.Vars) ([]headerKV, error) {
	extra := make([]headerKV, 0, len(spec.Headers))
	for _, h := range spec.Headers {
		v, err := h.Value.ExpandString(vars)
		if err != nil {
			return nil, fmt.Errorf("header %s: %w", h.Name, err)
		}
		if err := scenario.CheckHeaderValue(v); err != nil {
			if scenario.IsSecretName(h.Name) {
				v = scenario.Redacted
			}
			return nil, fmt.Errorf("header %s: expanded value %q: %w", h.Name, v, err)
		}
		extra = append(extra, headerKV{Name: h.Name, Value: v})
	}
	return extra, nil
}

// hop returns the plan of a redirect chain's requests after the first.
func (sp *stepPlan) hop() *stepPlan {
	if sp.hops != nil {
		return sp.hops
	}
	return sp
}

// finish completes a request: checks, cookies, extractors, the previous
// response for the next step, then records it.
func (x *execution) finish(s *slot, err error) {
	c := &s.cur
	rp, sp, w, t := c.rp, c.sp, c.w, c.b.t
	res := &s.res
	iter := int(w.iter)
	if err != nil {
		switch {
		case res.NotSent:
			res.Kind = failure.NotSent
		case x.cutting():
			res.Interrupted, res.Kind = true, failure.Interrupted
			err = fmt.Errorf("interrupted: %w (%v)", x.cutCause(), err)
		case errors.Is(err, errChainStopped):
			res.Interrupted, res.Kind = true, failure.Interrupted
			err = fmt.Errorf("interrupted: %w (%v)", x.stopCause(), err)
		case errors.As(err, new(*connectTimeoutError)), errors.As(err, new(*ioTimeoutError)):
			res.Kind = failure.KindOf(err)
		case (errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded)) && sp.spec.TimeLimit > 0:
			res.Kind = failure.StepTimeLimit
			err = fmt.Errorf("step time limit %v exceeded: %w", sp.spec.TimeLimit, err)
		default:
			res.Kind = failure.KindOf(err)
			if res.Kind == failure.Interrupted {
				// only the cut and the stop above interrupt: a
				// request that failed otherwise is a failure
				res.Kind = failure.Other
			}
		}
		res.Status, res.Failed, res.Reason = StatusNoResponse, !res.NotSent && !res.Interrupted, reason(err)
		res.BytesRead = s.p.WireBytes
		if res.Total == 0 {
			res.Total = time.Since(res.Start)
		}
	} else {
		res.Status = s.p.Status
		res.HTTP11, res.HTTP2 = s.p.HTTP11, s.p.HTTP2
		res.BytesRead, res.HeaderBytes, res.BodyBytes = s.p.WireBytes, s.p.HeaderBytes, s.p.BodyBytes
		res.Truncated = s.p.Truncated
		if rp.spec.AutoCookies && len(s.p.SetCookies) > 0 {
			x.state(rp, iter, true).setCookies(s.p.SetCookies, t.url)
		}
		if len(s.p.Coding) > 0 && sp.keepBody && s.p.BodyBytes > 0 {
			n, cut, derr := s.dec.Body(s.p, rp.spec.BufferBytes)
			res.DecodedBytes = n
			if cut && !res.Truncated {
				res.Truncated = true
				if res.Warning != "" {
					res.Warning += "; "
				}
				res.Warning += fmt.Sprintf("decoded body (Content-Encoding %s) cut at the buffer size, %d bytes", s.p.Coding, rp.spec.BufferBytes)
			}
			if derr != nil && c.note == "" {
				c.note, c.noteKind = derr.Error(), failure.Decode
			}
		}
	}
	var resp *scenario.Response
	if sp.needResp {
		resp = responseFor(s.p, res.Status, t, err)
	}
	if err == nil {
		var vars scenario.Vars
		if st := x.state(rp, iter, sp.expectVars); st != nil {
			vars = st.vars
		}
		if c.note != "" {
			res.Failed, res.Reason, res.Kind = true, c.note, c.noteKind
		} else if reason, kind := checkExpect(sp.spec, res.Status, resp, vars); reason != "" {
			res.Failed, res.Reason, res.Kind = true, reason, kind
		}
	}
	if sp.needResp {
		if err == nil && len(sp.spec.Extract) > 0 {
			st := x.state(rp, iter, true)
			for _, ex := range sp.spec.Extract {
				v, xerr := extract(ex.Extractor, resp)
				if xerr != nil {
					if !res.Failed {
						res.Failed, res.Reason, res.Kind = true, fmt.Sprintf("extract %q: %v", ex.Name, xerr), failure.Extraction
					}
					continue
				}
				st.vars[ex.Name] = v
			}
		}
	}
	if sp.prevNext {
		if resp != nil && rp.spec.Order != scenario.DepthFirst {
			// Breadth-first, every iteration holds its previous response
			// until its next step is built: keep the body, not the parsed
			// HTML (several times its size), which the next step parses
			// again if it needs it.
			resp = &scenario.Response{Status: resp.Status, Proto: resp.Proto, Header: resp.Header, Body: resp.Body,
				Truncated: resp.Truncated, URL: resp.URL, Err: resp.Err}
		}
		x.state(rp, iter, true).prev = resp
	}
	if int(w.step) == len(rp.steps)-1 && rp.states != nil && rp.states.peek(iter) != nil {
		*rp.states.at(iter) = nil
	}
	if res.Failed || res.NotSent || x.plan.RecordURLs {
		switch {
		case t != nil:
			res.URL = scenario.RedactURL(t.url.String())
		case sp.spec.Form != nil:
			res.URL = sp.spec.Form.String()
		default:
			res.URL = scenario.RedactURL(sp.spec.URL.String())
		}
		if err == nil && (res.Failed || res.NotSent) {
			res.Sample = s.p.Body
		}
	}
	keep := rp.spec.KeepLevel
	if keep >= scenario.KeepHeaders && err == nil {
		res.Header = s.p.Header
	}
	if keep >= scenario.KeepBodies {
		res.RequestText = s.wbuf
		if err == nil {
			res.Body = s.p.Body
		}
	}
	if res.Reason != "" {
		// a reason may quote what a server sent (a Location) or a URL:
		// no output may show its secrets
		res.Reason = scenario.RedactText(res.Reason, x.plan.Secrets...)
	}
	if l := x.plan.Live; l != nil {
		if res.Failed || res.NotSent || res.Interrupted {
			l.Failed.Add(1)
		} else {
			l.Succeeded.Add(1)
		}
		l.HeaderBytes.Add(res.HeaderBytes)
		l.BodyBytes.Add(res.BodyBytes)
		l.BytesSent.Add(res.BytesSent)
	}
	if s.hold {
		s.held = true // the VU's iterator sees it first
		return
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

// checkExpect returns why the response fails the step's expectations,
// or "", and the failure's kind: failure.Status for its status,
// failure.Expectation for an expectation on its body or headers.
func checkExpect(spec *scenario.StepSpec, status int, resp *scenario.Response, vars scenario.Vars) (string, failure.Kind) {
	if reason := checkStatus(spec, status); reason != "" {
		return reason, failure.Status
	}
	for _, e := range spec.Expect {
		if reason := expect(e, resp, vars); reason != "" {
			return reason, failure.Expectation
		}
	}
	return "", failure.None
}

// checkStatus applies the step's status policy: its ExpectStatus, or
// AnyStatus, or by default 2xx and 3xx. A reason it returns is a
// failure.Status.
func checkStatus(spec *scenario.StepSpec, status int) string {
	switch {
	case spec.AnyStatus:
		return ""
	case len(spec.ExpectStatus) > 0:
		for _, c := range spec.ExpectStatus {
			if c == status {
				return ""
			}
		}
		return fmt.Sprintf("status %d, expected %v", status, spec.ExpectStatus)
	case status < 200 || status > 399:
		return fmt.Sprintf("status %d, expected 2xx or 3xx (ExpectStatus or AnyStatus accepts others)", status)
	}
	return ""
}
