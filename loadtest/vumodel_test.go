package loadtest_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/benchgate/benchgate/engine"
	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

// TestVUsEndVU: a hook ends its virtual user as HTTP::LoadGen's done
// does: the request under way completes, no further request or round
// of that VU is sent, its Exit hook runs, and the other VUs go on.
func TestVUsEndVU(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Get("X-Vu")+r.URL.Path)
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	var exits sync.Map
	hooks := engine.VUHooks{
		RequestStart: func(e *engine.RequestEvent) error {
			e.Header.Set("X-Vu", fmt.Sprint(e.VU))
			// VU 1 decides before its request: the request is still sent
			e.EndVU = e.VU == 1 && e.Round == 1 && e.Step == 0
			return nil
		},
		RequestDone: func(e *engine.RequestEvent, r *engine.Result) error {
			// VU 0 decides on a response
			if e.VU == 0 && e.Step == 1 && r.Status == 200 {
				e.EndVU = true
			}
			return nil
		},
		Exit: func(vu int, _ any) error { exits.Store(vu, true); return nil },
	}
	run := scenario.Run("r", scenario.Get("/a"), scenario.Get("/b"), scenario.Get("/c"))
	report := execute(t, loadtest.Runs(run), loadtest.BaseURL(srv.URL),
		loadtest.VirtualUsers(engine.VUs{Max: 3, Rounds: 3, Hooks: hooks}))
	sort.Strings(got)
	want := "0/a,0/b," + // VU 0: ended by RequestDone on its first /b
		"1/a,1/a,1/b,1/c," + // VU 1: ended by RequestStart on round 2's /a, which was sent
		"2/a,2/a,2/a,2/b,2/b,2/b,2/c,2/c,2/c" // VU 2: every round
	if strings.Join(got, ",") != want {
		t.Errorf("server saw\n%s\nwant\n%s", strings.Join(got, ","), want)
	}
	for vu := 0; vu < 3; vu++ {
		if _, ok := exits.Load(vu); !ok {
			t.Errorf("VU %d: Exit did not run", vu)
		}
	}
	if report.RequestsSent != 15 || report.RequestsNotStarted != 27-15 || report.ResponsesFailed != 0 {
		t.Errorf("sent %d, not started %d, failed %d", report.RequestsSent, report.RequestsNotStarted, report.ResponsesFailed)
	}
}

// TestVUsRequestStartChangesRequest: RequestStart may change the whole
// request, as HTTP::LoadGen's ReqStart may edit $rq: method, URL
// (relative to the step's, or another origin), body and header fields;
// the step's own header fields go along. A method that is no token
// makes the request "not sent" with the reason.
func TestVUsRequestStartChangesRequest(t *testing.T) {
	var mu sync.Mutex
	var got []string
	see := func(name string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			mu.Lock()
			got = append(got, fmt.Sprintf("%s %s %s?%s body=%q x-step=%s x-hook=%s", name, r.Method, r.URL.Path, r.URL.RawQuery, body, r.Header.Get("X-Step"), r.Header.Get("X-Hook")))
			mu.Unlock()
		}
	}
	a := httptest.NewServer(see("a"))
	t.Cleanup(a.Close)
	b := httptest.NewServer(see("b"))
	t.Cleanup(b.Close)
	hooks := engine.VUHooks{RequestStart: func(e *engine.RequestEvent) error {
		switch e.Step {
		case 0:
			e.Method, e.URL = "POST", "/orders?id=7"
			e.SetBody([]byte(`{"qty":2}`))
			e.Header.Set("X-Hook", "1")
		case 1:
			e.URL = b.URL + "/elsewhere"
		case 2:
			e.Method = "BAD METHOD"
		}
		return nil
	}}
	run := scenario.Run("r", scenario.Get("/list").Header("X-Step", "list"), scenario.Get("/two").Header("X-Step", "two"), scenario.Get("/three"))
	var log bytes.Buffer
	report, err := loadtest.New(loadtest.Runs(run), loadtest.BaseURL(a.URL), loadtest.LogRequests(&log),
		loadtest.VirtualUsers(engine.VUs{Max: 1, Hooks: hooks})).Execute(context.Background())
	if err == nil || !strings.Contains(err.Error(), `RequestStart: method "BAD METHOD" is not a token`) {
		t.Errorf("err %v", err)
	}
	want := []string{
		`a POST /orders?id=7 body="{\"qty\":2}" x-step=list x-hook=1`,
		`b GET /elsewhere? body="" x-step=two x-hook=`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("server saw\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if report.GoodResponses != 2 || report.RequestsNotSent != 1 {
		t.Errorf("good %d, not sent %d", report.GoodResponses, report.RequestsNotSent)
	}
	if !strings.Contains(log.String(), `"method":"POST","url":"`+a.URL+`/orders?id=7"`) {
		t.Errorf("the log does not show the request sent:\n%s", log.String())
	}
}

// TestVUsIteratorAnyRequest: an iterator may send any request, any
// number of times (HTTP::LoadGen's InitURLs returns arbitrary
// requests): a step with another URL, polled until it is ready, a step
// sent again later in the round, a step with another method and body.
// Each step has one result of its own per round; the others are on the
// wire and in the log, counted as retried.
func TestVUsIteratorAnyRequest(t *testing.T) {
	var mu sync.Mutex
	var got []string
	polls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		got = append(got, strings.TrimSpace(fmt.Sprintf("%s %s %s %s", r.Method, r.URL.RequestURI(), body, r.Header.Get("X-Again"))))
		if r.URL.Path == "/poll" {
			if polls++; polls <= 3 {
				w.WriteHeader(http.StatusAccepted)
			}
		}
	}))
	t.Cleanup(srv.Close)
	it := func(vu, round int, _ *rand.Rand) engine.StepIterator {
		again := false
		return func(prev *engine.Result) (engine.NextStep, bool) {
			switch {
			case prev == nil:
				return engine.NextStep{Step: 0}, true
			case prev.Step == 0 && !again:
				return engine.NextStep{Step: 1, URL: "/poll?job=1"}, true
			case prev.Step == 1 && prev.Status == http.StatusAccepted:
				return engine.NextStep{Step: 1, URL: "/poll?job=1"}, true
			case prev.Step == 1:
				again = true
				return engine.NextStep{Step: 0, Header: http.Header{"X-Again": {"1"}}}, true
			case prev.Step == 0:
				return engine.NextStep{Step: 2, Method: "POST", URL: "/submit", Body: []byte("k=v"), SetBody: true}, true
			}
			return engine.NextStep{}, false
		}
	}
	run := scenario.Run("r", scenario.Get("/a"), scenario.Get("/b"), scenario.Get("/c"))
	var log bytes.Buffer
	report := execute(t, loadtest.Runs(run), loadtest.BaseURL(srv.URL), loadtest.KeepAlive(true), loadtest.LogRequests(&log),
		loadtest.VirtualUsers(engine.VUs{Max: 1, Iterate: it}))
	want := []string{"GET /a", "GET /poll?job=1", "GET /poll?job=1", "GET /poll?job=1", "GET /poll?job=1", "GET /a  1", "POST /submit k=v"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("server saw\n%q\nwant\n%q", got, want)
	}
	st := report.Run("r").Steps
	// /a sent again later is a request of its own (TestVUsIteratorExtraFails)
	if st[0].Sent != 2 || st[0].Configured != 2 || st[0].Retried != 0 || st[1].Sent != 1 || st[1].Retried != 3 || st[1].Good != 1 || st[2].Good != 1 {
		t.Errorf("step 1 sent %d retried %d; step 2 sent %d retried %d good %d; step 3 good %d",
			st[0].Sent, st[0].Retried, st[1].Sent, st[1].Retried, st[1].Good, st[2].Good)
	}
	if report.RequestsSent != 4 || report.RequestsConfigured != report.RequestsSent+report.RequestsNotSent+report.RequestsNotStarted ||
		len(report.HookErrors) != 0 {
		t.Errorf("sent %d, configured %d, hook errors %q", report.RequestsSent, report.RequestsConfigured, report.HookErrors)
	}
	if n, r := strings.Count(log.String(), "\n"), strings.Count(log.String(), `"retried":true`); n != 7 || r != 3 {
		t.Errorf("%d log lines, %d retried; want 7 and 3", n, r)
	}

	// an iterator that never ends its round is ended by the time limit
	forever := func(int, int, *rand.Rand) engine.StepIterator {
		return func(*engine.Result) (engine.NextStep, bool) { return engine.NextStep{Step: 0}, true }
	}
	report = execute(t, loadtest.Runs(run), loadtest.BaseURL(srv.URL), loadtest.TimeLimit(100*time.Millisecond),
		loadtest.VirtualUsers(engine.VUs{Max: 1, Iterate: forever}))
	if len(report.HookErrors) != 0 || report.StoppedBy == "" || report.Run("r").Steps[0].Retried == 0 {
		t.Errorf("hook errors %q, stopped by %q, retried %d", report.HookErrors, report.StoppedBy, report.Run("r").Steps[0].Retried)
	}
}

// TestVUsIteratorExtraFails: a step an iterator sends again later in
// the round (HTTP::LoadGen's InitURLs listing a URL twice) is a request
// of its own: its failure is the step's failure, counted as sent and
// configured, so HaveNoFailures cannot pass while the server answered
// it 500. Before, it was counted as retried, apart from every count.
func TestVUsIteratorExtraFails(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/a" && n.Add(1) == 2 {
			w.WriteHeader(http.StatusInternalServerError) // the second /a
		}
	}))
	t.Cleanup(srv.Close)
	it := func(vu, round int, _ *rand.Rand) engine.StepIterator {
		order := []int{0, 1, 0} // /a, /b, /a again
		k := 0
		return func(prev *engine.Result) (engine.NextStep, bool) {
			if k == len(order) {
				return engine.NextStep{}, false
			}
			k++
			return engine.NextStep{Step: order[k-1]}, true
		}
	}
	report := execute(t, loadtest.Runs(scenario.Run("r", scenario.Get("/a"), scenario.Get("/b"))), loadtest.BaseURL(srv.URL),
		loadtest.VirtualUsers(engine.VUs{Max: 1, Iterate: it}))
	st := report.Run("r").Steps[0]
	if report.ResponsesFailed != 1 || st.Failed != 1 || st.Statuses[500] != 1 || st.Sent != 2 || st.Good != 1 || st.Retried != 0 {
		t.Errorf("failed %d; step 1 sent %d good %d failed %d retried %d statuses %v: the extra /a's 500 must be a failure",
			report.ResponsesFailed, st.Sent, st.Good, st.Failed, st.Retried, st.Statuses)
	}
	if report.RequestsSent != 3 || report.RequestsConfigured != 3 || report.RequestsNotStarted != 0 || st.Configured != 2 || st.NotStarted() != 0 {
		t.Errorf("sent %d, configured %d, not started %d; step 1 configured %d", report.RequestsSent, report.RequestsConfigured,
			report.RequestsNotStarted, st.Configured)
	}
}
