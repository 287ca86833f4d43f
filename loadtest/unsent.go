package loadtest

import (
	"errors"
	"fmt"
	"strings"
)

// StepsNeverSent lists the steps of the report's runs that were
// configured but never sent (0 sent), each with why: a time limit that
// ended a breadth-first run during an earlier step's pass, a cancel, a
// step whose requests could not be built. A run declared with
// scenario's AllowUnsentSteps lists none. Every matcher over a Report
// or a Run fails on these: no verdict is given over a step that never
// ran.
func (r *Report) StepsNeverSent() []string {
	if r == nil {
		return nil
	}
	var out []string
	for _, run := range r.Runs {
		out = append(out, run.StepsNeverSent()...)
	}
	return out
}

// StepsNeverSent lists the run's steps that were configured but never
// sent, each with why (Report.StepsNeverSent); none when the run was
// declared with AllowUnsentSteps.
func (r *RunReport) StepsNeverSent() []string {
	if r == nil || r.AllowUnsentSteps {
		return nil
	}
	var out []string
	for k := range r.Steps {
		if why := r.neverSent(k); why != "" {
			out = append(out, why)
		}
	}
	return out
}

// NeverSent says why the step was configured but never sent, or "" when
// it was sent (or its run allows unsent steps).
func (s *StepReport) NeverSent() string {
	if s == nil || s.report == nil {
		return ""
	}
	for _, run := range s.report.Runs {
		if run != nil && run.Name == s.run && s.Number >= 1 && s.Number <= len(run.Steps) && run.Steps[s.Number-1] == s {
			if run.AllowUnsentSteps {
				return ""
			}
			return run.neverSent(s.Number - 1)
		}
	}
	return ""
}

// neverSent says why step k of the run was never sent, or "".
func (r *RunReport) neverSent(k int) string {
	s := r.Steps[k]
	if s == nil || s.Sent > 0 || s.Configured <= 0 {
		return ""
	}
	head := fmt.Sprintf("step %d %q of run %q never ran", s.Number, s.Name, r.Name)
	if s.NotSent > 0 {
		return fmt.Sprintf("%s: none of its requests could be built (%d not sent)", head, s.NotSent)
	}
	var stoppedBy string
	if r.report != nil {
		stoppedBy = r.report.StoppedBy
	}
	if stoppedBy == "" {
		if r.Dropped > 0 {
			return fmt.Sprintf("%s: the arrival rate dropped %d iterations and started none that reached it", head, r.Dropped)
		}
		return fmt.Sprintf("%s: %d of its requests were not started", head, s.Configured)
	}
	what := "the stop (" + stoppedBy + ")"
	// a report read from JSON written before StopCode says it in words only
	if errors.Is(r.report.StopErr(), ErrTimeLimit) || r.report.StopCode == "" && strings.HasPrefix(stoppedBy, "time limit") {
		what, _, _ = strings.Cut("the "+stoppedBy, ":")
	}
	if r.Order == "breadth-first" {
		for j := k - 1; j >= 0; j-- {
			p := r.Steps[j]
			if p != nil && p.Sent > 0 {
				return fmt.Sprintf("%s: %s ended the run during step %d's breadth-first pass (%d of %d iterations sent it); use DepthFirst, loadtest.For or a smaller Repeat",
					head, what, p.Number, p.Sent, p.Configured)
			}
		}
	}
	return fmt.Sprintf("%s: %s ended the run before any iteration reached it", head, what)
}

// Report returns the report the run belongs to (nil for a run Report.Run
// did not find).
func (r *RunReport) Report() *Report {
	if r == nil {
		return nil
	}
	return r.report
}

// Report returns the report the step belongs to, or nil.
func (s *StepReport) Report() *Report {
	if s == nil {
		return nil
	}
	return s.report
}

// ShardOnly reports whether the report is one shard's part of a plan
// run as several (Shard.Count above 1): no verdict comes from it
// (NoVerdict says so), and a spec that ran it as a shard leaves the
// verdict to the merge of the shards' reports:
//
//	report, err := plan.Execute(ctx) // ShardEnv: written to BENCHGATE_OUT
//	if report.ShardOnly() {
//		return // benchgate merge judges the whole plan
//	}
func (r *Report) ShardOnly() bool { return r != nil && r.Shard != nil && r.Shard.Count > 1 }

// partial says why the report holds less than its plan's execution
// ("" when it does not): the error Execute returned with it (shards
// missing from a merge among them), or its being one shard of several;
// advice is what a spec may do about it, for NoVerdict.
func (r *Report) partial() (why, advice string) {
	switch {
	case r.Err != nil && r.notRun:
		return "the plan did not run: " + Printable(r.Err.Error()), ""
	case r.Err != nil:
		return "the plan did not run to its end: " + Printable(r.Err.Error()),
			" (the report is partial; check the error Execute returned, and set the report's Err to nil to judge the partial report anyway)"
	case r.Shard != nil && r.Shard.Count > 1:
		// one shard's report holds its part of the work alone: a
		// verdict on it passes on 1/N of the plan
		return fmt.Sprintf("this report is shard %s of a plan: it holds that shard's part of the work alone; merge the %d shards' reports (loadtest.Merge, benchgate merge) and judge the merged report", r.Shard, r.Shard.Count),
			" (to judge this shard alone, set its Shard to nil)"
	}
	return "", ""
}

// NoVerdict says why no verdict may be given over the report: the error
// Execute returned with it (Err), or steps that were configured but
// never sent (StepsNeverSent). It is "" when there is no such reason.
func (r *Report) NoVerdict() string {
	if r == nil {
		return ""
	}
	if why, advice := r.partial(); why != "" {
		return why + advice
	}
	if never := r.StepsNeverSent(); len(never) > 0 {
		return strings.Join(never, "\n  ")
	}
	return ""
}
