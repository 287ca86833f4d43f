package main

import (
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/benchgate/benchgate/loadtest"
)

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// phaseStats are the columns of ab's connection times table.
type phaseStats struct {
	min, mean, sd, median, max float64
}

func statsOf(xs []float64) phaseStats {
	if len(xs) == 0 {
		return phaseStats{}
	}
	sort.Float64s(xs)
	var sum float64
	for _, x := range xs {
		sum += x
	}
	mean := sum / float64(len(xs))
	var sq float64
	for _, x := range xs {
		sq += (x - mean) * (x - mean)
	}
	sd := 0.0
	if len(xs) > 1 {
		sd = math.Sqrt(sq / float64(len(xs)-1))
	}
	return phaseStats{min: xs[0], mean: mean, sd: sd, median: xs[len(xs)/2], max: xs[len(xs)-1]}
}

// writeABSummary prints an ApacheBench-style summary of an ab report.
func writeABSummary(w io.Writer, c *abConfig, r *loadtest.Report) {
	u, _ := url.Parse(c.url)
	run := r.Runs[0]
	var docLen int64 = -1
	var keepAliveN int64
	var connect, processing, waiting, total []float64
	for _, rq := range run.Requests {
		if !rq.Sent || rq.Failed {
			continue
		}
		if docLen < 0 {
			docLen = rq.BodyBytes
		}
		if rq.Reused {
			keepAliveN++
		}
		connect = append(connect, ms(rq.Connect))
		processing = append(processing, ms(rq.Total-rq.Connect))
		waiting = append(waiting, ms(rq.Send+rq.Wait))
		total = append(total, ms(rq.Total))
	}
	var htmlBytes int64
	for _, rq := range run.Requests {
		htmlBytes += rq.BodyBytes
	}
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
	fmt.Fprintf(w, "Complete requests:      %d\n", r.ResponsesReceived)
	fmt.Fprintf(w, "Failed requests:        %d\n", r.ResponsesFailed)
	if r.StoppedBy != "" {
		fmt.Fprintf(w, "Not sent:               %d (stopped by %s)\n", r.RequestsConfigured-r.RequestsSent, r.StoppedBy)
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
		fmt.Fprintf(w, "Requests per second:    %.2f [#/sec] (mean)\n", float64(r.ResponsesReceived)/secs)
		if r.ResponsesReceived > 0 {
			perReq := secs * 1000 * float64(r.Concurrency) / float64(r.ResponsesReceived)
			fmt.Fprintf(w, "Time per request:       %.3f [ms] (mean)\n", perReq)
			fmt.Fprintf(w, "Time per request:       %.3f [ms] (mean, across all concurrent requests)\n", perReq/float64(r.Concurrency))
		}
		fmt.Fprintf(w, "Transfer rate:          %.2f [Kbytes/sec] received\n", float64(r.BytesReceived)/1024/secs)
	}
	if len(total) > 0 {
		fmt.Fprintf(w, "\nConnection Times (ms)\n")
		fmt.Fprintf(w, "              min  mean[+/-sd] median   max\n")
		for _, row := range []struct {
			name string
			xs   []float64
		}{{"Connect", connect}, {"Processing", processing}, {"Waiting", waiting}, {"Total", total}} {
			s := statsOf(row.xs)
			fmt.Fprintf(w, "%-11s %5.1f %5.1f %5.1f %6.1f %7.1f\n", row.name+":", s.min, s.mean, s.sd, s.median, s.max)
		}
		fmt.Fprintf(w, "\nPercentage of the requests served within a certain time (ms)\n")
		for _, p := range []float64{50, 66, 75, 80, 90, 95, 98, 99} {
			fmt.Fprintf(w, "  %3.0f%%  %8.2f\n", p, ms(r.Latency.Percentile(p)))
		}
		fmt.Fprintf(w, "  100%%  %8.2f (longest request)\n", ms(r.Latency.Max()))
	}
	if c.verbosity >= 2 {
		for _, s := range run.Steps {
			for reason, n := range s.Failures {
				fmt.Fprintf(w, "failed %d× : %s\n", n, reason)
			}
		}
	}
	if c.verbosity >= 3 && len(run.Headers) > 0 {
		fmt.Fprintf(w, "\nResponse headers of the first request:\n%s", sanitize(run.Headers[0]))
	}
	for _, warn := range r.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warn)
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
