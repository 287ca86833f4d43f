package loadtest

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"time"
)

// DuetOptions tune a duet. The zero value means the defaults.
type DuetOptions struct {
	// Budget bounds the duet's time (default 60s): it runs pairs of
	// rounds until the verdict is settled or the budget is spent.
	Budget time.Duration
	// MaxPairs caps the pairs (default Budget / (2·RoundTime)); the
	// looks at the data are planned up to it.
	MaxPairs int
	// RoundTime bounds each round; a plan with its own time limit keeps
	// it. By default the duet chooses it: a pilot pair of 500 ms rounds
	// (not compared) measures each step's responses per second, and the
	// rounds last long enough that every step's highest requested
	// percentile rests on RoundResponses(p) responses, between 500 ms and
	// Budget/40 (at least 20 pairs fit the budget).
	RoundTime time.Duration
	// Compare sets the percentiles, the minimum effects and alpha.
	Compare CompareOptions
	// RoundGap is the time between rounds of a duet run as shards (or
	// given StartAt), for a round's end and the next one's set-up
	// (default DuetRoundGap, 400 ms): raise it for plans slow to set up
	// or busy machines; every shard must have the same.
	RoundGap time.Duration
}

// DuetReport is what a duet measured: each round's report, pair by pair
// (A[i] and B[i] are pair i), and the paired comparison of B (the
// candidate) with A (the baseline).
type DuetReport struct {
	A, B       []*Report
	Comparison *Comparison
	// Looks are the pair counts at which the duet planned to look at
	// the data; it stopped at the first settled one, or when the budget
	// was spent.
	Looks []int
	// Seed drew the order inside each pair (the plan's seed when it has
	// one): Seed(n) on the plan replays it. BFirst[i] says whether B ran
	// first in pair i.
	Seed   uint64
	BFirst []bool
	// RoundTime is the rounds' time limit the duet used; Pilot, when
	// the duet chose it, is the pilot pair (A's round, then B's) that
	// measured the responses per second it was chosen from (not
	// compared).
	RoundTime time.Duration
	Pilot     []*Report
	// Compare are the comparison's options, defaults filled in, and
	// PlannedLooks the number of looks each interval's level is divided
	// by (len(Looks), or more when fewer looks fit MaxPairs than were
	// planned): what MergeDuets judges the merged rounds by.
	Compare      CompareOptions
	PlannedLooks int
	// T0 is the start of a duet run as shards (StartAt, BENCHGATE_T0):
	// round r of every shard began at T0 + r·(RoundTime + RoundGap).
	// Both are zero for a duet run in one process.
	T0       time.Time
	RoundGap time.Duration
}

// Round times of a duet that chooses them (DuetOptions.RoundTime 0).
const (
	pilotRound    = 500 * time.Millisecond
	minPairsRound = 20 // the longest round leaves the budget this many pairs
)

// RoundResponses is how many responses a duet round needs for a step's
// percentile p to rest on 10 responses at or above it: 20 for p50, 200
// for p95, 1,000 for p99. Below that a round's p95 or p99 is one of its
// few largest responses, and varies from round to round far more than
// the step does.
func RoundResponses(p float64) int {
	if p >= 100 {
		p = 99.99
	}
	return int(math.Ceil(10 / (1 - p/100)))
}

// chooseRoundTime returns the round time at which every gated step of
// the pilot's reports (A's and B's) gets RoundResponses of its highest
// percentile, at the slower side's rate, between pilotRound and
// longest.
func chooseRoundTime(pilot []*Report, percentiles []float64, longest time.Duration) time.Duration {
	need := RoundResponses(slices.Max(percentiles))
	round := pilotRound
	for _, r := range pilot {
		if r == nil || r.TotalTime <= 0 {
			continue
		}
		for _, run := range r.Runs {
			if run == nil {
				continue
			}
			for _, st := range run.Steps {
				if st == nil {
					continue
				}
				if st.Good == 0 {
					return max(pilotRound, longest) // nothing to rate it by: the longest round
				}
				perSecond := float64(st.Good) / r.TotalTime.Seconds()
				round = max(round, time.Duration(float64(need)/perSecond*float64(time.Second)))
			}
		}
	}
	return max(pilotRound, min(round, longest))
}

// Duet runs the same plan against two targets, A (the baseline build of
// the application) and B (the candidate), in pairs of short rounds on
// the same machine, and compares them pair by pair. plan builds the
// plan for a base URL; it is called once per round. A and B may be the
// same address (an A/A check of the gate).
//
// A stored baseline was measured on another machine, or on the same one
// at another time; a duet measures both builds now, interleaved, so the
// machine's noise (a neighbour on a shared CI runner, CPU frequency, a
// warm or cold cache) is common to both rounds of a pair and cancels in
// their ratio. Which side goes first in a pair is drawn from the plan's
// seed, so a drift within a pair favours neither side.
//
// The test: per step and percentile (and per run in the open model,
// iterations per second; see CompareExecutions), each computed from a
// round's whole histogram, the pairs' log-ratios log(B/A) give the Hodges–Lehmann
// estimate of the change and its exact Wilcoxon signed-rank interval
// (CompareOptions tells the verdicts apart). The duet looks at the data
// at planned pair counts growing by half each time (the first where
// 2^-n permits a bounded interval) up to MaxPairs, and stops at the
// first look where the verdict is settled: a metric regressed, or every
// metric shows no regression. To keep the chance of a false
// "regressed" at Alpha over all those looks, each look's intervals
// have the level Alpha / (metrics × planned looks): Bonferroni over the
// looks as well as the metrics, a flat (Pocock-like) boundary that needs
// no model of how the looks correlate; as they are positively
// correlated the true level is below Alpha. When the budget runs out
// between looks, the duet looks once more at what it has, in place of
// the looks left. Inconclusive metrics after the last look are reported
// as such, never as "no regression".
//
// When the plan func returns a shard (Shard(k, N) or ShardEnv with N
// above 1), the duet is shard k of a duet run as N shards (on N hosts,
// a Kubernetes Indexed Job, a CI matrix, Ginkgo's parallel processes):
// its rounds follow a schedule every shard knows without talking to the
// others (see DuetRoundGap), it runs every planned pair and judges
// nothing; MergeDuets adds the N shards' duets up and judges them as
// one. Such a duet needs a T0 (StartAt, or BENCHGATE_T0 with ShardEnv),
// a RoundTime, a pair count (MaxPairs, or a Budget) and the plan's
// Seed, and refuses before sending anything without them. A whole plan
// given StartAt (ShardEnv with one shard and BENCHGATE_T0) runs on the
// same schedule, every planned pair, and is judged at its end as
// MergeDuets judges.
//
// Processes in the plan is refused: a duet's rounds are run one after
// another by this process; run the duet as shards instead.
func Duet(ctx context.Context, plan func(baseURL string) *Plan, a, b string, opts DuetOptions) (*DuetReport, error) {
	given := opts // a shard's duet takes the options as given: no defaults
	if opts.Budget <= 0 {
		opts.Budget = time.Minute
	}
	choose := opts.RoundTime <= 0
	if choose {
		opts.RoundTime = pilotRound
	}
	maxPairs := opts.MaxPairs
	if maxPairs <= 0 {
		maxPairs = max(1, int(opts.Budget/(2*opts.RoundTime)))
	}
	if err := opts.Compare.checkSuite(); err != nil {
		return nil, fmt.Errorf("duet: %w", err)
	}
	o := opts.Compare.withDefaults()
	first := plan(a)
	if first == nil {
		return nil, fmt.Errorf("duet: the plan func returned nil for %s", a)
	}
	if err := duetProcesses(first); err != nil {
		return nil, err
	}
	if first.shardSet && first.cfg.Segment.Count > 1 || first.startSet {
		return duetShard(ctx, plan, first, a, b, given, o)
	}
	d := &DuetReport{Seed: first.cfg.Seed, Compare: o}
	var err error
	var looks int
	metrics := planMetrics(first, o)
	if d.Looks, looks, err = planLooks(maxPairs, metrics, o.specAlpha()); err != nil {
		return nil, fmt.Errorf("duet: %w (MaxPairs %d, Budget %v, RoundTime %v): raise the Budget or MaxPairs, lower RoundTime, or compare fewer Percentiles",
			err, maxPairs, opts.Budget, opts.RoundTime)
	}
	if d.Seed == 0 {
		d.Seed = rand.Uint64()
	}
	rng := rand.New(rand.NewPCG(d.Seed, 0x64756574))
	run := func(target string) (*Report, error) {
		p := first // the plan that gave the seed serves A's first round
		if target == a && p != nil {
			first = nil
		} else {
			if p = plan(target); p == nil {
				return nil, fmt.Errorf("duet: the plan func returned nil for %s", target)
			}
			if err := duetProcesses(p); err != nil {
				return nil, err
			}
		}
		if p.cfg.TimeLimit == 0 {
			p.cfg.TimeLimit = opts.RoundTime
		}
		if p.cfg.GracePeriod == 0 {
			p.cfg.GracePeriod = -1 // a round ends at its time: in-flight requests are left out, for both alike
		}
		r, err := p.Execute(ctx)
		if err != nil {
			return r, fmt.Errorf("duet round against %s: %w", target, err)
		}
		return r, nil
	}
	// pair runs a pair of rounds, which side first drawn from the seed
	pair := func() (bFirst bool, ra, rb *Report, err error) {
		bFirst = rng.IntN(2) == 1
		if bFirst {
			if rb, err = run(b); err == nil {
				ra, err = run(a)
			}
		} else if ra, err = run(a); err == nil {
			rb, err = run(b)
		}
		return bFirst, ra, rb, err
	}
	start := time.Now()
	if choose {
		// the pilot pair, both sides in the order the seed draws; its
		// rounds also warm both builds up and are not compared
		_, ra, rb, err := pair()
		d.Pilot = []*Report{ra, rb}
		if err != nil {
			return d, err
		}
		longest := max(pilotRound, (opts.Budget-time.Since(start))/(2*minPairsRound))
		opts.RoundTime = chooseRoundTime(d.Pilot, o.Percentiles, longest)
		if opts.MaxPairs <= 0 {
			maxPairs = max(1, int((opts.Budget-time.Since(start))/(2*opts.RoundTime)))
			if d.Looks, looks, err = planLooks(maxPairs, metrics, o.specAlpha()); err != nil {
				return d, fmt.Errorf("duet: %w (MaxPairs %d, Budget %v, RoundTime %v chosen by the pilot pair): raise the Budget or compare fewer Percentiles",
					err, maxPairs, opts.Budget, opts.RoundTime)
			}
		}
	}
	d.RoundTime, d.PlannedLooks = opts.RoundTime, looks
	finish := func() {
		d.Comparison = comparePaired(d.A, d.B, o, looks)
		d.Comparison.Seed, d.Comparison.Elapsed = d.Seed, time.Since(start)
		d.Comparison.RoundTime, d.Comparison.RoundChosen = opts.RoundTime, choose
		d.Comparison.explain()
	}
	next := 0
	for i := 0; i < maxPairs; i++ {
		if i > 0 && time.Since(start) >= opts.Budget {
			break
		}
		bFirst, ra, rb, err := pair()
		if err != nil {
			if len(d.A) > 0 && looks > 0 {
				finish()
			}
			return d, err
		}
		d.A, d.B, d.BFirst = append(d.A, ra), append(d.B, rb), append(d.BFirst, bFirst)
		if next < len(d.Looks) && i+1 == d.Looks[next] {
			next++
			finish()
			if d.Comparison.Settled() {
				return d, nil
			}
		}
	}
	if d.Comparison == nil || d.Comparison.Pairs != len(d.A) {
		finish() // the budget ran out between looks: this look replaces those left
	}
	return d, nil
}

// planMetrics counts the metrics a duet of plan p judges by an
// interval: each step's percentiles, and in the open model each run's
// iterations per second (a closed model's are reported, not gated).
func planMetrics(p *Plan, o CompareOptions) int {
	k, open := 0, p.openModel()
	for _, run := range p.runs {
		if run == nil || len(run.Steps()) == 0 {
			continue
		}
		k += len(run.Steps()) * len(o.Percentiles)
		if open {
			k++
		}
	}
	return max(k, 1)
}

// openModel reports whether the plan's executor begins iterations on a
// schedule (its Work plans arrivals).
func (p *Plan) openModel() bool {
	_, w, err := p.compile()
	return err == nil && w.Arrivals > 0
}

// planLooks plans the pair counts at which a duet of at most maxPairs
// pairs looks at its k metrics: geometric (×1.5) from the first count
// whose intervals can be bounded at alpha/(k·L), up to maxPairs, with L
// the number of looks. It returns the counts and L.
func planLooks(maxPairs, k int, alpha float64) ([]int, int, error) {
	for L := 1; L <= 16; L++ {
		n0 := minPairs(alpha/float64(k*L)) + 2 // two more than the fewest: an interval not pinned to the extremes
		if n0 > maxPairs {
			if L == 1 {
				return nil, 0, fmt.Errorf("%d metrics at α = %g need %d pairs at least, and at most %d fit", k, alpha, n0, maxPairs)
			}
			break
		}
		var counts []int
		for n := n0; n < maxPairs; n = int(math.Ceil(float64(n) * 1.5)) {
			counts = append(counts, n)
		}
		counts = append(counts, maxPairs)
		if len(counts) <= L {
			return counts, L, nil
		}
	}
	// too many looks for the budget: a single look at the end
	return []int{maxPairs}, 1, nil
}

// comparePaired compares per-round figures of A and B pair by pair,
// step by step; looks is the number of planned looks.
func comparePaired(as, bs []*Report, o CompareOptions, looks int) *Comparison {
	c := &Comparison{Options: o, Duet: true, Looks: max(looks, 1), Pairs: min(len(as), len(bs))}
	if len(as) == 0 {
		return c
	}
	for i := range c.Pairs {
		if as[i].Invalid() != "" || bs[i].Invalid() != "" {
			c.Contended++
		}
	}
	c.old, c.new = as[:c.Pairs], bs[:c.Pairs]
	var pend []pending
	ref := as[0]
	for ri, run := range ref.Runs {
		if run == nil || len(run.Steps) == 0 {
			continue
		}
		for k, step := range run.Steps {
			if step == nil {
				continue
			}
			for _, p := range o.Percentiles {
				f := func(s *StepReport) float64 { return float64(s.Latency.Percentile(p) / time.Microsecond) }
				pend = append(pend, pending{Delta: Delta{Run: run.Name, Step: step.Name, Metric: "p" + trimFloat(p)},
					old: stepValues(as, ref, ri, k, f), new: stepValues(bs, ref, ri, k, f), larger: true})
			}
			d := compareErrors(ref, ri, k, as, bs, o)
			d.N = [2]int{c.Pairs, c.Pairs}
			pend = append(pend, pending{Delta: d, rule: true})
		}
		last, lastK := run.Steps[len(run.Steps)-1], len(run.Steps)-1
		if last != nil {
			pend = append(pend, pending{Delta: Delta{Run: run.Name, Step: "(iterations)", Metric: "iter/s"},
				old: iterRates(as, ref, ri, lastK), new: iterRates(bs, ref, ri, lastK),
				report: !openModel(as) || !openModel(bs)})
		}
	}
	c.Tests = tested(pend)
	for _, p := range pend {
		d := p.Delta
		if p.rule {
			c.Deltas = append(c.Deltas, d)
			continue
		}
		var xa, xb, diffs []float64
		for i := range min(len(p.old), len(p.new)) {
			va, vb := p.old[i], p.new[i]
			if !(va > 0) || !(vb > 0) || math.IsInf(va, 0) || math.IsInf(vb, 0) {
				continue
			}
			xa, xb = append(xa, va), append(xb, vb)
			diffs = append(diffs, math.Log(vb/va))
		}
		d.N = [2]int{len(diffs), len(diffs)}
		d.Old, d.NewMedian = median(xa), median(xb)
		strict, iv := c.bounds(func(a float64) interval { return pairedInterval(diffs, a) }, p.larger)
		if !p.larger {
			iv.P = signedRankGreater(negate(diffs))
		}
		c.decide(&d, iv, strict, p.larger)
		if p.report {
			d.Verdict, d.Why = Reported, closedRate
		}
		c.Deltas = append(c.Deltas, d)
	}
	return c
}

// explain fills in why a duet's metrics are inconclusive.
func (c *Comparison) explain() {
	for i, d := range c.Deltas {
		if d.Verdict != Inconclusive || d.Why != "" {
			continue
		}
		c.Deltas[i].Why = fmt.Sprintf("no verdict: %s after %d pairs in %v; give it a longer budget", d.ChangeText(), d.N[0], c.Elapsed.Round(100*time.Millisecond))
	}
}

func negate(xs []float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = -x
	}
	return out
}

// signedRankGreater is the exact one-sided p-value of the Wilcoxon
// signed-rank test that the differences xs are centred above zero:
// P(W+ ≥ observed) under the null, zeros dropped, ties given average
// ranks (counted in half ranks so the distribution stays exact).
func signedRankGreater(xs []float64) float64 {
	var nz []float64
	for _, x := range xs {
		if x != 0 {
			nz = append(nz, x)
		}
	}
	n := len(nz)
	if n == 0 {
		return 1
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(i, j int) bool { return math.Abs(nz[idx[i]]) < math.Abs(nz[idx[j]]) })
	ranks := make([]int, n) // doubled ranks, so averages of ties stay integers
	for i := 0; i < n; {
		j := i
		for j+1 < n && math.Abs(nz[idx[j+1]]) == math.Abs(nz[idx[i]]) {
			j++
		}
		r := (i + 1) + (j + 1) // twice the average of ranks i+1..j+1
		for k := i; k <= j; k++ {
			ranks[idx[k]] = r
		}
		i = j + 1
	}
	observed := 0
	total := 0
	for i, x := range nz {
		total += ranks[i]
		if x > 0 {
			observed += ranks[i]
		}
	}
	// counts[w]: subsets of the ranks summing to w
	counts := make([]float64, total+1)
	counts[0] = 1
	for _, r := range ranks {
		for w := total; w >= r; w-- {
			counts[w] += counts[w-r]
		}
	}
	var tail float64
	for w := observed; w <= total; w++ {
		tail += counts[w]
	}
	return tail / math.Pow(2, float64(n))
}
