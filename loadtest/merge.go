package loadtest

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/benchgate/benchgate/engine"
)

// MergeOptions are the choices of MergeWith.
type MergeOptions struct {
	// Names name the reports in errors and warnings (their files, say),
	// in the order given; a report without a name is called by its
	// place ("report 3").
	Names []string
	// AllowBinaryMismatch merges shards whose executables differ (CI
	// matrix jobs that each build the test binary): the plan hash must
	// still agree, and the merged report warns of the difference.
	AllowBinaryMismatch bool
	// AllowMissing merges the shards that are there when some are not
	// (a shard whose process or host died and wrote no report): the
	// merged report adds up the others' data, lists the missing shards
	// in MissingShards, says so in a warning and carries an error (Err,
	// wrapping ErrMissingShards, restored by ReadJSON from
	// MissingShards) so that every matcher fails on it: the others'
	// figures can be read, but no verdict on the whole plan can pass.
	// Without it a missing shard is refused, naming it.
	AllowMissing bool
	// AllowFailed merges shards that did not run to their end (a
	// cancel, a deadline, an error, a VU hook that failed; a report
	// that carries an error): without it such a shard is refused,
	// naming it and why, since its report holds less than its part of
	// the plan. With it the caller must see to the verdict (Processes
	// sets the merged report's Err).
	AllowFailed bool
	// AllowApart merges shards that were given no common start time
	// (StartAt, BENCHGATE_T0) and did not start together (more than a
	// window apart) or did not run at the same time (one began after
	// another had ended). Without it such shards are refused, since
	// nothing then says they are of one execution of the plan (a shard
	// run again later, a report of yesterday's run), and the plan's
	// load (its rate, its users at once) held only while all of them
	// ran. With it the merged report warns of it.
	AllowApart bool
}

// ErrMissingShards is wrapped by the error of a report merged without
// some of its shards (MergeOptions.AllowMissing; Report.MissingShards).
var ErrMissingShards = errors.New("shards missing from the merge")

// missingShardsError is a merged report's Err when shards are missing.
func missingShardsError(missing []int, count int) error {
	return fmt.Errorf("merge: %w: %d of %d shards missing: %s (the report holds the others' data only)",
		ErrMissingShards, len(missing), count, shardList(missing, count))
}

// shardList names shards ("0/4, 2/4"), the first 20 and how many more.
func shardList(shards []int, count int) string {
	const most = 20
	names := make([]string, 0, min(len(shards), most+1))
	for i, k := range shards {
		if i == most {
			names = append(names, fmt.Sprintf("and %d more", len(shards)-most))
			break
		}
		names = append(names, fmt.Sprintf("%d/%d", k, count))
	}
	return strings.Join(names, ", ")
}

// Merge adds the reports of the N shards of one plan (each run with
// Shard(k, N)) up into the report of the whole plan: MergeWith with no
// options.
func Merge(reports ...*Report) (*Report, error) { return MergeWith(MergeOptions{}, reports...) }

// MergeWith adds the reports of the N shards of one plan up into the
// report of the whole plan. Every shard must be there once, with a
// manifest (Report.Shard) that agrees with the others' on the shard
// count, the plan hash, the seed, the histogram layout and (unless
// opts allow otherwise) the binary hash; a report that carries an error
// (Report.Err) is refused. The shards must be of one execution of the
// plan: two reports of one execution (ShardManifest.Execution: a report
// copied under another index) are refused, and so are shards that were
// given no common T0 and did not run at the same time (one began after
// another had ended) unless opts allow it (AllowApart). Each refusal
// names the reports and the values, and wraps ErrInvalidReport.
//
// Counts add, and so do the latency histograms of every run, step, phase
// and time window: the merged histograms are exactly those one recorder
// would have kept of all the shards' responses. Times are put on one
// clock by each shard's start (Report.Started): the timeline and the
// windows of a shard that started a non-whole number of seconds
// (windows) after the first are shifted to the nearest one, and a
// warning says by how much. TotalTime runs from the earliest first
// request to the latest last response, as far as the shards' clocks
// agree. The merged report's Shard is nil and Shards lists the shards'
// manifests. Per-request records (keep level 1 and above) stay in the
// shards' reports: the merged runs hold none, and a warning says so.
//
// MergeWith is a Merger given the reports in turn: the reports are the
// caller's and stay in memory while it runs (it neither changes nor
// keeps them), and the merge holds beside them what a Merger does. To
// merge reports read from files one at a time, holding one in memory
// at a time, use a Merger. The result does not depend on the order of
// the reports, and is the Merger's for the same reports in any order.
func MergeWith(opts MergeOptions, reports ...*Report) (*Report, error) {
	if len(reports) == 0 {
		return nil, invalidMerge("no reports")
	}
	m := NewMerger(opts)
	// every report is checked alone, then against the first, before any
	// is added: a refusal names the first report at fault in that order
	for i, r := range reports {
		if err := checkShard(opts, m.nameAt(i), r); err != nil {
			return nil, err
		}
	}
	if err := sameShape(reports[0], reports[0]); err != nil {
		return nil, invalidMerge("%s: %v", m.nameAt(0), err)
	}
	for i, r := range reports[1:] {
		if err := checkAgainst(opts, m.nameAt(0), reports[0].Shard, reports[0], m.nameAt(i+1), r); err != nil {
			return nil, err
		}
	}
	for _, r := range reports {
		if err := m.Add(r); err != nil {
			return nil, err
		}
	}
	return m.Report()
}

// invalidMerge is a merge's refusal of its reports: it wraps
// ErrInvalidReport.
func invalidMerge(format string, args ...any) error {
	return fmt.Errorf("merge: %w: %s", ErrInvalidReport, fmt.Sprintf(format, args...))
}

// checkShard checks one report alone: a shard's report, whole, with a
// manifest that agrees with it.
func checkShard(opts MergeOptions, name string, r *Report) error {
	switch {
	case r == nil:
		return invalidMerge("%s is nil", name)
	case r.Err != nil && !opts.AllowFailed:
		return invalidMerge("%s carries an error: %v", name, r.Err)
	case r.Shard == nil:
		return invalidMerge("%s has no shard manifest (not run with loadtest.Shard, or a merged report)", name)
	case !opts.AllowFailed && shardFailed(r) != "":
		return invalidMerge("%s did not run to its end (%s): it holds less than its part of the plan", name, shardFailed(r))
	case r.Shard.Count < 1 || (engine.Segment{Index: r.Shard.Index, Count: r.Shard.Count}).Check() != nil:
		return invalidMerge("%s: shard index %d of %d (at most %d shards)", name, r.Shard.Index, r.Shard.Count, engine.MaxSegments)
	case r.Window <= 0 || r.Window != r.Shard.Histogram.Window:
		return invalidMerge("%s: window %v, its manifest says %v", name, r.Window, r.Shard.Histogram.Window)
	case r.Seed != r.Shard.Seed:
		return invalidMerge("%s: seed %d, its manifest says %d", name, r.Seed, r.Shard.Seed)
	}
	return nil
}

// checkAgainst checks report r (checked alone) against the first report
// of the merge (its manifest and its runs and steps, shape): one plan,
// one seed, one histogram layout, one executable, one T0.
func checkAgainst(opts MergeOptions, firstName string, first *ShardManifest, shape *Report, name string, r *Report) error {
	m := r.Shard
	if m.Count != first.Count {
		return invalidMerge("%s is one of %d shards, %s one of %d", firstName, first.Count, name, m.Count)
	}
	if m.PlanHash != first.PlanHash {
		return invalidMerge("%s and %s ran different plans: plan hash %s and %s", firstName, name, short(first.PlanHash), short(m.PlanHash))
	}
	if m.Seed != first.Seed {
		return invalidMerge("%s and %s ran with different seeds: %d and %d (give every shard loadtest.Seed)", firstName, name, first.Seed, m.Seed)
	}
	if m.Histogram != first.Histogram {
		return invalidMerge("%s and %s keep different histograms: %+v and %+v", firstName, name, first.Histogram, m.Histogram)
	}
	if m.BinaryHash != first.BinaryHash && !opts.AllowBinaryMismatch {
		return invalidMerge("%s and %s were run by different executables: binary hash %s and %s (MergeOptions.AllowBinaryMismatch, benchgate merge --allow-binary-mismatch, when the shards were built apart)",
			firstName, name, short(first.BinaryHash), short(m.BinaryHash))
	}
	if !m.T0.Equal(first.T0) {
		return invalidMerge("%s and %s were given different start times T0: %s and %s", firstName, name, fmtT0(first.T0), fmtT0(m.T0))
	}
	if err := sameShape(shape, r); err != nil {
		return invalidMerge("%s and %s: %v", firstName, name, err)
	}
	return nil
}

func short(h string) string {
	if h == "" {
		return "(none)"
	}
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

func fmtT0(t time.Time) string {
	if t.IsZero() {
		return "none"
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// sameShape checks b has a's runs and steps, by name and number.
func sameShape(a, b *Report) error {
	if len(a.Runs) != len(b.Runs) {
		return fmt.Errorf("%d runs and %d", len(a.Runs), len(b.Runs))
	}
	for i, ra := range a.Runs {
		rb := b.Runs[i]
		if ra == nil || rb == nil {
			return fmt.Errorf("run %d is null", i+1)
		}
		if ra.Name != rb.Name || len(ra.Steps) != len(rb.Steps) {
			return fmt.Errorf("run %d is %q of %d steps and %q of %d", i+1, ra.Name, len(ra.Steps), rb.Name, len(rb.Steps))
		}
		for k, sa := range ra.Steps {
			if sb := rb.Steps[k]; sa == nil || sb == nil {
				return fmt.Errorf("run %q step %d is null", ra.Name, k+1)
			} else if sa.Name != sb.Name {
				return fmt.Errorf("run %q step %d is %q and %q", ra.Name, k+1, sa.Name, sb.Name)
			}
		}
	}
	return nil
}

// writeShards lists a merged report's shards: where each ran, when it
// began after the first and its skew from T0.
func writeShards(b *strings.Builder, shards []ShardManifest) {
	if len(shards) == 0 {
		return
	}
	first := shards[0].Start
	for _, m := range shards {
		if m.Start.Before(first) {
			first = m.Start
		}
	}
	fmt.Fprintf(b, "merged from %d shards of plan %s:\n", len(shards), short(shards[0].PlanHash))
	for _, m := range shards {
		fmt.Fprintf(b, "  shard %s: %s pid %d, started +%v", m.String(), Printable(m.Host), m.PID, m.Start.Sub(first).Round(time.Microsecond))
		if !m.T0.IsZero() {
			fmt.Fprintf(b, ", skew %v from T0", m.Skew.Round(time.Microsecond))
		}
		b.WriteString("\n")
	}
}

// shardFailed says why a shard's report holds less than its part of the
// plan ("" when it ran to its end or to its time limit): it was
// cancelled, passed a deadline or stopped on an error, or virtual users'
// hooks failed. A report read from JSON carries these, not its Err.
func shardFailed(r *Report) string {
	switch {
	case r.StopCode == StopCanceled || r.StopCode == StopDeadline || r.StopCode == StopError:
		return "stopped: " + Printable(r.StoppedBy)
	case len(r.FailedShards) > 0:
		return fmt.Sprintf("the ShardInit or ShardExit hooks of its VU groups %v failed", r.FailedShards)
	case len(r.HookErrors) > 0:
		return "a hook failed: " + Printable(r.HookErrors[0])
	}
	return ""
}

// shiftOf is the whole number of units nearest d.
func shiftOf(d, unit time.Duration) time.Duration {
	if unit <= 0 {
		return 0
	}
	return (d + unit/2) / unit
}

// span is the shard's first request start and last response end, from
// its start.
func span(r *Report) (first, end time.Duration, ok bool) {
	for _, run := range r.Runs {
		for _, s := range run.Steps {
			if s.Sent == 0 && s.First == 0 && s.Last == 0 {
				continue
			}
			if !ok || s.First < first {
				first = s.First
			}
			ok = true
		}
	}
	return first, first + r.TotalTime, ok
}

// addCounts adds o's counts to m (made when o has some).
func addCounts[K comparable](m, o map[K]int64) map[K]int64 {
	if len(o) == 0 {
		return m
	}
	if m == nil {
		m = make(map[K]int64, len(o))
	}
	for k, n := range o {
		m[k] += n
	}
	return m
}
