package scenario

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Order says how the iterations of a run are sent.
type Order int

const (
	// BreadthFirst sends the first step of every iteration, then the
	// second step of every iteration, and so on: iteration i's step k goes
	// out once its step k-1 has completed. It is the default.
	BreadthFirst Order = iota
	// DepthFirst sends one iteration's steps in order, then the next
	// iteration's: a run has at most one request in flight.
	DepthFirst
)

// String returns "breadth-first" or "depth-first".
func (o Order) String() string {
	if o == DepthFirst {
		return "depth-first"
	}
	return "breadth-first"
}

// KeepLevel says how much a run keeps of each request beyond the counts
// and latency histograms, which every level keeps. Each level keeps what
// the one below it does, and more.
type KeepLevel int

// The keep levels, named by what they add.
const (
	KeepTotals  KeepLevel = 0 // counts, byte totals and latency histograms only
	KeepTimes   KeepLevel = 1 // plus each request's times and each iteration's byte sums
	KeepHeaders KeepLevel = 2 // plus each request's sizes and response header
	KeepBodies  KeepLevel = 3 // plus each request's text and response body
)

// Deprecated keep level names, kept for one release.
const (
	// Deprecated: use KeepTotals (totals and histograms are kept).
	KeepNothing = 0
	// Deprecated: use KeepBodies.
	KeepEverything = 3
)

// RunDef is a run as declared: an ordered list of steps repeated Repeat
// times, each repetition an iteration. Make one with Run; Resolve turns
// it into the RunSpec an execution runs, and the report gives back a
// loadtest.RunReport of the same name.
type RunDef struct {
	name        string
	steps       []*Step
	repeat      int
	order       Order
	autoCookies bool
	cookies     []string
	cookiesSet  bool
	keepLevel   KeepLevel
	keepSet     bool
	bufferBytes int
	bufferSet   bool
	vars        Vars
	feeder      *Feeder
	base        string
	allowUnsent bool
}

// Sequence is the former name of RunDef.
//
// Deprecated: use RunDef; Sequence is kept for one release.
type Sequence = RunDef

// Run declares a run named name of the given steps.
func Run(name string, steps ...*Step) *RunDef {
	return &RunDef{name: name, steps: steps, autoCookies: true}
}

// Repeat sets how many iterations the run has (default: the plan's,
// loadtest.Repeat) under the slots executor. Under virtual users
// (engine.VUs) each VU walks its run Rounds times instead, and the
// run's iterations are its VUs times Rounds: Repeat gives way.
func (s *RunDef) Repeat(n int) *RunDef { s.repeat = n; return s }

// Order sets BreadthFirst (default) or DepthFirst.
func (s *RunDef) Order(o Order) *RunDef { s.order = o; return s }

// AutoCookies turns the per-iteration cookie jar on (default) or off.
// With it on, cookies set by a response are sent on the later requests of
// the same iteration; each iteration starts with an empty jar.
func (s *RunDef) AutoCookies(on bool) *RunDef { s.autoCookies = on; return s }

// Cookies sets a static Cookie header per iteration: cookies[i] goes with
// every request of iteration i. Its length must equal the repeat count.
func (s *RunDef) Cookies(cookies ...string) *RunDef {
	s.cookies, s.cookiesSet = cookies, true
	return s
}

// KeepLevel sets how much the run keeps of each request (default the
// plan's): KeepTotals, KeepTimes, KeepHeaders or KeepBodies.
func (s *RunDef) KeepLevel(level KeepLevel) *RunDef { s.keepLevel, s.keepSet = level, true; return s }

// BufferBytes bounds the response body kept per request (default the
// plan's); longer bodies are drained, cut and reported with a warning.
func (s *RunDef) BufferBytes(n int) *RunDef { s.bufferBytes, s.bufferSet = n, true; return s }

// Feed gives each iteration variables from a feeder's rows (FeedRows,
// FeedCSV).
func (s *RunDef) Feed(f *Feeder) *RunDef { s.feeder = f; return s }

// Vars sets variables every iteration starts with.
func (s *RunDef) Vars(v Vars) *RunDef { s.vars = v; return s }

// BaseURL sets the URL relative step URLs are resolved against,
// overriding the plan's (loadtest.BaseURL, the same name): its path is
// joined with each step's path, as Gatling and axios do (JoinURL).
func (s *RunDef) BaseURL(u string) *RunDef { s.base = u; return s }

// Base is BaseURL.
//
// Deprecated: use BaseURL, the plan's name for the setting.
func (s *RunDef) Base(u string) *RunDef { return s.BaseURL(u) }

// AllowUnsentSteps says the spec expects that some steps of the run may
// never be sent (a time limit or a cancel ending it first): without it,
// every matcher over the report or the run fails, naming the step and
// why, when a step of the run was configured but never sent.
func (s *RunDef) AllowUnsentSteps() *RunDef { s.allowUnsent = true; return s }

// Name returns the run's name.
func (s *RunDef) Name() string { return s.name }

// Steps returns the run's steps.
func (s *RunDef) Steps() []*Step { return s.steps }

// RepeatCount returns the declared repeat count, 0 when unset.
func (s *RunDef) RepeatCount() int { return s.repeat }

// Defaults are the plan-wide settings a run falls back to.
type Defaults struct {
	Repeat      int
	KeepLevel   KeepLevel
	BufferBytes int
	BaseURL     string
}

// RunSpec is a validated run with every default resolved: what the engine
// executes.
type RunSpec struct {
	Name        string
	Index       int
	Steps       []StepSpec
	Repeat      int
	Order       Order
	AutoCookies bool
	Cookies     []string
	KeepLevel   KeepLevel
	BufferBytes int
	Vars        Vars
	Base        *url.URL
	// Feeder fills each iteration's variables from a table, or nil.
	Feeder *Feeder
	// Stateful is true when iterations carry variables or need the
	// previous response (extractors, templates, body funcs, forms).
	Stateful bool
	// Window, when above 0, bounds the iterations of a breadth-first run
	// that the slots executor has begun and not completed: a new one
	// begins when one completes its last step, so every step is reached
	// however large Repeat is (loadtest.For sets it to the concurrency).
	// 0: every iteration may begin at once.
	Window int
	// AllowUnsentSteps: the spec expects steps of the run may never be
	// sent (RunDef.AllowUnsentSteps).
	AllowUnsentSteps bool
}

// ValidationError says which field of which run and step has a bad value.
type ValidationError struct {
	Run    string
	Step   int // 1-based; 0 for a run or plan field
	Field  string
	Value  string
	Reason string
}

// Error says which run, step and field has which bad value, and why.
func (e *ValidationError) Error() string {
	var b strings.Builder
	if e.Run != "" {
		fmt.Fprintf(&b, "run %q: ", e.Run)
	}
	if e.Step > 0 {
		fmt.Fprintf(&b, "step %d: ", e.Step)
	}
	fmt.Fprintf(&b, "%s %q: %s", e.Field, e.Value, e.Reason)
	return b.String()
}

// Resolve validates the run against the plan defaults and returns its
// spec. The error joins one *ValidationError per problem.
func (s *RunDef) Resolve(index int, d Defaults) (RunSpec, error) {
	name := s.name
	if name == "" {
		name = fmt.Sprintf("run %d", index)
	}
	spec := RunSpec{
		Name: name, Index: index, Repeat: s.repeat, Order: s.order, AutoCookies: s.autoCookies,
		Cookies: s.cookies, KeepLevel: s.keepLevel, BufferBytes: s.bufferBytes, Vars: s.vars, Feeder: s.feeder,
		AllowUnsentSteps: s.allowUnsent,
	}
	var errs []error
	bad := func(step int, field, value, reason string) {
		errs = append(errs, &ValidationError{Run: name, Step: step, Field: field, Value: value, Reason: reason})
	}
	if spec.Repeat == 0 {
		spec.Repeat = d.Repeat
	}
	if !s.keepSet {
		spec.KeepLevel = d.KeepLevel
	}
	if !s.bufferSet {
		spec.BufferBytes = d.BufferBytes
	}
	if spec.Repeat < 1 {
		bad(0, "Repeat", fmt.Sprint(spec.Repeat), "must be at least 1")
	}
	if spec.KeepLevel < 0 || spec.KeepLevel > 3 {
		bad(0, "KeepLevel", fmt.Sprint(spec.KeepLevel), "must be 0, 1, 2 or 3")
	}
	if spec.BufferBytes < 0 {
		bad(0, "BufferBytes", fmt.Sprint(spec.BufferBytes), "must not be negative")
	}
	if spec.Order != BreadthFirst && spec.Order != DepthFirst {
		bad(0, "Order", fmt.Sprint(int(spec.Order)), "must be BreadthFirst or DepthFirst")
	}
	if s.cookiesSet && len(s.cookies) != spec.Repeat {
		bad(0, "Cookies", fmt.Sprintf("%d cookies", len(s.cookies)), fmt.Sprintf("length must equal repeat (%d)", spec.Repeat))
	}
	for i, c := range s.cookies {
		if err := CheckHeaderValue(c); err != nil {
			bad(0, fmt.Sprintf("Cookies[%d]", i), c, err.Error())
		}
	}
	base := s.base
	if base == "" {
		base = d.BaseURL
	}
	if base != "" {
		u, err := parseAbsolute(base)
		if err == nil && (u.RawQuery != "" || u.ForceQuery || u.Fragment != "") {
			err = errors.New("a base URL has no query or fragment: each step's URL has its own (the base's path is joined with each step's path)")
		}
		if err != nil {
			bad(0, "BaseURL", RedactURL(base), err.Error())
		}
		spec.Base = u
	}
	if len(s.steps) == 0 {
		bad(0, "Steps", "[]", "a run needs at least one step")
	}
	aligned := make([]*StepSpec, len(s.steps)) // step k's spec, for checkVars
	for k, st := range s.steps {
		if st == nil {
			bad(k+1, "Step", "nil", "step is nil")
			continue
		}
		sp, ferrs := st.spec()
		for _, fe := range ferrs {
			bad(k+1, fe.field, fe.value, fe.reason)
		}
		urlParsed := true
		for _, fe := range ferrs {
			urlParsed = urlParsed && fe.field != "URL"
		}
		if !st.submit && st.form == nil && urlParsed {
			// checked whatever else is wrong with the step
			if err := checkURL(sp.URL, spec.Base); err != nil {
				bad(k+1, "URL", RedactURL(st.url), err.Error())
			}
		}
		if k == 0 && sp.NeedsPrevious() {
			// Allowed: the func sees a nil response. A form cannot.
			if st.form != nil {
				bad(k+1, "Form", st.form.selector, "the first step has no previous response to read a form from")
			}
		}
		if !sp.Static || len(sp.Extract) > 0 || sp.NeedsPrevious() {
			spec.Stateful = true
		}
		for _, e := range sp.Expect {
			if !e.text.Static() {
				spec.Stateful = true
			}
		}
		spec.Steps = append(spec.Steps, sp)
		aligned[k] = &sp
	}
	if len(s.vars) > 0 || s.feeder != nil {
		spec.Stateful = true
	}
	if s.feeder != nil {
		if err := s.feeder.validate(); err != nil {
			bad(0, "Feed", s.feeder.String(), err.Error())
		}
	}
	// every field's variables are checked, whatever else is wrong: one
	// run's errors are reported in one go (a field that did not parse
	// has no variables to check)
	s.checkVars(s.steps, aligned, bad)
	return spec, errors.Join(errs...)
}

func parseAbsolute(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("malformed URL: %v", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		if u.Scheme == "" {
			return nil, errors.New("not an absolute URL (no scheme)")
		}
		return nil, fmt.Errorf("unsupported scheme %q (want http or https)", u.Scheme)
	}
	if u.Host == "" {
		return nil, errors.New("no host")
	}
	if err := CheckPort(u.Port()); err != nil {
		return nil, err
	}
	return u, nil
}

// CheckPort refuses a URL port outside 1-65535 ("" is the scheme's
// default).
func CheckPort(port string) error {
	if port == "" {
		return nil
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("port %q out of range 1-65535", port)
	}
	return nil
}

// checkURL validates a step URL's shape; variables are replaced by "x".
func checkURL(t Template, base *url.URL) error {
	raw := t.placeholderText()
	if strings.HasPrefix(raw, "{{") || raw == "x" && !t.Static() {
		return nil // wholly dynamic: checked when sent
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("malformed URL: %v", err)
	}
	if u.Scheme == "" && u.Host == "" {
		if base == nil {
			return errors.New("relative URL without a base URL")
		}
		u = JoinURL(base, u)
	}
	_, err = parseAbsolute(u.String())
	return err
}
