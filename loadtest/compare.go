package loadtest

import (
	"context"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// CompareOptions tune a baseline comparison or a duet. The zero value
// means the defaults.
type CompareOptions struct {
	// Percentiles of the full response time compared, step by step
	// (default 50 and 95). Each is taken from an execution's (or a
	// duet round's) whole histogram, so a p99 rests on every response
	// of the execution, not on a block's few.
	Percentiles []float64
	// MinEffect is the smallest relative change that can fail a
	// comparison (default 0.10: 10%), and the margin of "no regression":
	// that verdict needs the whole interval below it.
	MinEffect float64
	// TailMinEffect is MinEffect for the percentiles above 90 (default
	// twice MinEffect: 0.20). An execution's or a duet round's p95 or
	// p99 rests on its few largest responses and varies from one to the
	// next far more than its median: on a busy two-core machine a
	// minute's duet of an unchanged build bounds a step's p95 change
	// within about ±11%, so a 10% margin would leave most unchanged
	// builds without a verdict, where 20% settles them.
	TailMinEffect float64
	// MinAbsolute is the smallest latency change that can fail a
	// comparison (default 100µs): a step answering in 50µs that takes
	// 60µs on another run of the same code is the machine, not the
	// change. An interval whose upper end is below it shows no
	// regression too.
	MinAbsolute time.Duration
	// Alpha bounds the chance that a comparison of unchanged code says
	// "regressed" anywhere (default 0.05). Each of the m gated metrics
	// (latency percentiles; an open model's iterations per second) is
	// judged on an interval of one-sided level Alpha/m on each side
	// (Bonferroni; a duet divides by its planned looks too), so more
	// steps do not mean more false alarms. Metrics only reported (a
	// closed model's iterations per second) are not in m.
	Alpha float64
	// MaxErrorRateIncrease is how far the error rate may rise, in
	// absolute terms (default 0.01: one percentage point).
	MaxErrorRateIncrease float64
	// PassInconclusive lets the matchers pass a comparison whose only
	// flaw is an inconclusive metric, with a warning. By default an
	// inconclusive metric fails them: "no verdict" is not "no
	// regression".
	PassInconclusive bool
	// MaxCalibrationRatio is how much slower or faster (a ratio, default
	// 1.3) this machine may run the calibration workload than the
	// baseline's machine did before a stored comparison is refused.
	MaxCalibrationRatio float64
	// GatedSpecs is the number of gated specs (comparisons) in the
	// suite that share Alpha: each is judged at Alpha/GatedSpecs
	// (Bonferroni over specs), so the chance that a suite of unchanged
	// code fails anywhere is at most Alpha. 0 takes it from the
	// environment variable BENCHGATE_GATED_SPECS (GatedSpecsEnv), and
	// without that it is 1: each spec on its own at Alpha.
	GatedSpecs int
	// Confirm, when set, re-executes the plan: a stored comparison
	// (the matcher NotRegressFrom) that finds a regression calls it
	// once and compares the executions it returns with the same
	// baseline, and fails only when a metric regressed in both
	// (ConfirmComparison). The functions of this package that only
	// compare ignore it. A rerun in the same process shares that
	// process's state: it clears a regression a passing disturbance
	// made (a neighbour, a pause), not one a slow process made, which
	// a comparison by session counts as the candidate's own (only
	// another process, or a duet, tells those apart).
	Confirm func(context.Context) ([]*Report, error)
}

// GatedSpecsEnv names the environment variable that gives the number of
// gated specs in the suite sharing CompareOptions.Alpha, when
// CompareOptions.GatedSpecs is 0: BENCHGATE_GATED_SPECS=4 go test ./...
const GatedSpecsEnv = "BENCHGATE_GATED_SPECS"

// SuiteGatedSpecs returns the number of gated specs GatedSpecsEnv gives
// (1 when it is unset), or an error naming the variable and its value
// when that is not a positive integer.
func SuiteGatedSpecs() (int, error) {
	v := strings.TrimSpace(os.Getenv(GatedSpecsEnv))
	if v == "" {
		return 1, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 1_000_000 {
		return 0, fmt.Errorf("%s=%q: the number of gated specs in the suite must be a positive integer", GatedSpecsEnv, v)
	}
	return n, nil
}

// checkSuite refuses a bad GatedSpecsEnv when the options leave the
// number of gated specs to it.
func (o CompareOptions) checkSuite() error {
	if o.GatedSpecs < 0 {
		return fmt.Errorf("CompareOptions.GatedSpecs %d: the number of gated specs sharing Alpha must be positive (0: from %s)", o.GatedSpecs, GatedSpecsEnv)
	}
	if o.GatedSpecs > 0 {
		return nil
	}
	_, err := SuiteGatedSpecs()
	return err
}

// specAlpha is the false-alarm level of one comparison: Alpha shared
// by the suite's gated specs.
func (o CompareOptions) specAlpha() float64 { return o.Alpha / float64(max(o.GatedSpecs, 1)) }

func (o CompareOptions) withDefaults() CompareOptions {
	if len(o.Percentiles) == 0 {
		o.Percentiles = []float64{50, 95}
	}
	if o.MinEffect <= 0 {
		o.MinEffect = 0.10
	}
	if o.TailMinEffect <= 0 {
		o.TailMinEffect = 2 * o.MinEffect
	}
	if o.Alpha <= 0 || o.Alpha >= 1 {
		o.Alpha = 0.05
	}
	if o.MinAbsolute <= 0 {
		o.MinAbsolute = 100 * time.Microsecond
	}
	if o.MaxErrorRateIncrease <= 0 {
		o.MaxErrorRateIncrease = 0.01
	}
	if o.MaxCalibrationRatio <= 1 {
		o.MaxCalibrationRatio = 1.3
	}
	if o.GatedSpecs <= 0 {
		o.GatedSpecs, _ = SuiteGatedSpecs() // refused before by checkSuite when bad
		o.GatedSpecs = max(o.GatedSpecs, 1)
	}
	return o
}

// EffectFor returns the minimum effect of a metric: TailMinEffect for a
// percentile above 90 ("p95", "p99"), MinEffect otherwise.
func (o CompareOptions) EffectFor(metric string) float64 {
	if p, ok := strings.CutPrefix(metric, "p"); ok {
		if v, err := strconv.ParseFloat(p, 64); err == nil && v > 90 && o.TailMinEffect > 0 {
			return o.TailMinEffect
		}
	}
	return o.MinEffect
}

// Verdict is the outcome of one compared metric.
type Verdict string

// The verdicts.
const (
	// Regressed: the interval lies above zero and the estimate is
	// beyond MinEffect (and MinAbsolute).
	Regressed Verdict = "REGRESSED"
	// NoRegression: the interval lies below MinEffect (or its upper end
	// below MinAbsolute): equivalence shown.
	NoRegression Verdict = "no regression"
	// Improved: no regression, and the interval lies below zero with
	// the estimate beyond MinEffect the other way.
	Improved Verdict = "improved"
	// Inconclusive: neither: the interval straddles MinEffect.
	Inconclusive Verdict = "INCONCLUSIVE"
	// Missing: a step of the baseline is not in the new report.
	Missing Verdict = "MISSING"
	// Ungated: a step of the new report is not in the baseline, so
	// nothing gates it.
	Ungated Verdict = "ungated"
	// Reported: measured and shown with its interval, but not a
	// verdict: a closed model's iterations per second (see
	// CompareExecutions). It counts in no Bonferroni m.
	Reported Verdict = "reported"
)

// Delta is one metric of one step, old against new.
type Delta struct {
	Run, Step string
	Metric    string // "p95", "error rate", or "iter/s" for a run
	// Old is the median over the baseline's executions (or a duet's A
	// rounds): µs for latencies, a fraction for error rates, per second
	// for rates. New is Old moved by the estimated change, so the two
	// and Change always agree in sign; NewMedian is the candidate's own
	// median.
	Old, New, NewMedian float64
	// Change is the estimated relative change (new/old - 1): the
	// Hodges–Lehmann estimate of the shift of log values, for error
	// rates the difference in percentage points.
	Change float64
	// Low and High bound Change at the comparison's confidence level
	// (Comparison.Level); -1 and +Inf when the data cannot bound it, 0
	// for the error rate (a rule, not an interval) and a step's row.
	Low, High float64
	// P is the one-sided p-value of "it got worse" (1 when none).
	P float64
	// N is what was compared: executions old and new in a stored
	// comparison; pairs (both the same) in a duet.
	N [2]int
	// Sessions are the sessions (Report.Session) old and new when a
	// stored comparison took the session as its unit; zero otherwise.
	Sessions [2]int
	Verdict  Verdict
	Why      string // for inconclusive, missing, ungated, or the error rate rule
}

// Comparison is a step-by-step comparison of a report with a baseline,
// or of a duet's two sides.
type Comparison struct {
	Options CompareOptions
	Deltas  []Delta
	// Tests is the number of metrics judged by an interval; Looks the
	// number of looks planned (1 for a stored comparison). Each
	// interval bound has the one-sided level Alpha/(Tests·Looks).
	Tests, Looks int
	// Duet is true for a duet: pairs of rounds, signed-rank intervals.
	Duet bool
	// Pairs and Elapsed: how many pairs a duet ran and for how long.
	Pairs   int
	Elapsed time.Duration
	// Seed drew the order inside a duet's pairs.
	Seed uint64
	// RoundTime is a duet's round time; RoundChosen says the duet chose
	// it from a pilot pair (DuetOptions.RoundTime 0).
	RoundTime   time.Duration
	RoundChosen bool
	// Contended counts a duet's pairs with a round whose generator was
	// saturated (Report.Invalid). They are kept: which side ran first
	// was drawn at random, so a neighbour favours neither side.
	Contended int
	// Refused says why no metric was judged ("" when they were): the
	// machine differs from the baseline's.
	Refused string
	// First is the comparison that a rerun confirmed or cleared
	// (ConfirmComparison); nil when there was no rerun.
	First *Comparison
	// old and new are the reports compared (a duet's paired rounds), for
	// Distributions
	old, new []*Report
}

// Distributions returns each compared step's latency on both sides, in
// the order of the baseline's runs and steps (the ungated steps last):
// what WriteHTML draws. They are merged, when asked for, from the
// reports compared, which the comparison keeps for this; nothing of
// them goes to a baseline or JSON file.
func (c *Comparison) Distributions() []Distribution {
	if len(c.old) == 0 || len(c.new) == 0 {
		return nil
	}
	var out []Distribution
	ref := c.old[0]
	for ri, run := range ref.Runs {
		if run == nil {
			continue
		}
		for k, s := range run.Steps {
			if s != nil {
				out = append(out, distribution(ref, ri, k, c.old, c.new))
			}
		}
	}
	for ci, crun := range c.new[0].Runs {
		if crun == nil {
			continue
		}
		for k, s := range crun.Steps {
			if s != nil && pairStep(ref, c.new[0], ci, k).Missing() != "" {
				out = append(out, distribution(c.new[0], ci, k, nil, c.new))
			}
		}
	}
	return out
}

// Distribution is one step's latency on both sides of a comparison:
// the good responses of every execution of a side (a duet's rounds of
// it), their histograms merged.
type Distribution struct {
	Run, Step string
	// Old is the baseline's (a duet's A), New the candidate's (B); nil
	// when the side lacks the step (Missing, Ungated).
	Old, New *Latency
}

// distribution merges step k of ref's run ri over each side's reports.
func distribution(ref *Report, ri, k int, old, new []*Report) Distribution {
	merged := func(rs []*Report) *Latency {
		var l *Latency
		for _, r := range rs {
			if s := pairStep(r, ref, ri, k); s.Missing() == "" && s.Latency != nil {
				if l == nil {
					l = NewLatency()
				}
				l.Merge(s.Latency)
			}
		}
		return l
	}
	return Distribution{Run: ref.Runs[ri].Name, Step: ref.Runs[ri].Steps[k].Name, Old: merged(old), New: merged(new)}
}

// AlphaSide is the one-sided level of each interval bound: Alpha over
// the suite's gated specs, the metrics and the looks.
func (c *Comparison) AlphaSide() float64 {
	return c.Options.specAlpha() / float64(max(c.Tests, 1)*max(c.Looks, 1))
}

// Level is the two-sided confidence level of each interval.
func (c *Comparison) Level() float64 { return 1 - 2*c.AlphaSide() }

// AlphaEquivalence is the one-sided level of the bound that shows "no
// regression": Alpha over the looks only. The claim that nothing
// regressed is an intersection–union test (every metric of every gated
// spec must show it, so a regressed metric passes only if its own bound
// errs), which needs no division by the metrics or the specs (Berger,
// 1982); the looks still divide it, as each look is a chance to err.
func (c *Comparison) AlphaEquivalence() float64 {
	return c.Options.Alpha / float64(max(c.Looks, 1))
}

// bounds returns a metric's interval: its end towards "worse" (which
// "regressed" needs beyond 0) at AlphaSide, its end towards "better"
// (which "no regression" needs below MinEffect) at AlphaEquivalence.
// larger says a larger figure is worse. P is the regression test's.
func (c *Comparison) bounds(f func(alpha float64) interval, larger bool) (strict, iv interval) {
	strict = f(c.AlphaSide())
	iv = strict
	if eq := f(c.AlphaEquivalence()); larger {
		iv.High = eq.High
	} else {
		iv.Low = eq.Low
	}
	return strict, iv
}

// Regressions returns the deltas that regressed or went missing.
func (c *Comparison) Regressions() []Delta { return c.with(Regressed, Missing) }

// Inconclusive returns the deltas without a verdict.
func (c *Comparison) Inconclusive() []Delta { return c.with(Inconclusive) }

// Ungated returns the steps of the new report the baseline lacks.
func (c *Comparison) Ungated() []Delta { return c.with(Ungated) }

func (c *Comparison) with(vs ...Verdict) []Delta {
	var out []Delta
	for _, d := range c.Deltas {
		if slices.Contains(vs, d.Verdict) {
			out = append(out, d)
		}
	}
	return out
}

// Settled reports whether the comparison has its answer: a metric
// regressed, or every metric shows no regression.
func (c *Comparison) Settled() bool {
	return c.Refused == "" && (len(c.Regressions()) > 0 || len(c.Inconclusive()) == 0)
}

// Compare compares one execution cur with one execution base. One
// execution a side bounds no interval: the change is measured and
// shown, every metric is inconclusive. Use CompareExecutions with
// several executions a side (a Baseline holds them).
func Compare(base, cur *Report, opts CompareOptions) *Comparison {
	return CompareExecutions([]*Report{base}, []*Report{cur}, opts)
}

// CompareExecutions compares the executions cur of a plan with the
// executions base of the same plan, matching runs and steps by name.
//
// The unit is the execution. The variance that decides whether "the
// same code, run again" looks the same lies between executions (the
// machine's state, neighbours, CPU frequency), not between moments of
// one execution, so each execution gives one figure per metric: a
// step's percentile from its whole histogram (so a p99 rests on every
// response of the execution), a run's iterations per second. Per metric, the change is the Hodges–Lehmann estimate of the
// shift of log(figure) between the two sets, with the exact
// distribution-free (Mann–Whitney) interval; exp(shift) - 1 is the
// relative change. With m metrics each bound has the one-sided level
// Alpha/m (Bonferroni over metrics: the chance of any false
// "regressed" is at most Alpha, whatever the between-execution drift,
// as long as the executions of either build are alike in
// distribution). A metric
//
//   - regressed: the interval lies above zero and the estimate is at
//     least MinEffect (and, for latency, MinAbsolute);
//   - shows no regression: the interval's upper end lies below
//     MinEffect (or, for latency, the change at that end is below
//     MinAbsolute);
//   - is inconclusive otherwise, for instance when the executions are
//     too few for the interval to have an end at all: n and m
//     executions bound it only when 1/C(n+m, n) ≤ Alpha/m.
//
// Iterations per second are gated only in the open model (every
// execution on both sides ran with ArrivalRate): there the iterations
// completed per second are the server's throughput under a load that
// does not wait for it, and fewer is worse. In a closed model (a fixed
// number of users, each starting its next iteration when the last one
// ends) they are users / (latency + the generator's own time per
// iteration): the latencies are gated already, and the rest is the
// generator's CPU, which a neighbour takes away, so they are shown with
// their interval as "reported" and counted in no m. (Taking the
// generator's time out would leave 1/latency: the latencies again.)
//
// Sessions. Executions measured by one process (Report.Session: a go
// test run, a CI job) share its state, and often the application's,
// so they differ less from each other than from another process's: the
// gate study measured about 10% between two processes of one build on a
// quiet machine, more than between executions of one. When a side holds
// several executions of one session (a candidate's executions of one
// spec, a baseline recorded a few at a time), the unit is the session:
// each session's figure is the mean of its executions' log figures, the
// change is the difference of the two sides' means of them, and its
// interval a Student t interval over the sessions (pooled variance,
// K+L-2 degrees of freedom: a rank interval over the few sessions a
// baseline holds could bound nothing), widened where one side's
// sessions hold fewer executions than the other's. So a baseline
// recorded by one process, compared with executions of another, is
// inconclusive: it cannot tell a change from the difference between
// processes. Record a baseline in MinBaselineSessions separate runs or
// more. When every execution of both sides comes from one process (a
// test measuring both builds), the unit stays the execution.
//
// The error rate, pooled over the executions, regresses when it rose by
// more than MaxErrorRateIncrease. A step of cur that base lacks is
// listed as ungated.
func CompareExecutions(base, cur []*Report, opts CompareOptions) *Comparison {
	o := opts.withDefaults()
	c := &Comparison{Options: o, Looks: 1}
	if err := opts.checkSuite(); err != nil {
		c.Refused = err.Error()
		return c
	}
	base, cur = nonNil(base), nonNil(cur)
	if len(base) == 0 || len(cur) == 0 {
		c.Refused = fmt.Sprintf("%d baseline and %d new executions: both sides need one at least", len(base), len(cur))
		return c
	}
	// an execution that holds less than its plan (an error, a shard of
	// several) is no measure of it, on either side
	for side, rs := range map[string][]*Report{"baseline": base, "new": cur} {
		for i, r := range rs {
			if why, _ := r.partial(); why != "" {
				c.Refused = fmt.Sprintf("%s execution %d: %s", side, i+1, why)
				return c
			}
		}
	}
	var pend []pending
	ref := base[0]
	for ri, brun := range ref.Runs {
		if brun == nil {
			continue
		}
		for k, bstep := range brun.Steps {
			if bstep == nil {
				continue
			}
			var why string
			for i, r := range cur {
				if s := pairStep(r, ref, ri, k); s.Missing() != "" {
					why = s.Missing()
					if len(cur) > 1 {
						why = fmt.Sprintf("execution %d: %s", i+1, why)
					}
					break
				}
			}
			if why != "" {
				c.Deltas = append(c.Deltas, Delta{Run: brun.Name, Step: bstep.Name, Metric: "step", Verdict: Missing, P: 1, Why: why})
				continue
			}
			for _, p := range o.Percentiles {
				pct := func(s *StepReport) float64 { return float64(s.Latency.Percentile(p) / time.Microsecond) }
				pend = append(pend, pending{Delta: Delta{Run: brun.Name, Step: bstep.Name, Metric: "p" + trimFloat(p)},
					old: stepValues(base, ref, ri, k, pct), new: stepValues(cur, ref, ri, k, pct), larger: true})
			}
			pend = append(pend, pending{Delta: compareErrors(ref, ri, k, base, cur, o), rule: true})
		}
		if n := len(brun.Steps); n > 0 && brun.Steps[n-1] != nil {
			pend = append(pend, pending{Delta: Delta{Run: brun.Name, Step: "(iterations)", Metric: "iter/s"},
				old: iterRates(base, ref, ri, n-1), new: iterRates(cur, ref, ri, n-1),
				report: !openModel(base) || !openModel(cur)})
		}
	}
	c.Tests = tested(pend)
	var og, ng [][]int
	if bySession(base, cur) {
		og, ng = sessionGroups(base), sessionGroups(cur)
	}
	for _, p := range pend {
		d := p.Delta
		if p.rule {
			c.Deltas = append(c.Deltas, d)
			continue
		}
		old, new := finite(p.old), finite(p.new)
		d.N = [2]int{len(old), len(new)}
		d.Old, d.NewMedian = median(old), median(new)
		f := func(a float64) interval { return shiftInterval(logs(old), logs(new), a) }
		if og != nil {
			ov, nv := grouped(p.old, og), grouped(p.new, ng)
			d.Sessions = [2]int{len(ov), len(nv)}
			f = func(a float64) interval { return sessionInterval(ov, nv, a) }
		}
		strict, iv := c.bounds(f, p.larger)
		if !p.larger && !iv.untested {
			iv.P = 1 - iv.P // larger rates are better: "worse" is the other tail
		}
		c.decide(&d, iv, strict, p.larger)
		if p.report {
			d.Verdict, d.Why = Reported, closedRate
		} else if d.Verdict == Inconclusive {
			d.Why = c.storedWhy(d)
		}
		c.Deltas = append(c.Deltas, d)
	}
	c.Deltas = append(c.Deltas, ungated(base[0], cur[0])...)
	c.old, c.new = base, cur
	return c
}

// pending is a metric awaiting its interval.
type pending struct {
	Delta
	old, new []float64
	larger   bool // larger values are worse (latency)
	rule     bool // decided already (the error rate): no interval
	report   bool // shown with its interval, not gated (closed-model iter/s)
}

// tested counts the metrics judged by an interval: the m of the
// Bonferroni correction. Reported metrics are not judged.
func tested(ps []pending) int {
	n := 0
	for _, p := range ps {
		if !p.rule && !p.report {
			n++
		}
	}
	return n
}

func nonNil(rs []*Report) []*Report {
	var out []*Report
	for _, r := range rs {
		if r != nil {
			out = append(out, r)
		}
	}
	return out
}

// stepValues returns f of step k of ref's run ri in each report (NaN
// where the step had no good response).
func stepValues(rs []*Report, ref *Report, ri, k int, f func(*StepReport) float64) []float64 {
	out := make([]float64, len(rs))
	for i, r := range rs {
		s := pairStep(r, ref, ri, k)
		if s.Missing() != "" || s.Good == 0 || s.Latency == nil {
			out[i] = math.NaN()
			continue
		}
		out[i] = f(s)
	}
	return out
}

// closedRate says why a closed model's iterations per second are
// reported, not gated.
const closedRate = "closed model: follows from the latencies and the generator's own time, so not gated"

// openModel reports whether every execution ran in the open model
// (ArrivalRate), where the iterations completed per second are the
// server's throughput under a load that does not wait for it.
func openModel(rs []*Report) bool {
	for _, r := range rs {
		if r.Arrivals == nil {
			return false
		}
	}
	return len(rs) > 0
}

// iterRates returns each report's iterations per second of a run: its
// last step's good responses over the execution's time.
func iterRates(rs []*Report, ref *Report, ri, k int) []float64 {
	out := make([]float64, len(rs))
	for i, r := range rs {
		out[i] = math.NaN()
		if s := pairStep(r, ref, ri, k); s.Missing() == "" && r.TotalTime > 0 && s.Good > 0 {
			out[i] = float64(s.Good) / r.TotalTime.Seconds()
		}
	}
	return out
}

// finite drops NaN, infinite and non-positive values (a log needs > 0).
func finite(xs []float64) []float64 {
	var out []float64
	for _, x := range xs {
		if x > 0 && !math.IsInf(x, 0) {
			out = append(out, x)
		}
	}
	return out
}

func logs(xs []float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = math.Log(x)
	}
	return out
}

// decide turns an interval of log ratios into the delta's change and
// verdict. larger says whether larger values are worse.
// decide sets d's change, interval and verdict from iv (each end at its
// own level: Comparison.bounds); strict is the interval with both ends
// at AlphaSide, which an "improved" needs.
func (c *Comparison) decide(d *Delta, iv, strict interval, larger bool) {
	o := c.Options
	d.P = iv.P
	if math.IsNaN(iv.Est) {
		d.Change, d.Low, d.High = math.NaN(), -1, math.Inf(1)
		d.New = math.NaN()
		d.Verdict = Inconclusive
		return
	}
	d.Change, d.Low, d.High = math.Expm1(iv.Est), math.Expm1(iv.Low), math.Expm1(iv.High)
	d.New = d.Old * (1 + d.Change)
	worse := func(x float64) float64 {
		if larger {
			return x
		}
		return -x
	}
	est := worse(d.Change)
	lo, hi := min(worse(d.Low), worse(d.High)), max(worse(d.Low), worse(d.High))
	minAbs := 0.0
	if larger && strings.HasPrefix(d.Metric, "p") {
		minAbs = float64(o.MinAbsolute / time.Microsecond)
	}
	effect := o.EffectFor(d.Metric)
	switch {
	case lo > 0 && est >= effect && math.Abs(d.Old*d.Change) >= minAbs:
		d.Verdict = Regressed
	case hi < effect || (minAbs > 0 && d.Old*hi < minAbs):
		d.Verdict = NoRegression
		strictHi := worse(math.Expm1(strict.High))
		if !larger {
			strictHi = worse(math.Expm1(strict.Low))
		}
		if strictHi < 0 && -est >= effect && (minAbs == 0 || math.Abs(d.Old*d.Change) >= minAbs) {
			d.Verdict = Improved
		}
	default:
		d.Verdict = Inconclusive
	}
}

// Compared says what the metric's interval rests on: "12 pairs" in a
// duet, "12 and 5 executions" in a stored comparison, with the sessions
// ("in 6 and 1 sessions") where they were its unit.
func (d Delta) Compared(duet bool) string {
	if duet {
		return fmt.Sprintf("%d pairs", d.N[0])
	}
	s := fmt.Sprintf("%d and %d executions", d.N[0], d.N[1])
	if d.Sessions != [2]int{} {
		s += fmt.Sprintf(" in %d and %d sessions", d.Sessions[0], d.Sessions[1])
	}
	return s
}

// bounded reports whether the delta's interval has both ends.
func (d Delta) bounded() bool { return d.Low > -1 && !math.IsInf(d.High, 1) }

// storedWhy says why a stored comparison's metric is inconclusive and
// what gives it a verdict.
func (c *Comparison) storedWhy(d Delta) string {
	if k, l := d.Sessions[0], d.Sessions[1]; k+l > 0 {
		if !d.bounded() && k+l >= 3 && !math.IsNaN(d.Change) {
			return fmt.Sprintf("the %d baseline and %d new sessions' figures are alike to the histogram's precision: no spread between sessions is measured, so none can be bounded; record the baseline in more separate go test runs or CI jobs (%s=1), or compare with a duet (loadtest.Duet)",
				k, l, UpdateBaselinesEnv)
		}
		if !d.bounded() {
			return fmt.Sprintf("the baseline's executions come from %d session(s) (processes: Report.Session) and the new ones from %d; a change cannot be told from the difference between processes with fewer than 3 sessions in all: record the baseline in %d or more separate go test runs or CI jobs (%s=1 adds one each time; benchgate baseline merge joins files), or compare with a duet (loadtest.Duet)",
				k, l, MinBaselineSessions, UpdateBaselinesEnv)
		}
		more := ""
		if k < MinBaselineSessions {
			more = fmt.Sprintf(": the baseline holds %d session(s), record %d or more", k, MinBaselineSessions)
		}
		return fmt.Sprintf("the interval reaches past the %.0f%% minimum effect; it spans the variance between sessions (processes), which more baseline sessions bound more tightly%s", c.Options.EffectFor(d.Metric)*100, more)
	}
	n, m := d.N[0], d.N[1]
	if !d.bounded() {
		need := minRankSumSize(n, c.AlphaSide())
		s := fmt.Sprintf("%d baseline and %d new executions cannot bound the change at this level (1/C(n+m, n) must be ≤ %.2g)", n, m, c.AlphaSide())
		if n <= 1 {
			s += fmt.Sprintf("; a baseline of %d execution cannot show \"no regression\": record %d or more (%s=1, once per execution, or merge baselines recorded apart)", n, MinBaselineExecutions, UpdateBaselinesEnv)
		} else if need > 0 {
			s += fmt.Sprintf("; with %d baseline executions the candidate needs %d", n, need)
		}
		return s
	}
	return fmt.Sprintf("the interval reaches past the %.0f%% minimum effect; more executions on either side narrow it", c.Options.MinEffect*100)
}

// ungated lists the steps of cur's runs that base lacks.
func ungated(base, cur *Report) []Delta {
	var out []Delta
	for ci, crun := range cur.Runs {
		if crun == nil {
			continue
		}
		for k, s := range crun.Steps {
			if s == nil {
				continue
			}
			if bs := pairStep(base, cur, ci, k); bs.Missing() != "" {
				out = append(out, Delta{Run: crun.Name, Step: s.Name, Metric: "step", Verdict: Ungated, P: 1,
					Why: "not in the baseline, so not gated: record the baseline again to gate it"})
			}
		}
	}
	return out
}

// pairStep finds in r the counterpart of step k of ref's run ri: the
// run and step at the same place when they have the same names, else the
// j-th of that name where ref's is the j-th of its name (so two steps,
// or runs, of one name are never both paired with one: the second is
// missing when r has only one).
func pairStep(r, ref *Report, ri, k int) *StepReport {
	return counterpartIn(runIn(r, ref, ri), ref.Runs[ri], k)
}

// runIn finds run i of base in cur: the j-th run of its name where it is
// the j-th of that name in base (two runs of one name are never both
// paired with one).
func runIn(cur, base *Report, i int) *RunReport {
	name := base.Runs[i].Name
	nth := 0
	for _, r := range base.Runs[:i] {
		if r != nil && r.Name == name {
			nth++
		}
	}
	if nth == 0 || cur == nil {
		return cur.Run(name)
	}
	found := 0
	for _, r := range cur.Runs {
		if r != nil && r.Name == name {
			if found == nth {
				return r
			}
			found++
		}
	}
	return &RunReport{Name: name, missing: fmt.Sprintf("the report has %d run(s) named %q, the baseline's run %d is the %d. of that name", found, name, i+1, nth+1)}
}

// counterpartIn is counterpart for step k of the baseline run brun.
func counterpartIn(run, brun *RunReport, k int) *StepReport {
	name := brun.Steps[k].Name
	if run.Missing() == "" && k < len(run.Steps) && run.Steps[k] != nil && run.Steps[k].Name == name {
		return run.Steps[k]
	}
	nth := 0 // steps of this name before k in the baseline
	for _, s := range brun.Steps[:k] {
		if s != nil && s.Name == name {
			nth++
		}
	}
	found := 0
	for _, s := range run.Steps {
		if s != nil && s.Name == name {
			if found == nth {
				return s
			}
			found++
		}
	}
	if found == 0 || run.Missing() != "" {
		return run.StepNamed(name)
	}
	return &StepReport{run: run.Name, Name: name,
		missing: fmt.Sprintf("run %q has %d step(s) named %q, the baseline's step %d is the %d. of that name", run.Name, found, name, k+1, nth+1)}
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return math.NaN()
	}
	return medianSorted(s)
}

// compareErrors compares a step's error rate pooled over the executions.
func compareErrors(ref *Report, ri, k int, base, cur []*Report, o CompareOptions) Delta {
	run, b := ref.Runs[ri].Name, ref.Runs[ri].Steps[k]
	rate := func(rs []*Report) (float64, int64) {
		var sent, failed int64
		for _, r := range rs {
			if s := pairStep(r, ref, ri, k); s.Missing() == "" {
				sent += s.Sent
				failed += s.Failed
			}
		}
		if sent == 0 {
			return 0, 0
		}
		return float64(failed) / float64(sent), sent
	}
	d := Delta{Run: run, Step: b.Name, Metric: "error rate", P: 1, Verdict: NoRegression, N: [2]int{len(base), len(cur)}}
	d.Old, _ = rate(base)
	var sent int64
	d.New, sent = rate(cur)
	d.NewMedian = d.New
	d.Change = d.New - d.Old
	if sent == 0 {
		d.Verdict, d.Why = Inconclusive, "nothing was sent"
	} else if d.Change > o.MaxErrorRateIncrease {
		d.Verdict = Regressed
		d.Why = fmt.Sprintf("rose by %.2f percentage points (at most %.2f allowed)", d.Change*100, o.MaxErrorRateIncrease*100)
	}
	return d
}

// FormatP prints a p-value: "p = 0.0123", or "p < 0.0001" below that.
func FormatP(p float64) string {
	if p < 0.0001 {
		return "p < 0.0001"
	}
	return fmt.Sprintf("p = %.4f", p)
}

// relText prints a relative change as a signed percentage.
func relText(x float64) string {
	switch {
	case math.IsNaN(x):
		return "?"
	case math.IsInf(x, 1):
		return "+∞"
	case x <= -1:
		return "-100%"
	case x != 0 && math.Abs(x) < 0.0005: // not "+0.0%" for a bound just above zero
		return fmt.Sprintf("%+.2g%%", x*100)
	}
	return fmt.Sprintf("%+.1f%%", x*100)
}

// ChangeText prints the change with its interval: "+45.0% [-3.0%, +90.0%]".
func (d Delta) ChangeText() string {
	if d.Metric == "error rate" {
		return fmt.Sprintf("%+.2fpp", d.Change*100)
	}
	if d.Metric == "step" {
		return ""
	}
	if !d.bounded() {
		return relText(d.Change) + " [unbounded]"
	}
	return fmt.Sprintf("%s [%s, %s]", relText(d.Change), relText(d.Low), relText(d.High))
}

// String prints the comparison as a table, one line per metric, then how
// it was decided.
func (c *Comparison) String() string {
	var b strings.Builder
	if c.Refused != "" {
		fmt.Fprintf(&b, "comparison refused: %s\n", c.Refused)
		return b.String()
	}
	unit := "n"
	if c.Duet {
		unit = "pairs"
	}
	fmt.Fprintf(&b, "%-32s %-10s %11s %11s  %-30s %10s %7s  %s\n", "run / step", "metric", "old", "new", "change [interval]", "p", unit, "verdict")
	for _, d := range c.Deltas {
		name := Printable(d.Run + " / " + d.Step)
		if len(name) > 32 {
			name = name[:31] + "…"
		}
		var old, new string
		switch {
		case strings.HasPrefix(d.Metric, "p"):
			old, new = fmtMicros(d.Old), fmtMicros(d.New)
		case d.Metric == "error rate":
			old, new = fmt.Sprintf("%.2f%%", d.Old*100), fmt.Sprintf("%.2f%%", d.New*100)
		case d.Metric == "iter/s":
			old, new = fmt.Sprintf("%.1f", d.Old), fmt.Sprintf("%.1f", d.New)
		}
		p := "-"
		if d.P < 1 {
			p = strings.TrimPrefix(strings.TrimPrefix(FormatP(d.P), "p = "), "p ")
		}
		n := fmt.Sprintf("%d/%d", d.N[0], d.N[1])
		if d.Sessions != [2]int{} {
			n = fmt.Sprintf("%d/%d in %d/%d sessions", d.N[0], d.N[1], d.Sessions[0], d.Sessions[1])
		}
		if c.Duet {
			n = fmt.Sprint(d.N[0])
		}
		if d.Metric == "step" {
			n = "-"
		}
		fmt.Fprintf(&b, "%-32s %-10s %11s %11s  %-30s %10s %7s  %s", name, d.Metric, old, new, d.ChangeText(), p, n, d.Verdict)
		if d.Why != "" {
			fmt.Fprintf(&b, " (%s)", Printable(d.Why))
		}
		b.WriteByte('\n')
	}
	b.WriteString(c.Method())
	if f := c.First; f != nil {
		var flagged []string
		for _, d := range f.Regressions() {
			flagged = append(flagged, fmt.Sprintf("%s / %s %s %s", Printable(d.Run), Printable(d.Step), d.Metric, d.ChangeText()))
		}
		fmt.Fprintf(&b, "rerun: the first executions flagged %s; a metric fails only when the rerun flags it too\n", strings.Join(flagged, ", "))
	}
	return b.String()
}

// Method says in a line or two how the comparison decided.
func (c *Comparison) Method() string {
	o := c.Options
	effect := fmt.Sprintf("%.0f%%", o.MinEffect*100)
	if o.TailMinEffect > 0 && o.TailMinEffect != o.MinEffect {
		effect += fmt.Sprintf(" (%.0f%% above p90)", o.TailMinEffect*100)
	}
	rule := fmt.Sprintf("regressed: the interval above 0 and the change at least %s (and %v for latency); no regression: the interval's upper end below %s (or its change below %v)",
		effect, o.MinAbsolute, effect, o.MinAbsolute)
	if c.Duet {
		contended := ""
		if c.Contended > 0 {
			contended = fmt.Sprintf(" (%d with a round on a saturated generator, kept: the order is random, so that favours neither side)", c.Contended)
		}
		rounds := ""
		if c.RoundTime > 0 {
			rounds = fmt.Sprintf(" of %v rounds", roundSig(c.RoundTime))
			if c.RoundChosen {
				rounds = fmt.Sprintf(" of %v rounds (chosen by a pilot pair: %d responses a step for p%s)", roundSig(c.RoundTime),
					RoundResponses(slices.Max(o.Percentiles)), trimFloat(slices.Max(o.Percentiles)))
			}
		}
		shards := ""
		if len(c.old) > 0 && c.old[0] != nil && len(c.old[0].Shards)+len(c.old[0].MissingShards) > 1 {
			// a duet run as shards (MergeDuets)
			shards = fmt.Sprintf(", each round merged from %d shards", len(c.old[0].Shards)+len(c.old[0].MissingShards))
		}
		return fmt.Sprintf("duet: %d pairs%s%s in %v, each pair's order drawn from seed %d%s; per metric the Hodges–Lehmann change of log(B/A) over the pairs with its exact signed-rank interval, %s; %s\n",
			c.Pairs, rounds, contended, c.Elapsed.Round(100*time.Millisecond), c.Seed, shards, c.levels(), rule)
	}
	for _, d := range c.Deltas {
		if k, l := d.Sessions[0], d.Sessions[1]; k+l > 0 {
			return fmt.Sprintf("stored baseline by session (%d baseline and %d new sessions: processes, Report.Session): per metric one figure per execution, their log mean per session; the change of the new sessions' mean over the baseline's with a Student t interval over sessions, %s; %s\n",
				k, l, c.levels(), rule)
		}
	}
	return fmt.Sprintf("stored baseline: per metric one figure per execution; the Hodges–Lehmann change of log(new/old) with its exact rank-sum interval, %s; %s\n",
		c.levels(), rule)
}

// levels says at which level each end of the intervals stands.
func (c *Comparison) levels() string {
	looks := ""
	if c.Duet {
		looks = fmt.Sprintf(" × %d planned looks", c.Looks)
	}
	eq := fmt.Sprintf("its better end at %.2f%% (α = %g", 100*(1-c.AlphaEquivalence()), c.Options.Alpha)
	if c.Duet {
		eq += fmt.Sprintf(" over %d planned looks", c.Looks)
	}
	eq += `: "no regression" must hold for every metric, an intersection–union test, so the metrics do not divide it)`
	return fmt.Sprintf("its worse end at %.2f%% one-sided (Bonferroni: α = %g over %s%d metrics%s), %s",
		100*(1-c.AlphaSide()), c.Options.Alpha, c.specs(), c.Tests, looks, eq)
}

// specs names the suite's share in the Bonferroni divisor.
func (c *Comparison) specs() string {
	if c.Options.GatedSpecs <= 1 {
		return ""
	}
	return fmt.Sprintf("%d gated specs × ", c.Options.GatedSpecs)
}

func fmtMicros(us float64) string {
	if math.IsNaN(us) {
		return "-"
	}
	return (time.Duration(us*1000) * time.Nanosecond).Round(time.Microsecond).String()
}
