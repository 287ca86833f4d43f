package loadtest_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/benchgate/benchgate/engine"
	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

// forEachDriver runs f as two subtests: on the event loop (where the plan
// allows it) and on the goroutine driver.
func forEachDriver(t *testing.T, f func(t *testing.T)) {
	t.Run("eventloop", f)
	t.Run("goroutines", f)
}

// newPlan is loadtest.New with the driver the (sub)test asks for.
func newPlan(t *testing.T, opts ...loadtest.Option) *loadtest.Plan {
	if strings.HasSuffix(t.Name(), "/goroutines") {
		opts = append(opts, loadtest.WithExecutor(engine.Slots{Goroutines: true}))
	}
	return loadtest.New(opts...)
}

func execute(t *testing.T, opts ...loadtest.Option) *loadtest.Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	report, err := newPlan(t, opts...).Execute(ctx)
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, report)
	return report
}

// roundTrip checks that ReadJSON takes what WriteJSON (with every
// request's record) wrote of report: the reader's identity checks hold
// for every report the engine makes.
func roundTrip(t *testing.T, report *loadtest.Report) {
	t.Helper()
	var b bytes.Buffer
	if err := report.WriteJSONWithRequests(&b); err != nil {
		t.Fatalf("WriteJSONWithRequests: %v", err)
	}
	if _, err := loadtest.ReadJSON(&b); err != nil {
		t.Fatalf("ReadJSON refuses the report WriteJSONWithRequests wrote: %v", err)
	}
}

// countingServer counts the TCP connections it accepts.
func countingServer(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int64) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &conns
}

func TestKeepAliveReusesOneConnection(t *testing.T) {
	forEachDriver(t, func(t *testing.T) {
		srv, conns := countingServer(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") })
		for _, http10 := range []bool{false, true} {
			conns.Store(0)
			opts := []loadtest.Option{loadtest.Runs(scenario.Run("r", scenario.Get("/a"), scenario.Get("/b")).Repeat(10)),
				loadtest.BaseURL(srv.URL), loadtest.KeepAlive(true)}
			if http10 {
				opts = append(opts, loadtest.HTTP10())
			}
			report := execute(t, opts...)
			if got := conns.Load(); got != 1 {
				t.Errorf("http10=%v: %d connections, want 1", http10, got)
			}
			for i, rq := range report.Runs[0].Requests.All() {
				if rq.Reused != (i > 0) || (i > 0 && rq.Connect != 0) {
					t.Errorf("http10=%v: request %d reused=%v connect=%v", http10, i, rq.Reused, rq.Connect)
				}
			}
		}
	})
}

func TestNoKeepAliveOpensAConnectionPerRequest(t *testing.T) {
	forEachDriver(t, func(t *testing.T) {
		srv, conns := countingServer(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") })
		report := execute(t, loadtest.Runs(scenario.Run("r", scenario.Get("/")).Repeat(7)), loadtest.BaseURL(srv.URL), loadtest.KeepAlive(false))
		if conns.Load() != 7 || report.GoodResponses != 7 {
			t.Errorf("%d connections, %d good; want 7 and 7", conns.Load(), report.GoodResponses)
		}
	})
}

// A plan keeps its connections alive unless told otherwise, as browsers,
// k6, hey and oha do.
func TestKeepAliveIsTheDefault(t *testing.T) {
	forEachDriver(t, func(t *testing.T) {
		srv, conns := countingServer(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") })
		report := execute(t, loadtest.Runs(scenario.Run("r", scenario.Get("/"), scenario.Get("/b")).Repeat(7)), loadtest.BaseURL(srv.URL))
		if conns.Load() != 1 || report.GoodResponses != 14 {
			t.Errorf("%d connections, %d good; want 1 and 14", conns.Load(), report.GoodResponses)
		}
	})
}

func TestKeepAliveReopensForAnotherHostPort(t *testing.T) {
	forEachDriver(t, func(t *testing.T) {
		h := func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "x") }
		a, ca := countingServer(t, h)
		b, cb := countingServer(t, h)
		run := scenario.Run("r", scenario.Get(a.URL+"/"), scenario.Get(b.URL+"/"), scenario.Get(b.URL+"/again")).
			Repeat(3).Order(scenario.DepthFirst)
		report := execute(t, loadtest.Runs(run), loadtest.KeepAlive(true))
		// Each iteration: a (new), b (new), b (reused).
		if ca.Load() != 3 || cb.Load() != 3 {
			t.Errorf("connections a=%d b=%d, want 3 and 3", ca.Load(), cb.Load())
		}
		it, _ := report.Runs[0].Iteration(1)
		reqs := it.Requests()
		if reqs[0].Reused || reqs[1].Reused || !reqs[2].Reused {
			t.Errorf("reused flags %v %v %v, want false false true", reqs[0].Reused, reqs[1].Reused, reqs[2].Reused)
		}
	})
}

// rawServer answers each connection with handle, on loopback.
func rawServer(t testing.TB, handle func(c net.Conn)) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				handle(c)
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

func readRequest(br *bufio.Reader) (*http.Request, error) {
	req, err := http.ReadRequest(br)
	if err == nil {
		io.Copy(io.Discard, req.Body)
	}
	return req, err
}

func TestStaleKeepAliveConnectionIsReplaced(t *testing.T) {
	forEachDriver(t, func(t *testing.T) {
		// The server answers one request per connection as if it kept it
		// alive, then closes it: the next request finds it dead.
		base := rawServer(t, func(c net.Conn) {
			if _, err := readRequest(bufio.NewReader(c)); err != nil {
				return
			}
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		})
		report := execute(t, loadtest.Runs(scenario.Run("r", scenario.Get("/")).Repeat(20)), loadtest.BaseURL(base), loadtest.KeepAlive(true))
		if report.GoodResponses != 20 || report.ResponsesFailed != 0 {
			t.Fatalf("good %d failed %d, want 20 and 0: %v", report.GoodResponses, report.ResponsesFailed, report.Runs[0].Steps[0].Failures)
		}
	})
}

func TestAutoCookiesPerIterationAndStaticCookies(t *testing.T) {
	forEachDriver(t, func(t *testing.T) {
		var mu sync.Mutex
		seen := map[string][]string{}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			seen[r.URL.Path] = append(seen[r.URL.Path], r.Header.Get("Cookie"))
			mu.Unlock()
			if r.URL.Path == "/set" {
				http.SetCookie(w, &http.Cookie{Name: "sid", Value: "s" + r.URL.Query().Get("i")})
				http.SetCookie(w, &http.Cookie{Name: "gone", Value: "x", MaxAge: -1})
			}
		}))
		defer srv.Close()
		run := scenario.Run("r", scenario.Get("/first"), scenario.Get("/set?i=1"), scenario.Get("/after")).
			Repeat(2).Order(scenario.DepthFirst).Cookies("static=0;", "static=1")
		execute(t, loadtest.Runs(run), loadtest.BaseURL(srv.URL))
		want := map[string][]string{
			"/first": {"static=0", "static=1"},
			"/set":   {"static=0", "static=1"},
			"/after": {"static=0; sid=s1", "static=1; sid=s1"},
		}
		mu.Lock()
		defer mu.Unlock()
		for path, w := range want {
			if got := seen[path]; strings.Join(got, "|") != strings.Join(w, "|") {
				t.Errorf("%s: Cookie headers %q, want %q", path, got, w)
			}
		}

		seen = map[string][]string{}
		mu.Unlock()
		run = scenario.Run("r", scenario.Get("/set"), scenario.Get("/after")).AutoCookies(false)
		execute(t, loadtest.Runs(run), loadtest.BaseURL(srv.URL))
		mu.Lock()
		if got := seen["/after"]; len(got) != 1 || got[0] != "" {
			t.Errorf("auto cookies off: Cookie %q, want none", got)
		}
	})
}

func TestExtractorsFeedLaterSteps(t *testing.T) {
	forEachDriver(t, func(t *testing.T) {
		var mu sync.Mutex
		var got []string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case "/page":
				w.Header().Set("X-Token", "hdr-7")
				http.SetCookie(w, &http.Cookie{Name: "ck", Value: "cookie-9"})
				io.WriteString(w, `<html><body><a class="next" href="/next/42">n</a><p id="msg"> hi there </p><script>var id = "rx-5";</script></body></html>`)
			case "/api":
				io.WriteString(w, `{"data":{"items":[{"id":11},{"id":12}],"name":"bob"}}`)
			default:
				body, _ := io.ReadAll(r.Body)
				mu.Lock()
				got = append(got, fmt.Sprintf("%s %s h=%s body=%s", r.Method, r.URL.RequestURI(), r.Header.Get("X-Echo"), body))
				mu.Unlock()
			}
		}))
		defer srv.Close()
		run := scenario.Run("r",
			scenario.Get("/page").
				Extract("href", scenario.CSS("a.next").Attr("href")).
				Extract("msg", scenario.CSS("#msg")).
				Extract("rx", scenario.Regex(`id = "([^"]+)"`)).
				Extract("hdr", scenario.Header("X-Token")).
				Extract("ck", scenario.Cookie("ck")),
			scenario.Get("/api").Extract("second", scenario.JSON("data.items.1.id")).Extract("name", scenario.JSON("data.name")),
			scenario.Post("{{href}}?who={{name}}", "msg={{msg}}&rx={{rx}}&id={{second}}").Header("X-Echo", "{{hdr}}/{{ck}}"),
		).Repeat(2)
		report := execute(t, loadtest.Runs(run), loadtest.BaseURL(srv.URL))
		if report.ResponsesFailed != 0 {
			t.Fatalf("failures: %v", report.Runs[0].Steps[2].Failures)
		}
		want := "POST /next/42?who=bob h=hdr-7/cookie-9 body=msg=hi there&rx=rx-5&id=12"
		mu.Lock()
		defer mu.Unlock()
		if len(got) != 2 || got[0] != want || got[1] != want {
			t.Errorf("server saw %q, want twice %q", got, want)
		}
	})
}

func TestExtractorFailureFailsTheStep(t *testing.T) {
	forEachDriver(t, func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "<p>nothing</p>") }))
		defer srv.Close()
		run := scenario.Run("r", scenario.Get("/").Extract("tok", scenario.CSS("input[name=csrf]").Attr("value")), scenario.Get("/{{tok}}"))
		report := execute(t, loadtest.Runs(run), loadtest.BaseURL(srv.URL))
		steps := report.Runs[0].Steps
		if steps[0].Failed != 1 || steps[1].NotSent != 1 || steps[1].Sent != 0 {
			t.Fatalf("step 1 failed %d, step 2 not sent %d (sent %d), want 1, 1 (0)", steps[0].Failed, steps[1].NotSent, steps[1].Sent)
		}
		for reason := range steps[0].Failures {
			if !strings.Contains(reason, `extract "tok"`) || !strings.Contains(reason, "no element matches") {
				t.Errorf("step 1 reason %q", reason)
			}
		}
		for reason := range steps[1].Unsent {
			if !strings.Contains(reason, `undefined variable "tok"`) {
				t.Errorf("step 2 reason %q", reason)
			}
		}
	})
}

func TestMethodPrecedenceAndHeaders(t *testing.T) {
	forEachDriver(t, func(t *testing.T) {
		var mu sync.Mutex
		var got []string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			mu.Lock()
			got = append(got, fmt.Sprintf("%s %s ct=%q body=%q x=%q", r.Method, r.URL.Path, r.Header.Get("Content-Type"), body, r.Header.Values("X-Multi")))
			mu.Unlock()
			io.WriteString(w, "ok")
		}))
		defer srv.Close()
		none := func(*scenario.Response, scenario.Vars) (string, bool) { return "", false }
		some := func(*scenario.Response, scenario.Vars) (string, bool) { return "", true }
		run := scenario.Run("r",
			scenario.Get("/get"),
			scenario.Head("/head"),
			scenario.PostIfBodyElseHead("/head-with-body").BodyFunc(some),
			scenario.PostIfBodyElseHead("/head-no-body").BodyFunc(none),
			scenario.PostIfBody("/func-none").BodyFunc(none),
			scenario.Post("/post", "a=1"),
			scenario.Post("/typed", `{"a":1}`).ContentType("application/json"),
			scenario.Request("PROPFIND", "/custom").Header("X-Multi", "1").Header("X-Multi", "2"),
			scenario.Put("/put", "data"),
			scenario.Delete("/delete"),
		)
		execute(t, loadtest.Runs(run), loadtest.BaseURL(srv.URL))
		want := []string{
			`GET /get ct="" body="" x=[]`,
			`HEAD /head ct="" body="" x=[]`,
			`POST /head-with-body ct="application/x-www-form-urlencoded" body="" x=[]`,
			`HEAD /head-no-body ct="" body="" x=[]`,
			`GET /func-none ct="" body="" x=[]`,
			`POST /post ct="application/x-www-form-urlencoded" body="a=1" x=[]`,
			`POST /typed ct="application/json" body="{\"a\":1}" x=[]`,
			`PROPFIND /custom ct="" body="" x=["1" "2"]`,
			`PUT /put ct="application/x-www-form-urlencoded" body="data" x=[]`,
			`DELETE /delete ct="" body="" x=[]`,
		}
		mu.Lock()
		defer mu.Unlock()
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("server saw\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
}

func slowServer(t *testing.T, delay time.Duration) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
			}
		}
		io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestTimeLimitReturnsPartialReport(t *testing.T) {
	forEachDriver(t, func(t *testing.T) {
		srv := slowServer(t, 5*time.Second)
		run := scenario.Run("r", scenario.Get("/fast"), scenario.Get("/slow")).Repeat(4)
		start := time.Now()
		report, err := newPlan(t, loadtest.Runs(run), loadtest.BaseURL(srv.URL), loadtest.Concurrency(2),
			loadtest.TimeLimit(300*time.Millisecond), loadtest.GracePeriod(200*time.Millisecond)).Execute(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if el := time.Since(start); el > 2*time.Second {
			t.Errorf("took %v with a 300ms time limit", el)
		}
		if report.StoppedBy == "" || report.Runs[0].Steps[0].Good != 4 {
			t.Errorf("stopped by %q, fast good %d", report.StoppedBy, report.Runs[0].Steps[0].Good)
		}
		if report.RequestsSent != report.GoodResponses+report.ResponsesFailed+report.RequestsInterrupted {
			t.Errorf("sent %d != good %d + failed %d + interrupted %d", report.RequestsSent, report.GoodResponses, report.ResponsesFailed, report.RequestsInterrupted)
		}
		slow := report.Runs[0].Steps[1]
		if slow.Interrupted == 0 || slow.Failed != 0 || report.ResponsesFailed != 0 {
			t.Fatalf("slow: %d interrupted, %d failed: a timed run is not a failure", slow.Interrupted, slow.Failed)
		}
	})
}

func TestCancelReturnsPartialReport(t *testing.T) {
	forEachDriver(t, func(t *testing.T) {
		srv := slowServer(t, 5*time.Second)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(200*time.Millisecond, cancel)
		run := scenario.Run("r", scenario.Get("/fast"), scenario.Get("/slow")).Repeat(3)
		report, err := newPlan(t, loadtest.Runs(run), loadtest.BaseURL(srv.URL), loadtest.Concurrency(3)).Execute(ctx)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if report == nil || report.Runs[0].Steps[0].Good != 3 || report.Runs[0].Steps[1].Interrupted != 3 || report.ResponsesFailed != 0 {
			t.Fatalf("partial report missing what was measured: %+v", report)
		}
	})
}

func TestStepTimeLimit(t *testing.T) {
	forEachDriver(t, func(t *testing.T) {
		srv := slowServer(t, 2*time.Second)
		run := scenario.Run("r", scenario.Get("/slow").TimeLimit(100*time.Millisecond), scenario.Get("/fast")).Repeat(2)
		report := execute(t, loadtest.Runs(run), loadtest.BaseURL(srv.URL), loadtest.KeepAlive(true))
		steps := report.Runs[0].Steps
		if steps[0].Failed != 2 || steps[1].Good != 2 {
			t.Fatalf("slow failed %d, fast good %d; want 2 and 2", steps[0].Failed, steps[1].Good)
		}
		for reason := range steps[0].Failures {
			if !strings.Contains(reason, "step time limit 100ms exceeded") {
				t.Errorf("reason %q", reason)
			}
		}
	})
}

func TestTLSVerifiedByDefault(t *testing.T) {
	forEachDriver(t, func(t *testing.T) {
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "secure") }))
		srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is the point
		srv.StartTLS()
		defer srv.Close()
		run := scenario.Run("r", scenario.Get(srv.URL+"/"))
		report := execute(t, loadtest.Runs(run))
		if report.ResponsesFailed != 1 {
			t.Fatalf("an untrusted certificate was accepted")
		}
		for reason := range report.Runs[0].Steps[0].Failures {
			if !strings.Contains(reason, "certificate") {
				t.Errorf("reason %q does not mention the certificate", reason)
			}
		}
		report = execute(t, loadtest.Runs(run), loadtest.InsecureSkipVerify(), loadtest.KeepAlive(true))
		if report.GoodResponses != 1 || !report.TLSVerifySkipped || len(report.Warnings) == 0 {
			t.Fatalf("with InsecureSkipVerify: good %d, skipped %v, warnings %v", report.GoodResponses, report.TLSVerifySkipped, report.Warnings)
		}
	})
}

func TestConnectRefusedIsRecorded(t *testing.T) {
	forEachDriver(t, func(t *testing.T) {
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		addr := ln.Addr().String()
		ln.Close()
		report := execute(t, loadtest.Runs(scenario.Run("r", scenario.Get("http://"+addr+"/")).Repeat(3)))
		if report.ResponsesFailed != 3 || report.RequestsSent != 3 {
			t.Fatalf("failed %d sent %d, want 3 and 3", report.ResponsesFailed, report.RequestsSent)
		}
		for reason := range report.Runs[0].Steps[0].Failures {
			if !strings.Contains(reason, "connection refused") || !strings.Contains(reason, "10 attempts") {
				t.Errorf("reason %q", reason)
			}
		}
		if st := report.Runs[0].Steps[0].Statuses[599]; st != 3 {
			t.Errorf("status 599 count %d", st)
		}
	})
}

func TestProxy(t *testing.T) {
	forEachDriver(t, func(t *testing.T) {
		origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "origin saw %s host %s via %s", r.URL.Path, r.Host, r.Header.Get("Via"))
		}))
		defer origin.Close()
		var proxied atomic.Int64
		proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !r.URL.IsAbs() {
				http.Error(w, "not a proxy request: "+r.RequestURI, http.StatusBadRequest)
				return
			}
			proxied.Add(1)
			out, _ := http.NewRequest(r.Method, r.URL.String(), r.Body)
			out.Header.Set("Via", "test-proxy")
			resp, err := http.DefaultTransport.RoundTrip(out)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			defer resp.Body.Close()
			w.WriteHeader(resp.StatusCode)
			io.Copy(w, resp.Body)
		}))
		defer proxy.Close()
		ou, _ := url.Parse(origin.URL)
		run := scenario.Run("r", scenario.Get(origin.URL+"/p").ExpectBodyContains("origin saw /p host "+ou.Host+" via test-proxy")).KeepLevel(3)
		report := execute(t, loadtest.Runs(run), loadtest.Proxy(proxy.URL))
		if report.GoodResponses != 1 || proxied.Load() != 1 {
			t.Fatalf("Proxy option: good %d, proxied %d: %v", report.GoodResponses, proxied.Load(), report.Runs[0].Steps[0].Failures)
		}
		special := scenario.Run("r", scenario.Get(proxy.URL+"/"+origin.URL+"/p").ExpectBodyContains("via test-proxy"))
		report = execute(t, loadtest.Runs(special))
		if report.GoodResponses != 1 || proxied.Load() != 2 {
			t.Fatalf("proxy URL form: good %d, proxied %d: %v", report.GoodResponses, proxied.Load(), report.Runs[0].Steps[0].Failures)
		}
	})
}

func TestResolveOverrideKeepsHostName(t *testing.T) {
	forEachDriver(t, func(t *testing.T) {
		var host atomic.Value
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { host.Store(r.Host) }))
		defer srv.Close()
		_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
		run := scenario.Run("r", scenario.Get("http://staging.example.test:"+port+"/"))
		report := execute(t, loadtest.Runs(run), loadtest.Resolve("staging.example.test", "127.0.0.1"))
		if report.GoodResponses != 1 || host.Load() != "staging.example.test:"+port {
			t.Fatalf("good %d host %v", report.GoodResponses, host.Load())
		}
	})
}

func TestBodyTruncatedAtBufferWithWarning(t *testing.T) {
	forEachDriver(t, func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, strings.Repeat("y", 10000))
		}))
		defer srv.Close()
		run := scenario.Run("r", scenario.Get("/")).KeepLevel(3).BufferBytes(100).Repeat(2)
		report := execute(t, loadtest.Runs(run), loadtest.BaseURL(srv.URL), loadtest.KeepAlive(true))
		it, _ := report.Runs[0].Iteration(1)
		bodies, _ := it.ResponseBodies()
		lengths, _ := it.BodyLengths()
		if len(bodies[0]) != 100 || lengths[0] != 10000 || report.GoodResponses != 2 {
			t.Fatalf("kept %d bytes of %d; good %d", len(bodies[0]), lengths[0], report.GoodResponses)
		}
		if len(report.Warnings) != 1 || !strings.Contains(report.Warnings[0], "2 response bodies longer than the buffer (100 bytes)") {
			t.Errorf("warnings %q", report.Warnings)
		}
		if !it.Requests()[0].Reused {
			t.Error("the connection was not reused after a drained, truncated body")
		}
	})
}

func TestUserCodePanicsBecomeFailures(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()
	run := scenario.Run("r",
		scenario.Get("/").Extract("x", scenario.ExtractorFunc(func(*scenario.Response) (string, error) { panic("boom in extractor") })),
		scenario.Post("/", "").BodyFunc(func(*scenario.Response, scenario.Vars) (string, bool) { panic("boom in body") }),
		scenario.Get("/after"),
	).Repeat(2)
	report := execute(t, loadtest.Runs(run), loadtest.BaseURL(srv.URL))
	steps := report.Runs[0].Steps
	if steps[0].Failed != 2 || steps[1].NotSent != 2 || steps[1].Sent != 0 || steps[2].Good != 2 {
		t.Fatalf("failed %d, not sent %d (sent %d), good after %d", steps[0].Failed, steps[1].NotSent, steps[1].Sent, steps[2].Good)
	}
	for _, want := range []string{"extractor panicked: boom in extractor", "body builder panicked: boom in body"} {
		found := false
		for _, st := range steps {
			for reason := range st.Failures {
				found = found || strings.Contains(reason, want)
			}
			for reason := range st.Unsent {
				found = found || strings.Contains(reason, want)
			}
		}
		if !found {
			t.Errorf("no failure says %q", want)
		}
	}
}

func TestKeepLevelZeroStillHasPercentiles(t *testing.T) {
	forEachDriver(t, func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
		defer srv.Close()
		run := scenario.Run("r", scenario.Get("/a"), scenario.Get("/b")).Repeat(20).KeepLevel(scenario.KeepTotals)
		report := execute(t, loadtest.Runs(run), loadtest.BaseURL(srv.URL), loadtest.Concurrency(3))
		r := report.Run("r")
		if _, ok := r.Iteration(0); ok || r.Requests != nil {
			t.Error("keep level 0 kept per-request records")
		}
		if r.Latency.Count() != 40 || r.Step(1).Latency.Count() != 20 || r.Latency.Percentile(99) <= 0 {
			t.Errorf("histograms: run %d, step %d, p99 %v", r.Latency.Count(), r.Step(1).Latency.Count(), r.Latency.Percentile(99))
		}
		if report.BytesReceived == 0 || report.TotalTime <= 0 || report.GoodResponses != 40 {
			t.Errorf("totals: %d bytes, %v, %d good", report.BytesReceived, report.TotalTime, report.GoodResponses)
		}
	})
}

func TestTimelineCountsEveryRequest(t *testing.T) {
	forEachDriver(t, func(t *testing.T) {
		srv := slowServer(t, 400*time.Millisecond)
		run := scenario.Run("r", scenario.Get("/fast"), scenario.Get("/slow"), scenario.Get("/fast")).Repeat(4).Order(scenario.DepthFirst)
		report := execute(t, loadtest.Runs(run), loadtest.BaseURL(srv.URL), loadtest.Concurrency(2))
		var sent, good int64
		for i, s := range report.Timeline {
			if s.At != i {
				t.Errorf("timeline[%d].At = %d", i, s.At)
			}
			sent += s.Sent
			good += s.Good
			if s.Good > 0 && (s.MeanLatency() <= 0 || s.LatencyMax < s.MeanLatency()) {
				t.Errorf("second %d: mean %v max %v", i, s.MeanLatency(), s.LatencyMax)
			}
		}
		if sent != 12 || good != 12 || len(report.Timeline) < 2 {
			t.Errorf("timeline: %d seconds, %d sent, %d good: %+v", len(report.Timeline), sent, good, report.Timeline)
		}
	})
}

func TestLargeRequestBodies(t *testing.T) {
	forEachDriver(t, func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n, _ := io.Copy(io.Discard, r.Body)
			fmt.Fprintf(w, "got %d", n)
		}))
		defer srv.Close()
		body := strings.Repeat("z", 4<<20)
		run := scenario.Run("r", scenario.Post("/", body).ExpectBodyContains(fmt.Sprintf("got %d", len(body)))).Repeat(3)
		report := execute(t, loadtest.Runs(run), loadtest.BaseURL(srv.URL), loadtest.KeepAlive(true), loadtest.Concurrency(2))
		if report.GoodResponses != 3 {
			t.Fatalf("good %d: %v", report.GoodResponses, report.Runs[0].Steps[0].Failures)
		}
		if rq, _ := report.Runs[0].Requests.At(0); rq.BodyBytesSent != int64(len(body)) {
			sent := rq.BodyBytesSent
			t.Errorf("body bytes sent %d", sent)
		}
	})
}
