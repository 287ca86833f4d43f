package loadtest_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/benchgate/benchgate/engine"
	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

// TestFeeders: a run's iterations take their variables from a table, in
// order, wrapping, uniquely or at random (seeded), from rows or a CSV
// file; what happens when rows run out is the feeder's choice.
func TestFeeders(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.URL.Query().Get("u"))
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	users := func() *scenario.Feeder {
		return scenario.FeedRows([]string{"user", "pw"}, [][]string{{"alice", "a1"}, {"bob", "b2"}, {"carol", "c3"}})
	}
	csvPath := filepath.Join(t.TempDir(), "users.csv")
	os.WriteFile(csvPath, []byte("user,pw\ndan,d4\nerin,e5\n"), 0o644)
	run := func(f *scenario.Feeder, repeat int, opts ...loadtest.Option) ([]string, *loadtest.Report) {
		mu.Lock()
		seen = nil
		mu.Unlock()
		r := scenario.Run("login", scenario.Get("/?u={{user}}")).Feed(f).Repeat(repeat)
		report := execute(t, append([]loadtest.Option{loadtest.Runs(r), loadtest.BaseURL(srv.URL)}, opts...)...)
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), seen...), report
	}
	if got, _ := run(users(), 5); strings.Join(got, " ") != "alice bob carol alice bob" {
		t.Errorf("in order, wrapping: %v", got)
	}
	got, report := run(users().Unique().OnEnd(scenario.Stop), 5)
	if strings.Join(got, " ") != "alice bob carol" || report.RequestsNotStarted != 2 || report.RequestsNotSent != 0 {
		t.Errorf("unique, stop: %v; not started %d, not sent %d", got, report.RequestsNotStarted, report.RequestsNotSent)
	}
	got, report = run(users().OnEnd(scenario.Fail), 4)
	if len(got) != 3 || report.RequestsNotSent != 1 {
		t.Errorf("fail: %v; not sent %d", got, report.RequestsNotSent)
	}
	for reason := range report.Runs[0].Steps[0].Unsent {
		if !strings.Contains(reason, "the feeder's rows ran out") {
			t.Errorf("reason %q", reason)
		}
	}
	a, _ := run(users().Random(), 8, loadtest.Seed(7))
	b, _ := run(users().Random(), 8, loadtest.Seed(7))
	if strings.Join(a, " ") != strings.Join(b, " ") {
		t.Errorf("seed 7 drew %v, then %v", a, b)
	}
	if got, _ := run(scenario.FeedCSV(csvPath), 2); strings.Join(got, " ") != "dan erin" {
		t.Errorf("csv: %v", got)
	}
	// one row per VU: VU k walks iteration k with 1 round
	got, _ = run(users().Unique().OnEnd(scenario.Fail), 1, loadtest.VirtualUsers(engine.VUs{Max: 3}))
	if len(got) != 3 || strings.Join(sortedCopy(got), " ") != "alice bob carol" {
		t.Errorf("one user per VU: %v", got)
	}

	for _, tc := range []struct {
		f    *scenario.Feeder
		step string
		want string
	}{
		{users(), "/?u={{usr}}", `undefined variable "usr" (defined before this step: iteration, pw, user)`},
		{scenario.FeedCSV(filepath.Join(t.TempDir(), "none.csv")), "/", "no such file"},
		{scenario.FeedRows([]string{"a"}, [][]string{{"1", "2"}}), "/", "row 0 has 2 values for 1 fields"},
		{users().Unique(), "/", "Unique cannot wrap around"},
	} {
		err := loadtest.New(loadtest.Runs(scenario.Run("r", scenario.Get(tc.step)).Feed(tc.f)), loadtest.BaseURL(srv.URL)).Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("err %v, want %q", err, tc.want)
		}
	}
}

func sortedCopy(xs []string) []string {
	out := append([]string(nil), xs...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}
