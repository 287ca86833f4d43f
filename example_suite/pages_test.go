package shop_test

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

// Three runs side by side, each keeping what it asks for of every
// request: one browsing, one coming back depth-first with a static
// cookie per iteration, one posting back a name read from the previous
// page (PostIfBody: POST when the func returns a body, GET when it
// returns none). For users of HTTPD::Bench::ApacheBench: this is its
// SYNOPSIS.
var _ = Describe("the shop's pages, request by request", func() {
	userName := regexp.MustCompile(`(?i)<div id="userName">([^<>]+)</div>`)

	It("sends three runs and keeps each request's times, headers and bodies as asked", func(ctx context.Context) {
		browse := scenario.Run("browse", scenario.Get("/"), scenario.Get("/api/items"))
		cookies := make([]string, 10)
		for i := range cookies {
			cookies[i] = "Login_Cookie=b3dcc9bac34b7e60;"
		}
		returning := scenario.Run("returning user", scenario.Get("/login"), scenario.Get("/redirect")).
			Cookies(cookies...).Order(scenario.DepthFirst).Repeat(10).KeepLevel(scenario.KeepHeaders)
		postBack := scenario.Run("post back",
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

		plan := loadtest.New(loadtest.Runs(browse, returning, postBack), loadtest.BaseURL(baseURL),
			loadtest.Concurrency(5), loadtest.WithPriority(loadtest.RunPriority))
		Expect(plan.TotalRequests()).To(Equal(2 + 20 + 2))

		report, err := plan.Execute(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(report).To(HaveNoFailures())
		Expect(report.RequestsSent).To(Equal(int64(plan.TotalRequests())))

		By("keeping each request's times by default, and its sizes only from KeepHeaders")
		it, ok := report.Run("browse").Iteration(0)
		Expect(ok).To(BeTrue())
		Expect(it.ResponseTimes()).To(HaveLen(2))
		_, ok = it.BytesRead()
		Expect(ok).To(BeFalse())

		By("sending the static cookie and keeping response headers at KeepHeaders")
		it, _ = report.Run("returning user").Iteration(6)
		headers, ok := it.ResponseHeaders()
		Expect(ok).To(BeTrue())
		Expect(headers[1]).To(ContainSubstring("302 Found"))

		By("posting what the previous page said, and excluding user time")
		it, _ = report.Run("post back").Iteration(0)
		bodies, ok := it.ResponseBodies()
		Expect(ok).To(BeTrue())
		Expect(bodies[1]).To(Equal("cgi-username=guest"))
		requests, _ := it.RequestTexts()
		Expect(requests[1]).To(HavePrefix("POST /echo HTTP/1.1\r\n"))
		Expect(it.ResponseTimes()[0]).To(BeNumerically("<", 200*time.Millisecond))
	}, SpecTimeout(30*time.Second))
})
