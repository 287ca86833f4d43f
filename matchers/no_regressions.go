package matchers

import (
	"fmt"

	"github.com/onsi/gomega/types"

	"github.com/benchgate/benchgate/loadtest"
)

// HaveNoRegressions succeeds on a *loadtest.DuetReport or a
// *loadtest.Comparison in which no metric regressed; it refuses a verdict
// (fails, saying why) when a metric had too little data, or when a
// duet's round saturated its own generator (a round slowed by other
// processes counts: both sides of its pair saw them).
func HaveNoRegressions() types.GomegaMatcher { return &noRegressionsMatcher{} }

type noRegressionsMatcher struct{ cmp *loadtest.Comparison }

func (m *noRegressionsMatcher) Match(actual any) (bool, error) {
	switch a := actual.(type) {
	case *loadtest.DuetReport:
		if a != nil {
			m.cmp = a.Comparison
			for _, r := range append(append([]*loadtest.Report(nil), a.A...), a.B...) {
				// a neighbour slowed both sides of a pair alike: the
				// duet goes on; a generator that saturated itself
				// measured itself, on either side
				if g := r.Generator; g != nil && g.Cause == loadtest.CauseNeighbour {
					continue
				}
				if why := r.Invalid(); why != "" {
					return false, fmt.Errorf("HaveNoRegressions: no verdict: a round's %s", why)
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
	return regressions(fmt.Sprintf("Expected no regressions, but %d metric(s) regressed:\n", len(m.cmp.Regressions())), m.cmp)
}

func (m *noRegressionsMatcher) NegatedFailureMessage(any) string {
	return "Expected a regression, but there was none:\n" + m.cmp.String()
}
