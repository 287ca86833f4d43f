package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

// TestABWaitWarningMatchesTheTables: in rate mode the warning that the
// intended-start table and ab's disagree names a percentile the tables
// print with the figures they print. When dropped arrivals push p90 out
// of both tables ("dropped"), the warning quoted p90 over the sent
// requests alone (figures in neither table); it names the highest
// percentile the tables still show instead.
func TestABWaitWarningMatchesTheTables(t *testing.T) {
	cor, act := loadtest.NewLatency(), loadtest.NewLatency()
	for i := 0; i < 80; i++ {
		d := time.Millisecond
		if i >= 70 {
			d = 50 * time.Millisecond // waited for a connection
		}
		cor.Record(d)
		act.Record(time.Millisecond)
	}
	// a real report of 80 requests, its latencies replaced by the case's
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	t.Cleanup(srv.Close)
	r, err := loadtest.New(loadtest.Runs(scenario.Run("r", scenario.Get(srv.URL+"/")).Repeat(80))).Execute(context.Background())
	if err != nil || r.GoodResponses != 80 {
		t.Fatalf("err %v, %d good", err, r.GoodResponses)
	}
	r.Runs[0].Steps[0].Corrected, r.Runs[0].Steps[0].Latency, r.Latency = cor, act, act
	r.Runs[0].Dropped = 20
	r.Arrivals = &loadtest.ArrivalReport{Planned: 100, Started: 80, Dropped: 20, Lag: loadtest.NewLatency()}
	var out strings.Builder
	writeABSummary(&out, &abConfig{url: "http://h/", maxLag: 100 * time.Millisecond}, r)
	s := out.String()
	if !strings.Contains(s, "  90%         - (dropped: never started)") {
		t.Fatalf("the tables do not show p90 among the dropped arrivals:\n%s", s)
	}
	if strings.Contains(s, "p90 from the intended start") {
		t.Errorf("the warning quotes a p90 the tables print as dropped:\n%s", s)
	}
	if !strings.Contains(s, "WARNING:                p80 from the intended start (50.00 ms) is 50× the one from the actual start (1.00 ms)") {
		t.Errorf("no warning on the p80 both tables print:\n%s", s)
	}
}
