package engine

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/benchgate/benchgate/internal/h1"
	"github.com/benchgate/benchgate/scenario"
)

// VUHooks are the per-VU and per-request handlers of the VUs executor. Each runs on its VU's goroutine, outside every timing. An
// error or a panic in one is recorded with the VU and step it happened in
// and returned by Execute (as a *HookError); it never stops the load
// silently: Init's error ends that VU only, RequestStart's makes that
// request "not sent" with the reason, Exit's and RequestDone's are
// recorded.
type VUHooks struct {
	// Before runs once before anything else; its error sends nothing.
	// After runs once when every VU is done, before Execute returns.
	Before func() error
	After  func() error
	// ShardInit runs once per shard before any VU starts: every shard's
	// init ends before the first VU of any starts. Its error marks the
	// shard failed, and the shard's VUs never start. ShardExit runs when
	// the shard's VUs are done; its error marks the shard failed.
	ShardInit func(shard int) error
	ShardExit func(shard int) error
	// Init runs when a VU starts, before its first request; what it
	// returns is the VU's data, handed to the other hooks.
	Init func(vu int, rng *rand.Rand) (data any, err error)
	// RequestStart runs before each request is sent and may change it:
	// add header fields (checked as every header is), set its method,
	// URL and body (see RequestEvent), end the VU after it (EndVU).
	RequestStart func(e *RequestEvent) error
	// RequestDone runs after each request with its result.
	RequestDone func(e *RequestEvent, r *Result) error
	// Exit runs when the VU is done (or stopped), with its data.
	Exit func(vu int, data any) error
}

// RequestEvent is a request a hook sees.
type RequestEvent struct {
	VU, Round, Step int // Step from 0
	Data            any // what Init returned
	// Header holds the fields RequestStart adds to the request.
	Header http.Header
	// Method and URL, when RequestStart sets them, replace the step's
	// (so a hook may change the whole request): Method must be a token; URL is absolute or relative to the step's URL.
	// SetBody replaces the body. The step's header fields, the
	// iteration's cookies for the new URL and the fields in Header go
	// along, except that to another origin than the step's, the step's
	// Authorization, Cookie and Host fields and the run's static
	// cookies stay behind (as on a redirect; on the same origin the step
	// URL's user info goes along); the result is still the step's. A
	// value that cannot be sent makes the request "not sent" with the
	// reason.
	Method, URL string
	body        []byte
	bodySet     bool
	// EndVU, set by RequestStart or RequestDone, ends the VU once this
	// request is done: no post-delay, no further request or round; its
	// Exit hook runs. The requests of the
	// VU's rounds that it never sent are "not started".
	EndVU bool
}

// HookError lists the errors of hooks during an execution, and the
// shards their ShardInit or ShardExit failed.
type HookError struct {
	Errors       []string
	FailedShards []int
}

func (e *HookError) Error() string {
	return fmt.Sprintf("%d hook error(s): %s", len(e.Errors), strings.Join(e.Errors, "; "))
}

// hookLog collects hook errors from the VUs.
type hookLog struct {
	mu     sync.Mutex
	errs   []string
	shards []int // failed
}

func (h *hookLog) add(vu, step int, hook string, err error) {
	where := fmt.Sprintf("VU %d", vu)
	if step >= 0 {
		where += fmt.Sprintf(" step %d", step+1)
	}
	h.addAt(where, hook, err)
}

func (h *hookLog) addAt(where, hook string, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.errs = append(h.errs, fmt.Sprintf("%s: %s: %v", where, hook, err))
}

// shardFailed records shard's hook error and marks it failed.
func (h *hookLog) shardFailed(shard int, hook string, err error) {
	h.addAt(fmt.Sprintf("shard %d", shard), hook, err)
	h.mu.Lock()
	defer h.mu.Unlock()
	if !slices.Contains(h.shards, shard) {
		h.shards = append(h.shards, shard)
	}
}

func (h *hookLog) err() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.errs) == 0 {
		return nil
	}
	out := append([]string(nil), h.errs...)
	sort.Strings(out)
	shards := slices.Clone(h.shards)
	slices.Sort(shards)
	return &HookError{Errors: out, FailedShards: shards}
}

// callHook runs f, turning a panic into an error.
func callHook(f func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panicked: %v", p)
		}
	}()
	return f()
}

// addHeaders inserts the fields of h before the blank line of the
// request in s.wbuf (whose body is body bytes long), after checking them.
func addHeaders(s *slot, h http.Header, body int) error {
	if len(h) == 0 {
		return nil
	}
	names := make([]string, 0, len(h))
	for name := range h {
		names = append(names, name)
	}
	sort.Strings(names)
	var add []byte
	for _, name := range names {
		if !h1.IsToken([]byte(name)) {
			return fmt.Errorf("header name %q is not a token", name)
		}
		if strings.EqualFold(name, "Content-Length") || strings.EqualFold(name, "Transfer-Encoding") {
			return fmt.Errorf("header %s: benchgate frames the request itself", name)
		}
		for _, v := range h[name] {
			if err := scenario.CheckHeaderValue(v); err != nil {
				return fmt.Errorf("header %s: %w", name, err)
			}
			add = append(add, name...)
			add = append(add, ": "...)
			add = append(add, v...)
			add = append(add, "\r\n"...)
		}
	}
	at := len(s.wbuf) - body - 2 // before the blank line
	if at < 0 {
		return errors.New("no request head to add to")
	}
	s.wbuf = append(s.wbuf[:at], append(add, s.wbuf[at:]...)...)
	return nil
}

// SetBody makes b the request's body (nil: none), from RequestStart.
func (e *RequestEvent) SetBody(b []byte) { e.body, e.bodySet = b, true }

// changed reports whether RequestStart changed the method, URL or body.
func (e *RequestEvent) changed() bool { return e.Method != "" || e.URL != "" || e.bodySet }

// rebuild writes the request again into s.wbuf with the method, URL
// and body a hook or an iterator set ("" and !bodySet: the step's), the step's header fields, the iterator's
// extra ones and the iteration's cookies for the new URL.
func (x *execution) rebuild(s *slot, method, rawURL string, body []byte, bodySet bool, extra http.Header) error {
	c := &s.cur
	b := built{method: c.b.method, t: c.b.t, body: c.b.body, contentType: c.b.contentType}
	if method != "" {
		if !h1.IsToken([]byte(method)) {
			return fmt.Errorf("method %q is not a token", method)
		}
		b.method = method
	}
	if rawURL != "" {
		u, err := c.b.t.url.Parse(rawURL)
		if err == nil {
			b.t, err = newTarget(u, x.plan.Proxy)
		}
		if err != nil {
			return fmt.Errorf("URL %q: %v", scenario.RedactURL(rawURL), err)
		}
	}
	if bodySet {
		b.body = body
	}
	b.head = b.method == "HEAD" || x.plan.noBodyMethod(b.method)
	var vars scenario.Vars
	if c.st != nil {
		vars = c.st.vars
	}
	hs, err := stepHeaders(c.sp.spec, vars)
	if err != nil {
		return err
	}
	// to another origin the step's credentials stay behind, as on a
	// redirect: the hook neither sees nor can remove them (it may add
	// its own)
	o := c.origin
	sameOrigin := o != nil && b.t.url.Scheme == o.url.Scheme && b.t.host == o.host && b.t.port == o.port
	if sameOrigin && rawURL != "" && b.t.auth == "" {
		b.t.auth = o.auth // the step URL's user info, as on a redirect (b.t is new)
	}
	if !sameOrigin {
		kept := hs[:0]
		for _, h := range hs {
			if !strings.EqualFold(h.Name, "Authorization") && !strings.EqualFold(h.Name, "Cookie") && !strings.EqualFold(h.Name, "Host") {
				kept = append(kept, h)
			}
		}
		hs = kept
	}
	ct := c.sp.spec.ContentType
	if ct == "" {
		ct = b.contentType
	}
	if ct == "" {
		ct = scenario.DefaultContentType
	}
	s.wbuf = appendHead(s.wbuf[:0], x.plan, b.method, b.t, c.sp.keepAlive, hs, ct, b.body != nil, len(b.body))
	static := ""
	if c.rp.spec.Cookies != nil && sameOrigin {
		static = c.cookie
	}
	s.wbuf = appendCookieLine(s.wbuf, static, c.st, b.t.url)
	s.wbuf = append(s.wbuf, "\r\n"...)
	s.wbuf = append(s.wbuf, b.body...)
	c.b = b
	s.res.Method, s.res.BodyBytesSent = b.method, int64(len(b.body))
	s.p.Begin(b.head)
	return addHeaders(s, extra, len(b.body))
}
