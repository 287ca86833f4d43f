package matchers_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

func TestMatchers(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "matchers")
}

var report *loadtest.Report

// The report every spec matches against: run "good" with two healthy
// steps, run "mixed" whose second step answers 500 and fails its
// expectation.
var _ = BeforeSuite(func(ctx context.Context) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/bad":
			http.Error(w, "boom", http.StatusInternalServerError)
		case "/slow":
			time.Sleep(30 * time.Millisecond)
			io.WriteString(w, "slow")
		default:
			io.WriteString(w, "ok")
		}
	}))
	DeferCleanup(srv.Close)
	good := scenario.Run("good", scenario.Get("/a"), scenario.Get("/slow")).Repeat(5)
	mixed := scenario.Run("mixed", scenario.Get("/a"), scenario.Get("/bad").ExpectStatus(200)).Repeat(4)
	var err error
	report, err = loadtest.New(loadtest.Runs(good, mixed), loadtest.BaseURL(srv.URL), loadtest.Concurrency(4)).Execute(ctx)
	Expect(err).NotTo(HaveOccurred())
})
