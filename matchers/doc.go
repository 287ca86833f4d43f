// Package matchers holds Gomega matchers over benchgate reports. Each
// accepts a *loadtest.Report, a *loadtest.RunReport or a
// *loadtest.StepReport, and its failure message shows what a person needs
// to fix the failure: counts, failure reasons, the percentile table and a
// text histogram.
//
//	Expect(report).To(matchers.HaveNoFailures())
//	Expect(report.Run("checkout")).To(matchers.HavePercentileBelow(95, 50*time.Millisecond))
package matchers
