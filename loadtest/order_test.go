package loadtest_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

// recordingServer records the order in which request paths arrive.
type recordingServer struct {
	*httptest.Server
	mu    sync.Mutex
	paths []string
	delay time.Duration
}

func newRecordingServer(t *testing.T, delay time.Duration) *recordingServer {
	rs := &recordingServer{delay: delay}
	rs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rs.mu.Lock()
		rs.paths = append(rs.paths, r.URL.RequestURI())
		rs.mu.Unlock()
		if rs.delay > 0 {
			time.Sleep(rs.delay)
		}
		w.Write([]byte("ok " + r.URL.Path))
	}))
	t.Cleanup(rs.Close)
	return rs
}

func (rs *recordingServer) take() []string {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	p := rs.paths
	rs.paths = nil
	return p
}

func exampleRuns(order scenario.Order) (*scenario.RunDef, *scenario.RunDef) {
	r1 := scenario.Run("run1", scenario.Get("/"), scenario.Get("/server-status")).Repeat(3).Order(order)
	r2 := scenario.Run("run2", scenario.Get("/perl-status"), scenario.Get("/proxy-status")).Repeat(3).Order(order)
	return r1, r2
}

// The request orders of HTTPD::Bench::ApacheBench's EXAMPLES section at concurrency 1.
func TestApacheBenchExampleOrders(t *testing.T) {
	srv := newRecordingServer(t, 0)
	rep := func(n int, p ...string) (out []string) {
		for _, x := range p {
			for range n {
				out = append(out, x)
			}
		}
		return out
	}
	df := func(n int, p ...string) (out []string) {
		for range n {
			out = append(out, p...)
		}
		return out
	}
	bf1, bf2 := exampleRuns(scenario.BreadthFirst)
	df1, df2 := exampleRuns(scenario.DepthFirst)
	tests := []struct {
		name string
		runs []*scenario.RunDef
		prio loadtest.Priority
		want []string
	}{
		{"one run breadth-first", []*scenario.RunDef{bf1}, loadtest.EqualOpportunity,
			rep(3, "/", "/server-status")},
		{"two runs equal opportunity", []*scenario.RunDef{bf1, bf2}, loadtest.EqualOpportunity,
			rep(3, "/", "/perl-status", "/server-status", "/proxy-status")},
		{"two runs run priority", []*scenario.RunDef{bf1, bf2}, loadtest.RunPriority,
			rep(3, "/", "/server-status", "/perl-status", "/proxy-status")},
		{"depth-first run priority", []*scenario.RunDef{df1, df2}, loadtest.RunPriority,
			append(df(3, "/", "/server-status"), df(3, "/perl-status", "/proxy-status")...)},
		{"depth-first equal opportunity alternates", []*scenario.RunDef{df1, df2}, loadtest.EqualOpportunity,
			df(3, "/", "/perl-status", "/server-status", "/proxy-status")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forEachDriver(t, func(t *testing.T) {
				for _, ka := range []bool{false, true} {
					plan := newPlan(t, loadtest.Runs(tt.runs...), loadtest.BaseURL(srv.URL),
						loadtest.WithPriority(tt.prio), loadtest.KeepAlive(ka), loadtest.HTTP10())
					report, err := plan.Execute(context.Background())
					if err != nil {
						t.Fatal(err)
					}
					got := srv.take()
					if !slices.Equal(got, tt.want) {
						t.Errorf("keepalive=%v: server saw\n%v\nwant\n%v", ka, got, tt.want)
					}
					if report.GoodResponses != int64(len(tt.want)) || report.ResponsesFailed != 0 {
						t.Errorf("good %d failed %d, want %d and 0", report.GoodResponses, report.ResponsesFailed, len(tt.want))
					}
				}
			})
		})
	}
}

// At concurrency 2 two depth-first runs each keep one request in flight:
// the server sees their k-th requests side by side, as in EXAMPLES.
func TestApacheBenchExampleConcurrency2(t *testing.T) {
	forEachDriver(t, testApacheBenchExampleConcurrency2)
}

func testApacheBenchExampleConcurrency2(t *testing.T) {
	srv := newRecordingServer(t, 40*time.Millisecond)
	r1, r2 := exampleRuns(scenario.DepthFirst)
	plan := newPlan(t, loadtest.Runs(r1, r2), loadtest.BaseURL(srv.URL), loadtest.Concurrency(2),
		loadtest.WithPriority(loadtest.RunPriority))
	if _, err := plan.Execute(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := srv.take()
	want := [][2]string{{"/", "/perl-status"}, {"/server-status", "/proxy-status"}}
	if len(got) != 12 {
		t.Fatalf("server saw %d requests, want 12: %v", len(got), got)
	}
	for i := 0; i < 12; i += 2 {
		pair := want[(i/2)%2]
		a, b := got[i], got[i+1]
		if !(a == pair[0] && b == pair[1] || a == pair[1] && b == pair[0]) {
			t.Fatalf("requests %d and %d are %s and %s, want %s and %s in either order; all: %v", i, i+1, a, b, pair[0], pair[1], got)
		}
	}
}
