package loadtest

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/aclements/go-moremath/stats"
)

// CompareOptions tune a baseline comparison. The zero value means the
// defaults.
type CompareOptions struct {
	// Percentiles of the full response time compared, step by step
	// (default 50 and 95: a block's p99 rests on a handful of requests,
	// so one hiccup of the machine moves it; add 99 for long runs).
	Percentiles []float64
	// MinEffect is the smallest relative change that can fail a
	// comparison (default 0.10: 10%): a significant change below it is
	// reported, never a regression.
	MinEffect float64
	// MinAbsolute is the smallest latency change that can fail a
	// comparison (default 100µs): a step answering in 50µs that takes 60µs
	// on another run of the same code is the machine, not the change.
	MinAbsolute time.Duration
	// Alpha is the one-sided significance level of the whole comparison
	// (default 0.01); each of the m latency and throughput tests uses
	// Alpha/m (Bonferroni), so more steps do not mean more false alarms.
	Alpha float64
	// MinBlocks is the fewest blocks either side needs for a verdict
	// (default 6); below it the result is "not enough data".
	MinBlocks int
	// BlockResponses is the fewest good responses a block holds: windows
	// are merged until they reach it (default 20).
	BlockResponses int64
	// MaxErrorRateIncrease is how far the error rate may rise, in
	// absolute terms (default 0.01: one percentage point).
	MaxErrorRateIncrease float64
}

func (o CompareOptions) withDefaults() CompareOptions {
	if len(o.Percentiles) == 0 {
		o.Percentiles = []float64{50, 95}
	}
	if o.MinEffect <= 0 {
		o.MinEffect = 0.10
	}
	if o.Alpha <= 0 {
		o.Alpha = 0.01
	}
	if o.MinAbsolute <= 0 {
		o.MinAbsolute = 100 * time.Microsecond
	}
	if o.MinBlocks <= 0 {
		o.MinBlocks = 6
	}
	if o.BlockResponses <= 0 {
		o.BlockResponses = 20
	}
	if o.MaxErrorRateIncrease <= 0 {
		o.MaxErrorRateIncrease = 0.01
	}
	return o
}

// Verdict is the outcome of one compared metric.
type Verdict string

// The verdicts.
const (
	Same          Verdict = "same" // no change beyond noise and the minimum effect
	Regressed     Verdict = "REGRESSED"
	Improved      Verdict = "improved"
	NotEnoughData Verdict = "not enough data"
	Missing       Verdict = "MISSING" // a step of the baseline is not in the new report
)

// Delta is one metric of one step, old against new.
type Delta struct {
	Run, Step string
	Metric    string  // "p95", "error rate", or "iter/s" for a run
	Old, New  float64 // µs for latencies, a fraction for error rates, per second for rates
	Change    float64 // relative change of the block medians (new/old - 1)
	P         float64 // one-sided p-value of the test (1 when there was none)
	Blocks    [2]int  // blocks compared, old and new
	Verdict   Verdict
	Why       string // for not enough data, missing, or the error rate rule
}

// Comparison is a step-by-step comparison of a report with a baseline.
type Comparison struct {
	Options CompareOptions
	Deltas  []Delta
	tests   int
	paired  bool // a duet: rounds in pairs, a signed-rank test
}

// Regressions returns the deltas that regressed or went missing.
func (c *Comparison) Regressions() []Delta {
	var out []Delta
	for _, d := range c.Deltas {
		if d.Verdict == Regressed || d.Verdict == Missing {
			out = append(out, d)
		}
	}
	return out
}

// Undecided returns the deltas without enough data for a verdict.
func (c *Comparison) Undecided() []Delta {
	var out []Delta
	for _, d := range c.Deltas {
		if d.Verdict == NotEnoughData {
			out = append(out, d)
		}
	}
	return out
}

// Compare compares cur with base step by step, matching runs and steps
// by name.
//
// The unit of the test is a block of time, not a request: request
// latencies are autocorrelated (a GC pause, a slow disk, a noisy
// neighbour slows many requests in a row), so treating each request as
// an independent sample overstates significance. Each step's responses
// are counted in time windows (Report.Window, 200 ms by default);
// consecutive windows are merged into blocks of at least BlockResponses
// good responses, and each block's percentile is one observation. The
// two sets of block percentiles are compared with a one-sided
// Mann–Whitney U test (rank based: no assumption about their
// distribution). A metric regresses only when the test is significant
// at Alpha AND the median block percentile grew by at least MinEffect,
// so a real but tiny change never fails a pull request; with fewer than
// MinBlocks blocks on either side there is no verdict. Throughput is
// compared the same way over per-window request rates (lower is worse);
// the error rate regresses when it rose by more than
// MaxErrorRateIncrease.
func Compare(base, cur *Report, opts CompareOptions) *Comparison {
	o := opts.withDefaults()
	c := &Comparison{Options: o}
	tests := 0
	for _, brun := range base.Runs {
		tests += len(brun.Steps)*len(o.Percentiles) + 1
	}
	c.tests = tests
	o.Alpha = o.Alpha / float64(max(tests, 1))
	for i, brun := range base.Runs {
		crun := runIn(cur, base, i)
		for k, bstep := range brun.Steps {
			cstep := counterpartIn(crun, brun, k)
			if cstep.Missing() != "" {
				c.Deltas = append(c.Deltas, Delta{Run: brun.Name, Step: bstep.Name, Metric: "step", Verdict: Missing, P: 1, Why: cstep.Missing()})
				continue
			}
			for _, p := range o.Percentiles {
				c.Deltas = append(c.Deltas, comparePercentile(brun.Name, bstep, cstep, p, o))
			}
			c.Deltas = append(c.Deltas, compareErrors(brun.Name, bstep, cstep, o))
		}
		if len(brun.Steps) > 0 && crun.Missing() == "" {
			last := brun.Steps[len(brun.Steps)-1]
			if cl := counterpartIn(crun, brun, len(brun.Steps)-1); cl.Missing() == "" {
				c.Deltas = append(c.Deltas, compareRate(brun.Name, last, cl, base.Window, cur.Window, o))
			}
		}
	}
	return c
}

// counterpart finds step k (named name) of a baseline run in another
// report's run: the step at the same place when it has the same name,
// else the j-th step of that name where step k is the j-th of its name
// in the baseline (so two steps of one name are never both paired with
// one step: the second one is missing when the run has only one).
func counterpart(run *RunReport, k int, name string) *StepReport {
	if run.Missing() == "" && k < len(run.Steps) && run.Steps[k] != nil && run.Steps[k].Name == name {
		return run.Steps[k]
	}
	return run.StepNamed(name)
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

// blocks merges windows into blocks of at least min good responses (the
// remainder joins the last block) and returns each block's p-th
// percentile in µs.
func blocks(ws []Window, min int64, p float64) []float64 {
	var hs []*Latency
	acc := NewLatency()
	for _, w := range ws {
		if w.Latency == nil || w.Good == 0 {
			continue
		}
		acc.Merge(w.Latency)
		if acc.Count() >= min {
			hs = append(hs, acc)
			acc = NewLatency()
		}
	}
	if acc.Count() > 0 {
		if len(hs) == 0 {
			hs = append(hs, acc)
		} else {
			hs[len(hs)-1].Merge(acc) // too few for a block of its own
		}
	}
	out := make([]float64, len(hs))
	for i, h := range hs {
		out[i] = float64(h.Percentile(p) / time.Microsecond)
	}
	return out
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// test decides a one-sided comparison: worse is true when larger new
// values are worse.
func test(d *Delta, old, new []float64, worseIfLarger bool, o CompareOptions, minAbs float64) {
	d.Blocks = [2]int{len(old), len(new)}
	d.P = 1
	if len(old) < o.MinBlocks || len(new) < o.MinBlocks {
		d.Verdict = NotEnoughData
		d.Why = fmt.Sprintf("%d and %d blocks of %d good responses; at least %d each are needed (run longer, or lower BlockResponses)",
			len(old), len(new), o.BlockResponses, o.MinBlocks)
		return
	}
	mo, mn := median(old), median(new)
	if mo > 0 {
		d.Change = mn/mo - 1
	}
	alt := stats.LocationLess // old < new: new is larger
	if !worseIfLarger {
		alt = stats.LocationGreater
	}
	if r, err := stats.MannWhitneyUTest(old, new, alt); err == nil {
		d.P = r.P
	}
	// the improvement direction, for the report
	var pBetter float64 = 1
	if r, err := stats.MannWhitneyUTest(old, new, -alt); err == nil {
		pBetter = r.P
	}
	worse := d.Change
	if !worseIfLarger {
		worse = -d.Change
	}
	big := math.Abs(mn-mo) >= minAbs
	switch {
	case d.P < o.Alpha && worse >= o.MinEffect && big:
		d.Verdict = Regressed
	case pBetter < o.Alpha && -worse >= o.MinEffect && big:
		d.Verdict = Improved
	default:
		d.Verdict = Same
	}
}

func comparePercentile(run string, b, c *StepReport, p float64, o CompareOptions) Delta {
	d := Delta{Run: run, Step: b.Name, Metric: "p" + trimFloat(p),
		Old: float64(b.Latency.Percentile(p) / time.Microsecond), New: float64(c.Latency.Percentile(p) / time.Microsecond)}
	test(&d, blocks(b.Windows, o.BlockResponses, p), blocks(c.Windows, o.BlockResponses, p), true, o, float64(o.MinAbsolute/time.Microsecond))
	return d
}

// rates returns the requests per second of each window but the first
// and the last (which the start and the end cut short).
func rates(ws []Window, size time.Duration) []float64 {
	if len(ws) < 3 || size <= 0 {
		return nil
	}
	out := make([]float64, 0, len(ws)-2)
	for _, w := range ws[1 : len(ws)-1] {
		out = append(out, float64(w.Good)/size.Seconds())
	}
	return out
}

// compareRate compares a run's iterations per second: the rate of its
// last step's good responses.
func compareRate(run string, b, c *StepReport, bw, cw time.Duration, o CompareOptions) Delta {
	rb, rc := rates(b.Windows, bw), rates(c.Windows, cw)
	d := Delta{Run: run, Step: "(iterations)", Metric: "iter/s", Old: median(rb), New: median(rc)}
	test(&d, rb, rc, false, o, 0)
	return d
}

func compareErrors(run string, b, c *StepReport, o CompareOptions) Delta {
	rate := func(s *StepReport) float64 {
		if s.Sent == 0 {
			return 0
		}
		return float64(s.Failed) / float64(s.Sent)
	}
	d := Delta{Run: run, Step: b.Name, Metric: "error rate", Old: rate(b), New: rate(c), P: 1, Verdict: Same}
	d.Change = d.New - d.Old
	if c.Sent == 0 {
		d.Verdict, d.Why = NotEnoughData, "nothing was sent"
	} else if d.Change > o.MaxErrorRateIncrease {
		d.Verdict = Regressed
		d.Why = fmt.Sprintf("rose by %.2f percentage points (at most %.2f allowed)", d.Change*100, o.MaxErrorRateIncrease*100)
	}
	return d
}

// String prints the comparison as a table, one line per metric.
func (c *Comparison) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-32s %-10s %12s %12s %9s %8s %7s  %s\n", "run / step", "metric", "old", "new", "delta", "p", "blocks", "verdict")
	for _, d := range c.Deltas {
		name := Printable(d.Run + " / " + d.Step)
		if len(name) > 32 {
			name = name[:31] + "…"
		}
		var old, new, delta string
		switch {
		case strings.HasPrefix(d.Metric, "p"):
			old, new = fmtMicros(d.Old), fmtMicros(d.New)
			delta = fmt.Sprintf("%+.1f%%", d.Change*100)
		case d.Metric == "error rate":
			old, new = fmt.Sprintf("%.2f%%", d.Old*100), fmt.Sprintf("%.2f%%", d.New*100)
			delta = fmt.Sprintf("%+.2fpp", d.Change*100)
		case d.Metric == "iter/s":
			old, new = fmt.Sprintf("%.0f", d.Old), fmt.Sprintf("%.0f", d.New)
			delta = fmt.Sprintf("%+.1f%%", d.Change*100)
		}
		p := "-"
		if d.P < 1 {
			p = fmt.Sprintf("%.3f", d.P)
		}
		fmt.Fprintf(&b, "%-32s %-10s %12s %12s %9s %8s %3d/%-3d  %s", name, d.Metric, old, new, delta, p, d.Blocks[0], d.Blocks[1], d.Verdict)
		if d.Why != "" {
			fmt.Fprintf(&b, " (%s)", d.Why)
		}
		b.WriteByte('\n')
	}
	if c.paired {
		fmt.Fprintf(&b, "duet: %d pairs of rounds, A then B alternating; one-sided Wilcoxon signed-rank over the pairs' log-ratios; a regression needs p < %.2g (%g over %d tests), a change of at least %.0f%% and, for latency, of at least %v\n",
			c.pairs(), c.Options.Alpha/float64(max(c.tests, 1)), c.Options.Alpha, c.tests, c.Options.MinEffect*100, c.Options.MinAbsolute)
		return b.String()
	}
	fmt.Fprintf(&b, "one-sided Mann-Whitney U over per-block values (blocks of ≥%d good responses); a regression needs p < %.2g (%g over %d tests), a change of at least %.0f%% and, for latency, of at least %v\n",
		c.Options.BlockResponses, c.Options.Alpha/float64(max(c.tests, 1)), c.Options.Alpha, c.tests, c.Options.MinEffect*100, c.Options.MinAbsolute)
	return b.String()
}

func (c *Comparison) pairs() int {
	n := 0
	for _, d := range c.Deltas {
		n = max(n, d.Blocks[0])
	}
	return n
}

func fmtMicros(us float64) string {
	if math.IsNaN(us) {
		return "-"
	}
	return (time.Duration(us) * time.Microsecond).String()
}
