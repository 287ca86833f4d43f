package loadtest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"

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
