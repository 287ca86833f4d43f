package main

import (
	"bytes"
	"context"
	"errors"
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
