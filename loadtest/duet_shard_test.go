package loadtest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/matchers"
	"github.com/benchgate/benchgate/scenario"
)

// duetServers starts A, answering after 1 ms, and B, answering after
// 5 ms, each counting the requests it received.
func duetServers(t *testing.T) (a, b string, na, nb *atomic.Int64) {
	na, nb = new(atomic.Int64), new(atomic.Int64)
	serve := func(n *atomic.Int64, d time.Duration) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n.Add(1)
			time.Sleep(d)
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	return serve(na, time.Millisecond), serve(nb, 5*time.Millisecond), na, nb
}

// shardedDuetPlan is shard k of n of a plan of 20 iterations of one step,
// seeded, starting at t0.
func shardedDuetPlan(k, n int, t0 time.Time) func(string) *loadtest.Plan {
	return func(url string) *loadtest.Plan {
		run := scenario.Run("r", scenario.Get("/").Named("home")).Repeat(20)
		return loadtest.New(loadtest.Runs(run), loadtest.BaseURL(url), loadtest.KeepAlive(true), loadtest.Seed(11),
			loadtest.Concurrency(n), loadtest.Shard(k, n), loadtest.StartAt(t0, 100*time.Millisecond))
	}
}

// shardDuetOptions: rounds of 250 ms (20 requests of 5 ms take 100 ms),
// 600 ms apart (room for a busy machine), 6 pairs, looks planned at 5
// and 6 pairs.
var shardDuetOptions = loadtest.DuetOptions{RoundTime: 250 * time.Millisecond, MaxPairs: 6, RoundGap: 600 * time.Millisecond,
	Compare: loadtest.CompareOptions{Percentiles: []float64{50}, Alpha: 0.4, GatedSpecs: 1}}

// runShardedDuet runs the n shards of a duet of A against B
// concurrently and returns their duets, in shard order.
func runShardedDuet(t *testing.T, n int, a, b string, opts loadtest.DuetOptions) []*loadtest.DuetReport {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second) // a hang guard
	defer cancel()
	t0 := time.Now().Add(500 * time.Millisecond)
	duets, errs := make([]*loadtest.DuetReport, n), make([]error, n)
	var wg sync.WaitGroup
	for k := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			duets[k], errs[k] = loadtest.Duet(ctx, shardedDuetPlan(k, n, t0), a, b, opts)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	return duets
}

// TestShardedDuet: a duet run as 2 and as 3 shards at once, against a
// candidate 4 ms slower than the baseline's 1 ms: each shard runs every
// planned pair on the schedule and judges nothing (HaveNoRegressions
// refuses it, saying how to merge); the merged duet regressed at the
// first planned look, its rounds hold the shards' counts added up,
// which are what the servers received, and its comparison is the one
// comparePaired makes of the merged pairs at that look. The merged
// duet's refusals and the files follow (TestShardedDuetMergeRefusals,
// TestDuetJSON use these shards).
func TestShardedDuet(t *testing.T) {
	for _, n := range []int{2, 3} {
		t.Run(fmt.Sprint(n, " shards"), func(t *testing.T) {
			t.Parallel()
			a, b, na, nb := duetServers(t)
			duets := runShardedDuet(t, n, a, b, shardDuetOptions)
			var sentA, sentB int64
			for k, d := range duets {
				if len(d.A) != 6 || len(d.B) != 6 || len(d.BFirst) != 6 || d.Comparison != nil || d.Seed != 11 || d.RoundGap != shardDuetOptions.RoundGap ||
					d.RoundTime != shardDuetOptions.RoundTime || !reflect.DeepEqual(d.Looks, []int{5, 6}) || d.PlannedLooks != 2 {
					t.Fatalf("shard %d: %d, %d rounds, orders %v, comparison %v, seed %d, round %v, looks %v of %d",
						k, len(d.A), len(d.B), d.BFirst, d.Comparison, d.Seed, d.RoundTime, d.Looks, d.PlannedLooks)
				}
				for i := range d.A {
					for _, r := range []*loadtest.Report{d.A[i], d.B[i]} {
						if r.Shard == nil || r.Shard.Index != k || r.Shard.Count != n {
							t.Fatalf("shard %d pair %d: manifest %v", k, i, r.Shard)
						}
						// round r at T0 + r·(RoundTime + RoundGap)
						round := 2 * i
						if d.BFirst[i] != (r == d.B[i]) {
							round++
						}
						if want := d.T0.Add(time.Duration(round) * (d.RoundTime + d.RoundGap)); !r.Shard.T0.Equal(want) {
							t.Errorf("shard %d pair %d: round %d's T0 %v, want %v", k, i, round, r.Shard.T0, want)
						}
					}
					sentA += d.A[i].RequestsSent
					sentB += d.B[i].RequestsSent
				}
				ok, err := matchers.HaveNoRegressions().Match(d)
				if ok || err == nil || !strings.Contains(err.Error(), fmt.Sprintf("shard %d/%d of a duet", k, n)) || !strings.Contains(err.Error(), "MergeDuets") {
					t.Errorf("shard %d judged alone: %v, %v", k, ok, err)
				}
			}
			m, err := loadtest.MergeDuets(loadtest.MergeOptions{}, duets...)
			if err != nil {
				t.Fatal(err)
			}
			// the look the sequential duet stops at: the first settled
			look, want := 0, (*loadtest.Comparison)(nil)
			for _, look = range m.Looks {
				if want = loadtest.ComparePairedForTest(m, look); want.Settled() {
					break
				}
			}
			c := m.Comparison
			if c == nil || len(c.Regressions()) == 0 || c.Pairs != look || len(m.A) != 6 {
				t.Fatalf("merged: %d pairs, judged at %v:\n%v", len(m.A), c.Pairs, c)
			}
			if !reflect.DeepEqual(want.Deltas, c.Deltas) || want.Tests != c.Tests || want.Looks != c.Looks {
				t.Errorf("the merged comparison is not comparePaired's at look %d:\n%v\nwant\n%v", look, c, want)
			}
			elapsed := time.Duration(2*look-1)*(850*time.Millisecond) + 250*time.Millisecond
			for _, want := range []string{fmt.Sprintf("duet: %d pairs of 250ms rounds", look), fmt.Sprintf("in %v", elapsed.Round(100*time.Millisecond)),
				fmt.Sprintf("drawn from seed 11, each round merged from %d shards;", n)} {
				if !strings.Contains(c.Method(), want) {
					t.Errorf("the method does not say %q: %s", want, c.Method())
				}
			}
			if c.Seed != 11 || c.RoundTime != shardDuetOptions.RoundTime || c.Elapsed != elapsed {
				t.Errorf("merged comparison: seed %d, round %v, elapsed %v", c.Seed, c.RoundTime, c.Elapsed)
			}
			var mergedA, mergedB int64
			for i := range m.A {
				var wantA, wantB int64
				for _, d := range duets {
					wantA += d.A[i].RequestsSent
					wantB += d.B[i].RequestsSent
				}
				if m.A[i].RequestsSent != wantA || m.B[i].RequestsSent != wantB || m.A[i].Shard != nil || len(m.A[i].Shards) != n {
					t.Errorf("pair %d merged: %d and %d sent, the shards' sums %d and %d; %d shards", i, m.A[i].RequestsSent, m.B[i].RequestsSent, wantA, wantB, len(m.A[i].Shards))
				}
				mergedA += m.A[i].RequestsSent
				mergedB += m.B[i].RequestsSent
			}
			if mergedA != sentA || mergedB != sentB {
				t.Errorf("sent: merged %d and %d, the shards %d and %d", mergedA, mergedB, sentA, sentB)
			}
			serversCounted(t, m, na.Load(), nb.Load(), 6*20)
			if ok, err := matchers.HaveNoRegressions().Match(m); ok || err != nil && !saturated(err) {
				t.Errorf("the merged duet judged: %v, %v", ok, err)
			}
			if n == 2 {
				shardDuetMergeRefusals(t, duets)
				shardDuetJSON(t, duets, m)
			}
		})
	}
}

// shardDuetMergeRefusals: shards' duets that disagree, a missing shard
// and a duplicated one are refused, naming what differs.
func shardDuetMergeRefusals(t *testing.T, duets []*loadtest.DuetReport) {
	edit := func(f func(d *loadtest.DuetReport)) *loadtest.DuetReport {
		c := *duets[1]
		f(&c)
		return &c
	}
	for _, c := range []struct {
		name  string
		duets []*loadtest.DuetReport
		want  []string
	}{
		{"seed", []*loadtest.DuetReport{duets[0], edit(func(d *loadtest.DuetReport) { d.Seed = 12 })}, []string{"different seeds: 11 and 12"}},
		{"round time", []*loadtest.DuetReport{duets[0], edit(func(d *loadtest.DuetReport) { d.RoundTime = time.Second })}, []string{"rounds of 250ms and 1s"}},
		{"round gap", []*loadtest.DuetReport{duets[0], edit(func(d *loadtest.DuetReport) { d.RoundGap = time.Second })}, []string{"gaps of 600ms and 1s"}},
		{"pairs", []*loadtest.DuetReport{duets[0], edit(func(d *loadtest.DuetReport) {
			d.A, d.B, d.BFirst, d.Looks = d.A[:5], d.B[:5], d.BFirst[:5], []int{4, 5}
		})},
			[]string{"ran 6 and 5 pairs"}},
		{"orders", []*loadtest.DuetReport{duets[0], edit(func(d *loadtest.DuetReport) {
			d.BFirst = append([]bool{!d.BFirst[0]}, d.BFirst[1:]...)
		})}, []string{"different orders"}},
		{"compare", []*loadtest.DuetReport{duets[0], edit(func(d *loadtest.DuetReport) { d.Compare.MinEffect = 0.5 })}, []string{"different options", "min effect 0.1", "min effect 0.5"}},
		{"missing", duets[:1], []string{"1 of 2 shards' duets missing: 1/2"}},
		{"twice", []*loadtest.DuetReport{duets[0], duets[0]}, []string{"shard 0/2 twice: duet 1 and duet 2"}},
		{"whole", []*loadtest.DuetReport{{A: duets[0].A[:1], B: duets[0].B[:1], BFirst: duets[0].BFirst[:1]}}, nil},
	} {
		_, err := loadtest.MergeDuets(loadtest.MergeOptions{}, c.duets...)
		if err == nil || !errors.Is(err, loadtest.ErrInvalidReport) {
			t.Errorf("%s: %v, want a refusal wrapping ErrInvalidReport", c.name, err)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %v, want it to say %q", c.name, err, w)
			}
		}
	}
}

// shardDuetJSON: a shard's duet written and read back merges into the
// same verdict; a bad file is refused naming what is wrong.
func shardDuetJSON(t *testing.T, duets []*loadtest.DuetReport, merged *loadtest.DuetReport) {
	var back []*loadtest.DuetReport
	for k, d := range duets {
		var buf bytes.Buffer
		if err := d.WriteJSON(&buf); err != nil {
			t.Fatal(err)
		}
		r, err := loadtest.ReadDuetJSON(&buf)
		if err != nil {
			t.Fatalf("shard %d read back: %v", k, err)
		}
		if r.Seed != d.Seed || !r.T0.Equal(d.T0) || r.RoundTime != d.RoundTime || !reflect.DeepEqual(r.BFirst, d.BFirst) ||
			!reflect.DeepEqual(r.Looks, d.Looks) || r.PlannedLooks != d.PlannedLooks || len(r.A) != len(d.A) || r.Comparison != nil ||
			r.A[3].RequestsSent != d.A[3].RequestsSent || !reflect.DeepEqual(r.Compare, d.Compare) || r.NoVerdict() == "" {
			t.Errorf("shard %d read back differs: seed %d, T0 %v, round %v, orders %v, looks %v of %d, %d pairs, comparison %v, options %+v",
				k, r.Seed, r.T0, r.RoundTime, r.BFirst, r.Looks, r.PlannedLooks, len(r.A), r.Comparison, r.Compare)
		}
		if m, w := r.B[5].Shard, d.B[5].Shard; m.Index != w.Index || m.Count != w.Count || !m.T0.Equal(w.T0) || m.PlanHash != w.PlanHash {
			t.Errorf("shard %d pair 6's B round read back: manifest %+v, want %+v", k, m, w)
		}
		back = append(back, r)
	}
	m, err := loadtest.MergeDuets(loadtest.MergeOptions{}, back...)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(m.Comparison.Deltas, merged.Comparison.Deltas) || m.Comparison.Pairs != merged.Comparison.Pairs {
		t.Errorf("merged from files:\n%v\nwant\n%v", m.Comparison, merged.Comparison)
	}
	// the merged duet written and read back keeps its verdict
	var buf bytes.Buffer
	if err := merged.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	whole, err := loadtest.ReadDuetJSON(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if whole.Comparison == nil || !reflect.DeepEqual(whole.Comparison.Deltas, merged.Comparison.Deltas) || whole.Comparison.Elapsed != merged.Comparison.Elapsed {
		t.Errorf("the merged duet read back: %v", whole.Comparison)
	}
	buf.Reset()
	duets[0].WriteJSON(&buf)
	good := buf.String()
	for _, c := range []struct{ name, data, want string }{
		{"empty", "", "duet JSON"},
		{"version", strings.Replace(good, `"duet_version": 1`, `"duet_version": 9`, 1), "version 9, want 1"},
		{"report", strings.Replace(good, `"version": 2`, `"version": 7`, 1), "a[0]: report JSON: version 7, want 2"},
		{"lengths", strings.Replace(good, `"b_first": [`, `"b_first": [true,`, 1), "rounds of A"},
		{"looks", strings.Replace(good, `"planned_looks": 2`, `"planned_looks": 1`, 1), "looks"},
	} {
		_, err := loadtest.ReadDuetJSON(strings.NewReader(c.data))
		if err == nil || !errors.Is(err, loadtest.ErrInvalidReport) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an invalid report saying %q", c.name, err, c.want)
		}
	}
}

// TestShardedDuetRefusals: a shard's duet without T0, round time, pairs
// or seed, and a duet whose plan has Processes, are refused before
// anything is sent, naming what is missing.
func TestShardedDuetRefusals(t *testing.T) {
	var sent atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { sent.Add(1) }))
	t.Cleanup(srv.Close)
	t0 := time.Now().Add(time.Minute)
	plan := func(opts ...loadtest.Option) func(string) *loadtest.Plan {
		return func(url string) *loadtest.Plan {
			return loadtest.New(append([]loadtest.Option{loadtest.Runs(scenario.Run("r", scenario.Get("/")).Repeat(4)), loadtest.BaseURL(url)}, opts...)...)
		}
	}
	shard := []loadtest.Option{loadtest.Shard(0, 2), loadtest.Concurrency(2), loadtest.Seed(3), loadtest.StartAt(t0, 100*time.Millisecond)}
	for _, c := range []struct {
		name string
		plan func(string) *loadtest.Plan
		opts loadtest.DuetOptions
		want []string
	}{
		{"no T0", plan(loadtest.Shard(0, 2), loadtest.Seed(3)), shardDuetOptions, []string{"duet shard 0/2: no T0", "StartAt", "BENCHGATE_T0"}},
		{"no round time", plan(shard...), loadtest.DuetOptions{MaxPairs: 8}, []string{"duet shard 0/2: DuetOptions.RoundTime 0s", "fixed round time"}},
		{"no pairs", plan(shard...), loadtest.DuetOptions{RoundTime: time.Second}, []string{"DuetOptions.MaxPairs 0 and Budget 0s", "fixed number of pairs"}},
		{"negative gap", plan(shard...), loadtest.DuetOptions{RoundTime: time.Second, MaxPairs: 8, RoundGap: -time.Second}, []string{"DuetOptions.RoundGap -1s"}},
		{"budget too small", plan(shard...), loadtest.DuetOptions{RoundTime: time.Second, Budget: time.Second}, []string{"Budget 1s holds no pair"}},
		{"no seed", plan(loadtest.Shard(1, 2), loadtest.StartAt(t0, 0)), shardDuetOptions, []string{"duet shard 1/2: the plan has no Seed"}},
		{"time limit", plan(append(shard, loadtest.TimeLimit(time.Second))...), shardDuetOptions, []string{"TimeLimit 1s is above DuetOptions.RoundTime 250ms"}},
		{"processes", plan(loadtest.Processes(2)), shardDuetOptions, []string{"duet: Processes(2) in the plan", "Shard(k, N)", "MergeDuets"}},
	} {
		d, err := loadtest.Duet(context.Background(), c.plan, srv.URL, srv.URL, c.opts)
		if err == nil || d != nil {
			t.Errorf("%s: %v, %v; want a refusal", c.name, d, err)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %v, want it to say %q", c.name, err, w)
			}
		}
	}
	// the pairs a Budget gives: 10 s of 1 s rounds and 400 ms gaps hold 3
	_, err := loadtest.Duet(context.Background(), plan(shard...), srv.URL, srv.URL, loadtest.DuetOptions{RoundTime: time.Second, Budget: 10 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "(MaxPairs 3, Budget 10s, RoundTime 1s)") {
		t.Errorf("a budget of 3 pairs, too few for p50 and p95 at α = 0.05: %v", err)
	}
	// ShardEnv without BENCHGATE_T0: the variable is named
	t.Setenv(loadtest.EnvShard, "1")
	t.Setenv(loadtest.EnvShards, "2")
	_, err = loadtest.Duet(context.Background(), plan(loadtest.ShardEnv(), loadtest.Seed(3)), srv.URL, srv.URL, shardDuetOptions)
	if err == nil || !strings.Contains(err.Error(), "duet shard 1/2: no T0") || !strings.Contains(err.Error(), "BENCHGATE_T0") {
		t.Errorf("ShardEnv without T0: %v", err)
	}
	if n := sent.Load(); n != 0 {
		t.Errorf("%d requests sent by refused duets", n)
	}
}

// TestDuetFromT0: a whole plan given StartAt (ShardEnv with one shard
// and BENCHGATE_T0) runs on the shards' schedule, every planned pair,
// and is judged at its end, without a Seed of its own.
func TestDuetFromT0(t *testing.T) {
	a, b, na, nb := duetServers(t)
	t0 := time.Now().Add(300 * time.Millisecond)
	plan := func(url string) *loadtest.Plan {
		return loadtest.New(loadtest.Runs(scenario.Run("r", scenario.Get("/")).Repeat(10)), loadtest.BaseURL(url), loadtest.StartAt(t0, 100*time.Millisecond))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second) // a hang guard
	defer cancel()
	d, err := loadtest.Duet(ctx, plan, a, b, loadtest.DuetOptions{RoundTime: 100 * time.Millisecond, MaxPairs: 4, RoundGap: 600 * time.Millisecond,
		Compare: loadtest.CompareOptions{Percentiles: []float64{50}, Alpha: 0.4, GatedSpecs: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.A) != 4 || d.Comparison == nil || d.Comparison.Pairs != 4 || d.Seed == 0 || d.NoVerdict() != "" {
		t.Fatalf("%d pairs, seed %d, comparison:\n%v", len(d.A), d.Seed, d.Comparison)
	}
	if want := loadtest.ComparePairedForTest(d, 4); !reflect.DeepEqual(d.Comparison.Deltas, want.Deltas) {
		t.Errorf("judged:\n%v\nwant comparePaired's at 4 pairs:\n%v", d.Comparison, want)
	}
	if p50 := d.Comparison.Deltas[0]; p50.Metric != "p50" || !(p50.NewMedian > p50.Old) {
		t.Errorf("B's p50 not above A's:\n%v", d.Comparison)
	}
	for i, r := range d.B {
		round := 2 * i
		if !d.BFirst[i] {
			round++
		}
		if want := t0.Add(time.Duration(round) * 700 * time.Millisecond); !r.Shard.T0.Equal(want) {
			t.Errorf("pair %d: B's round at %v, want %v", i, r.Shard.T0, want)
		}
	}
	serversCounted(t, d, na.Load(), nb.Load(), 40)
}

// serversCounted checks the requests the servers of A and B received
// against the duet's rounds: exactly those sent, all planned, when every
// round ran to its end; when a round was cut at its time limit (a busy
// machine), at least the good responses and at most the requests sent
// (one cut in flight may not have reached the server).
func serversCounted(t *testing.T, d *loadtest.DuetReport, na, nb, planned int64) {
	t.Helper()
	for _, side := range []struct {
		name     string
		rounds   []*loadtest.Report
		received int64
	}{{"A", d.A, na}, {"B", d.B, nb}} {
		var sent, good int64
		cut := ""
		for i, r := range side.rounds {
			sent, good = sent+r.RequestsSent, good+r.GoodResponses
			if r.StoppedBy != "" {
				cut = fmt.Sprintf("pair %d: %s", i, r.StoppedBy)
			}
		}
		switch {
		case cut == "" && (side.received != sent || sent != planned):
			t.Errorf("%s: the server received %d requests, the rounds sent %d, %d planned", side.name, side.received, sent, planned)
		case cut != "" && (side.received < good || side.received > sent):
			t.Errorf("%s: the server received %d requests, the rounds sent %d and %d were good (%s)", side.name, side.received, sent, good, cut)
		case cut != "":
			t.Logf("%s: a round was cut at its time limit (a busy machine): %s; the server received %d requests, %d sent, %d good", side.name, cut, side.received, sent, good)
		}
	}
}

// saturated reports whether the matcher refused a verdict because most
// pairs had a round on a saturated generator (a machine too busy to
// measure: no fault of the duet's).
func saturated(err error) bool { return strings.Contains(err.Error(), "pairs had a round whose") }
