package loadtest

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"
)

// DuetOptions tune a duet. The zero value means the defaults.
type DuetOptions struct {
	// Rounds is the number of rounds each target gets (default 12; the
	// exact test needs 2^rounds > tests/Alpha to reach significance).
	Rounds int
	// RoundTime bounds each round (default 500ms); a plan with its own
	// time limit keeps it.
	RoundTime time.Duration
	// Compare sets the percentiles, the minimum effects and alpha.
	Compare CompareOptions
}

// DuetReport is what a duet measured: each round's report, and the
// paired comparison of B (the candidate) with A (the baseline).
type DuetReport struct {
	A, B       []*Report
	Comparison *Comparison
}

// Duet runs the same plan against two targets, A (the baseline build of
// the application) and B (the candidate), in short alternating rounds on
// the same machine (A B B A A B B A ...: a drift during the duet hits
// both alike), and compares them round by round with a paired test.
// plan builds the plan for a base URL; it is called once per round.
//
// A stored baseline was measured on another machine, or on the same one
// at another time; a duet measures both builds now, interleaved, so the
// machine's noise (a neighbour on a shared CI runner, CPU frequency, a
// warm or cold cache) is common to both and cancels in the pairs. Use it
// on shared CI runners; use a stored baseline when only one build can
// run, or to track a trend across commits.
//
// The test: for each step and percentile, the pairs' log-ratios
// log(B/A) go through a one-sided Wilcoxon signed-rank test (exact), at
// Alpha divided by the number of tests; a metric regresses when the test
// is significant and the median ratio grew by MinEffect and by
// MinAbsolute. Fewer than 6 usable pairs give no verdict.
func Duet(ctx context.Context, plan func(baseURL string) *Plan, a, b string, opts DuetOptions) (*DuetReport, error) {
	if opts.Rounds <= 0 {
		opts.Rounds = 12
	}
	if opts.RoundTime <= 0 {
		opts.RoundTime = 500 * time.Millisecond
	}
	d := &DuetReport{}
	run := func(target string) (*Report, error) {
		p := plan(target)
		if p == nil {
			return nil, fmt.Errorf("duet: the plan func returned nil for %s", target)
		}
		if p.timeLimit == 0 {
			p.timeLimit = opts.RoundTime
		}
		if p.grace == 0 {
			p.grace = -1 // a round ends at its time: in-flight requests are left out, for both alike
		}
		r, err := p.Execute(ctx)
		if err != nil {
			return r, fmt.Errorf("duet round against %s: %w", target, err)
		}
		return r, nil
	}
	for i := 0; i < opts.Rounds; i++ {
		order := []string{a, b}
		if i%2 == 1 {
			order = []string{b, a}
		}
		for _, target := range order {
			r, err := run(target)
			if err != nil {
				return d, err
			}
			if target == a {
				d.A = append(d.A, r)
			} else {
				d.B = append(d.B, r)
			}
		}
	}
	d.Comparison = comparePaired(d.A, d.B, opts.Compare)
	return d, nil
}

// comparePaired compares per-round figures of A and B, step by step.
func comparePaired(as, bs []*Report, opts CompareOptions) *Comparison {
	o := opts.withDefaults()
	c := &Comparison{Options: o, paired: true}
	if len(as) == 0 {
		return c
	}
	for _, run := range as[0].Runs {
		c.tests += len(run.Steps)*len(o.Percentiles) + 1
	}
	alpha := o.Alpha / float64(max(c.tests, 1))
	for _, run := range as[0].Runs {
		for k, step := range run.Steps {
			for _, p := range o.Percentiles {
				metric := "p" + trimFloat(p)
				va := roundValues(as, run.Name, k, step.Name, func(s *StepReport) float64 { return float64(s.Latency.Percentile(p) / time.Microsecond) })
				vb := roundValues(bs, run.Name, k, step.Name, func(s *StepReport) float64 { return float64(s.Latency.Percentile(p) / time.Microsecond) })
				c.Deltas = append(c.Deltas, pairedDelta(run.Name, step.Name, metric, va, vb, true, alpha, o, float64(o.MinAbsolute/time.Microsecond)))
			}
		}
		if len(run.Steps) == 0 {
			continue
		}
		last, lastK := run.Steps[len(run.Steps)-1].Name, len(run.Steps)-1
		iters := func(rs []*Report) []float64 {
			out := make([]float64, len(rs))
			for i, r := range rs {
				out[i] = math.NaN()
				if s := counterpart(r.Run(run.Name), lastK, last); s.Missing() == "" && r.TotalTime > 0 {
					out[i] = float64(s.Good) / r.TotalTime.Seconds()
				}
			}
			return out
		}
		d := pairedDelta(run.Name, "(iterations)", "iter/s", iters(as), iters(bs), false, alpha, o, 0)
		c.Deltas = append(c.Deltas, d)
	}
	return c
}

// roundValues returns f of the step in each round (NaN where it had no
// good response).
func roundValues(rs []*Report, run string, k int, step string, f func(*StepReport) float64) []float64 {
	out := make([]float64, len(rs))
	for i, r := range rs {
		s := counterpart(r.Run(run), k, step)
		if s.Missing() != "" || s.Good == 0 {
			out[i] = math.NaN()
			continue
		}
		out[i] = f(s)
	}
	return out
}

func pairedDelta(run, step, metric string, va, vb []float64, worseIfLarger bool, alpha float64, o CompareOptions, minAbs float64) Delta {
	d := Delta{Run: run, Step: step, Metric: metric, P: 1}
	var logs, xa, xb []float64
	for i := range min(len(va), len(vb)) {
		if math.IsNaN(va[i]) || math.IsNaN(vb[i]) || va[i] <= 0 || vb[i] <= 0 {
			continue
		}
		xa, xb = append(xa, va[i]), append(xb, vb[i])
		logs = append(logs, math.Log(vb[i]/va[i]))
	}
	d.Old, d.New = median(xa), median(xb)
	d.Blocks = [2]int{len(xa), len(xb)}
	if len(logs) < 6 || math.Pow(2, -float64(len(logs))) >= alpha {
		d.Verdict = NotEnoughData
		d.Why = fmt.Sprintf("%d usable pairs of rounds cannot reach p < %.2g (the smallest p of n pairs is 2^-n): more rounds", len(logs), alpha)
		return d
	}
	d.Change = math.Exp(median(logs)) - 1
	if !worseIfLarger {
		for i := range logs {
			logs[i] = -logs[i]
		}
	}
	d.P = signedRankGreater(logs)
	pBetter := signedRankGreater(negate(logs))
	worse := d.Change
	if !worseIfLarger {
		worse = -d.Change
	}
	big := math.Abs(d.New-d.Old) >= minAbs
	switch {
	case d.P < alpha && worse >= o.MinEffect && big:
		d.Verdict = Regressed
	case pBetter < alpha && -worse >= o.MinEffect && big:
		d.Verdict = Improved
	default:
		d.Verdict = Same
	}
	return d
}

func negate(xs []float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = -x
	}
	return out
}

// signedRankGreater is the exact one-sided p-value of the Wilcoxon
// signed-rank test that the differences xs are centred above zero:
// P(W+ ≥ observed) under the null, zeros dropped, ties given average
// ranks (counted in half ranks so the distribution stays exact).
func signedRankGreater(xs []float64) float64 {
	var nz []float64
	for _, x := range xs {
		if x != 0 {
			nz = append(nz, x)
		}
	}
	n := len(nz)
	if n == 0 {
		return 1
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(i, j int) bool { return math.Abs(nz[idx[i]]) < math.Abs(nz[idx[j]]) })
	ranks := make([]int, n) // doubled ranks, so averages of ties stay integers
	for i := 0; i < n; {
		j := i
		for j+1 < n && math.Abs(nz[idx[j+1]]) == math.Abs(nz[idx[i]]) {
			j++
		}
		r := (i + 1) + (j + 1) // twice the average of ranks i+1..j+1
		for k := i; k <= j; k++ {
			ranks[idx[k]] = r
		}
		i = j + 1
	}
	observed := 0
	total := 0
	for i, x := range nz {
		total += ranks[i]
		if x > 0 {
			observed += ranks[i]
		}
	}
	// counts[w]: subsets of the ranks summing to w
	counts := make([]float64, total+1)
	counts[0] = 1
	for _, r := range ranks {
		for w := total; w >= r; w-- {
			counts[w] += counts[w-r]
		}
	}
	var tail float64
	for w := observed; w <= total; w++ {
		tail += counts[w]
	}
	return tail / math.Pow(2, float64(n))
}
