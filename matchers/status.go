package matchers

import (
	"fmt"
	"slices"

	"github.com/onsi/gomega/types"
)

// HaveAllStatus succeeds when every response sent had one of codes (a
// request without a response counts as 599).
func HaveAllStatus(codes ...int) types.GomegaMatcher {
	return record(fmt.Sprintf("HaveAllStatus(%v)", codes), &statusMatcher{codes: codes})
}

type statusMatcher struct {
	codes []int
	s     *subject
	other int64
}

func (m *statusMatcher) Match(actual any) (bool, error) {
	if len(m.codes) == 0 {
		return false, fmt.Errorf("HaveAllStatus needs at least one status code")
	}
	for _, c := range m.codes {
		if err := checkStatus("HaveAllStatus", c); err != nil {
			return false, err
		}
	}
	s, err := subjectOf(actual)
	if err != nil {
		return false, err
	}
	m.s, m.other = s, 0
	for code, n := range s.statuses {
		if !slices.Contains(m.codes, code) {
			m.other += n
		}
	}
	return m.other == 0 && s.sent > 0, nil
}

func (m *statusMatcher) FailureMessage(any) string {
	msg := fmt.Sprintf("Expected every response to have status %v, but %d of %d did not\n  %s",
		m.codes, m.other, m.s.sent, m.s.counts())
	if len(m.s.failures) > 0 {
		msg += "\n  failure reasons:\n" + m.s.reasons(10)
	}
	return msg
}

func (m *statusMatcher) NegatedFailureMessage(any) string {
	return fmt.Sprintf("Expected some response not to have status %v, but all %d did\n  %s", m.codes, m.s.sent, m.s.counts())
}

// checkStatus refuses a code no response can have (599 stands for no
// response).
func checkStatus(matcher string, code int) error {
	if code < 100 || code > 599 {
		return fmt.Errorf("%s: %d is not an HTTP status code (100-599; 599: no response)", matcher, code)
	}
	return nil
}
