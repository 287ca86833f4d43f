package loadtest_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/benchgate/benchgate/internal/faultserver"
	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

// countServer counts the requests it has begun to handle.
func countServer(t *testing.T, delay time.Duration) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if delay > 0 {
			time.Sleep(delay)
		}
		io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// TestTimedRunIsNotAFailure: a healthy server under a time limit shows
// no failure: requests in flight at the limit finish within the grace
// period, and the counts add up.
func TestTimedRunIsNotAFailure(t *testing.T) {
	srv, _ := countServer(t, time.Millisecond)
	forEachDriver(t, func(t *testing.T) {
		run := scenario.Run("timed", scenario.Get("/a"), scenario.Get("/b")).Repeat(1_000_000)
		report := execute(t, loadtest.Runs(run), loadtest.BaseURL(srv.URL), loadtest.Concurrency(8),
			loadtest.KeepAlive(true), loadtest.TimeLimit(300*time.Millisecond))
		if report.ResponsesFailed != 0 || report.RequestsInterrupted != 0 || report.RequestsNotSent != 0 {
			t.Fatalf("failed %d interrupted %d not sent %d: %v", report.ResponsesFailed, report.RequestsInterrupted,
				report.RequestsNotSent, report.Runs[0].Steps[0].Failures)
		}
		if report.StoppedBy == "" || report.RequestsSent == 0 || report.RequestsNotStarted == 0 {
			t.Fatalf("stopped by %q, sent %d, not started %d", report.StoppedBy, report.RequestsSent, report.RequestsNotStarted)
		}
		if report.RequestsConfigured != report.RequestsSent+report.RequestsNotSent+report.RequestsNotStarted {
			t.Errorf("configured %d != sent %d + not sent %d + not started %d", report.RequestsConfigured,
				report.RequestsSent, report.RequestsNotSent, report.RequestsNotStarted)
		}
		for _, st := range report.Runs[0].Steps {
			if st.Configured != st.Sent+st.NotSent+st.NotStarted() || st.Sent != st.Good+st.Failed+st.Interrupted {
				t.Errorf("step %q: counts do not add up: %+v", st.Name, st)
			}
		}
		var tl int64
		for _, s := range report.Timeline {
			tl += s.Sent
		}
		if tl != report.RequestsSent {
			t.Errorf("timeline sent %d, report %d", tl, report.RequestsSent)
		}
	})
}

// TestCancelledBeforeStartSendsNothing: a plan whose context is already
// cancelled sends nothing.
func TestCancelledBeforeStartSendsNothing(t *testing.T) {
	srv, n := countServer(t, 0)
	forEachDriver(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		report, err := newPlan(t, loadtest.Runs(scenario.Run("r", scenario.Get(srv.URL)).Repeat(100)), loadtest.Concurrency(4)).Execute(ctx)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err %v", err)
		}
		if n.Load() != 0 || report.RequestsSent != 0 || report.RequestsNotStarted != 100 {
			t.Fatalf("server saw %d requests; report sent %d, not started %d", n.Load(), report.RequestsSent, report.RequestsNotStarted)
		}
	})
}

// TestNoRequestStartsAfterCancel: after cancel, nothing new reaches the
// server, and every request in flight is recorded as interrupted.
func TestNoRequestStartsAfterCancel(t *testing.T) {
	srv, n := countServer(t, 20*time.Millisecond)
	forEachDriver(t, func(t *testing.T) {
		n.Store(0)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(150*time.Millisecond, cancel)
		report, err := newPlan(t, loadtest.Runs(scenario.Run("r", scenario.Get(srv.URL)).Repeat(100_000)),
			loadtest.Concurrency(4), loadtest.KeepAlive(true)).Execute(ctx)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err %v", err)
		}
		// A request written before the cancel may reach the handler a
		// little later; one written after it never does.
		time.Sleep(100 * time.Millisecond)
		if seen := n.Load(); seen > report.RequestsSent {
			t.Errorf("server saw %d requests, the report sent %d: some started after the cancel", seen, report.RequestsSent)
		}
		if report.ResponsesFailed != 0 || report.RequestsInterrupted == 0 || report.RequestsInterrupted > 4 {
			t.Errorf("failed %d, interrupted %d (concurrency 4)", report.ResponsesFailed, report.RequestsInterrupted)
		}
	})
}

// TestTimeLimitBoundsConnect: a connect that never completes (a dropped
// SYN) is cut by the plan's time limit and grace period, even without a
// step limit: it ends as interrupted, not as a hang.
func TestTimeLimitBoundsConnect(t *testing.T) {
	addr, stop, err := faultserver.SYNDrop()
	if err != nil {
		t.Skip(err)
	}
	t.Cleanup(stop)
	forEachDriver(t, func(t *testing.T) {
		start := time.Now()
		report := execute(t, loadtest.Runs(scenario.Run("r", scenario.Get("http://"+addr+"/")).Repeat(3)),
			loadtest.Concurrency(2), loadtest.TimeLimit(300*time.Millisecond), loadtest.GracePeriod(200*time.Millisecond))
		if el := time.Since(start); el > 1500*time.Millisecond {
			t.Errorf("took %v with a 300ms limit and 200ms grace", el)
		}
		if report.RequestsInterrupted != 2 || report.ResponsesFailed != 0 || report.RequestsNotStarted != 1 {
			t.Errorf("interrupted %d failed %d not started %d", report.RequestsInterrupted, report.ResponsesFailed, report.RequestsNotStarted)
		}
	})
}

// TestConnectTimeout: a step's connect timeout ends a connect that never
// completes, before its time limit, and does not bound the rest.
func TestConnectTimeout(t *testing.T) {
	addr, stop, err := faultserver.SYNDrop()
	if err != nil {
		t.Skip(err)
	}
	t.Cleanup(stop)
	slow, _ := countServer(t, 300*time.Millisecond)
	forEachDriver(t, func(t *testing.T) {
		run := scenario.Run("r",
			scenario.Get("http://"+addr+"/").ConnectTimeout(150*time.Millisecond).TimeLimit(2*time.Second),
			scenario.Get(slow.URL+"/").ConnectTimeout(150*time.Millisecond).TimeLimit(2*time.Second))
		report := execute(t, loadtest.Runs(run))
		dropped, answered := report.Run("r").Step(0), report.Run("r").Step(1)
		rq, _ := report.Run("r").Requests.At(0)
		if dropped.Failed != 1 || rq.Total > 400*time.Millisecond || answered.Good != 1 {
			t.Fatalf("dropped: failed %d in %v; slow answer good %d: %v %v", dropped.Failed, rq.Total, answered.Good, dropped.Failures, answered.Failures)
		}
		for reason := range dropped.Failures {
			if !strings.Contains(reason, "connect timeout 150ms exceeded") {
				t.Errorf("reason %q", reason)
			}
		}
	})
}

// TestIOTimeout: a read or write without progress for the step's I/O
// timeout fails the request; a slow answer whose bytes keep coming does
// not, however long it takes in all.
func TestIOTimeout(t *testing.T) {
	head := "HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\n"
	stall := rawServer(t, func(c net.Conn) {
		bufio.NewReader(c).ReadString('\n')
		io.WriteString(c, head+"abcd")
		time.Sleep(600 * time.Millisecond) // half the body, then nothing
		io.WriteString(c, "efgh")
	})
	trickle := rawServer(t, func(c net.Conn) {
		bufio.NewReader(c).ReadString('\n')
		io.WriteString(c, head)
		for _, b := range "abcdefgh" {
			time.Sleep(40 * time.Millisecond)
			io.WriteString(c, string(b))
		}
	})
	deaf := rawServer(t, func(c net.Conn) { time.Sleep(800 * time.Millisecond) }) // reads nothing
	big := strings.Repeat("x", 16<<20)
	run := scenario.Run("r",
		scenario.Get(stall+"/").IOTimeout(150*time.Millisecond),
		scenario.Get(trickle+"/").IOTimeout(150*time.Millisecond),
		scenario.Post(deaf+"/", big).IOTimeout(150*time.Millisecond).KeepAlive(false))
	start := time.Now()
	report := execute(t, loadtest.Runs(run))
	steps := report.Run("r").Steps
	if steps[0].Failed != 1 || steps[1].Good != 1 || steps[2].Failed != 1 {
		t.Fatalf("stall failed %d, trickle good %d (%v), deaf failed %d", steps[0].Failed, steps[1].Good, steps[1].Failures, steps[2].Failed)
	}
	for i, want := range map[int]string{0: "I/O timeout 150ms exceeded: no progress on read", 2: "I/O timeout 150ms exceeded: no progress on write"} {
		for reason := range steps[i].Failures {
			if !strings.Contains(reason, want) {
				t.Errorf("step %d: reason %q, want %q", i+1, reason, want)
			}
		}
	}
	// the reasons above say the timeouts cut the stalls (uncut, the
	// stall would end good and the deaf server's close would give
	// another reason); the clock only guards against a hang (under
	// -race beside other packages' tests the whole took 1.7 s)
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("took %v: the timeouts did not cut the stalls", took)
	}
	if rq, _ := report.Run("r").Requests.At(1); rq.Total < 300*time.Millisecond {
		t.Errorf("the trickle took %v, want its whole ~320ms", rq.Total)
	}
}
