// Package matchers holds Gomega matchers over benchgate reports. Each
// accepts a *loadtest.Report, a *loadtest.RunReport or a
// *loadtest.StepReport, and its failure message shows what a person needs
// to fix the failure: counts, failure reasons, the percentile table and a
// text histogram.
//
//	Expect(report).To(matchers.HaveNoFailures())
//	Expect(report.Run("checkout")).To(matchers.HavePercentileBelow(95, 50*time.Millisecond))
//	Expect(report).To(matchers.HaveFailuresOnly(503, failure.StepTimeLimit))
//
// A gate on failures names their kinds (package failure) and statuses,
// which are decided where each failure is known, not their reasons,
// which are for people and may be reworded.
//
// No matcher gives a verdict it cannot stand behind: each fails, saying
// why, on a report that carries the error Execute returned ("the plan did
// not run: …"), on a step that was configured but never sent (unless its
// run says AllowUnsentSteps), and on an argument that means something
// else (HaveErrorRateBelow(1): a fraction is meant; a percentile below 1).
//
// Inside a Ginkgo spec, the first matcher given a report records its
// numbers, one line per run (requests, good, failed, p50/p95/p99, req/s),
// as a "benchgate" report entry: a passing spec shows them too.
package matchers
