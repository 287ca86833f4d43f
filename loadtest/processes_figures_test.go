package loadtest_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/benchgate/benchgate/engine"
	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

// TestProcessesFigures prints what 4 shard processes achieve at a
// total arrival rate of 400/s for 5 s, against a single process running
// the same plan right after (BENCHGATE_PROCESSES_FIGURES=1 go test
// -run TestProcessesFigures -v ./loadtest). It asserts nothing about
// speed.
func TestProcessesFigures(t *testing.T) {
	const env = "BENCHGATE_PROCESSES_FIGURES"
	if os.Getenv(env) == "" {
		t.Skip(env + " not set")
	}
	url := os.Getenv("BENCHGATE_TEST_FIGURES_URL")
	if url == "" || os.Getenv(loadtest.EnvProcessPlan) == "" {
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
		defer ts.Close()
		url = ts.URL
		t.Setenv("BENCHGATE_TEST_FIGURES_URL", url)
	}
	const rate, dur = 400, 5 * time.Second
	plan := func(opts ...loadtest.Option) *loadtest.Plan {
		a := engine.Arrivals{Rate: rate, Duration: dur, MaxVUs: 64}
		return loadtest.New(append([]loadtest.Option{loadtest.Runs(scenario.Run("r", scenario.Get(url+"/"))), loadtest.ArrivalRate(a),
			loadtest.Seed(9), loadtest.TimeLimit(time.Minute)}, opts...)...)
	}
	merged, err := plan(loadtest.Processes(4), loadtest.ProcessTest(t)).Execute(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	single, err := plan().Execute(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	show := func(name string, r *loadtest.Report) {
		s := r.Runs[0].Steps[0]
		t.Logf("%s: %d of %d arrivals started (%d dropped), rate %.1f/s (R %d/s: %+.2f%%), p50 %v p99 %v, corrected p99 %v, lag p99 %v",
			name, r.Arrivals.Started, r.Arrivals.Planned, r.Arrivals.Dropped, r.Arrivals.Rate, rate, 100*(r.Arrivals.Rate-rate)/rate,
			s.Latency.Percentile(50), s.Latency.Percentile(99), s.Corrected.Percentile(99), r.Arrivals.Lag.Percentile(99))
	}
	show("4 processes", merged)
	for _, m := range merged.Shards {
		t.Logf("  shard %v pid %d: skew %v", &m, m.PID, m.Skew)
	}
	show("1 process  ", single)
}
