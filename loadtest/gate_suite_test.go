package loadtest

import (
	"math"
	"strings"
	"testing"
)

// judgeOne judges one metric of k by the stored comparison's code.
func judgeOne(old, new []float64, o CompareOptions, k int) Verdict {
	return compareOne(old, new, o, k).Deltas[0].Verdict
}

// compareOne is a comparison of one metric of k.
func compareOne(old, new []float64, o CompareOptions, k int) *Comparison {
	c := &Comparison{Options: o, Tests: k, Looks: 1}
	d := Delta{Run: "r", Step: "GET /", Metric: "p50", Old: 1000} // 1 ms: MinAbsolute is no matter
	strict, iv := c.bounds(func(a float64) interval { return shiftInterval(old, new, a) }, true)
	c.decide(&d, iv, strict, true)
	c.Deltas = []Delta{d}
	return c
}

// TestSimulatedConfirm: a stored comparison confirmed by a rerun
// (ConfirmComparison's rule: regressed in both) on the drifting machine
// of TestSimulatedStoredGate. On unchanged code the first comparison
// flags at p and the confirmed rate falls well below p, but not to p²:
// the two comparisons share the baseline (a baseline that happened to
// be fast makes both flag), so they are positively correlated; the
// confirmed rate is measured here rather than assumed (about p/5 to
// p/10). A real change must be found twice, so the power falls a
// little too.
func TestSimulatedConfirm(t *testing.T) {
	const trials = 20000
	w := newWorld(18)
	o := CompareOptions{GatedSpecs: 1}.withDefaults()
	for _, tc := range []struct {
		n, m, k int
		shift   float64
	}{{10, 10, 1, 0}, {10, 5, 1, 0}, {5, 5, 9, 0}, {10, 10, 1, math.Log(1.2)}, {10, 10, 1, math.Log(1.5)}, {5, 5, 9, math.Log(1.5)}} {
		first, both, rerun := 0, 0, 0
		for range trials {
			base := w.executions(tc.n, 0)
			c1 := compareOne(base, w.executions(tc.m, tc.shift), o, tc.k)
			c2 := compareOne(base, w.executions(tc.m, tc.shift), o, tc.k)
			if len(c1.Regressions()) > 0 {
				first++
				if len(ConfirmComparison(c1, c2).Regressions()) > 0 {
					both++
				}
			}
			if len(c2.Regressions()) > 0 {
				rerun++
			}
		}
		p, p2 := float64(first)/trials, float64(both)/trials
		t.Logf("%2d vs %2d (+ a rerun of %2d), %d metrics, change %+3.0f%%: first flags %.3f%%, rerun %.3f%%, confirmed %.3f%% (p² = %.4f%%)",
			tc.n, tc.m, tc.m, tc.k, math.Expm1(tc.shift)*100, 100*p, 100*float64(rerun)/trials, 100*p2, 100*p*p)
		if tc.shift == 0 {
			if p > o.Alpha/float64(tc.k)+0.005 {
				t.Errorf("unchanged: first comparison flags %.3f%% (> α/k)", 100*p)
			}
			// positively correlated through the shared baseline: above
			// p², but far below p
			if p > 0 && p2 > p/4 {
				t.Errorf("unchanged: confirmed %.4f%% of %.4f%% first flags (p² = %.4f%%)", 100*p2, 100*p, 100*p*p)
			}
		}
	}
}

// TestSimulatedSuite: four gated specs of unchanged code in one suite
// (one metric each, 10 and 10 executions on the drifting machine):
// judged each at α, the suite fails far more often than α; with
// GatedSpecs = 4 (α/4 each) at most α.
func TestSimulatedSuite(t *testing.T) {
	const trials, specs = 10000, 4
	w := newWorld(19)
	for _, shared := range []int{1, specs} {
		o := CompareOptions{GatedSpecs: shared, MinEffect: 0.05}.withDefaults()
		fails := 0
		for range trials {
			failed := false
			for range specs {
				if judgeOne(w.executions(10, 0), w.executions(10, 0), o, 1) == Regressed {
					failed = true
				}
			}
			if failed {
				fails++
			}
		}
		rate := float64(fails) / trials
		t.Logf("%d gated specs of unchanged code, GatedSpecs %d (α = %.4f each, minimum effect 5%%): the suite fails %.2f%%", specs, shared, o.specAlpha(), 100*rate)
		if shared == specs && rate > o.Alpha+0.005 {
			t.Errorf("GatedSpecs %d: the suite fails %.2f%% > α", shared, 100*rate)
		}
		if shared == 1 && rate < o.Alpha {
			t.Logf("note: without sharing the suite failed only %.2f%%", 100*rate)
		}
	}
}

// TestTailMinEffect: percentiles above 90 are judged against
// TailMinEffect (default twice MinEffect), the median and the rest
// against MinEffect; the same interval settles a p95 and leaves a p50
// inconclusive.
func TestTailMinEffect(t *testing.T) {
	o := CompareOptions{}.withDefaults()
	for metric, want := range map[string]float64{"p50": 0.10, "p90": 0.10, "p95": 0.20, "p99": 0.20, "p99.9": 0.20, "iter/s": 0.10, "error rate": 0.10, "pX": 0.10} {
		if got := o.EffectFor(metric); got != want {
			t.Errorf("EffectFor(%q) = %v, want %v", metric, got, want)
		}
	}
	if got := (CompareOptions{MinEffect: 0.05, TailMinEffect: 0.3}).withDefaults().EffectFor("p99"); got != 0.3 {
		t.Errorf("a set TailMinEffect: %v", got)
	}
	c := &Comparison{Options: o, Tests: 2, Looks: 1}
	iv := interval{Est: math.Log(1.06), Low: math.Log(0.97), High: math.Log(1.15), P: 0.2}
	verdicts := map[string]Verdict{}
	for _, m := range []string{"p50", "p95"} {
		d := Delta{Metric: m, Old: 2000}
		c.decide(&d, iv, iv, true)
		verdicts[m] = d.Verdict
	}
	if verdicts["p50"] != Inconclusive || verdicts["p95"] != NoRegression {
		t.Errorf("+6%% [-3%%, +15%%]: %v", verdicts)
	}
	// a tail regressed by 15%: beyond MinEffect, within TailMinEffect
	up := interval{Est: math.Log(1.15), Low: math.Log(1.08), High: math.Log(1.22), P: 0.001}
	d := Delta{Metric: "p99", Old: 2000}
	c.decide(&d, up, up, true)
	if d.Verdict != Inconclusive {
		t.Errorf("p99 +15%% [+8%%, +22%%]: %v, want inconclusive (a regression needs 20%%)", d.Verdict)
	}
	if !strings.Contains(c.Method(), "at least 10% (20% above p90)") {
		t.Errorf("the method does not say the tail's effect: %s", c.Method())
	}
}
