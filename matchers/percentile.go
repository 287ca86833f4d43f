package matchers

import (
	"fmt"
	"time"

	"github.com/onsi/gomega/types"
)

// HavePercentileBelow succeeds when the p-th percentile (0-100) of the
// good responses' latency is at most bound. The failure message shows the
// percentile table and a text histogram.
func HavePercentileBelow(p float64, bound time.Duration) types.GomegaMatcher {
	return &percentileMatcher{p: p, bound: bound}
}

type percentileMatcher struct {
	p     float64
	bound time.Duration
	s     *subject
	got   time.Duration
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
	if s.latency == nil || s.latency.Count() == 0 {
		return false, fmt.Errorf("HavePercentileBelow: %s has no good responses to measure\n  %s", s.name, s.counts())
	}
	m.got = s.latency.Percentile(m.p)
	// a saturated generator keeps the verdict only where its delay
	// could not have changed it
	if why := s.refusal(fmt.Sprintf("p%v", m.p), m.got, m.bound); why != "" {
		return false, fmt.Errorf("HavePercentileBelow: %s: %s", s.name, why)
	}
	return m.got <= m.bound, nil
}

func (m *percentileMatcher) details() string {
	l := m.s.latency
	return fmt.Sprintf("  %s (%d observations, mean %v, stddev %v)\n  percentiles:\n%s  histogram:\n%s",
		m.s.counts(), l.Count(), l.Mean().Round(time.Microsecond), l.StdDev().Round(time.Microsecond), l.Table(), l.Histogram(10))
}

func (m *percentileMatcher) FailureMessage(any) string {
	return fmt.Sprintf("Expected p%v latency of %s to be at most %v, but it is %v\n%s",
		m.p, m.s.name, m.bound, m.got, m.details())
}

func (m *percentileMatcher) NegatedFailureMessage(any) string {
	return fmt.Sprintf("Expected p%v latency of %s to be above %v, but it is %v\n%s",
		m.p, m.s.name, m.bound, m.got, m.details())
}
