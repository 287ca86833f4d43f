package loadtest_test

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/benchgate/benchgate/demoapp"
	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

// gateRun loads the demo's /slow?ms=2 and home page for d.
func gateRun(t *testing.T, url string, d time.Duration) *loadtest.Report {
	t.Helper()
	var runs []*scenario.RunDef
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

func gateRuns(t *testing.T, url string, n int, d time.Duration) []*loadtest.Report {
	var out []*loadtest.Report
	for range n {
		out = append(out, gateRun(t, url, d))
	}
	return out
}

// TestCompareVerdicts: executions of unchanged code do not regress; a
// slowdown of one endpoint by 2× regresses that step; one execution a
// side gives no "no regression"; a baseline of several executions
// round-trips through its file.
func TestCompareVerdicts(t *testing.T) {
	app := demoapp.New()
	srv := httptest.NewServer(app)
	t.Cleanup(srv.Close)

	path := filepath.Join(t.TempDir(), "gate", "baseline.json")
	// baseline and candidate executions of unchanged code alternate, so
	// the machine's drift during the test hits both alike
	var unchanged []*loadtest.Report
	for i := range 5 {
		r := gateRun(t, srv.URL, 300*time.Millisecond)
		unchanged = append(unchanged, gateRun(t, srv.URL, 300*time.Millisecond))
		b, err := loadtest.AppendBaseline(path, r, &loadtest.Machine{Calibration: 10 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if len(b.Executions) != i+1 {
			t.Fatalf("after %d appends the baseline holds %d executions", i+1, len(b.Executions))
		}
	}
	stored, err := loadtest.ReadBaseline(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(stored.Executions) != 5 || stored.Executions[0].Runs[0].Requests != nil || stored.Machines[4].Calibration != 10*time.Millisecond {
		t.Fatalf("baseline: %d executions, requests kept %v, machines %v", len(stored.Executions), stored.Executions[0].Runs[0].Requests != nil, stored.Machines)
	}

	// 25%: the test runs beside other packages' tests, under -race too
	tolerant := loadtest.CompareOptions{MinEffect: 0.25, Percentiles: []float64{50}}
	same := loadtest.CompareBaseline(stored, unchanged, nil, tolerant)
	if r := same.Regressions(); len(r) > 0 {
		t.Errorf("unchanged executions:\n%s", same)
	}

	app.SlowDown("/slow", 1.0)
	slow := loadtest.CompareBaseline(stored, gateRuns(t, srv.URL, 5, 300*time.Millisecond), nil, tolerant)
	app.SlowDown("/slow", 0)
	regressed := map[string]bool{}
	for _, d := range slow.Regressions() {
		regressed[d.Step+" "+d.Metric] = true
	}
	if !regressed["GET /slow?ms=2 p50"] {
		t.Errorf("a 2× slowdown of /slow:\n%s", slow)
	}

	one := loadtest.Compare(stored.Executions[0], gateRun(t, srv.URL, 200*time.Millisecond), loadtest.CompareOptions{})
	if len(one.Inconclusive()) == 0 || !strings.Contains(one.String(), `a baseline of 1 execution cannot show "no regression"`) {
		t.Errorf("one execution a side:\n%s", one)
	}
	for _, d := range one.Deltas {
		if d.Verdict == loadtest.NoRegression && d.Metric != "error rate" {
			t.Errorf("one execution a side said no regression: %+v", d)
		}
	}

	if _, err := loadtest.ReadBaseline(filepath.Join(t.TempDir(), "none.json")); err == nil {
		t.Error("a missing baseline read without error")
	}
}

// TestDuet: A against itself (one address on both sides) regresses
// nothing and uses every pair; A against a candidate 50% slower on one
// endpoint regresses that step; the order inside the pairs follows the
// plan's seed.
func TestDuet(t *testing.T) {
	appA, appB := demoapp.New(), demoapp.New()
	srvA, srvB := httptest.NewServer(appA), httptest.NewServer(appB)
	t.Cleanup(srvA.Close)
	t.Cleanup(srvB.Close)
	// B's slow step sleeps 3 ms where A's sleeps 2: a slowdown that takes
	// no CPU, so the unchanged step beside it stays unchanged on a busy
	// machine (a spinning slowdown takes CPU the whole process shares,
	// and its neighbour step rightly measures that).
	plan := func(url string) *loadtest.Plan {
		slow := "/slow?ms=2"
		if url == srvB.URL {
			slow = "/slow?ms=3"
		}
		run := scenario.Run("shop", scenario.Get(slow).Named("slow"), scenario.Get("/")).Order(scenario.DepthFirst).Repeat(1_000_000)
		return loadtest.New(loadtest.Runs(run), loadtest.BaseURL(url), loadtest.KeepAlive(true), loadtest.Seed(7))
	}
	opts := loadtest.DuetOptions{MaxPairs: 30, RoundTime: 100 * time.Millisecond, Compare: loadtest.CompareOptions{Percentiles: []float64{50}}}
	same, err := loadtest.Duet(context.Background(), plan, srvA.URL, srvA.URL, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(same.A) == 0 || len(same.A) != len(same.B) || same.Comparison.Pairs != len(same.A) || len(same.Comparison.Regressions()) > 0 {
		t.Errorf("A against A: %d and %d rounds:\n%s", len(same.A), len(same.B), same.Comparison)
	}
	for _, d := range same.Comparison.Deltas {
		if d.Metric == "p50" && d.N[0] != len(same.A) {
			t.Errorf("A against A: %d of %d pairs usable:\n%s", d.N[0], len(same.A), same.Comparison)
		}
	}
	slow, err := loadtest.Duet(context.Background(), plan, srvA.URL, srvB.URL, opts)
	if err != nil {
		t.Fatal(err)
	}
	regressed := map[string]bool{}
	for _, d := range slow.Comparison.Regressions() {
		regressed[d.Step+" "+d.Metric] = true
	}
	if !regressed["slow p50"] || regressed["GET / p50"] {
		t.Errorf("B 50%% slower on /slow:\n%s", slow.Comparison)
	}
	if !strings.Contains(slow.Comparison.String(), "pairs") || strings.Contains(slow.Comparison.String(), "blocks") {
		t.Errorf("a duet's table speaks of blocks:\n%s", slow.Comparison)
	}
	// the same seed draws the same order; it is not all one way
	n := min(len(same.BFirst), len(slow.BFirst))
	if n < 8 || !slices.Equal(same.BFirst[:n], slow.BFirst[:n]) || !slices.Contains(same.BFirst, true) || !slices.Contains(same.BFirst, false) {
		t.Errorf("pair orders with one seed: %v and %v", same.BFirst, slow.BFirst)
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
		r, err := loadtest.New(loadtest.Runs(run), loadtest.BaseURL(srv.URL), loadtest.KeepAlive(true), loadtest.TimeLimit(300*time.Millisecond)).
			Execute(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	base, cur := measure(), measure()
	c := loadtest.Compare(base, cur, loadtest.CompareOptions{MinEffect: 0.25})
	for _, d := range c.Deltas {
		if d.Metric == "p50" && (d.Old > 0 && (d.NewMedian/d.Old > 3 || d.Old/d.NewMedian > 3)) {
			t.Errorf("compared a 300 µs step with a 3 ms one:\n%s", c)
		}
	}
}

// synth is an execution of one run whose steps answer in about the
// given times (µs), each recorded n times with a spread of ±1%.
func synth(steps []string, us []float64, n int, wobble float64) *loadtest.Report {
	run := &loadtest.RunReport{Name: "shop", Latency: loadtest.NewLatency()}
	for k, name := range steps {
		s := &loadtest.StepReport{Number: k + 1, Name: name, Latency: loadtest.NewLatency()}
		for i := range n {
			v := us[k] * wobble * (1 + 0.01*float64(i%21-10)/10)
			s.Latency.Record(time.Duration(v * float64(time.Microsecond)))
		}
		s.Configured, s.Sent, s.Good = int64(n), int64(n), int64(n)
		s.Statuses = map[int]int64{200: int64(n)}
		run.Latency.Merge(s.Latency)
		run.Steps = append(run.Steps, s)
	}
	// consistent as a report benchgate wrote: it is read back from files
	run.Repeat = n
	total := int64(n * len(steps))
	r := &loadtest.Report{Version: loadtest.ReportVersion, TotalTime: time.Second, Runs: []*loadtest.RunReport{run},
		RequestsConfigured: total, RequestsSent: total, GoodResponses: total, Latency: loadtest.NewLatency()}
	r.Latency.Merge(run.Latency)
	return r
}

// TestCompareMessages: synthetic executions: a step 50% slower is the
// only one named; a step the baseline lacks is ungated; old, new and
// change agree in sign on every row; the change shows even without a
// verdict; a p-value below 0.0001 prints as such.
func TestCompareMessages(t *testing.T) {
	var base, cur []*loadtest.Report
	for i := range 7 {
		w := 1 + 0.004*float64(i%3) // a little drift between executions
		base = append(base, synth([]string{"GET /a", "GET /b"}, []float64{1000, 2000}, 200, w))
		cur = append(cur, synth([]string{"GET /a", "GET /b", "GET /new"}, []float64{1500, 2000, 50}, 200, w))
	}
	c := loadtest.CompareExecutions(base, cur, loadtest.CompareOptions{})
	var named []string
	for _, d := range c.Regressions() {
		named = append(named, d.Step+" "+d.Metric)
	}
	t.Logf("\n%s", c)
	if !slices.Equal(named, []string{"GET /a p50", "GET /a p95"}) {
		t.Errorf("regressions %q:\n%s", named, c)
	}
	if u := c.Ungated(); len(u) != 1 || u[0].Step != "GET /new" || !strings.Contains(c.String(), "not in the baseline, so not gated") {
		t.Errorf("ungated %v:\n%s", u, c)
	}
	for _, d := range c.Deltas {
		if d.Metric != "p50" && d.Metric != "p95" && d.Metric != "iter/s" {
			continue
		}
		if math.IsNaN(d.Change) || (d.New-d.Old)*d.Change < 0 || (d.Change > 0) != (d.New > d.Old) && d.Change != 0 {
			t.Errorf("%s %s: old %v, new %v, change %v disagree", d.Step, d.Metric, d.Old, d.New, d.Change)
		}
		if d.Step == "GET /b" && d.Verdict != loadtest.NoRegression {
			t.Errorf("GET /b unchanged: %s", d.Verdict)
		}
	}
	// one execution a side: the change is measured, the verdict withheld
	one := loadtest.Compare(base[0], synth([]string{"GET /a", "GET /b"}, []float64{1000, 2800}, 200, 1), loadtest.CompareOptions{})
	t.Logf("\n%s", one)
	if !strings.Contains(one.String(), "+40.") || len(one.Inconclusive()) == 0 {
		t.Errorf("one execution a side:\n%s", one)
	}
	if got := loadtest.FormatP(0.00001); got != "p < 0.0001" {
		t.Errorf("FormatP(1e-5) = %q", got)
	}
	if got := loadtest.FormatP(0.0123); got != "p = 0.0123" {
		t.Errorf("FormatP(0.0123) = %q", got)
	}
}

// TestBaselineFiles: an old single-report file reads as one execution;
// baselines recorded apart merge; different steps do not; a machine
// whose calibration differs by more than the tolerance is refused with
// both figures.
func TestBaselineFiles(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, "old.json")
	f, err := os.Create(old)
	if err != nil {
		t.Fatal(err)
	}
	if err := synth([]string{"GET /a"}, []float64{1000}, 50, 1).WriteJSON(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	b, err := loadtest.ReadBaseline(old)
	if err != nil || len(b.Executions) != 1 {
		t.Fatalf("old single-report baseline: %v, %v", b, err)
	}
	ci1, ci2 := filepath.Join(dir, "job1.json"), filepath.Join(dir, "job2.json")
	fast := &loadtest.Machine{CPU: "test CPU", Cores: 2, Calibration: 10 * time.Millisecond}
	for _, p := range []string{ci1, ci1, ci2} {
		if _, err := loadtest.AppendBaseline(p, synth([]string{"GET /a"}, []float64{1000}, 50, 1), fast); err != nil {
			t.Fatal(err)
		}
	}
	merged, err := loadtest.MergeBaselines(old, ci1, ci2)
	if err != nil || len(merged.Executions) != 4 || merged.Machines[0] != nil || merged.Machines[3].Calibration != fast.Calibration {
		t.Fatalf("merged: %v, %v", merged, err)
	}
	out := filepath.Join(dir, "merged.json")
	if err := merged.Write(out); err != nil {
		t.Fatal(err)
	}
	if back, err := loadtest.ReadBaseline(out); err != nil || len(back.Executions) != 4 {
		t.Fatalf("merged file read back: %v, %v", back, err)
	}
	other := filepath.Join(dir, "other.json")
	if err := loadtest.WriteBaseline(other, synth([]string{"GET /b"}, []float64{1000}, 50, 1)); err != nil {
		t.Fatal(err)
	}
	if _, err := loadtest.MergeBaselines(ci1, other); err == nil || !strings.Contains(err.Error(), "differ") {
		t.Errorf("merging baselines of different steps: %v", err)
	}

	cur := []*loadtest.Report{synth([]string{"GET /a"}, []float64{1000}, 50, 1)}
	slow := &loadtest.Machine{CPU: "test CPU", Cores: 2, Calibration: 25 * time.Millisecond}
	c := loadtest.CompareBaseline(merged, cur, slow, loadtest.CompareOptions{})
	if !strings.Contains(c.Refused, "25ms") || !strings.Contains(c.Refused, "10ms") || !strings.Contains(c.Refused, "2.50× slower") || len(c.Regressions()) > 0 {
		t.Errorf("a 2.5× slower machine: %q", c.Refused)
	}
	if c := loadtest.CompareBaseline(merged, cur, &loadtest.Machine{Calibration: 11 * time.Millisecond}, loadtest.CompareOptions{}); c.Refused != "" {
		t.Errorf("a machine 10%% slower refused: %s", c.Refused)
	}
	if m := loadtest.ThisMachine(); m.Calibration <= 0 || m.Cores <= 0 || m.GoVersion == "" {
		t.Errorf("this machine: %v", m)
	}
}

// TestDuetTooShort: a budget that cannot hold enough pairs for a
// bounded interval is an error before any request is sent.
func TestDuetTooShort(t *testing.T) {
	sent := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { sent++ }))
	t.Cleanup(srv.Close)
	plan := func(url string) *loadtest.Plan {
		return loadtest.New(loadtest.Runs(scenario.Run("r", scenario.Get("/"))), loadtest.BaseURL(url))
	}
	_, err := loadtest.Duet(context.Background(), plan, srv.URL, srv.URL, loadtest.DuetOptions{MaxPairs: 4})
	if err == nil || !strings.Contains(err.Error(), "need") || !strings.Contains(err.Error(), "MaxPairs 4") || sent != 0 {
		t.Errorf("4 pairs at most: %v (%d requests sent)", err, sent)
	}
}

// TestDuetChoosesRoundTime: without a RoundTime the duet runs a pilot
// pair, not compared, and rounds long enough for the p95 of a step that
// answers in 4 ms or more (200 responses: 800 ms or more, capped at
// Budget/40).
func TestDuetChoosesRoundTime(t *testing.T) {
	srv := httptest.NewServer(demoapp.New())
	t.Cleanup(srv.Close)
	plan := func(url string) *loadtest.Plan {
		run := scenario.Run("slow", scenario.Get("/slow?ms=4")).Repeat(1_000_000)
		return loadtest.New(loadtest.Runs(run), loadtest.BaseURL(url), loadtest.KeepAlive(true), loadtest.Seed(3))
	}
	d, err := loadtest.Duet(context.Background(), plan, srv.URL, srv.URL, loadtest.DuetOptions{Budget: 40 * time.Second, MaxPairs: 4,
		Compare: loadtest.CompareOptions{Percentiles: []float64{95}, Alpha: 0.4, PassInconclusive: true}})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Pilot) != 2 || d.Pilot[0] == nil || d.Pilot[1] == nil {
		t.Fatalf("pilot pair: %v", d.Pilot)
	}
	longest := (40*time.Second - 2*500*time.Millisecond) / 40
	if d.RoundTime < 750*time.Millisecond || d.RoundTime > longest || !d.Comparison.RoundChosen || d.Comparison.RoundTime != d.RoundTime {
		t.Errorf("round time %v (comparison: %v, chosen %v), want 800ms to %v", d.RoundTime, d.Comparison.RoundTime, d.Comparison.RoundChosen, longest)
	}
	if len(d.A) != 4 || d.Comparison.Pairs != 4 {
		t.Errorf("%d pairs compared (%d rounds of A), want the 4 after the pilot", d.Comparison.Pairs, len(d.A))
	}
	for _, r := range d.A {
		if r.TotalTime < d.RoundTime*9/10 {
			t.Errorf("a round of %v with rounds of %v", r.TotalTime, d.RoundTime)
		}
	}
	if !strings.Contains(d.Comparison.Method(), "rounds (chosen by a pilot pair: 200 responses a step for p95)") {
		t.Errorf("the method does not say the round time: %s", d.Comparison.Method())
	}
}
