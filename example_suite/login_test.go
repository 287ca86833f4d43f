package shop_test

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/benchgate/benchgate/demoapp"
	"github.com/benchgate/benchgate/loadtest"
	. "github.com/benchgate/benchgate/matchers"
	"github.com/benchgate/benchgate/scenario"
)

var _ = Describe("logging in through the CSRF-protected form", func() {
	login := func(form *scenario.Form) *scenario.RunDef {
		return scenario.Run("login",
			scenario.Get("/login").ExpectStatus(200),
			scenario.Submit(form),
			scenario.Get("/account"),
		).Repeat(30)
	}

	It("keeps the hidden token, logs in, and stays fast", func(ctx context.Context) {
		form := scenario.FormFrom("form#login").Set("user", "alice").Set("password", demoapp.Password)
		plan := loadtest.New(loadtest.Runs(login(form)), loadtest.BaseURL(baseURL),
			loadtest.Concurrency(4), loadtest.KeepAlive(true))

		report, err := plan.Execute(ctx)
		Expect(err).NotTo(HaveOccurred())

		Expect(report).To(HaveNoFailures())
		run := report.Run("login")
		Expect(run.Step(1)).To(HaveAllStatus(303))
		Expect(run.Step(2)).To(HaveAllStatus(200))
		Expect(run).To(HavePercentileBelow(95, 2*time.Second))

		it, ok := run.Iteration(0)
		Expect(ok).To(BeTrue())
		Expect(it.Statuses()).To(Equal([]int{200, 303, 200}))
	}, SpecTimeout(30*time.Second))

	It("is refused without the CSRF token", func(ctx context.Context) {
		form := scenario.FormFrom("form#login").Remove("csrf").Set("user", "alice").Set("password", demoapp.Password)
		report, err := loadtest.New(loadtest.Runs(login(form)), loadtest.BaseURL(baseURL)).Execute(ctx)
		Expect(err).NotTo(HaveOccurred())

		run := report.Run("login")
		Expect(run.Step(1)).To(HaveAllStatus(403))
		Expect(run.Step(2)).To(HaveAllStatus(401))
	}, SpecTimeout(30*time.Second))
})
