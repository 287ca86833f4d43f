package matchers

import (
	"fmt"
	"strings"

	"github.com/onsi/gomega/types"

	"github.com/benchgate/benchgate/loadtest"
)

// NotRegressFrom succeeds when a report does not regress from a baseline,
// step by step (latency percentiles, throughput, error rate), by
// loadtest.Compare's test: time blocks as the unit, a one-sided
// Mann–Whitney U test and a minimum effect size (10% by default).
//
// baseline is a *loadtest.Report or the path of a baseline file. With a
// path, setting BENCHGATE_UPDATE_BASELINES=1 records the report there
// instead (and the matcher succeeds), and a missing file fails with how
// to create it. When either side has too little data for a verdict, the
// matcher refuses one: it fails saying so, never passes by default.
func NotRegressFrom(baseline any, opts ...loadtest.CompareOptions) types.GomegaMatcher {
	m := &regressMatcher{baseline: baseline}
	if len(opts) > 0 {
		m.opts = opts[0]
	}
	return m
}

type regressMatcher struct {
	baseline any
	opts     loadtest.CompareOptions
	cmp      *loadtest.Comparison
	path     string
}

func (m *regressMatcher) Match(actual any) (bool, error) {
	if err := checkCompareOptions(m.opts); err != nil {
		return false, err
	}
	cur, ok := actual.(*loadtest.Report)
	if !ok || cur == nil {
		return false, fmt.Errorf("NotRegressFrom: expected a non-nil *loadtest.Report, got %T", actual)
	}
	recordNumbers(cur)
	if why := cur.NoVerdict(); why != "" {
		return false, fmt.Errorf("NotRegressFrom: no verdict: %s", why)
	}
	if why := cur.Invalid(); why != "" {
		return false, fmt.Errorf("NotRegressFrom: no verdict: %s", why)
	}
	var base *loadtest.Report
	switch b := m.baseline.(type) {
	case *loadtest.Report:
		base = b
	case string:
		m.path = b
		if loadtest.UpdatingBaselines() {
			// a saturated run was refused above, and a failing one is
			// refused here: neither becomes a baseline
			if bad := cur.ResponsesFailed + cur.RequestsNotSent; bad > 0 || cur.ResponsesReceived == 0 {
				return false, fmt.Errorf("NotRegressFrom: not recording a baseline at %s from a run with %d failed or unsent requests and %d good responses", b, bad, cur.ResponsesReceived)
			}
			if err := loadtest.WriteBaseline(b, cur); err != nil {
				return false, fmt.Errorf("NotRegressFrom: recording the baseline: %w", err)
			}
			return true, nil
		}
		var err error
		if base, err = loadtest.ReadBaseline(b); err != nil {
			return false, fmt.Errorf("NotRegressFrom: %w", err)
		}
	default:
		return false, fmt.Errorf("NotRegressFrom: the baseline must be a *loadtest.Report or a file path, got %T", m.baseline)
	}
	if why := base.Invalid(); why != "" {
		return false, fmt.Errorf("NotRegressFrom: no verdict: the baseline: %s", why)
	}
	m.cmp = loadtest.Compare(base, cur, m.opts)
	return verdict("NotRegressFrom", m.cmp)
}

// verdict is a comparison's outcome for a matcher: no regression, a
// regression, or (an error) no verdict for want of data.
func verdict(matcher string, c *loadtest.Comparison) (bool, error) {
	if len(c.Regressions()) > 0 {
		return false, nil
	}
	if u := c.Undecided(); len(u) > 0 {
		var parts []string
		for _, d := range u {
			parts = append(parts, fmt.Sprintf("%s / %s %s: %s", d.Run, d.Step, d.Metric, d.Why))
		}
		return false, fmt.Errorf("%s: not enough data for a verdict:\n  %s\n%s", matcher, strings.Join(parts, "\n  "), c)
	}
	return true, nil
}

// regressions lists a comparison's regressions under header, then its
// table.
func regressions(header string, c *loadtest.Comparison) string {
	var b strings.Builder
	b.WriteString(header)
	for _, d := range c.Regressions() {
		fmt.Fprintf(&b, "  %s / %s: %s %s\n", d.Run, d.Step, d.Metric, describe(d))
	}
	b.WriteString(c.String())
	return b.String()
}

func (m *regressMatcher) FailureMessage(any) string {
	msg := regressions(fmt.Sprintf("Expected the report not to regress from the baseline%s, but %d metric(s) did:\n",
		m.where(), len(m.cmp.Regressions())), m.cmp)
	if m.path != "" {
		msg += fmt.Sprintf("if the change is intended, record a new baseline: %s=1 go test ./... and commit %s\n", loadtest.UpdateBaselinesEnv, m.path)
	}
	return msg
}

func (m *regressMatcher) NegatedFailureMessage(any) string {
	return fmt.Sprintf("Expected the report to regress from the baseline%s, but it did not:\n%s", m.where(), m.cmp)
}

func (m *regressMatcher) where() string {
	if m.path == "" {
		return ""
	}
	return " " + m.path
}

func describe(d loadtest.Delta) string {
	if d.Verdict == loadtest.Missing {
		return "missing: " + d.Why
	}
	if d.Why != "" {
		return d.Why
	}
	return fmt.Sprintf("changed by %+.1f%% (p = %.4f over %d and %d blocks)", d.Change*100, d.P, d.Blocks[0], d.Blocks[1])
}

// checkCompareOptions refuses options that would let every comparison
// pass, or that are most likely a percent given where a fraction is
// meant.
func checkCompareOptions(o loadtest.CompareOptions) error {
	for _, p := range o.Percentiles {
		if err := checkPercentile("NotRegressFrom: CompareOptions.Percentiles", p); err != nil {
			return err
		}
	}
	if o.MinEffect >= 1 {
		return fmt.Errorf("NotRegressFrom: CompareOptions.MinEffect %v: a fraction (0.10 is 10 %%); %v would let a %v× slowdown pass: did you mean %v?", o.MinEffect, o.MinEffect, 1+o.MinEffect, o.MinEffect/100)
	}
	if o.MaxErrorRateIncrease >= 1 {
		return fmt.Errorf("NotRegressFrom: CompareOptions.MaxErrorRateIncrease %v: a fraction (0.01 is one percentage point); %v would pass at a 100 %% error rate: did you mean %v?", o.MaxErrorRateIncrease, o.MaxErrorRateIncrease, o.MaxErrorRateIncrease/100)
	}
	if o.Alpha >= 0.5 {
		return fmt.Errorf("NotRegressFrom: CompareOptions.Alpha %v: a significance level is a small fraction (default 0.01)", o.Alpha)
	}
	if k := o.MinBlocks; k > 0 {
		alpha := o.Alpha
		if alpha <= 0 {
			alpha = 0.01
		}
		// the smallest one-sided p-value of a Mann-Whitney U test of k
		// blocks against k is 1/C(2k, k)
		if minP := 1 / binomial(2*k, k); minP >= alpha {
			return fmt.Errorf("NotRegressFrom: CompareOptions.MinBlocks %d: with %d blocks a side the test's smallest p-value is %.3g, not below Alpha %v: no regression could ever be found (leave MinBlocks at its default, 6)", k, k, minP, alpha)
		}
	}
	if o.MaxErrorRateIncrease < 0 || o.MinAbsolute < 0 || o.MinBlocks < 0 || o.BlockResponses < 0 {
		return fmt.Errorf("NotRegressFrom: CompareOptions %+v: no field may be negative", o)
	}
	return nil
}

// binomial is n choose k as a float64.
func binomial(n, k int) float64 {
	r := 1.0
	for i := 1; i <= k; i++ {
		r = r * float64(n-k+i) / float64(i)
	}
	return r
}
