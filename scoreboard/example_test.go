package scoreboard_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
	"github.com/benchgate/benchgate/scoreboard"
)

// The parent creates a board of two slots; a shard (here in the same
// process, normally another one that opened the board with its path
// and run id) publishes its execution's counters into its slot; anyone
// reads them per shard and in total.
func Example() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	dir, _ := os.MkdirTemp("", "board")
	defer os.RemoveAll(dir)

	board, err := scoreboard.Create(filepath.Join(dir, "board"), 2)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer board.Remove()

	// shard 1, told the board's path and run id
	mine, err := scoreboard.Open(board.Path(), board.RunID())
	if err != nil {
		fmt.Println(err)
		return
	}
	slot, _ := mine.Slot(1)
	plan := loadtest.New(
		loadtest.Runs(scenario.Run("home", scenario.Get("/")).Repeat(20)),
		loadtest.BaseURL(srv.URL),
		loadtest.Scoreboard(slot),
	)
	if _, err := plan.Execute(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	mine.Close()

	for _, c := range board.Read() {
		fmt.Printf("shard %d: %v, %d started, %d succeeded\n", c.Shard, c.State, c.Started, c.Succeeded)
	}
	fmt.Println("total started:", board.Total().Started)
	// Output:
	// shard 0: idle, 0 started, 0 succeeded
	// shard 1: done, 20 started, 20 succeeded
	// total started: 20
}
