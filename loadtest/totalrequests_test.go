package loadtest_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/benchgate/benchgate/engine"
	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

// TestTotalRequestsIsConfigured: TotalRequests is the number of requests
// Execute configures (Report.RequestsConfigured) whatever decides the
// iterations: a run's Repeat, the plan's, VUs times Rounds, an arrival
// rate's schedule, a shard's share; a plan that does not validate still
// counts steps times repeat.
func TestTotalRequestsIsConfigured(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(srv.Close)
	runs := func() loadtest.Option {
		return loadtest.Runs(scenario.Run("a", scenario.Get("/1"), scenario.Get("/2")),
			scenario.Run("b", scenario.Get("/3")).Repeat(2))
	}
	for _, tc := range []struct {
		name string
		opts []loadtest.Option
		want int
	}{
		{"slots", []loadtest.Option{loadtest.Repeat(3)}, 2*3 + 1*2},
		{"VUs", []loadtest.Option{loadtest.VirtualUsers(engine.VUs{Max: 4, Rounds: 2})}, 2*2*2 + 1*2*2},
		{"arrivals", []loadtest.Option{loadtest.ArrivalRate(engine.Arrivals{Rate: 200, Duration: 25 * time.Millisecond, MaxVUs: 4})}, 2*3 + 1*2},
		{"shard", []loadtest.Option{loadtest.Repeat(3), loadtest.Seed(1), loadtest.Concurrency(2), loadtest.Shard(1, 2)}, 2*1 + 1*1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan := loadtest.New(append([]loadtest.Option{runs(), loadtest.BaseURL(srv.URL)}, tc.opts...)...)
			if got := plan.TotalRequests(); got != tc.want {
				t.Errorf("TotalRequests() = %d, want %d", got, tc.want)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			report, err := plan.Execute(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if report.RequestsConfigured != int64(plan.TotalRequests()) {
				t.Errorf("report configures %d requests, TotalRequests() %d", report.RequestsConfigured, plan.TotalRequests())
			}
		})
	}
	bad := loadtest.New(runs(), loadtest.Repeat(3), loadtest.Concurrency(0))
	if got := bad.TotalRequests(); got != 2*3+1*2 {
		t.Errorf("invalid plan: TotalRequests() = %d, want 8 (steps times repeat)", got)
	}
}
