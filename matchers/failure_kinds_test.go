package matchers_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/benchgate/benchgate/failure"
	"github.com/benchgate/benchgate/loadtest"
	. "github.com/benchgate/benchgate/matchers"
	"github.com/benchgate/benchgate/scenario"
)

var _ = Describe("HaveFailuresOnly with kinds", func() {
	It("accepts the failures of the kinds and statuses given, and only those", func() {
		Expect(report).To(HaveFailuresOnly(failure.Status))
		Expect(report).To(HaveFailuresOnly(500))
		Expect(report).To(HaveFailuresOnly(503, 500, failure.StepTimeLimit))
		Expect(report.Run("good")).To(HaveFailuresOnly(failure.Parse)) // no failures at all
		Expect(report).NotTo(HaveFailuresOnly(503))
		Expect(report).NotTo(HaveFailuresOnly(failure.Expectation, failure.StepTimeLimit))
	})
	It("names the kinds, their counts and an example reason of each", func() {
		ok, msg, negated := failureOf(HaveFailuresOnly(failure.StepTimeLimit, 503), report)
		Expect(ok).To(BeFalse())
		Expect(msg).To(ContainSubstring("to be only of kinds [step_time_limit, status 503], but these were not:"))
		Expect(msg).To(ContainSubstring(`4× run "mixed" step 2 "GET /bad": status 500×4, e.g. status 500, expected [200]`))
		Expect(negated).To(ContainSubstring("to have failures other than of kinds [step_time_limit, status 503]"))
		ok, msg, _ = failureOf(HaveFailuresOnly(failure.Connect), report.Run("mixed").StepNamed("GET /bad"))
		Expect(ok).To(BeFalse())
		Expect(msg).To(ContainSubstring(`4× run "mixed" step 2 "GET /bad": status, e.g. status 500, expected [200]`))
	})
	It("refuses what it cannot judge, before a verdict", func() {
		for _, tc := range []struct {
			args []any
			want string
		}{
			{nil, "needs at least one kind or status"},
			{[]any{failure.None}, "not a kind of failure"},
			{[]any{failure.Kind(99)}, "not a kind of failure"},
			{[]any{599}, "599 is no response"},
			{[]any{42}, "42 is not an HTTP status code"},
			{[]any{1.5}, "argument 0 is a float64"},
			{[]any{failure.Status, "status 500"}, "mixed with kinds and statuses"},
		} {
			_, err := HaveFailuresOnly(tc.args...).Match(report)
			Expect(err).To(MatchError(ContainSubstring(tc.want)), "%v", tc.args)
		}
	})
	It("refuses a report written before kinds were recorded, and the reason texts still read it", func() {
		var b bytes.Buffer
		Expect(report.WriteJSON(&b)).To(Succeed())
		old := strings.NewReplacer(`"kinds"`, `"x_kinds"`, `"failed_statuses"`, `"x_failed_statuses"`, `"kind_reasons"`, `"x_kind_reasons"`).Replace(b.String())
		back, err := loadtest.ReadJSON(strings.NewReader(old))
		Expect(err).NotTo(HaveOccurred())
		Expect(back.Run("mixed").StepNamed("GET /bad").Kinds).To(BeNil())
		_, err = HaveFailuresOnly(500).Match(back)
		Expect(err).To(MatchError(ContainSubstring(`run "mixed" step 2 "GET /bad" has 4 failed and 0 not sent, without their kinds`)))
		Expect(back).To(HaveFailuresOnly("status 500"))
	})
	It("keeps its verdict across a JSON round trip", func() {
		var b bytes.Buffer
		Expect(report.WriteJSON(&b)).To(Succeed())
		back, err := loadtest.ReadJSON(&b)
		Expect(err).NotTo(HaveOccurred())
		st := back.Run("mixed").StepNamed("GET /bad")
		Expect(st.Kinds).To(Equal(map[failure.Kind]int64{failure.Status: 4}))
		Expect(st.FailedStatuses).To(Equal(map[int]int64{500: 4}))
		Expect(st.KindReasons).To(HaveKeyWithValue(failure.Status, "status 500, expected [200]"))
		Expect(back).To(HaveFailuresOnly(500))
		Expect(back).NotTo(HaveFailuresOnly(503))
	})
	It("gives one verdict whatever the reasons' words", func(ctx context.Context) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "busy")
		}))
		DeferCleanup(srv.Close)
		// the same failure, said two ways: "status 503, expected [200]"
		// and "status 503, expected 2xx or 3xx (...)"
		worded := scenario.Run("worded", scenario.Get("/").ExpectStatus(200), scenario.Get("/")).Repeat(2)
		r, err := loadtest.New(loadtest.Runs(worded), loadtest.BaseURL(srv.URL)).Execute(ctx)
		Expect(err).NotTo(HaveOccurred())
		a, b := r.Runs[0].Steps[0], r.Runs[0].Steps[1]
		Expect(a.Failures).NotTo(Equal(b.Failures)) // the words differ
		for _, st := range []*loadtest.StepReport{a, b} {
			Expect(st.Kinds).To(Equal(map[failure.Kind]int64{failure.Status: 2}))
			Expect(st).To(HaveFailuresOnly(503))
			Expect(st).NotTo(HaveFailuresOnly(500))
		}
		// the deprecated texts give two verdicts on one failure
		Expect(a).To(HaveFailuresOnly("expected [200]"))
		Expect(b).NotTo(HaveFailuresOnly("expected [200]"))
	})
})
