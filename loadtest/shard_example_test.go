package loadtest_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"time"

	"github.com/benchgate/benchgate/engine"
	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

// One plan run as three shards (here one after the other; in practice
// in three processes, pods or CI jobs, each given its shard by
// loadtest.ShardEnv and the same T0): each sends its own virtual users
// (VU k in shard k mod 3) and their iterations, numbered as in the
// whole plan, so the feeder's rows stay unique across the shards.
func ExampleShard() {
	var mu sync.Mutex
	var users []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		users = append(users, r.URL.Query().Get("user"))
		mu.Unlock()
	}))
	defer srv.Close()
	rows := [][]string{{"ann"}, {"bob"}, {"cy"}, {"dee"}, {"eve"}, {"fay"}, {"gus"}}
	for k := range 3 {
		users = nil
		run := scenario.Run("login", scenario.Get(srv.URL+"/login?user={{user}}&it={{iteration}}")).
			Feed(scenario.FeedRows([]string{"user"}, rows).Unique().OnEnd(scenario.Fail))
		plan := loadtest.New(loadtest.Runs(run), loadtest.VirtualUsers(engine.VUs{Max: 7}),
			loadtest.Shard(k, 3), loadtest.Seed(42),
			// the same T0 for every shard when they run at once; here
			// each begins 100 ms after it is set up
			loadtest.StartAt(time.Now().Add(100*time.Millisecond), 10*time.Millisecond))
		report, err := plan.Execute(context.Background())
		if err != nil {
			fmt.Println(err)
			return
		}
		slices.Sort(users)
		fmt.Printf("shard %d/3: %d requests, users %v\n", k, report.RequestsSent, users)
	}
	// Output:
	// shard 0/3: 3 requests, users [ann dee gus]
	// shard 1/3: 2 requests, users [bob eve]
	// shard 2/3: 2 requests, users [cy fay]
}
