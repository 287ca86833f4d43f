package loadtest

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
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
		r.ResponsesReceived, r.ResponsesFailed, r.BytesReceived, r.BytesSent)
	if r.RequestsInterrupted > 0 || r.RequestsNotSent > 0 || r.RequestsNotStarted > 0 {
		fmt.Fprintf(&b, "interrupted %d (in flight when the execution stopped), not sent %d (could not be built), not started %d\n",
			r.RequestsInterrupted, r.RequestsNotSent, r.RequestsNotStarted)
	}
	if r.StoppedBy != "" {
		fmt.Fprintf(&b, "stopped early: %s\n", r.StoppedBy)
	}
	b.WriteString("\n")
	width := len("run / step")
	for _, run := range r.Runs {
		width = max(width, len(Printable(run.Name))+8)
		for _, s := range run.Steps {
			width = max(width, len(Printable(s.Name))+2)
		}
	}
	fmt.Fprintf(&b, "%-*s %8s %8s %8s %9s %9s %9s %9s\n", width, "run / step", "sent", "good", "failed", "p50", "p95", "p99", "max")
	row := func(name string, sent, good, failed int64, l *Latency) {
		fmt.Fprintf(&b, "%-*s %8d %8d %8d %9v %9v %9v %9v\n", width, name, sent, good, failed,
			round(l.Percentile(50)), round(l.Percentile(95)), round(l.Percentile(99)), round(l.Max()))
	}
	for _, run := range r.Runs {
		row(Printable(run.Name)+" ×"+fmt.Sprint(run.Repeat), run.Sent(), run.Good(), run.Failed(), run.Latency)
		for _, s := range run.Steps {
			row("  "+Printable(s.Name), s.Sent, s.Good, s.Failed, s.Latency)
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
				fmt.Fprintf(&b, "  %s / %s: %d× %s\n", Printable(run.Name), Printable(s.Name), s.Failures[reason], Printable(reason))
			}
			for _, reason := range sortedKeys(s.Unsent) {
				if first {
					b.WriteString("\nfailures:\n")
					first = false
				}
				fmt.Fprintf(&b, "  %s / %s: %d× not sent: %s\n", Printable(run.Name), Printable(s.Name), s.Unsent[reason], Printable(reason))
			}
		}
	}
	for _, warn := range r.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", Printable(warn))
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
