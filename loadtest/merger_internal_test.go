package loadtest

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/benchgate/benchgate/engine"
	"github.com/benchgate/benchgate/failure"
)

// orderShards records n shards of a plan of 2 runs × 3 steps whose
// merge depends on the order of its parts wherever it can: latencies up
// to the histogram's hour (their sums of squares round when added),
// failures of more than 100 reasons (each shard its own set), kinds,
// warnings, generators that tie, arrival rates whose float sum rounds.
// start(k) is shard k's start.
func orderShards(t *testing.T, seed uint64, n int, start func(k int) time.Time, t0 time.Time) []*Report {
	t.Helper()
	const runs, steps, conc = 2, 3, 4
	rng := rand.New(rand.NewPCG(seed, 5))
	var out []*Report
	for k := range n {
		iters := make([][]int, runs)
		repeat := make([]int, runs)
		for run := range runs {
			for it := range 40 + rng.IntN(40) {
				iters[run] = append(iters[run], it*n+k)
			}
			repeat[run] = len(iters[run])
		}
		results := synthResults(rng, runs, steps, iters, start(k), 3*time.Second)
		for _, res := range results {
			switch rng.IntN(4) {
			case 0: // long: near or at the hour the histograms keep
				if !res.NotSent {
					res.Total += time.Duration(1+rng.Int64N(int64(time.Hour/time.Microsecond))) * time.Microsecond
				}
			case 1, 2:
				if !res.NotSent {
					res.Failed, res.Status, res.Kind = true, 500+rng.IntN(4), failure.Status
					res.Reason = fmt.Sprintf("status %d: reason %03d", res.Status, rng.IntN(400))
				}
			}
		}
		r := record(synthPlan(runs, steps, repeat, conc), start(k), results)
		r.Shard = newManifest(engine.Segment{Index: k, Count: n}, "plan", r, t0)
		r.Warnings = append(r.Warnings, fmt.Sprintf("warning of shard %d", k))
		r.Generator = &Generator{Delay: time.Duration(rng.IntN(2)) * time.Millisecond, CPU: float64(rng.IntN(2)) / 2,
			Why: fmt.Sprintf("generator of shard %d", k), Readings: []string{"rusage"}}
		r.Arrivals = &ArrivalReport{Planned: 10, Started: 10, Lag: NewLatency(), Rate: 0.1 * float64(1+rng.IntN(7))}
		r.Arrivals.Lag.Record(time.Duration(1+rng.IntN(5000)) * time.Millisecond)
		out = append(out, r)
	}
	return out
}

// mergeJSON is a merged report's JSON.
func mergeJSON(t *testing.T, r *Report) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := r.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestMergerAnyOrder: a Merger given the shards in any order, one at a
// time, and MergeWith given them in any order make one merged report,
// byte for byte: shards given one T0, shards started apart (their
// windows shifted), some sharing a start and some not, a shard missing;
// with sums that round, more than 100 failure reasons, ties.
func TestMergerAnyOrder(t *testing.T) {
	base := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	const n = 6
	for _, c := range []struct {
		name    string
		start   func(k int) time.Time
		t0      time.Time
		opts    MergeOptions
		missing int // -1: none
	}{
		{"one T0", func(int) time.Time { return base }, base, MergeOptions{}, -1},
		{"apart", func(k int) time.Time { return base.Add(time.Duration(k) * 130 * time.Millisecond) }, time.Time{}, MergeOptions{AllowApart: true}, -1},
		{"two starts", func(k int) time.Time { return base.Add(time.Duration(k%2) * 1170 * time.Millisecond) }, time.Time{}, MergeOptions{AllowApart: true}, -1},
		{"latest first", func(k int) time.Time { return base.Add(time.Duration(n-k) * 90 * time.Millisecond) }, time.Time{}, MergeOptions{AllowApart: true}, -1},
		{"one missing", func(int) time.Time { return base }, base, MergeOptions{AllowMissing: true}, 2},
		{"missing, apart", func(k int) time.Time { return base.Add(time.Duration(k%3) * 70 * time.Millisecond) }, time.Time{}, MergeOptions{AllowMissing: true}, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			shards := orderShards(t, 3, n, c.start, c.t0)
			if c.missing >= 0 {
				shards = slices.Delete(shards, c.missing, c.missing+1)
			}
			want, err := MergeWith(c.opts, shards...)
			if err != nil {
				t.Fatal(err)
			}
			wantJSON := mergeJSON(t, want)
			// the sums round: the order of the additions shows
			if step := want.Runs[0].Steps[0]; step.Latency.sumSq < 1<<53 || want.Arrivals == nil {
				t.Fatalf("the sums of squares (%g) do not round", step.Latency.sumSq)
			}
			rng := rand.New(rand.NewPCG(uint64(len(c.name)), 1))
			orders := [][]int{{}, {}}
			for i := range shards {
				orders[0] = append(orders[0], i)
				orders[1] = append(orders[1], len(shards)-1-i)
			}
			for range 4 {
				orders = append(orders, rng.Perm(len(shards)))
			}
			for _, order := range orders {
				given := make([]*Report, len(order))
				for i, j := range order {
					given[i] = shards[j]
				}
				m := NewMerger(c.opts)
				for _, r := range given {
					if err := m.Add(r); err != nil {
						t.Fatal(err)
					}
				}
				got, err := m.Report()
				if err != nil {
					t.Fatal(err)
				}
				if g := mergeJSON(t, got); !bytes.Equal(g, wantJSON) {
					t.Errorf("order %v, one at a time: the merged report differs from MergeWith's in index order:\n%s", order, bytesDiff(wantJSON, g))
				}
				again, err := MergeWith(c.opts, given...)
				if err != nil {
					t.Fatal(err)
				}
				if g := mergeJSON(t, again); !bytes.Equal(g, wantJSON) {
					t.Errorf("order %v, MergeWith: the merged report differs from MergeWith's in index order:\n%s", order, bytesDiff(wantJSON, g))
				}
			}
			if err := want.validate(); err != nil {
				t.Error(err)
			}
			checkSequential(t, shards, want)
		})
	}
}

// bytesDiff shows where two texts part.
func bytesDiff(a, b []byte) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	from := max(i-200, 0)
	return fmt.Sprintf("at byte %d:\n want …%s\n got  …%s", i, a[from:min(i+200, len(a))], b[from:min(i+200, len(b))])
}

// TestMergerRefuses: a Merger refuses, through Add and Report, what
// MergeWith refuses, with the same messages; a refused report is not
// added; Add and Report after the merged report was made are refused.
func TestMergerRefuses(t *testing.T) {
	base := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	shards := orderShards(t, 9, 3, func(int) time.Time { return base }, base)
	opts := MergeOptions{Names: []string{"a.json", "b.json", "c.json", "d.json"}}
	errOf := func(err error) string {
		if err == nil {
			return "<nil>"
		}
		return err.Error()
	}
	// via Add, the error of the report at fault; via MergeWith the same
	other := *shards[1]
	om := *other.Shard
	om.Count = 4
	other.Shard = &om
	copied := *shards[0]
	cm := *copied.Shard
	cm.Index = 2
	copied.Shard = &cm
	for _, c := range []struct {
		name  string
		given []*Report
		want  string
	}{
		{"count", []*Report{shards[0], &other}, "a.json is one of 3 shards, b.json one of 4"},
		{"twice", []*Report{shards[0], shards[1], shards[1]}, "shard 1/3 twice: b.json and c.json"},
		{"one execution", []*Report{shards[0], shards[1], &copied}, "a.json (shard 0/3) and c.json (shard 2/3) are one execution"},
		{"nil", []*Report{shards[0], nil}, "b.json is nil"},
		{"missing", []*Report{shards[2], shards[0]}, "1 of 3 shards missing: 1/3"},
	} {
		_, want := MergeWith(opts, c.given...)
		if !errors.Is(want, ErrInvalidReport) || !strings.Contains(want.Error(), c.want) {
			t.Fatalf("%s: MergeWith: %v, want %q", c.name, want, c.want)
		}
		m := NewMerger(opts)
		var got error
		for _, r := range c.given {
			if got = m.Add(r); got != nil {
				break
			}
		}
		if got == nil {
			_, got = m.Report()
		}
		if errOf(got) != errOf(want) {
			t.Errorf("%s: Merger: %v\nMergeWith: %v", c.name, got, want)
		}
	}
	// a refused report is not added: the merge goes on without it
	m := NewMerger(MergeOptions{})
	for _, r := range []*Report{shards[0], &other, shards[1], shards[1]} {
		m.Add(r)
	}
	if _, err := m.Report(); err == nil || !strings.Contains(err.Error(), "1 of 3 shards missing: 2/3") {
		t.Errorf("with shard 2/3 missing: %v", err)
	}
	// the missing shard added after a refused Report, the merge is made
	if err := m.AddNamed("late.json", shards[2]); err != nil {
		t.Fatal(err)
	}
	got, err := m.Report()
	if err != nil {
		t.Fatal(err)
	}
	want, err := Merge(shards...)
	if err != nil {
		t.Fatal(err)
	}
	if g, w := mergeJSON(t, got), mergeJSON(t, want); !bytes.Equal(g, w) {
		t.Errorf("after refusals: the merged report differs from Merge's:\n%s", bytesDiff(w, g))
	}
	if err := m.Add(shards[0]); err == nil || !strings.Contains(err.Error(), "report 6 added after the merged report was made") {
		t.Errorf("Add after Report: %v", err)
	}
	if r, err := m.Report(); r != nil || err == nil || !strings.Contains(err.Error(), "made already") {
		t.Errorf("Report again: %v", err)
	}
	// nothing added; and the zero Merger merges with no options
	var zero Merger
	if _, err := zero.Report(); !errors.Is(err, ErrInvalidReport) || !strings.Contains(err.Error(), "no reports") {
		t.Errorf("no reports: %v", err)
	}
	for _, r := range shards {
		if err := zero.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := zero.Report(); err != nil || !bytes.Equal(mergeJSON(t, got), mergeJSON(t, want)) {
		t.Errorf("the zero Merger: %v", err)
	}
}

// checkSequential checks the parts of a merge that depend on the order
// of its shards against their definition: the shards taken by index,
// one after the other. The floating-point sums of the histograms and
// windows (and the arrival rates) are added in that order; each step's
// samples are the first 100 reasons met, each shard's sorted, with the
// first shard's sample; its kinds' reasons the first shard's; the
// generator the worst, the first of those alike.
func checkSequential(t *testing.T, shards []*Report, m *Report) {
	t.Helper()
	byIndex := slices.Clone(shards)
	slices.SortFunc(byIndex, func(a, b *Report) int { return a.Shard.Index - b.Shard.Index })
	start := byIndex[0].Started
	for _, r := range byIndex {
		if r.Started.Before(start) {
			start = r.Started
		}
	}
	var rate float64
	for _, r := range byIndex {
		rate += r.Arrivals.Rate
	}
	if m.Arrivals.Rate != rate {
		t.Errorf("arrival rate %v, added in order %v", m.Arrivals.Rate, rate)
	}
	for i, run := range m.Runs {
		for k, s := range run.Steps {
			where := fmt.Sprintf("run %d step %d", i+1, k+1)
			var sum, sumSq float64
			var samples map[string]Sample
			var kinds map[failure.Kind]string
			var wins [][2]float64
			for _, r := range byIndex {
				o := r.Runs[i].Steps[k]
				sum += o.Latency.sum
				sumSq += o.Latency.sumSq
				for _, reason := range sortedKeys(countsOfSamples(o.Samples)) {
					if _, ok := samples[reason]; !ok && len(samples) < 100 {
						if samples == nil {
							samples = map[string]Sample{}
						}
						samples[reason] = o.Samples[reason]
					}
				}
				for kind, reason := range o.KindReasons {
					if _, ok := kinds[kind]; !ok {
						if kinds == nil {
							kinds = map[failure.Kind]string{}
						}
						kinds[kind] = reason
					}
				}
				shift := int(shiftOf(r.Started.Sub(start), r.Window))
				for w, win := range o.Windows {
					for len(wins) <= w+shift {
						wins = append(wins, [2]float64{})
					}
					if win.Latency != nil {
						wins[w+shift][0] += win.Latency.sum
						wins[w+shift][1] += win.Latency.sumSq
					}
				}
			}
			if s.Latency.sum != sum || s.Latency.sumSq != sumSq {
				t.Errorf("%s: latency sums %v, %v; added in order %v, %v", where, s.Latency.sum, s.Latency.sumSq, sum, sumSq)
			}
			if len(samples) != 100 {
				t.Fatalf("%s: %d samples, want more than 100 reasons", where, len(samples))
			}
			if !maps.Equal(s.Samples, samples) {
				t.Errorf("%s: samples %v\nin order %v", where, slices.Sorted(maps.Keys(s.Samples)), slices.Sorted(maps.Keys(samples)))
			}
			if !maps.Equal(s.KindReasons, kinds) {
				t.Errorf("%s: kind reasons %v, in order %v", where, s.KindReasons, kinds)
			}
			if len(s.Windows) != len(wins) {
				t.Fatalf("%s: %d windows, in order %d", where, len(s.Windows), len(wins))
			}
			for w, win := range s.Windows {
				if l := win.Latency; l != nil && (l.sum != wins[w][0] || l.sumSq != wins[w][1]) {
					t.Errorf("%s: window %d sums %v, %v; added in order %v", where, w, l.sum, l.sumSq, wins[w])
				}
			}
		}
	}
	worst := byIndex[0]
	for _, r := range byIndex[1:] {
		g, b := r.Generator, worst.Generator
		if g.Delay > b.Delay || g.Delay == b.Delay && g.CPU > b.CPU {
			worst = r
		}
	}
	if want := "shard " + worst.Shard.String() + ": " + worst.Generator.Why; m.Generator.Why != want {
		t.Errorf("generator %q, the first worst %q", m.Generator.Why, want)
	}
}

// countsOfSamples counts each sample's reason once.
func countsOfSamples(m map[string]Sample) map[string]int64 {
	out := make(map[string]int64, len(m))
	for k := range m {
		out[k] = 1
	}
	return out
}
