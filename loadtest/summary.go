package loadtest

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/benchgate/benchgate/failure"
	"github.com/benchgate/benchgate/scenario"
)

// WriteSummary prints the report as a person reads it: totals, then one
// line per run and step with counts and latency percentiles, then failure
// reasons and warnings. Server-provided text is stripped of control
// characters.
func (r *Report) WriteSummary(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%d runs, %d of %d requests sent in %v (%.1f req/s), concurrency %d, %s\n",
		len(r.Runs), r.RequestsSent, r.RequestsConfigured, r.TotalTime.Round(time.Millisecond),
		r.RequestsPerSecond(), r.Concurrency, r.Priority)
	fmt.Fprintf(&b, "good %d, failed %d, received %d bytes, sent %d bytes\n",
		r.goodResponses(), r.ResponsesFailed, r.BytesReceived, r.BytesSent)
	if r.RequestsInterrupted > 0 || r.RequestsNotSent > 0 || r.RequestsNotStarted > 0 {
		fmt.Fprintf(&b, "interrupted %d (in flight when the execution stopped), not sent %d (could not be built), not started %d\n",
			r.RequestsInterrupted, r.RequestsNotSent, r.RequestsNotStarted)
	}
	if r.StoppedBy != "" {
		fmt.Fprintf(&b, "stopped early: %s\n", r.StoppedBy)
	}
	for _, why := range r.StepsNeverSent() {
		fmt.Fprintf(&b, "NOT A VERDICT: %s\n", Printable(why))
	}
	if a := r.Arrivals; a != nil {
		fmt.Fprintf(&b, "arrivals: %d planned, %d started (%.1f/s), %d dropped (no VU free within MaxLag); start lag p50 %v, p99 %v, max %v\n",
			a.Planned, a.Started, a.Rate, a.Dropped, round(a.Lag.Percentile(50)), round(a.Lag.Percentile(99)), round(a.Lag.Max()))
		if a.Dropped > 0 {
			fmt.Fprintf(&b, "FAILED: %d arrivals dropped: the rate was not kept; their requests were never sent and are not in the percentiles below\n", a.Dropped)
		}
	}
	fmt.Fprintf(&b, "seed %d (loadtest.Seed replays its random draws)\n", r.Seed)
	if m := r.Shard; m != nil {
		fmt.Fprintf(&b, "shard %s of plan %s (benchgate merge adds the shards up)\n", m, short(m.PlanHash))
	}
	writeShards(&b, r.Shards)
	if len(r.MissingShards) > 0 {
		fmt.Fprintf(&b, "FAILED: %v\n", missingShardsError(r.MissingShards, len(r.Shards)+len(r.MissingShards)))
	}
	b.WriteString("\n")
	width := len("run / step")
	for _, run := range r.Runs {
		width = max(width, len(Printable(run.Name))+8)
		for _, s := range run.Steps {
			width = max(width, len(Printable(s.Name))+2, len("    from intended start"))
		}
	}
	fmt.Fprintf(&b, "%-*s %8s %8s %8s %9s %9s %9s %9s\n", width, "run / step", "sent", "good", "failed", "p50", "p95", "p99", "max")
	row := func(name string, sent, good, failed int64, l *Latency) {
		if l == nil || l.Count() == 0 {
			fmt.Fprintf(&b, "%-*s %8d %8d %8d %s\n", width, name, sent, good, failed, "  (no good response)")
			return
		}
		fmt.Fprintf(&b, "%-*s %8d %8d %8d %9v %9v %9v %9v\n", width, name, sent, good, failed,
			round(l.Percentile(50)), round(l.Percentile(95)), round(l.Percentile(99)), round(l.Max()))
	}
	for _, run := range r.Runs {
		row(Printable(run.Name)+" ×"+fmt.Sprint(run.Repeat), run.Sent(), run.Good(), run.Failed(), run.Latency)
		if run.Dropped > 0 {
			fmt.Fprintf(&b, "%-*s %8s %8s %8d   (dropped arrivals: never sent, left out of the percentiles)\n", width, "  dropped", "", "", run.Dropped*int64(len(run.Steps)))
		}
		for _, s := range run.Steps {
			row("  "+Printable(s.Name), s.Sent, s.Good, s.Failed, s.Latency)
			if s.Corrected != nil {
				row("    from intended start", s.Sent, s.Good, s.Failed, s.Corrected)
			}
		}
	}
	first := true
	for _, run := range r.Runs {
		for _, s := range run.Steps {
			reasons := make([]string, 0, len(s.Failures))
			for reason := range s.Failures {
				reasons = append(reasons, reason)
			}
			sort.Slice(reasons, func(i, j int) bool { return s.Failures[reasons[i]] > s.Failures[reasons[j]] })
			for _, reason := range reasons {
				if first {
					b.WriteString("\nfailures:\n")
					first = false
				}
				fmt.Fprintf(&b, "  %s / %s: %d× %s\n", Printable(run.Name), Printable(s.Name), s.Failures[reason], Printable(scenario.RedactText(reason)))
			}
			for _, reason := range sortedKeys(s.Unsent) {
				if first {
					b.WriteString("\nfailures:\n")
					first = false
				}
				fmt.Fprintf(&b, "  %s / %s: %d× not sent: %s\n", Printable(run.Name), Printable(s.Name), s.Unsent[reason], Printable(scenario.RedactText(reason)))
			}
			if len(s.Kinds) > 0 {
				fmt.Fprintf(&b, "  %s / %s: by kind: %s\n", Printable(run.Name), Printable(s.Name), formatKinds(s.Kinds))
			}
		}
	}
	for _, warn := range r.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", Printable(warn))
	}
	if why := r.Invalid(); why != "" {
		fmt.Fprintf(&b, "warning: %s\n", why)
	}
	for _, e := range r.HookErrors {
		fmt.Fprintf(&b, "hook error: %s\n", Printable(e))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

// Printable replaces control characters (other than tab) so that text
// from a server cannot move the cursor or recolour a terminal.
func Printable(s string) string {
	ok := true
	for _, c := range s {
		if c < 0x20 && c != '\t' || c == 0x7f || c >= 0x80 && c < 0xa0 {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	var b strings.Builder
	for _, c := range s {
		if c < 0x20 && c != '\t' || c == 0x7f || c >= 0x80 && c < 0xa0 {
			fmt.Fprintf(&b, "\\x%02x", c)
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// String is the summary WriteSummary prints, so fmt's %v shows a report
// a person can read.
func (r *Report) String() string {
	if r == nil {
		return "<nil report>"
	}
	var b strings.Builder
	r.WriteSummary(&b)
	return b.String()
}

// Numbers is one line per run: requests sent, good, failed, the good
// responses' p50, p95 and p99, and requests per second over the report's
// total time. The matchers record it with the spec under Ginkgo, so a
// passing spec shows its numbers too.
func (r *Report) Numbers() string {
	if r == nil {
		return ""
	}
	var b strings.Builder
	for i, run := range r.Runs {
		if run == nil {
			continue
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		rate := 0.0
		if r.TotalTime > 0 {
			rate = float64(run.Sent()) / r.TotalTime.Seconds()
		}
		lat := "no good response"
		if l := run.Latency; l != nil && l.Count() > 0 {
			lat = fmt.Sprintf("p50 %v, p95 %v, p99 %v", round(l.Percentile(50)), round(l.Percentile(95)), round(l.Percentile(99)))
		}
		fmt.Fprintf(&b, "run %q: %d requests, %d good, %d failed; %s; %.1f req/s", Printable(run.Name), run.Sent(), run.Good(), run.Failed(), lat, rate)
	}
	return b.String()
}

// String summarizes the run and its steps, one line each.
func (r *RunReport) String() string {
	if m := r.Missing(); m != "" {
		return m
	}
	var b strings.Builder
	fmt.Fprintf(&b, "run %q ×%d: %d sent, %d good, %d failed; %s", Printable(r.Name), r.Repeat, r.Sent(), r.Good(), r.Failed(), latencyLine(r.Latency))
	for _, s := range r.Steps {
		b.WriteString("\n  ")
		b.WriteString(s.String())
	}
	return b.String()
}

// String summarizes the step on one line.
func (s *StepReport) String() string {
	if m := s.Missing(); m != "" {
		return m
	}
	codes := make([]int, 0, len(s.Statuses))
	for c := range s.Statuses {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	var st strings.Builder
	for i, c := range codes {
		if i > 0 {
			st.WriteByte(' ')
		}
		fmt.Fprintf(&st, "%d×%d", c, s.Statuses[c])
	}
	out := fmt.Sprintf("step %d %q: %d sent, %d good, %d failed", s.Number, Printable(s.Name), s.Sent, s.Good, s.Failed)
	if s.NotSent > 0 {
		out += fmt.Sprintf(", %d not sent", s.NotSent)
	}
	if s.Interrupted > 0 {
		out += fmt.Sprintf(", %d interrupted", s.Interrupted)
	}
	return out + fmt.Sprintf("; statuses %s; %s", st.String(), latencyLine(s.Latency))
}

func latencyLine(l *Latency) string {
	if l == nil || l.Count() == 0 {
		return "no good response"
	}
	return fmt.Sprintf("p50 %v p95 %v p99 %v max %v", round(l.Percentile(50)), round(l.Percentile(95)), round(l.Percentile(99)), round(l.Max()))
}

// WriteCSV writes one line per step (and per run): counts, latency
// percentiles in milliseconds, mean, max and throughput, and last the
// requests of an arrival rate's dropped arrivals (never sent, so left
// out of the percentiles; failures of the run), with a header.
// The run and step names are quoted, and one that a spreadsheet would
// read as a formula (starting with =, +, -, @, a tab or a CR) has a
// single quote put in front, as OWASP advises; numbers are written bare.
func (r *Report) WriteCSV(w io.Writer) error {
	cw := &csvWriter{w: w}
	cw.row(csvHeader("run", "step", "configured", "sent", "good", "failed", "interrupted", "not_sent",
		"p50_ms", "p90_ms", "p95_ms", "p99_ms", "max_ms", "mean_ms", "per_second", "dropped"))
	ms := func(d time.Duration) csvCell {
		return csvRaw(strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 3, 64))
	}
	n := func(v int64) csvCell { return csvRaw(strconv.FormatInt(v, 10)) }
	// dropped: the requests of an arrival rate's dropped arrivals, never
	// sent and left out of the percentiles (failures of the run)
	row := func(run, step string, configured, sent, good, failed, interrupted, notSent int64, l *Latency, rate float64, dropped int64) {
		rec := []csvCell{csvText(run), csvText(step), n(configured), n(sent), n(good), n(failed), n(interrupted), n(notSent)}
		if l == nil || l.Count() == 0 {
			rec = append(rec, csvRaw(""), csvRaw(""), csvRaw(""), csvRaw(""), csvRaw(""), csvRaw(""))
		} else {
			rec = append(rec, ms(l.Percentile(50)), ms(l.Percentile(90)), ms(l.Percentile(95)), ms(l.Percentile(99)), ms(l.Max()), ms(l.Mean()))
		}
		cw.row(append(rec, csvRaw(strconv.FormatFloat(rate, 'f', 2, 64)), n(dropped)))
	}
	for _, run := range r.Runs {
		var configured int64
		for _, s := range run.Steps {
			configured += s.Configured
		}
		row(run.Name, "", configured, run.Sent(), run.Good(), run.Failed(), run.Interrupted(), run.NotSent(), run.Latency, run.Throughput(), run.Dropped*int64(len(run.Steps)))
		for _, s := range run.Steps {
			row(run.Name, s.Name, s.Configured, s.Sent, s.Good, s.Failed, s.Interrupted, s.NotSent, s.Latency, s.Throughput(), run.Dropped)
		}
	}
	return cw.err
}

// formatKinds lists failure kinds with their counts in the order of the
// kinds' numbers: "status 3, connect 1".
func formatKinds(m map[failure.Kind]int64) string {
	parts := make([]string, 0, len(m))
	for _, k := range failure.Kinds() {
		if n := m[k]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, n))
		}
	}
	return strings.Join(parts, ", ")
}
