package matchers_test

import (
	"net/http"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/benchgate/benchgate/loadtest"
	. "github.com/benchgate/benchgate/matchers"
	"github.com/benchgate/benchgate/scenario"
)

// checkMessages runs m on actual expecting success == ok, and returns the
// message a failure of the other sense would print.
func failureOf(m interface {
	Match(any) (bool, error)
	FailureMessage(any) string
	NegatedFailureMessage(any) string
}, actual any) (ok bool, msg, negated string) {
	ok, err := m.Match(actual)
	Expect(err).NotTo(HaveOccurred())
	return ok, m.FailureMessage(actual), m.NegatedFailureMessage(actual)
}

var _ = Describe("HaveLatency", func() {
	slow := func() *loadtest.StepReport { return report.Run("good").StepNamed("GET /slow") }
	It("passes on a bound of any phase and statistic", func() {
		Expect(slow()).To(HaveLatency(loadtest.Response, Percentile(99.9), BeNumerically("<", 10*time.Second)))
		Expect(slow()).To(HaveLatency(loadtest.FirstByte, Percentile(50), BeNumerically(">=", 30*time.Millisecond)))
		Expect(slow()).To(HaveLatency(loadtest.Connect, Max(), time.Second))
		Expect(report.Run("good")).To(HaveLatency(loadtest.Response, Mean(), BeNumerically(">", 0)))
	})
	It("fails with the phase, the statistic, the table and a histogram", func() {
		ok, msg, negated := failureOf(HaveLatency(loadtest.FirstByte, Percentile(95), BeNumerically("<", time.Millisecond)), slow())
		Expect(ok).To(BeFalse())
		Expect(msg).To(MatchRegexp(`Expected p95 first byte time of run "good" step 2 "GET /slow" \(3\d\.\d+ms\) to satisfy:`))
		Expect(msg).To(ContainSubstring("percentiles:"))
		Expect(msg).To(ContainSubstring("histogram:"))
		Expect(negated).To(ContainSubstring("not to satisfy"))
	})
	It("refuses a step without good responses", func() {
		_, err := HaveLatency(loadtest.Response, Percentile(50), time.Second).Match(report.Run("mixed").StepNamed("GET /bad"))
		Expect(err).To(MatchError(ContainSubstring("has no good responses")))
	})
})

var _ = Describe("HaveThroughputAtLeast", func() {
	It("passes and fails on requests or iterations per second", func() {
		Expect(report).To(HaveThroughputAtLeast(1))
		ok, msg, negated := failureOf(HaveThroughputAtLeast(1e9), report.Run("good"))
		Expect(ok).To(BeFalse())
		Expect(msg).To(MatchRegexp(`Expected run "good" to do at least 1000000000.0 iterations/s, but it did \d+\.\d`))
		Expect(negated).To(ContainSubstring("to do fewer than"))
	})
})

var _ = Describe("HaveStatus and HaveStatusCounts", func() {
	It("check every status against a matcher, or exact counts", func() {
		Expect(report.Run("good")).To(HaveStatus(BeNumerically("<", 400)))
		Expect(report.Run("good")).To(HaveStatus(200))
		Expect(report.Run("mixed")).To(HaveStatusCounts(map[int]int64{200: 4, 500: 4}))
		ok, msg, negated := failureOf(HaveStatus(BeNumerically("<", 400)), report)
		Expect(ok).To(BeFalse())
		Expect(msg).To(ContainSubstring("but 4 responses had [500]"))
		Expect(msg).To(ContainSubstring(`status 500, expected [200]`))
		Expect(negated).To(ContainSubstring("but all did"))
		ok, msg, _ = failureOf(HaveStatusCounts(map[int]int64{200: 8}), report.Run("mixed"))
		Expect(ok).To(BeFalse())
		Expect(msg).To(ContainSubstring("to be 200×8, but they are 200×4 500×4"))
	})
})

var _ = Describe("HaveFailuresOnly", func() {
	It("accepts failures of the given kinds only", func() {
		Expect(report).To(HaveFailuresOnly("status 500"))
		ok, msg, negated := failureOf(HaveFailuresOnly("step time limit"), report)
		Expect(ok).To(BeFalse())
		Expect(msg).To(ContainSubstring(`4× run "mixed" step 2 "GET /bad": status 500, expected [200]`))
		Expect(negated).To(ContainSubstring("to have failures other than"))
	})
})

var _ = Describe("response matchers", func() {
	resp := &scenario.Response{Status: 200, Header: http.Header{"X-Version": {"2.4"}, "Set-Cookie": {"sid=abc; Path=/"}},
		Body: []byte(`<h1 id="user"> alice </h1><a class="item" data-id="7">x</a><a class="item" data-id="8">y</a><p><script>alert(1)</script></p>`)}
	It("match HTML through goquery", func() {
		Expect(resp).To(HaveSelector("#user", HaveText("alice")))
		Expect(resp).To(HaveSelector("a.item", HaveAttr("data-id", "7"), HaveCount(2)))
		Expect(resp).To(HaveSelector("a.item", HaveCount(BeNumerically(">=", 2))))
		Expect(resp).NotTo(HaveSelector("#admin"))
		ok, msg, negated := failureOf(HaveSelector("#user", HaveText("bob")), resp)
		Expect(ok).To(BeFalse())
		Expect(msg).To(ContainSubstring(`Expected the 1 element(s) matching "#user" to satisfy:`))
		Expect(msg).To(ContainSubstring(`text: Expected "alice" to be "bob"`))
		Expect(negated).To(ContainSubstring(`Expected no element matching "#user"`))
		ok, msg, _ = failureOf(HaveSelector("#admin"), resp)
		Expect(ok).To(BeFalse())
		Expect(msg).To(ContainSubstring(`Expected an element matching "#admin", but none does; body "<h1 id=\"user\">`))
	})
	It("match bodies, headers and cookies", func() {
		Expect(resp).To(HaveBody(ContainSubstring("alice")))
		Expect(string(resp.Body)).To(HaveBody(MatchRegexp(`data-id="\d"`)))
		Expect(resp).To(HaveHeader("x-version", "2.4"))
		Expect(resp).To(HaveCookie("sid", "abc"))
		ok, msg, negated := failureOf(HaveHeader("X-Version", HavePrefix("3")), resp)
		Expect(ok).To(BeFalse())
		Expect(msg).To(ContainSubstring(`Expected the response's header X-Version ("2.4") to satisfy:`))
		Expect(negated).To(ContainSubstring("not to satisfy"))
		ok, msg, _ = failureOf(HaveCookie("token", "x"), resp)
		Expect(ok).To(BeFalse())
		Expect(msg).To(ContainSubstring("Expected the response to have a cookie token, but it has none"))
	})
})

var _ = Describe("every matcher", func() {
	It("says what it expected, both ways", func() {
		good := report.Run("good")
		for name, c := range map[string]struct {
			m interface {
				Match(any) (bool, error)
				FailureMessage(any) string
				NegatedFailureMessage(any) string
			}
			actual any
		}{
			"HaveNoFailures":        {HaveNoFailures(), good},
			"HaveErrorRateBelow":    {HaveErrorRateBelow(0.5), good},
			"HaveFailuresOnly":      {HaveFailuresOnly("status 500"), report},
			"HaveAllStatus":         {HaveAllStatus(200), good},
			"HaveStatus":            {HaveStatus(200), good},
			"HaveStatusCounts":      {HaveStatusCounts(map[int]int64{200: 10}), good},
			"HavePercentileBelow":   {HavePercentileBelow(50, time.Hour), good},
			"HaveLatency":           {HaveLatency(loadtest.Response, Percentile(99.9), time.Hour), good},
			"HaveThroughputAtLeast": {HaveThroughputAtLeast(0.001), good},
			"HaveSelector":          {HaveSelector("a", HaveText("report")), `<a>report</a>`},
			"HaveBody":              {HaveBody(ContainSubstring("report")), "report"},
		} {
			ok, err := c.m.Match(c.actual)
			Expect(err).NotTo(HaveOccurred(), name)
			Expect(ok).To(BeTrue(), name)
			Expect(c.m.FailureMessage(c.actual)).To(ContainSubstring("Expected"), name)
			Expect(c.m.NegatedFailureMessage(c.actual)).To(ContainSubstring("Expected"), name)
			if _, isBody := c.actual.(string); !isBody {
				Expect(c.m.NegatedFailureMessage(c.actual)).To(Or(ContainSubstring(`run "good"`), ContainSubstring("report")), name)
			}
		}
	})
})
