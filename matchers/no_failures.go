package matchers

import (
	"fmt"

	"github.com/onsi/gomega/types"
)

// HaveNoFailures succeeds when every request sent got a good response,
// every request could be built (none "not sent"), an arrival rate
// dropped no iteration, and at least one request was sent. Requests interrupted by the time limit or a cancel are neither.
func HaveNoFailures() types.GomegaMatcher { return record("HaveNoFailures()", &noFailuresMatcher{}) }

type noFailuresMatcher struct{ s *subject }

func (m *noFailuresMatcher) Match(actual any) (bool, error) {
	s, err := subjectOf(actual)
	if err != nil {
		return false, err
	}
	m.s = s
	return s.failed == 0 && s.notSent == 0 && s.dropped == 0 && s.sent > 0, nil
}

func (m *noFailuresMatcher) FailureMessage(any) string {
	if m.s.sent == 0 {
		return fmt.Sprintf("Expected no failures, but no request was sent\n  %s", m.s.counts())
	}
	if m.s.failed == 0 && m.s.notSent == 0 {
		return fmt.Sprintf("Expected no failures, but %d iterations could not start within the arrival rate's MaxLag (every VU busy): the server or the VUs could not keep up\n  %s",
			m.s.dropped, m.s.counts())
	}
	if m.s.failed == 0 {
		return fmt.Sprintf("Expected no failures, but %d requests could not be built and were not sent\n  %s\n  reasons:\n%s",
			m.s.notSent, m.s.counts(), m.s.reasons(10))
	}
	return fmt.Sprintf("Expected no failures, but %d of %d requests failed\n  %s\n  reasons:\n%s",
		m.s.failed, m.s.sent, m.s.counts(), m.s.reasons(10))
}

func (m *noFailuresMatcher) NegatedFailureMessage(any) string {
	return fmt.Sprintf("Expected some failures, but all %d requests succeeded\n  %s", m.s.sent, m.s.counts())
}
