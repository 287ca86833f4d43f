package shop_test

import (
	"net/http/httptest"
	"os"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/benchgate/benchgate/demoapp"
)

func TestShop(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "shop")
}

// AppURLEnv names the application under test; without it the suite
// starts the demo shop on loopback.
const AppURLEnv = "BENCHGATE_APP_URL"

// baseURL is the address of the application under test, for every spec.
var baseURL string

var _ = BeforeSuite(func() {
	if u := os.Getenv(AppURLEnv); u != "" {
		baseURL = u
		return
	}
	srv := httptest.NewServer(demoapp.New()) // your application's handler
	DeferCleanup(srv.Close)
	baseURL = srv.URL
})
