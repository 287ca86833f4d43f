package matchers_test

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/benchgate/benchgate/demoapp"
	"github.com/benchgate/benchgate/loadtest"
	. "github.com/benchgate/benchgate/matchers"
	"github.com/benchgate/benchgate/scenario"
)

var _ = Describe("NotRegressFrom", Ordered, func() {
	var (
		app  *demoapp.App
		url  string
		dir  string
		base *loadtest.Report
	)
	measure := func(d time.Duration) *loadtest.Report {
		var runs []*scenario.Sequence
		for _, u := range []string{"ann", "bob"} {
			runs = append(runs, scenario.Run(u, scenario.Get("/slow?ms=2")).Order(scenario.DepthFirst).Repeat(1_000_000))
		}
		r, err := loadtest.New(loadtest.Runs(runs...), loadtest.BaseURL(url), loadtest.Concurrency(2), loadtest.KeepAlive(true),
			loadtest.TimeLimit(d)).Execute(context.Background())
		Expect(err).NotTo(HaveOccurred())
		return r
	}
	BeforeAll(func() {
		app = demoapp.New()
		srv := httptest.NewServer(app)
		DeferCleanup(srv.Close)
		url, dir = srv.URL, GinkgoT().TempDir()
		base = measure(1500 * time.Millisecond)
	})

	It("says how to create a missing baseline", func() {
		path := filepath.Join(dir, "missing.json")
		_, err := NotRegressFrom(path).Match(base)
		Expect(err).To(MatchError(ContainSubstring("no baseline at " + path + ": record one from this run with BENCHGATE_UPDATE_BASELINES=1 go test ./... and commit it")))
	})
	It("records the baseline when asked to, then compares with it", func() {
		path := filepath.Join(dir, "shop.json")
		GinkgoT().Setenv(loadtest.UpdateBaselinesEnv, "1")
		Expect(base).To(NotRegressFrom(path))
		Expect(path).To(BeAnExistingFile())
		os.Unsetenv(loadtest.UpdateBaselinesEnv)
		Expect(measure(1500 * time.Millisecond)).To(NotRegressFrom(path, loadtest.CompareOptions{MinEffect: 0.25, Percentiles: []float64{50}}))
	})
	It("fails on a slowdown, naming the step, the change and the test", func() {
		app.SlowDown("/slow", 1.0)
		defer app.SlowDown("/slow", 0)
		slow := measure(3 * time.Second) // responses take 3× as long: as many blocks as the baseline's, even on a loaded machine
		m := NotRegressFrom(base, loadtest.CompareOptions{MinEffect: 0.25, Percentiles: []float64{50}})
		ok, err := m.Match(slow)
		Expect(err).NotTo(HaveOccurred())
		Expect(ok).To(BeFalse())
		msg := m.FailureMessage(slow)
		Expect(msg).To(MatchRegexp(`ann / GET /slow\?ms=2: p50 changed by \+\d+\.\d% \(p = 0\.\d+ over \d+ and \d+ blocks\)`))
		Expect(msg).To(ContainSubstring("REGRESSED"))
		Expect(m.NegatedFailureMessage(slow)).To(ContainSubstring("Expected the report to regress from the baseline, but it did not"))
	})
	It("refuses a verdict on too little data", func() {
		_, err := NotRegressFrom(base).Match(measure(150 * time.Millisecond))
		Expect(err).To(MatchError(ContainSubstring("not enough data for a verdict")))
	})
})
