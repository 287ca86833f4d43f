package loadtest

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/benchgate/benchgate/engine"
	"github.com/benchgate/benchgate/failure"
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
	// (StartAt, BENCHGATE_T0) and did not run at the same time: one
	// began after another had ended. Without it such shards are
	// refused, since nothing then says they are of one execution of
	// the plan (a shard run again later, a report of yesterday's run)
	// and their rates would not add up. With it the merged report
	// warns of it.
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

// together says which shards did not run at the same time ("" when
// every shard began before every other had ended; shards that sent
// nothing are left out).
func together(shards []*Report) string {
	late, early := -1, -1
	var lateStart, earlyEnd time.Time
	for k, r := range shards {
		_, end, ok := span(r)
		if !ok {
			continue
		}
		if late < 0 || r.Started.After(lateStart) {
			late, lateStart = k, r.Started
		}
		if e := r.Started.Add(end); early < 0 || e.Before(earlyEnd) {
			early, earlyEnd = k, e
		}
	}
	if late < 0 || !lateStart.After(earlyEnd) {
		return ""
	}
	return fmt.Sprintf("shard %s began at %s, %v after shard %s had ended (%s): the shards did not run at the same time",
		shards[late].Shard, lateStart.UTC().Format(time.RFC3339Nano), lateStart.Sub(earlyEnd).Round(time.Microsecond),
		shards[early].Shard, earlyEnd.UTC().Format(time.RFC3339Nano))
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
func MergeWith(opts MergeOptions, reports ...*Report) (*Report, error) {
	name := func(i int) string {
		if i < len(opts.Names) && opts.Names[i] != "" {
			return opts.Names[i]
		}
		return fmt.Sprintf("report %d", i+1)
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("merge: %w: %s", ErrInvalidReport, fmt.Sprintf(format, args...))
	}
	if len(reports) == 0 {
		return nil, bad("no reports")
	}
	for i, r := range reports {
		switch {
		case r == nil:
			return nil, bad("%s is nil", name(i))
		case r.Err != nil && !opts.AllowFailed:
			return nil, bad("%s carries an error: %v", name(i), r.Err)
		case r.Shard == nil:
			return nil, bad("%s has no shard manifest (not run with loadtest.Shard, or a merged report)", name(i))
		case !opts.AllowFailed && shardFailed(r) != "":
			return nil, bad("%s did not run to its end (%s): it holds less than its part of the plan", name(i), shardFailed(r))
		case r.Shard.Count < 1 || (engine.Segment{Index: r.Shard.Index, Count: r.Shard.Count}).Check() != nil:
			return nil, bad("%s: shard index %d of %d (at most %d shards)", name(i), r.Shard.Index, r.Shard.Count, engine.MaxSegments)
		case r.Window <= 0 || r.Window != r.Shard.Histogram.Window:
			return nil, bad("%s: window %v, its manifest says %v", name(i), r.Window, r.Shard.Histogram.Window)
		case r.Seed != r.Shard.Seed:
			return nil, bad("%s: seed %d, its manifest says %d", name(i), r.Seed, r.Shard.Seed)
		}
	}
	if err := sameShape(reports[0], reports[0]); err != nil {
		return nil, bad("%s: %v", name(0), err)
	}
	first := reports[0].Shard
	for i, r := range reports[1:] {
		m, i := r.Shard, i+1
		if m.Count != first.Count {
			return nil, bad("%s is one of %d shards, %s one of %d", name(0), first.Count, name(i), m.Count)
		}
		if m.PlanHash != first.PlanHash {
			return nil, bad("%s and %s ran different plans: plan hash %s and %s", name(0), name(i), short(first.PlanHash), short(m.PlanHash))
		}
		if m.Seed != first.Seed {
			return nil, bad("%s and %s ran with different seeds: %d and %d (give every shard loadtest.Seed)", name(0), name(i), first.Seed, m.Seed)
		}
		if m.Histogram != first.Histogram {
			return nil, bad("%s and %s keep different histograms: %+v and %+v", name(0), name(i), first.Histogram, m.Histogram)
		}
		if m.BinaryHash != first.BinaryHash && !opts.AllowBinaryMismatch {
			return nil, bad("%s and %s were run by different executables: binary hash %s and %s (MergeOptions.AllowBinaryMismatch, benchgate merge --allow-binary-mismatch, when the shards were built apart)",
				name(0), name(i), short(first.BinaryHash), short(m.BinaryHash))
		}
		if !m.T0.Equal(first.T0) {
			return nil, bad("%s and %s were given different start times T0: %s and %s", name(0), name(i), fmtT0(first.T0), fmtT0(m.T0))
		}
		if err := sameShape(reports[0], r); err != nil {
			return nil, bad("%s and %s: %v", name(0), name(i), err)
		}
	}
	byIndex := make([]int, first.Count) // at most engine.MaxSegments
	for i := range byIndex {
		byIndex[i] = -1
	}
	executions := make(map[string]int, len(reports))
	for i, r := range reports {
		if j := byIndex[r.Shard.Index]; j >= 0 {
			return nil, bad("shard %s twice: %s and %s", r.Shard, name(j), name(i))
		}
		byIndex[r.Shard.Index] = i
		if id := r.Shard.Execution; id != "" {
			if j, ok := executions[id]; ok {
				return nil, bad("%s (shard %s) and %s (shard %s) are one execution (id %s): one report counted as two shards (a copy whose shard index was changed?)",
					name(j), reports[j].Shard, name(i), r.Shard, short(id))
			}
			executions[id] = i
		}
	}
	var missingIdx []int
	for k, i := range byIndex {
		if i < 0 {
			missingIdx = append(missingIdx, k)
		}
	}
	if len(missingIdx) > 0 && !opts.AllowMissing {
		return nil, bad("%d of %d shards missing: %s", len(missingIdx), first.Count, shardList(missingIdx, first.Count))
	}
	ordered := make([]*Report, 0, len(byIndex))
	for _, i := range byIndex {
		if i >= 0 {
			ordered = append(ordered, reports[i])
		}
	}
	if first.T0.IsZero() && !opts.AllowApart {
		if err := together(ordered); err != "" {
			return nil, bad("%s: nothing says they are of one execution of the plan (give every shard one T0: StartAt, BENCHGATE_T0), or merge them with MergeOptions.AllowApart (benchgate merge --allow-apart) if they ran apart on purpose", err)
		}
	}
	m := merger{shards: ordered, opts: opts}
	out := m.merge()
	if len(missingIdx) > 0 {
		out.MissingShards = missingIdx
		out.Err = missingShardsError(missingIdx, first.Count)
		out.Warnings = append(out.Warnings, out.Err.Error())
	}
	return out, nil
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

// merger adds up shards (by index, all there and checked).
type merger struct {
	shards []*Report
	opts   MergeOptions
	out    *Report
	// offsets are each shard's start after the earliest's
	offsets []time.Duration
}

func (m *merger) merge() *Report {
	shards := m.shards
	n := len(shards)
	start := shards[0].Started
	for _, r := range shards {
		if r.Started.Before(start) {
			start = r.Started
		}
	}
	m.offsets = make([]time.Duration, n)
	for k, r := range shards {
		m.offsets[k] = r.Started.Sub(start)
	}
	out := &Report{Version: ReportVersion, Started: start, Priority: shards[0].Priority, Latency: NewLatency(),
		Window: shards[0].Window, Seed: shards[0].Seed}
	m.out = out
	for _, r := range shards {
		out.Shards = append(out.Shards, *r.Shard)
		out.Concurrency += r.Concurrency
		out.RequestsConfigured += r.RequestsConfigured
		out.RequestsSent += r.RequestsSent
		out.GoodResponses += r.goodResponses()
		out.ResponsesFailed += r.ResponsesFailed
		out.RequestsInterrupted += r.RequestsInterrupted
		out.RequestsNotSent += r.RequestsNotSent
		out.RequestsNotStarted += r.RequestsNotStarted
		out.BytesReceived += r.BytesReceived
		out.BytesSent += r.BytesSent
		out.TLSVerifySkipped = out.TLSVerifySkipped || r.TLSVerifySkipped
		out.Latency.Merge(r.Latency)
	}
	out.ResponsesReceived = out.GoodResponses
	m.warnings()
	m.totalTime()
	m.timeline()
	m.runs()
	m.arrivals()
	m.stops()
	m.generator()
	m.session()
	for _, run := range out.Runs {
		run.report = out
		for _, s := range run.Steps {
			s.report = out
		}
	}
	return out
}

// label is shard k's prefix in messages.
func (m *merger) label(k int) string { return "shard " + m.shards[k].Shard.String() }

func (m *merger) warnings() {
	out := m.out
	for k, r := range m.shards {
		for _, w := range r.Warnings {
			out.Warnings = append(out.Warnings, m.label(k)+": "+w)
		}
		for _, e := range r.HookErrors {
			out.HookErrors = append(out.HookErrors, m.label(k)+": "+e)
		}
		for _, f := range r.FailedShards {
			if !slices.Contains(out.FailedShards, f) {
				out.FailedShards = append(out.FailedShards, f)
			}
		}
	}
	slices.Sort(out.FailedShards)
	if m.opts.AllowBinaryMismatch {
		hashes := map[string][]string{}
		var order []string
		for _, r := range m.shards {
			h := short(r.Shard.BinaryHash)
			if _, ok := hashes[h]; !ok {
				order = append(order, h)
			}
			hashes[h] = append(hashes[h], r.Shard.String())
		}
		if len(order) > 1 {
			parts := make([]string, len(order))
			for i, h := range order {
				parts[i] = fmt.Sprintf("%s (shards %s)", h, strings.Join(hashes[h], ", "))
			}
			out.Warnings = append(out.Warnings, "merged shards run by different executables: "+strings.Join(parts, "; "))
		}
	}
	// the windows of shards whose starts are not a whole number of
	// windows apart are moved to the nearest window: say by how much
	w := out.Window
	var shifted []string
	for k, d := range m.offsets {
		if off := d - shiftOf(d, w)*w; off != 0 {
			shifted = append(shifted, fmt.Sprintf("%s by %v", m.shards[k].Shard, -off))
		}
	}
	var moved []string
	for k, d := range m.offsets {
		if off := d - shiftOf(d, time.Second)*time.Second; off != 0 {
			moved = append(moved, fmt.Sprintf("%s by %v", m.shards[k].Shard, -off))
		}
	}
	if len(moved) > 0 && len(shifted) == 0 {
		out.Warnings = append(out.Warnings, "the shards did not start a whole number of seconds apart: their timeline seconds were moved to the nearest second of the earliest shard's clock: "+strings.Join(moved, ", "))
	}
	if len(shifted) > 0 {
		out.Warnings = append(out.Warnings, fmt.Sprintf("the shards did not start a whole number of windows (%v) apart: their windows (and timeline seconds, to the nearest second) were moved to the nearest window of the earliest shard's clock: %s",
			w, strings.Join(shifted, ", ")))
	}
	// shards that did not run at the same time may be of two executions
	// (a shard re-run later): the merge is theirs to judge, not to hide
	early, late := 0, 0
	for k, d := range m.offsets {
		if d > m.offsets[late] {
			late = k
		}
		if d < m.offsets[early] {
			early = k
		}
	}
	if _, end, ok := span(m.shards[early]); ok && m.offsets[late] > end {
		out.Warnings = append(out.Warnings, fmt.Sprintf("shard %s began %v after shard %s began, when shard %s had ended (%v after its start): the shards did not run at the same time",
			m.shards[late].Shard, m.offsets[late]-m.offsets[early], m.shards[early].Shard, m.shards[early].Shard, end))
	}
	var logs []string
	for _, run := range m.shards[0].Runs {
		for _, r := range m.shards {
			if rr := r.Run(run.Name); rr.Requests != nil || len(rr.Headers) > 0 || len(rr.Bodies) > 0 {
				logs = append(logs, fmt.Sprintf("%q", run.Name))
				break
			}
		}
	}
	if len(logs) > 0 {
		out.Warnings = append(out.Warnings, "the per-request records of runs "+strings.Join(logs, ", ")+" are in the shards' reports, not in the merged one")
	}
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

func (m *merger) totalTime() {
	var lo, hi time.Duration
	seen := false
	for k, r := range m.shards {
		first, end, ok := span(r)
		if !ok {
			continue
		}
		first, end = first+m.offsets[k], end+m.offsets[k]
		if !seen || first < lo {
			lo = first
		}
		if !seen || end > hi {
			hi = end
		}
		seen = true
	}
	if seen && hi > lo {
		m.out.TotalTime = hi - lo
	}
}

func (m *merger) timeline() {
	var tl []Second
	for k, r := range m.shards {
		shift := int(shiftOf(m.offsets[k], time.Second))
		for _, s := range r.Timeline {
			at := s.At + shift
			if at < 0 {
				continue
			}
			for len(tl) <= at {
				tl = append(tl, Second{At: len(tl)})
			}
			tl[at].add(s)
		}
	}
	m.out.Timeline = tl
}

func (m *merger) runs() {
	for i, r0 := range m.shards[0].Runs {
		run := &RunReport{Name: r0.Name, Order: r0.Order, KeepLevel: r0.KeepLevel, AllowUnsentSteps: r0.AllowUnsentSteps,
			Latency: NewLatency()}
		for _, r := range m.shards {
			rr := r.Runs[i]
			run.Repeat += rr.Repeat
			run.Dropped += rr.Dropped
		}
		for k, s0 := range r0.Steps {
			s := &StepReport{run: run.Name, Number: k + 1, Name: s0.Name, Statuses: map[int]int64{}, Latency: NewLatency(),
				Connect: NewLatency(), FirstByte: NewLatency()}
			for j, r := range m.shards {
				m.addStep(s, r.Runs[i].Steps[k], j)
			}
			run.Latency.Merge(s.Latency)
			run.Steps = append(run.Steps, s)
		}
		m.out.Runs = append(m.out.Runs, run)
	}
}

// addStep adds shard j's step o to s.
func (m *merger) addStep(s, o *StepReport, j int) {
	off := m.offsets[j]
	if o.Sent > 0 || o.First != 0 || o.Last != 0 {
		if first := o.First + off; s.Sent == 0 && s.First == 0 && s.Last == 0 || first < s.First {
			s.First = first
		}
		s.Last = max(s.Last, o.Last+off)
	}
	if o.Good > 0 {
		if s.Good == 0 || o.MinBodyBytes < s.MinBodyBytes {
			s.MinBodyBytes = o.MinBodyBytes
		}
		s.MaxBodyBytes = max(s.MaxBodyBytes, o.MaxBodyBytes)
	}
	s.Configured += o.Configured
	s.Sent += o.Sent
	s.Good += o.Good
	s.Failed += o.Failed
	s.Interrupted += o.Interrupted
	s.NotSent += o.NotSent
	s.Truncated += o.Truncated
	s.Followed += o.Followed
	s.Retried += o.Retried
	s.BytesRead += o.BytesRead
	s.BodyBytes += o.BodyBytes
	s.DecodedBytes += o.DecodedBytes
	s.TLSResumed += o.TLSResumed
	for code, n := range o.Statuses {
		s.Statuses[code] += n
	}
	s.Failures = addCounts(s.Failures, o.Failures)
	s.Unsent = addCounts(s.Unsent, o.Unsent)
	s.Warnings = addCounts(s.Warnings, o.Warnings)
	s.Kinds = addCounts(s.Kinds, o.Kinds)
	s.FailedStatuses = addCounts(s.FailedStatuses, o.FailedStatuses)
	for kind, reason := range o.KindReasons {
		if _, ok := s.KindReasons[kind]; !ok {
			if s.KindReasons == nil {
				s.KindReasons = map[failure.Kind]string{}
			}
			s.KindReasons[kind] = reason
		}
	}
	for _, reason := range sortedKeys(countsOfSamples(o.Samples)) {
		if _, ok := s.Samples[reason]; !ok && len(s.Samples) < 100 {
			if s.Samples == nil {
				s.Samples = map[string]Sample{}
			}
			s.Samples[reason] = o.Samples[reason]
		}
	}
	s.Latency.Merge(o.Latency)
	s.Connect.Merge(o.Connect)
	s.FirstByte.Merge(o.FirstByte)
	s.TLSHandshake = mergeOptional(s.TLSHandshake, o.TLSHandshake)
	s.Corrected = mergeOptional(s.Corrected, o.Corrected)
	shift := int(shiftOf(off, m.out.Window))
	for i, w := range o.Windows {
		at := i + shift
		for len(s.Windows) <= at {
			s.Windows = append(s.Windows, Window{})
		}
		sw := &s.Windows[at]
		sw.Good += w.Good
		sw.Failed += w.Failed
		if w.Latency != nil && w.Latency.Count() > 0 {
			if sw.Latency == nil {
				sw.Latency = NewLatency()
			}
			sw.Latency.Merge(w.Latency)
		}
	}
}

func countsOfSamples(m map[string]Sample) map[string]int64 {
	out := make(map[string]int64, len(m))
	for k := range m {
		out[k] = 1
	}
	return out
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

// mergeOptional merges o into l, making l when o holds values.
func mergeOptional(l, o *Latency) *Latency {
	if o == nil || o.Count() == 0 {
		return l
	}
	if l == nil {
		l = NewLatency()
	}
	l.Merge(o)
	return l
}

func (m *merger) arrivals() {
	var a *ArrivalReport
	for _, r := range m.shards {
		ra := r.Arrivals
		if ra == nil {
			continue
		}
		if a == nil {
			a = &ArrivalReport{Lag: NewLatency()}
		}
		a.Planned += ra.Planned
		a.Started += ra.Started
		a.Dropped += ra.Dropped
		a.Lag.Merge(ra.Lag)
		// the shards ran side by side: their rates add
		a.Rate += ra.Rate
	}
	m.out.Arrivals = a
}

// stops says which shards stopped early and why.
func (m *merger) stops() {
	var why []string
	code := ""
	for k, r := range m.shards {
		if r.StoppedBy == "" && r.StopCode == "" {
			continue
		}
		text := r.StoppedBy
		if text == "" {
			text = r.StopCode
		}
		why = append(why, m.label(k)+": "+text)
		switch {
		case code == "":
			code = r.StopCode
		case code != r.StopCode:
			code = StopError
		}
	}
	if len(why) == 0 {
		return
	}
	if code == "" {
		code = StopError
	}
	m.out.StoppedBy, m.out.StopCode = strings.Join(why, "; "), code
}

// generator keeps the worst shard's health: a saturated one before
// others, then the latest delay probe, then the busiest CPU.
func (m *merger) generator() {
	worst := -1
	for k, r := range m.shards {
		g := r.Generator
		if g == nil {
			continue
		}
		if worst < 0 {
			worst = k
			continue
		}
		w := m.shards[worst].Generator
		if g.Saturated != w.Saturated {
			if g.Saturated {
				worst = k
			}
			continue
		}
		if g.Delay > w.Delay || g.Delay == w.Delay && g.CPU > w.CPU {
			worst = k
		}
	}
	if worst < 0 {
		return
	}
	g := *m.shards[worst].Generator
	g.Readings = slices.Clone(g.Readings)
	if g.Why != "" {
		g.Why = m.label(worst) + ": " + g.Why
	} else if g.Saturated {
		g.Why = m.label(worst)
	}
	m.out.Generator = &g
}

// session derives the merged report's session from the shards' sessions
// and starts: two merges of different runs never share one.
func (m *merger) session() {
	h := sha256.New()
	fmt.Fprintf(h, "merge\x00%s\x00", m.shards[0].Shard.PlanHash)
	for _, r := range m.shards {
		fmt.Fprintf(h, "%s\x00%d\x00", r.Session, r.Started.UnixNano())
	}
	m.out.Session = "merge-" + hex.EncodeToString(h.Sum(nil)[:8])
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
