package loadtest_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"

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
	fmt.Println("good:", report.ResponsesReceived, "failed:", report.ResponsesFailed)
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
