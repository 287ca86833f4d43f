package loadtest_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

// ExampleMerge runs one plan as two shards (in a CI matrix, a
// Kubernetes Indexed Job or Ginkgo's parallel processes each would run
// on its own) and adds their reports up into the report of the whole
// plan, which the matchers and the comparisons take like any other.
func ExampleMerge() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()

	plan := func(shard int) *loadtest.Plan {
		return loadtest.New(
			loadtest.Runs(scenario.Run("home", scenario.Get("/")).Repeat(10)),
			loadtest.BaseURL(srv.URL),
			loadtest.Seed(7),         // the same in every shard
			loadtest.Shard(shard, 2), // this process's part
		)
	}
	var shards []*loadtest.Report
	var good int64
	for k := range 2 {
		r, err := plan(k).Execute(context.Background())
		if err != nil {
			fmt.Println(err)
			return
		}
		// each shard would write its report: r.WriteJSON(file)
		fmt.Printf("shard %s, plan hash the first shard's: %v\n", r.Shard, r.Shard.PlanHash == append(shards, r)[0].Shard.PlanHash)
		good += r.GoodResponses
		shards = append(shards, r)
	}
	whole, err := loadtest.Merge(shards...)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("merged: %d shards; good responses the shards' sum: %v; one latency each: %v\n",
		len(whole.Shards), whole.GoodResponses == good, whole.Latency.Count() == good)

	// a shard missing is named
	_, err = loadtest.Merge(shards[0])
	fmt.Println(err)
	// Output:
	// shard 1/2, plan hash the first shard's: true
	// shard 2/2, plan hash the first shard's: true
	// merged: 2 shards; good responses the shards' sum: true; one latency each: true
	// merge: not a valid benchgate report: 1 of 2 shards missing: 2/2
}
