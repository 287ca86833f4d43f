package matchers

import (
	"fmt"

	gomegamatchers "github.com/onsi/gomega/matchers"
	"github.com/onsi/gomega/types"

	"github.com/benchgate/benchgate/loadtest"
)

// recorded wraps a matcher of reports, runs and steps so that each of
// its assertions is kept on the report (loadtest.Report.RecordAssertion)
// and shown by the report's HTML page written after it.
type recorded struct {
	inner types.GomegaMatcher
	name  string
	// kept are the records the last Match made, one per report
	kept []keptAssertion
}

type keptAssertion struct {
	r  *loadtest.Report
	id int
}

// record wraps m, named name (what a spec wrote: "HaveNoFailures()").
func record(name string, m types.GomegaMatcher) types.GomegaMatcher {
	return &recorded{inner: m, name: name}
}

func (m *recorded) Match(actual any) (bool, error) {
	if rm, isRegress := m.inner.(*regressMatcher); isRegress {
		rm.cmp = nil // not the comparison of an earlier use of this matcher
	}
	ok, err := m.inner.Match(actual)
	m.kept = m.kept[:0]
	reports, subject := reportsOf(actual)
	if len(reports) == 0 {
		return ok, err
	}
	a := loadtest.Assertion{Matcher: m.name, Subject: subject, Outcome: loadtest.Passed}
	if rm, isRegress := m.inner.(*regressMatcher); isRegress {
		a.Comparison = rm.cmp
	}
	switch {
	case err != nil:
		a.Outcome, a.Message = loadtest.Refused, err.Error()
	case !ok:
		// Gomega asks for the failure message when the assertion fails
		// (FailureMessage below makes it "fail"); until then it may be
		// a NotTo that passed, or a poll Eventually retries
		a.Outcome, a.Message = loadtest.NoMatch, m.inner.FailureMessage(actual)
	}
	for _, r := range reports {
		m.kept = append(m.kept, keptAssertion{r, r.RecordAssertion(a)})
	}
	return ok, err
}

func (m *recorded) FailureMessage(actual any) string {
	msg := m.inner.FailureMessage(actual)
	for _, k := range m.kept {
		k.r.ResolveAssertion(k.id, loadtest.Failed, msg)
	}
	return msg
}

func (m *recorded) NegatedFailureMessage(actual any) string {
	msg := m.inner.NegatedFailureMessage(actual)
	for _, k := range m.kept {
		k.r.ResolveAssertion(k.id, loadtest.Failed, "(asserted with NotTo) "+msg)
	}
	return msg
}

// reportsOf returns the reports an assertion on actual is kept on, and
// what it was made on.
func reportsOf(actual any) ([]*loadtest.Report, string) {
	switch a := actual.(type) {
	case *loadtest.Report:
		if a != nil {
			return []*loadtest.Report{a}, "report"
		}
	case *loadtest.RunReport:
		if a != nil && a.Missing() == "" && a.Report() != nil {
			return []*loadtest.Report{a.Report()}, fmt.Sprintf("run %q", a.Name)
		}
	case *loadtest.StepReport:
		if a != nil && a.Missing() == "" && a.Report() != nil {
			return []*loadtest.Report{a.Report()}, a.Label()
		}
	case []*loadtest.Report:
		var out []*loadtest.Report
		for _, r := range a {
			if r != nil {
				out = append(out, r)
			}
		}
		if len(out) == 1 {
			return out, "report"
		}
		return out, fmt.Sprintf("%d executions, this one among them", len(out))
	}
	return nil, ""
}

// expectedText shows a matcher's expected value: a duration or number
// as itself, a Gomega matcher by its type.
func expectedText(m any) string {
	switch v := m.(type) {
	case *gomegamatchers.BeNumericallyMatcher:
		args := fmt.Sprint(v.CompareTo...)
		return fmt.Sprintf("BeNumerically(%q, %s)", v.Comparator, args)
	case types.GomegaMatcher:
		return fmt.Sprintf("%T", v)
	case fmt.Stringer:
		return v.String()
	}
	return fmt.Sprintf("%v", m)
}
