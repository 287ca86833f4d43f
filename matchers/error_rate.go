package matchers

import (
	"fmt"

	"github.com/onsi/gomega/types"
)

// HaveErrorRateBelow succeeds when failed/sent is at most rate (0-1).
// An arrival rate's dropped iterations count: their requests were due
// and never sent, so each is a failure (failed+dropped)/(sent+dropped).
func HaveErrorRateBelow(rate float64) types.GomegaMatcher { return &errorRateMatcher{rate: rate} }

type errorRateMatcher struct {
	rate float64
	s    *subject
	got  float64
}

func (m *errorRateMatcher) Match(actual any) (bool, error) {
	if m.rate < 0 || m.rate > 1 {
		return false, fmt.Errorf("HaveErrorRateBelow: rate %v is outside 0-1", m.rate)
	}
	s, err := subjectOf(actual)
	if err != nil {
		return false, err
	}
	m.s = s
	if s.sent+s.droppedReqs == 0 {
		return false, fmt.Errorf("HaveErrorRateBelow: %s sent no request", s.name)
	}
	m.got = float64(s.failed+s.droppedReqs) / float64(s.sent+s.droppedReqs)
	return m.got <= m.rate, nil
}

func (m *errorRateMatcher) FailureMessage(any) string {
	return fmt.Sprintf("Expected error rate of %s to be at most %.4g%%, but it is %.4g%%\n  %s\n  reasons:\n%s",
		m.s.name, m.rate*100, m.got*100, m.s.counts(), m.s.reasons(10))
}

func (m *errorRateMatcher) NegatedFailureMessage(any) string {
	return fmt.Sprintf("Expected error rate of %s to be above %.4g%%, but it is %.4g%%\n  %s",
		m.s.name, m.rate*100, m.got*100, m.s.counts())
}
