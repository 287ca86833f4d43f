package loadtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/benchgate/benchgate/engine"
	"github.com/benchgate/benchgate/failure"
	"github.com/benchgate/benchgate/scenario"
)

// synthPlan is a plan of runs × steps for the recorder, repeat each.
func synthPlan(runs, steps int, repeat []int, conc int) *engine.Plan {
	p := &engine.Plan{Concurrency: conc}
	for r := range runs {
		rs := scenario.RunSpec{Name: fmt.Sprintf("run %d", r), Index: r, Repeat: repeat[r], KeepLevel: scenario.KeepTotals}
		for s := range steps {
			rs.Steps = append(rs.Steps, scenario.StepSpec{Name: fmt.Sprintf("GET /s%d", s)})
		}
		p.Runs = append(p.Runs, rs)
	}
	return p
}

// synthResults draws the results of iterations iters[run] of each run,
// starting at or after from, within span.
func synthResults(rng *rand.Rand, runs, steps int, iters [][]int, from time.Time, span time.Duration) []*engine.Result {
	var out []*engine.Result
	for run := range runs {
		for _, it := range iters[run] {
			at := from.Add(time.Duration(rng.Int64N(int64(span))))
			for s := range steps {
				res := &engine.Result{Run: run, Iteration: it, Step: s, Start: at, Method: "GET",
					Connect: time.Duration(rng.IntN(3000)) * time.Microsecond, Send: 20 * time.Microsecond,
					Wait: time.Duration(100+rng.IntN(50_000)) * time.Microsecond, Status: 200,
					BytesSent: 80, BytesRead: int64(200 + rng.IntN(100)), BodyBytes: int64(100 + rng.IntN(100))}
				res.Total = res.Connect + res.Send + res.Wait + time.Duration(rng.IntN(20_000))*time.Microsecond
				if rng.IntN(4) == 0 {
					res.Intended = at.Add(-time.Duration(rng.IntN(5000)) * time.Microsecond)
				}
				if rng.IntN(5) == 0 {
					res.TLSHandshake = time.Duration(500+rng.IntN(2000)) * time.Microsecond
				}
				switch rng.IntN(20) {
				case 0:
					res.Failed, res.Status, res.Reason, res.Kind = true, 500, "status 500", failure.Status
				case 1:
					res.Failed, res.Status, res.Reason, res.Kind = true, engine.StatusNoResponse, "connection reset", failure.ConnectionClosed
				case 2:
					res.NotSent, res.Reason, res.Status = true, "template: no value for {{token}}", 0
					res.BytesRead, res.BytesSent, res.BodyBytes = 0, 0, 0
				}
				out = append(out, res)
				at = at.Add(res.Total + time.Duration(rng.IntN(1000))*time.Microsecond)
			}
		}
	}
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// record feeds results to a recorder of plan p started at start and
// returns its report.
func record(p *engine.Plan, start time.Time, results []*engine.Result) *Report {
	rec := newRecorder(p, nil)
	rec.start = start
	for _, res := range results {
		rec.Record(res.Iteration%p.Concurrency, res)
	}
	r := rec.report()
	r.Seed = 7
	return r
}

// histJSON is every histogram and count of r that a merge must keep
// exactly, as JSON: per run, per step (all its phases and windows), the
// whole and the timeline.
func histJSON(t *testing.T, r *Report) map[string]string {
	t.Helper()
	out := map[string]string{}
	put := func(k string, v any) {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		out[k] = string(b)
	}
	put("latency", r.Latency)
	put("timeline", r.Timeline)
	put("counts", []int64{r.RequestsConfigured, r.RequestsSent, r.GoodResponses, r.ResponsesFailed, r.RequestsNotSent, r.RequestsInterrupted, r.RequestsNotStarted, r.BytesReceived, r.BytesSent})
	for _, run := range r.Runs {
		put(run.Name, run.Latency)
		put(run.Name+" repeat", run.Repeat)
		for _, s := range run.Steps {
			// the whole step: counts, statuses, kinds, first and last,
			// every phase's histogram and every window
			put(run.Name+" "+s.Name, s)
		}
	}
	return out
}

func compareHists(t *testing.T, what string, want, got map[string]string) {
	t.Helper()
	if len(want) != len(got) {
		t.Fatalf("%s: %d entries, want %d", what, len(got), len(want))
	}
	for k, w := range want {
		if g := got[k]; g != w {
			t.Errorf("%s: %s differs:\n one recording: %.400s\n merged:        %.400s", what, k, w, g)
		}
	}
}

// TestMergeBitIdentical: the same results recorded once, or split among
// N recorders (random partitions, unequal, some empty) whose reports
// are merged, give the same histograms, bit for bit (their encoded
// JSON), per run, step, phase and window, and the same counts.
func TestMergeBitIdentical(t *testing.T) {
	const runs, steps, conc = 2, 4, 4
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for trial := range 8 {
		rng := rand.New(rand.NewPCG(uint64(trial), 99))
		n := 1 + rng.IntN(6)
		// iterations of each run dealt to shards at random (some empty)
		iters := make([][][]int, n) // shard, run → iterations
		all := make([][]int, runs)
		for k := range iters {
			iters[k] = make([][]int, runs)
		}
		for run := range runs {
			total := 30 + rng.IntN(200)
			for it := range total {
				k := rng.IntN(n)
				if trial%3 == 0 && k == n-1 && n > 1 {
					k = 0 // the last shard stays empty
				}
				iters[k][run] = append(iters[k][run], it)
				all[run] = append(all[run], it)
			}
		}
		// trials after the fourth start each shard a whole number of
		// seconds after the first: its windows move by whole windows
		offset := func(k int) time.Duration {
			if trial < 4 {
				return 0
			}
			return time.Duration(k%3) * time.Second // the shards overlap in time
		}
		var results []*engine.Result
		shardResults := make([][]*engine.Result, n)
		for k := range n {
			shardResults[k] = synthResults(rng, runs, steps, iters[k], base.Add(offset(k)), 5*time.Second)
			results = append(results, shardResults[k]...)
		}
		repeats := func(its [][]int) []int {
			out := make([]int, runs)
			for run := range runs {
				out[run] = len(its[run])
			}
			return out
		}
		one := record(synthPlan(runs, steps, repeats(all), conc), base, results)
		var reports []*Report
		for k := range n {
			r := record(synthPlan(runs, steps, repeats(iters[k]), conc), base.Add(offset(k)), shardResults[k])
			r.Shard = newManifest(engine.Segment{Index: k, Count: n}, "plan", r, time.Time{})
			reports = append(reports, r)
		}
		// given in any order
		rng.Shuffle(len(reports), func(i, j int) { reports[i], reports[j] = reports[j], reports[i] })
		// their starts a random offset apart, on purpose
		merged, err := MergeWith(MergeOptions{AllowApart: true}, reports...)
		if err != nil {
			t.Fatal(err)
		}
		what := fmt.Sprintf("trial %d (%d shards)", trial, n)
		compareHists(t, what, histJSON(t, one), histJSON(t, merged))
		if err := merged.validate(); err != nil {
			t.Errorf("%s: the merged report fails the report check: %v", what, err)
		}
		for _, w := range merged.Warnings {
			t.Errorf("%s: warning on aligned shards: %s", what, w)
		}
		if one.TotalTime != merged.TotalTime {
			t.Errorf("%s: total time %v, one recording %v", what, merged.TotalTime, one.TotalTime)
		}
	}
}

// TestMergeShiftedWindowsWarn: shards that started a non-whole number of
// windows apart are merged with their windows moved to the nearest, and
// a warning says which shard moved by how much.
func TestMergeShiftedWindowsWarn(t *testing.T) {
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	rng := rand.New(rand.NewPCG(1, 2))
	p := synthPlan(1, 1, []int{10}, 1)
	its := [][]int{{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}}
	a := record(p, base, synthResults(rng, 1, 1, its, base, time.Second))
	b := record(p, base.Add(130*time.Millisecond), synthResults(rng, 1, 1, its, base.Add(130*time.Millisecond), time.Second))
	a.Shard = newManifest(engine.Segment{Index: 0, Count: 2}, "plan", a, time.Time{})
	b.Shard = newManifest(engine.Segment{Index: 1, Count: 2}, "plan", b, time.Time{})
	m, err := Merge(a, b)
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, w := range m.Warnings {
		if bytes.Contains([]byte(w), []byte("1/2 by 70ms")) {
			found = true
		}
	}
	if !found {
		t.Errorf("no warning of shard 1/2 moved by 70ms: %q", m.Warnings)
	}
	// a shard that began after the other ended is named
	late := record(p, base.Add(time.Hour), synthResults(rng, 1, 1, its, base.Add(time.Hour), time.Second))
	late.Shard = newManifest(engine.Segment{Index: 1, Count: 2}, "plan", late, time.Time{})
	// without a common T0 that is refused, naming them
	if _, err = Merge(a, late); err == nil || !strings.Contains(err.Error(), "shard 1/2 began 1h0m0s after shard 0/2, more than a window (200ms)") ||
		!strings.Contains(err.Error(), "AllowApart") {
		t.Errorf("shards run an hour apart merged: %v", err)
	}
	if m, err = MergeWith(MergeOptions{AllowApart: true}, a, late); err != nil {
		t.Fatal(err)
	}
	if w := strings.Join(m.Warnings, "\n"); !strings.Contains(w, "shard 1/2 began 1h0m0s after shard 0/2 began, when shard 0/2 had ended") {
		t.Errorf("warnings %q", m.Warnings)
	}
	// whole windows apart, not whole seconds: the timeline's move is said
	c := record(p, base.Add(400*time.Millisecond), synthResults(rng, 1, 1, its, base.Add(400*time.Millisecond), time.Second))
	c.Shard = newManifest(engine.Segment{Index: 1, Count: 2}, "plan", c, time.Time{})
	if _, err = Merge(a, c); err == nil || !strings.Contains(err.Error(), "began 400ms after shard 0/2, more than a window") {
		t.Errorf("shards started 400 ms apart without T0: %v", err)
	}
	if m, err = MergeWith(MergeOptions{AllowApart: true}, a, c); err != nil {
		t.Fatal(err)
	}
	if len(m.Warnings) != 1 || !strings.Contains(m.Warnings[0], "timeline seconds were moved") || !strings.Contains(m.Warnings[0], "1/2 by -400ms") {
		t.Errorf("warnings %q", m.Warnings)
	}
	if err := m.validate(); err != nil {
		t.Error(err)
	}
}
