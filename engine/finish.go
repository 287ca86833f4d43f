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
	"github.com/benchgate/benchgate/scenario"
)

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
			n, cut, derr := s.decodeBody(rp.spec.BufferBytes)
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
