package shop_test

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/benchgate/benchgate/demoapp"
	"github.com/benchgate/benchgate/engine"
	"github.com/benchgate/benchgate/loadtest"
	. "github.com/benchgate/benchgate/matchers"
	"github.com/benchgate/benchgate/scenario"
)

// Virtual users (closed model): a ramp, think time drawn from a fixed
// seed, and one login per VU from a feeder.
var _ = Describe("virtual users", func() {
	It("ramps up four shoppers, each logging in as their own user", func(ctx context.Context) {
		users := scenario.FeedRows([]string{"user"}, [][]string{{"ann"}, {"bob"}, {"cat"}, {"dan"}}).Unique().OnEnd(scenario.Fail)
		shop := scenario.Run("shop",
			scenario.Get("/login"),
			scenario.Submit(scenario.FormFrom("form#login").Set("user", "{{user}}").Set("password", demoapp.Password)).
				ExpectStatus(303).ThinkBetween(5*time.Millisecond, 20*time.Millisecond),
			scenario.Get("/account").ExpectCSS("#userName", "{{user}}"),
		).Feed(users)

		plan := loadtest.New(loadtest.Runs(shop), loadtest.BaseURL(baseURL), loadtest.KeepAlive(true), loadtest.Seed(2026),
			loadtest.VirtualUsers(engine.VUs{Start: 1, Max: 4, RampUp: 300 * time.Millisecond}))
		report, err := plan.Execute(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(report).To(HaveNoFailures())
		Expect(report.Seed).To(Equal(uint64(2026)))
		Expect(report.Run("shop").StepNamed("GET /account")).To(HaveStatusCounts(map[int]int64{200: 4}))
		// the last VU starts at the end of the ramp
		last, _ := report.Run("shop").Requests.At(3 * 3)
		Expect(last.At).To(BeNumerically(">=", 300*time.Millisecond))
	}, SpecTimeout(30*time.Second))
})
