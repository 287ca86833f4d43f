package loadtest_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"

	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

// A base URL's path is joined with each step's path (static and
// templated steps), as Gatling and axios do.
func TestBaseURLPathIsJoined(t *testing.T) {
	forEachDriver(t, func(t *testing.T) {
		var mu sync.Mutex
		var seen []string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			seen = append(seen, r.URL.RequestURI())
			mu.Unlock()
		}))
		defer srv.Close()
		run := scenario.Run("api", scenario.Get("/orders"), scenario.Get("items?page=2"),
			scenario.Get("/orders/{{iteration}}"), scenario.Get(srv.URL+"/abs")).Order(scenario.DepthFirst)
		r := execute(t, loadtest.Runs(run), loadtest.BaseURL(srv.URL+"/v1"))
		if r.GoodResponses != 4 {
			t.Fatalf("good %d of 4", r.GoodResponses)
		}
		want := []string{"/v1/orders", "/v1/items?page=2", "/v1/orders/0", "/abs"}
		if !slices.Equal(seen, want) {
			t.Errorf("server saw %q, want %q", seen, want)
		}
	})
}
