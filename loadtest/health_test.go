package loadtest_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/matchers"
	"github.com/benchgate/benchgate/scenario"
)

// TestSaturatedGeneratorRefusesVerdicts saturates the process on purpose
// (goroutines that spin on every core) while a plan runs: the report says
// the generator was saturated, and latency matchers and the gate refuse
// a verdict instead of passing or failing.
func TestSaturatedGeneratorRefusesVerdicts(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	t.Cleanup(srv.Close)
	plan := func() *loadtest.Report {
		return execute(t, loadtest.Runs(scenario.Run("r", scenario.Get(srv.URL)).Repeat(1_000_000)),
			loadtest.Concurrency(4), loadtest.KeepAlive(true), loadtest.TimeLimit(700*time.Millisecond))
	}
	healthy := plan()
	t.Logf("healthy: %+v", *healthy.Generator)

	var stop atomic.Bool
	var wg sync.WaitGroup
	for i := 0; i < 4*runtime.GOMAXPROCS(0); i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x := 0
			for !stop.Load() {
				for j := 0; j < 1_000_000; j++ {
					x += j
				}
			}
			_ = x
		}()
	}
	saturated := plan()
	stop.Store(true)
	wg.Wait()
	t.Logf("saturated: %+v", *saturated.Generator)
	if !saturated.Generator.Saturated || !strings.Contains(saturated.Invalid(), "the load generator was saturated") {
		t.Fatalf("a saturated generator went unnoticed: %+v", *saturated.Generator)
	}
	for name, m := range map[string]interface {
		Match(any) (bool, error)
	}{
		"HavePercentileBelow": matchers.HavePercentileBelow(99, time.Hour),
		"HaveLatency":         matchers.HaveLatency(loadtest.Response, matchers.Mean(), time.Hour),
		"NotRegressFrom":      matchers.NotRegressFrom(healthy),
	} {
		_, err := m.Match(saturated)
		if err == nil || !strings.Contains(err.Error(), "measurement invalid: the load generator was saturated") {
			t.Errorf("%s gave a verdict on a saturated run: %v", name, err)
		}
	}
}
