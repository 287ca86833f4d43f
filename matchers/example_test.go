package matchers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/onsi/gomega"

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
