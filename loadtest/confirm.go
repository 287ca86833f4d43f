package loadtest

import "fmt"

// ConfirmComparison combines a stored comparison that found a
// regression (first) with the comparison of a rerun (new executions of
// the plan, compared with the same baseline): a metric regresses only
// when it regressed in both. A metric that regressed in one of the two
// takes the other's verdict (no regression, or inconclusive: the
// matchers fail on that unless PassInconclusive), with a note saying so;
// the other metrics take the rerun's verdict. A step missing from the
// first executions and an error rate that rose in them are failures of
// the application, not noise: they stay as they were. The result is the rerun's
// comparison with First set to first.
//
// What it buys: when the two comparisons' data were independent, a
// false alarm of probability p in each would be confirmed with
// probability p². They share the baseline, so the two are positively
// correlated and the confirmed rate lies between p² and p: the
// simulation in the README (TestSimulatedConfirm) measures about p/5
// to p/10 on a drifting machine. What it costs: a rerun as long as the
// first executions whenever a comparison flags (on unchanged code, a
// fraction p of the time; on a real regression, every time), and some
// power: a real change must be found twice.
func ConfirmComparison(first, rerun *Comparison) *Comparison {
	if first == nil || rerun == nil {
		return rerun
	}
	c := *rerun
	c.First = first
	if c.Refused != "" {
		c.Refused = "the rerun that was to confirm a regression: " + c.Refused
		return &c
	}
	type key struct{ run, step, metric string }
	was := map[key]Delta{}
	for _, d := range first.Deltas {
		was[key{d.Run, d.Step, d.Metric}] = d
	}
	// a missing step and a risen error rate are failures of the
	// application, not noise: the rerun does not clear them
	kept := map[key]bool{}
	keep := func(f Delta) bool {
		return f.Verdict == Missing || (f.Verdict == Regressed && f.Metric == "error rate")
	}
	c.Deltas = make([]Delta, len(rerun.Deltas))
	for i, d := range rerun.Deltas {
		k := key{d.Run, d.Step, d.Metric}
		f, ok := was[k]
		switch {
		case ok && keep(f):
			d, kept[k] = f, true
			d.Why = join(d.Why, "a failure of the application, not noise: not re-judged by the rerun")
		case !ok || d.Verdict == Missing || d.Verdict == Ungated || d.Verdict == Reported:
		case d.Verdict == Regressed && f.Verdict == Regressed:
			d.Why = join(d.Why, fmt.Sprintf("confirmed: the first executions gave %s", f.ChangeText()))
		case d.Verdict == Regressed:
			v := f.Verdict
			if v == Improved {
				v = NoRegression
			}
			d.Verdict = v
			d.Why = join(d.Why, fmt.Sprintf("the rerun flagged %s, the first executions did not (%s %s): not confirmed", d.ChangeText(), f.ChangeText(), f.Verdict))
		case f.Verdict == Regressed:
			d.Why = join(d.Why, fmt.Sprintf("the first executions flagged %s, the rerun did not: not confirmed", f.ChangeText()))
		}
		c.Deltas[i] = d
	}
	for _, f := range first.Deltas {
		if k := (key{f.Run, f.Step, f.Metric}); keep(f) && !kept[k] {
			f.Why = join(f.Why, "in the first executions")
			c.Deltas = append(c.Deltas, f)
		}
	}
	return &c
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}
