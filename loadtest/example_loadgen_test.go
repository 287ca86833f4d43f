package loadtest_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"github.com/benchgate/benchgate/engine"
	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

// A request log with a line of one's own, written as the requests
// complete (HTTP::LoadGen::Logger with a formatter);
// loadtest.TabSeparated is the logger's default line.
func ExampleLogRequestsFormatted() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()

	run := scenario.Run("home", scenario.Get("/"), scenario.Get("/about"))
	line := func(l loadtest.RequestLine) string {
		return fmt.Sprintf("%s step %d: %s %d\n", l.Run, l.Step, l.Method, l.Status)
	}
	plan := loadtest.New(loadtest.Runs(run), loadtest.BaseURL(srv.URL), loadtest.LogRequestsFormatted(os.Stdout, line))
	if _, err := plan.Execute(context.Background()); err != nil {
		fmt.Println(err)
	}
	// Output:
	// home step 1: GET 200
	// home step 2: GET 200
}

// A method whose responses carry no body, though their headers announce
// one (HTTP::LoadGen's register_no_response_body_method): without the
// registration the request would wait for the body.
func ExampleNoResponseBodyMethods() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "PURGE" {
			w.Header().Set("Content-Length", "1000") // and sends none
		}
	}))
	defer srv.Close()

	run := scenario.Run("purge", scenario.Request("PURGE", "/cache"), scenario.Get("/")).Repeat(3)
	plan := loadtest.New(loadtest.Runs(run), loadtest.BaseURL(srv.URL), loadtest.NoResponseBodyMethods("PURGE"))
	report, err := plan.Execute(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("good:", report.GoodResponses, "failed:", report.ResponsesFailed)
	// Output:
	// good: 6 failed: 0
}

// A request hook ends its virtual user (HTTP::LoadGen's done): here
// each VU stops at the first response that is not a 200.
func ExampleVirtualUsers_endVU() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/cart" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()

	hooks := engine.VUHooks{RequestDone: func(e *engine.RequestEvent, r *engine.Result) error {
		e.EndVU = r.Status != http.StatusOK
		return nil
	}}
	run := scenario.Run("shop", scenario.Get("/"), scenario.Get("/cart").ExpectStatus(503), scenario.Get("/checkout"))
	plan := loadtest.New(loadtest.Runs(run), loadtest.BaseURL(srv.URL),
		loadtest.VirtualUsers(engine.VUs{Max: 2, Rounds: 5, Hooks: hooks}))
	report, err := plan.Execute(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("sent:", report.RequestsSent, "not started:", report.RequestsNotStarted)
	// Output:
	// sent: 4 not started: 26
}

// Virtual users that walk their run until the time limit
// (HTTP::LoadGen's times <= 0): the run is configured with the
// iterations they began.
func ExampleVirtualUsers_roundsForever() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()

	run := scenario.Run("browse", scenario.Get("/"), scenario.Get("/about").Think(5*time.Millisecond))
	plan := loadtest.New(loadtest.Runs(run), loadtest.BaseURL(srv.URL), loadtest.TimeLimit(200*time.Millisecond),
		loadtest.VirtualUsers(engine.VUs{Max: 2, Rounds: engine.RoundsForever}))
	report, err := plan.Execute(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	r := report.Run("browse")
	fmt.Println("stopped by the time limit:", report.StoppedBy != "")
	fmt.Println("configured = iterations begun × steps:", report.RequestsConfigured == int64(r.Repeat*2))
	// Output:
	// stopped by the time limit: true
	// configured = iterations begun × steps: true
}

// RequestStart changes the whole request, as HTTP::LoadGen's ReqStart
// may edit its request: here the step's GET becomes a POST with a body
// to a URL with the VU's number.
func ExampleVirtualUsers_requestStart() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fmt.Printf("%s %s %s\n", r.Method, r.URL.RequestURI(), body)
	}))
	defer srv.Close()

	hooks := engine.VUHooks{RequestStart: func(e *engine.RequestEvent) error {
		e.Method, e.URL = "POST", fmt.Sprintf("/users/%d/visits", e.VU)
		e.SetBody([]byte("page=home"))
		return nil
	}}
	plan := loadtest.New(loadtest.Runs(scenario.Run("r", scenario.Get("/home"))), loadtest.BaseURL(srv.URL),
		loadtest.VirtualUsers(engine.VUs{Max: 1, Rounds: 2, Hooks: hooks}))
	if _, err := plan.Execute(context.Background()); err != nil {
		fmt.Println(err)
	}
	// Output:
	// POST /users/0/visits page=home
	// POST /users/0/visits page=home
}
