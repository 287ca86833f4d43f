//go:build linux

package engine

import (
	"context"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/benchgate/benchgate/scenario"
)

type countRecorder struct {
	RecorderBase
	good, failed atomic.Int64
}

func (c *countRecorder) Record(_ int, r *Result) {
	if r.Failed {
		c.failed.Add(1)
	} else {
		c.good.Add(1)
	}
}

func TestEventLoopServesStaticHTTPPlans(t *testing.T) {
	if raceEnabled {
		t.Skip("the event loop is off under the race detector")
	}
	base := fixedServer(t, []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
	bu, _ := url.Parse(base)
	run := scenario.Run("r", scenario.Get("/a"), scenario.Get("/b")).Repeat(50)
	spec, err := run.Resolve(0, scenario.Defaults{Repeat: 1, KeepLevel: 1, BufferBytes: 1024, BaseURL: bu.String()})
	if err != nil {
		t.Fatal(err)
	}
	for _, ka := range []bool{true, false} {
		before := eventLoopRuns.Load()
		rec := &countRecorder{}
		plan := &Plan{Runs: []scenario.RunSpec{spec}, Concurrency: 4, KeepAlive: ka}
		if err := (Slots{}).Execute(context.Background(), plan, rec); err != nil {
			t.Fatal(err)
		}
		if eventLoopRuns.Load() != before+1 || rec.good.Load() != 100 || rec.failed.Load() != 0 {
			t.Errorf("keepalive=%v: event loop ran %d times, good %d failed %d", ka, eventLoopRuns.Load()-before, rec.good.Load(), rec.failed.Load())
		}
	}
	// A body func is user code: the goroutine driver runs it.
	run = scenario.Run("r", scenario.PostIfBody("/a").BodyFunc(func(*scenario.Response, scenario.Vars) (string, bool) { return "", false }))
	spec, _ = run.Resolve(0, scenario.Defaults{Repeat: 1, KeepLevel: 1, BufferBytes: 1024, BaseURL: bu.String()})
	before := eventLoopRuns.Load()
	rec := &countRecorder{}
	if err := (Slots{}).Execute(context.Background(), &Plan{Runs: []scenario.RunSpec{spec}, Concurrency: 1}, rec); err != nil || rec.good.Load() != 1 {
		t.Fatalf("err %v good %d", err, rec.good.Load())
	}
	if eventLoopRuns.Load() != before {
		t.Error("the event loop ran a plan with user code")
	}
}
