package matchers_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/matchers"
	"github.com/benchgate/benchgate/scenario"
)

// assertionReport executes a small plan: run "r" with a good step and a
// step answering 500.
func assertionReport(t *testing.T) *loadtest.Report {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/bad" {
			w.WriteHeader(500)
		}
	}))
	t.Cleanup(srv.Close)
	r, err := loadtest.New(loadtest.Runs(scenario.Run("r", scenario.Get("/"), scenario.Get("/bad")).Repeat(4)), loadtest.BaseURL(srv.URL)).Execute(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestAssertionsRecorded: each matcher's assertion is kept on the
// report with what was asserted, on what, and how it came out: a pass,
// a failure (with its message, under To and under NotTo), a refusal,
// and a NotTo that passed.
func TestAssertionsRecorded(t *testing.T) {
	r := assertionReport(t)
	var failures []string
	g := gomega.NewGomega(func(message string, _ ...int) { failures = append(failures, message) })
	g.Expect(r.Run("r").StepNamed("GET /")).To(matchers.HaveNoFailures())                        // pass
	g.Expect(r).To(matchers.HaveNoFailures())                                                    // fail
	g.Expect(r.Run("r")).To(matchers.HavePercentileBelow(0.95, time.Second))                     // refused: 0.95 is not a percentile
	g.Expect(r.Run("r")).NotTo(matchers.HaveErrorRateBelow(0.1))                                 // NotTo passes: the rate is 50%
	g.Expect(r).NotTo(matchers.HaveAllStatus(200, 500))                                          // NotTo fails
	g.Expect(r).To(matchers.HaveLatency(loadtest.FirstByte, matchers.Percentile(95), time.Hour)) // pass
	if len(failures) != 3 {
		t.Fatalf("%d failures, want 3: %q", len(failures), failures)
	}
	got, dropped := r.Assertions()
	want := []struct {
		matcher, subject string
		outcome          loadtest.Outcome
		message          string
	}{
		{"HaveNoFailures()", `run "r" step 1 "GET /"`, loadtest.Passed, ""},
		{"HaveNoFailures()", "report", loadtest.Failed, failures[0]},
		{"HavePercentileBelow(0.95, 1s)", `run "r"`, loadtest.Refused, failures[1]},
		{"HaveErrorRateBelow(0.1)", `run "r"`, loadtest.NoMatch, "error rate"},
		{"HaveAllStatus([200 500])", "report", loadtest.Failed, "(asserted with NotTo) " + failures[2]},
		{"HaveLatency(first byte, p95, 1h0m0s)", "report", loadtest.Passed, ""},
	}
	if dropped != 0 || len(got) != len(want) {
		t.Fatalf("%d assertions (%d dropped), want %d: %+v", len(got), dropped, len(want), got)
	}
	for i, w := range want {
		a := got[i]
		if a.Matcher != w.matcher || a.Subject != w.subject || a.Outcome != w.outcome || !strings.Contains(a.Message, w.message) || (w.message == "" && a.Message != "") {
			t.Errorf("assertion %d: %q on %q: %s %q\nwant %q on %q: %s %q", i, a.Matcher, a.Subject, a.Outcome, a.Message, w.matcher, w.subject, w.outcome, w.message)
		}
	}
	if !strings.Contains(failures[1], "HavePercentileBelow") {
		t.Errorf("the refusal is not the matcher's error: %q", failures[1])
	}
}

// TestAssertionsBoundedAndConcurrent: assertions from many goroutines
// are all counted, and the report keeps the last MaxAssertions.
func TestAssertionsBoundedAndConcurrent(t *testing.T) {
	r := assertionReport(t)
	var wg sync.WaitGroup
	const each, workers = 60, 5
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := gomega.NewGomega(func(string, ...int) {})
			for range each {
				g.Expect(r.Run("r").StepNamed("GET /")).To(matchers.HaveNoFailures())
				r.Assertions()
			}
		}()
	}
	wg.Wait()
	got, dropped := r.Assertions()
	if len(got) != loadtest.MaxAssertions || dropped != each*workers-loadtest.MaxAssertions {
		t.Errorf("%d kept, %d dropped; want %d kept of %d", len(got), dropped, loadtest.MaxAssertions, each*workers)
	}
	if b := r.Baseline(); b != nil {
		if kept, _ := b.Assertions(); len(kept) != 0 {
			t.Errorf("a baseline keeps %d assertions of the report it came from", len(kept))
		}
	}
}

// TestComparisonKeptWithAssertion: NotRegressFrom keeps its comparison
// with its assertion, for the comparison's page.
func TestComparisonKeptWithAssertion(t *testing.T) {
	r := assertionReport(t)
	g := gomega.NewGomega(func(string, ...int) {})
	g.Expect(r).To(matchers.NotRegressFrom(r, loadtest.CompareOptions{PassInconclusive: true}))
	got, _ := r.Assertions()
	if len(got) != 1 || got[0].Comparison == nil || !strings.HasPrefix(got[0].Matcher, "NotRegressFrom(*loadtest.Report)") {
		t.Fatalf("%+v", got)
	}
}
