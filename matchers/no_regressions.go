package matchers

import (
	"fmt"
	"strings"

	"github.com/onsi/gomega/types"

	"github.com/benchgate/benchgate/loadtest"
)

// HaveNoRegressions succeeds on a *loadtest.DuetReport or a
// *loadtest.Comparison in which no metric regressed; it refuses a verdict
// (fails, saying why) when a metric had too little data.
func HaveNoRegressions() types.GomegaMatcher { return &noRegressionsMatcher{} }

type noRegressionsMatcher struct{ cmp *loadtest.Comparison }

func (m *noRegressionsMatcher) Match(actual any) (bool, error) {
	switch a := actual.(type) {
	case *loadtest.DuetReport:
		if a != nil {
			m.cmp = a.Comparison
			for _, r := range append(append([]*loadtest.Report(nil), a.A...), a.B...) {
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
	if len(m.cmp.Regressions()) > 0 {
		return false, nil
	}
	if u := m.cmp.Undecided(); len(u) > 0 {
		var parts []string
		for _, d := range u {
			parts = append(parts, fmt.Sprintf("%s / %s %s: %s", d.Run, d.Step, d.Metric, d.Why))
		}
		return false, fmt.Errorf("HaveNoRegressions: not enough data for a verdict:\n  %s\n%s", strings.Join(parts, "\n  "), m.cmp)
	}
	return true, nil
}

func (m *noRegressionsMatcher) FailureMessage(any) string {
	var b strings.Builder
	regs := m.cmp.Regressions()
	fmt.Fprintf(&b, "Expected no regressions, but %d metric(s) regressed:\n", len(regs))
	for _, d := range regs {
		fmt.Fprintf(&b, "  %s / %s: %s %s\n", d.Run, d.Step, d.Metric, describe(d))
	}
	b.WriteString(m.cmp.String())
	return b.String()
}

func (m *noRegressionsMatcher) NegatedFailureMessage(any) string {
	return "Expected a regression, but there was none:\n" + m.cmp.String()
}
