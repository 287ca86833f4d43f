package loadtest

import (
	"time"

	"github.com/benchgate/benchgate/scenario"
)

// Iteration is one repetition of a run, with what the run kept of each
// of its requests: times, sizes, headers, bodies and request texts.
// What is available depends on the run's keep level;
// accessors say so with a nil slice or a false ok, never a panic.
type Iteration struct {
	run *RunReport
	i   int
}

// Iteration returns iteration i (0-based). ok is false when i is out of
// range or the run kept no per-request data (KeepTotals).
func (r *RunReport) Iteration(i int) (Iteration, bool) {
	if i < 0 || i >= r.Repeat || r.Requests.Len() != r.Repeat*len(r.Steps) || r.Requests == nil {
		return Iteration{}, false
	}
	return Iteration{run: r, i: i}, true
}

// Index returns the iteration's number (0-based) in the whole plan. In
// the report of a shard (Shard), RunReport.Iteration(i) is the shard's
// i-th iteration of the run, and Index its number in the whole plan
// (the number {{iteration}} and the request log show).
func (it Iteration) Index() int {
	if it.run != nil && it.run.global != nil {
		return it.run.global(it.i)
	}
	return it.i
}

func (it Iteration) records() []Request {
	if it.run == nil {
		return nil
	}
	n := len(it.run.Steps)
	return it.run.Requests.slice(it.i*n, (it.i+1)*n)
}

func (it Iteration) durations(f func(*Request) time.Duration) []time.Duration {
	recs := it.records()
	if recs == nil {
		return nil
	}
	out := make([]time.Duration, len(recs))
	for k := range recs {
		out[k] = f(&recs[k])
	}
	return out
}

// Requests returns the iteration's request records, one per step.
func (it Iteration) Requests() []Request { return it.records() }

// ConnectTimes returns each step's connect time (zero when a kept-alive
// connection was reused).
func (it Iteration) ConnectTimes() []time.Duration {
	return it.durations(func(r *Request) time.Duration { return r.Connect })
}

// RequestTimes returns each step's time to send the request once connected.
func (it Iteration) RequestTimes() []time.Duration {
	return it.durations(func(r *Request) time.Duration { return r.Send })
}

// WaitTimes returns each step's time from request sent to first byte.
func (it Iteration) WaitTimes() []time.Duration {
	return it.durations(func(r *Request) time.Duration { return r.Wait })
}

// ResponseTimes returns each step's total time, from the start of the
// request (connect included) to the last byte of the response.
func (it Iteration) ResponseTimes() []time.Duration {
	return it.durations(func(r *Request) time.Duration { return r.Total })
}

// Stats summarizes a list of durations.
type Stats struct {
	Min, Max, Avg, Sum time.Duration
}

// Summarize returns the min, max, average and sum of ds.
func Summarize(ds []time.Duration) Stats {
	var s Stats
	for i, d := range ds {
		if i == 0 || d < s.Min {
			s.Min = d
		}
		if d > s.Max {
			s.Max = d
		}
		s.Sum += d
	}
	if len(ds) > 0 {
		s.Avg = s.Sum / time.Duration(len(ds))
	}
	return s
}

func (it Iteration) sizes(min scenario.KeepLevel, f func(*Request) int64) ([]int64, bool) {
	if it.run == nil || it.run.KeepLevel < min {
		return nil, false
	}
	recs := it.records()
	out := make([]int64, len(recs))
	for k := range recs {
		out[k] = f(&recs[k])
	}
	return out, true
}

func sum(xs []int64) (n int64) {
	for _, x := range xs {
		n += x
	}
	return n
}

// BytesPosted returns each step's request body length (keep level ≥ 2).
func (it Iteration) BytesPosted() ([]int64, bool) {
	return it.sizes(2, func(r *Request) int64 { return r.BodyBytesSent })
}

// SumBytesPosted returns the iteration's total request body bytes.
func (it Iteration) SumBytesPosted() (int64, bool) {
	xs, ok := it.sizes(1, func(r *Request) int64 { return r.BodyBytesSent })
	return sum(xs), ok
}

// BytesRead returns each step's bytes read: status line, headers and body
// (keep level ≥ 2).
func (it Iteration) BytesRead() ([]int64, bool) {
	return it.sizes(2, func(r *Request) int64 { return r.BytesRead })
}

// SumBytesRead returns the iteration's total bytes read.
func (it Iteration) SumBytesRead() (int64, bool) {
	xs, ok := it.sizes(1, func(r *Request) int64 { return r.BytesRead })
	return sum(xs), ok
}

// BodyLengths returns each step's response body length (keep level ≥ 2).
// BodyLengths[k] equals BytesRead[k] minus the length of
// ResponseHeaders[k] for a response without chunked framing.
func (it Iteration) BodyLengths() ([]int64, bool) {
	return it.sizes(2, func(r *Request) int64 { return r.BodyBytes })
}

// Statuses returns each step's HTTP status (599 when no response came).
func (it Iteration) Statuses() []int {
	recs := it.records()
	out := make([]int, len(recs))
	for k := range recs {
		out[k] = recs[k].Status
	}
	return out
}

func (it Iteration) texts(min scenario.KeepLevel, pick func(*RunReport) []string) ([]string, bool) {
	if it.run == nil || it.run.KeepLevel < min {
		return nil, false
	}
	all := pick(it.run)
	n := len(it.run.Steps)
	out := make([]string, n)
	for k := range out {
		if j := it.i*n + k; j < len(all) {
			out[k] = all[j]
		}
	}
	return out, true
}

// ResponseHeaders returns each step's raw response headers, status line
// included (keep level ≥ 2).
func (it Iteration) ResponseHeaders() ([]string, bool) {
	return it.texts(2, func(r *RunReport) []string { return r.Headers })
}

// ResponseBodies returns each step's response body, cut at the buffer
// size (keep level 3), with its secrets redacted as failure samples
// are (scenario.RedactText with the plan's RedactFields: the values of
// secret name=value pairs, of secret fields of the JSON it holds, and
// URLs' passwords), since the reports that keep it are shared.
func (it Iteration) ResponseBodies() ([]string, bool) {
	return it.texts(3, func(r *RunReport) []string { return r.Bodies })
}

// RequestTexts returns each step's request as sent, headers and body
// (keep level 3).
func (it Iteration) RequestTexts() ([]string, bool) {
	return it.texts(3, func(r *RunReport) []string { return r.RequestTexts })
}
