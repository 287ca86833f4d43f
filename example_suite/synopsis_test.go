package example_suite_test

import (
	"context"
	"regexp"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/benchgate/benchgate/loadtest"
	. "github.com/benchgate/benchgate/matchers"
	"github.com/benchgate/benchgate/scenario"
)

// HTTPD::Bench::ApacheBench's SYNOPSIS, in benchgate: three runs, one of
// them depth-first with a static cookie per repetition, one deriving its
// POST data from a div of the previous page (its derived method: POST
// when the func returns a body, GET when it returns none).
var _ = Describe("the SYNOPSIS of HTTPD::Bench::ApacheBench", func() {
	userName := regexp.MustCompile(`(?i)<div id="userName">([^<>]+)</div>`)

	It("sends three runs and keeps their regression data", func(ctx context.Context) {
		run1 := scenario.Run("run1", scenario.Get("/"), scenario.Get("/api/items"))
		cookies := make([]string, 10)
		for i := range cookies {
			cookies[i] = "Login_Cookie=b3dcc9bac34b7e60;"
		}
		run2 := scenario.Run("run2", scenario.Get("/login"), scenario.Get("/redirect")).
			Cookies(cookies...).Order(scenario.DepthFirst).Repeat(10).KeepLevel(scenario.KeepHeaders)
		run3 := scenario.Run("run3",
			scenario.PostIfBody("/").BodyFunc(func(*scenario.Response, scenario.Vars) (string, bool) {
				time.Sleep(200 * time.Millisecond) // user time: never part of a timing
				return "", false
			}),
			scenario.PostIfBody("/echo").BodyFunc(func(prev *scenario.Response, _ scenario.Vars) (string, bool) {
				m := userName.FindSubmatch(prev.Body)
				if m == nil {
					return "", false
				}
				return "cgi-username=" + string(m[1]), true
			}),
		).KeepLevel(scenario.KeepBodies)

		plan := loadtest.New(loadtest.Runs(run1, run2, run3), loadtest.BaseURL(baseURL),
			loadtest.Concurrency(5), loadtest.WithPriority(loadtest.RunPriority))
		Expect(plan.TotalRequests()).To(Equal(2 + 20 + 2))

		report, err := plan.Execute(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(report).To(HaveNoFailures())
		Expect(report.RequestsSent).To(Equal(int64(plan.TotalRequests())))

		By("keeping times at keep level 1 and sizes only from level 2")
		it, ok := report.Run("run1").Iteration(0)
		Expect(ok).To(BeTrue())
		Expect(it.ResponseTimes()).To(HaveLen(2))
		_, ok = it.BytesRead()
		Expect(ok).To(BeFalse())

		By("sending the static cookie and keeping headers at level 2")
		it, _ = report.Run("run2").Iteration(6)
		headers, ok := it.ResponseHeaders()
		Expect(ok).To(BeTrue())
		Expect(headers[1]).To(ContainSubstring("302 Found"))

		By("posting what the previous page said, and excluding user time")
		it, _ = report.Run("run3").Iteration(0)
		bodies, ok := it.ResponseBodies()
		Expect(ok).To(BeTrue())
		Expect(bodies[1]).To(Equal("cgi-username=guest"))
		requests, _ := it.RequestTexts()
		Expect(requests[1]).To(HavePrefix("POST /echo HTTP/1.1\r\n"))
		Expect(it.ResponseTimes()[0]).To(BeNumerically("<", 200*time.Millisecond))
	}, SpecTimeout(30*time.Second))
})
