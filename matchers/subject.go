package matchers

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/benchgate/benchgate/loadtest"
)

// subject is the common view of a report, run or step.
type subject struct {
	name    string
	sent    int64
	good    int64
	failed  int64
	notSent int64
	// dropped counts iterations an arrival rate could not start in time;
	// droppedReqs their requests in the subject (never sent: each a
	// failure, slower than any bound)
	dropped     int64
	droppedReqs int64
	statuses    map[int]int64
	failures    []reasonEntry // in step order, the most frequent first within a step
	latency     *loadtest.Latency
	steps       []*loadtest.StepReport
	// throughput: requests (or, for a run, iterations) per second
	throughput float64
	perWhat    string
	// invalid says why latencies cannot be trusted (a saturated generator)
	invalid string
	// health is the generator's health during the execution (nil when
	// unknown): a latency bound asks it whether its verdict stands
	health *loadtest.Generator
}

// refusal says why a verdict on latency got against an upper bound
// is refused ("" when it stands): see loadtest.Generator.Refusal.
func (s *subject) refusal(what string, got, bound time.Duration) string {
	return s.health.Refusal(what, got, bound)
}

// phase returns the subject's histogram of phase p, its steps merged.
func (s *subject) phase(p loadtest.Phase) *loadtest.Latency {
	if p == loadtest.Response && s.latency != nil {
		return s.latency
	}
	l := loadtest.NewLatency()
	for _, st := range s.steps {
		l.Merge(st.PhaseLatency(p))
	}
	return l
}

// reasonEntry is one failure (or not-sent) reason of one step.
type reasonEntry struct {
	order  int // the step's place among the subject's steps
	step   string
	reason string
	n      int64
	sample *loadtest.Sample
}

// goodResponses is r.GoodResponses, or the deprecated ResponsesReceived
// in a report built by code that still sets only that name.
func goodResponses(r *loadtest.Report) int64 {
	if r.GoodResponses == 0 {
		return r.ResponsesReceived
	}
	return r.GoodResponses
}

func subjectOf(actual any) (*subject, error) {
	switch a := actual.(type) {
	case *loadtest.Report:
		if a == nil {
			return nil, fmt.Errorf("expected a *loadtest.Report, got a nil one: did the plan run? Execute returns a report (with its error) even when it did not")
		}
		recordNumbers(a)
		if why := a.NoVerdict(); why != "" {
			return nil, fmt.Errorf("%s", why)
		}
		s := &subject{name: "report", sent: a.RequestsSent, good: goodResponses(a), failed: a.ResponsesFailed, notSent: a.RequestsNotSent,
			statuses: map[int]int64{}, latency: a.Latency, perWhat: "requests"}
		if a.TotalTime > 0 {
			s.throughput = float64(goodResponses(a)) / a.TotalTime.Seconds()
		}
		s.invalid, s.health = a.Invalid(), a.Generator
		if a.Arrivals != nil {
			s.dropped = a.Arrivals.Dropped
		}
		for _, run := range a.Runs {
			if run != nil {
				addSteps(s, run, false)
				s.droppedReqs += run.Dropped * int64(len(run.Steps))
			}
		}
		return s, nil
	case *loadtest.RunReport:
		if a == nil {
			break
		}
		if m := a.Missing(); m != "" {
			return nil, fmt.Errorf("%s", m)
		}
		recordNumbers(a.Report())
		if err := noVerdict(a.Report(), a.StepsNeverSent()); err != nil {
			return nil, err
		}
		s := &subject{name: fmt.Sprintf("run %q", a.Name), statuses: map[int]int64{}, latency: a.Latency,
			throughput: a.Throughput(), perWhat: "iterations", invalid: a.Invalid(), dropped: a.Dropped, droppedReqs: a.Dropped * int64(len(a.Steps)), health: a.Health()}
		addSteps(s, a, true)
		return s, nil
	case *loadtest.StepReport:
		if a == nil {
			break
		}
		if m := a.Missing(); m != "" {
			return nil, fmt.Errorf("%s", m)
		}
		recordNumbers(a.Report())
		var never []string
		if why := a.NeverSent(); why != "" {
			never = []string{why}
		}
		if err := noVerdict(a.Report(), never); err != nil {
			return nil, err
		}
		s := &subject{name: a.Label(), statuses: map[int]int64{}, latency: a.Latency, throughput: a.Throughput(), perWhat: "requests", invalid: a.Invalid(), health: a.Health()}
		s.dropped = a.DroppedIterations()
		s.droppedReqs = s.dropped
		addStep(s, a, 0, a.Label(), true)
		return s, nil
	}
	return nil, fmt.Errorf("expected a non-nil *loadtest.Report, *loadtest.RunReport or *loadtest.StepReport, got %T", actual)
}

// noVerdict is why no verdict may be given over a run or step of r: the
// error Execute returned with r, or the steps in never that were never
// sent.
func noVerdict(r *loadtest.Report, never []string) error {
	if r != nil && r.Err != nil {
		return fmt.Errorf("%s", r.NoVerdict())
	}
	if len(never) > 0 {
		return fmt.Errorf("%s", strings.Join(never, "\n  "))
	}
	return nil
}

func addSteps(s *subject, run *loadtest.RunReport, count bool) {
	for _, st := range run.Steps {
		if st != nil {
			addStep(s, st, len(s.failures), st.Label(), count)
		}
	}
}

func addStep(s *subject, st *loadtest.StepReport, order int, label string, count bool) {
	s.steps = append(s.steps, st)
	if count {
		s.sent += st.Sent
		s.good += st.Good
		s.failed += st.Failed
		s.notSent += st.NotSent
	}
	for code, n := range st.Statuses {
		s.statuses[code] += n
	}
	var entries []reasonEntry
	add := func(prefix string, m map[string]int64) {
		for reason, n := range m {
			e := reasonEntry{order: order, step: label, reason: prefix + reason, n: n}
			if smp, ok := st.Samples[reason]; ok {
				e.sample = &smp
			}
			entries = append(entries, e)
		}
	}
	add("", st.Failures)
	add("not sent: ", st.Unsent)
	sort.Slice(entries, func(i, j int) bool {
		if entries[i].n != entries[j].n {
			return entries[i].n > entries[j].n
		}
		return entries[i].reason < entries[j].reason
	})
	s.failures = append(s.failures, entries...)
}

// counts is a one-line summary of the subject.
func (s *subject) counts() string {
	notSent := ""
	if s.notSent > 0 {
		notSent = fmt.Sprintf(", %d not sent", s.notSent)
	}
	if s.droppedReqs > 0 {
		notSent += fmt.Sprintf(", %d never sent (%d arrivals dropped)", s.droppedReqs, s.dropped)
	}
	return fmt.Sprintf("%s: %d sent, %d good, %d failed%s; statuses %s", s.name, s.sent, s.good, s.failed, notSent, formatStatuses(s.statuses))
}

func formatStatuses(m map[int]int64) string {
	codes := make([]int, 0, len(m))
	for c := range m {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	parts := make([]string, len(codes))
	for i, c := range codes {
		parts[i] = fmt.Sprintf("%d×%d", c, m[c])
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " ")
}

// reasons lists the failure reasons in step order (the first failing
// step first), each with its step, count and first sample; at most max.
func (s *subject) reasons(max int) string {
	var b strings.Builder
	for i, e := range s.failures {
		if i == max {
			fmt.Fprintf(&b, "    ... and %d more reasons\n", len(s.failures)-max)
			break
		}
		fmt.Fprintf(&b, "    %d× %s: %s\n", e.n, e.step, loadtest.Printable(e.reason))
		if e.sample != nil {
			fmt.Fprintf(&b, "        first: %s\n", loadtest.Printable(e.sample.String()))
		}
	}
	return b.String()
}
