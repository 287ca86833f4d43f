package loadtest_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/benchgate/benchgate/engine"
	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

// TestStartAt: the execution waits for T0 and sends nothing before it;
// the Report's manifest records T0, the start skew and the host's
// clock, and its times count from T0.
func TestStartAt(t *testing.T) {
	var mu sync.Mutex
	var first time.Time
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if first.IsZero() {
			first = time.Now()
		}
		mu.Unlock()
	}))
	defer ts.Close()
	t0 := time.Now().Add(200 * time.Millisecond)
	report, err := loadtest.New(loadtest.Runs(scenario.Run("r", scenario.Get(ts.URL+"/"))), loadtest.Repeat(3), loadtest.StartAt(t0, 50*time.Millisecond)).Execute(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if first.Before(t0) {
		t.Errorf("the server received a request at %v, before T0 %v", first, t0)
	}
	m := report.Shard
	if m == nil || !m.T0.Equal(t0) || m.Skew < 0 || m.Clock == "" || report.RequestsSent != 3 || !report.Started.Equal(t0) {
		t.Fatalf("report: manifest %+v (want T0 %v), started %v, sent %d", m, t0, report.Started, report.RequestsSent)
	}
	if want := report.Timeline; len(want) == 0 {
		t.Errorf("no timeline")
	}
}

// TestStartAtNotReady: a plan not ready by T0 − ready sends nothing and
// says why, naming T0, when it was ready and the deadline.
func TestStartAtNotReady(t *testing.T) {
	var sent int
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { sent++ }))
	defer ts.Close()
	t0 := time.Now().Add(time.Second)
	report, err := loadtest.New(loadtest.Runs(scenario.Run("r", scenario.Get(ts.URL+"/"))), loadtest.StartAt(t0, time.Minute)).Execute(context.Background())
	if err == nil || !strings.Contains(err.Error(), "T0 "+t0.Format(time.RFC3339Nano)) || !strings.Contains(err.Error(), "ready at") ||
		!strings.Contains(err.Error(), "deadline was "+t0.Add(-time.Minute).Format(time.RFC3339Nano)) {
		t.Errorf("error %v, want it to name T0, when it was ready and the deadline", err)
	}
	if sent != 0 || report.RequestsSent != 0 {
		t.Errorf("%d requests sent", sent)
	}
	_, err = loadtest.New(loadtest.Runs(scenario.Run("r", scenario.Get(ts.URL+"/"))), loadtest.StartAt(time.Time{}, 0)).Execute(context.Background())
	if err == nil || !strings.Contains(err.Error(), "StartAt") {
		t.Errorf("zero T0: error %v, want StartAt named", err)
	}
}

// TestStartSkewIsLateness: the manifest's Skew is how late the shard's
// schedule began after T0, not when its first request was due: shard
// 3 of 4 of an arrival rate of 2/s has its first arrival (arrival 3)
// due 1.5 s after T0, and a shard that began on time has a skew far
// below that (it was the first arrival's time, 1.5 s, before).
func TestStartSkewIsLateness(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer ts.Close()
	t0 := time.Now().Add(100 * time.Millisecond)
	a := engine.Arrivals{Rate: 2, Duration: 2 * time.Second, MaxVUs: 4}
	report, err := loadtest.New(loadtest.Runs(scenario.Run("r", scenario.Get(ts.URL+"/"))), loadtest.ArrivalRate(a),
		loadtest.Shard(3, 4), loadtest.Seed(1), loadtest.StartAt(t0, 0)).Execute(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if report.RequestsSent != 1 {
		t.Fatalf("shard 3/4 of 4 arrivals sent %d requests, want 1", report.RequestsSent)
	}
	if m := report.Shard; m == nil || m.Skew < 0 || m.Skew >= time.Second {
		t.Errorf("manifest %+v: want a skew from 0 to well below the first arrival's place on the schedule (1.5 s)", m)
	}
}
