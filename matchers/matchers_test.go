package matchers_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/benchgate/benchgate/loadtest"
	. "github.com/benchgate/benchgate/matchers"
)

var _ = Describe("HaveNoFailures", func() {
	It("passes for a run whose requests all succeeded", func() {
		Expect(report.Run("good")).To(HaveNoFailures())
		Expect(report.Run("good").Step(0)).To(HaveNoFailures())
	})
	It("fails with the failure reasons", func() {
		m := HaveNoFailures()
		ok, err := m.Match(report)
		Expect(err).NotTo(HaveOccurred())
		Expect(ok).To(BeFalse())
		msg := m.FailureMessage(report)
		Expect(msg).To(ContainSubstring("4 of 18 requests failed"))
		Expect(msg).To(ContainSubstring(`4× run "mixed" step 2 "GET /bad": status 500, expected [200]`))
		Expect(msg).To(MatchRegexp(`first: GET http://127.0.0.1:\d+/bad → 500 "boom\\n"`))
		Expect(msg).To(ContainSubstring("500×4"))
	})
	It("holds for a timed run whose in-flight requests were interrupted", func() {
		timed := &loadtest.StepReport{Name: "GET /", Configured: 100, Sent: 10, Good: 8, Interrupted: 2, Statuses: map[int]int64{200: 8}}
		Expect(timed).To(HaveNoFailures())
	})
	It("fails when a request could not be built", func() {
		unsent := &loadtest.StepReport{Name: "GET /{{x}}", Configured: 2, Sent: 1, Good: 1, NotSent: 1,
			Statuses: map[int]int64{200: 1}, Unsent: map[string]int64{`build request: undefined variable "x"`: 1}}
		m := HaveNoFailures()
		ok, err := m.Match(unsent)
		Expect(err).NotTo(HaveOccurred())
		Expect(ok).To(BeFalse())
		Expect(m.FailureMessage(nil)).To(ContainSubstring("1 requests could not be built and were not sent"))
		Expect(m.FailureMessage(nil)).To(ContainSubstring(`not sent: build request: undefined variable "x"`))
	})
	It("refuses what is not a report", func() {
		_, err := HaveNoFailures().Match("a string")
		Expect(err).To(MatchError(ContainSubstring("got string")))
	})
})

var _ = Describe("HaveAllStatus", func() {
	It("passes when every status is allowed", func() {
		Expect(report.Run("good")).To(HaveAllStatus(200))
		Expect(report).To(HaveAllStatus(200, 500))
	})
	It("fails naming the count of other statuses", func() {
		m := HaveAllStatus(200)
		ok, err := m.Match(report.Run("mixed"))
		Expect(err).NotTo(HaveOccurred())
		Expect(ok).To(BeFalse())
		Expect(m.FailureMessage(nil)).To(ContainSubstring("Expected every response to have status [200], but 4 of 8 did not"))
	})
})

var _ = Describe("HavePercentileBelow", func() {
	It("passes under a generous bound", func() {
		Expect(report.Run("good")).To(HavePercentileBelow(50, 10*time.Second))
	})
	It("fails with the percentile table and a histogram", func() {
		m := HavePercentileBelow(99, time.Microsecond)
		ok, err := m.Match(report.Run("good"))
		Expect(err).NotTo(HaveOccurred())
		Expect(ok).To(BeFalse())
		msg := m.FailureMessage(nil)
		Expect(msg).To(MatchRegexp(`Expected p99 latency of run "good" to be at most 1µs, but it is \d`))
		Expect(msg).To(ContainSubstring("percentiles:"))
		Expect(msg).To(ContainSubstring("99.9%"))
		Expect(msg).To(ContainSubstring("histogram:"))
		Expect(msg).To(ContainSubstring("#"))
	})
	It("errors on a percentile outside 0-100", func() {
		_, err := HavePercentileBelow(101, time.Second).Match(report)
		Expect(err).To(HaveOccurred())
	})
})

var _ = Describe("HaveErrorRateBelow", func() {
	It("compares failed over sent", func() {
		Expect(report).To(HaveErrorRateBelow(0.25))
		Expect(report).NotTo(HaveErrorRateBelow(0.2))
		m := HaveErrorRateBelow(0.1)
		ok, _ := m.Match(report.Run("mixed"))
		Expect(ok).To(BeFalse())
		Expect(m.FailureMessage(nil)).To(ContainSubstring("it is 50%"))
	})
})

var _ = Describe("missing runs and steps", func() {
	It("fail with what there is instead of panicking", func() {
		_, err := HaveNoFailures().Match(report.Run("hmoe"))
		Expect(err).To(MatchError(`no run "hmoe" (runs: good, mixed)`))
		_, err = HaveNoFailures().Match(report.Run("hmoe").Step(1))
		Expect(err).To(MatchError(ContainSubstring(`no run "hmoe"`)))
		_, err = HaveAllStatus(200).Match(report.Run("good").Step(7))
		Expect(err).To(MatchError(`run "good" has no step at index 7 (it has 2: 1 "GET /a", 2 "GET /slow")`))
		_, err = HavePercentileBelow(50, time.Second).Match(report.Run("good").StepNamed("GET /b"))
		Expect(err).To(MatchError(ContainSubstring(`run "good" has no step named "GET /b" (steps: 1 "GET /a", 2 "GET /slow")`)))
	})
	It("find steps by name", func() {
		Expect(report.Run("good").StepNamed("GET /slow")).To(HaveNoFailures())
		Expect(report.Run("good").StepNamed("GET /slow").Label()).To(Equal(`run "good" step 2 "GET /slow"`))
	})
})
