package loadtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/benchgate/benchgate/engine"
	"github.com/benchgate/benchgate/failure"
	"github.com/benchgate/benchgate/scenario"
)

// ReportVersion is the JSON format version written by this package.
const ReportVersion = 2

// Report is everything an execution measured.
type Report struct {
	Version int       `json:"version"`
	Started time.Time `json:"started"`
	// TotalTime runs from the start of the first request to the end of
	// the last response.
	TotalTime   time.Duration `json:"total_time"`
	Concurrency int           `json:"concurrency"`
	Priority    string        `json:"priority"`

	// The counts add up: configured = sent + not sent + not started, and
	// sent = good + failed + interrupted.
	RequestsConfigured int64 `json:"requests_configured"`
	// RequestsSent counts the requests that went to the wire.
	RequestsSent int64 `json:"requests_sent"`
	// GoodResponses counts the responses that passed their step's checks
	// (status, expectations, extractions). In JSON it keeps the key
	// responses_received.
	GoodResponses int64 `json:"responses_received"`
	// ResponsesReceived is GoodResponses under its former name: set to
	// the same count wherever GoodResponses is (Execute, ReadJSON). It
	// never counted failed responses, which its name suggested.
	//
	// Deprecated: use GoodResponses; ResponsesReceived is kept for one
	// release.
	ResponsesReceived int64 `json:"-"`
	// ResponsesFailed counts the sent requests that failed, with a
	// response that failed its checks or without one.
	ResponsesFailed int64 `json:"responses_failed"`
	// RequestsInterrupted were in flight when the execution was cancelled
	// or when the time limit's grace period ended: neither good nor failed.
	RequestsInterrupted int64 `json:"requests_interrupted"`
	// RequestsNotSent could not be built (StepReport.Unsent says why).
	RequestsNotSent int64 `json:"requests_not_sent"`
	// RequestsNotStarted were configured but never begun: the execution
	// stopped first.
	RequestsNotStarted int64 `json:"requests_not_started"`
	BytesReceived      int64 `json:"bytes_received"`
	BytesSent          int64 `json:"bytes_sent"`

	Warnings []string `json:"warnings,omitempty"`
	// TLSVerifySkipped is true when certificates were not verified.
	TLSVerifySkipped bool `json:"tls_verify_skipped,omitempty"`
	// StoppedBy says why the execution ended before every request was
	// sent ("" when it completed), for people; StopErr says it as an
	// error to test with errors.Is.
	StoppedBy string `json:"stopped_by,omitempty"`
	// StopCode is StoppedBy's stable word, which StopErr reads in a
	// report read from JSON: StopTimeLimit, StopCanceled, StopDeadline or
	// StopError ("" when it completed).
	StopCode string `json:"stop_code,omitempty"`
	// stopErr is the error that stopped the execution, when this report
	// is Execute's own.
	stopErr error

	Latency *Latency     `json:"latency"`
	Runs    []*RunReport `json:"runs"`
	// Timeline has one entry per second of the execution, by the second
	// each request started in.
	Timeline []Second `json:"timeline,omitempty"`
	// Window is the length of each step's Windows.
	Window time.Duration `json:"window"`
	// Generator says whether the load generator held up.
	Generator *Generator `json:"generator,omitempty"`
	// Seed is the seed of the execution's random draws: loadtest.Seed
	// replays them.
	Seed uint64 `json:"seed"`
	// Session names the process that measured the execution (an opaque
	// id: ThisSession). Executions of one session share that process's
	// state, and often the application's (its heap, its caches, where
	// the OS put it), so they differ less from each other than from the
	// executions of another process: a stored comparison takes the
	// session as its unit where a side holds several executions of one
	// session (CompareExecutions). Set it yourself when the application
	// under test restarts between executions of one process, to an id no
	// other process uses (ThisSession() + "/" + the restart's number): a
	// name shared by processes (a constant, a bare counter) makes them
	// one session, and when every execution of both sides bears it the
	// comparison takes the execution as its unit again, calling the
	// difference between processes a change.
	Session string `json:"session,omitempty"`
	// HookErrors lists what virtual users' hooks returned or panicked
	// with, naming the VU and step.
	HookErrors []string `json:"hook_errors,omitempty"`
	// FailedShards lists the shards whose ShardInit or ShardExit hook
	// failed (engine.VUHooks).
	FailedShards []int `json:"failed_shards,omitempty"`
	// Shard says which shard of a plan run as several (Shard) this
	// report is, and what Merge checks; nil for an execution of the
	// whole plan and for a merged report.
	Shard *ShardManifest `json:"shard,omitempty"`
	// Shards lists the manifests of the shards a merged report was added
	// up from (Merge), by index: their hosts, starts and skews.
	Shards []ShardManifest `json:"shards,omitempty"`
	// MissingShards lists the shards (by index) a merged report was
	// added up without (MergeOptions.AllowMissing); such a report
	// carries an error (Err wraps ErrMissingShards, also when read back
	// by ReadJSON), so no matcher passes on it.
	MissingShards []int `json:"missing_shards,omitempty"`
	// Arrivals is the open model's account (ArrivalRate), nil otherwise.
	Arrivals *ArrivalReport `json:"arrivals,omitempty"`
	// Err is the error Execute returned with the report: an invalid
	// plan (the report is empty: nothing ran), a cancel, a hook's
	// failure. Every matcher fails on a report that carries one, saying
	// "the plan did not run: …", so that an error the spec did not
	// check cannot pass as a verdict. A spec that checked the error and
	// wants a verdict on the partial report anyway sets Err to nil.
	// WriteJSON writes its text (field "error", secrets redacted), and
	// ReadJSON restores it as an error of that text, so a report that
	// did not run to its end gives no verdict from its file either.
	Err error `json:"-"`
	// ErrText is Err's text as written to a file (WriteJSON sets it).
	ErrText string `json:"error,omitempty"`
	// notRun is true when the plan was refused: nothing was sent.
	notRun bool
	// assertions are the matchers' verdicts on the report
	// (RecordAssertion), under assertionsMu; not in any file.
	assertions *assertionLog
}

// goodResponses is GoodResponses, or ResponsesReceived in a report built
// by code that still sets only the deprecated name.
func (r *Report) goodResponses() int64 {
	if r.GoodResponses == 0 {
		return r.ResponsesReceived
	}
	return r.GoodResponses
}

// ErrTimeLimit is what StopErr wraps when the plan's time limit stopped
// the execution (engine.ErrTimeLimit).
var ErrTimeLimit = engine.ErrTimeLimit

// The words of Report.StopCode.
const (
	// StopTimeLimit: the plan's time limit stopped the execution
	// (StopErr is ErrTimeLimit).
	StopTimeLimit = "time_limit"
	// StopCanceled: the context was cancelled (StopErr is
	// context.Canceled, or the cause given to the cancel).
	StopCanceled = "canceled"
	// StopDeadline: the context's deadline passed (StopErr is
	// context.DeadlineExceeded).
	StopDeadline = "deadline"
	// StopError: another error stopped it (StopErr's text says which).
	StopError = "error"
)

// StopErr returns why the execution stopped before every request was
// sent, as an error to test with errors.Is (ErrTimeLimit,
// context.Canceled, context.DeadlineExceeded), or nil when it completed.
// Its text is StoppedBy. On a report read from JSON it is made from
// StopCode; a report written before StopCode was recorded gives an
// error that wraps none of them.
func (r *Report) StopErr() error {
	if r == nil || r.StoppedBy == "" && r.StopCode == "" {
		return nil
	}
	if r.stopErr != nil {
		return &stopError{text: r.StoppedBy, cause: r.stopErr}
	}
	var cause error
	switch r.StopCode {
	case StopTimeLimit:
		cause = ErrTimeLimit
	case StopCanceled:
		cause = context.Canceled
	case StopDeadline:
		cause = context.DeadlineExceeded
	}
	return &stopError{text: r.StoppedBy, cause: cause}
}

// stopError is StoppedBy's text around the error that stopped the
// execution.
type stopError struct {
	text  string
	cause error
}

func (e *stopError) Error() string {
	if e.text == "" && e.cause != nil {
		return e.cause.Error()
	}
	return e.text
}
func (e *stopError) Unwrap() error { return e.cause }

// stopCode is the StopCode of an error that stopped an execution.
func stopCode(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrTimeLimit):
		return StopTimeLimit
	case errors.Is(err, context.Canceled):
		return StopCanceled
	case errors.Is(err, context.DeadlineExceeded):
		return StopDeadline
	}
	return StopError
}

// DidNotRun reports whether Execute refused the plan (Err says why) and
// sent nothing.
func (r *Report) DidNotRun() bool { return r != nil && r.notRun }

// ArrivalReport is how an arrival-rate execution kept its schedule.
// Planned = Started + Dropped + the iterations the execution stopped
// before (time limit, cancel).
type ArrivalReport struct {
	// Planned is the number of iterations the schedule holds.
	Planned int64 `json:"planned"`
	Started int64 `json:"started"`
	// Dropped iterations could not start within MaxLag of their arrival,
	// or were due when the execution stopped and had not started: every
	// VU was busy. Their requests are "not started"; they count as
	// failures of the run (HaveNoFailures, HaveErrorRateBelow).
	Dropped int64 `json:"dropped"`
	// Lag is how late the started iterations began behind their arrival.
	Lag *Latency `json:"lag"`
	// Rate is the started iterations per second, from the first start
	// to the last.
	Rate  float64 `json:"rate"`
	first time.Time
	last  time.Time
}

// Second is one second of the execution's timeline.
type Second struct {
	At          int           `json:"at"` // seconds since the start
	Sent        int64         `json:"sent"`
	Good        int64         `json:"good"`
	Failed      int64         `json:"failed"`
	Interrupted int64         `json:"interrupted,omitempty"`
	NotSent     int64         `json:"not_sent,omitempty"`
	BytesRead   int64         `json:"bytes_read"`
	LatencySum  time.Duration `json:"latency_sum"` // of the good responses
	LatencyMax  time.Duration `json:"latency_max"`
}

// add adds o's counts to s (its At stays).
func (s *Second) add(o Second) {
	s.Sent += o.Sent
	s.Good += o.Good
	s.Failed += o.Failed
	s.Interrupted += o.Interrupted
	s.NotSent += o.NotSent
	s.BytesRead += o.BytesRead
	s.LatencySum += o.LatencySum
	s.LatencyMax = max(s.LatencyMax, o.LatencyMax)
}

// MeanLatency is the mean latency of the second's good responses.
func (s Second) MeanLatency() time.Duration {
	if s.Good == 0 {
		return 0
	}
	return s.LatencySum / time.Duration(s.Good)
}

// RunReport is one run's share of a Report. Report.Run returns one for a
// name that is not there, too: it holds nothing and Missing says why, so
// a matcher can say so instead of the test panicking.
type RunReport struct {
	missing   string
	report    *Report
	Name      string             `json:"name"`
	Repeat    int                `json:"repeat"`
	Order     string             `json:"order"`
	KeepLevel scenario.KeepLevel `json:"keep_level"`
	Steps     []*StepReport      `json:"steps"`
	Latency   *Latency           `json:"latency"`
	// Dropped counts the run's iterations an arrival rate could not
	// start in time (ArrivalReport.Dropped).
	Dropped int64 `json:"dropped,omitempty"`
	// AllowUnsentSteps is true when the run was declared with
	// scenario's AllowUnsentSteps: a step of it that was never sent
	// does not fail the matchers (StepsNeverSent).
	AllowUnsentSteps bool `json:"allow_unsent_steps,omitempty"`
	// Requests holds one record per request, iteration-major
	// (index iteration*len(Steps)+step), when KeepLevel ≥ 1.
	Requests *RequestLog `json:"requests,omitempty"`
	// Headers and Bodies hold the raw response headers (keep level ≥ 2)
	// and bodies (3); RequestTexts the requests as sent (3). Same index,
	// up to the highest index recorded.
	// Authorization, Proxy-Authorization and Cookie values and the values
	// of cookies set by Set-Cookie are replaced by Redacted.
	Headers      []string `json:"headers,omitempty"`
	Bodies       []string `json:"bodies,omitempty"`
	RequestTexts []string `json:"request_texts,omitempty"`
	// global maps a shard's iteration index (its records' place) to
	// the whole plan's iteration number (engine.Work.Global); nil: one
	global func(index int) int
}

// StepReport is one step's counts and latency over all iterations.
type StepReport struct {
	missing string
	run     string
	report  *Report
	// Number is the step's place in its run, from 1.
	Number int    `json:"number"`
	Name   string `json:"name"`
	// Configured is the run's repeat count: one request per iteration,
	// plus the requests of the step a VU's iterator sent again later in
	// a round (engine.Result.Again), each a request of its own.
	// Configured = Sent + NotSent + NotStarted(); Sent = Good + Failed +
	// Interrupted.
	Configured int64 `json:"configured"`
	Sent       int64 `json:"sent"`
	Good       int64 `json:"good"`
	Failed     int64 `json:"failed"`
	// First and Last are when the step's first request started and its
	// last response ended, from the start of the execution.
	First       time.Duration `json:"first"`
	Last        time.Duration `json:"last"`
	Interrupted int64         `json:"interrupted,omitempty"`
	NotSent     int64         `json:"not_sent,omitempty"`
	Truncated   int64         `json:"truncated,omitempty"`
	// Followed counts the redirects the step followed (Step.FollowRedirects):
	// requests on the wire that are not in Sent, whose response was a
	// 3xx leading on to the step's own answer. For such a step Latency
	// spans the whole chain, from its first request's start to the last
	// response's end.
	Followed int64 `json:"followed,omitempty"`
	// Retried counts the attempts a VU's iterator sent again at once
	// (engine.StepIterator): on the wire, not in Sent; the retry's
	// result is the step's.
	Retried   int64 `json:"retried,omitempty"`
	BytesRead int64 `json:"bytes_read"`
	// BodyBytes sums the response bodies' lengths; MinBodyBytes and
	// MaxBodyBytes are the shortest and longest of the good responses.
	BodyBytes int64 `json:"body_bytes"`
	// DecodedBytes sums the bodies' lengths after their Content-Encoding
	// was undone (AcceptEncoding), for the steps that read them: beside
	// BodyBytes, what came on the wire.
	DecodedBytes int64 `json:"decoded_bytes,omitempty"`
	MinBodyBytes int64 `json:"min_body_bytes"`
	MaxBodyBytes int64 `json:"max_body_bytes"`
	// Statuses counts responses by HTTP status (599: no response).
	Statuses map[int]int64 `json:"statuses"`
	// Failures counts failed requests by reason.
	Failures map[string]int64 `json:"failures,omitempty"`
	// Unsent counts the requests that could not be built, by reason.
	Unsent map[string]int64 `json:"unsent,omitempty"`
	// Kinds counts the failed and not-sent requests by kind (package
	// failure; in JSON by the kinds' words): what a gate tests
	// (matchers.HaveFailuresOnly), where Failures and Unsent, by reason,
	// are for people and may be reworded. The kinds add up to Failed +
	// NotSent; interrupted requests are counted in Interrupted only. Nil
	// in a report written before kinds were recorded.
	Kinds map[failure.Kind]int64 `json:"kinds,omitempty"`
	// FailedStatuses counts the failures of kind failure.Status by HTTP
	// status: they add up to Kinds[failure.Status].
	FailedStatuses map[int]int64 `json:"failed_statuses,omitempty"`
	// KindReasons holds, for each kind in Kinds, the reason of the first
	// request of that kind: an example to show what the kind was.
	KindReasons map[failure.Kind]string `json:"kind_reasons,omitempty"`
	// Samples keeps, for each failure and not-sent reason, the first
	// request that had it: method, URL, status and the start of the body.
	// It is kept at every keep level.
	Samples map[string]Sample `json:"samples,omitempty"`
	// Warnings counts, by reason, responses that were good but left the
	// connection unusable (bytes beyond the framed response, data on an
	// idle kept-alive connection).
	Warnings map[string]int64 `json:"warnings,omitempty"`
	Latency  *Latency         `json:"latency"`
	// Connect and FirstByte are the good responses' connect times (zero
	// on a reused connection) and times to the first response byte.
	Connect   *Latency `json:"connect,omitempty"`
	FirstByte *Latency `json:"first_byte,omitempty"`
	// TLSHandshake is the TLS handshakes of the good responses' new
	// connections (part of Connect); TLSResumed counts those that
	// resumed an earlier session. Nil and 0 without TLS.
	TLSHandshake *Latency `json:"tls_handshake,omitempty"`
	TLSResumed   int64    `json:"tls_resumed,omitempty"`
	// Corrected is Latency measured from each request's intended start
	// instead of its actual one (virtual users and arrival rates; nil for
	// the slots executor, which has no schedule): the previous
	// request's end plus the waits drawn between them, a paced round's
	// slot, an iteration's arrival. It includes the time a slow server
	// kept the request from being sent: coordinated omission corrected.
	Corrected *Latency `json:"corrected,omitempty"`
	// Windows splits the step's responses by when they started, in
	// windows of Report.Window: the units of the baseline comparison.
	Windows []Window `json:"windows,omitempty"`
}

// Window is one time window of a step's responses.
type Window struct {
	Good    int64    `json:"good"`
	Failed  int64    `json:"failed,omitempty"`
	Latency *Latency `json:"latency,omitempty"`
}

// Sample is one request that failed (or was not sent), kept to show what
// happened.
type Sample struct {
	Method string `json:"method,omitempty"`
	URL    string `json:"url,omitempty"` // credentials redacted
	Status int    `json:"status"`
	// Body is the start of the response body (at most SampleBodyBytes).
	Body string `json:"body,omitempty"`
}

// SampleBodyBytes bounds the body a Sample keeps.
const SampleBodyBytes = 256

// String shows the sample on one line, the body quoted.
func (s Sample) String() string {
	out := fmt.Sprintf("%s %s → %d", s.Method, s.URL, s.Status)
	if s.Body != "" {
		out += " " + strconv.Quote(s.Body)
	}
	return out
}

// Request is the record of one request.
type Request struct {
	// Index is the request's place in its run: iteration*steps+step.
	Index int `json:"index"`
	// NotSent is true for a request that could not be built.
	NotSent bool `json:"not_sent,omitempty"`
	// Sent is false for a request that was never started or could not
	// be built (then Reason says why).
	Sent        bool `json:"sent"`
	Interrupted bool `json:"interrupted,omitempty"`
	// At is when the request started, from the start of the execution.
	At            time.Duration `json:"at"`
	Connect       time.Duration `json:"connect"`
	Send          time.Duration `json:"send"`
	Wait          time.Duration `json:"wait"`
	HeadersDone   time.Duration `json:"headers_done"` // from the start to the end of the headers
	Total         time.Duration `json:"total"`
	Status        int           `json:"status"`
	Method        string        `json:"method,omitempty"`
	BytesSent     int64         `json:"bytes_sent"`
	BodyBytesSent int64         `json:"body_bytes_sent"`
	BytesRead     int64         `json:"bytes_read"`
	HeaderBytes   int64         `json:"header_bytes"`
	BodyBytes     int64         `json:"body_bytes"`
	Reused        bool          `json:"reused,omitempty"`
	DNSCached     bool          `json:"dns_cached,omitempty"`
	Failed        bool          `json:"failed,omitempty"`
	Reason        string        `json:"reason,omitempty"`
	// Kind is the kind of the failure Reason describes (engine.Result.Kind).
	Kind failure.Kind `json:"kind,omitempty"`
}

// Run returns the run report named name. For a name that is not there
// it returns an empty report whose Missing says so and lists the runs
// there are: matchers fail with that message, and nothing panics.
func (r *Report) Run(name string) *RunReport {
	if r == nil {
		return &RunReport{Name: name, missing: fmt.Sprintf("no run %q (no report)", name)}
	}
	names := make([]string, 0, len(r.Runs))
	for _, run := range r.Runs {
		if run == nil {
			continue
		}
		if run.Name == name {
			return run
		}
		names = append(names, run.Name)
	}
	if r.notRun && r.Err != nil {
		return &RunReport{Name: name, report: r, missing: fmt.Sprintf("no run %q: the plan did not run: %s", name, Printable(r.Err.Error()))}
	}
	return &RunReport{Name: name, missing: fmt.Sprintf("no run %q (runs: %s)", name, strings.Join(names, ", "))}
}

// Invalid says why the run's latencies cannot be trusted, or "".
func (r *RunReport) Invalid() string {
	if r == nil {
		return ""
	}
	return r.report.Invalid()
}

// Invalid says why the step's latencies cannot be trusted, or "".
func (s *StepReport) Invalid() string {
	if s == nil {
		return ""
	}
	return s.report.Invalid()
}

// Missing says why r holds nothing (a name Report.Run did not find), or "".
func (r *RunReport) Missing() string {
	if r == nil {
		return "no run (nil)"
	}
	return r.missing
}

// Missing says why s holds nothing (a step Step or StepNamed did not
// find), or "".
func (s *StepReport) Missing() string {
	if s == nil {
		return "no step (nil)"
	}
	return s.missing
}

// Run returns the name of the step's run.
func (s *StepReport) Run() string {
	if s == nil {
		return ""
	}
	return s.run
}

// Label names the step for messages: its run, number from 1 and name.
func (s *StepReport) Label() string {
	if s == nil {
		return "step (nil)"
	}
	if s.run == "" {
		return fmt.Sprintf("step %d %q", s.Number, s.Name)
	}
	return fmt.Sprintf("run %q step %d %q", s.run, s.Number, s.Name)
}

// RequestsPerSecond is requests sent divided by the total time.
func (r *Report) RequestsPerSecond() float64 {
	if r.TotalTime <= 0 {
		return 0
	}
	return float64(r.RequestsSent) / r.TotalTime.Seconds()
}

// Step returns the step report at index i (0-based: Step(0) is step
// number 1). Out of range, or on a missing run, it returns an empty
// report whose Missing says why.
func (r *RunReport) Step(i int) *StepReport {
	if r == nil || r.missing != "" {
		return &StepReport{missing: r.Missing(), Number: i + 1}
	}
	if i < 0 || i >= len(r.Steps) {
		return &StepReport{run: r.Name, Number: i + 1,
			missing: fmt.Sprintf("run %q has no step at index %d (it has %d: %s)", r.Name, i, len(r.Steps), r.stepList())}
	}
	return r.Steps[i]
}

// StepNamed returns the step report named name, like Step when there is
// none.
func (r *RunReport) StepNamed(name string) *StepReport {
	if r == nil || r.missing != "" {
		return &StepReport{missing: r.Missing(), Name: name}
	}
	for _, s := range r.Steps {
		if s != nil && s.Name == name {
			return s
		}
	}
	return &StepReport{run: r.Name, Name: name,
		missing: fmt.Sprintf("run %q has no step named %q (steps: %s)", r.Name, name, r.stepList())}
}

func (r *RunReport) stepList() string {
	parts := make([]string, 0, len(r.Steps))
	for i, s := range r.Steps {
		if s != nil {
			parts = append(parts, fmt.Sprintf("%d %q", i+1, s.Name))
		}
	}
	return strings.Join(parts, ", ")
}

// Throughput is the step's good responses per second, over the time from
// its first request to its last response.
func (s *StepReport) Throughput() float64 {
	if s == nil || s.Last <= s.First {
		return 0
	}
	return float64(s.Good) / (s.Last - s.First).Seconds()
}

// Throughput is the run's completed iterations (good responses of its
// last step) per second, from its first request to its last response.
func (r *RunReport) Throughput() float64 {
	if r == nil || len(r.Steps) == 0 {
		return 0
	}
	first, last := r.Steps[0].First, time.Duration(0)
	for _, s := range r.Steps {
		if s.Sent > 0 && (s.First < first || first == 0) {
			first = s.First
		}
		last = max(last, s.Last)
	}
	if last <= first {
		return 0
	}
	return float64(r.Steps[len(r.Steps)-1].Good) / (last - first).Seconds()
}

// DroppedIterations is how many of the step's iterations an arrival
// rate dropped (its run's Dropped): each a request of the step that was
// due and never sent.
func (s *StepReport) DroppedIterations() int64 {
	if s == nil || s.report == nil {
		return 0
	}
	for _, run := range s.report.Runs {
		if run != nil && run.Name == s.run {
			return run.Dropped
		}
	}
	return 0
}

// NotStarted is how many of the step's requests never began.
func (s *StepReport) NotStarted() int64 { return s.Configured - s.Sent - s.NotSent }

// Interrupted returns the run's interrupted requests.
func (r *RunReport) Interrupted() (n int64) {
	if r == nil {
		return 0
	}
	for _, s := range r.Steps {
		n += s.Interrupted
	}
	return n
}

// NotSent returns the run's requests that could not be built.
func (r *RunReport) NotSent() (n int64) {
	if r == nil {
		return 0
	}
	for _, s := range r.Steps {
		n += s.NotSent
	}
	return n
}

// NotStarted returns the run's requests that never began.
func (r *RunReport) NotStarted() (n int64) {
	if r == nil {
		return 0
	}
	for _, s := range r.Steps {
		n += s.NotStarted()
	}
	return n
}

// Sent, Good and Failed sum the run's steps.
func (r *RunReport) Sent() (n int64) {
	if r == nil {
		return 0
	}
	for _, s := range r.Steps {
		n += s.Sent
	}
	return n
}

// Good returns the run's good responses.
func (r *RunReport) Good() (n int64) {
	if r == nil {
		return 0
	}
	for _, s := range r.Steps {
		n += s.Good
	}
	return n
}

// Failed returns the run's failed requests.
func (r *RunReport) Failed() (n int64) {
	if r == nil {
		return 0
	}
	for _, s := range r.Steps {
		n += s.Failed
	}
	return n
}

// ReadJSON decodes a report written by WriteJSON, checking its version
// and every identity the writer keeps (counts not negative, sent = good +
// failed + interrupted, histograms holding one value per good response,
// totals the sums of the steps; see validate), so that a file edited,
// cut or made up is refused with an error naming the run, the step and
// the field. Histograms of another geometry than benchgate's are refused
// before their counts are read, and what is allocated is bounded by the
// input's size: a request log may declare no more steps than its run
// has. Every such error wraps ErrInvalidReport.
func ReadJSON(rd io.Reader) (*Report, error) {
	r, err := readJSON(rd)
	if err != nil {
		return nil, &invalidReportError{err}
	}
	return r, nil
}

// invalidReportError says what is wrong with a file and is ErrInvalidReport.
type invalidReportError struct{ err error }

func (e *invalidReportError) Error() string   { return e.err.Error() }
func (e *invalidReportError) Unwrap() []error { return []error{ErrInvalidReport, e.err} }

func readJSON(rd io.Reader) (*Report, error) {
	data, err := readAll(rd)
	if err != nil {
		return nil, err
	}
	return decodeReport(data, true)
}

// decodeReport decodes a report's JSON; with cut, the steps' windows are
// read apart (cutWindows) and encoding/json reads the rest.
func decodeReport(data []byte, cut bool) (*Report, error) {
	var cuts []windowsCut
	whole := data
	if cut {
		if reduced, c, ok := cutWindows(data); ok {
			data, cuts = reduced, c
		}
	}
	var v struct {
		Version *int `json:"version"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("report JSON: %w", err)
	}
	if v.Version == nil || *v.Version != ReportVersion {
		got := "none"
		if v.Version != nil {
			got = fmt.Sprint(*v.Version)
		}
		return nil, fmt.Errorf("report JSON: version %s, want %d", got, ReportVersion)
	}
	if err := decodeShape(data); err != nil {
		return nil, fmt.Errorf("report JSON: %w", err)
	}
	var r Report
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("report JSON: %w", err)
	}
	for _, c := range cuts { // the windows read apart, back in their steps
		if c.run >= len(r.Runs) || r.Runs[c.run] == nil || c.step >= len(r.Runs[c.run].Steps) || r.Runs[c.run].Steps[c.step] == nil {
			return decodeReport(whole, false) // cannot be: cutWindows followed the same runs and steps
		}
		r.Runs[c.run].Steps[c.step].Windows = c.windows
	}
	// before the defaults below: a histogram the file leaves out is not
	// checked, one it holds must agree with the counts
	if err := r.validate(); err != nil {
		return nil, fmt.Errorf("report JSON: %w", err)
	}
	r.ResponsesReceived = r.GoodResponses // the deprecated name, kept equal
	// a partial merge stays refused by every matcher, and so does a
	// report whose execution returned an error
	if len(r.MissingShards) > 0 {
		count := 0
		for _, m := range r.Shards {
			count = max(count, m.Count)
		}
		r.Err = missingShardsError(r.MissingShards, count)
	}
	if r.ErrText != "" && (r.Err == nil || r.Err.Error() != r.ErrText) {
		r.Err = errors.Join(r.Err, errors.New(r.ErrText))
	}
	if r.Latency == nil {
		r.Latency = NewLatency()
	}
	for i, run := range r.Runs {
		if run == nil {
			return nil, fmt.Errorf("report JSON: runs[%d] is null", i)
		}
		if run.Latency == nil {
			run.Latency = NewLatency()
		}
		run.report = &r
		for k, s := range run.Steps {
			if s == nil {
				return nil, fmt.Errorf("report JSON: run %q steps[%d] is null", run.Name, k)
			}
			s.run, s.Number, s.report = run.Name, k+1, &r
			if s.Latency == nil {
				s.Latency = NewLatency()
			}
			if s.Connect == nil {
				s.Connect = NewLatency()
			}
			if s.FirstByte == nil {
				s.FirstByte = NewLatency()
			}
		}
		want := run.Repeat * len(run.Steps)
		if run.Repeat < 0 {
			return nil, fmt.Errorf("report JSON: run %q has repeat %d", run.Name, run.Repeat)
		}
		for field, n := range map[string]int{"requests": run.Requests.Len(), "headers": len(run.Headers),
			"bodies": len(run.Bodies), "request_texts": len(run.RequestTexts)} {
			if n > want || (field == "requests" && n != 0 && n != want) {
				return nil, fmt.Errorf("report JSON: run %q has %d %s, want %d (repeat × steps)", run.Name, n, field, want)
			}
		}
		if run.Requests != nil && run.Requests.steps != len(run.Steps) {
			return nil, fmt.Errorf("report JSON: run %q: requests for %d steps, the run has %d", run.Name, run.Requests.steps, len(run.Steps))
		}
	}
	return &r, nil
}
