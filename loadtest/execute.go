package loadtest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/benchgate/benchgate/engine"
	"github.com/benchgate/benchgate/scenario"
)

// Execute validates the plan, sends its requests and returns the Report.
// A plan made a shard by ShardEnv with BENCHGATE_OUT in the environment
// writes the Report there as JSON (whole or not at all), whatever became
// of the execution.
// An invalid plan sends nothing and returns an empty Report (DidNotRun)
// with the error. When ctx is cancelled the partial Report comes back
// with ctx's error; reaching the plan's time limit is not an error: the
// Report says it stopped there. The Report carries the error Execute
// returns (Report.Err), so that a matcher given it says what went wrong
// even when the spec did not check the error.
func (p *Plan) Execute(ctx context.Context) (*Report, error) {
	if err := p.checkShardOut(); err != nil {
		report := &Report{Version: ReportVersion, Latency: NewLatency(), notRun: true, Err: err}
		return report, err
	}
	var report *Report
	var err error
	if p.procsSet {
		report, err = p.executeProcesses(ctx)
	} else {
		report, err = p.execute(ctx)
	}
	report.Err = err
	if p.shardOut != "" && !p.procsSet {
		// the shard contract's BENCHGATE_OUT: the report is written for
		// the merge whatever became of the execution (one that failed
		// carries its error there, and the merge names it)
		if werr := writeReportFile(report, p.shardOut); werr != nil {
			err = errors.Join(err, fmt.Errorf("writing the shard's report to %s (%s): %w", p.shardOut, EnvOut, werr))
			report.Err = err
		}
	}
	return report, err
}

// checkShardOut refuses a shard of several made by ShardEnv with no
// BENCHGATE_OUT: its report would reach no merge, and a spec that
// leaves the verdict to the merge (Report.ShardOnly) would pass on
// nothing. Under ginkgo -p, where ShardEnv finds the shard in Ginkgo's
// flags, a spec runs in one process only: the plan would never be sent
// whole.
func (p *Plan) checkShardOut() error {
	if !p.shardEnv || p.cfg.Segment.Count <= 1 || p.shardOut != "" {
		return nil
	}
	return &scenario.ValidationError{Field: "ShardEnv", Value: fmt.Sprintf("shard %v from %s", p.cfg.Segment, p.shardFrom),
		Reason: "no " + EnvOut + ": the shard's report would reach no merge (set " + EnvOut + " to the file the merge collects; under ginkgo -p, where a spec runs in one process only, run the load in suite-level nodes with Shard and StartAt, as example_parallel does): nothing was sent"}
}

func (p *Plan) execute(ctx context.Context) (*Report, error) {
	ep, work, err := p.compile()
	if err == nil {
		err = p.checkForever(ctx, work)
	}
	if err != nil {
		return &Report{Version: ReportVersion, Latency: NewLatency(), notRun: true}, err
	}
	if p.board != nil {
		stop, err := p.board.Publish()
		if err != nil {
			return &Report{Version: ReportVersion, Latency: NewLatency(), notRun: true}, err
		}
		defer stop()
	}
	if ep.Seed == 0 {
		ep.Seed = rand.Uint64()
	}
	ep.RecordURLs = p.requestLog != nil
	ep.Start = p.startAt // zero without StartAt
	rec := newRecorder(ep, p.cfg.Secrets)
	if p.startSet {
		rec.start = p.startAt // the report's times count from T0, as the schedules do
	}
	if p.cfg.For > 0 {
		rec.openEnded = make([]bool, len(ep.Runs))
		for i, r := range p.runs {
			// a run the executor walks until stopped tells its
			// iterations begun itself (Recorder.IterationsBegun)
			rec.openEnded[i] = !p.repeatSet && r.RepeatCount() == 0 && (work.UntilStopped == nil || !work.UntilStopped[i])
		}
	}
	if work.Arrivals > 0 {
		rec.arrivals = &ArrivalReport{Planned: int64(work.Arrivals), Lag: NewLatency()}
	}
	if p.requestLog != nil {
		rec.lines = newLineLog(p.requestLog, p.requestLogCSV, p.requestLogFormat)
		defer rec.lines.close()
	}
	var hash string
	if p.shardSet || p.startSet {
		// before the execution, which may set repeat counts; of the whole
		// plan, whichever shard this is
		hash = planHash(p.wholePlan(ep), p.executor)
	}
	if err := p.ready(time.Now()); err != nil {
		return &Report{Version: ReportVersion, Latency: NewLatency(), notRun: true}, err
	}
	health := startHealth()
	stopProgress := func() {}
	if p.progress != nil {
		var configured int64
		for i, r := range ep.Runs {
			if i < len(rec.openEnded) && rec.openEnded[i] {
				configured = 0 // bounded by time alone: no count to show
				break
			}
			configured += int64(r.Repeat * len(r.Steps))
		}
		stopProgress = showProgress(p.progress, p.progressEvery, rec, configured, ep.TimeLimit)
	}
	if p.startSet && !builtIn(p.executor) {
		// an executor of the user's may not know Plan.Start: nothing
		// is sent before T0 all the same
		if d := time.Until(p.startAt); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-ctx.Done():
			}
			t.Stop()
		}
		rec.ScheduleBegan(time.Now()) // its schedule begins now, after the wait
	}
	err = p.executor.Execute(ctx, ep, rec)
	stopProgress()
	var logErr error
	if rec.lines != nil {
		logErr = rec.lines.close()
	}
	report := rec.report()
	if g := work.Global; g != nil {
		for i, rr := range report.Runs {
			if i < len(ep.Runs) {
				rr.global = func(index int) int { return g(i, index) }
			}
		}
	}
	if logErr != nil {
		report.Warnings = append(report.Warnings, fmt.Sprintf("request log: %v: the lines from then on are missing", logErr))
	}
	var lag *Latency
	if report.Arrivals != nil {
		lag = report.Arrivals.Lag
	}
	report.Generator = health.finish(lag)
	report.Seed = ep.Seed
	report.Session = ThisSession()
	if p.shardSet || p.startSet {
		// a plan given T0 records it, its skew and the clock in the
		// manifest, shard or not (then shard 1/1)
		report.Shard = newManifest(ep.Segment, hash, report, p.startAt)
		if p.startSet {
			// how late the schedule began after T0 (not when the
			// first request was due on it: an arrival rate's shard
			// k's first arrival is due k/rate after T0)
			report.Shard.Skew = 0
			if b := rec.began.Load(); b != 0 {
				report.Shard.Skew = time.Unix(0, b).Sub(p.startAt)
			}
			report.Shard.Clock = hostClock()
		}
	}
	if errors.As(err, new(*engine.HookError)) {
		return report, err // the recorder put them in the report
	}
	if errors.Is(err, engine.ErrTimeLimit) {
		report.StoppedBy = "time limit " + ep.TimeLimit.String()
		if p.cfg.For > 0 {
			// For's end is the plan's end: only the requests of
			// iterations it cut (or of runs with their own Repeat) are
			// worth a word
			report.StoppedBy = ""
			if report.RequestsNotStarted > 0 {
				report.StoppedBy = fmt.Sprintf("time limit %v (For): %d not started", ep.TimeLimit, report.RequestsNotStarted)
			}
		}
		if report.StoppedBy != "" {
			report.StopCode, report.stopErr = StopTimeLimit, engine.ErrTimeLimit
		}
		err = nil
	} else if err != nil {
		report.StoppedBy, report.StopCode, report.stopErr = err.Error(), stopCode(err), err
	}
	return report, err
}
