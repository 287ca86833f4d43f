package loadtest_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
	"github.com/benchgate/benchgate/scoreboard"
)

// An execution given a scoreboard slot publishes its counters there:
// after it, the slot holds exactly the report's sent, good and failed
// requests and bytes read, is marked done with the writer's heartbeat,
// and the other slot is untouched.
func TestScoreboardSlotHoldsTheExecutionsCounts(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%3 == 0 {
			w.WriteHeader(500)
		}
		io.WriteString(w, "0123456789")
	}))
	defer srv.Close()
	b, err := scoreboard.Create(filepath.Join(t.TempDir(), "board"), 2)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Remove()
	slot, _ := b.Slot(1)
	run := scenario.Run("r", scenario.Get("/")).Repeat(30)
	report, err := loadtest.New(loadtest.Runs(run), loadtest.BaseURL(srv.URL), loadtest.Concurrency(3), loadtest.Scoreboard(slot)).Execute(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := b.Read()
	c := got[1]
	if c.Started != report.RequestsSent || c.Succeeded != report.GoodResponses || c.Failed != report.ResponsesFailed ||
		c.HeaderBytes+c.BodyBytes != report.BytesReceived || c.BytesSent != report.BytesSent || c.BytesSent == 0 || c.Started != 30 || c.Failed != 10 {
		t.Fatalf("slot %+v; report sent %d good %d failed %d bytes %d sent %d", c.LiveCounts, report.RequestsSent, report.GoodResponses, report.ResponsesFailed, report.BytesReceived, report.BytesSent)
	}
	if c.State != scoreboard.Done || c.Heartbeat.IsZero() || c.PID == 0 {
		t.Fatalf("slot after the execution: %v, heartbeat %v, pid %d", c.State, c.Heartbeat, c.PID)
	}
	if got[0] != (scoreboard.Counts{}) {
		t.Fatalf("the other slot was written: %+v", got[0])
	}
	if err := b.Close(); err != nil {
		t.Fatalf("close after the execution: %v", err)
	}
}

// A plan that is shard k of n must publish into slot k of a board of n;
// a nil slot is refused; both before any request is sent.
func TestScoreboardSlotMismatchRefused(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	b, err := scoreboard.Create(filepath.Join(t.TempDir(), "board"), 2)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Remove()
	slot, _ := b.Slot(1)
	run := scenario.Run("r", scenario.Get("/")).Repeat(3)
	for _, tc := range []struct {
		opts  []loadtest.Option
		words []string
	}{
		{[]loadtest.Option{loadtest.Shard(0, 2), loadtest.Scoreboard(slot)}, []string{"Scoreboard", "slot 1 of 2", "shard 0/2"}},
		{[]loadtest.Option{loadtest.Shard(1, 3), loadtest.Scoreboard(slot)}, []string{"Scoreboard", "slot 1 of 2", "1/3"}},
		{[]loadtest.Option{loadtest.Scoreboard(nil)}, []string{"Scoreboard", "nil"}},
	} {
		_, err := loadtest.New(append([]loadtest.Option{loadtest.Runs(run), loadtest.BaseURL(srv.URL)}, tc.opts...)...).Execute(context.Background())
		if err == nil {
			t.Fatalf("%v: no error", tc.words)
		}
		for _, w := range tc.words {
			if !strings.Contains(err.Error(), w) {
				t.Fatalf("error %q does not say %q", err, w)
			}
		}
	}
	if hits.Load() != 0 {
		t.Fatalf("%d requests sent by refused plans", hits.Load())
	}
	if c := b.Read()[1]; c.State != scoreboard.Idle {
		t.Fatalf("a refused plan published: %v", c.State)
	}
}
