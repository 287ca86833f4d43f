package matchers

import (
	"fmt"
	"math"
	"time"

	"github.com/onsi/gomega/format"
	gomegamatchers "github.com/onsi/gomega/matchers"
	"github.com/onsi/gomega/types"

	"github.com/benchgate/benchgate/loadtest"
)

// HaveLatency succeeds when statistic of phase (loadtest.Response,
// FirstByte or Connect) of the good responses satisfies m, a Gomega
// matcher of a time.Duration (BeNumerically("<", 50*time.Millisecond))
// or a time.Duration, meaning "at most". statistic is a Percentile(p),
// Mean() or Max().
//
//	Expect(report.Run("checkout")).To(HaveLatency(loadtest.FirstByte, Percentile(99), BeNumerically("<", 20*time.Millisecond)))
func HaveLatency(phase loadtest.Phase, statistic Statistic, m any) types.GomegaMatcher {
	return record(fmt.Sprintf("HaveLatency(%s, %s, %s)", phase, statistic.name, expectedText(m)), &latencyMatcher{phase: phase, stat: statistic, m: m})
}

// Statistic picks one number of a latency histogram.
type Statistic struct {
	name string
	of   func(*loadtest.Latency) time.Duration
	p    float64
}

// Percentile is the p-th percentile (1-100: 95 is p95; a p below 1 is
// refused).
func Percentile(p float64) Statistic {
	return Statistic{name: "p" + trimP(p), p: p, of: func(l *loadtest.Latency) time.Duration { return l.Percentile(p) }}
}

// Mean is the mean.
func Mean() Statistic {
	return Statistic{name: "mean", p: -1, of: func(l *loadtest.Latency) time.Duration { return l.Mean() }}
}

// Max is the largest observation.
func Max() Statistic {
	return Statistic{name: "max", p: -1, of: func(l *loadtest.Latency) time.Duration { return l.Max() }}
}

func trimP(p float64) string { return fmt.Sprintf("%g", p) }

type latencyMatcher struct {
	phase loadtest.Phase
	stat  Statistic
	m     any
	inner types.GomegaMatcher
	s     *subject
	l     *loadtest.Latency
	got   time.Duration
}

func (m *latencyMatcher) Match(actual any) (bool, error) {
	if m.stat.of == nil {
		return false, fmt.Errorf("HaveLatency: no statistic (Percentile(p), Mean() or Max())")
	}
	if m.stat.p != -1 {
		if err := checkPercentile("HaveLatency", m.stat.p); err != nil {
			return false, err
		}
	}
	switch v := m.m.(type) {
	case types.GomegaMatcher:
		m.inner = v
	case time.Duration:
		if v <= 0 {
			return false, fmt.Errorf("HaveLatency: the bound %v must be a positive duration", v)
		}
		m.inner = beAtMost(v)
	default:
		return false, fmt.Errorf("HaveLatency: want a Gomega matcher or a time.Duration bound, got %T", m.m)
	}
	s, err := subjectOf(actual)
	if err != nil {
		return false, err
	}
	m.s, m.l = s, s.phase(m.phase)
	if m.l.Count() == 0 {
		return false, fmt.Errorf("HaveLatency: %s has no good responses to measure\n  %s", s.name, s.counts())
	}
	m.got = m.stat.of(m.l)
	// a saturated generator keeps the verdict on an upper bound only
	// where its delay could not have changed it, and none on any other
	// test of the latency
	if bound, ok := upperBound(m.inner); ok {
		if why := s.refusal(m.stat.name+" "+m.phase.String(), m.got, bound); why != "" {
			return false, fmt.Errorf("HaveLatency: %s: %s", s.name, why)
		}
	} else if s.invalid != "" {
		return false, fmt.Errorf("HaveLatency: %s: %s", s.name, s.invalid)
	}
	return m.inner.Match(m.got)
}

// upperBound is the bound of a matcher that says "at most" or "below" a
// duration: a time.Duration bound or BeNumerically("<" or "<=", d).
func upperBound(inner types.GomegaMatcher) (time.Duration, bool) {
	switch v := inner.(type) {
	case atMost:
		return v.bound, true
	case *gomegamatchers.BeNumericallyMatcher:
		if len(v.CompareTo) == 1 && (v.Comparator == "<" || v.Comparator == "<=") {
			d, ok := v.CompareTo[0].(time.Duration)
			return d, ok
		}
	}
	return 0, false
}

func (m *latencyMatcher) details() string {
	l := m.l
	return fmt.Sprintf("  %s (%d observations of %s time, mean %v, stddev %v)\n  percentiles:\n%s  histogram:\n%s",
		m.s.counts(), l.Count(), m.phase, l.Mean().Round(time.Microsecond), l.StdDev().Round(time.Microsecond), l.Table(), l.Histogram(10))
}

func (m *latencyMatcher) FailureMessage(any) string {
	return fmt.Sprintf("Expected %s %s time of %s (%v) to satisfy:\n%s\n%s",
		m.stat.name, m.phase, m.s.name, m.got, format.IndentString(m.inner.FailureMessage(m.got), 1), m.details())
}

func (m *latencyMatcher) NegatedFailureMessage(any) string {
	return fmt.Sprintf("Expected %s %s time of %s (%v) not to satisfy:\n%s\n%s",
		m.stat.name, m.phase, m.s.name, m.got, format.IndentString(m.inner.NegatedFailureMessage(m.got), 1), m.details())
}

// beAtMost is a small matcher for a duration bound.
type atMost struct{ bound time.Duration }

func beAtMost(d time.Duration) types.GomegaMatcher { return atMost{d} }

func (a atMost) Match(actual any) (bool, error) {
	d, ok := actual.(time.Duration)
	if !ok {
		return false, fmt.Errorf("want a time.Duration, got %T", actual)
	}
	return d <= a.bound, nil
}
func (a atMost) FailureMessage(actual any) string {
	return fmt.Sprintf("Expected %v to be at most %v", actual, a.bound)
}
func (a atMost) NegatedFailureMessage(actual any) string {
	return fmt.Sprintf("Expected %v to be above %v", actual, a.bound)
}

// HaveThroughputAtLeast succeeds when a report serves at least rate good
// responses per second (over its total time), a run completes at least
// rate iterations per second, or a step at least rate good responses
// per second (each from its first request to its last response). A rate
// that is not positive (which would always pass) is refused.
func HaveThroughputAtLeast(rate float64) types.GomegaMatcher {
	return record(fmt.Sprintf("HaveThroughputAtLeast(%v)", rate), &throughputMatcher{rate: rate})
}

type throughputMatcher struct {
	rate float64
	s    *subject
}

func (m *throughputMatcher) Match(actual any) (bool, error) {
	if !(m.rate > 0) || math.IsInf(m.rate, 1) {
		return false, fmt.Errorf("HaveThroughputAtLeast(%v): the rate must be a positive number per second (a rate of 0 or less always passes)", m.rate)
	}
	s, err := subjectOf(actual)
	if err != nil {
		return false, err
	}
	m.s = s
	if s.good == 0 && s.throughput == 0 {
		return false, fmt.Errorf("HaveThroughputAtLeast: %s has no good responses\n  %s", s.name, s.counts())
	}
	// a late generator only lowers the throughput: a pass stands, a
	// fail may be its doing
	if s.throughput < m.rate && s.invalid != "" {
		return false, fmt.Errorf("HaveThroughputAtLeast: %s: no verdict: %.1f %s/s is below %.1f: %s", s.name, s.throughput, s.perWhat, m.rate, s.invalid)
	}
	return s.throughput >= m.rate, nil
}

func (m *throughputMatcher) FailureMessage(any) string {
	return fmt.Sprintf("Expected %s to do at least %.1f %s/s, but it did %.1f\n  %s", m.s.name, m.rate, m.s.perWhat, m.s.throughput, m.s.counts())
}

func (m *throughputMatcher) NegatedFailureMessage(any) string {
	return fmt.Sprintf("Expected %s to do fewer than %.1f %s/s, but it did %.1f\n  %s", m.s.name, m.rate, m.s.perWhat, m.s.throughput, m.s.counts())
}
