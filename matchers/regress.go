package matchers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2"
	gtypes "github.com/onsi/ginkgo/v2/types"
	"github.com/onsi/gomega/types"

	"github.com/benchgate/benchgate/loadtest"
)

// NotRegressFrom succeeds when a report (a *loadtest.Report, or several
// executions of the plan as a []*loadtest.Report) shows no regression
// from a baseline, step by step (latency percentiles, throughput, error
// rate), by loadtest.CompareExecutions: one figure per execution, the
// Hodges–Lehmann change with its exact rank-sum interval, three
// verdicts.
//
// baseline is a *loadtest.Baseline, a *loadtest.Report or
// []*loadtest.Report (its executions), or the path of a baseline file.
// With a path, BENCHGATE_UPDATE_BASELINES=1 adds the report's
// executions to the file instead (and the matcher succeeds; =new starts
// the file over), and a missing file fails with how to create it; the
// file records this machine, and a comparison on a machine that runs
// the calibration workload more than MaxCalibrationRatio slower or
// faster is refused. An inconclusive metric fails the matcher ("no
// verdict", with the change, its interval and how to get a verdict)
// unless CompareOptions.PassInconclusive lets it pass with a warning.
//
// CompareOptions.Confirm re-executes the plan when the comparison finds
// a regression, and the matcher fails only when the rerun's executions
// regress on a metric too (loadtest.ConfirmComparison); a regression
// the rerun does not confirm passes with a note. CompareOptions.GatedSpecs
// (or BENCHGATE_GATED_SPECS) shares Alpha among the suite's gated specs.
func NotRegressFrom(baseline any, opts ...loadtest.CompareOptions) types.GomegaMatcher {
	m := &regressMatcher{baseline: baseline}
	if len(opts) > 0 {
		m.opts = opts[0]
	}
	name := fmt.Sprintf("NotRegressFrom(%T)", baseline)
	if path, ok := baseline.(string); ok {
		name = fmt.Sprintf("NotRegressFrom(%q)", path)
	}
	return record(name, m)
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
	var cur []*loadtest.Report
	switch a := actual.(type) {
	case *loadtest.Report:
		if a != nil {
			cur = []*loadtest.Report{a}
		}
	case []*loadtest.Report:
		cur = a
	}
	if len(cur) == 0 {
		return false, fmt.Errorf("NotRegressFrom: expected a non-nil *loadtest.Report or a non-empty []*loadtest.Report, got %T", actual)
	}
	if err := checkExecutions("", cur); err != nil {
		return false, err
	}
	var base *loadtest.Baseline
	switch b := m.baseline.(type) {
	case *loadtest.Baseline:
		base = b
	case *loadtest.Report:
		base = &loadtest.Baseline{Executions: []*loadtest.Report{b}}
	case []*loadtest.Report:
		base = &loadtest.Baseline{Executions: b}
	case string:
		m.path = b
		if loadtest.UpdatingBaselines() {
			return m.record(b, cur)
		}
		var err error
		if base, err = loadtest.ReadBaseline(b); err != nil {
			return false, fmt.Errorf("NotRegressFrom: %w", err)
		}
	default:
		return false, fmt.Errorf("NotRegressFrom: the baseline must be a *loadtest.Baseline, a *loadtest.Report, a []*loadtest.Report or a file path, got %T", m.baseline)
	}
	if base == nil || len(base.Executions) == 0 {
		return false, fmt.Errorf("NotRegressFrom: the baseline holds no execution")
	}

	var here *loadtest.Machine
	for _, mc := range base.Machines {
		if mc != nil && mc.Calibration > 0 {
			here = loadtest.ThisMachine()
			break
		}
	}
	var err error
	if m.cmp, err = compareMeasured(base, cur, here, m.opts); err != nil {
		return false, err
	}
	if m.opts.Confirm != nil && m.cmp.Refused == "" && len(m.cmp.Regressions()) > 0 {
		again, err := m.opts.Confirm(context.Background())
		if err != nil {
			return false, fmt.Errorf("NotRegressFrom: the rerun (CompareOptions.Confirm) to confirm a regression: %w\nthe first executions:\n%s", err, m.cmp)
		}
		if len(again) == 0 {
			return false, fmt.Errorf("NotRegressFrom: the rerun (CompareOptions.Confirm) to confirm a regression returned no execution\nthe first executions:\n%s", m.cmp)
		}
		if err := checkExecutions("the rerun: ", again); err != nil {
			return false, err
		}
		rerun, err := compareMeasured(base, again, here, m.opts)
		if err != nil {
			return false, fmt.Errorf("%w (in the rerun, CompareOptions.Confirm, that was to confirm a regression)\nthe first executions:\n%s", err, m.cmp)
		}
		m.cmp = loadtest.ConfirmComparison(m.cmp, rerun)
	}
	ok, err := verdict("NotRegressFrom", m.cmp)
	if ok && err == nil && m.cmp.First != nil {
		note := fmt.Sprintf("NotRegressFrom passed on its rerun: the first executions' regression was not confirmed:\n%s", m.cmp)
		fmt.Fprintf(ginkgo.GinkgoWriter, "NOTE: %s", note)
		if ginkgo.CurrentSpecReport().LeafNodeType != gtypes.NodeTypeInvalid {
			ginkgo.AddReportEntry("benchgate rerun", note) // kept in --json-report and --junit-report too
		}
	}
	return ok, err
}

// checkExecutions refuses nil executions and those without a verdict
// (a plan that did not run); a late generator is judged by
// lateGenerator.
func checkExecutions(which string, rs []*loadtest.Report) error {
	for i, r := range rs {
		if r == nil {
			return fmt.Errorf("NotRegressFrom: %sexecution %d is nil", which, i+1)
		}
		recordNumbers(r)
		if why := r.NoVerdict(); why != "" {
			return fmt.Errorf("NotRegressFrom: no verdict: %s%s", which, why)
		}
	}
	return nil
}

// compareMeasured compares cur with base. Executions measured by a late
// load generator (Report.Invalid: a busy machine, or its own saturation)
// are left out when the sound ones of both sides settle the comparison
// by themselves (a regression, or no regression on every metric); a
// note says how many. Otherwise every execution is compared, and what
// the generator's lateness could have decided is refused
// (lateGenerator).
func compareMeasured(base *loadtest.Baseline, cur []*loadtest.Report, here *loadtest.Machine, o loadtest.CompareOptions) (*loadtest.Comparison, error) {
	sound := &loadtest.Baseline{}
	for i, r := range base.Executions {
		if r.Invalid() == "" {
			sound.Executions = append(sound.Executions, r)
			if i < len(base.Machines) {
				sound.Machines = append(sound.Machines, base.Machines[i])
			}
		}
	}
	var soundCur []*loadtest.Report
	for _, r := range cur {
		if r.Invalid() == "" {
			soundCur = append(soundCur, r)
		}
	}
	left := len(base.Executions) - len(sound.Executions) + len(cur) - len(soundCur)
	if left > 0 && len(sound.Executions) > 0 && len(soundCur) > 0 {
		if c := loadtest.CompareBaseline(sound, soundCur, here, o); c.Settled() {
			// the machine was busy while the new executions ran: the
			// sound ones beside the late one ran on it too (in the
			// gate study, an unchanged build's sound executions after
			// a neighbour were flagged +11%, 3 times in 10), so a
			// regression they show is no verdict; no regression stands
			// (a busy machine only slows)
			if r := c.Regressions(); len(r) > 0 && len(soundCur) < len(cur) && c.Refused == "" {
				var hit []string
				for _, d := range r {
					hit = append(hit, fmt.Sprintf("%s / %s %s %s", d.Run, d.Step, d.Metric, d.ChangeText()))
				}
				var why string
				for _, x := range cur {
					if w := x.Invalid(); w != "" {
						why = w
						break
					}
				}
				return c, fmt.Errorf("NotRegressFrom: no verdict on %s: %d of %d new executions were measured by a %w on a busy machine, and the others ran beside them (%s); rerun at a quieter moment, or compare with a duet (loadtest.Duet), whose pairs share the machine's state",
					strings.Join(hit, ", "), len(cur)-len(soundCur), len(cur), ErrLateGenerator, why)
			}
			fmt.Fprintf(ginkgo.GinkgoWriter, "NotRegressFrom: %d of %d baseline and %d of %d new executions were measured by a late load generator and left out\n",
				len(base.Executions)-len(sound.Executions), len(base.Executions), len(cur)-len(soundCur), len(cur))
			return c, nil
		}
	}
	c := loadtest.CompareBaseline(base, cur, here, o)
	return c, lateGenerator(base.Executions, cur, c)
}

// lateGenerator refuses the latency verdicts of a stored comparison
// that counts an execution measured by a late load generator
// (Report.Invalid): a busy machine (a neighbour, a CPU quota) or the
// generator's own saturation. The generator's Delay bounds only its own
// lateness; the application under test ran on the same busy machine,
// and how much slower it answered there nothing measured bounds (in the
// gate study an unchanged build's p95 was measured +30% through a
// neighbour that delayed the generator by a few hundred µs). So every
// decided latency metric, and each run's iterations per second, are
// refused: no verdict either way. What is refused says why and points
// to the duet, whose pairs share the machine's state.
func lateGenerator(base, cur []*loadtest.Report, c *loadtest.Comparison) error {
	var late time.Duration
	var why, side string
	for i, rs := range [][]*loadtest.Report{base, cur} {
		for _, r := range rs {
			if w := r.Invalid(); w != "" && (why == "" || r.Generator.Delay >= late) {
				late, why, side = r.Generator.Delay, w, [2]string{"a baseline execution", "a new execution"}[i]
			}
		}
	}
	if why == "" {
		return nil
	}
	var hit []string
	for _, d := range c.Deltas {
		decided := d.Verdict == loadtest.Regressed || d.Verdict == loadtest.NoRegression || d.Verdict == loadtest.Improved
		if decided && (strings.HasPrefix(d.Metric, "p") || d.Metric == "iter/s") {
			hit = append(hit, fmt.Sprintf("%s / %s %s", d.Run, d.Step, d.Metric))
		}
	}
	if len(hit) == 0 {
		return nil
	}
	return fmt.Errorf("NotRegressFrom: no verdict on %s: %s was measured by a %w (by up to %v) on a busy machine, which slows the application as well as the generator by an amount nothing measured bounds, and the sound executions alone do not settle the comparison (%s); rerun at a quieter moment, or compare with a duet (loadtest.Duet), whose pairs share the machine's state",
		strings.Join(hit, ", "), side, ErrLateGenerator, late.Round(time.Microsecond), why)
}

// ErrLateGenerator is wrapped by the error of a stored comparison that
// was refused because the load generator was late (a busy machine, or
// its own saturation) by enough to decide it: no verdict either way.
var ErrLateGenerator = errors.New("load generator late")

// record adds the executions to the baseline at path.
func (m *regressMatcher) record(path string, cur []*loadtest.Report) (bool, error) {
	// a saturated run was refused above, and a failing one is refused
	// here: neither becomes a baseline
	for _, r := range cur {
		if bad := r.ResponsesFailed + r.RequestsNotSent; bad > 0 || goodResponses(r) == 0 {
			return false, fmt.Errorf("NotRegressFrom: not recording a baseline at %s from a run with %d failed or unsent requests and %d good responses", path, bad, goodResponses(r))
		}
	}
	here := loadtest.ThisMachine()
	if loadtest.RestartingBaselines() {
		var b loadtest.Baseline
		for _, r := range cur {
			if err := b.Add(r, here); err != nil {
				return false, fmt.Errorf("NotRegressFrom: recording the baseline: %w", err)
			}
		}
		if err := b.Write(path); err != nil {
			return false, fmt.Errorf("NotRegressFrom: recording the baseline: %w", err)
		}
		return true, nil
	}
	for _, r := range cur {
		b, err := loadtest.AppendBaseline(path, r, here)
		if err != nil {
			return false, fmt.Errorf("NotRegressFrom: recording the baseline: %w", err)
		}
		if n := len(b.Executions); n < loadtest.MinBaselineExecutions {
			fmt.Fprintf(ginkgo.GinkgoWriter, "NotRegressFrom: %s holds %d execution(s); record %d or more at different moments\n", path, n, loadtest.MinBaselineExecutions)
		}
	}
	if b, err := loadtest.ReadBaseline(path); err == nil {
		if k := b.SessionCount(); k < loadtest.MinBaselineSessions && (len(cur) > 1 || k < len(b.Executions)) {
			fmt.Fprintf(ginkgo.GinkgoWriter, "NotRegressFrom: %s holds executions of %d session(s) (go test runs); executions of one run are compared by session, so record it in %d or more separate runs\n", path, k, loadtest.MinBaselineSessions)
		}
	}
	return true, nil
}

// verdict is a comparison's outcome for a matcher: no regression, a
// regression, or (an error) no verdict: refused or inconclusive.
func verdict(matcher string, c *loadtest.Comparison) (bool, error) {
	if c.Refused != "" {
		return false, fmt.Errorf("%s: no verdict: %s", matcher, c.Refused)
	}
	if len(c.Regressions()) > 0 {
		return false, nil
	}
	if u := c.Inconclusive(); len(u) > 0 {
		var parts []string
		for _, d := range u {
			if strings.HasPrefix(d.Why, "no verdict:") { // a duet's: the change is in it
				parts = append(parts, fmt.Sprintf("%s / %s %s: %s", d.Run, d.Step, d.Metric, d.Why))
				continue
			}
			parts = append(parts, fmt.Sprintf("%s / %s %s: %s (%s)", d.Run, d.Step, d.Metric, d.ChangeText(), d.Why))
		}
		msg := fmt.Sprintf("%s: no verdict on %d metric(s):\n  %s\n%s", matcher, len(u), strings.Join(parts, "\n  "), c)
		if c.Options.PassInconclusive {
			fmt.Fprintf(ginkgo.GinkgoWriter, "WARNING: passed by PassInconclusive: %s", msg)
			return true, nil
		}
		return false, fmt.Errorf("%s", msg)
	}
	for _, d := range c.Ungated() {
		fmt.Fprintf(ginkgo.GinkgoWriter, "%s: %s / %s is %s\n", matcher, d.Run, d.Step, d.Why)
	}
	return true, nil
}

// regressions lists a comparison's regressions (only the metrics that
// changed) and its ungated steps under header, then its table.
func regressions(header string, c *loadtest.Comparison) string {
	var b strings.Builder
	b.WriteString(header)
	for _, d := range c.Regressions() {
		fmt.Fprintf(&b, "  %s / %s: %s %s\n", d.Run, d.Step, d.Metric, describe(d, c.Duet))
	}
	for _, d := range c.Ungated() {
		fmt.Fprintf(&b, "  %s / %s: ungated: %s\n", d.Run, d.Step, d.Why)
	}
	b.WriteString(c.String())
	return b.String()
}

// busyMachine is the stored-mode hint: the machine may be the cause.
const busyMachine = "A stored baseline was measured at another moment: if this machine is busier or slower now than when the baseline was recorded " +
	"(a neighbour on a shared runner, CPU frequency, another machine), that alone looks like a regression. " +
	"Confirm with a duet (loadtest.Duet and HaveNoRegressions), which runs both builds side by side in pairs.\n"

func (m *regressMatcher) FailureMessage(any) string {
	msg := regressions(fmt.Sprintf("Expected the report not to regress from the baseline%s, but %d metric(s) did:\n",
		m.where(), len(m.cmp.Regressions())), m.cmp)
	msg += busyMachine
	if m.opts.Confirm == nil {
		msg += "Or let a rerun confirm a regression before it fails (CompareOptions.Confirm re-executes the plan; false alarms become several times rarer).\n"
	}
	if m.path != "" {
		msg += fmt.Sprintf("If the change is intended, start the baseline over: %s=new go test ./... (then =1, %d times or more) and commit %s\n",
			loadtest.UpdateBaselinesEnv, loadtest.MinBaselineExecutions-1, m.path)
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

// describe says how a metric changed: the change, its interval, the
// p-value and over what.
func describe(d loadtest.Delta, duet bool) string {
	if d.Verdict == loadtest.Missing {
		return "missing: " + d.Why
	}
	if d.Metric == "error rate" && d.Why != "" {
		return d.Why
	}
	s := fmt.Sprintf("changed by %s (%s over %s)", d.ChangeText(), loadtest.FormatP(d.P), d.Compared(duet))
	if d.Why != "" {
		s += "; " + d.Why // a rerun's confirmation
	}
	return s
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
	if o.TailMinEffect >= 1 {
		return fmt.Errorf("NotRegressFrom: CompareOptions.TailMinEffect %v: a fraction (0.20 is 20 %%); %v would let a %v× slowdown of a tail pass: did you mean %v?", o.TailMinEffect, o.TailMinEffect, 1+o.TailMinEffect, o.TailMinEffect/100)
	}
	if o.MinEffect >= 1 {
		return fmt.Errorf("NotRegressFrom: CompareOptions.MinEffect %v: a fraction (0.10 is 10 %%); %v would let a %v× slowdown pass: did you mean %v?", o.MinEffect, o.MinEffect, 1+o.MinEffect, o.MinEffect/100)
	}
	if o.MaxErrorRateIncrease >= 1 {
		return fmt.Errorf("NotRegressFrom: CompareOptions.MaxErrorRateIncrease %v: a fraction (0.01 is one percentage point); %v would pass at a 100 %% error rate: did you mean %v?", o.MaxErrorRateIncrease, o.MaxErrorRateIncrease, o.MaxErrorRateIncrease/100)
	}
	if o.Alpha >= 0.5 {
		return fmt.Errorf("NotRegressFrom: CompareOptions.Alpha %v: a significance level is a small fraction (default 0.05)", o.Alpha)
	}
	if o.MaxErrorRateIncrease < 0 || o.MinAbsolute < 0 || o.MinEffect < 0 || o.TailMinEffect < 0 || o.Alpha < 0 || o.MaxCalibrationRatio < 0 {
		return fmt.Errorf("NotRegressFrom: CompareOptions %+v: no field may be negative", o)
	}
	if err := checkSuite(o); err != nil {
		return fmt.Errorf("NotRegressFrom: %w", err)
	}
	return nil
}

// checkSuite refuses a negative GatedSpecs, or a GatedSpecsEnv that is
// not a positive integer when GatedSpecs leaves the count to it.
func checkSuite(o loadtest.CompareOptions) error {
	if o.GatedSpecs < 0 {
		return fmt.Errorf("CompareOptions.GatedSpecs %d: the number of gated specs sharing Alpha must be positive (0: from %s)", o.GatedSpecs, loadtest.GatedSpecsEnv)
	}
	if o.GatedSpecs == 0 {
		_, err := loadtest.SuiteGatedSpecs()
		return err
	}
	return nil
}
