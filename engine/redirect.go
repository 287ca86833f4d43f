package engine

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/benchgate/benchgate/failure"
	"github.com/benchgate/benchgate/internal/h1"
	"github.com/benchgate/benchgate/scenario"
)

// DefaultMaxRedirects is how many redirects a step that follows them
// takes before it fails (net/http's and curl's limit).
const DefaultMaxRedirects = 10

// errChainStopped ends a redirect chain when the execution stopped
// before the next Location could be requested.
var errChainStopped = errors.New("stopped before the redirect was followed")

// followed reports the statuses whose Location is followed.
func followed(status int) bool {
	switch status {
	case 301, 302, 303, 307, 308:
		return true
	}
	return false
}

// exchange sends the prepared request and, for a step that follows
// redirects, each Location in turn: every response followed is recorded
// as its own request (Result.Followed), the last one is left in s.res
// for finish.
func (x *execution) exchange(s *slot) error {
	c := &s.cur
	err := x.roundTrip(s, c.b.t, c.sp, c.b.head, &s.res)
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
		err = x.roundTrip(s, c.b.t, c.sp.hop(), c.b.head, &s.res)
	}
	return err
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
