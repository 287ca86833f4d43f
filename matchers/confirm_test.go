package matchers_test

import (
	"bytes"
	"context"
	"errors"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/benchgate/benchgate/loadtest"
	. "github.com/benchgate/benchgate/matchers"
)

// synthetic executions: one run, two steps answering in about ms[k]
// milliseconds, execution i drifting a little.
func synthExecutions(n int, ms ...float64) []*loadtest.Report {
	var out []*loadtest.Report
	for i := range n {
		run := &loadtest.RunReport{Name: "shop", Latency: loadtest.NewLatency()}
		for k, name := range []string{"GET /", "POST /cart"} {
			s := &loadtest.StepReport{Number: k + 1, Name: name, Latency: loadtest.NewLatency(), Sent: 100, Good: 100}
			for j := range 100 {
				v := ms[k] * (1 + 0.006*float64(i%4) + 0.01*float64(j%11)/10)
				s.Latency.Record(time.Duration(v * float64(time.Millisecond)))
			}
			run.Steps = append(run.Steps, s)
		}
		out = append(out, &loadtest.Report{Version: loadtest.ReportVersion, TotalTime: time.Second, Runs: []*loadtest.RunReport{run}})
	}
	return out
}

var _ = Describe("NotRegressFrom with a confirming rerun", func() {
	var (
		base  []*loadtest.Report
		notes *bytes.Buffer
		calls int
	)
	rerun := func(ms ...float64) func(context.Context) ([]*loadtest.Report, error) {
		return func(context.Context) ([]*loadtest.Report, error) {
			calls++
			return synthExecutions(6, ms...), nil
		}
	}
	BeforeEach(func() {
		base, calls = synthExecutions(6, 1, 2), 0
		notes = &bytes.Buffer{}
		GinkgoWriter.TeeTo(notes)
		DeferCleanup(GinkgoWriter.ClearTeeWriters)
	})

	It("passes with a note when the first executions were slow and the rerun is not", func() {
		slow := synthExecutions(6, 1.5, 2)
		m := NotRegressFrom(base, loadtest.CompareOptions{Confirm: rerun(1, 2)})
		ok, err := m.Match(slow)
		Expect(err).NotTo(HaveOccurred())
		Expect(ok).To(BeTrue())
		Expect(calls).To(Equal(1))
		Expect(notes.String()).To(ContainSubstring("NotRegressFrom passed on its rerun: the first executions' regression was not confirmed"))
		var entries []string
		for _, e := range CurrentSpecReport().ReportEntries {
			entries = append(entries, e.Name)
		}
		Expect(entries).To(ContainElement("benchgate rerun"))
		Expect(notes.String()).To(MatchRegexp(`shop / GET / +p50 .*the first executions flagged \+\d+\.\d% \[\+\d+\.\d%, \+\d+\.\d%\], the rerun did not: not confirmed`))
	})
	It("fails when the rerun is slow too, saying it was confirmed", func() {
		slow := synthExecutions(6, 1.5, 2)
		m := NotRegressFrom(base, loadtest.CompareOptions{Confirm: rerun(1.5, 2)})
		ok, err := m.Match(slow)
		Expect(err).NotTo(HaveOccurred())
		Expect(ok).To(BeFalse())
		Expect(calls).To(Equal(1))
		msg := m.FailureMessage(slow)
		Expect(msg).To(MatchRegexp(`shop / GET /: p50 changed by \+\d+\.\d% \[\+\d+\.\d%, \+\d+\.\d%\] \(p = 0\.\d+ over 6 and 6 executions\); confirmed: the first executions gave \+\d+\.\d% \[`))
		Expect(msg).To(ContainSubstring("rerun: the first executions flagged shop / GET / p50"))
		Expect(msg).NotTo(ContainSubstring("POST /cart: p"))
		Expect(msg).NotTo(ContainSubstring("Or let a rerun confirm"))
	})
	It("points a stored regression without a rerun to Confirm", func() {
		slow := synthExecutions(6, 1.5, 2)
		m := NotRegressFrom(base)
		Expect(m.Match(slow)).To(BeFalse())
		Expect(m.FailureMessage(slow)).To(ContainSubstring("Or let a rerun confirm a regression before it fails (CompareOptions.Confirm"))
	})
	It("does not rerun a comparison that found nothing", func() {
		Expect(synthExecutions(6, 1, 2)).To(NotRegressFrom(base, loadtest.CompareOptions{Confirm: rerun(1.5, 2)}))
		Expect(calls).To(Equal(0))
	})
	It("gives no verdict when the rerun fails, with the first executions' table", func() {
		_, err := NotRegressFrom(base, loadtest.CompareOptions{Confirm: func(context.Context) ([]*loadtest.Report, error) {
			return nil, errors.New("connection refused")
		}}).Match(synthExecutions(6, 1.5, 2))
		Expect(err).To(MatchError(And(ContainSubstring("the rerun (CompareOptions.Confirm) to confirm a regression: connection refused"), ContainSubstring("REGRESSED"))))
	})
	It("refuses when the rerun's generator was late by enough to decide it", func() {
		_, err := NotRegressFrom(base, loadtest.CompareOptions{Confirm: func(context.Context) ([]*loadtest.Report, error) {
			// every one late (one late among sound ones is left out)
			late := synthExecutions(6, 1, 2)
			for _, r := range late {
				r.Generator = &loadtest.Generator{Saturated: true, Delay: 400 * time.Millisecond, Why: "a neighbour took the CPU"}
			}
			return late, nil
		}}).Match(synthExecutions(6, 1.5, 2))
		Expect(err).To(MatchError(ErrLateGenerator))
		Expect(err).To(MatchError(ContainSubstring("in the rerun, CompareOptions.Confirm, that was to confirm a regression")))
	})
	It("does not let a rerun clear a risen error rate", func() {
		bad := synthExecutions(6, 1, 2)
		for _, r := range bad {
			r.Runs[0].Steps[1].Sent, r.Runs[0].Steps[1].Failed = 110, 10
		}
		ok, err := NotRegressFrom(base, loadtest.CompareOptions{Confirm: rerun(1, 2)}).Match(bad)
		Expect(err).NotTo(HaveOccurred())
		Expect(ok).To(BeFalse())
	})
})

var _ = Describe("a suite's gated specs sharing alpha", func() {
	It("divides Alpha by BENCHGATE_GATED_SPECS, and names a bad value", func() {
		base, cur := synthExecutions(6, 1, 2), synthExecutions(6, 1.5, 2)
		one := loadtest.CompareExecutions(base, cur, loadtest.CompareOptions{GatedSpecs: 1})
		GinkgoT().Setenv(loadtest.GatedSpecsEnv, "4")
		four := loadtest.CompareExecutions(base, cur, loadtest.CompareOptions{})
		Expect(four.AlphaSide()).To(BeNumerically("~", one.AlphaSide()/4, 1e-12))
		Expect(four.String()).To(ContainSubstring("α = 0.05 over 4 gated specs × 4 metrics"))
		GinkgoT().Setenv(loadtest.GatedSpecsEnv, "four")
		_, err := NotRegressFrom(base).Match(cur)
		Expect(err).To(MatchError(ContainSubstring(`BENCHGATE_GATED_SPECS="four": the number of gated specs in the suite must be a positive integer`)))
		_, err = NotRegressFrom(base, loadtest.CompareOptions{GatedSpecs: -2}).Match(cur)
		Expect(err).To(MatchError(ContainSubstring("CompareOptions.GatedSpecs -2")))
	})
})
