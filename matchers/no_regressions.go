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
// A duet's round slowed by other processes is counted, not refused
// (both sides of its pair saw them); more than half of the pairs with a
// round whose generator saturated itself refuses the verdict. One
// shard's duet (Duet with a sharded plan) is refused: merge the shards'
// duets (loadtest.MergeDuets) and judge the merged one.
func HaveNoRegressions() types.GomegaMatcher { return &noRegressionsMatcher{} }

type noRegressionsMatcher struct{ cmp *loadtest.Comparison }

func (m *noRegressionsMatcher) Match(actual any) (bool, error) {
	switch a := actual.(type) {
	case *loadtest.DuetReport:
		// Rounds on a late generator are counted (Contended), not
		// refused: the order in each pair is random, so a neighbour
		// favours neither side; the intervals take the added noise in.
		// More than half of the pairs with a round whose generator
		// saturated itself is no measurement of the application.
		if a != nil {
			if why := a.NoVerdict(); why != "" {
				return false, fmt.Errorf("HaveNoRegressions: no verdict: %s", why)
			}
			m.cmp = a.Comparison
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
