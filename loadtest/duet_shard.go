package loadtest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
)

// DuetRoundGap is the default time (DuetOptions.RoundGap) between the
// end of one round of a duet run as shards (or given StartAt) and the
// start of the next: round r of every shard starts at T0 +
// r·(RoundTime + gap). It leaves room for a round's end (in-flight
// requests are left out at its time: no grace period), its report and
// the next round's set-up, which must be done a quarter of the gap
// before its start (StartAt's readiness margin) or the shard stops with
// StartAt's error, having sent nothing at the wrong time. A shard's
// duet of P pairs lasts 2·P·(RoundTime + gap) less one gap.
const DuetRoundGap = 400 * time.Millisecond

// duetProcesses refuses Processes in a duet's plan: the copies would
// re-run the test up to its first Execute, which is the duet's first
// round, not the round the parent runs.
func duetProcesses(p *Plan) error {
	if !p.procsSet {
		return nil
	}
	return fmt.Errorf("duet: Processes(%d) in the plan: a duet runs its rounds one after another in this process, and the copies Processes starts would re-run the test up to its first Execute (the duet's first round, not this one): nothing was sent; run the duet as N shards instead (Shard(k, N) or ShardEnv, StartAt, then MergeDuets)", p.procs)
}

// duetShard runs shard k of N of a duet on the schedule every shard
// knows: round r at T0 + r·(RoundTime + RoundGap), every planned
// pair, no pilot and no verdict. A whole plan given StartAt runs on the
// same schedule, and is judged at its end as MergeDuets judges.
func duetShard(ctx context.Context, plan func(string) *Plan, first *Plan, a, b string, opts DuetOptions, o CompareOptions) (*DuetReport, error) {
	seg := first.cfg.Segment
	whole := !first.shardSet || seg.Count <= 1
	where := fmt.Sprintf("duet shard %d/%d", seg.Index, seg.Count)
	if whole {
		where = "duet from T0"
	}
	switch {
	case !first.startSet || first.startAt.IsZero():
		return nil, fmt.Errorf("%s: no T0 (StartAt, or %s with ShardEnv): a duet run as shards schedules every round from the same start time in every shard: nothing was sent", where, EnvT0)
	case opts.RoundTime <= 0:
		return nil, fmt.Errorf("%s: DuetOptions.RoundTime %v: a duet on a schedule from T0 needs a fixed round time above 0 (a pilot pair would choose it from one shard's data alone, and the shards would disagree): nothing was sent", where, opts.RoundTime)
	case opts.MaxPairs <= 0 && opts.Budget <= 0:
		return nil, fmt.Errorf("%s: DuetOptions.MaxPairs %d and Budget %v: a duet on a schedule from T0 needs a fixed number of pairs: set MaxPairs, or a Budget (the pairs are Budget / (2·(RoundTime + RoundGap))): nothing was sent", where, opts.MaxPairs, opts.Budget)
	case opts.RoundGap < 0:
		return nil, fmt.Errorf("%s: DuetOptions.RoundGap %v: want 0 (the default, DuetRoundGap %v) or more: nothing was sent", where, opts.RoundGap, DuetRoundGap)
	case first.cfg.Seed == 0 && !whole:
		return nil, fmt.Errorf("%s: the plan has no Seed: every shard must draw the same order of sides and the same segments (loadtest.Seed(n)): nothing was sent", where)
	}
	if err := first.checkShardOut(); err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	gap := opts.RoundGap
	if gap == 0 {
		gap = DuetRoundGap
	}
	pairs := opts.MaxPairs
	if pairs <= 0 {
		pairs = int(opts.Budget / (2 * (opts.RoundTime + gap)))
		if pairs < 1 {
			return nil, fmt.Errorf("%s: DuetOptions.Budget %v holds no pair of rounds of RoundTime %v and RoundGap %v: raise the Budget or set MaxPairs: nothing was sent", where, opts.Budget, opts.RoundTime, gap)
		}
	}
	d := &DuetReport{Seed: first.cfg.Seed, RoundTime: opts.RoundTime, RoundGap: gap, T0: first.startAt, Compare: o}
	planSeed, shardSet := first.cfg.Seed, first.shardSet
	if d.Seed == 0 {
		d.Seed = rand.Uint64() // a whole plan's: no other shard draws
	}
	var err error
	if d.Looks, d.PlannedLooks, err = planLooks(pairs, planMetrics(first, o), o.specAlpha()); err != nil {
		return nil, fmt.Errorf("%s: %w (MaxPairs %d, Budget %v, RoundTime %v): raise the Budget or MaxPairs, or compare fewer Percentiles: nothing was sent",
			where, err, pairs, opts.Budget, opts.RoundTime)
	}
	check := func(p *Plan, target string) error {
		switch {
		case p.cfg.Segment != seg || p.shardSet != shardSet:
			return fmt.Errorf("%s: the plan func's plan for %s is shard %v, its first plan shard %v: every round of a shard must be the same shard", where, target, p.cfg.Segment, seg)
		case p.cfg.Seed != planSeed:
			return fmt.Errorf("%s: the plan func's plan for %s has Seed %d, its first plan Seed %d: every round must have the same seed", where, target, p.cfg.Seed, planSeed)
		case p.cfg.TimeLimit > opts.RoundTime:
			return fmt.Errorf("%s: the plan's TimeLimit %v is above DuetOptions.RoundTime %v: every round must end in its slot of the schedule", where, p.cfg.TimeLimit, opts.RoundTime)
		case p.cfg.For > opts.RoundTime:
			return fmt.Errorf("%s: the plan's For %v is above DuetOptions.RoundTime %v: every round must end in its slot of the schedule", where, p.cfg.For, opts.RoundTime)
		}
		return duetProcesses(p)
	}
	if err := check(first, a); err != nil {
		return nil, err
	}
	firstReady := first.startReady
	// ShardEnv's BENCHGATE_OUT takes the shard's duet (written at its
	// end, also when a round failed: the merge then names the shard and
	// the pairs it lacks), not each round's report
	out := first.shardOut
	// round r's plan against target, started at its place on the schedule
	run := func(target string, r int) (*Report, error) {
		p := first
		if r > 0 || target != a {
			if p = plan(target); p == nil {
				return nil, fmt.Errorf("%s: the plan func returned nil for %s", where, target)
			}
			if err := check(p, target); err != nil {
				return nil, err
			}
		}
		first = nil
		p.shardOut, p.shardEnv = "", false
		ready := gap / 4
		if r == 0 {
			ready = firstReady
		}
		StartAt(d.slot(r), ready)(p)
		if p.cfg.TimeLimit == 0 && p.cfg.For == 0 {
			p.cfg.TimeLimit = opts.RoundTime
		}
		if p.cfg.GracePeriod == 0 {
			p.cfg.GracePeriod = -1 // as in one process: a round ends at its time
		}
		rep, err := p.Execute(ctx)
		if err != nil {
			return rep, fmt.Errorf("%s, round %d of %d against %s: %w", where, r+1, 2*pairs, target, err)
		}
		return rep, nil
	}
	rng := rand.New(rand.NewPCG(d.Seed, 0x64756574)) // as Duet draws the order
	for i := range pairs {
		bFirst := rng.IntN(2) == 1
		var ra, rb *Report
		if bFirst {
			if rb, err = run(b, 2*i); err == nil {
				ra, err = run(a, 2*i+1)
			}
		} else if ra, err = run(a, 2*i); err == nil {
			rb, err = run(b, 2*i+1)
		}
		if err != nil {
			return d, writeDuet(d, out, err)
		}
		d.A, d.B, d.BFirst = append(d.A, ra), append(d.B, rb), append(d.BFirst, bFirst)
	}
	if whole {
		d.judge()
	}
	return d, writeDuet(d, out, nil)
}

// writeDuet writes the duet to out (ShardEnv's BENCHGATE_OUT; nothing
// when it is ""), returning err joined with a failure to write.
func writeDuet(d *DuetReport, out string, err error) error {
	if out == "" {
		return err
	}
	if werr := writeFileWhole(out, d.WriteJSON); werr != nil {
		return errors.Join(err, fmt.Errorf("writing the duet to %s (%s): %w", out, EnvOut, werr))
	}
	return err
}

// slot is the start of round r of a duet run as shards.
func (d *DuetReport) slot(r int) time.Time {
	return d.T0.Add(time.Duration(r) * (d.RoundTime + d.RoundGap))
}

// shard is the manifest of the duet's first round when it is a shard's
// (nil otherwise).
func (d *DuetReport) shard() *ShardManifest {
	for _, rs := range [][]*Report{d.A, d.B} {
		for _, r := range rs {
			if r != nil && r.Shard != nil && r.Shard.Count > 1 {
				return r.Shard
			}
		}
	}
	return nil
}

// NoVerdict says why no verdict can be given on the duet ("" when one
// can): it is one shard's duet, which holds that shard's part of each
// round alone and judged nothing; a round gives none (Report.NoVerdict);
// or more than half of the pairs had a round whose generator saturated
// itself (Report.Invalid). HaveNoRegressions and benchgate merge refuse
// such a duet.
func (d *DuetReport) NoVerdict() string {
	if d == nil {
		return ""
	}
	if m := d.shard(); m != nil {
		return fmt.Sprintf("this duet is shard %s of a duet run as %d shards: its rounds hold that shard's part of the work alone and it judged nothing; merge the %d shards' duets (loadtest.MergeDuets, or their files with benchgate merge) and judge the merged duet", m, m.Count, m.Count)
	}
	for _, r := range append(append([]*Report(nil), d.A...), d.B...) {
		if why := r.NoVerdict(); why != "" {
			return "a round: " + why
		}
	}
	// rounds on a late generator are counted (a neighbour or the CPU
	// quota slowed both sides of a pair alike, and the order in each
	// pair is random); a generator that saturated itself (or whose
	// cause is unclear) measured itself: more than half of the pairs
	// with such a round is no measurement of the application
	if c := d.Comparison; c != nil {
		own, why := 0, ""
		for i := range min(len(d.A), len(d.B)) {
			for _, r := range []*Report{d.A[i], d.B[i]} {
				if g := r.Generator; g != nil && g.Saturated && g.Cause != CauseNeighbour && g.Cause != CauseQuota {
					own, why = own+1, r.Invalid()
					break
				}
			}
		}
		if own*2 > c.Pairs {
			return fmt.Sprintf("%d of %d pairs had a round whose %s", own, c.Pairs, why)
		}
	}
	return ""
}

// MergeDuets adds up the duets of the N shards of one duet run as
// shards (Duet with a plan run as Shard(k, N) and StartAt) into the duet
// of the whole plan, and judges it as Duet would have in one process:
// it looks at the merged pairs at the planned looks in order (the first
// L pairs at look L), stops at the first look whose verdict is settled,
// or else takes the last, and fills Comparison (its Elapsed is the
// schedule's time up to that look's last round). The shards ran every
// planned pair; the merged duet holds them all, whichever look judged.
//
// Every shard must be there once and their duets must agree on the
// seed, T0, the round time and gap, the pairs and the order inside each
// (BFirst), the planned looks and the comparison's options; round i of
// side A is merged across the shards by MergeWith (and B's likewise),
// which checks each round's manifests. opts are MergeWith's, its Names
// naming the shards' duets. Each refusal names the duets and values and
// wraps ErrInvalidReport.
func MergeDuets(opts MergeOptions, duets ...*DuetReport) (*DuetReport, error) {
	name := func(i int) string {
		if i < len(opts.Names) && opts.Names[i] != "" {
			return opts.Names[i]
		}
		return fmt.Sprintf("duet %d", i+1)
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("merge duets: %w: %s", ErrInvalidReport, fmt.Sprintf(format, args...))
	}
	if len(duets) == 0 {
		return nil, bad("no duets")
	}
	shards := make([]*ShardManifest, len(duets))
	for i, d := range duets {
		switch {
		case d == nil:
			return nil, bad("%s is nil", name(i))
		case len(d.A) == 0 || len(d.A) != len(d.B) || len(d.A) != len(d.BFirst):
			return nil, bad("%s holds %d rounds of A, %d of B and %d pair orders: a shard's duet holds every pair it planned", name(i), len(d.A), len(d.B), len(d.BFirst))
		case slices.Contains(d.A, nil) || slices.Contains(d.B, nil):
			return nil, bad("%s has a round that is nil", name(i))
		case d.RoundTime <= 0 || d.RoundGap <= 0:
			return nil, bad("%s has round time %v and gap %v: a shard's duet runs on a schedule of both above 0", name(i), d.RoundTime, d.RoundGap)
		}
		if shards[i] = d.shard(); shards[i] == nil {
			return nil, bad("%s is not a shard's duet (its rounds have no manifest of shard k of N, N above 1): it was run in one process, or merged already", name(i))
		}
		if err := checkLooks(d.Looks, d.PlannedLooks); err != nil {
			return nil, bad("%s: %v", name(i), err)
		}
		if last := d.Looks[len(d.Looks)-1]; last != len(d.A) {
			return nil, bad("%s holds %d pairs of the %d it planned: a shard's duet runs every pair it planned (did it stop on an error?)", name(i), len(d.A), last)
		}
	}
	f, first := duets[0], shards[0]
	for i, d := range duets[1:] {
		i++
		switch m := shards[i]; {
		case m.Count != first.Count:
			return nil, bad("%s is one of %d shards, %s one of %d", name(0), first.Count, name(i), m.Count)
		case d.Seed != f.Seed:
			return nil, bad("%s and %s ran with different seeds: %d and %d (give every shard the same loadtest.Seed)", name(0), name(i), f.Seed, d.Seed)
		case !d.T0.Equal(f.T0):
			return nil, bad("%s and %s were given different start times T0: %s and %s", name(0), name(i), fmtT0(f.T0), fmtT0(d.T0))
		case d.RoundTime != f.RoundTime:
			return nil, bad("%s and %s ran rounds of %v and %v (give every shard the same DuetOptions.RoundTime)", name(0), name(i), f.RoundTime, d.RoundTime)
		case d.RoundGap != f.RoundGap:
			return nil, bad("%s and %s left gaps of %v and %v between rounds (give every shard the same DuetOptions.RoundGap)", name(0), name(i), f.RoundGap, d.RoundGap)
		case len(d.A) != len(f.A):
			return nil, bad("%s and %s ran %d and %d pairs (give every shard the same DuetOptions.MaxPairs or Budget)", name(0), name(i), len(f.A), len(d.A))
		case !slices.Equal(d.BFirst, f.BFirst):
			return nil, bad("%s and %s ran the sides of their pairs in different orders", name(0), name(i))
		case !slices.Equal(d.Looks, f.Looks) || d.PlannedLooks != f.PlannedLooks:
			return nil, bad("%s and %s planned different looks: %v of %d and %v of %d", name(0), name(i), f.Looks, f.PlannedLooks, d.Looks, d.PlannedLooks)
		case !sameCompare(d.Compare, f.Compare):
			return nil, bad("%s and %s compare with different options: %s and %s (give every shard the same DuetOptions.Compare)", name(0), name(i), compareText(f.Compare), compareText(d.Compare))
		}
	}
	byIndex := make([]int, first.Count)
	for k := range byIndex {
		byIndex[k] = -1
	}
	for i, m := range shards {
		if j := byIndex[m.Index]; j >= 0 {
			return nil, bad("shard %s twice: %s and %s", m, name(j), name(i))
		}
		byIndex[m.Index] = i
	}
	var missing []int
	for k, i := range byIndex {
		if i < 0 {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 && !opts.AllowMissing {
		return nil, bad("%d of %d shards' duets missing: %s", len(missing), first.Count, shardList(missing, first.Count))
	}
	out := &DuetReport{Seed: f.Seed, T0: f.T0, RoundTime: f.RoundTime, RoundGap: f.RoundGap, Looks: slices.Clone(f.Looks), PlannedLooks: f.PlannedLooks,
		BFirst: slices.Clone(f.BFirst), Compare: f.Compare}
	for i := range f.A {
		for _, side := range []string{"A", "B"} {
			mo := opts
			mo.Names = make([]string, len(duets))
			reports := make([]*Report, len(duets))
			for j, d := range duets {
				mo.Names[j] = fmt.Sprintf("%s (pair %d, %s's round)", name(j), i+1, side)
				reports[j] = d.A[i]
				if side == "B" {
					reports[j] = d.B[i]
				}
			}
			m, err := MergeWith(mo, reports...)
			if err != nil {
				return nil, fmt.Errorf("merge duets: %w", err)
			}
			if side == "A" {
				out.A = append(out.A, m)
			} else {
				out.B = append(out.B, m)
			}
		}
	}
	out.judge()
	return out, nil
}

// checkLooks checks a duet's planned looks: pair counts rising from 1,
// as many as planned or fewer.
func checkLooks(looks []int, planned int) error {
	if len(looks) == 0 || planned < len(looks) || planned > 16 {
		return fmt.Errorf("looks %v of %d planned: want 1 to 16 looks, as many as planned or fewer", looks, planned)
	}
	for i, n := range looks {
		if n < 1 || (i > 0 && n <= looks[i-1]) {
			return fmt.Errorf("looks %v: want pair counts rising from 1", looks)
		}
	}
	return nil
}

// judge compares the duet's pairs at its planned looks in order, as
// Duet does while it runs, and keeps the first settled look's
// comparison, or the last look's.
func (d *DuetReport) judge() {
	for _, n := range d.Looks {
		// the schedule's time up to the look's last round
		d.judgeAt(n, d.slot(2*n-1).Add(d.RoundTime).Sub(d.T0), false)
		if d.Comparison.Settled() {
			return
		}
	}
}

// judgeAt compares the first n pairs, filled in as Duet's finish does
// (the duet took elapsed to get there; chosen: a pilot pair chose its
// round time).
func (d *DuetReport) judgeAt(n int, elapsed time.Duration, chosen bool) {
	c := comparePaired(d.A[:n], d.B[:n], d.Compare, d.PlannedLooks)
	c.Seed, c.RoundTime, c.Elapsed, c.RoundChosen = d.Seed, d.RoundTime, elapsed, chosen
	c.explain()
	d.Comparison = c
}

// sameCompare reports whether two duets compare alike (Confirm aside:
// a duet never calls it).
func sameCompare(a, b CompareOptions) bool {
	return slices.Equal(a.Percentiles, b.Percentiles) && a.MinEffect == b.MinEffect && a.TailMinEffect == b.TailMinEffect &&
		a.MinAbsolute == b.MinAbsolute && a.Alpha == b.Alpha && a.MaxErrorRateIncrease == b.MaxErrorRateIncrease &&
		a.PassInconclusive == b.PassInconclusive && a.MaxCalibrationRatio == b.MaxCalibrationRatio && a.GatedSpecs == b.GatedSpecs
}

func compareText(o CompareOptions) string {
	return fmt.Sprintf("percentiles %v, min effect %g (tails %g), min absolute %v, alpha %g over %d specs, error rate +%g",
		o.Percentiles, o.MinEffect, o.TailMinEffect, o.MinAbsolute, o.Alpha, o.GatedSpecs, o.MaxErrorRateIncrease)
}
