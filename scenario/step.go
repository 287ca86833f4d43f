package scenario

import (
	"fmt"
	"net/textproto"
	"strings"
	"time"
)

// DefaultContentType is sent with every request body unless the step sets
// another.
const DefaultContentType = "application/x-www-form-urlencoded"

// Step is one request template of a run. Build one with Get, Head, Post,
// PostForm, Put, Delete, Request, Submit, PostIfBody or
// PostIfBodyElseHead, then chain options.
//
// Every builder in this package (steps, runs, forms, selections) changes
// its receiver and returns it, so a chain reads as one declaration and a
// call whose result is dropped still takes effect: s.Header("A", "1") on
// its own line changes s. Build a new step for each variant you need.
type Step struct {
	name          string
	method        string // explicit method; "" derives POST or GET/HEAD from the body
	head          bool   // derived: HEAD when no body
	url           string
	form          *Form
	submit        bool
	explicit      bool // Request: the method is sent as given, body or not
	headers       []HeaderField
	body          Body
	bodySet       bool
	contentType   string
	keepAlive     *bool
	keepAliveMode *KeepAliveMode
	timeLimit     time.Duration
	connectLimit  time.Duration
	ioLimit       time.Duration
	follow        *int
	thinkMin      time.Duration
	thinkMax      time.Duration
	preDelay      time.Duration
	preJitter     time.Duration
	postDelay     time.Duration
	postJitter    time.Duration
	extract       []Extraction
	expectStatus  []int
	anyStatus     bool
	expect        []Expectation
}

// HeaderField is one extra request header; Value may use {{var}}.
type HeaderField struct {
	Name  string
	Value string
}

// Extraction saves the value an Extractor finds in the step's response
// under Name in the iteration's variables.
type Extraction struct {
	Name      string
	Extractor Extractor
}

// Get is a step that sends GET url. Giving it a body is a validation
// error: use Request("GET", url).Body(...) to send one on purpose, or
// PostIfBody for a method that follows the body.
func Get(url string) *Step { return &Step{url: url, method: "GET"} }

// Head is a step that sends HEAD url (a body is a validation error).
func Head(url string) *Step { return &Step{url: url, method: "HEAD"} }

// PostIfBody is a step whose method follows its body: it sends POST
// when its body (a BodyFunc, say) yields one, and GET when it yields
// none.
func PostIfBody(url string) *Step { return &Step{url: url} }

// PostIfBodyElseHead is PostIfBody with HEAD instead of GET when the body
// yields none.
func PostIfBodyElseHead(url string) *Step { return &Step{url: url, head: true} }

// Post is a step that sends body to url with POST. The body may use
// {{var}}.
func Post(url, body string) *Step { return (&Step{url: url, method: "POST"}).Body(body) }

// PostForm is a step that POSTs the fields url-encoded.
func PostForm(url string, fields ...FieldValue) *Step {
	s := &Step{url: url, method: "POST"}
	fs, err := parseFields(fields)
	if err != nil {
		s.body, s.bodySet = errBody{err}, true
		return s
	}
	s.body, s.bodySet = formBody{fs}, true
	return s
}

// Put is a step that sends body to url with PUT.
func Put(url, body string) *Step { return (&Step{url: url, method: "PUT"}).Body(body) }

// Delete is a step that sends DELETE url.
func Delete(url string) *Step { return &Step{url: url, method: "DELETE"} }

// Request is a step with any method token (OPTIONS, PATCH, PROPFIND, ...);
// it sends a body if given one, whatever the method.
func Request(method, url string) *Step { return &Step{url: url, method: method, explicit: true} }

// Submit is a step that sends the form read from the previous response to
// its action with its method: the fields go in the body of a POST or the
// query of a GET.
func Submit(f *Form) *Step { return &Step{form: f, submit: true} }

// errBody carries a declaration error to validation.
type errBody struct{ err error }

func (e errBody) Build(*Response, Vars) ([]byte, bool, error) { return nil, false, e.err }

// Named gives the step a name for reports; by default it is "METHOD url".
func (s *Step) Named(name string) *Step { s.name = name; return s }

// Header adds a request header after the standard ones. A name may repeat;
// the value may use {{var}}.
func (s *Step) Header(name, value string) *Step {
	s.headers = append(s.headers, HeaderField{name, value})
	return s
}

// Body sets a static or templated body.
func (s *Step) Body(body string) *Step {
	t, err := ParseTemplate(body)
	if err != nil {
		s.body, s.bodySet = errBody{fmt.Errorf("body: %w", err)}, true
		return s
	}
	s.body, s.bodySet = templateBody{t}, true
	return s
}

// BodyFrom sets a Body builder, such as a BodyFunc or a Form.
func (s *Step) BodyFrom(b Body) *Step { s.body, s.bodySet = b, true; return s }

// BodyFunc sets the body from a Go func of the previous response.
func (s *Step) BodyFunc(f func(prev *Response, vars Vars) (body string, ok bool)) *Step {
	return s.BodyFrom(BodyFunc(f))
}

// ContentType sets the Content-Type sent with a body.
func (s *Step) ContentType(ct string) *Step { s.contentType = ct; return s }

// KeepAlive asks for a persistent connection for this step, overriding
// the plan's setting.
func (s *Step) KeepAlive(on bool) *Step { s.keepAlive = &on; return s }

// KeepAliveMode says two things about a step's request: whether it may
// take a connection an earlier request left open (its slot's connection,
// or one its virtual user keeps to the same origin), and whether its own
// connection is left open for later requests after the response.
type KeepAliveMode int

// The keep-alive modes, named by what the request does with a
// connection: how it gets one, then what it does with it.
const (
	// OpenThenClose opens a new connection and closes it after the
	// response: KeepAlive(false).
	OpenThenClose KeepAliveMode = 0
	// ReuseThenClose takes a connection left open when there is one (a
	// new one otherwise) and closes it after the response.
	ReuseThenClose KeepAliveMode = 1
	// OpenThenKeep opens a new connection and leaves it open after the
	// response.
	OpenThenKeep KeepAliveMode = 2
	// ReuseThenKeep takes a connection left open when there is one and
	// leaves it open after the response: KeepAlive(true).
	ReuseThenKeep KeepAliveMode = 3
)

// Reuses reports whether a request of mode m may take a connection an
// earlier request left open.
func (m KeepAliveMode) Reuses() bool { return m&ReuseThenClose != 0 }

// Keeps reports whether a request of mode m leaves its connection open
// after the response.
func (m KeepAliveMode) Keeps() bool { return m&OpenThenKeep != 0 }

// Deprecated keep-alive mode names, kept for one release.
const (
	// Deprecated: use ReuseThenClose.
	KeepAliveUse = 1
	// Deprecated: use OpenThenKeep.
	KeepAliveStore = 2
	// Deprecated: use ReuseThenKeep.
	KeepAliveBoth = 3
)

// KeepAliveMode sets the step's keep-alive mode, overriding KeepAlive and
// the plan's setting: OpenThenClose, ReuseThenClose, OpenThenKeep or
// ReuseThenKeep.
func (s *Step) KeepAliveMode(mode KeepAliveMode) *Step { s.keepAliveMode = &mode; return s }

// Think makes a virtual user pause for d after this step's response,
// before its next step (the VU executor; the slots executor sends as fast
// as it can).
func (s *Step) Think(d time.Duration) *Step { s.thinkMin, s.thinkMax = d, d; return s }

// ThinkBetween makes a virtual user pause after this step's response for
// a time drawn uniformly from [min, max] by its seeded generator.
func (s *Step) ThinkBetween(min, max time.Duration) *Step {
	s.thinkMin, s.thinkMax = min, max
	return s
}

// PreDelay makes a virtual user wait delay − jitter + a random share of
// 2·jitter (never less than nothing) before sending this step.
func (s *Step) PreDelay(delay, jitter time.Duration) *Step {
	s.preDelay, s.preJitter = delay, jitter
	return s
}

// PostDelay makes a virtual user wait after this step's response (even
// after its last one) as PreDelay waits before it.
func (s *Step) PostDelay(delay, jitter time.Duration) *Step {
	s.postDelay, s.postJitter = delay, jitter
	return s
}

// FollowRedirects makes the step follow up to n redirects (301, 302,
// 303, 307, 308 with a Location; 0 follows none), whatever the plan
// says. Each response followed is recorded as a request of its own
// (Result.Followed); the step's status policy, expectations and
// extractors apply to the last response, and a chain longer than n
// fails the step. 301, 302 and 303 continue with GET and no body, 307
// and 308 keep the method and body; Authorization, Cookie and Host
// header fields go only to the origin of the step's first request.
func (s *Step) FollowRedirects(n int) *Step { s.follow = &n; return s }

// ConnectTimeout bounds opening the connection: resolving, TCP connect,
// a proxy's CONNECT and the TLS handshake. TimeLimit still bounds the
// whole request.
func (s *Step) ConnectTimeout(d time.Duration) *Step { s.connectLimit = d; return s }

// IOTimeout bounds each wait for the connection once it is open: a
// write that makes no progress, or a read that gets no byte, for d
// fails the request ("I/O timeout"), however long the response takes
// in all while bytes keep coming (TimeLimit bounds that).
func (s *Step) IOTimeout(d time.Duration) *Step { s.ioLimit = d; return s }

// TimeLimit bounds the whole request, from connect to the last byte:
// each request of the step, a failure when it passes (the plan's
// loadtest.TimeLimit bounds the whole execution instead, and is not a
// failure).
func (s *Step) TimeLimit(d time.Duration) *Step { s.timeLimit = d; return s }

// Extract saves what x finds in this step's response as variable name.
func (s *Step) Extract(name string, x Extractor) *Step {
	s.extract = append(s.extract, Extraction{name, x})
	return s
}

// ExpectStatus makes a response count as failed unless its status is one
// of codes. Without it (or AnyStatus) only 2xx and 3xx responses are
// good, unless the plan sets another default.
func (s *Step) ExpectStatus(codes ...int) *Step {
	s.expectStatus = append(s.expectStatus, codes...)
	return s
}

// AnyStatus makes every status a good response (a 404 page you measure on
// purpose, say). Other expectations still apply.
func (s *Step) AnyStatus() *Step { s.anyStatus = true; return s }

// Name returns the step's name for reports.
func (s *Step) Name() string {
	if s.name != "" {
		return s.name
	}
	switch {
	case s.submit && s.form == nil:
		return "submit (no form)"
	case s.form != nil:
		return "submit " + s.form.selector
	case s.method != "":
		return s.method + " " + RedactURL(s.url)
	case s.head:
		return "POST or HEAD " + RedactURL(s.url)
	}
	return "POST or GET " + RedactURL(s.url)
}

// StepSpec is the validated, read-only form of a Step that the engine
// executes.
type StepSpec struct {
	Name        string
	Method      string // explicit method, or "" to derive GET/POST/HEAD
	Head        bool
	URL         Template // unused when Form is set
	Form        *Form
	Headers     []HeaderSpec
	Body        Body // nil: no body
	StaticBody  []byte
	Static      bool // body, URL and headers need no variables or previous response
	ContentType string
	KeepAlive   *bool
	// KeepAliveMode, when set, overrides KeepAlive.
	KeepAliveMode *KeepAliveMode
	TimeLimit     time.Duration
	// FollowRedirects, when set, is how many redirects the step follows
	// (0: none), overriding the plan's.
	FollowRedirects *int
	// ConnectTimeout bounds opening a connection for the step.
	ConnectTimeout time.Duration
	// IOTimeout bounds each write or read without progress.
	IOTimeout time.Duration
	// ThinkMin and ThinkMax bound the pause after the step (VUs).
	ThinkMin, ThinkMax time.Duration
	// PreDelay, PreJitter, PostDelay and PostJitter are the waits
	// around the request (VUs; Step.PreDelay, Step.PostDelay).
	PreDelay, PreJitter, PostDelay, PostJitter time.Duration
	Extract                                    []Extraction
	ExpectStatus                               []int
	// AnyStatus accepts every status; when neither it nor ExpectStatus
	// is set, 2xx and 3xx are good.
	AnyStatus bool
	Expect    []Expectation
}

// HeaderSpec is a parsed extra header.
type HeaderSpec struct {
	Name  string
	Value Template
}

// NeedsPrevious reports whether building the request reads the previous
// response.
func (s *StepSpec) NeedsPrevious() bool {
	if s.Form != nil {
		return true
	}
	switch s.Body.(type) {
	case nil, templateBody, formBody:
		return false
	}
	return true
}

func (s *Step) spec() (StepSpec, []fieldError) {
	var errs []fieldError
	sp := StepSpec{
		Name: s.Name(), Method: s.method, Head: s.head, Form: s.form, Body: s.body,
		ContentType: s.contentType, KeepAlive: s.keepAlive, KeepAliveMode: s.keepAliveMode, TimeLimit: s.timeLimit, FollowRedirects: s.follow, ConnectTimeout: s.connectLimit, IOTimeout: s.ioLimit, ThinkMin: s.thinkMin, ThinkMax: s.thinkMax,
		PreDelay: s.preDelay, PreJitter: s.preJitter, PostDelay: s.postDelay, PostJitter: s.postJitter,
		Extract: s.extract, ExpectStatus: s.expectStatus, AnyStatus: s.anyStatus, Expect: s.expect,
	}
	if s.method != "" && !validToken(s.method) {
		errs = append(errs, fieldError{"Method", s.method, "not an HTTP method token"})
	}
	if s.submit && s.form == nil {
		errs = append(errs, fieldError{"Form", "nil", "Submit needs a form (FormFrom)"})
	} else if s.form != nil {
		if err := s.form.validate(); err != nil {
			errs = append(errs, fieldError{"Form", s.form.selector, err.Error()})
		}
	} else {
		t, err := ParseTemplate(s.url)
		if err != nil {
			errs = append(errs, fieldError{"URL", RedactURL(s.url), err.Error()})
		}
		sp.URL = t.forURL()
	}
	for _, h := range s.headers {
		if !validToken(h.Name) {
			errs = append(errs, fieldError{"Header", h.Name, "not a valid header name"})
			continue
		}
		if err := CheckHeaderValue(h.Value); err != nil {
			v := h.Value
			if IsSecretName(h.Name) {
				v = Redacted
			}
			errs = append(errs, fieldError{"Header " + h.Name, v, err.Error()})
			continue
		}
		if framing(h.Name) {
			errs = append(errs, fieldError{"Header", h.Name, "benchgate frames every request itself (Content-Length from the body); a second framing would let the server read the request differently"})
			continue
		}
		t, err := ParseTemplate(h.Value)
		if err != nil {
			errs = append(errs, fieldError{"Header " + h.Name, h.Value, err.Error()})
			continue
		}
		sp.Headers = append(sp.Headers, HeaderSpec{textproto.CanonicalMIMEHeaderKey(h.Name), t})
	}
	if err := CheckHeaderValue(s.contentType); err != nil {
		errs = append(errs, fieldError{"ContentType", s.contentType, err.Error()})
	}
	if s.timeLimit < 0 {
		errs = append(errs, fieldError{"TimeLimit", s.timeLimit.String(), "must not be negative"})
	}
	if s.follow != nil && *s.follow < 0 {
		errs = append(errs, fieldError{"FollowRedirects", fmt.Sprint(*s.follow), "must not be negative"})
	}
	if s.connectLimit < 0 {
		errs = append(errs, fieldError{"ConnectTimeout", s.connectLimit.String(), "must not be negative"})
	}
	if s.ioLimit < 0 {
		errs = append(errs, fieldError{"IOTimeout", s.ioLimit.String(), "must not be negative"})
	}
	if m := s.keepAliveMode; m != nil && (*m < OpenThenClose || *m > ReuseThenKeep) {
		errs = append(errs, fieldError{"KeepAliveMode", fmt.Sprint(int(*m)), "must be OpenThenClose, ReuseThenClose, OpenThenKeep or ReuseThenKeep (0 to 3)"})
	}
	if s.preDelay < 0 || s.preJitter < 0 || s.postDelay < 0 || s.postJitter < 0 {
		errs = append(errs, fieldError{"Delay", fmt.Sprintf("pre %v±%v post %v±%v", s.preDelay, s.preJitter, s.postDelay, s.postJitter), "must not be negative"})
	}
	if s.thinkMin < 0 || s.thinkMax < s.thinkMin {
		errs = append(errs, fieldError{"Think", fmt.Sprintf("%v..%v", s.thinkMin, s.thinkMax), "must be 0 or more, the least first"})
	}
	switch b := s.body.(type) {
	case errBody:
		errs = append(errs, fieldError{"Body", "", b.err.Error()})
	case validator:
		if err := b.validate(); err != nil {
			errs = append(errs, fieldError{"Body", fmt.Sprint(b), err.Error()})
		}
	}
	if s.bodySet && s.body == nil {
		errs = append(errs, fieldError{"Body", "nil", "body builder is nil"})
	}
	for _, x := range s.extract {
		if !validVarName(x.Name) {
			errs = append(errs, fieldError{"Extract", x.Name, "invalid variable name"})
		}
		if x.Extractor == nil {
			errs = append(errs, fieldError{"Extract " + x.Name, "nil", "extractor is nil"})
			continue
		}
		if v, ok := x.Extractor.(validator); ok {
			if err := v.validate(); err != nil {
				errs = append(errs, fieldError{"Extract " + x.Name, fmt.Sprint(x.Extractor), err.Error()})
			}
		}
	}
	for _, c := range s.expectStatus {
		if c < 100 || c > 599 {
			errs = append(errs, fieldError{"ExpectStatus", fmt.Sprint(c), "not an HTTP status code (100-599)"})
		}
	}
	if s.anyStatus && len(s.expectStatus) > 0 {
		errs = append(errs, fieldError{"AnyStatus", fmt.Sprint(s.expectStatus), "a step has ExpectStatus or AnyStatus, not both"})
	}
	for _, e := range s.expect {
		if err := e.validate(); err != nil {
			errs = append(errs, fieldError{"Expect", e.String(), err.Error()})
		}
	}
	if s.bodySet && (s.method == "GET" || s.method == "HEAD") && !s.explicit {
		errs = append(errs, fieldError{"Body", s.method + " " + RedactURL(s.url),
			fmt.Sprintf("a %s step sends no body: use Request(%q, url).Body(...) to send one on purpose, Post, or PostIfBody for a method that follows the body", s.method, s.method)})
	}
	hdrStatic := true
	for _, h := range sp.Headers {
		hdrStatic = hdrStatic && h.Value.Static()
	}
	if tb, ok := s.body.(templateBody); ok && tb.t.Static() {
		sp.StaticBody = []byte(tb.t.src)
	}
	sp.Static = s.form == nil && sp.URL.Static() && hdrStatic && (s.body == nil || sp.StaticBody != nil)
	return sp, errs
}

type fieldError struct{ field, value, reason string }

// framing reports the header fields that frame a message.
func framing(name string) bool {
	return strings.EqualFold(name, "Content-Length") || strings.EqualFold(name, "Transfer-Encoding")
}

// CheckHeaderValue refuses what must never reach a header field: CR, LF,
// NUL and every other control character but horizontal tab (RFC 9110
// §5.5). The error names the character and where it is.
func CheckHeaderValue(v string) error {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return fmt.Errorf("control character %q at byte %d: it could end the header and inject another", c, i)
		}
	}
	return nil
}

// validToken reports whether s is an RFC 9110 token.
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			continue
		}
		if !strings.ContainsRune("!#$%&'*+-.^_`|~", rune(c)) {
			return false
		}
	}
	return true
}
