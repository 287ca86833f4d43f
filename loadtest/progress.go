package loadtest

import (
	"fmt"
	"io"
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
// called.
func showProgress(w io.Writer, every time.Duration, rec *recorder, configured int64) (stop func()) {
	if every <= 0 {
		every = 10 * time.Second
	}
	start := time.Now()
	counts := func() string {
		el := time.Since(start)
		sent := rec.sent.Load()
		return fmt.Sprintf("%d/%d sent, %d good, %d failed, %d not sent, %.0f req/s",
			sent, configured, rec.good.Load(), rec.failed.Load(), rec.notSent.Load(), float64(sent)/el.Seconds())
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		bar := progressbar.NewOptions64(configured, progressbar.OptionSetWriter(w), progressbar.OptionShowCount(),
			progressbar.OptionSetWidth(30), progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionSetPredictTime(false))
		go func() {
			defer wg.Done()
			t := time.NewTicker(200 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-done:
					bar.Set64(rec.sent.Load() + rec.notSent.Load())
					bar.Describe(counts())
					bar.Exit()
					fmt.Fprintln(w)
					return
				case <-t.C:
					bar.Set64(rec.sent.Load() + rec.notSent.Load())
					bar.Describe(counts())
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
