package loadtest_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/benchgate/benchgate/demoapp"
	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

// heapAfter runs f, then returns the heap it left reachable (GC'd) and
// the highest heap seen while it ran (sampled every 5 ms).
func heapAfter(f func() any) (retained, peak uint64) {
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peakSeen atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var s runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
				runtime.ReadMemStats(&s)
				if s.HeapAlloc > peakSeen.Load() {
					peakSeen.Store(s.HeapAlloc)
				}
			}
		}
	}()
	keep := f()
	close(stop)
	<-done
	runtime.GC()
	runtime.ReadMemStats(&ms)
	runtime.KeepAlive(keep)
	if ms.HeapAlloc > base {
		retained = ms.HeapAlloc - base
	}
	if p := peakSeen.Load(); p > base {
		peak = p - base
	}
	return retained, peak
}

// TestMemoryFollowsWhatWasSent: a huge repeat count with a short time
// limit costs memory for the requests that went out, not for the ones
// configured (20 million 144-byte records used to be 2.9 GB).
func TestMemoryFollowsWhatWasSent(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	t.Cleanup(srv.Close)
	var report *loadtest.Report
	retained, _ := heapAfter(func() any {
		run := scenario.Run("huge", scenario.Get(srv.URL+"/a"), scenario.Get(srv.URL+"/b")).Repeat(20_000_000)
		var err error
		report, err = loadtest.New(loadtest.Runs(run), loadtest.Concurrency(4), loadtest.KeepAlive(true),
			loadtest.TimeLimit(300*time.Millisecond)).Execute(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return report
	})
	perSent := float64(retained) / float64(max(report.RequestsSent, 1))
	t.Logf("%d of %d requests sent; %d KB retained (%.0f B per request sent)", report.RequestsSent, report.RequestsConfigured, retained>>10, perSent)
	if retained > 32<<20+uint64(report.RequestsSent)*64 {
		t.Errorf("retained %d MB for %d requests sent", retained>>20, report.RequestsSent)
	}
}

// TestMemoryOfManyRuns: 2000 runs of one request each cost what they
// hold, not 2000 preallocated histograms (1.8 GB before).
func TestMemoryOfManyRuns(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	t.Cleanup(srv.Close)
	retained, peak := heapAfter(func() any {
		var runs []*scenario.RunDef
		for i := 0; i < 2000; i++ {
			runs = append(runs, scenario.Run("", scenario.Get(srv.URL)))
		}
		report, err := loadtest.New(loadtest.Runs(runs...), loadtest.Concurrency(8)).Execute(context.Background())
		if err != nil || report.GoodResponses != 2000 {
			t.Fatalf("good %d, %v", report.GoodResponses, err)
		}
		return report
	})
	t.Logf("2000 runs: %d KB retained, %d KB peak", retained>>10, peak>>10)
	if retained > 64<<20 {
		t.Errorf("2000 runs retain %d MB", retained>>20)
	}
}

// TestMemoryOfBreadthFirstLogins: 5000 breadth-first iterations of the
// demo's login flow hold each page only until the next step is built,
// without its parsed HTML.
func TestMemoryOfBreadthFirstLogins(t *testing.T) {
	app := httptest.NewServer(demoapp.New())
	t.Cleanup(app.Close)
	const iterations = 5000
	_, peak := heapAfter(func() any {
		checkout := scenario.Run("checkout",
			scenario.Get("/login").ExpectStatus(200),
			scenario.Submit(scenario.FormFrom("form#login").Set("user", "alice").Set("password", demoapp.Password)),
			scenario.Get("/account").Extract("item", scenario.CSS("a.item").Attr("data-id")),
			scenario.PostForm("/cart", scenario.Field("item", "{{item}}")).ExpectStatus(200),
		).Repeat(iterations)
		report, err := loadtest.New(loadtest.Runs(checkout), loadtest.BaseURL(app.URL), loadtest.Concurrency(8),
			loadtest.KeepAlive(true)).Execute(context.Background())
		if err != nil || report.ResponsesFailed != 0 || report.RequestsNotSent != 0 {
			t.Fatalf("failed %d, not sent %d, %v", report.ResponsesFailed, report.RequestsNotSent, err)
		}
		return report
	})
	t.Logf("%d breadth-first login iterations: peak heap %d MB (%.1f KB per iteration)", iterations, peak>>20, float64(peak)/1024/iterations)
	if peak > iterations*16<<10 {
		t.Errorf("peak heap %d MB for %d iterations", peak>>20, iterations)
	}
}
