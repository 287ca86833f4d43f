package matchers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/onsi/gomega"

	"github.com/benchgate/benchgate/failure"
	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/matchers"
	"github.com/benchgate/benchgate/scenario"
)

// Matchers work with any Gomega, inside Ginkgo or not.
func Example() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	run := scenario.Run("r", scenario.Get("/"), scenario.Get("/missing").ExpectStatus(200)).Repeat(3)
	report, _ := loadtest.New(loadtest.Runs(run), loadtest.BaseURL(srv.URL)).Execute(context.Background())

	g := gomega.NewGomega(func(message string, _ ...int) {
		fmt.Println(strings.SplitN(message, "\n", 2)[0])
	})
	g.Expect(report.Run("r").Step(0)).To(matchers.HaveNoFailures())
	g.Expect(report.Run("r").Step(0)).To(matchers.HavePercentileBelow(99, time.Minute))
	g.Expect(report).To(matchers.HaveNoFailures())
	// Output:
	// Expected no failures, but 3 of 6 requests failed
}

// exampleReport is a run of two steps against a server whose /missing
// answers 404: three iterations.
func exampleReport() *loadtest.Report {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	run := scenario.Run("shop", scenario.Get("/"), scenario.Get("/missing").AnyStatus()).Repeat(3)
	report, _ := loadtest.New(loadtest.Runs(run), loadtest.BaseURL(srv.URL)).Execute(context.Background())
	return report
}

// firstLine prints the first line of a failed assertion's message.
func firstLine() gomega.Gomega {
	return gomega.NewGomega(func(message string, _ ...int) {
		fmt.Println(strings.SplitN(message, "\n", 2)[0])
	})
}

func ExampleHaveNoFailures() {
	report := exampleReport()
	g := firstLine()
	g.Expect(report).To(matchers.HaveNoFailures())
	g.Expect(report.Run("shop").Step(5)).To(matchers.HaveNoFailures())
	// Output:
	// run "shop" has no step at index 5 (it has 2: 1 "GET /", 2 "GET /missing")
}

func ExampleHaveAllStatus() {
	report := exampleReport()
	g := firstLine()
	g.Expect(report.Run("shop").Step(0)).To(matchers.HaveAllStatus(200))
	g.Expect(report.Run("shop")).To(matchers.HaveAllStatus(200))
	// Output:
	// Expected every response to have status [200], but 3 of 6 did not
}

func ExampleHaveErrorRateBelow() {
	report := exampleReport()
	g := firstLine()
	g.Expect(report).To(matchers.HaveErrorRateBelow(0.01))
	g.Expect(report.Run("hmoe")).To(matchers.HaveErrorRateBelow(0.01))
	// Output:
	// no run "hmoe" (runs: shop)
}

func ExampleHavePercentileBelow() {
	report := exampleReport()
	g := gomega.NewGomega(func(message string, _ ...int) {
		// the measured value varies from run to run: show the rest
		fmt.Println(strings.SplitN(message, ", but it is", 2)[0])
	})
	g.Expect(report.Run("shop")).To(matchers.HavePercentileBelow(99, time.Minute))
	g.Expect(report.Run("shop").Step(1)).To(matchers.HavePercentileBelow(50, time.Nanosecond))
	// Output:
	// Expected p50 latency of run "shop" step 2 "GET /missing" to be at most 1ns
}

// A gate accepts failures by kind and status, not by their words: the
// server's 503s pass, a refused connection or a time limit would not.
func ExampleHaveFailuresOnly() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/busy" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	run := scenario.Run("r", scenario.Get("/"), scenario.Get("/busy")).Repeat(3)
	report, _ := loadtest.New(loadtest.Runs(run), loadtest.BaseURL(srv.URL)).Execute(context.Background())

	g := gomega.NewGomega(func(message string, _ ...int) {
		lines := strings.SplitN(message, "\n", 3)
		fmt.Println(lines[0])
		fmt.Println(lines[1])
	})
	g.Expect(report).To(matchers.HaveFailuresOnly(503, failure.StepTimeLimit))
	g.Expect(report).To(matchers.HaveFailuresOnly(failure.ConnectTimeout))
	// Output:
	// Expected the failures of report to be only of kinds [connect_timeout], but these were not:
	//     3× run "r" step 2 "GET /busy": status, e.g. status 503, expected 2xx or 3xx (ExpectStatus or AnyStatus accepts others)
}

// The matchers keep each assertion on the report, so its page written
// afterwards (report.WriteHTML) shows the verdicts.
func Example_assertionsOnTheReport() {
	report := exampleReport()
	g := gomega.NewGomega(func(string, ...int) {})
	g.Expect(report.Run("shop").Step(0)).To(matchers.HavePercentileBelow(95, time.Minute))
	g.Expect(report).To(matchers.HaveAllStatus(200))
	kept, _ := report.Assertions()
	for _, a := range kept {
		fmt.Printf("%s %s on %s\n", a.Outcome, a.Matcher, a.Subject)
	}
	// Output:
	// pass HavePercentileBelow(95, 1m0s) on run "shop" step 1 "GET /"
	// fail HaveAllStatus([200]) on report

}
