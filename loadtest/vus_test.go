package loadtest_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/benchgate/benchgate/engine"
	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

// TestVirtualUsers: VUs start on the ramp, each walks its run for its
// rounds with its own cookie jar, and the counts add up.
func TestVirtualUsers(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/login" {
			http.SetCookie(w, &http.Cookie{Name: "vu", Value: r.URL.Query().Get("u")})
			return
		}
		if c, err := r.Cookie("vu"); err != nil || c.Value == "" {
			w.WriteHeader(401)
		}
		io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	run := scenario.Run("browse", scenario.Get("/login?u={{iteration}}"), scenario.Get("/account").Think(5*time.Millisecond))
	v := engine.VUs{Start: 1, Max: 5, RampUp: 400 * time.Millisecond, Rounds: 2}
	report := execute(t, loadtest.Runs(run), loadtest.BaseURL(srv.URL), loadtest.KeepAlive(true), loadtest.VirtualUsers(v))
	if report.ResponsesFailed != 0 || report.RequestsSent != 5*2*2 || report.Concurrency != 5 {
		t.Fatalf("sent %d (want 20), failed %d, concurrency %d: %v", report.RequestsSent, report.ResponsesFailed, report.Concurrency, report)
	}
	// VU k's first request is iteration k*2, step 0: it starts on the ramp
	for k := 0; k < 5; k++ {
		rq, _ := report.Run("browse").Requests.At(k * 2 * 2)
		want := v.StartAt(k)
		if rq.At < want || rq.At > want+80*time.Millisecond {
			t.Errorf("VU %d started at %v, the ramp says %v", k, rq.At, want)
		}
	}
}

// TestVirtualUsersSeededThink: the same seed gives every VU the same
// think times; another seed does not.
func TestVirtualUsersSeededThink(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(srv.Close)
	schedule := func(seed uint64) (map[int][]time.Duration, *loadtest.Report) {
		var mu sync.Mutex
		got := map[int][]time.Duration{}
		v := engine.VUs{Max: 4, Rounds: 3, RandomStart: true, Trace: func(e engine.VUEvent) {
			mu.Lock()
			got[e.VU] = append(got[e.VU], time.Duration(e.Step)*time.Hour, e.Pre, e.Post)
			mu.Unlock()
		}}
		run := scenario.Run("r", scenario.Get("/a").ThinkBetween(time.Millisecond, 9*time.Millisecond),
			scenario.Get("/b").PreDelay(2*time.Millisecond, 2*time.Millisecond).PostDelay(time.Millisecond, 500*time.Microsecond))
		report := execute(t, loadtest.Runs(run), loadtest.BaseURL(srv.URL), loadtest.VirtualUsers(v), loadtest.Seed(seed))
		return got, report
	}
	a, ra := schedule(42)
	b, _ := schedule(42)
	c, _ := schedule(43)
	if ra.Seed != 42 || len(a) != 4 {
		t.Fatalf("seed %d, %d VUs traced", ra.Seed, len(a))
	}
	same := true
	for vu := range a {
		if !slices.Equal(a[vu], b[vu]) {
			t.Errorf("VU %d: seed 42 gave %v, then %v", vu, a[vu], b[vu])
		}
		same = same && slices.Equal(a[vu], c[vu])
		for i := 0; i+2 < len(a[vu]); i += 3 {
			step, pre, post := int(a[vu][i]/time.Hour), a[vu][i+1], a[vu][i+2]
			switch {
			case step == 0 && (pre != 0 || post < time.Millisecond || post > 9*time.Millisecond):
				t.Errorf("VU %d step /a: pre %v, think %v outside 1ms..9ms", vu, pre, post)
			case step == 1 && (pre < 0 || pre > 4*time.Millisecond || post < 500*time.Microsecond || post > 1500*time.Microsecond):
				t.Errorf("VU %d step /b: pre %v outside 0..4ms or post %v outside 0.5..1.5ms", vu, pre, post)
			}
		}
	}
	if same {
		t.Error("seeds 42 and 43 drew the same think times")
	}
}

// TestVirtualUsersStop: a time limit stops the VUs, sleeping or not,
// and the counts add up; a cancelled context sends nothing.
func TestVirtualUsersStop(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(srv.Close)
	run := scenario.Run("r", scenario.Get("/").Think(50*time.Millisecond))
	v := engine.VUs{Max: 3, Rounds: 1000, RampUp: 10 * time.Second}
	start := time.Now()
	report := execute(t, loadtest.Runs(run), loadtest.BaseURL(srv.URL), loadtest.VirtualUsers(v), loadtest.TimeLimit(300*time.Millisecond))
	if el := time.Since(start); el > time.Second {
		t.Errorf("took %v with a 300ms limit", el)
	}
	if report.RequestsConfigured != report.RequestsSent+report.RequestsNotSent+report.RequestsNotStarted || report.ResponsesFailed != 0 || report.RequestsSent == 0 {
		t.Errorf("counts: %+v", report)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r, err := loadtest.New(loadtest.Runs(run), loadtest.BaseURL(srv.URL), loadtest.VirtualUsers(v)).Execute(ctx)
	if !errors.Is(err, context.Canceled) || r.RequestsSent != 0 {
		t.Errorf("cancelled: %v, sent %d", err, r.RequestsSent)
	}
}

// TestKeepAliveModes: HTTP::LoadGen's use and store, on both drivers.
func TestKeepAliveModes(t *testing.T) {
	forEachDriver(t, func(t *testing.T) {
		srv, conns := countingServer(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
		run := scenario.Run("r",
			scenario.Get("/a").KeepAliveMode(scenario.OpenThenKeep),   // a new connection, kept
			scenario.Get("/b").KeepAliveMode(scenario.ReuseThenClose), // uses it, then closes it
			scenario.Get("/c").KeepAliveMode(scenario.ReuseThenClose), // nothing kept: a new one, closed
			scenario.Get("/d").KeepAliveMode(scenario.OpenThenKeep),   // a new one, kept
			scenario.Get("/e").KeepAliveMode(scenario.OpenThenKeep),   // does not use it: a new one
			scenario.Get("/f").KeepAliveMode(scenario.ReuseThenKeep),  // uses it
		)
		report := execute(t, loadtest.Runs(run), loadtest.BaseURL(srv.URL))
		var reused []bool
		for i := 0; i < 6; i++ {
			rq, _ := report.Run("r").Requests.At(i)
			reused = append(reused, rq.Reused)
		}
		if want := []bool{false, true, false, false, false, true}; !slices.Equal(reused, want) || conns.Load() != 4 {
			t.Errorf("reused %v (want %v), %d connections (want 4)", reused, want, conns.Load())
		}
	})
}

// TestLiveCounters: the scoreboard follows the ramp while it runs, and
// ends equal to the report's counts.
func TestLiveCounters(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(2 * time.Millisecond)
		io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	var live engine.Live
	var peak, midRamp int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		start := time.Now()
		for time.Since(start) < 700*time.Millisecond {
			n := live.ActiveVUs.Load()
			peak = max(peak, n)
			if d := time.Since(start); d > 180*time.Millisecond && d < 220*time.Millisecond {
				midRamp = n
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	run := scenario.Run("r", scenario.Get(srv.URL+"/").Think(10*time.Millisecond))
	report := execute(t, loadtest.Runs(run), loadtest.LiveCounters(&live), loadtest.KeepAlive(true),
		loadtest.VirtualUsers(engine.VUs{Start: 1, Max: 5, RampUp: 400 * time.Millisecond, Rounds: 80}))
	<-done
	c := live.Snapshot()
	if c.ActiveVUs != 0 || c.Started != report.RequestsSent || c.Succeeded != report.GoodResponses || c.Failed != 0 || c.BodyBytes != 2*report.RequestsSent {
		t.Errorf("live %+v, report sent %d good %d", c, report.RequestsSent, report.GoodResponses)
	}
	// at 200 ms the ramp has started VUs 0, 1 and 2 (VU 2 at 200 ms)
	if peak != 5 || midRamp < 2 || midRamp > 3 {
		t.Errorf("active VUs: peak %d, at 200 ms %d", peak, midRamp)
	}
}

// TestVUHooks: per-VU data from Init reaches the request hooks, which
// add headers and see results; errors and panics are recorded with the
// VU and step and returned, and never stop the other VUs.
func TestVUHooks(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.URL.Path+" "+r.Header.Get("X-Vu"))
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	var done, exits sync.Map
	hooks := engine.VUHooks{
		Init: func(vu int, _ *rand.Rand) (any, error) {
			if vu == 2 {
				return nil, errors.New("no account for this user")
			}
			return fmt.Sprintf("user-%d", vu), nil
		},
		RequestStart: func(e *engine.RequestEvent) error {
			if e.VU == 1 && e.Step == 1 {
				panic("boom")
			}
			e.Header.Set("X-Vu", e.Data.(string))
			return nil
		},
		RequestDone: func(e *engine.RequestEvent, r *engine.Result) error {
			done.Store(fmt.Sprint(e.VU, e.Step), r.Status)
			return nil
		},
		Exit: func(vu int, data any) error { exits.Store(vu, data); return nil },
	}
	run := scenario.Run("r", scenario.Get(srv.URL+"/a"), scenario.Get(srv.URL+"/b"))
	report, err := loadtest.New(loadtest.Runs(run), loadtest.VirtualUsers(engine.VUs{Max: 3, Hooks: hooks})).Execute(context.Background())
	var hookErr *engine.HookError
	if !errors.As(err, &hookErr) || len(report.HookErrors) != 2 ||
		!strings.Contains(strings.Join(report.HookErrors, "|"), "VU 1 step 2: RequestStart: panicked: boom") ||
		!strings.Contains(strings.Join(report.HookErrors, "|"), "VU 2: Init: no account for this user") {
		t.Fatalf("err %v; report %q", err, report.HookErrors)
	}
	sort.Strings(got)
	if strings.Join(got, ",") != "/a user-0,/a user-1,/b user-0" {
		t.Errorf("server saw %q", got)
	}
	if s, _ := done.Load("0 1"); s != 200 {
		t.Errorf("RequestDone saw %v", s)
	}
	if d, _ := exits.Load(1); d != "user-1" {
		t.Errorf("Exit saw %v", d)
	}
	if report.RequestsNotSent != 1 || report.GoodResponses != 3 {
		t.Errorf("not sent %d, good %d", report.RequestsNotSent, report.GoodResponses)
	}
}

// TestVUsIterator: a user iterator retries a step on 401 with an
// Authorization field (HTTP::LoadGen's example), skips steps, and is
// reported when it breaks the rules.
func TestVUsIterator(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.URL.Path+" "+r.Header.Get("Authorization"))
		mu.Unlock()
		if r.URL.Path == "/private" && r.Header.Get("Authorization") == "" {
			w.WriteHeader(401)
		}
	}))
	t.Cleanup(srv.Close)
	run := scenario.Run("r", scenario.Get("/private"), scenario.Get("/skipped"), scenario.Get("/public"))
	retry401 := func(vu, round int, _ *rand.Rand) engine.StepIterator {
		return func(prev *engine.Result) (engine.NextStep, bool) {
			switch {
			case prev == nil:
				return engine.NextStep{Step: 0}, true
			case prev.Step == 0 && prev.Status == 401:
				return engine.NextStep{Step: 0, Header: http.Header{"Authorization": {"Basic YmxhOmJsdWI="}}}, true
			case prev.Step == 0:
				return engine.NextStep{Step: 2}, true
			}
			return engine.NextStep{}, false
		}
	}
	var log bytes.Buffer
	report := execute(t, loadtest.Runs(run), loadtest.BaseURL(srv.URL), loadtest.KeepAlive(true), loadtest.LogRequests(&log),
		loadtest.VirtualUsers(engine.VUs{Max: 2, Rounds: 2, Iterate: retry401}))
	if n := strings.Count(log.String(), `"retried":true`); n != 4 {
		t.Errorf("%d log lines marked retried, want 4", n)
	}
	if len(got) != 2*2*3 {
		t.Errorf("%d requests, want 12: %q", len(got), got)
	}
	s := report.Runs[0].Steps
	if s[0].Sent != 4 || s[0].Good != 4 || s[0].Retried != 4 || s[0].Failed != 0 || s[2].Good != 4 || s[1].NotStarted() != 4 {
		t.Errorf("step 1: sent %d good %d retried %d failed %d; step 3 good %d; step 2 not started %d",
			s[0].Sent, s[0].Good, s[0].Retried, s[0].Failed, s[2].Good, s[1].NotStarted())
	}
	if report.RequestsConfigured != report.RequestsSent+report.RequestsNotSent+report.RequestsNotStarted {
		t.Errorf("counts do not add up: %+v", report)
	}

	// broken iterators: each ends its round and is reported
	broken := map[string]engine.StepIterator{
		"step 7: the run has steps 0 to 2": func(prev *engine.Result) (engine.NextStep, bool) { return engine.NextStep{Step: 7}, true },
		"panicked: boom":                   func(prev *engine.Result) (engine.NextStep, bool) { panic("boom") },
		"more than 100 requests sent again in one round, and neither a time limit nor a deadline would end it": func(prev *engine.Result) (engine.NextStep, bool) { return engine.NextStep{Step: 2}, true },
		`header name "Bad Name" is not a token`: func(prev *engine.Result) (engine.NextStep, bool) {
			return engine.NextStep{Step: 2, Header: http.Header{"Bad Name": {"x"}}}, prev == nil
		},
	}
	for want, it := range broken {
		it := it
		v := engine.VUs{Max: 1, Iterate: func(int, int, *rand.Rand) engine.StepIterator { return it }}
		report, err := newPlan(t, loadtest.Runs(run), loadtest.BaseURL(srv.URL), loadtest.VirtualUsers(v)).Execute(context.Background())
		var he *engine.HookError
		if !errors.As(err, &he) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "Iterate") {
			t.Errorf("%s: error %v", want, err)
			continue
		}
		if report.RequestsConfigured != report.RequestsSent+report.RequestsNotSent+report.RequestsNotStarted {
			t.Errorf("%s: counts do not add up", want)
		}
	}
}

// TestRunAndShardHooks: Before, every ShardInit, the VUs, each shard's
// ShardExit after its VUs' Exit, then After; a failing ShardInit keeps
// its shard's VUs from starting, a failing ShardExit marks its shard
// failed; a failing Before sends nothing.
func TestRunAndShardHooks(t *testing.T) {
	var mu sync.Mutex
	var events []string
	log := func(e string) {
		mu.Lock()
		events = append(events, e)
		mu.Unlock()
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { log("request") }))
	t.Cleanup(srv.Close)
	hooks := engine.VUHooks{
		Before: func() error { log("before"); return nil },
		After:  func() error { log("after"); return nil },
		ShardInit: func(shard int) error {
			time.Sleep(time.Duration(shard) * 20 * time.Millisecond) // a slow init holds every shard back
			log(fmt.Sprint("init ", shard))
			if shard == 1 {
				return errors.New("no logger")
			}
			return nil
		},
		ShardExit: func(shard int) error {
			log(fmt.Sprint("exit ", shard))
			if shard == 2 {
				return errors.New("exit code 3")
			}
			return nil
		},
		Exit: func(vu int, _ any) error { log(fmt.Sprint("vu exit ", vu%3)); return nil },
	}
	run := scenario.Run("r", scenario.Get("/a"), scenario.Get("/b"))
	v := engine.VUs{Shards: 3, Max: 6, Hooks: hooks}
	report, err := newPlan(t, loadtest.Runs(run), loadtest.BaseURL(srv.URL), loadtest.VirtualUsers(v)).Execute(context.Background())
	if err == nil || !strings.Contains(err.Error(), "shard 1: ShardInit: no logger") || !strings.Contains(err.Error(), "shard 2: ShardExit: exit code 3") {
		t.Fatalf("error %v", err)
	}
	if !slices.Equal(report.FailedShards, []int{1, 2}) || len(report.HookErrors) != 2 {
		t.Errorf("failed shards %v, hook errors %q", report.FailedShards, report.HookErrors)
	}
	// shard 1's VUs 1 and 4 never started
	if report.RequestsSent != 8 || report.RequestsNotStarted != 4 {
		t.Errorf("sent %d, not started %d; want 8 and 4", report.RequestsSent, report.RequestsNotStarted)
	}
	mu.Lock()
	defer mu.Unlock()
	if events[0] != "before" || events[len(events)-1] != "after" {
		t.Errorf("events %q: want before first and after last", events)
	}
	first := slices.Index(events, "request")
	for i := 0; i < 3; i++ {
		if at := slices.Index(events, fmt.Sprint("init ", i)); at < 0 || at > first {
			t.Errorf("init %d at %d, the first request at %d: %q", i, at, first, events)
		}
	}
	for _, i := range []int{0, 2} {
		exit := slices.Index(events, fmt.Sprint("exit ", i))
		if last := slices.Index(events, fmt.Sprint("vu exit ", i)); exit < 0 || exit < last {
			t.Errorf("shard %d exits at %d, before its VUs (%d): %q", i, exit, last, events)
		}
	}
	if slices.Contains(events, "exit 1") {
		t.Errorf("shard 1 failed its init but ran its exit: %q", events)
	}

	events = nil
	mu.Unlock()
	v.Hooks = engine.VUHooks{Before: func() error { return errors.New("no scoreboard") }}
	report, err = newPlan(t, loadtest.Runs(run), loadtest.BaseURL(srv.URL), loadtest.VirtualUsers(v)).Execute(context.Background())
	mu.Lock()
	if err == nil || !strings.Contains(err.Error(), "run: Before: no scoreboard") || report.RequestsSent != 0 || len(events) != 0 {
		t.Errorf("a failed Before: error %v, sent %d, events %q", err, report.RequestsSent, events)
	}
}

// TestDNSCachePerShard: each shard resolves a host once and caches it.
func TestDNSCachePerShard(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	var lines bytes.Buffer
	run := scenario.Run("r", scenario.Get("http://localhost:"+port+"/a"), scenario.Get("http://localhost:"+port+"/b"))
	v := engine.VUs{Shards: 3, Max: 9, RampUp: 300 * time.Millisecond}
	// a new connection per request, so that each looks its name up
	report := execute(t, loadtest.Runs(run), loadtest.VirtualUsers(v), loadtest.LogRequests(&lines), loadtest.KeepAlive(false))
	if report.ResponsesFailed != 0 || report.RequestsSent != 18 {
		t.Fatalf("sent %d failed %d", report.RequestsSent, report.ResponsesFailed)
	}
	misses := map[int]int{}
	sc := bufio.NewScanner(&lines)
	for sc.Scan() {
		var l struct {
			Slot      int  `json:"slot"`
			DNSCached bool `json:"dns_cached"`
		}
		json.Unmarshal(sc.Bytes(), &l)
		if !l.DNSCached {
			misses[l.Slot%3]++
		}
	}
	if misses[0] != 1 || misses[1] != 1 || misses[2] != 1 {
		t.Errorf("DNS misses per shard %v, want one each", misses)
	}
}
