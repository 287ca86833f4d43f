//go:build unix

package shop_test

import (
	"context"
	"os"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/benchgate/benchgate/engine"
	"github.com/benchgate/benchgate/loadtest"
	. "github.com/benchgate/benchgate/matchers"
	"github.com/benchgate/benchgate/scenario"
)

// A spec whose load runs as worker processes on this machine
// (HTTP::LoadGen's NWorker): the copies of this test binary run the
// suite's set-up and this spec alone (ProcessSpec), reach the parent's
// application by the URL it hands them in the environment, send VU k
// in process k mod 3, and the parent gates the merged report.
var _ = Describe("worker processes", func() {
	It("browses the shop from 3 processes and gates the merged report", func(ctx context.Context) {
		GinkgoT().Setenv(AppURLEnv, baseURL) // the copies' BeforeSuite takes it
		browse := scenario.Run("browse",
			scenario.Get("/").Named("home").ExpectStatus(200),
			scenario.Get("/api/items").Named("items").ExpectStatus(200),
		)
		report, err := loadtest.New(loadtest.Runs(browse), loadtest.BaseURL(baseURL), loadtest.Seed(3),
			loadtest.VirtualUsers(engine.VUs{Max: 6, Rounds: 5}), loadtest.TimeLimit(time.Minute),
			loadtest.Processes(3), loadtest.ProcessSpec(CurrentSpecReport().FullText())).Execute(ctx)
		// only the parent gets here: a copy ends in Execute
		Expect(err).NotTo(HaveOccurred())
		Expect(report).To(HaveNoFailures())
		Expect(report.Run("browse").Step(1).Good).To(Equal(int64(30)), "6 VUs × 5 rounds")
		Expect(report.Shards).To(HaveLen(3))
		pids := map[int]bool{os.Getpid(): true}
		for _, m := range report.Shards {
			pids[m.PID] = true
		}
		Expect(pids).To(HaveLen(4), "3 processes, none of them this one")
	}, SpecTimeout(2*time.Minute))
})
