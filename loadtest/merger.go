package loadtest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/benchgate/benchgate/failure"
	"github.com/benchgate/benchgate/scenario"
)

// Merger adds the reports of the N shards of one plan up into the report
// of the whole plan one report at a time, as MergeWith does with all of
// them at once: Add (or AddNamed) each shard's report, in any order, then
// Report. The merged report is MergeWith's, byte for byte, whatever the
// order of the Adds.
//
// Add checks a report alone and against the first report added (the
// same checks and messages as MergeWith's) and refuses it without
// changing the merge; Report checks that no shard is missing and that the
// shards ran together (AllowMissing, AllowApart). A Merger does not keep
// the reports added: Add folds a report's counts, histograms, windows and
// timeline into the merge's own and keeps of each shard only what is
// small (its manifest, start, warnings, hook errors, stop, generator
// health, Report.Session, a few figures per step), so the caller may drop
// a report once it is added. The merge then holds one set of histograms
// for the whole plan, and one set of windows and timeline per distinct
// shard start (Report.Started): one for shards given one T0 (StartAt,
// BENCHGATE_T0, Processes, ShardEnv), at most one per shard without. The
// floating-point sums of the histograms are added in the shards' order,
// as MergeWith does: a shard added before a shard of a lower index keeps
// its sums (16 bytes per histogram and window) until the shards before it
// are added, as do the windows of shards that started apart from the
// first shard without T0; shards added in index order keep none.
//
// The zero Merger merges with no options. A Merger is not safe for use
// by several goroutines at once.
type Merger struct {
	opts  MergeOptions
	calls int  // Add calls: the default names
	done  bool // Report made the merged report

	firstName string
	first     *ShardManifest // the first report's manifest
	shape     *Report        // its runs and steps, by name

	shards     map[int]*mergeShard // by shard index
	executions map[string]int      // execution id → shard index
	groups     map[startKey]*startGroup

	// the sums of counts and histograms' counters (not their
	// floating-point sums: see fold)
	out      *Report
	steps    []*StepReport  // out's steps, run by run
	arrivals *ArrivalReport // nil until a shard has one
	logs     []bool         // per run: some shard kept per-request records
	kinds    []map[failure.Kind]kindReason
	samples  []map[string]mergeSample

	// the floating-point sums, added in the shards' order: those of the
	// shards 0 to folded-1, all added
	folded int
	sums   []float64 // floatSlots
	// the windows' sums of the shards from 0 up to the first that
	// started apart from shard 0 (winGroup), by step
	winGroup   *startGroup
	winStopped bool
	winSums    [][]float64
}

// mergeShard is what a Merger keeps of one shard's report.
type mergeShard struct {
	index     int
	name      string
	manifest  ShardManifest
	started   time.Time
	group     *startGroup
	priority  string
	window    time.Duration
	first     time.Duration // span
	end       time.Duration
	active    bool
	warnings  []string
	hooks     []string
	failed    []int
	stoppedBy string
	stopCode  string
	generator *Generator
	session   string
	runs      []mergeRun
	steps     []mergeStep
	// the floating-point sums not yet folded (nil once they are)
	sums    []float64
	windows [][]float64
}

// mergeRun is what a merge takes of the lowest shard's run.
type mergeRun struct {
	order       string
	keep        scenario.KeepLevel
	allowUnsent bool
}

// mergeStep is what the merge of a step's first and last times and body
// sizes takes of a shard's step, in the shards' order.
type mergeStep struct {
	sent, good       int64
	first, last      time.Duration
	minBody, maxBody int64
}

// kindReason is a step's example reason of a failure kind and the shard
// it came from.
type kindReason struct {
	shard  int
	reason string
}

// mergeSample is a step's sample of a reason and the shard it came from.
type mergeSample struct {
	shard  int
	sample Sample
}

// startGroup holds the windows and timeline of the shards that started
// at one instant: their offsets from the earliest start are one, and
// their seconds and windows add up before they are shifted.
type startGroup struct {
	started  time.Time
	windows  [][]Window // by step; their histograms' counters only
	timeline []Second
	seen     []bool   // the timeline's seconds some shard had
	before   []Second // seconds before the start (At < 0)
}

// startKey tells the starts apart whose offsets from any other start may
// differ: their instant, and their monotonic clock reading if any.
type startKey struct {
	sec   int64
	nsec  int
	mono  bool
	since time.Duration
}

// monoRef is the reference of startKey's monotonic readings.
var monoRef = time.Now()

func keyOf(t time.Time) startKey {
	k := startKey{sec: t.Unix(), nsec: t.Nanosecond()}
	if t != t.Round(0) { // a monotonic clock reading
		k.mono, k.since = true, t.Sub(monoRef)
	}
	return k
}

// The floating-point sums of a shard, in order: the report's histogram,
// the arrivals' lag and rate, then each step's five histograms.
const (
	slotLatency  = 0
	slotLag      = 2
	slotRate     = 4
	slotSteps    = 5
	slotsPerStep = 10
)

// NewMerger returns a Merger with the options of MergeWith.
func NewMerger(opts MergeOptions) *Merger { return &Merger{opts: opts} }

// nameAt is the name of the report of the i-th Add: opts.Names[i], or
// "report i+1".
func (m *Merger) nameAt(i int) string {
	if i < len(m.opts.Names) && m.opts.Names[i] != "" {
		return m.opts.Names[i]
	}
	return fmt.Sprintf("report %d", i+1)
}

// Add adds a shard's report to the merge, naming it in errors and
// warnings by its place among the Adds as MergeWith does: the i-th Add
// (from 0) is MergeOptions.Names[i], or "report i+1". See AddNamed.
func (m *Merger) Add(r *Report) error { return m.AddNamed("", r) }

// AddNamed adds a shard's report to the merge under a name (its file,
// say; "" names it as Add does). It refuses, naming the reports and the
// values, a report MergeWith would refuse: nil, carrying an error, a
// shard that did not run to its end, a manifest that disagrees with the
// report or with the first report added, a shard index added before,
// an execution added before under another index. A refused report is
// not added, and the merge goes on as if it had not been given. The
// errors about the report wrap ErrInvalidReport. AddNamed after Report
// is refused. The merge keeps nothing of r's (no histogram, map or slice
// of it): r may be dropped or changed once it is added.
func (m *Merger) AddNamed(name string, r *Report) error {
	i := m.calls
	m.calls++
	if name == "" {
		name = m.nameAt(i)
	}
	if m.done {
		return fmt.Errorf("merge: %s added after the merged report was made (Merger.Report): a Merger merges once", name)
	}
	if err := checkShard(m.opts, name, r); err != nil {
		return err
	}
	if m.first == nil {
		if err := sameShape(r, r); err != nil {
			return invalidMerge("%s: %v", name, err)
		}
	} else if err := checkAgainst(m.opts, m.firstName, m.first, m.shape, name, r); err != nil {
		return err
	}
	if o, ok := m.shards[r.Shard.Index]; ok {
		return invalidMerge("shard %s twice: %s and %s", r.Shard, o.name, name)
	}
	if id := r.Shard.Execution; id != "" {
		if j, ok := m.executions[id]; ok {
			o := m.shards[j]
			return invalidMerge("%s (shard %s) and %s (shard %s) are one execution (id %s): one report counted as two shards (a copy whose shard index was changed?)",
				o.name, &o.manifest, name, r.Shard, short(id))
		}
	}
	m.add(name, r)
	return nil
}

// begin sets the merge up by the first report: its manifest and shape,
// and the merged report's runs and steps.
func (m *Merger) begin(name string, r *Report) {
	man := *r.Shard
	m.firstName, m.first = name, &man
	m.shards = map[int]*mergeShard{}
	m.executions = map[string]int{}
	m.groups = map[startKey]*startGroup{}
	m.shape = &Report{}
	out := &Report{Version: ReportVersion, Latency: NewLatency()}
	for _, r0 := range r.Runs {
		run := &RunReport{Name: r0.Name}
		shape := &RunReport{Name: r0.Name}
		for k, s0 := range r0.Steps {
			s := &StepReport{run: run.Name, Number: k + 1, Name: s0.Name, Statuses: map[int]int64{}, Latency: NewLatency(),
				Connect: NewLatency(), FirstByte: NewLatency()}
			run.Steps = append(run.Steps, s)
			m.steps = append(m.steps, s)
			shape.Steps = append(shape.Steps, &StepReport{Name: s0.Name})
		}
		out.Runs = append(out.Runs, run)
		m.shape.Runs = append(m.shape.Runs, shape)
	}
	m.out = out
	m.logs = make([]bool, len(out.Runs))
	m.kinds = make([]map[failure.Kind]kindReason, len(m.steps))
	m.samples = make([]map[string]mergeSample, len(m.steps))
	m.sums = make([]float64, slotSteps+slotsPerStep*len(m.steps))
	m.winSums = make([][]float64, len(m.steps))
}

// add adds a checked report.
func (m *Merger) add(name string, r *Report) {
	if m.first == nil {
		m.begin(name, r)
	}
	k := r.Shard.Index
	g := m.groups[keyOf(r.Started)]
	if g == nil {
		g = &startGroup{started: r.Started, windows: make([][]Window, len(m.steps))}
		m.groups[keyOf(r.Started)] = g
	}
	s := &mergeShard{index: k, name: name, manifest: *r.Shard, started: r.Started, group: g, priority: r.Priority, window: r.Window,
		warnings: slices.Clone(r.Warnings), hooks: slices.Clone(r.HookErrors), failed: slices.Clone(r.FailedShards),
		stoppedBy: r.StoppedBy, stopCode: r.StopCode, session: r.Session}
	// the floating-point sums are added now if the shard is next in the
	// shards' order (its windows' if it started with those before it),
	// kept until it is otherwise
	direct, winDirect := k == m.folded, false
	if direct {
		if m.winGroup == nil {
			m.winGroup = g
		}
		m.winStopped = m.winStopped || g != m.winGroup
		winDirect = !m.winStopped
	} else {
		s.sums = make([]float64, len(m.sums))
	}
	if !winDirect {
		s.windows = make([][]float64, len(m.steps))
	}
	put := func(slot int) func(sum, sumSq float64) {
		return func(sum, sumSq float64) {
			if direct {
				m.sums[slot] += sum
				m.sums[slot+1] += sumSq
			} else {
				s.sums[slot], s.sums[slot+1] = sum, sumSq
			}
		}
	}
	s.first, s.end, s.active = span(r)
	if r.Generator != nil {
		gen := *r.Generator
		gen.Readings = slices.Clone(gen.Readings)
		s.generator = &gen
	}
	out := m.out
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
	out.Latency.mergeCounts(r.Latency)
	put(slotLatency)(r.Latency.sums())
	if ra := r.Arrivals; ra != nil {
		if m.arrivals == nil {
			m.arrivals = &ArrivalReport{Lag: NewLatency()}
		}
		a := m.arrivals
		a.Planned += ra.Planned
		a.Started += ra.Started
		a.Dropped += ra.Dropped
		a.Lag.mergeCounts(ra.Lag)
		put(slotLag)(ra.Lag.sums())
		if direct {
			m.sums[slotRate] += ra.Rate
		} else {
			s.sums[slotRate] = ra.Rate
		}
	}
	for _, sec := range r.Timeline {
		if sec.At < 0 {
			g.before = append(g.before, sec)
			continue
		}
		for len(g.timeline) <= sec.At {
			g.timeline = append(g.timeline, Second{At: len(g.timeline)})
			g.seen = append(g.seen, false)
		}
		g.timeline[sec.At].add(sec)
		g.seen[sec.At] = true
	}
	f := 0
	for i, rr := range r.Runs {
		run := out.Runs[i]
		run.Repeat += rr.Repeat
		run.Dropped += rr.Dropped
		s.runs = append(s.runs, mergeRun{order: rr.Order, keep: rr.KeepLevel, allowUnsent: rr.AllowUnsentSteps})
		// by name, as the warning of MergeWith looks for them
		if named := r.Run(rr.Name); named.Requests != nil || len(named.Headers) > 0 || len(named.Bodies) > 0 {
			m.logs[i] = true
		}
		for _, o := range rr.Steps {
			m.addStep(f, s, o, put, winDirect)
			f++
		}
	}
	m.shards[k] = s
	if id := r.Shard.Execution; id != "" {
		m.executions[id] = k
	}
	if direct {
		m.folded++
	}
	m.fold()
}

// addStep adds shard s's step o to the merge's step f; put adds or
// keeps a sum and sum of squares, winDirect says the windows' are added
// now.
func (m *Merger) addStep(f int, s *mergeShard, o *StepReport, put func(slot int) func(sum, sumSq float64), winDirect bool) {
	st := m.steps[f]
	s.steps = append(s.steps, mergeStep{sent: o.Sent, good: o.Good, first: o.First, last: o.Last, minBody: o.MinBodyBytes, maxBody: o.MaxBodyBytes})
	st.Configured += o.Configured
	st.Sent += o.Sent
	st.Good += o.Good
	st.Failed += o.Failed
	st.Interrupted += o.Interrupted
	st.NotSent += o.NotSent
	st.Truncated += o.Truncated
	st.Followed += o.Followed
	st.Retried += o.Retried
	st.BytesRead += o.BytesRead
	st.BodyBytes += o.BodyBytes
	st.DecodedBytes += o.DecodedBytes
	st.TLSResumed += o.TLSResumed
	for code, n := range o.Statuses {
		st.Statuses[code] += n
	}
	st.Failures = addCounts(st.Failures, o.Failures)
	st.Unsent = addCounts(st.Unsent, o.Unsent)
	st.Warnings = addCounts(st.Warnings, o.Warnings)
	st.Kinds = addCounts(st.Kinds, o.Kinds)
	st.FailedStatuses = addCounts(st.FailedStatuses, o.FailedStatuses)
	// the lowest shard's example of each kind
	for kind, reason := range o.KindReasons {
		if have, ok := m.kinds[f][kind]; !ok || s.index < have.shard {
			if m.kinds[f] == nil {
				m.kinds[f] = map[failure.Kind]kindReason{}
			}
			m.kinds[f][kind] = kindReason{s.index, reason}
		}
	}
	m.addSamples(f, s.index, o.Samples)
	st.Latency.mergeCounts(o.Latency)
	st.Connect.mergeCounts(o.Connect)
	st.FirstByte.mergeCounts(o.FirstByte)
	st.TLSHandshake = mergeCountsOptional(st.TLSHandshake, o.TLSHandshake)
	st.Corrected = mergeCountsOptional(st.Corrected, o.Corrected)
	at := slotSteps + slotsPerStep*f
	for h, l := range []*Latency{o.Latency, o.Connect, o.FirstByte, o.TLSHandshake, o.Corrected} {
		put(at + 2*h)(l.sums())
	}
	gw := s.group.windows[f]
	var sums []float64
	if winDirect && len(m.winSums[f]) < 2*len(o.Windows) {
		m.winSums[f] = append(m.winSums[f], make([]float64, 2*len(o.Windows)-len(m.winSums[f]))...)
	}
	for i, w := range o.Windows {
		if len(gw) <= i {
			gw = append(gw, make([]Window, i+1-len(gw))...)
		}
		sw := &gw[i]
		sw.Good += w.Good
		sw.Failed += w.Failed
		if w.Latency != nil && w.Latency.Count() > 0 {
			if sw.Latency == nil {
				sw.Latency = NewLatency()
			}
			sw.Latency.mergeCounts(w.Latency)
			sum, sumSq := w.Latency.sums()
			if winDirect {
				m.winSums[f][2*i] += sum
				m.winSums[f][2*i+1] += sumSq
				continue
			}
			if sums == nil {
				sums = make([]float64, 2*len(o.Windows))
			}
			sums[2*i], sums[2*i+1] = sum, sumSq
		}
	}
	s.group.windows[f] = gw
	if !winDirect {
		s.windows[f] = sums
	}
}

// addSamples adds a shard's samples to step f's: MergeWith keeps the
// first 100 reasons met in the order of the shards, each shard's
// reasons sorted, with the sample of the first shard that had it. That
// is the 100 reasons of least (lowest shard that had it, reason), which
// the merge keeps whatever the order of the Adds: each reason with the
// lowest shard added that had it, the 100 least. A reason left out has
// 100 less, whose keys only fall as shards are added, so it never
// belongs back; and a reason added again by a shard above the one it
// was left out with sorts after it, so it is left out again.
func (m *Merger) addSamples(f, shard int, samples map[string]Sample) {
	const most = 100
	if len(samples) == 0 {
		return
	}
	if m.samples[f] == nil {
		m.samples[f] = map[string]mergeSample{}
	}
	kept := m.samples[f]
	for reason, smp := range samples {
		if have, ok := kept[reason]; !ok || shard < have.shard {
			kept[reason] = mergeSample{shard, smp}
		}
	}
	if len(kept) <= most {
		return
	}
	reasons := make([]string, 0, len(kept))
	for reason := range kept {
		reasons = append(reasons, reason)
	}
	slices.SortFunc(reasons, func(a, b string) int {
		if d := kept[a].shard - kept[b].shard; d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	for _, reason := range reasons[most:] {
		delete(kept, reason)
	}
}

// mergeCountsOptional merges o's counters into l, making l when o holds
// values.
func mergeCountsOptional(l, o *Latency) *Latency {
	if o == nil || o.Count() == 0 {
		return l
	}
	if l == nil {
		l = NewLatency()
	}
	l.mergeCounts(o)
	return l
}

// fold adds the floating-point sums of the shards next in line (from
// folded on, while they are there) in the shards' order: the order in
// which MergeWith adds them, which their rounding depends on.
func (m *Merger) fold() {
	for {
		s := m.shards[m.folded]
		if s == nil {
			return
		}
		m.foldShard(s)
		m.folded++
	}
}

// foldShard adds shard s's sums to the merge's; its windows' too while
// every shard folded before it started with it.
func (m *Merger) foldShard(s *mergeShard) {
	for i, v := range s.sums {
		m.sums[i] += v
	}
	s.sums = nil
	if m.winGroup == nil {
		m.winGroup = s.group
	}
	if m.winStopped || s.group != m.winGroup {
		m.winStopped = true
		return
	}
	for f, sums := range s.windows {
		if len(m.winSums[f]) < len(sums) {
			m.winSums[f] = append(m.winSums[f], make([]float64, len(sums)-len(m.winSums[f]))...)
		}
		for i, v := range sums {
			m.winSums[f][i] += v
		}
	}
	s.windows = nil
}

// Report checks that every shard was added (unless AllowMissing) and
// that shards given no common T0 ran together (unless AllowApart), and
// returns the merged report: MergeWith's of the reports added. A refusal
// wraps ErrInvalidReport and leaves the merge as it was (a missing shard
// may still be added). Once it has returned the merged report, the
// Merger is spent: Add and Report refuse.
func (m *Merger) Report() (*Report, error) {
	if m.done {
		return nil, fmt.Errorf("merge: the merged report was made already (Merger.Report): a Merger merges once")
	}
	if len(m.shards) == 0 {
		return nil, invalidMerge("no reports")
	}
	count := m.first.Count
	var missing []int
	for k := range count { // at most engine.MaxSegments
		if m.shards[k] == nil {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 && !m.opts.AllowMissing {
		return nil, invalidMerge("%d of %d shards missing: %s", len(missing), count, shardList(missing, count))
	}
	ordered := make([]*mergeShard, 0, len(m.shards))
	for k := range count {
		if s := m.shards[k]; s != nil {
			ordered = append(ordered, s)
		}
	}
	if m.first.T0.IsZero() && !m.opts.AllowApart {
		if err := together(ordered); err != "" {
			return nil, invalidMerge("%s: nothing says they are of one execution of the plan (give every shard one T0: StartAt, BENCHGATE_T0), or merge them with MergeOptions.AllowApart (benchgate merge --allow-apart) if they ran apart on purpose", err)
		}
	}
	// the windows and timeline span the shards' starts: bounded, so
	// no start in a file can make the merge allocate for it
	lo, hi := ordered[0].started, ordered[0].started
	for _, s := range ordered {
		if s.started.Before(lo) {
			lo = s.started
		}
		if s.started.After(hi) {
			hi = s.started
		}
	}
	if d := hi.Sub(lo); d > MaxStartSpread || d < 0 {
		return nil, invalidMerge("the shards' starts are %v apart (%s to %s): more than the %v a merge lines up on one clock", d.Round(time.Millisecond),
			lo.UTC().Format(time.RFC3339Nano), hi.UTC().Format(time.RFC3339Nano), MaxStartSpread)
	}
	m.done = true
	out := m.merge(ordered)
	if len(missing) > 0 {
		out.MissingShards = missing
		out.Err = missingShardsError(missing, count)
		out.Warnings = append(out.Warnings, out.Err.Error())
	}
	// the merged report is the caller's now
	*m = Merger{opts: m.opts, calls: m.calls, done: true}
	return out, nil
}

// MaxStartSpread is how far apart the shards' starts (Report.Started)
// may be for a merge, which lines up their windows and timelines on one
// clock from the earliest: shards of one execution start within
// seconds of each other (at one T0 within their clocks' error), and
// shards merged with AllowApart within an hour.
const MaxStartSpread = time.Hour

// together says which shards did not run at the same time ("" when
// every shard began before every other had ended; shards that sent
// nothing are left out).
func together(shards []*mergeShard) string {
	late, early := -1, -1
	var lateStart, earlyEnd time.Time
	for k, s := range shards {
		if !s.active {
			continue
		}
		if late < 0 || s.started.After(lateStart) {
			late, lateStart = k, s.started
		}
		if e := s.started.Add(s.end); early < 0 || e.Before(earlyEnd) {
			early, earlyEnd = k, e
		}
	}
	if late < 0 {
		return ""
	}
	// started together: within a window of each other (a schedule
	// whose shards start further apart is not the plan's: its rate held
	// only while they all ran)
	first, last := shards[0], shards[0]
	for _, s := range shards {
		if s.active && (!first.active || s.started.Before(first.started)) {
			first = s
		}
		if s.active && (!last.active || s.started.After(last.started)) {
			last = s
		}
	}
	if d := last.started.Sub(first.started); d > first.window {
		return fmt.Sprintf("shard %s began %v after shard %s, more than a window (%v): the shards did not start together, and the plan's load held only while all of them ran",
			&last.manifest, d.Round(time.Microsecond), &first.manifest, first.window)
	}
	if !lateStart.After(earlyEnd) {
		return ""
	}
	return fmt.Sprintf("shard %s began at %s, %v after shard %s had ended (%s): the shards did not run at the same time",
		&shards[late].manifest, lateStart.UTC().Format(time.RFC3339Nano), lateStart.Sub(earlyEnd).Round(time.Microsecond),
		&shards[early].manifest, earlyEnd.UTC().Format(time.RFC3339Nano))
}

// merge makes the merged report of the shards added (in index order).
func (m *Merger) merge(shards []*mergeShard) *Report {
	start := shards[0].started
	for _, s := range shards {
		if s.started.Before(start) {
			start = s.started
		}
	}
	offsets := make([]time.Duration, len(shards))
	for k, s := range shards {
		offsets[k] = s.started.Sub(start)
	}
	// the sums of the shards after a missing one
	for _, s := range shards {
		if s.sums != nil {
			m.foldShard(s)
		}
	}
	out := m.out
	out.Started, out.Priority, out.Window, out.Seed = start, shards[0].priority, shards[0].window, m.first.Seed
	for _, s := range shards {
		out.Shards = append(out.Shards, s.manifest)
	}
	out.ResponsesReceived = out.GoodResponses
	out.Latency.sum, out.Latency.sumSq = m.sums[slotLatency], m.sums[slotLatency+1]
	mw := mergeWork{m: m, shards: shards, offsets: offsets, out: out}
	mw.warnings()
	mw.totalTime()
	mw.timeline()
	mw.runs()
	if a := m.arrivals; a != nil {
		a.Lag.sum, a.Lag.sumSq, a.Rate = m.sums[slotLag], m.sums[slotLag+1], m.sums[slotRate]
		out.Arrivals = a
	}
	mw.stops()
	mw.generator()
	mw.session()
	for _, run := range out.Runs {
		run.report = out
		for _, s := range run.Steps {
			s.report = out
		}
	}
	return out
}

// mergeWork makes the merged report of the shards added, in index order,
// with their offsets from the earliest start.
type mergeWork struct {
	m       *Merger
	shards  []*mergeShard
	offsets []time.Duration
	out     *Report
}

// label is shard k's prefix in messages.
func (w *mergeWork) label(k int) string { return "shard " + w.shards[k].manifest.String() }

func (w *mergeWork) warnings() {
	out := w.out
	// shards on several hosts share T0 only as far as their clocks
	// agree: a clock not known to be synchronised is said
	hosts := map[string]bool{}
	for _, s := range w.shards {
		hosts[s.manifest.Host] = true
	}
	if len(hosts) > 1 {
		var unsync []string
		for _, s := range w.shards {
			if c := s.manifest.Clock; strings.HasPrefix(c, "not synchronised") || strings.HasPrefix(c, "unknown") {
				unsync = append(unsync, fmt.Sprintf("%s on %s: %s", s.manifest.String(), Printable(s.manifest.Host), Printable(c)))
			}
		}
		if len(unsync) > 0 {
			out.Warnings = append(out.Warnings, "the shards ran on several hosts, and some clocks were not known to be synchronised: their starts at T0 and their windows agree only as far as their clocks do: "+strings.Join(unsync, "; "))
		}
	}
	for k, s := range w.shards {
		for _, msg := range s.warnings {
			out.Warnings = append(out.Warnings, w.label(k)+": "+msg)
		}
		for _, e := range s.hooks {
			out.HookErrors = append(out.HookErrors, w.label(k)+": "+e)
		}
		for _, f := range s.failed {
			if !slices.Contains(out.FailedShards, f) {
				out.FailedShards = append(out.FailedShards, f)
			}
		}
	}
	slices.Sort(out.FailedShards)
	if w.m.opts.AllowBinaryMismatch {
		hashes := map[string][]string{}
		var order []string
		for _, s := range w.shards {
			h := short(s.manifest.BinaryHash)
			if _, ok := hashes[h]; !ok {
				order = append(order, h)
			}
			hashes[h] = append(hashes[h], s.manifest.String())
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
	win := out.Window
	var shifted []string
	for k, d := range w.offsets {
		if off := d - shiftOf(d, win)*win; off != 0 {
			shifted = append(shifted, fmt.Sprintf("%s by %v", &w.shards[k].manifest, -off))
		}
	}
	var moved []string
	for k, d := range w.offsets {
		if off := d - shiftOf(d, time.Second)*time.Second; off != 0 {
			moved = append(moved, fmt.Sprintf("%s by %v", &w.shards[k].manifest, -off))
		}
	}
	if len(moved) > 0 && len(shifted) == 0 {
		out.Warnings = append(out.Warnings, "the shards did not start a whole number of seconds apart: their timeline seconds were moved to the nearest second of the earliest shard's clock: "+strings.Join(moved, ", "))
	}
	if len(shifted) > 0 {
		out.Warnings = append(out.Warnings, fmt.Sprintf("the shards did not start a whole number of windows (%v) apart: their windows (and timeline seconds, to the nearest second) were moved to the nearest window of the earliest shard's clock: %s",
			win, strings.Join(shifted, ", ")))
	}
	// shards that did not run at the same time may be of two executions
	// (a shard re-run later): the merge is theirs to judge, not to hide
	early, late := 0, 0
	for k, d := range w.offsets {
		if d > w.offsets[late] {
			late = k
		}
		if d < w.offsets[early] {
			early = k
		}
	}
	if e := w.shards[early]; e.active && w.offsets[late] > e.end {
		out.Warnings = append(out.Warnings, fmt.Sprintf("shard %s began %v after shard %s began, when shard %s had ended (%v after its start): the shards did not run at the same time",
			&w.shards[late].manifest, w.offsets[late]-w.offsets[early], &e.manifest, &e.manifest, e.end))
	}
	var logs []string
	for i, run := range out.Runs {
		if w.m.logs[i] {
			logs = append(logs, fmt.Sprintf("%q", run.Name))
		}
	}
	if len(logs) > 0 {
		out.Warnings = append(out.Warnings, "the per-request records of runs "+strings.Join(logs, ", ")+" are in the shards' reports, not in the merged one")
	}
}

func (w *mergeWork) totalTime() {
	var lo, hi time.Duration
	seen := false
	for k, s := range w.shards {
		if !s.active {
			continue
		}
		first, end := s.first+w.offsets[k], s.end+w.offsets[k]
		if !seen || first < lo {
			lo = first
		}
		if !seen || end > hi {
			hi = end
		}
		seen = true
	}
	if seen && hi > lo {
		w.out.TotalTime = hi - lo
	}
}

// shifts are each start group's shift (in units of unit) from the
// earliest start.
func (w *mergeWork) shifts(unit time.Duration) map[*startGroup]int {
	out := make(map[*startGroup]int, len(w.m.groups))
	for k, s := range w.shards {
		out[s.group] = int(shiftOf(w.offsets[k], unit))
	}
	return out
}

func (w *mergeWork) timeline() {
	groups := w.m.groups
	shifts := w.shifts(time.Second)
	if len(groups) == 1 {
		for _, g := range groups {
			// shift 0: the group's timeline is the merged one
			w.out.Timeline = g.timeline
		}
		return
	}
	var tl []Second
	add := func(at int, s Second) {
		if at < 0 {
			return
		}
		for len(tl) <= at {
			tl = append(tl, Second{At: len(tl)})
		}
		tl[at].add(s)
	}
	for g, shift := range shifts {
		for at, s := range g.timeline {
			if g.seen[at] {
				add(at+shift, s)
			}
		}
		for _, s := range g.before {
			add(s.At+shift, s)
		}
	}
	w.out.Timeline = tl
}

func (w *mergeWork) runs() {
	m, out := w.m, w.out
	windowShifts := w.shifts(out.Window)
	f := 0
	for i, run := range out.Runs {
		r0 := w.shards[0].runs[i]
		run.Order, run.KeepLevel, run.AllowUnsentSteps = r0.order, r0.keep, r0.allowUnsent
		run.Latency = NewLatency()
		for _, s := range run.Steps {
			at := slotSteps + slotsPerStep*f
			for h, l := range []*Latency{s.Latency, s.Connect, s.FirstByte, s.TLSHandshake, s.Corrected} {
				if l != nil {
					l.sum, l.sumSq = m.sums[at+2*h], m.sums[at+2*h+1]
				}
			}
			w.stepTimes(s, f)
			if kinds := m.kinds[f]; kinds != nil {
				s.KindReasons = make(map[failure.Kind]string, len(kinds))
				for kind, kr := range kinds {
					s.KindReasons[kind] = kr.reason
				}
			}
			if samples := m.samples[f]; len(samples) > 0 {
				s.Samples = make(map[string]Sample, len(samples))
				for reason, ms := range samples {
					s.Samples[reason] = ms.sample
				}
			}
			w.windows(s, f, windowShifts)
			run.Latency.Merge(s.Latency)
			f++
		}
	}
}

// stepTimes sets step f's first and last times and body sizes, from the
// shards' in their order (their offsets put them on one clock).
func (w *mergeWork) stepTimes(s *StepReport, f int) {
	var sent, good int64
	for j, sh := range w.shards {
		o, off := sh.steps[f], w.offsets[j]
		if o.sent > 0 || o.first != 0 || o.last != 0 {
			if first := o.first + off; sent == 0 && s.First == 0 && s.Last == 0 || first < s.First {
				s.First = first
			}
			s.Last = max(s.Last, o.last+off)
		}
		if o.good > 0 {
			if good == 0 || o.minBody < s.MinBodyBytes {
				s.MinBodyBytes = o.minBody
			}
			s.MaxBodyBytes = max(s.MaxBodyBytes, o.maxBody)
		}
		sent += o.sent
		good += o.good
	}
}

// windows sets step f's windows: each start group's, shifted, with the
// histograms' sums added in the shards' order.
func (w *mergeWork) windows(s *StepReport, f int, shifts map[*startGroup]int) {
	m := w.m
	// a group of shift 0 (the earliest start's) takes the others'
	// windows in; each group's are let go once added
	var base *startGroup
	for g, shift := range shifts {
		if shift == 0 && (base == nil || len(g.windows[f]) > len(base.windows[f])) {
			base = g
		}
	}
	wins := base.windows[f]
	base.windows[f] = nil
	for g, shift := range shifts {
		if g != base {
			for i, gw := range g.windows[f] {
				at := i + shift
				if len(wins) <= at {
					wins = append(wins, make([]Window, at+1-len(wins))...)
				}
				sw := &wins[at]
				sw.Good += gw.Good
				sw.Failed += gw.Failed
				if gw.Latency != nil {
					if sw.Latency == nil {
						sw.Latency = NewLatency()
					}
					sw.Latency.mergeCounts(gw.Latency)
				}
			}
			g.windows[f] = nil
		}
	}
	sums := make([]float64, 2*len(wins))
	if g := m.winGroup; g != nil {
		shift := shifts[g]
		for i, v := range m.winSums[f] {
			sums[i+2*shift] += v
		}
	}
	for j, sh := range w.shards {
		if sh.windows == nil {
			continue
		}
		shift := int(shiftOf(w.offsets[j], w.out.Window))
		for i, v := range sh.windows[f] {
			sums[i+2*shift] += v
		}
		sh.windows[f] = nil
	}
	for i := range wins {
		if l := wins[i].Latency; l != nil {
			l.sum, l.sumSq = sums[2*i], sums[2*i+1]
		}
	}
	s.Windows = wins
}

// stops says which shards stopped early and why.
func (w *mergeWork) stops() {
	var why []string
	code := ""
	for k, s := range w.shards {
		if s.stoppedBy == "" && s.stopCode == "" {
			continue
		}
		text := s.stoppedBy
		if text == "" {
			text = s.stopCode
		}
		why = append(why, w.label(k)+": "+text)
		switch {
		case code == "":
			code = s.stopCode
		case code != s.stopCode:
			code = StopError
		}
	}
	if len(why) == 0 {
		return
	}
	if code == "" {
		code = StopError
	}
	w.out.StoppedBy, w.out.StopCode = strings.Join(why, "; "), code
}

// generator keeps the worst shard's health: a saturated one before
// others, then the latest delay probe, then the busiest CPU.
func (w *mergeWork) generator() {
	worst := -1
	for k, s := range w.shards {
		g := s.generator
		if g == nil {
			continue
		}
		if worst < 0 {
			worst = k
			continue
		}
		b := w.shards[worst].generator
		if g.Saturated != b.Saturated {
			if g.Saturated {
				worst = k
			}
			continue
		}
		if g.Delay > b.Delay || g.Delay == b.Delay && g.CPU > b.CPU {
			worst = k
		}
	}
	if worst < 0 {
		return
	}
	g := *w.shards[worst].generator
	g.Readings = slices.Clone(g.Readings)
	if g.Why != "" {
		g.Why = w.label(worst) + ": " + g.Why
	} else if g.Saturated {
		g.Why = w.label(worst)
	}
	w.out.Generator = &g
}

// session derives the merged report's session from the shards' sessions
// and starts: two merges of different runs never share one.
func (w *mergeWork) session() {
	h := sha256.New()
	fmt.Fprintf(h, "merge\x00%s\x00", w.shards[0].manifest.PlanHash)
	for _, s := range w.shards {
		fmt.Fprintf(h, "%s\x00%d\x00", s.session, s.started.UnixNano())
	}
	w.out.Session = "merge-" + hex.EncodeToString(h.Sum(nil)[:8])
}
