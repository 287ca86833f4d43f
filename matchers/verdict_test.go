package matchers_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

	"github.com/benchgate/benchgate/failure"
	"github.com/benchgate/benchgate/loadtest"
	. "github.com/benchgate/benchgate/matchers"
	"github.com/benchgate/benchgate/scenario"
)

// everyMatcher is one of each matcher over a report, run or step, set so
// that it would pass on a healthy report.
func everyMatcher() map[string]types.GomegaMatcher {
	return map[string]types.GomegaMatcher{
		"HaveNoFailures":         HaveNoFailures(),
		"HaveErrorRateBelow":     HaveErrorRateBelow(0.5),
		"HavePercentileBelow":    HavePercentileBelow(99, time.Hour),
		"HaveLatency":            HaveLatency(loadtest.Response, Mean(), time.Hour),
		"HaveThroughputAtLeast":  HaveThroughputAtLeast(0.001),
		"HaveAllStatus":          HaveAllStatus(200),
		"HaveStatus":             HaveStatus(BeNumerically("<", 600)),
		"HaveStatusCounts":       HaveStatusCounts(map[int]int64{}),
		"HaveFailuresOnly":       HaveFailuresOnly("status"),
		"HaveFailuresOnly kinds": HaveFailuresOnly(failure.Status, 503),
	}
}

// matchError runs m on actual and returns the error Match gave.
func matchError(m types.GomegaMatcher, actual any) error {
	_, err := m.Match(actual)
	return err
}

var _ = Describe("a step that never ran", func() {
	var srv *httptest.Server
	BeforeEach(func() {
		srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/login" {
				http.Error(w, "no", http.StatusUnauthorized)
				return
			}
			io.WriteString(w, "ok")
		}))
		DeferCleanup(srv.Close)
	})
	// the natural way to say "run for a while": a huge Repeat and a time
	// limit, breadth-first: only step 1 is ever sent
	longRun := func(ctx context.Context, run *scenario.RunDef) *loadtest.Report {
		r, err := loadtest.New(loadtest.Runs(run.Repeat(1_000_000)), loadtest.BaseURL(srv.URL), loadtest.Concurrency(2),
			loadtest.KeepLevel(0), loadtest.TimeLimit(150*time.Millisecond)).Execute(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(r.Runs[0].Steps[0].Sent).To(BeNumerically(">", 0))
		Expect(r.Runs[0].Steps[1].Sent).To(BeZero())
		return r
	}
	It("fails every matcher over the report, the run and the step, naming the step and why", func(ctx context.Context) {
		r := longRun(ctx, scenario.Run("login", scenario.Get("/home"), scenario.Post("/login", "user=a")))
		Expect(r.StepsNeverSent()).To(HaveLen(1))
		for name, m := range everyMatcher() {
			for _, actual := range []any{r, r.Run("login"), r.Run("login").Step(1)} {
				err := matchError(m, actual)
				Expect(err).To(HaveOccurred(), "%s passed on %T", name, actual)
				Expect(err.Error()).To(ContainSubstring(`step 2 "POST /login" of run "login" never ran: the time limit 150ms ended the run during step 1's breadth-first pass`), name)
				Expect(err.Error()).To(ContainSubstring("use DepthFirst, loadtest.For or a smaller Repeat"))
			}
		}
		Expect(matchError(NotRegressFrom(r), r)).To(MatchError(ContainSubstring("never ran")))
		// the step that did run still has a verdict
		Expect(r.Run("login").Step(0)).To(HaveNoFailures())
	})
	It("lets a spec that expects it say so", func(ctx context.Context) {
		r := longRun(ctx, scenario.Run("login", scenario.Get("/home"), scenario.Post("/login", "user=a")).AllowUnsentSteps())
		Expect(r.StepsNeverSent()).To(BeEmpty())
		Expect(r).To(HaveNoFailures())
	})
	It("is reached with For, which runs the sequence for a duration", func(ctx context.Context) {
		r, err := loadtest.New(loadtest.Runs(scenario.Run("login", scenario.Get("/home"), scenario.Post("/login", "user=a"))),
			loadtest.BaseURL(srv.URL), loadtest.Concurrency(2), loadtest.For(150*time.Millisecond)).Execute(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(r.StepsNeverSent()).To(BeEmpty())
		Expect(r.Run("login").Step(1).Sent).To(BeNumerically(">", 0))
		ok, err := HaveNoFailures().Match(r)
		Expect(err).NotTo(HaveOccurred())
		Expect(ok).To(BeFalse(), "step 2 answers 401 every time")
		Expect(r.Run("login").Step(1)).To(HaveAllStatus(401))
	})
})

var _ = Describe("an Execute error the spec did not check", func() {
	It("says the plan did not run, with the error, when the plan was refused", func(ctx context.Context) {
		r, _ := loadtest.New(loadtest.Runs(scenario.Run("x", scenario.Get("/"))), loadtest.Concurrency(0)).Execute(ctx)
		Expect(r).NotTo(BeNil())
		Expect(r.DidNotRun()).To(BeTrue())
		for name, m := range everyMatcher() {
			for _, actual := range []any{r, r.Run("x")} {
				err := matchError(m, actual)
				Expect(err).To(HaveOccurred(), name)
				Expect(err.Error()).To(ContainSubstring(`the plan did not run: invalid plan: `), name)
				Expect(err.Error()).To(ContainSubstring(`Concurrency "0": must be at least 1`), name)
			}
		}
	})
	It("says the plan did not run to its end when it was cancelled", func() {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
		defer srv.Close()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		r, err := loadtest.New(loadtest.Runs(scenario.Run("x", scenario.Get("/"))), loadtest.BaseURL(srv.URL)).Execute(ctx)
		Expect(err).To(HaveOccurred())
		for name, m := range everyMatcher() {
			for _, actual := range []any{r, r.Run("x"), r.Run("x").Step(0)} {
				Expect(matchError(m, actual)).To(MatchError(ContainSubstring("the plan did not run to its end: context canceled")), name)
			}
		}
		// a spec that checked the error may still judge what there is
		r.Err = nil
		Expect(matchError(HaveNoFailures(), r)).To(MatchError(ContainSubstring("never ran")))
	})
	It("says what a nil report means", func() {
		var r *loadtest.Report
		Expect(matchError(HaveNoFailures(), r)).To(MatchError(ContainSubstring("got a nil one: did the plan run?")))
	})
})

var _ = Describe("arguments that mean something else", func() {
	It("are refused with what was probably meant", func() {
		for _, tc := range []struct {
			m    types.GomegaMatcher
			want string
		}{
			{HaveErrorRateBelow(1), "did you mean 1 % (HaveErrorRateBelow(0.01))?"},
			{HaveErrorRateBelow(5), "did you mean 5 % (HaveErrorRateBelow(0.05))?"},
			{HaveErrorRateBelow(-0.1), "the rate is a fraction"},
			{HavePercentileBelow(0.95, time.Second), "did you mean 95?"},
			{HavePercentileBelow(0, time.Second), "outside 1-100"},
			{HavePercentileBelow(101, time.Second), "outside 1-100"},
			{HavePercentileBelow(95, 0), "the bound must be a positive duration"},
			{HaveLatency(loadtest.Response, Percentile(0.99), time.Second), "did you mean 99?"},
			{HaveLatency(loadtest.Response, Percentile(-5), time.Second), "outside 1-100"},
			{HaveLatency(loadtest.Response, Max(), time.Duration(0)), "positive duration"},
			{HaveThroughputAtLeast(0), "always passes"},
			{HaveThroughputAtLeast(-3), "always passes"},
			{HaveAllStatus(200, 2000), "2000 is not an HTTP status code"},
			{HaveStatus(20), "20 is not an HTTP status code"},
			{HaveStatusCounts(map[int]int64{200: -1}), "count -1 is negative"},
			{HaveFailuresOnly("status 503", ""), "would always pass"},
			{NotRegressFrom(report, loadtest.CompareOptions{MinEffect: 10}), "did you mean 0.1?"},
			{NotRegressFrom(report, loadtest.CompareOptions{TailMinEffect: 20}), "did you mean 0.2?"},
			{NotRegressFrom(report, loadtest.CompareOptions{TailMinEffect: -0.1}), "no field may be negative"},
			{NotRegressFrom(report, loadtest.CompareOptions{MaxErrorRateIncrease: 5}), "did you mean 0.05?"},
			{NotRegressFrom(report, loadtest.CompareOptions{Percentiles: []float64{0.99}}), "did you mean 99?"},
			{NotRegressFrom(report, loadtest.CompareOptions{Alpha: 5}), "a significance level is a small fraction"},
		} {
			Expect(matchError(tc.m, report)).To(MatchError(ContainSubstring(tc.want)))
		}
	})
	It("still take every meaningful value", func() {
		Expect(report.Run("good")).To(HaveErrorRateBelow(0))
		Expect(report.Run("good")).To(HaveErrorRateBelow(0.999))
		Expect(report.Run("good")).To(HavePercentileBelow(1, time.Hour))
		Expect(report.Run("good")).To(HavePercentileBelow(100, time.Hour))
		Expect(report.Run("good")).To(HaveLatency(loadtest.Response, Percentile(99.9), time.Hour))
		Expect(report.Run("good")).To(HaveAllStatus(200, 599))
	})
})

var _ = Describe("a passing spec", func() {
	It("shows its numbers, one line per run, once per report", func() {
		Expect(report).To(HaveAllStatus(200, 500))
		Expect(report.Run("good")).To(HaveNoFailures())
		Expect(report.Run("good").Step(0)).To(HaveNoFailures())
		var entries []string
		for _, e := range CurrentSpecReport().ReportEntries {
			if e.Name == "benchgate" {
				entries = append(entries, e.StringRepresentation())
			}
		}
		Expect(entries).To(HaveLen(1))
		Expect(entries[0]).To(MatchRegexp(`^run "good": 10 requests, 10 good, 0 failed; p50 \S+, p95 \S+, p99 \S+; [\d.]+ req/s\nrun "mixed": 8 requests, 4 good, 4 failed; p50 \S+, p95 \S+, p99 \S+; [\d.]+ req/s$`))
	})
})
