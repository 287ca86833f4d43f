package matchers

import (
	"fmt"
	"sort"
	"strings"

	"github.com/benchgate/benchgate/loadtest"
)

// subject is the common view of a report, run or step.
type subject struct {
	name     string
	sent     int64
	good     int64
	failed   int64
	notSent  int64
	statuses map[int]int64
	failures map[string]int64
	latency  *loadtest.Latency
}

func subjectOf(actual any) (*subject, error) {
	switch a := actual.(type) {
	case *loadtest.Report:
		if a == nil {
			break
		}
		s := &subject{name: "report", sent: a.RequestsSent, good: a.ResponsesReceived, failed: a.ResponsesFailed, notSent: a.RequestsNotSent,
			statuses: map[int]int64{}, failures: map[string]int64{}, latency: a.Latency}
		for _, run := range a.Runs {
			addSteps(s, run, true)
		}
		return s, nil
	case *loadtest.RunReport:
		if a == nil {
			break
		}
		s := &subject{name: fmt.Sprintf("run %q", a.Name), statuses: map[int]int64{}, failures: map[string]int64{}, latency: a.Latency}
		addSteps(s, a, false)
		return s, nil
	case *loadtest.StepReport:
		if a == nil {
			break
		}
		s := &subject{name: fmt.Sprintf("step %q", a.Name), sent: a.Sent, good: a.Good, failed: a.Failed, notSent: a.NotSent,
			statuses: a.Statuses, failures: map[string]int64{}, latency: a.Latency}
		for reason, n := range a.Failures {
			s.failures[reason] += n
		}
		for reason, n := range a.Unsent {
			s.failures["not sent: "+reason] += n
		}
		return s, nil
	}
	return nil, fmt.Errorf("expected a non-nil *loadtest.Report, *loadtest.RunReport or *loadtest.StepReport, got %T", actual)
}

func addSteps(s *subject, run *loadtest.RunReport, prefixRun bool) {
	for _, st := range run.Steps {
		if !prefixRun {
			s.sent += st.Sent
			s.good += st.Good
			s.failed += st.Failed
			s.notSent += st.NotSent
		}
		for code, n := range st.Statuses {
			s.statuses[code] += n
		}
		for reason, n := range st.Failures {
			key := fmt.Sprintf("step %q: %s", st.Name, reason)
			if prefixRun {
				key = fmt.Sprintf("run %q ", run.Name) + key
			}
			s.failures[key] += n
		}
		for reason, n := range st.Unsent {
			key := fmt.Sprintf("step %q: not sent: %s", st.Name, reason)
			if prefixRun {
				key = fmt.Sprintf("run %q ", run.Name) + key
			}
			s.failures[key] += n
		}
	}
}

// counts is a one-line summary of the subject.
func (s *subject) counts() string {
	notSent := ""
	if s.notSent > 0 {
		notSent = fmt.Sprintf(", %d not sent", s.notSent)
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

// reasons lists the failure reasons, most frequent first, at most max.
func (s *subject) reasons(max int) string {
	keys := make([]string, 0, len(s.failures))
	for k := range s.failures {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if s.failures[keys[i]] != s.failures[keys[j]] {
			return s.failures[keys[i]] > s.failures[keys[j]]
		}
		return keys[i] < keys[j]
	})
	var b strings.Builder
	for i, k := range keys {
		if i == max {
			fmt.Fprintf(&b, "    ... and %d more reasons\n", len(keys)-max)
			break
		}
		fmt.Fprintf(&b, "    %d× %s\n", s.failures[k], loadtest.Printable(k))
	}
	return b.String()
}
