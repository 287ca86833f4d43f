package matchers

import (
	"fmt"
	"time"

	"github.com/onsi/gomega/types"
)

// HavePercentileBelow succeeds when the p-th percentile (0-100) of the
// good responses' latency is at most bound. The failure message shows the
// percentile table and a text histogram. An arrival rate's dropped
// iterations count as requests slower than any bound: their requests
// were due and never sent, so the percentile is taken over the good
// responses and those, and fails when it falls among them.
func HavePercentileBelow(p float64, bound time.Duration) types.GomegaMatcher {
	return &percentileMatcher{p: p, bound: bound}
}

type percentileMatcher struct {
	p     float64
	bound time.Duration
	s     *subject
	got   time.Duration
	// dropped: the percentile falls among the dropped arrivals' requests
	dropped bool
}

func (m *percentileMatcher) Match(actual any) (bool, error) {
	if m.p < 0 || m.p > 100 {
		return false, fmt.Errorf("HavePercentileBelow: percentile %v is outside 0-100", m.p)
	}
	s, err := subjectOf(actual)
	if err != nil {
		return false, err
	}
	m.s = s
	if s.invalid != "" {
		return false, fmt.Errorf("HavePercentileBelow: %s: %s", s.name, s.invalid)
	}
	if s.latency == nil || s.latency.Count() == 0 {
		return false, fmt.Errorf("HavePercentileBelow: %s has no good responses to measure\n  %s", s.name, s.counts())
	}
	if d := s.droppedReqs; d > 0 {
		// the dropped ones above every good response
		n := s.latency.Count()
		q := m.p * float64(n+d) / float64(n)
		if q > 100 {
			m.dropped = true
			return false, nil
		}
		m.got = s.latency.Percentile(q)
		return m.got <= m.bound, nil
	}
	m.got = s.latency.Percentile(m.p)
	return m.got <= m.bound, nil
}

// value is the percentile found, or why there is none.
func (m *percentileMatcher) value() string {
	if m.dropped {
		return fmt.Sprintf("among the %d requests of dropped arrivals (never sent: slower than any bound)", m.s.droppedReqs)
	}
	if m.s.droppedReqs > 0 {
		return fmt.Sprintf("%v (over the good responses and the %d requests of dropped arrivals, counted as slower than any)", m.got, m.s.droppedReqs)
	}
	return m.got.String()
}

func (m *percentileMatcher) details() string {
	l := m.s.latency
	return fmt.Sprintf("  %s (%d observations, mean %v, stddev %v)\n  percentiles:\n%s  histogram:\n%s",
		m.s.counts(), l.Count(), l.Mean().Round(time.Microsecond), l.StdDev().Round(time.Microsecond), l.Table(), l.Histogram(10))
}

func (m *percentileMatcher) FailureMessage(any) string {
	return fmt.Sprintf("Expected p%v latency of %s to be at most %v, but it is %s\n%s",
		m.p, m.s.name, m.bound, m.value(), m.details())
}

func (m *percentileMatcher) NegatedFailureMessage(any) string {
	return fmt.Sprintf("Expected p%v latency of %s to be above %v, but it is %s\n%s",
		m.p, m.s.name, m.bound, m.value(), m.details())
}
