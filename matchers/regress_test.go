package matchers_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

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
		base []*loadtest.Report
	)
	measure := func(d time.Duration) *loadtest.Report {
		var runs []*scenario.RunDef
		for _, u := range []string{"ann", "bob"} {
			runs = append(runs, scenario.Run(u, scenario.Get("/slow?ms=2")).Order(scenario.DepthFirst).Repeat(1_000_000))
		}
		r, err := loadtest.New(loadtest.Runs(runs...), loadtest.BaseURL(url), loadtest.Concurrency(2), loadtest.KeepAlive(true),
			loadtest.TimeLimit(d)).Execute(context.Background())
		Expect(err).NotTo(HaveOccurred())
		return r
	}
	executions := func(n int, d time.Duration) []*loadtest.Report {
		var out []*loadtest.Report
		for range n {
			out = append(out, measure(d))
		}
		return out
	}
	// 25% and the median: these specs run beside other packages' tests;
	// a machine up to 3× slower or faster than when the baseline was
	// recorded is let through here (the spec is about the matcher).
	tolerant := loadtest.CompareOptions{MinEffect: 0.25, Percentiles: []float64{50}, MaxCalibrationRatio: 3}
	BeforeAll(func() {
		app = demoapp.New()
		srv := httptest.NewServer(app)
		DeferCleanup(srv.Close)
		url, dir = srv.URL, GinkgoT().TempDir()
		base = executions(5, 300*time.Millisecond)
	})

	It("says how to create a missing baseline", func() {
		path := filepath.Join(dir, "missing.json")
		_, err := NotRegressFrom(path).Match(base[0])
		Expect(err).To(MatchError(ContainSubstring("no baseline at " + path + ": record one with BENCHGATE_UPDATE_BASELINES=1 go test ./..., run 5 times or more at different moments, and commit it")))
	})
	It("adds executions to the baseline when asked to, then compares with it", func() {
		path := filepath.Join(dir, "shop.json")
		GinkgoT().Setenv(loadtest.UpdateBaselinesEnv, "1")
		Expect(base[:2]).To(NotRegressFrom(path))
		for _, r := range base[2:] {
			Expect(r).To(NotRegressFrom(path))
		}
		stored, err := loadtest.ReadBaseline(path)
		Expect(err).NotTo(HaveOccurred())
		Expect(stored.Executions).To(HaveLen(5))
		Expect(stored.Machines[0].Calibration).To(BeNumerically(">", 0))
		os.Unsetenv(loadtest.UpdateBaselinesEnv)
		opts := tolerant
		opts.PassInconclusive = true // a busy machine may leave it open; the spec is about the recording
		ok, err := judged(NotRegressFrom(path, opts), executions(5, 300*time.Millisecond))
		Expect(err).NotTo(HaveOccurred())
		Expect(ok).To(BeTrue())
	})
	It("fails on a slowdown, naming the step, the change with its interval, and the duet", func() {
		app.SlowDown("/slow", 1.0)
		defer app.SlowDown("/slow", 0)
		slow := executions(5, 300*time.Millisecond)
		m := NotRegressFrom(base, tolerant)
		ok, err := judged(m, slow)
		Expect(err).NotTo(HaveOccurred())
		Expect(ok).To(BeFalse())
		msg := m.FailureMessage(slow)
		Expect(msg).To(MatchRegexp(`ann / GET /slow\?ms=2: p50 changed by \+\d+\.\d% \[\+\d+\.\d%, \+\d+\.\d%\] \(p = 0\.\d+ over \d and \d executions\)`))
		Expect(msg).To(ContainSubstring("REGRESSED"))
		Expect(msg).To(ContainSubstring("Confirm with a duet"))
		Expect(m.NegatedFailureMessage(slow)).To(ContainSubstring("Expected the report to regress from the baseline, but it did not"))
	})
	It("gives no verdict on a baseline of one execution, unless told to pass it", func() {
		_, err := NotRegressFrom(base[0]).Match(measure(150 * time.Millisecond))
		Expect(err).To(MatchError(ContainSubstring(`no verdict on`)))
		Expect(err).To(MatchError(ContainSubstring(`a baseline of 1 execution cannot show "no regression"`)))
		ok, err := NotRegressFrom(base[0], loadtest.CompareOptions{PassInconclusive: true, MinEffect: 0.9}).Match(measure(150 * time.Millisecond))
		Expect(err).NotTo(HaveOccurred())
		Expect(ok).To(BeTrue())
	})
	It("compares by session: a baseline of one process gives no verdict beside another's executions; one of five decides", func() {
		relabel := func(rs []*loadtest.Report, session func(i int) string) []*loadtest.Report {
			var out []*loadtest.Report
			for i, r := range rs {
				c := *r
				c.Session = session(i)
				out = append(out, &c)
			}
			return out
		}
		cur := executions(3, 300*time.Millisecond)
		onePro := relabel(base, func(int) string { return "recorded-earlier" })
		_, err := NotRegressFrom(onePro, tolerant).Match(cur)
		Expect(err).To(MatchError(ContainSubstring("no verdict on")))
		Expect(err).To(MatchError(ContainSubstring("the baseline's executions come from 1 session(s)")))

		app.SlowDown("/slow", 1.0)
		defer app.SlowDown("/slow", 0)
		slow := executions(3, 300*time.Millisecond)
		fivePro := relabel(base, func(i int) string { return fmt.Sprintf("run-%d", i) })
		m := NotRegressFrom(fivePro, tolerant)
		ok, err := judged(m, slow)
		Expect(err).NotTo(HaveOccurred())
		Expect(ok).To(BeFalse())
		Expect(m.FailureMessage(slow)).To(MatchRegexp(`p50 changed by \+\d+\.\d% \[\+\d+\.\d%, \+\d+\.\d%\] \(p [=<] 0\.\d+ over 5 and 3 executions in 5 and 1 sessions\)`))
	})
	It("refuses a machine that runs the calibration far slower than the baseline's", func() {
		b := &loadtest.Baseline{}
		for _, r := range base {
			Expect(b.Add(r, &loadtest.Machine{CPU: "a faster CPU", Calibration: time.Microsecond})).To(Succeed())
		}
		_, err := NotRegressFrom(b).Match(base[0])
		Expect(err).To(MatchError(ContainSubstring("this machine ran the calibration workload in")))
		Expect(err).To(MatchError(ContainSubstring("the baseline's machine in 1µs")))
	})
})

var _ = Describe("HaveNoRegressions", func() {
	It("counts a duet's pairs with a saturated round, refusing only when they are most", func() {
		busy := &loadtest.Report{Generator: &loadtest.Generator{Saturated: true, Why: "it stopped for garbage collection 11% of the time"}}
		quiet := &loadtest.Report{Generator: &loadtest.Generator{}}
		duet := &loadtest.DuetReport{A: []*loadtest.Report{busy, quiet, quiet}, B: []*loadtest.Report{quiet, quiet, quiet},
			Comparison: &loadtest.Comparison{Duet: true, Pairs: 3, Contended: 1}}
		Expect(duet).To(HaveNoRegressions())
		duet.B[1], duet.Comparison.Contended = busy, 2
		_, err := HaveNoRegressions().Match(duet)
		Expect(err).To(MatchError(ContainSubstring("no verdict: 2 of 3 pairs had a round whose measurement invalid: the load generator was saturated")))
		// a neighbour or a CPU quota slows both sides of a pair alike
		for _, cause := range []string{loadtest.CauseNeighbour, loadtest.CauseQuota} {
			shared := &loadtest.Report{Generator: &loadtest.Generator{Saturated: true, Cause: cause, Why: "w"}}
			duet.A[1], duet.B[1], duet.A[0] = shared, shared, shared
			Expect(duet).To(HaveNoRegressions(), cause)
		}
	})
	It("fails an inconclusive comparison with its change and interval", func() {
		cmp := loadtest.CompareExecutions(nil, nil, loadtest.CompareOptions{})
		_, err := HaveNoRegressions().Match(cmp)
		Expect(err).To(MatchError(ContainSubstring("no verdict")))
	})
})

// judged runs m on actual. A stored comparison refused because the load
// generator was late (these specs run beside other packages' tests, on
// shared machines) skips the spec with the refusal: it is no verdict
// either way. The refusal itself is tested on fixed figures.
func judged(m types.GomegaMatcher, actual any) (bool, error) {
	ok, err := m.Match(actual)
	if errors.Is(err, ErrLateGenerator) {
		Skip("the machine was too busy to measure: " + err.Error())
	}
	return ok, err
}
