package matchers

import (
	"fmt"
	"math"
	"time"

	"github.com/onsi/gomega/types"
)

// HavePercentileBelow succeeds when the p-th percentile (1-100: 95 is
// p95) of the good responses' latency is at most bound. A p below 1
// (0.95: did you mean 95?) and a bound that is not positive are refused.
// The failure message shows the percentile table and a text histogram.
// An arrival rate's dropped iterations count as requests slower than
// any bound: their requests were due and never sent, so the percentile
// is taken over the good responses and those, and fails when it falls
// among them.
func HavePercentileBelow(p float64, bound time.Duration) types.GomegaMatcher {
	return record(fmt.Sprintf("HavePercentileBelow(%v, %v)", p, bound), &percentileMatcher{p: p, bound: bound})
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
	if err := checkPercentile("HavePercentileBelow", m.p); err != nil {
		return false, err
	}
	if m.bound <= 0 {
		return false, fmt.Errorf("HavePercentileBelow(%v, %v): the bound must be a positive duration", m.p, m.bound)
	}
	s, err := subjectOf(actual)
	if err != nil {
		return false, err
	}
	m.s = s
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
	// a saturated generator keeps the verdict only where its delay
	// could not have changed it
	if why := s.refusal(fmt.Sprintf("p%v", m.p), m.got, m.bound); why != "" {
		return false, fmt.Errorf("HavePercentileBelow: %s: %s", s.name, why)
	}
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

// checkPercentile refuses a percentile outside 1-100: one below 1 is
// most likely a fraction meant as a percent (0.95 for p95).
func checkPercentile(matcher string, p float64) error {
	switch {
	case math.IsNaN(p) || p < 0 || p > 100:
		return fmt.Errorf("%s: percentile %v is outside 1-100 (95 is p95)", matcher, p)
	case p > 0 && p < 1:
		return fmt.Errorf("%s: percentile %v would measure p%v, near the fastest response; percentiles go from 1 to 100: did you mean %v?", matcher, p, p, p*100)
	case p < 1:
		return fmt.Errorf("%s: percentile %v is outside 1-100 (95 is p95)", matcher, p)
	}
	return nil
}
