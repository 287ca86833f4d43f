package loadtest

import (
	"fmt"
	"io"
	"math"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Progress shows live counts while the plan executes: a progress bar
// when w is a terminal, else (CI logs) a plain line every interval
// (default 10 s) and one at the end.
func Progress(w io.Writer, interval time.Duration) Option {
	return func(p *Plan) { p.progress, p.progressEvery = w, interval }
}

// showProgress reports rec's counts on w until the returned stop is
// called. With a time limit the bar shows the elapsed time against it
// (or the share of requests done, when that is further along): a run
// bounded by time would otherwise sit near 0 % of a huge Repeat.
func showProgress(w io.Writer, every time.Duration, rec *recorder, configured int64, limit time.Duration) (stop func()) {
	if every <= 0 {
		every = 10 * time.Second
	}
	start := time.Now()
	counts := func() string {
		el := time.Since(start)
		sent := rec.sent.Load()
		of := fmt.Sprintf("/%d", configured)
		if configured == 0 {
			of = "" // For: bounded by time alone
		}
		out := fmt.Sprintf("%d%s sent, %d good, %d failed, %d not sent, %.0f req/s",
			sent, of, rec.good.Load(), rec.failed.Load(), rec.notSent.Load(), float64(sent)/el.Seconds())
		if limit > 0 {
			out = elapsedOf(el, limit) + ", " + out
		}
		return out
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		_, max := barPosition(0, limit, 0, configured)
		opts := []progressbar.Option{progressbar.OptionSetWriter(w), progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100 * time.Millisecond), progressbar.OptionSetPredictTime(false)}
		if limit <= 0 {
			opts = append(opts, progressbar.OptionShowCount())
		}
		bar := progressbar.NewOptions64(max, opts...)
		set := func() {
			pos, _ := barPosition(time.Since(start), limit, rec.sent.Load()+rec.notSent.Load(), configured)
			bar.Set64(pos)
			bar.Describe(counts())
		}
		go func() {
			defer wg.Done()
			t := time.NewTicker(200 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-done:
					set()
					bar.Exit()
					fmt.Fprintln(w)
					return
				case <-t.C:
					set()
				}
			}
		}()
	} else {
		go func() {
			defer wg.Done()
			t := time.NewTicker(every)
			defer t.Stop()
			for {
				select {
				case <-done:
					fmt.Fprintf(w, "progress %v: %s (done)\n", time.Since(start).Round(time.Millisecond), counts())
					return
				case <-t.C:
					fmt.Fprintf(w, "progress %v: %s\n", time.Since(start).Round(time.Second), counts())
				}
			}
		}()
	}
	return func() {
		close(done)
		wg.Wait()
	}
}

// barSteps is the resolution of a time-limited progress bar.
const barSteps = 1000

// barPosition is the progress bar's position and length: requests done
// of those configured, or, with a time limit, the larger share of the
// elapsed time of the limit and of the requests done, in barSteps.
func barPosition(elapsed, limit time.Duration, done, configured int64) (pos, max int64) {
	if limit <= 0 {
		return min(done, configured), configured
	}
	share := float64(elapsed) / float64(limit)
	if configured > 0 {
		share = math.Max(share, float64(done)/float64(configured))
	}
	return int64(math.Min(share, 1) * barSteps), barSteps
}

// elapsedOf shows the elapsed time against the limit: "3.2s / 10s".
func elapsedOf(elapsed, limit time.Duration) string {
	unit := 100 * time.Millisecond
	if limit < 10*time.Second {
		unit = time.Millisecond
	}
	return fmt.Sprintf("%v / %v", min(elapsed.Round(unit), limit), limit)
}
