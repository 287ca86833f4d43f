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
	for i := 0; i < 2; i++ { // two users, each one request after the other
		runs = append(runs, scenario.Run(fmt.Sprintf("user %d", i), scenario.Get("/slow?ms=2"), scenario.Get("/")).
			Order(scenario.DepthFirst).Repeat(1_000_000))
	}
	report, err := loadtest.New(loadtest.Runs(runs...), loadtest.BaseURL(url), loadtest.Concurrency(2),
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

	// 25%: the test runs beside other packages' tests, under -race too;
	// TestGateStudy measures the defaults on a quiet machine.
	// Blocks of 10: under -race a slowed page answers few requests.
	tolerant := loadtest.CompareOptions{MinEffect: 0.25, BlockResponses: 10, Percentiles: []float64{50}}
	same := loadtest.Compare(stored, gateRun(t, srv.URL, 1500*time.Millisecond), tolerant)
	if r := same.Regressions(); len(r) > 0 || len(same.Undecided()) > 0 {
		t.Errorf("an unchanged rerun:\n%s", same)
	}

	app.SlowDown("/slow", 1.0)
	slow := loadtest.Compare(stored, gateRun(t, srv.URL, 1500*time.Millisecond), tolerant)
	app.SlowDown("/slow", 0)
	regressed := map[string]bool{}
	for _, d := range slow.Regressions() {
		regressed[d.Step+" "+d.Metric] = true
	}
	// (the other page may slow down too: the injected delay spins a CPU
	// the generator and the other page share)
	if !regressed["GET /slow?ms=2 p50"] {
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

// TestSignedRank checks the exact Wilcoxon signed-rank tail against
// values worked by hand.
func TestSignedRank(t *testing.T) {
	// all 6 positive: W+ = 21, P = 1/64
	if p := loadtest.SignedRankGreaterForTest([]float64{1, 2, 3, 4, 5, 6}); p != 1.0/64 {
		t.Errorf("all positive: %v", p)
	}
	// one negative, the smallest: W+ = 20, P = 2/64
	if p := loadtest.SignedRankGreaterForTest([]float64{-1, 2, 3, 4, 5, 6}); p != 2.0/64 {
		t.Errorf("one small negative: %v", p)
	}
	// symmetric: P(W+ >= 10.5 of 21) about one half
	if p := loadtest.SignedRankGreaterForTest([]float64{-1, 1, -2, 2, -3, 3}); p < 0.4 || p > 0.7 {
		t.Errorf("symmetric: %v", p)
	}
}

// TestDuet: A against itself is the same; A against a candidate 50%
// slower on one endpoint regresses that step.
func TestDuet(t *testing.T) {
	appA, appB := demoapp.New(), demoapp.New()
	srvA, srvB := httptest.NewServer(appA), httptest.NewServer(appB)
	t.Cleanup(srvA.Close)
	t.Cleanup(srvB.Close)
	plan := func(url string) *loadtest.Plan {
		run := scenario.Run("shop", scenario.Get("/slow?ms=2"), scenario.Get("/")).Order(scenario.DepthFirst).Repeat(1_000_000)
		return loadtest.New(loadtest.Runs(run), loadtest.BaseURL(url), loadtest.KeepAlive(true))
	}
	opts := loadtest.DuetOptions{Rounds: 12, RoundTime: 100 * time.Millisecond}
	same, err := loadtest.Duet(context.Background(), plan, srvA.URL, srvB.URL, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(same.A) != 12 || len(same.B) != 12 || len(same.Comparison.Regressions()) > 0 || len(same.Comparison.Undecided()) > 0 {
		t.Errorf("A against A:\n%s", same.Comparison)
	}
	appB.SlowDown("/slow", 0.5)
	slow, err := loadtest.Duet(context.Background(), plan, srvA.URL, srvB.URL, opts)
	if err != nil {
		t.Fatal(err)
	}
	regressed := map[string]bool{}
	for _, d := range slow.Comparison.Regressions() {
		regressed[d.Step+" "+d.Metric] = true
	}
	if !regressed["GET /slow?ms=2 p50"] || regressed["GET / p50"] {
		t.Errorf("B 50%% slower on /slow:\n%s", slow.Comparison)
	}
}

// TestCompareStepsOfOneName: two steps with one name are compared each
// with its own counterpart, not both with the first.
func TestCompareStepsOfOneName(t *testing.T) {
	app := demoapp.New()
	srv := httptest.NewServer(app)
	t.Cleanup(srv.Close)
	measure := func() *loadtest.Report {
		run := scenario.Run("twice", scenario.Get("/work?us=300").Named("page"), scenario.Get("/work?us=3000").Named("page")).
			Order(scenario.DepthFirst).Repeat(1_000_000)
		r, err := loadtest.New(loadtest.Runs(run), loadtest.BaseURL(srv.URL), loadtest.KeepAlive(true), loadtest.TimeLimit(1500*time.Millisecond)).
			Execute(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	base, cur := measure(), measure()
	c := loadtest.Compare(base, cur, loadtest.CompareOptions{MinEffect: 0.25, BlockResponses: 10})
	for _, d := range c.Deltas {
		if d.Metric == "p50" && (d.Old > 0 && (d.New/d.Old > 3 || d.Old/d.New > 3)) {
			t.Errorf("compared a 300 µs step with a 3 ms one:\n%s", c)
		}
	}
}
