package loadtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/benchgate/benchgate/engine"
	"github.com/benchgate/benchgate/failure"
)

// ErrInvalidReport is wrapped by every error of ReadJSON and
// ReadBaseline about the content of a file (not about opening it): not
// JSON, another version, or a report benchgate cannot have written.
var ErrInvalidReport = errors.New("not a valid benchgate report")

// reportShape is what ReadJSON reads first, before anything is
// allocated by what a file declares: the runs' steps (as empty values:
// counted, not kept) and what their request logs declare.
type reportShape struct {
	Runs []*struct {
		Name     string     `json:"name"`
		Repeat   int64      `json:"repeat"`
		Steps    []struct{} `json:"steps"`
		Requests *struct {
			Len   int64 `json:"len"`
			Steps int64 `json:"steps"`
		} `json:"requests"`
	} `json:"runs"`
}

// checkShape refuses, before the full decoding, a request log that
// declares other steps than its run has or more requests than repeat ×
// steps: what the log would allocate is then bounded by the run's steps,
// which the input holds.
func (sh *reportShape) check() error {
	for i, run := range sh.Runs {
		if run == nil || run.Requests == nil {
			continue
		}
		where := fmt.Sprintf("run %d %q", i+1, run.Name)
		rq, n := run.Requests, int64(len(run.Steps))
		switch {
		case run.Repeat < 0:
			return fmt.Errorf("%s: field repeat = %d, negative", where, run.Repeat)
		case rq.Steps != n:
			return fmt.Errorf("%s: field requests.steps = %d, the run has %d steps", where, rq.Steps, n)
		case n > 0 && run.Repeat > math.MaxInt64/n, rq.Len != run.Repeat*n:
			return fmt.Errorf("%s: field requests.len = %d, want repeat × steps = %d × %d", where, rq.Len, run.Repeat, n)
		}
	}
	return nil
}

// validate checks the identities every report benchgate writes keeps, so
// that a file edited by hand, cut or made up cannot pass for one: counts
// are not negative; per step sent = good + failed + interrupted, the
// statuses add up to good + failed, the failure and unsent reasons to
// failed and not sent, the response, connect and first-byte histograms
// hold one value per good response and the others at most that, each
// time window's histogram its good responses; a run's histogram holds
// its steps' good responses, the report's its runs'; the report's totals
// are its steps' sums. Each error names the run, the step and the field.
// Two steps of one name in a run are benchgate's own output (two GET /)
// and are allowed: Compare pairs the k-th step of a name with the k-th.
func (r *Report) validate() error {
	if r == nil {
		return errors.New("no report")
	}
	for _, f := range []struct {
		name string
		v    int64
	}{{"requests_configured", r.RequestsConfigured}, {"requests_sent", r.RequestsSent}, {"responses_received", r.goodResponses()},
		{"responses_failed", r.ResponsesFailed}, {"requests_interrupted", r.RequestsInterrupted}, {"requests_not_sent", r.RequestsNotSent},
		{"bytes_received", r.BytesReceived}, {"bytes_sent", r.BytesSent}, {"concurrency", int64(r.Concurrency)},
		{"total_time", int64(r.TotalTime)}, {"window", int64(r.Window)}} {
		if f.v < 0 {
			return fmt.Errorf("field %s = %d, negative", f.name, f.v)
		}
	}
	var sum sums
	if r.RequestsSent != sum.add(r.goodResponses(), r.ResponsesFailed, r.RequestsInterrupted) {
		return fmt.Errorf("field requests_sent = %d, but responses_received + responses_failed + requests_interrupted = %d + %d + %d",
			r.RequestsSent, r.goodResponses(), r.ResponsesFailed, r.RequestsInterrupted)
	}
	var sent, good, failed, interrupted, notSent, runsGood sums
	for i, run := range r.Runs {
		if run == nil {
			return fmt.Errorf("runs[%d] is null", i)
		}
		where := fmt.Sprintf("run %d %q", i+1, run.Name)
		if run.Repeat < 0 || run.KeepLevel < 0 || run.KeepLevel > 3 || run.Dropped < 0 {
			return fmt.Errorf("%s: field repeat = %d, keep_level = %d, dropped = %d: out of range", where, run.Repeat, run.KeepLevel, run.Dropped)
		}
		var stepsGood sums
		for k, s := range run.Steps {
			if s == nil {
				return fmt.Errorf("%s: steps[%d] is null", where, k)
			}
			if err := s.validate(); err != nil {
				return fmt.Errorf("%s step %d %q: %w", where, k+1, s.Name, err)
			}
			stepsGood.add(s.Good)
			sent.add(s.Sent)
			good.add(s.Good)
			failed.add(s.Failed)
			interrupted.add(s.Interrupted)
			notSent.add(s.NotSent)
		}
		if err := stepsGood.err(); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		if run.Latency != nil && run.Latency.Count() != stepsGood.n {
			return fmt.Errorf("%s: field latency holds %d values, its steps %d good responses", where, run.Latency.Count(), stepsGood.n)
		}
		runsGood.add(stepsGood.n)
	}
	for _, c := range []struct {
		field string
		total int64
		steps *sums
	}{{"requests_sent", r.RequestsSent, &sent}, {"responses_received", r.goodResponses(), &good}, {"responses_failed", r.ResponsesFailed, &failed},
		{"requests_interrupted", r.RequestsInterrupted, &interrupted}, {"requests_not_sent", r.RequestsNotSent, &notSent}} {
		if err := c.steps.err(); err != nil {
			return err
		}
		if len(r.Runs) > 0 && c.total != c.steps.n {
			return fmt.Errorf("field %s = %d, the steps' sum is %d", c.field, c.total, c.steps.n)
		}
	}
	if r.Latency != nil && len(r.Runs) > 0 && r.Latency.Count() != runsGood.n {
		return fmt.Errorf("field latency holds %d values, the runs %d good responses", r.Latency.Count(), runsGood.n)
	}
	if a := r.Arrivals; a != nil && (a.Planned < 0 || a.Started < 0 || a.Dropped < 0 || a.Rate < 0 || math.IsNaN(a.Rate)) {
		return fmt.Errorf("field arrivals: planned %d, started %d, dropped %d, rate %v: out of range", a.Planned, a.Started, a.Dropped, a.Rate)
	}
	if m := r.Shard; m != nil {
		if err := (engine.Segment{Index: m.Index, Count: m.Count}).Check(); err != nil || m.Count < 1 {
			return fmt.Errorf("field shard: index %d of %d", m.Index, m.Count)
		}
		if len(m.Execution) != 32 || strings.Trim(m.Execution, "0123456789abcdef") != "" {
			return fmt.Errorf("field shard.execution: %q: want the 32 hex digits of the shard's execution id", m.Execution)
		}
		// the report's times count from its start, which its
		// manifest records (and which is T0 when it was given)
		if !m.Start.Equal(r.Started) || !m.T0.IsZero() && !m.T0.Equal(r.Started) {
			return fmt.Errorf("field started: %s, its shard manifest's start %s and T0 %s", r.Started.Format(time.RFC3339Nano),
				m.Start.Format(time.RFC3339Nano), fmtT0(m.T0))
		}
	}
	// the shards merged and those missing (AllowMissing) are the count,
	// each once, the merged in order
	if len(r.MissingShards) > 0 && len(r.Shards) == 0 {
		return fmt.Errorf("field missing_shards: %v without shards", r.MissingShards)
	}
	count := len(r.Shards) + len(r.MissingShards)
	seen := make([]bool, count)
	for i, m := range r.Shards {
		if m.Count != count || m.Index < 0 || m.Index >= count || seen[m.Index] || (i > 0 && m.Index < r.Shards[i-1].Index) {
			return fmt.Errorf("field shards[%d]: shard index %d of %d in a list of %d (and %d missing)", i, m.Index, m.Count, len(r.Shards), len(r.MissingShards))
		}
		seen[m.Index] = true
	}
	for i, k := range r.MissingShards {
		if k < 0 || k >= count || seen[k] {
			return fmt.Errorf("field missing_shards[%d]: shard %d of %d, merged or missing twice or out of range", i, k, count)
		}
		seen[k] = true
	}
	for i, s := range r.Timeline {
		if s.Sent < 0 || s.Good < 0 || s.Failed < 0 || s.Interrupted < 0 || s.NotSent < 0 || s.BytesRead < 0 || s.LatencySum < 0 || s.LatencyMax < 0 {
			return fmt.Errorf("field timeline[%d]: a negative count", i)
		}
	}
	return nil
}

// validate checks one step's identities (see Report.validate).
func (s *StepReport) validate() error {
	for _, f := range []struct {
		name string
		v    int64
	}{{"configured", s.Configured}, {"sent", s.Sent}, {"good", s.Good}, {"failed", s.Failed}, {"interrupted", s.Interrupted},
		{"not_sent", s.NotSent}, {"truncated", s.Truncated}, {"followed", s.Followed}, {"retried", s.Retried},
		{"bytes_read", s.BytesRead}, {"body_bytes", s.BodyBytes}, {"decoded_bytes", s.DecodedBytes},
		{"min_body_bytes", s.MinBodyBytes}, {"max_body_bytes", s.MaxBodyBytes}, {"tls_resumed", s.TLSResumed},
		{"first", int64(s.First)}, {"last", int64(s.Last)}} {
		if f.v < 0 {
			return fmt.Errorf("field %s = %d, negative", f.name, f.v)
		}
	}
	var sum sums
	if s.Sent != sum.add(s.Good, s.Failed, s.Interrupted) || sum.err() != nil {
		return fmt.Errorf("field sent = %d, but good + failed + interrupted = %d + %d + %d", s.Sent, s.Good, s.Failed, s.Interrupted)
	}
	if s.MinBodyBytes > s.MaxBodyBytes {
		return fmt.Errorf("field min_body_bytes = %d above max_body_bytes = %d", s.MinBodyBytes, s.MaxBodyBytes)
	}
	var statuses sums
	for code, n := range s.Statuses {
		if n < 0 || code < 0 || code > 999 {
			return fmt.Errorf("field statuses: %d × status %d", n, code)
		}
		statuses.add(n)
	}
	if err := statuses.err(); err != nil || statuses.n != s.Good+s.Failed {
		return fmt.Errorf("field statuses add up to %d, good + failed = %d", statuses.n, s.Good+s.Failed)
	}
	for _, m := range []struct {
		field   string
		reasons map[string]int64
		want    int64
	}{{"failures", s.Failures, s.Failed}, {"unsent", s.Unsent, s.NotSent}, {"warnings", s.Warnings, -1}} {
		var n sums
		for reason, k := range m.reasons {
			if k < 0 {
				return fmt.Errorf("field %s: %d × %q", m.field, k, reason)
			}
			n.add(k)
		}
		if err := n.err(); err != nil {
			return fmt.Errorf("field %s: %w", m.field, err)
		}
		if m.want >= 0 && n.n != m.want {
			return fmt.Errorf("field %s add up to %d, want %d", m.field, n.n, m.want)
		}
	}
	if err := s.validateKinds(); err != nil {
		return err
	}
	for _, h := range []struct {
		field string
		l     *Latency
		exact bool
	}{{"latency", s.Latency, true}, {"connect", s.Connect, true}, {"first_byte", s.FirstByte, true},
		{"tls_handshake", s.TLSHandshake, false}, {"corrected", s.Corrected, false}} {
		if h.l == nil {
			continue
		}
		// an empty histogram is one that was not recorded: ReadJSON
		// fills those a file leaves out, and they are written back so
		if n := h.l.Count(); n > s.Good || h.exact && n != 0 && n != s.Good {
			return fmt.Errorf("field %s holds %d values for %d good responses", h.field, n, s.Good)
		}
	}
	var windowsGood, windowsFailed sums
	for i, w := range s.Windows {
		if w.Good < 0 || w.Failed < 0 {
			return fmt.Errorf("field windows[%d]: good %d, failed %d", i, w.Good, w.Failed)
		}
		if w.Latency != nil && w.Latency.Count() != w.Good {
			return fmt.Errorf("field windows[%d].latency holds %d values for %d good responses", i, w.Latency.Count(), w.Good)
		}
		windowsGood.add(w.Good)
		windowsFailed.add(w.Failed)
	}
	if windowsGood.err() != nil || windowsFailed.err() != nil || windowsGood.n > s.Good || windowsFailed.n > s.Failed {
		return fmt.Errorf("field windows hold %d good and %d failed responses, the step %d and %d", windowsGood.n, windowsFailed.n, s.Good, s.Failed)
	}
	return nil
}

// validateKinds checks the failure kinds: they add up to failed + not
// sent, and the status failures by status to the kind status, each at
// most the status's count. A report without kinds (written before they
// were recorded) has neither map and passes.
func (s *StepReport) validateKinds() error {
	if s.Kinds == nil && s.FailedStatuses == nil && s.KindReasons == nil {
		return nil
	}
	for k := range s.KindReasons {
		if s.Kinds[k] <= 0 {
			return fmt.Errorf("field kind_reasons: a reason for kind %s, which kinds do not hold", k)
		}
	}
	var n sums
	for k, c := range s.Kinds {
		if c < 0 || k == failure.None {
			return fmt.Errorf("field kinds: %d × %s", c, k)
		}
		n.add(c)
	}
	var want sums
	want.add(s.Failed, s.NotSent)
	if err := n.err(); err != nil {
		return fmt.Errorf("field kinds: %w", err)
	}
	if n.n != want.n {
		return fmt.Errorf("field kinds add up to %d, failed + not sent = %d + %d", n.n, s.Failed, s.NotSent)
	}
	var st sums
	for code, c := range s.FailedStatuses {
		if c < 0 || code < 100 || code > 999 || c > s.Statuses[code] {
			return fmt.Errorf("field failed_statuses: %d × status %d (statuses hold %d)", c, code, s.Statuses[code])
		}
		st.add(c)
	}
	if err := st.err(); err != nil || st.n != s.Kinds[failure.Status] {
		return fmt.Errorf("field failed_statuses add up to %d, kinds hold %d of kind %s", st.n, s.Kinds[failure.Status], failure.Status)
	}
	return nil
}

// sums adds non-negative counts, noting an overflow.
type sums struct {
	n        int64
	overflow bool
}

func (s *sums) add(vs ...int64) int64 {
	for _, v := range vs {
		if v < 0 || v > math.MaxInt64-s.n {
			s.overflow = true
			continue
		}
		s.n += v
	}
	return s.n
}

func (s *sums) err() error {
	if s.overflow {
		return errors.New("counts add up past 2^63 or are negative")
	}
	return nil
}

// decodeShape reads data's shape and checks it (reportShape.check).
func decodeShape(data []byte) error {
	var sh reportShape
	if err := json.Unmarshal(data, &sh); err != nil {
		return err
	}
	return sh.check()
}
