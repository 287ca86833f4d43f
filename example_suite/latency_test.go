package shop_test

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/benchgate/benchgate/loadtest"
	. "github.com/benchgate/benchgate/matchers"
	"github.com/benchgate/benchgate/scenario"
)

var _ = Describe("latency gates", func() {
	var report *loadtest.Report

	BeforeEach(func(ctx context.Context) {
		browse := scenario.Run("browse",
			scenario.Get("/").Named("home"),
			scenario.Get("/api/items").Named("items").Extract("first", scenario.JSON("items.0.name")),
			scenario.Get("/slow?ms=30").Named("slow page"),
		).Repeat(20)
		var err error
		report, err = loadtest.New(loadtest.Runs(browse), loadtest.BaseURL(baseURL),
			loadtest.Concurrency(8), loadtest.KeepAlive(true)).Execute(ctx)
		Expect(err).NotTo(HaveOccurred())
	}, NodeTimeout(30*time.Second))

	It("keeps errors away and the slow page within its budget", func() {
		Expect(report).To(HaveErrorRateBelow(0.01))
		Expect(report.Run("browse").Step(0)).To(HaveAllStatus(200))
		Expect(report.Run("browse").Step(2)).To(HavePercentileBelow(99, 2*time.Second))
	})

	It("sees that the slow page is slow", func() {
		// The demo's slow page waits 30 ms: its median cannot be under 30 ms.
		Expect(report.Run("browse").Step(2)).NotTo(HavePercentileBelow(50, 29*time.Millisecond))
		Expect(report.Run("browse").Step(2).Latency.Percentile(50)).To(BeNumerically(">=", 30*time.Millisecond))
	})
})
