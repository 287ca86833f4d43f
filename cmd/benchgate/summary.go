package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// phase accumulates one column of ab's connection times table in one
// pass, without keeping the values: moments for the mean and standard
// deviation, a histogram for the median.
type phase struct {
	n          int
	min, max   time.Duration
	sum, sumSq float64
	hist       *loadtest.Latency
}

func newPhase() *phase { return &phase{hist: loadtest.NewLatency()} }

func (p *phase) add(d time.Duration) {
	if p.n == 0 || d < p.min {
		p.min = d
	}
	p.max = max(p.max, d)
	p.n++
	x := ms(d)
	p.sum += x
	p.sumSq += x * x
	p.hist.Record(d)
}

// row returns min, mean, sd, median and max in milliseconds.
func (p *phase) row() (minMs, mean, sd, median, maxMs float64) {
	if p.n == 0 {
		return
	}
	mean = p.sum / float64(p.n)
	if p.n > 1 {
		sd = math.Sqrt(math.Max(0, (p.sumSq-float64(p.n)*mean*mean)/float64(p.n-1)))
	}
	median = ms(p.hist.Percentile(50))
	if p.max == 0 {
		median = 0 // the histogram's floor is 1µs
	}
	return ms(p.min), mean, sd, median, ms(p.max)
}

// writeABSummary prints an ApacheBench-style summary of an ab report.
func writeABSummary(w io.Writer, c *abConfig, r *loadtest.Report) {
	u, _ := url.Parse(c.url)
	run := r.Runs[0]
	var docLen int64 = -1
	var keepAliveN int64
	connect, processing, waiting, total := newPhase(), newPhase(), newPhase(), newPhase()
	if st := run.Steps[0]; st.Good > 0 {
		docLen = st.MinBodyBytes
	}
	for _, rq := range run.Requests.All() {
		if !rq.Sent || rq.Failed || rq.Interrupted {
			continue
		}
		if rq.Reused {
			keepAliveN++
		}
		connect.add(rq.Connect)
		processing.add(rq.Total - rq.Connect)
		waiting.add(rq.Send + rq.Wait)
		total.add(rq.Total)
	}
	htmlBytes := run.Steps[0].BodyBytes
	secs := r.TotalTime.Seconds()
	fmt.Fprintf(w, "\nServer Hostname:        %s\n", u.Hostname())
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	fmt.Fprintf(w, "Server Port:            %s\n", port)
	if r.TLSVerifySkipped {
		fmt.Fprintf(w, "TLS verification:       SKIPPED (--insecure)\n")
	}
	fmt.Fprintf(w, "\nDocument Path:          %s\n", u.RequestURI())
	if docLen >= 0 {
		fmt.Fprintf(w, "Document Length:        %d bytes\n", docLen)
	}
	fmt.Fprintf(w, "\nConcurrency Level:      %d\n", r.Concurrency)
	fmt.Fprintf(w, "Time taken for tests:   %.3f seconds\n", secs)
	fmt.Fprintf(w, "Complete requests:      %d\n", r.GoodResponses)
	dropped := droppedRequests(r)
	fmt.Fprintf(w, "Failed requests:        %d\n", r.ResponsesFailed+dropped)
	if dropped > 0 {
		fmt.Fprintf(w, "   (Failed: %d, Dropped arrivals: %d: due and never sent, no connection free within --max-lag %v; raise -c or lower --rate)\n",
			r.ResponsesFailed, dropped, c.maxLag)
	}
	if st := run.Steps[0]; !c.anyLength && c.follow == 0 && st.Good > 1 && st.MinBodyBytes != st.MaxBodyBytes {
		// ab without -l counts each length unlike the first as failed;
		// benchgate keeps no length per request at this keep level, so
		// it says so instead of counting
		fmt.Fprintf(w, "WARNING:                body lengths vary from %d to %d bytes (ab counts those unlike the first as failed; -l: expected)\n",
			st.MinBodyBytes, st.MaxBodyBytes)
	}
	if why := r.Invalid(); why != "" {
		fmt.Fprintf(w, "WARNING:                %s\n", why)
	}
	if r.RequestsInterrupted > 0 {
		fmt.Fprintf(w, "Interrupted requests:   %d (in flight when the run stopped; not failures)\n", r.RequestsInterrupted)
	}
	if r.StoppedBy != "" {
		fmt.Fprintf(w, "Not started:            %d (stopped by %s)\n", r.RequestsNotStarted, r.StoppedBy)
	}
	if a := r.Arrivals; a != nil {
		fmt.Fprintf(w, "Arrivals:               %d planned, %d started (%.2f/s), %d dropped (no connection free in time)\n", a.Planned, a.Started, a.Rate, a.Dropped)
		fmt.Fprintf(w, "Start lag:              p50 %v, p99 %v, max %v\n", a.Lag.Percentile(50), a.Lag.Percentile(99), a.Lag.Max())
	}
	var non2xx int64
	for _, s := range run.Steps {
		for code, n := range s.Statuses {
			if code/100 != 2 && code != 599 {
				non2xx += n
			}
		}
	}
	if non2xx > 0 {
		fmt.Fprintf(w, "Non-2xx responses:      %d\n", non2xx)
	}
	if c.keepAlive {
		fmt.Fprintf(w, "Keep-Alive requests:    %d\n", keepAliveN)
	}
	fmt.Fprintf(w, "Total transferred:      %d bytes\n", r.BytesReceived)
	fmt.Fprintf(w, "HTML transferred:       %d bytes\n", htmlBytes)
	if secs > 0 {
		fmt.Fprintf(w, "Requests per second:    %.2f [#/sec] (mean)\n", float64(r.GoodResponses)/secs)
		if r.GoodResponses > 0 {
			perReq := secs * 1000 * float64(r.Concurrency) / float64(r.GoodResponses)
			if r.Arrivals == nil {
				// derived from -c, which only bounds what is in flight at a rate
				fmt.Fprintf(w, "Time per request:       %.3f [ms] (mean)\n", perReq)
			}
			fmt.Fprintf(w, "Time per request:       %.3f [ms] (mean, across all concurrent requests)\n", perReq/float64(r.Concurrency))
		}
		fmt.Fprintf(w, "Transfer rate:          %.2f [Kbytes/sec] received\n", float64(r.BytesReceived)/1024/secs)
	}
	if total.n > 0 {
		fmt.Fprintf(w, "\nConnection Times (ms)\n")
		if c.noConfid {
			fmt.Fprintf(w, "              min   avg   max\n")
		} else {
			fmt.Fprintf(w, "              min  mean[+/-sd] median   max\n")
		}
		rows := []struct {
			name, what string
			p          *phase
		}{{"Connect", "the initial connection time", connect}, {"Processing", "the processing time", processing},
			{"Waiting", "the waiting time", waiting}, {"Total", "the total time", total}}
		for _, row := range rows {
			lo, mean, sd, median, hi := row.p.row()
			if c.noConfid {
				fmt.Fprintf(w, "%-11s %5.1f %5.1f %5.1f\n", row.name+":", lo, mean, hi)
				continue
			}
			fmt.Fprintf(w, "%-11s %5.1f %5.1f %5.1f %6.1f %7.1f\n", row.name+":", lo, mean, sd, median, hi)
		}
		for _, row := range rows {
			// ab's sanity check of each column, unless -S; as ab, on the
			// mean and median in whole milliseconds
			_, mean, sd, median, _ := row.p.row()
			if d := math.Abs(math.Round(mean) - math.Round(median)); c.noConfid || d <= sd {
				continue
			} else if d > 2*sd {
				fmt.Fprintf(w, "ERROR: The median and mean for %s are more than twice the standard\n"+
					"       deviation apart. These results are NOT reliable.\n", row.what)
			} else {
				fmt.Fprintf(w, "WARNING: The median and mean for %s are not within a normal deviation\n"+
					"        These results are probably not that reliable.\n", row.what)
			}
		}
	}
	if total.n > 0 && !c.noPercent {
		if cor := run.Steps[0].Corrected; cor != nil && cor.Count() > 0 {
			// the open model and paced users: what a request waited from
			// when it should have started (coordinated omission corrected)
			// comes first: it is the latency a user of the server saw
			fmt.Fprintf(w, "\nPercentage of the requests served within a certain time (ms),\nfrom each request's intended start%s\n", leftOut(cor.Count(), dropped))
			writePercentiles(w, cor, dropped, "")
			fmt.Fprintf(w, "\nThe same, from each request's actual start (ab's table: it leaves out the time a request waited for a connection)\n")
			writePercentiles(w, r.Latency, dropped, " (longest request)")
			// p90 as both tables print it, or, when dropped arrivals push
			// it out of them, the highest percentile they still print
			for _, p := range []float64{90, 80, 75, 66, 50} {
				q := p * float64(cor.Count()+dropped) / float64(cor.Count())
				if q > 100 {
					continue
				}
				if a, b := cor.Percentile(q), r.Latency.Percentile(p*float64(r.Latency.Count()+dropped)/float64(r.Latency.Count())); a > 2*b && a-b > time.Millisecond {
					fmt.Fprintf(w, "WARNING:                p%.0f from the intended start (%.2f ms) is %.0f× the one from the actual start (%.2f ms): requests waited for a free connection; the first table is the server's latency as its users saw it\n",
						p, ms(a), float64(a)/float64(b), ms(b))
				}
				break
			}
		} else {
			fmt.Fprintf(w, "\nPercentage of the requests served within a certain time (ms)%s\n", leftOut(r.Latency.Count(), dropped))
			writePercentiles(w, r.Latency, dropped, " (longest request)")
		}
	}
	if c.verbosity >= 2 {
		for _, s := range run.Steps {
			for reason, n := range s.Failures {
				fmt.Fprintf(w, "failed %d× : %s\n", n, sanitize(scenario.RedactText(reason)))
			}
		}
	}
	if c.verbosity >= 3 && len(run.Headers) > 0 {
		fmt.Fprintf(w, "\nResponse headers of the first request:\n%s", sanitize(run.Headers[0]))
	}
	for _, warn := range r.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warn)
	}
	for _, why := range r.StepsNeverSent() {
		fmt.Fprintf(w, "not a verdict: %s\n", loadtest.Printable(why))
	}
}

// droppedRequests is the requests of the arrivals a rate run dropped.
func droppedRequests(r *loadtest.Report) (n int64) {
	for _, run := range r.Runs {
		n += run.Dropped * int64(len(run.Steps))
	}
	return n
}

// leftOut says how many due requests a percentile table leaves out.
func leftOut(measured, dropped int64) string {
	if dropped == 0 {
		return ""
	}
	return fmt.Sprintf(";\n%d dropped arrivals (%.1f%% of %d) never started: counted above every time below", dropped,
		100*float64(dropped)/float64(measured+dropped), measured+dropped)
}

// writePercentiles prints ab's percentiles of l, with dropped requests
// taken as slower than every measured one: a percentile that falls among
// them is printed as "dropped".
func writePercentiles(w io.Writer, l *loadtest.Latency, dropped int64, last string) {
	n := l.Count()
	for _, p := range []float64{50, 66, 75, 80, 90, 95, 98, 99, 100} {
		q := p * float64(n+dropped) / float64(n)
		switch {
		case dropped > 0 && q > 100:
			fmt.Fprintf(w, "  %3.0f%%  %8s (dropped: never started)\n", p, "-")
		case p == 100:
			fmt.Fprintf(w, "  100%%  %8.2f%s\n", ms(l.Max()), last)
		default:
			fmt.Fprintf(w, "  %3.0f%%  %8.2f\n", p, ms(l.Percentile(q)))
		}
	}
}

// sanitize drops control characters other than newlines and tabs, so
// server text cannot drive the terminal.
func sanitize(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if r == '\n' || r == '\t' || r >= 0x20 && r != 0x7f && !(r >= 0x80 && r < 0xa0) {
			out = append(out, r)
		}
	}
	return string(out)
}

// writeABCSV writes "Percentage served,Time in ms" for 0..100 as ab -e does.
func writeABCSV(w io.Writer, r *loadtest.Report) error {
	if _, err := fmt.Fprintln(w, "Percentage served,Time in ms"); err != nil {
		return err
	}
	for p := 0; p <= 100; p++ {
		if _, err := fmt.Fprintf(w, "%d,%.3f\n", p, ms(r.Latency.Percentile(float64(p)))); err != nil {
			return err
		}
	}
	return nil
}

// writeGnuplot writes ab -g's TSV: a header, then one line per complete
// request (sent, answered, not failed): its start as ctime(3) text in
// local time and as Unix seconds, then the connect, processing (total
// minus connect), total and waiting times in whole milliseconds, rounded
// as ab rounds. As ab, the lines are ordered by total time.
func writeGnuplot(w io.Writer, r *loadtest.Report) error {
	type row struct {
		start                          time.Time
		connect, process, total, waits time.Duration
	}
	var rows []row
	for _, run := range r.Runs {
		for _, rq := range run.Requests.All() {
			if !rq.Sent || rq.Failed || rq.Interrupted {
				continue
			}
			rows = append(rows, row{r.Started.Add(rq.At), rq.Connect, rq.Total - rq.Connect, rq.Total, rq.Send + rq.Wait})
		}
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].total < rows[j].total })
	bw := bufio.NewWriter(w)
	bw.WriteString("starttime\tseconds\tctime\tdtime\tttime\twait\n")
	round := func(d time.Duration) int64 { return int64((d + 500*time.Microsecond) / time.Millisecond) }
	for _, x := range rows {
		fmt.Fprintf(bw, "%s\t%d\t%d\t%d\t%d\t%d\n", x.start.Local().Format("Mon Jan 02 15:04:05 2006"), x.start.Unix(),
			round(x.connect), round(x.process), round(x.total), round(x.waits))
	}
	return bw.Flush()
}

// writeFileAtomic writes through a temporary file renamed into place, so
// a crash never leaves a half-written file.
func writeFileAtomic(path string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
