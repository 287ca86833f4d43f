package engine

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/benchgate/benchgate/scenario"
)

// warnRecorder counts results and keeps warnings and iterations begun.
type warnRecorder struct {
	RecorderBase
	sent  atomic.Int64
	mu    sync.Mutex
	warns []string
	begun map[int]int
}

func (r *warnRecorder) Record(_ int, _ *Result) { r.sent.Add(1) }
func (r *warnRecorder) Warn(run, step int, w string) {
	r.mu.Lock()
	r.warns = append(r.warns, w)
	r.mu.Unlock()
}
func (r *warnRecorder) IterationsBegun(run, n int) { r.begun[run] = n }

// TestVUsRoundsForeverBound: VUs walking until stopped whose run
// reaches its bound of iterations (ForeverIterations, here a Repeat of
// 5) end before the time limit: that is said in a warning, not left for
// a run that looks as if it had gone on until stopped.
func TestVUsRoundsForeverBound(t *testing.T) {
	bu, _ := url.Parse(fixedServer(t, []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")))
	spec, err := scenario.Run("r", scenario.Get("/a")).Resolve(0, scenario.Defaults{Repeat: 5, KeepLevel: 1, BufferBytes: 1024, BaseURL: bu.String()})
	if err != nil {
		t.Fatal(err)
	}
	for _, repeat := range []int{5, 1 << 20} {
		spec.Repeat, foreverBound = repeat, repeat
		t.Cleanup(func() { foreverBound = ForeverIterations })
		rec := &warnRecorder{begun: map[int]int{}}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		limit := 10 * time.Second
		if repeat > 5 {
			limit = 100 * time.Millisecond // stopped by the limit, not the bound
		}
		err := (VUs{Max: 2, Rounds: RoundsForever}).Execute(ctx, &Plan{Runs: []scenario.RunSpec{spec}, Concurrency: 2, KeepAlive: true, TimeLimit: limit}, rec)
		cancel()
		warned := strings.Contains(strings.Join(rec.warns, "\n"), "reached its bound of 5 iterations")
		switch {
		case repeat == 5 && (err != nil || rec.sent.Load() != 5 || rec.begun[0] != 5 || !warned):
			t.Errorf("bound: err %v, sent %d, begun %d, warnings %q", err, rec.sent.Load(), rec.begun[0], rec.warns)
		case repeat > 5 && len(rec.warns) != 0:
			t.Errorf("stopped by the time limit: warnings %q", rec.warns)
		}
	}
}
