package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// rateServer answers at once, counting requests.
func rateServer(t *testing.T) (*httptest.Server, *atomic.Int64) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// TestABRateLimits: in rate mode -t bounds the run whatever the rate
// (a rate far above what can be started drops arrivals in bulk, not
// one at a time), and -n with -t means whichever comes first.
func TestABRateLimits(t *testing.T) {
	srv, hits := rateServer(t)
	for _, tc := range []struct {
		args []string
		// sent: the exact number of requests, or -1 for "some"
		sent int64
	}{
		{[]string{"-c", "4", "--rate", "1e9", "-t", "0.5"}, -1},
		{[]string{"-c", "4", "--rate", "2e6", "-t", "0.5"}, -1},
		{[]string{"-c", "4", "--rate", "100", "-n", "20", "-t", "2"}, 20},    // -n first
		{[]string{"-c", "4", "--rate", "20", "-n", "1000", "-t", "0.5"}, 10}, // -t first
	} {
		hits.Store(0)
		// bounded, so that the old behaviour (minutes at 1e9/s) fails
		// here instead of hanging the suite
		ctx, cancel := context.WithTimeoutCause(context.Background(), 60*time.Second, errors.New("still running after 60s"))
		var out, errOut bytes.Buffer
		code := run(ctx, append(append([]string{"ab", "-q"}, tc.args...), srv.URL+"/"), &out, &errOut)
		if ctx.Err() != nil {
			t.Fatalf("%v: %v\n%s", tc.args, context.Cause(ctx), out.String())
		}
		cancel()
		if tc.sent >= 0 && hits.Load() != tc.sent {
			t.Errorf("%v: %d requests, want %d (exit %d)\n%s%s", tc.args, hits.Load(), tc.sent, code, out.String(), errOut.String())
		}
		if tc.sent < 0 && (hits.Load() == 0 || !strings.Contains(out.String(), "dropped")) {
			t.Errorf("%v: %d requests\n%s%s", tc.args, hits.Load(), out.String(), errOut.String())
		}
	}
}

// TestABRateDropsFail: arrivals a rate run drops are failures where a
// user looks: "Failed requests", a line that names them, the exit
// status, and the percentiles, which say they leave them out; the table
// from the intended start comes first and "Time per request (mean)",
// derived from -c, is not printed.
func TestABRateDropsFail(t *testing.T) {
	var n atomic.Int64
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 3 {
			<-release // the one connection is busy: later arrivals wait, then drop
		}
		io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
	go func() {
		// hold request 3 for a third of the run; no sleep decides the verdict
		time.Sleep(300 * time.Millisecond)
		close(release)
	}()
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"ab", "-q", "-c", "1", "--rate", "100", "-t", "1", "--max-lag", "20ms", srv.URL + "/"}, &out, &errOut)
	s := out.String()
	if code != 1 || !strings.Contains(errOut.String(), "arrivals dropped") {
		t.Errorf("exit %d, stderr %q: want 1 and the drops named", code, errOut.String())
	}
	var failed, dropped int64
	if i := strings.Index(s, "Failed requests:"); i < 0 {
		t.Fatalf("no Failed requests line:\n%s", s)
	} else {
		fmt.Sscan(s[i+len("Failed requests:"):], &failed)
	}
	if i := strings.Index(s, "Dropped arrivals: "); i < 0 {
		t.Fatalf("no Dropped arrivals:\n%s", s)
	} else {
		fmt.Sscan(strings.TrimSuffix(strings.Fields(s[i+len("Dropped arrivals: "):])[0], ":"), &dropped)
	}
	if dropped < 10 || failed != dropped {
		t.Errorf("failed %d, dropped %d: want the ~25 dropped arrivals counted as failed\n%s", failed, dropped, s)
	}
	intended, actual := strings.Index(s, "from each request's intended start"), strings.Index(s, "from each request's actual start")
	if intended < 0 || actual < intended || !strings.Contains(s, "dropped arrivals (") {
		t.Errorf("want the intended-start table first, then the actual-start one, each saying what it leaves out:\n%s", s)
	}
	if strings.Contains(s, "[ms] (mean)\n") {
		t.Errorf("Time per request (mean) printed in rate mode:\n%s", s)
	}
}

// TestABRateConcurrencyDefault: a rate run's -c defaults from the rate,
// not to one connection; a -c given is kept.
func TestABRateConcurrencyDefault(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"--rate", "10", "-t", "1"}, 100},
		{[]string{"--rate", "5000", "-t", "1"}, 500},
		{[]string{"--rate", "1e9", "-t", "1"}, 10000},
		{[]string{"--rate", "5000", "-c", "3", "-t", "1"}, 3},
		{[]string{"-t", "1"}, 1}, // closed: ab's default
	} {
		c, err := parseABFlags(append(tc.args, "http://h/"), io.Discard)
		if err != nil {
			t.Errorf("%v: %v", tc.args, err)
		} else if c.concurrency != tc.want {
			t.Errorf("%v: concurrency %d, want %d", tc.args, c.concurrency, tc.want)
		}
	}
}

// TestABCountAndTimeLimitEveryMode: -n with -t means whichever comes
// first in the closed model and with virtual users too, as in rate mode
// (TestABRateLimits) and in ab.
func TestABCountAndTimeLimitEveryMode(t *testing.T) {
	srv, hits := rateServer(t)
	for _, mode := range [][]string{nil, {"--ramp-up", "50ms"}} {
		for _, tc := range []struct {
			args []string
			// sent: the exact count, or -1 for "fewer than -n"
			sent int64
		}{
			{[]string{"-c", "4", "-n", "20", "-t", "5"}, 20},          // -n first
			{[]string{"-c", "4", "-n", "100000000", "-t", "0.3"}, -1}, // -t first
		} {
			hits.Store(0)
			ctx, cancel := context.WithTimeoutCause(context.Background(), 60*time.Second, errors.New("still running after 60s"))
			args := append(append(append([]string{"ab", "-q"}, mode...), tc.args...), srv.URL+"/")
			var out, errOut bytes.Buffer
			code := run(ctx, args, &out, &errOut)
			if ctx.Err() != nil {
				t.Fatalf("%v: %v", args, context.Cause(ctx))
			}
			cancel()
			got := hits.Load()
			if code != 0 || tc.sent >= 0 && got != tc.sent || tc.sent < 0 && (got == 0 || got >= 100000000) {
				t.Errorf("%v: exit %d, %d requests, want %d (-1: fewer than -n)\n%s%s", args, code, got, tc.sent, out.String(), errOut.String())
			}
		}
	}
}
