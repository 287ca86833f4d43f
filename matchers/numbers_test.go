package matchers_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/onsi/gomega"

	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/matchers"
	"github.com/benchgate/benchgate/scenario"
)

// Outside a Ginkgo spec (plain go test with Gomega) the matchers record
// nothing and do not fail for it.
func TestNumbersOutsideGinkgo(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	r, err := loadtest.New(loadtest.Runs(scenario.Run("r", scenario.Get("/")).Repeat(3)), loadtest.BaseURL(srv.URL)).Execute(context.Background())
	g := gomega.NewWithT(t)
	g.Expect(err).NotTo(gomega.HaveOccurred())
	g.Expect(r).To(matchers.HaveNoFailures())
	g.Expect(r.Run("r")).To(matchers.HavePercentileBelow(99, 1e12))
	g.Expect(r.Numbers()).To(gomega.MatchRegexp(`^run "r": 3 requests, 3 good, 0 failed; p50 `))
}
