package matchers

import (
	"fmt"
	"strings"

	"github.com/onsi/gomega/format"
	"github.com/onsi/gomega/types"
)

// HaveStatus succeeds when every response's status satisfies m: a
// Gomega matcher of an int (BeNumerically("<", 400), BeElementOf(200,
// 304)) or an int. A request without a response counts as 599.
func HaveStatus(m any) types.GomegaMatcher {
	return record(fmt.Sprintf("HaveStatus(%s)", expectedText(m)), &statusAllMatcher{m: m})
}

type statusAllMatcher struct {
	m     any
	inner types.GomegaMatcher
	s     *subject
	bad   []int
}

func (m *statusAllMatcher) Match(actual any) (bool, error) {
	switch v := m.m.(type) {
	case types.GomegaMatcher:
		m.inner = v
	case int:
		if err := checkStatus("HaveStatus", v); err != nil {
			return false, err
		}
		m.inner = equalInt(v)
	default:
		return false, fmt.Errorf("HaveStatus: want a Gomega matcher or an int, got %T", m.m)
	}
	s, err := subjectOf(actual)
	if err != nil {
		return false, err
	}
	m.s, m.bad = s, nil
	if s.sent == 0 {
		return false, fmt.Errorf("HaveStatus: %s sent no request", s.name)
	}
	for code := range s.statuses {
		ok, err := m.inner.Match(code)
		if err != nil {
			return false, err
		}
		if !ok {
			m.bad = append(m.bad, code)
		}
	}
	return len(m.bad) == 0, nil
}

func (m *statusAllMatcher) FailureMessage(any) string {
	var n int64
	for _, c := range m.bad {
		n += m.s.statuses[c]
	}
	example := 0
	if len(m.bad) > 0 {
		example = m.bad[0]
	}
	msg := fmt.Sprintf("Expected every status of %s to satisfy:\n%s\nbut %d responses had %v\n  %s",
		m.s.name, format.IndentString(m.inner.FailureMessage(example), 1), n, m.bad, m.s.counts())
	if len(m.s.failures) > 0 {
		msg += "\n  failure reasons:\n" + m.s.reasons(10)
	}
	return msg
}

func (m *statusAllMatcher) NegatedFailureMessage(any) string {
	return fmt.Sprintf("Expected some status of %s not to satisfy the matcher, but all did\n  %s", m.s.name, m.s.counts())
}

type eqInt int

func equalInt(v int) types.GomegaMatcher { return eqInt(v) }

func (e eqInt) Match(actual any) (bool, error) {
	a, ok := actual.(int)
	return ok && a == int(e), nil
}
func (e eqInt) FailureMessage(actual any) string {
	return fmt.Sprintf("Expected %v to be %d", actual, int(e))
}
func (e eqInt) NegatedFailureMessage(actual any) string {
	return fmt.Sprintf("Expected %v not to be %d", actual, int(e))
}

// HaveStatusCounts succeeds when the responses' statuses are exactly
// counts (599: no response): {200: 40, 303: 10}.
func HaveStatusCounts(counts map[int]int64) types.GomegaMatcher {
	return record(fmt.Sprintf("HaveStatusCounts(%v)", counts), &statusCountsMatcher{want: counts})
}

type statusCountsMatcher struct {
	want map[int]int64
	s    *subject
}

func (m *statusCountsMatcher) Match(actual any) (bool, error) {
	for c, n := range m.want {
		if err := checkStatus("HaveStatusCounts", c); err != nil {
			return false, err
		}
		if n < 0 {
			return false, fmt.Errorf("HaveStatusCounts: status %d: count %d is negative", c, n)
		}
	}
	s, err := subjectOf(actual)
	if err != nil {
		return false, err
	}
	m.s = s
	for c, n := range m.want {
		if s.statuses[c] != n {
			return false, nil
		}
	}
	for c, n := range s.statuses {
		if n != 0 && m.want[c] != n {
			return false, nil
		}
	}
	return true, nil
}

func (m *statusCountsMatcher) FailureMessage(any) string {
	return fmt.Sprintf("Expected the statuses of %s to be %s, but they are %s\n  %s",
		m.s.name, formatStatuses(m.want), formatStatuses(m.s.statuses), m.s.counts())
}

func (m *statusCountsMatcher) NegatedFailureMessage(any) string {
	return fmt.Sprintf("Expected the statuses of %s not to be %s", m.s.name, formatStatuses(m.want))
}

// failureKindsMatcher is HaveFailuresOnly given reason texts
// (deprecated): every failure's reason contains one of kinds.
type failureKindsMatcher struct {
	kinds []string
	s     *subject
	other []reasonEntry
}

func (m *failureKindsMatcher) Match(actual any) (bool, error) {
	if len(m.kinds) == 0 {
		return false, fmt.Errorf("HaveFailuresOnly needs at least one kind (use HaveNoFailures for none)")
	}
	for i, k := range m.kinds {
		if strings.TrimSpace(k) == "" {
			return false, fmt.Errorf("HaveFailuresOnly: kind %d is %q, which every reason contains: the matcher would always pass", i, k)
		}
	}
	s, err := subjectOf(actual)
	if err != nil {
		return false, err
	}
	m.s, m.other = s, nil
	for _, e := range s.failures {
		ok := false
		for _, k := range m.kinds {
			ok = ok || strings.Contains(e.reason, k)
		}
		if !ok {
			m.other = append(m.other, e)
		}
	}
	return len(m.other) == 0, nil
}

func (m *failureKindsMatcher) FailureMessage(any) string {
	o := &subject{failures: m.other}
	return fmt.Sprintf("Expected the failures of %s to be only %q, but these were not:\n%s  %s", m.s.name, m.kinds, o.reasons(10), m.s.counts())
}

func (m *failureKindsMatcher) NegatedFailureMessage(any) string {
	return fmt.Sprintf("Expected %s to have failures other than %q, but it had none\n  %s", m.s.name, m.kinds, m.s.counts())
}
