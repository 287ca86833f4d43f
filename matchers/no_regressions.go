package matchers

import (
	"fmt"

	"github.com/onsi/gomega/types"

	"github.com/benchgate/benchgate/loadtest"
)

// HaveNoRegressions succeeds on a *loadtest.DuetReport or a
// *loadtest.Comparison in which every metric shows no regression (its
// interval below the minimum effect). It fails on a regression, and
// refuses a verdict (fails, saying why and what to change) when a
// metric is inconclusive, unless the comparison's PassInconclusive
// option lets that pass with a warning.
func HaveNoRegressions() types.GomegaMatcher { return &noRegressionsMatcher{} }

type noRegressionsMatcher struct{ cmp *loadtest.Comparison }

func (m *noRegressionsMatcher) Match(actual any) (bool, error) {
	switch a := actual.(type) {
	case *loadtest.DuetReport:
		// Rounds on a saturated generator are counted, not refused: the
		// order in each pair is random, so a neighbour (or the
		// generator's own pause) favours neither side; the intervals
		// take the added noise in. More than half of the pairs so hit
		// is no measurement of the application.
		if a != nil {
			m.cmp = a.Comparison
			for _, r := range append(append([]*loadtest.Report(nil), a.A...), a.B...) {
				if why := r.NoVerdict(); why != "" {
					return false, fmt.Errorf("HaveNoRegressions: no verdict: a round: %s", why)
				}
			}
			if c := a.Comparison; c != nil && c.Contended*2 > c.Pairs {
				for i := range a.A {
					for _, r := range []*loadtest.Report{a.A[i], a.B[i]} {
						if why := r.Invalid(); why != "" {
							return false, fmt.Errorf("HaveNoRegressions: no verdict: %d of %d pairs had a round whose %s", c.Contended, c.Pairs, why)
						}
					}
				}
			}
		}
	case *loadtest.Comparison:
		m.cmp = a
	}
	if m.cmp == nil {
		return false, fmt.Errorf("HaveNoRegressions: expected a non-nil *loadtest.DuetReport or *loadtest.Comparison, got %T", actual)
	}
	return verdict("HaveNoRegressions", m.cmp)
}

func (m *noRegressionsMatcher) FailureMessage(any) string {
	msg := regressions(fmt.Sprintf("Expected no regressions, but %d metric(s) regressed:\n", len(m.cmp.Regressions())), m.cmp)
	if !m.cmp.Duet {
		msg += busyMachine
	}
	return msg
}

func (m *noRegressionsMatcher) NegatedFailureMessage(any) string {
	return "Expected a regression, but there was none:\n" + m.cmp.String()
}
