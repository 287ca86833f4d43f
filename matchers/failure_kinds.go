package matchers

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/onsi/gomega/types"

	"github.com/benchgate/benchgate/failure"
	"github.com/benchgate/benchgate/loadtest"
)

// HaveFailuresOnly succeeds when every failed and not-sent request of a
// report, run or step is of a kind accepted: a failure.Kind accepts its
// kind, an int an HTTP status (a failure.Status failure with that
// status), so that
//
//	HaveFailuresOnly(503, failure.StepTimeLimit)
//
// accepts answers 503 and the step time limit, and nothing else. The
// kinds are decided where each failure is known (loadtest.StepReport.Kinds),
// not read from its reason: rewording a reason cannot change what a gate
// accepts. Interrupted requests are not failures and are not judged. A
// report written before kinds were recorded has failures without kinds:
// the matcher refuses it with an error rather than guess.
//
// Deprecated form, kept for one release: given strings only,
// HaveFailuresOnly accepts the failures whose reason contains one of
// them ("status 503", "step time limit"), as it did before kinds; the
// words of a reason may change from one release to the next. Strings
// cannot be mixed with kinds and statuses.
func HaveFailuresOnly(accepted ...any) types.GomegaMatcher {
	m := &failureOnlyMatcher{}
	for i, a := range accepted {
		switch v := a.(type) {
		case failure.Kind:
			m.kinds = append(m.kinds, v)
		case int:
			m.statuses = append(m.statuses, v)
		case string:
			m.texts = append(m.texts, v)
		default:
			m.err = fmt.Errorf("HaveFailuresOnly: argument %d is a %T (%v): want a failure.Kind, an HTTP status (int) or, deprecated, a reason's text (string)", i, a, a)
		}
	}
	return record(fmt.Sprintf("HaveFailuresOnly(%v)", accepted), m)
}

type failureOnlyMatcher struct {
	kinds    []failure.Kind
	statuses []int
	texts    []string
	err      error
	text     *failureKindsMatcher // the deprecated form
	s        *subject
	other    []kindEntry
}

// kindEntry is a count of one step's failures of a kind not accepted.
type kindEntry struct {
	step     string
	kind     failure.Kind
	n        int64
	statuses map[int]int64 // the statuses not accepted, for failure.Status
	example  string
}

func (m *failureOnlyMatcher) Match(actual any) (bool, error) {
	if m.err != nil {
		return false, m.err
	}
	if len(m.texts) > 0 {
		if len(m.kinds)+len(m.statuses) > 0 {
			return false, fmt.Errorf("HaveFailuresOnly: reason texts %q mixed with kinds and statuses: give kinds and statuses only (the texts are the deprecated form)", m.texts)
		}
		m.text = &failureKindsMatcher{kinds: m.texts}
		return m.text.Match(actual)
	}
	if len(m.kinds)+len(m.statuses) == 0 {
		return false, fmt.Errorf("HaveFailuresOnly needs at least one kind or status (use HaveNoFailures for none)")
	}
	for i, k := range m.kinds {
		if k == failure.None || !k.Valid() {
			return false, fmt.Errorf("HaveFailuresOnly: kind %d is %s, not a kind of failure (failure.Kinds lists them)", i, k)
		}
	}
	for _, c := range m.statuses {
		if err := checkStatus("HaveFailuresOnly", c); err != nil {
			return false, err
		}
		if c == 599 {
			return false, fmt.Errorf("HaveFailuresOnly: 599 is no response, which is not a status failure: accept the kinds of failure without a response (failure.ConnectionClosed, failure.StepTimeLimit, ...)")
		}
	}
	s, err := subjectOf(actual)
	if err != nil {
		return false, err
	}
	m.s, m.other = s, nil
	for _, st := range s.steps {
		if st.Failed+st.NotSent > 0 && st.Kinds == nil {
			return false, fmt.Errorf("HaveFailuresOnly: %s has %d failed and %d not sent, without their kinds (a report written before kinds were recorded): record it again, or use the deprecated reason texts", st.Label(), st.Failed, st.NotSent)
		}
		for _, k := range sortedKinds(st.Kinds) {
			n := st.Kinds[k]
			if n == 0 || slices.Contains(m.kinds, k) {
				continue
			}
			e := kindEntry{step: st.Label(), kind: k, n: n, example: st.KindReasons[k]}
			if k == failure.Status && len(m.statuses) > 0 {
				e.n, e.statuses = 0, map[int]int64{}
				for code, c := range st.FailedStatuses {
					if c > 0 && !slices.Contains(m.statuses, code) {
						e.n += c
						e.statuses[code] = c
					}
				}
				if e.n == 0 {
					continue
				}
				e.example = statusExample(st, e.statuses, e.example)

			}
			m.other = append(m.other, e)
		}
	}
	return len(m.other) == 0, nil
}

// statusExample returns the reason of a failure sample of st with one of
// statuses, else def: the kind's first reason may be of a status that
// was accepted.
func statusExample(st *loadtest.StepReport, statuses map[int]int64, def string) string {
	reasons := make([]string, 0, len(st.Failures))
	for r := range st.Failures {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		if smp, ok := st.Samples[r]; ok && statuses[smp.Status] > 0 {
			return r
		}
	}
	return def
}

// sortedKinds returns m's kinds in the order of their numbers.
func sortedKinds(m map[failure.Kind]int64) []failure.Kind {
	ks := make([]failure.Kind, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// accepted names what the matcher accepts.
func (m *failureOnlyMatcher) accepted() string {
	var parts []string
	for _, k := range m.kinds {
		parts = append(parts, k.String())
	}
	sort.Strings(parts)
	for _, c := range m.statuses {
		parts = append(parts, fmt.Sprintf("status %d", c))
	}
	return strings.Join(parts, ", ")
}

func (m *failureOnlyMatcher) FailureMessage(actual any) string {
	if m.text != nil {
		return m.text.FailureMessage(actual)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Expected the failures of %s to be only of kinds [%s], but these were not:\n", m.s.name, m.accepted())
	for i, e := range m.other {
		if i == 10 {
			fmt.Fprintf(&b, "    ... and %d more\n", len(m.other)-10)
			break
		}
		kind := e.kind.String()
		if len(e.statuses) > 0 {
			kind += " " + formatStatuses(e.statuses)
		}
		fmt.Fprintf(&b, "    %d× %s: %s", e.n, e.step, kind)
		if e.example != "" {
			fmt.Fprintf(&b, ", e.g. %s", loadtest.Printable(e.example))
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "  %s", m.s.counts())
	return b.String()
}

func (m *failureOnlyMatcher) NegatedFailureMessage(actual any) string {
	if m.text != nil {
		return m.text.NegatedFailureMessage(actual)
	}
	return fmt.Sprintf("Expected %s to have failures other than of kinds [%s], but it had none\n  %s", m.s.name, m.accepted(), m.s.counts())
}
