package loadtest_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c"

	"github.com/benchgate/benchgate/engine"
	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

// A run of two steps, the second posting what the first page said.
func Example() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "POST" {
			body, _ := io.ReadAll(r.Body)
			fmt.Fprintf(w, "hello %s", body)
			return
		}
		io.WriteString(w, `<div id="userName">alice</div>`)
	}))
	defer srv.Close()

	run := scenario.Run("greet",
		scenario.Get("/").Extract("user", scenario.CSS("#userName")),
		scenario.Post("/greet", "name={{user}}").ExpectBodyContains("hello name=alice"),
	).Repeat(10)
	plan := loadtest.New(loadtest.Runs(run), loadtest.BaseURL(srv.URL), loadtest.Concurrency(4))

	report, err := plan.Execute(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("configured:", report.RequestsConfigured, "good:", report.GoodResponses, "failed:", report.ResponsesFailed)
	fmt.Println("p99 measured:", report.Run("greet").Step(1).Latency.Percentile(99) > 0)
	// Output:
	// configured: 20 good: 20 failed: 0
	// p99 measured: true
}

// HTTPD::Bench::ApacheBench's per-iteration regression data, by keep level.
func ExampleRunReport_Iteration() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "0123456789")
	}))
	defer srv.Close()

	run := scenario.Run("r", scenario.Get("/a"), scenario.Post("/b", "k=v")).Repeat(3).KeepLevel(scenario.KeepHeaders)
	report, _ := loadtest.New(loadtest.Runs(run), loadtest.BaseURL(srv.URL)).Execute(context.Background())

	it, _ := report.Run("r").Iteration(2)
	fmt.Println("statuses:", it.Statuses())
	fmt.Println("response times:", len(it.ResponseTimes()))
	posted, _ := it.BytesPosted()
	lengths, _ := it.BodyLengths()
	fmt.Println("bytes posted:", posted, "body lengths:", lengths)
	_, ok := it.ResponseBodies()
	fmt.Println("bodies kept at level 2:", ok)
	// Output:
	// statuses: [200 200]
	// response times: 2
	// bytes posted: [0 3] body lengths: [10 10]
	// bodies kept at level 2: false
}

// Validation names the run, step, field and value, and sends nothing.
func ExamplePlan_Validate() {
	plan := loadtest.New(
		loadtest.Runs(scenario.Run("shop", scenario.Get("/cart"))),
		loadtest.Concurrency(0),
	)
	err := plan.Validate()
	fmt.Println(strings.ReplaceAll(err.Error(), "\n", "\n  "))
	// Output:
	// invalid plan: Concurrency "0": must be at least 1
	//   run "shop": step 1: URL "/cart": relative URL without a base URL
}

// A report round-trips through JSON.
func ExampleReport_WriteJSON() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	report, _ := loadtest.New(loadtest.Runs(scenario.Run("r", scenario.Get(srv.URL)).Repeat(5))).Execute(context.Background())

	f, _ := os.CreateTemp("", "report-*.json")
	defer os.Remove(f.Name())
	report.WriteJSON(f) // counts and histograms; WriteJSONWithRequests adds a record per request
	f.Seek(0, io.SeekStart)
	back, err := loadtest.ReadJSON(f)
	fmt.Println(err, back.GoodResponses, back.Runs[0].Latency.Count(), back.Runs[0].Requests.Len())
	// Output:
	// <nil> 5 5 0
}

// The per-request records go into the JSON when asked for, one per
// line, streamed from the 24-byte records.
func ExampleReport_WriteJSONWithRequests() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	report, _ := loadtest.New(loadtest.Runs(scenario.Run("r", scenario.Get(srv.URL)).Repeat(5))).Execute(context.Background())

	var buf bytes.Buffer
	report.WriteJSONWithRequests(&buf)
	back, err := loadtest.ReadJSON(&buf)
	rq, _ := back.Runs[0].Requests.At(4)
	fmt.Println(err, back.Runs[0].Requests.Len(), rq.Status, rq.Method)
	// Output:
	// <nil> 5 200 GET
}

// ReadJSON reads a report written by WriteJSON (or by benchgate ab -j),
// for a baseline or a comparison.
func ExampleReadJSON() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	report, _ := loadtest.New(loadtest.Runs(scenario.Run("home", scenario.Get("/")).Repeat(4)), loadtest.BaseURL(srv.URL)).Execute(context.Background())
	var buf bytes.Buffer
	report.WriteJSON(&buf)

	back, err := loadtest.ReadJSON(&buf)
	fmt.Println(err, back.Run("home").Step(0).Good, back.Run("home").Step(0).Label())
	_, err = loadtest.ReadJSON(strings.NewReader(`{"version": 1}`))
	fmt.Println(err)
	// Output:
	// <nil> 4 run "home" step 1 "GET /"
	// report JSON: version 1, want 2
}

// Virtual users on a ramp, following the redirect after a login.
func ExampleVirtualUsers() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/login" {
			http.Redirect(w, r, "/home", http.StatusSeeOther)
			return
		}
		io.WriteString(w, "welcome")
	}))
	defer srv.Close()

	run := scenario.Run("visit", scenario.Post("/login", "user=ann").FollowRedirects(3).ExpectBodyContains("welcome"))
	plan := loadtest.New(loadtest.Runs(run), loadtest.BaseURL(srv.URL), loadtest.KeepAlive(true), loadtest.Seed(1),
		loadtest.VirtualUsers(engine.VUs{Start: 1, Max: 4, RampUp: 30 * time.Millisecond, Rounds: 2}))
	report, err := plan.Execute(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	s := report.Run("visit").Step(0)
	fmt.Println("good:", s.Good, "redirects followed:", s.Followed)
	// Output: good: 8 redirects followed: 8
}

// An open model: 100 iterations a second for half a second, whatever the
// server does, with latencies also measured from each arrival.
func ExampleArrivalRate() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()

	run := scenario.Run("browse", scenario.Get("/"))
	plan := loadtest.New(loadtest.Runs(run), loadtest.BaseURL(srv.URL), loadtest.KeepAlive(true),
		loadtest.ArrivalRate(engine.Arrivals{Rate: 100, Duration: 500 * time.Millisecond, MaxVUs: 10}))
	report, err := plan.Execute(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	a := report.Arrivals
	fmt.Println("planned:", a.Planned, "started:", a.Started, "dropped:", a.Dropped)
	fmt.Println("corrected latencies:", report.Run("browse").Step(0).Corrected.Count())
	// Output:
	// planned: 50 started: 50 dropped: 0
	// corrected latencies: 50
}

// HTTP/2 with prior knowledge (h2c): four streams in flight on one
// connection.
func ExampleHTTP2() {
	srv := httptest.NewServer(h2c.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "over "+r.Proto)
	}), &http2.Server{}))
	defer srv.Close()

	run := scenario.Run("h2", scenario.Get("/").ExpectBodyContains("over HTTP/2.0")).Repeat(20)
	report, err := loadtest.New(loadtest.Runs(run), loadtest.BaseURL(srv.URL), loadtest.Concurrency(4), loadtest.HTTP2(1)).
		Execute(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("good:", report.GoodResponses, "failed:", report.ResponsesFailed)
	// Output: good: 20 failed: 0
}

// A server whose key is pinned, its certificate verified as well: the
// pin is the base64 SHA-256 of the key's SubjectPublicKeyInfo, as
// "openssl x509 -pubkey | openssl pkey -pubin -outform der | openssl
// dgst -sha256 -binary | base64" prints it.
func ExamplePinnedPublicKey() {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	sum := sha256.Sum256(srv.Certificate().RawSubjectPublicKeyInfo)

	report, err := loadtest.New(loadtest.Runs(scenario.Run("pinned", scenario.Get(srv.URL+"/")).Repeat(5)),
		loadtest.TLSConfig(&tls.Config{RootCAs: roots}),
		loadtest.PinnedPublicKey("sha256//"+base64.StdEncoding.EncodeToString(sum[:]))).
		Execute(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("good:", report.GoodResponses, "failed:", report.ResponsesFailed)
	// Output: good: 5 failed: 0
}

// Run a sequence for a duration: every step is reached, and the report
// counts the iterations begun.
func ExampleFor() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	defer srv.Close()

	run := scenario.Run("browse", scenario.Get("/"), scenario.Get("/cart"), scenario.Post("/order", "item=1"))
	report, err := loadtest.New(loadtest.Runs(run), loadtest.BaseURL(srv.URL), loadtest.Concurrency(4),
		loadtest.For(200*time.Millisecond)).Execute(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	r := report.Run("browse")
	fmt.Println("every step sent:", r.Step(0).Sent > 0 && r.Step(1).Sent > 0 && r.Step(2).Sent > 0)
	fmt.Println("steps never sent:", len(report.StepsNeverSent()))
	fmt.Println("repeat is the iterations begun:", int64(r.Repeat) == r.Step(0).Sent)
	// Output:
	// every step sent: true
	// steps never sent: 0
	// repeat is the iterations begun: true
}

// burst is an executor of one's own: it sends every run's iterations on
// the slots, with as many in flight as there are iterations. The plan
// learns its shape from Work: the report's configured counts and
// concurrency are the executor's.
type burst struct{ engine.Slots }

func (burst) Validate(p *engine.Plan) error {
	for _, r := range p.Runs {
		if r.Repeat > 1000 {
			return fmt.Errorf("burst: run %q repeats %d times: at most 1000 at once", r.Name, r.Repeat)
		}
	}
	return nil
}

func (burst) Work(p *engine.Plan) engine.Work {
	w := engine.Work{Concurrency: 1}
	for _, r := range p.Runs {
		w.Iterations = append(w.Iterations, r.Repeat)
		w.Concurrency = max(w.Concurrency, r.Repeat)
	}
	return w
}

func ExampleWithExecutor() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	plan := loadtest.New(loadtest.Runs(scenario.Run("home", scenario.Get(srv.URL+"/")).Repeat(20)), loadtest.WithExecutor(burst{}))
	report, err := plan.Execute(context.Background())
	fmt.Println(report.GoodResponses, "good, at most", report.Concurrency, "at once", err)

	err = loadtest.New(loadtest.Runs(scenario.Run("home", scenario.Get(srv.URL+"/")).Repeat(5000)), loadtest.WithExecutor(burst{})).Validate()
	fmt.Println(err)
	// Output:
	// 20 good, at most 20 at once <nil>
	// invalid plan: WithExecutor "loadtest_test.burst": burst: run "home" repeats 5000 times: at most 1000 at once
}
