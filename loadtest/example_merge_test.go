package loadtest_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"time"

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
			loadtest.Concurrency(2),  // a connection for each shard
			loadtest.Shard(shard, 2), // this process's part
		)
	}
	// the shards of one execution start together, at one T0 (each
	// would be given it in BENCHGATE_T0); here they run side by side
	t0 := time.Now().Add(200 * time.Millisecond)
	shards := make([]*loadtest.Report, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for k := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			shards[k], errs[k] = plan(k).Apply(loadtest.StartAt(t0, 0)).Execute(context.Background())
		}()
	}
	wg.Wait()
	var good int64
	for k, r := range shards {
		if errs[k] != nil {
			fmt.Println(errs[k])
			return
		}
		// each shard would write its report: r.WriteJSON(file)
		fmt.Printf("shard %s, plan hash the first shard's: %v\n", r.Shard, r.Shard.PlanHash == shards[0].Shard.PlanHash)
		good += r.GoodResponses
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
	// shard 0/2, plan hash the first shard's: true
	// shard 1/2, plan hash the first shard's: true
	// merged: 2 shards; good responses the shards' sum: true; one latency each: true
	// merge: not a valid benchgate report: 1 of 2 shards missing: 1/2
}

// ExampleMerger merges the shards' report files one at a time, as
// benchgate merge does: each report is read, added and dropped, so one
// report is in memory at a time beside the merge's sums. The files may
// come in any order; the merged report is the same.
func ExampleMerger() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()
	dir, err := os.MkdirTemp("", "shards-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	// two shards of one plan from one T0, each writing its report (on
	// hosts of their own, ShardEnv and BENCHGATE_OUT do this)
	t0 := time.Now().Add(200 * time.Millisecond)
	var wg sync.WaitGroup
	for k := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := loadtest.New(loadtest.Runs(scenario.Run("home", scenario.Get(srv.URL)).Repeat(10)), loadtest.Seed(7),
				loadtest.Concurrency(2), loadtest.Shard(k, 2), loadtest.StartAt(t0, 0)).Execute(context.Background())
			if err == nil {
				f, _ := os.Create(filepath.Join(dir, fmt.Sprintf("shard-%d.json", k)))
				err = r.WriteJSON(f)
				f.Close()
			}
			if err != nil {
				fmt.Println(err)
			}
		}()
	}
	wg.Wait()

	paths, _ := filepath.Glob(filepath.Join(dir, "shard-*.json"))
	m := loadtest.NewMerger(loadtest.MergeOptions{})
	for _, path := range paths {
		f, err := os.Open(path)
		if err != nil {
			fmt.Println(err)
			return
		}
		r, err := loadtest.ReadJSON(f)
		f.Close()
		if err == nil {
			err = m.AddNamed(path, r) // refused: names the file and why
		}
		if err != nil {
			fmt.Println(path, err)
			return
		}
	}
	whole, err := m.Report() // refused if a shard is missing
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(whole.Shards), "shards,", whole.RequestsSent, "requests sent")
	// Output:
	// 2 shards, 10 requests sent
}
