package shop_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/benchgate/benchgate/demoapp"
	"github.com/benchgate/benchgate/engine"
	"github.com/benchgate/benchgate/loadtest"
	. "github.com/benchgate/benchgate/matchers"
	"github.com/benchgate/benchgate/scenario"
)

// More virtual users: feeders from a CSV file, redirect chains, an
// iterator that answers a 401, a DNS override, and the open model (an
// arrival rate).
var _ = Describe("virtual users, continued", func() {
	It("logs each VU in with its own row of a CSV file and follows the redirect to the account", func(ctx context.Context) {
		csv := filepath.Join(GinkgoT().TempDir(), "users.csv")
		Expect(os.WriteFile(csv, []byte("user,password\nann,secret\nbob,secret\ncat,secret\n"), 0o600)).To(Succeed())
		login := scenario.Run("login",
			scenario.Get("/login"),
			// the form answers 303 See Other; followed, the account page is the step's answer
			scenario.Submit(scenario.FormFrom("form#login").Set("user", "{{user}}").Set("password", "{{password}}")).
				FollowRedirects(3).ExpectCSS("#userName", "{{user}}"),
		).Feed(scenario.FeedCSV(csv).Unique().OnEnd(scenario.Fail))

		report, err := loadtest.New(loadtest.Runs(login), loadtest.BaseURL(baseURL), loadtest.KeepAlive(true),
			loadtest.VirtualUsers(engine.VUs{Max: 3})).Execute(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(report).To(HaveNoFailures())
		submit := report.Run("login").Step(1)
		Expect(submit.Followed).To(Equal(int64(3)), "one redirect per VU, recorded apart")
		Expect(submit).To(HaveStatusCounts(map[int]int64{200: 3}))
	}, SpecTimeout(30*time.Second))

	It("retries a 401 with credentials", func(ctx context.Context) {
		api := scenario.Run("api", scenario.Get("/api/orders").ExpectJSON("user", "vu{{iteration}}"))
		auth := func(vu, round int, _ *rand.Rand) engine.StepIterator {
			return func(prev *engine.Result) (engine.NextStep, bool) {
				switch {
				case prev == nil:
					return engine.NextStep{Step: 0}, true // no credentials: the server challenges
				case prev.Status == http.StatusUnauthorized:
					token := base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "vu%d:%s", vu, demoapp.Password))
					return engine.NextStep{Step: 0, Header: http.Header{"Authorization": {"Basic " + token}}}, true
				}
				return engine.NextStep{}, false
			}
		}
		report, err := loadtest.New(loadtest.Runs(api), loadtest.BaseURL(baseURL), loadtest.KeepAlive(true),
			loadtest.VirtualUsers(engine.VUs{Max: 4, Iterate: auth})).Execute(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(report).To(HaveNoFailures())
		Expect(report.Run("api").Step(0).Retried).To(Equal(int64(4)), "each 401 is recorded as retried, not failed")
	}, SpecTimeout(30*time.Second))

	It("sends a host name to a staging server on loopback, the Host header unchanged", func(ctx context.Context) {
		staging := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "staging answered for "+r.Host)
		}))
		DeferCleanup(staging.Close)
		_, port, _ := net.SplitHostPort(staging.Listener.Addr().String())
		run := scenario.Run("staging", scenario.Get("http://shop.staging.test:"+port+"/").
			ExpectBodyContains("staging answered for shop.staging.test:"+port))
		report, err := loadtest.New(loadtest.Runs(run), loadtest.Resolve("shop.staging.test", "127.0.0.1"),
			loadtest.VirtualUsers(engine.VUs{Max: 2, Rounds: 2})).Execute(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(report).To(HaveNoFailures())
	}, SpecTimeout(30*time.Second))

	It("holds an arrival rate, and measures from the schedule what a slow page makes wait", func(ctx context.Context) {
		browse := scenario.Run("browse", scenario.Get("/"), scenario.Get("/api/items"))
		report, err := loadtest.New(loadtest.Runs(browse), loadtest.BaseURL(baseURL), loadtest.KeepAlive(true),
			loadtest.ArrivalRate(engine.Arrivals{Rate: 100, Duration: time.Second, MaxVUs: 20})).Execute(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(report).To(HaveNoFailures(), "no iteration dropped either")
		Expect(report.Arrivals.Started).To(Equal(int64(100)))
		Expect(report.Run("browse").Step(0)).To(HaveLatency(loadtest.Corrected, Percentile(99), BeNumerically("<", 100*time.Millisecond)))
	}, SpecTimeout(30*time.Second))
})
