package parallel_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/benchgate/benchgate/demoapp"
	"github.com/benchgate/benchgate/engine"
	"github.com/benchgate/benchgate/loadtest"
	. "github.com/benchgate/benchgate/matchers"
	"github.com/benchgate/benchgate/scenario"
)

func TestParallel(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "parallel load")
}

// AppURLEnv names the application under test; without it process 1
// starts the demo shop on loopback, which every process reaches.
const AppURLEnv = "BENCHGATE_APP_URL"

// MergedEnv names a file the merged report is written to.
const MergedEnv = "BENCHGATE_PARALLEL_MERGED"

// lead is how far ahead of now process 1 puts T0: the other processes
// are already waiting for its data, so it only covers the hand-over.
const lead = time.Second

// shared is what process 1 hands every process.
type shared struct {
	URL string    `json:"url"`
	T0  time.Time `json:"t0"`
	Dir string    `json:"dir"`
}

var run shared

// The plan: 6 VUs walk the shop 10 times (120 requests), the same
// plan in every process; each process sends its shard of it.
func plan(opts ...loadtest.Option) *loadtest.Plan {
	browse := scenario.Run("browse",
		scenario.Get("/").Named("home"),
		scenario.Get("/api/items").Named("items"),
	)
	return loadtest.New(append([]loadtest.Option{loadtest.Runs(browse), loadtest.BaseURL(run.URL),
		loadtest.VirtualUsers(engine.VUs{Max: 6, Rounds: 10}), loadtest.Seed(20), loadtest.TimeLimit(time.Minute)}, opts...)...)
}

var _ = SynchronizedBeforeSuite(func() []byte {
	// process 1 alone
	s := shared{URL: os.Getenv(AppURLEnv), T0: time.Now().Add(lead)}
	if s.URL == "" {
		srv := httptest.NewServer(demoapp.New())
		DeferCleanup(srv.Close) // after SynchronizedAfterSuite: every process is done with it
		s.URL = srv.URL
	}
	dir, err := os.MkdirTemp("", "benchgate-parallel-")
	Expect(err).NotTo(HaveOccurred())
	s.Dir = dir
	b, err := json.Marshal(s)
	Expect(err).NotTo(HaveOccurred())
	return b
}, func(ctx context.Context, b []byte) {
	// every process: its shard of the plan, from T0
	Expect(json.Unmarshal(b, &run)).To(Succeed())
	suite, _ := GinkgoConfiguration()
	k, n := GinkgoParallelProcess()-1, suite.ParallelTotal
	report, err := plan(loadtest.Shard(k, n), loadtest.StartAt(run.T0, loadtest.DefaultReady)).Execute(ctx)
	Expect(err).NotTo(HaveOccurred())
	f, err := os.Create(filepath.Join(run.Dir, fmt.Sprintf("shard-%d.json", k)))
	Expect(err).NotTo(HaveOccurred())
	defer f.Close()
	Expect(report.WriteJSON(f)).To(Succeed())
}, NodeTimeout(2*time.Minute))

var _ = It("serves the home page (an ordinary spec, on whichever process)", func(ctx context.Context) {
	report, err := loadtest.New(loadtest.Runs(scenario.Run("home", scenario.Get("/"))), loadtest.BaseURL(run.URL)).Execute(ctx)
	Expect(err).NotTo(HaveOccurred())
	Expect(report).To(HaveNoFailures())
})

var _ = SynchronizedAfterSuite(func() {}, func() {
	// process 1, once every process is done: merge and gate
	suite, _ := GinkgoConfiguration()
	DeferCleanup(os.RemoveAll, run.Dir)
	var shards []*loadtest.Report
	var names []string
	for k := range suite.ParallelTotal {
		path := filepath.Join(run.Dir, fmt.Sprintf("shard-%d.json", k))
		f, err := os.Open(path)
		Expect(err).NotTo(HaveOccurred(), "shard %d/%d left no report", k, suite.ParallelTotal)
		r, err := loadtest.ReadJSON(f)
		f.Close()
		Expect(err).NotTo(HaveOccurred())
		shards, names = append(shards, r), append(names, path)
	}
	merged, err := loadtest.MergeWith(loadtest.MergeOptions{Names: names}, shards...)
	Expect(err).NotTo(HaveOccurred())
	if out := os.Getenv(MergedEnv); out != "" {
		f, err := os.Create(out)
		Expect(err).NotTo(HaveOccurred())
		Expect(merged.WriteJSON(f)).To(Succeed())
		Expect(f.Close()).To(Succeed())
	}
	RecordReport("merged", merged)
	Expect(merged.RequestsSent).To(BeEquivalentTo(120), "the shards together send the whole plan")
	Expect(merged).To(HaveNoFailures())
	Expect(merged.Run("browse").Step(1)).To(HavePercentileBelow(99, 2*time.Second))
})
