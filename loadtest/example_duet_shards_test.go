package loadtest_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

// ExampleMergeDuets runs a duet as two shards (in a CI matrix, a
// Kubernetes Indexed Job or Ginkgo's parallel processes each would run
// on its own host, given the same T0 in BENCHGATE_T0) and merges the
// shards' duets into the duet of the whole plan, judged as one process
// would have judged it. Each shard needs the same T0, Seed, RoundTime
// and MaxPairs (or Budget); it runs every planned pair on the schedule
// and gives no verdict of its own.
func ExampleMergeDuets() {
	serve := func(d time.Duration) *httptest.Server {
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { time.Sleep(d) }))
	}
	baseline, candidate := serve(time.Millisecond), serve(5*time.Millisecond) // the candidate is 4 ms slower
	defer baseline.Close()
	defer candidate.Close()

	t0 := time.Now().Add(500 * time.Millisecond)                                                                   // BENCHGATE_T0: the same for every shard
	opts := loadtest.DuetOptions{RoundTime: 100 * time.Millisecond, MaxPairs: 4, RoundGap: 600 * time.Millisecond, // gaps for a busy machine
		Compare: loadtest.CompareOptions{Percentiles: []float64{50}, Alpha: 0.4, GatedSpecs: 1}}
	shards := make([]*loadtest.DuetReport, 2)
	var wg sync.WaitGroup
	for k := range 2 {
		wg.Add(1)
		go func() { // each on its own host in a real run, with loadtest.ShardEnv()
			defer wg.Done()
			plan := func(url string) *loadtest.Plan {
				return loadtest.New(loadtest.Runs(scenario.Run("home", scenario.Get("/")).Repeat(10)), loadtest.BaseURL(url),
					loadtest.Seed(7), loadtest.Concurrency(2), loadtest.Shard(k, 2), loadtest.StartAt(t0, 100*time.Millisecond))
			}
			d, err := loadtest.Duet(context.Background(), plan, baseline.URL, candidate.URL, opts)
			if err != nil {
				fmt.Println(err)
				return
			}
			shards[k] = d // each would write its duet: d.WriteJSON(file)
		}()
	}
	wg.Wait()
	for _, d := range shards {
		if d == nil {
			return
		}
		fmt.Printf("%d pairs, judged alone: %v\n", len(d.A), d.NoVerdict() == "")
	}
	// loadtest.ReadDuetJSON reads the files back; benchgate merge merges them too
	whole, err := loadtest.MergeDuets(loadtest.MergeOptions{}, shards...)
	if err != nil {
		fmt.Println(err)
		return
	}
	p50 := whole.Comparison.Deltas[0] // matchers.HaveNoRegressions judges whole
	fmt.Printf("merged: %d pairs, judged at %d; the candidate's p50 higher: %v\n", len(whole.A), whole.Comparison.Pairs, p50.NewMedian > p50.Old)
	// Output:
	// 4 pairs, judged alone: false
	// 4 pairs, judged alone: false
	// merged: 4 pairs, judged at 4; the candidate's p50 higher: true
}
