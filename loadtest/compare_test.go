package loadtest_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/benchgate/benchgate/demoapp"
	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

// gateRun loads the demo's /slow?ms=2 and home page for d.
func gateRun(t *testing.T, url string, d time.Duration) *loadtest.Report {
	t.Helper()
	var runs []*scenario.Sequence
	for i := 0; i < 4; i++ { // four users, each one request after the other
		runs = append(runs, scenario.Run(fmt.Sprintf("user %d", i), scenario.Get("/slow?ms=2"), scenario.Get("/")).
			Order(scenario.DepthFirst).Repeat(1_000_000))
	}
	report, err := loadtest.New(loadtest.Runs(runs...), loadtest.BaseURL(url), loadtest.Concurrency(4),
		loadtest.KeepAlive(true), loadtest.TimeLimit(d)).Execute(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return report
}

// TestCompareVerdicts: an unchanged rerun is the same; a 50% slowdown of
// one endpoint regresses that step only; too short a run gives no
// verdict; a baseline round-trips through its file.
func TestCompareVerdicts(t *testing.T) {
	app := demoapp.New()
	srv := httptest.NewServer(app)
	t.Cleanup(srv.Close)

	base := gateRun(t, srv.URL, 1500*time.Millisecond)
	path := filepath.Join(t.TempDir(), "gate", "baseline.json")
	if err := loadtest.WriteBaseline(path, base); err != nil {
		t.Fatal(err)
	}
	stored, err := loadtest.ReadBaseline(path)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Runs[0].Requests != nil || len(stored.Runs[0].Steps[0].Windows) < 6 {
		t.Fatalf("baseline: requests kept %v, %d windows", stored.Runs[0].Requests != nil, len(stored.Runs[0].Steps[0].Windows))
	}

	same := loadtest.Compare(stored, gateRun(t, srv.URL, 1500*time.Millisecond), loadtest.CompareOptions{})
	if r := same.Regressions(); len(r) > 0 || len(same.Undecided()) > 0 {
		t.Errorf("an unchanged rerun:\n%s", same)
	}

	app.SlowDown("/slow", 0.5)
	slow := loadtest.Compare(stored, gateRun(t, srv.URL, 1500*time.Millisecond), loadtest.CompareOptions{})
	app.SlowDown("/slow", 0)
	regressed := map[string]bool{}
	for _, d := range slow.Regressions() {
		regressed[d.Step+" "+d.Metric] = true
	}
	if !regressed["GET /slow?ms=2 p50"] || regressed["GET / p50"] || regressed["GET / p95"] {
		t.Errorf("a 50%% slowdown of /slow:\n%s", slow)
	}

	short := loadtest.Compare(stored, gateRun(t, srv.URL, 200*time.Millisecond), loadtest.CompareOptions{})
	if len(short.Undecided()) == 0 {
		t.Errorf("a 200 ms run gave verdicts:\n%s", short)
	}

	if _, err := loadtest.ReadBaseline(filepath.Join(t.TempDir(), "none.json")); err == nil {
		t.Error("a missing baseline read without error")
	}
}
