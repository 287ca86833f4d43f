package loadtest_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/benchgate/benchgate/engine"
	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

// A program (or, with ProcessTest(t), a test) runs its plan as 4
// processes: the 4 copies of this executable, started with the same
// arguments, each send a quarter of the arrivals from one T0, and the
// parent gets the merged report. The copies end inside Execute: only
// the parent prints.
func ExampleProcesses() {
	checkout := scenario.Run("checkout", scenario.Get("http://127.0.0.1:8080/cart"), scenario.Post("http://127.0.0.1:8080/order", "{}"))
	plan := loadtest.New(loadtest.Runs(checkout), loadtest.Seed(1),
		loadtest.ArrivalRate(engine.Arrivals{Rate: 400, Duration: 30 * time.Second, MaxVUs: 200}),
		loadtest.Processes(4), loadtest.ProcessArgs(os.Args[1:]...))
	report, err := plan.Execute(context.Background())
	if err != nil {
		fmt.Println(err) // a shard that died is named here, and in report.Warnings
	}
	fmt.Println(report)
}
