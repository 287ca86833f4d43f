package example_suite_test

import (
	"net/http/httptest"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/benchgate/benchgate/demoapp"
)

func TestExampleSuite(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "benchgate example suite")
}

// baseURL is the demo application's address for every spec.
var baseURL string

var _ = BeforeSuite(func() {
	srv := httptest.NewServer(demoapp.New())
	DeferCleanup(srv.Close)
	baseURL = srv.URL
})
