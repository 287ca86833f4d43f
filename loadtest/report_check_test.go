package loadtest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

// validReportJSON is a report of two runs benchgate wrote, as a generic
// JSON value to edit.
func validReportJSON(t testing.TB) map[string]any {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/bad" {
			w.WriteHeader(500)
		}
	}))
	defer srv.Close()
	report, err := loadtest.New(loadtest.Runs(
		scenario.Run("shop", scenario.Get(srv.URL+"/"), scenario.Get(srv.URL+"/bad")).Repeat(3),
		scenario.Run("home", scenario.Get(srv.URL+"/")).Repeat(2),
	)).Execute(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	report.WriteJSON(&buf)
	var v map[string]any
	if err := json.Unmarshal(buf.Bytes(), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func step(v map[string]any, run, k int) map[string]any {
	return v["runs"].([]any)[run].(map[string]any)["steps"].([]any)[k].(map[string]any)
}

// otherGeometry is a histogram of 1 to 10^12 at 5 digits, which
// benchgate never writes (its counts array is some 90 MB).
func otherGeometry(t testing.TB) string {
	h := hdr.New(1, 1_000_000_000_000, 5)
	h.RecordValue(1000)
	enc, err := h.Encode(hdr.V2CompressedEncodingCookieBase)
	if err != nil {
		t.Fatal(err)
	}
	return string(enc)
}

// TestReadJSONChecksIdentities: a report edited to break an identity the
// writer keeps is refused, with an error naming the run, the step and
// the field, and wrapping ErrInvalidReport.
func TestReadJSONChecksIdentities(t *testing.T) {
	base := validReportJSON(t)
	raw, _ := json.Marshal(base)
	if _, err := loadtest.ReadJSON(bytes.NewReader(raw)); err != nil {
		t.Fatalf("the writer's own report: %v", err)
	}
	geometry := otherGeometry(t)
	tests := []struct {
		name string
		edit func(v map[string]any)
		want []string
	}{
		{"negative good", func(v map[string]any) { step(v, 0, 0)["good"] = -1 }, []string{`run 1 "shop" step 1`, "field good = -1"}},
		{"negative sent", func(v map[string]any) { step(v, 1, 0)["sent"] = -5 }, []string{`run 2 "home" step 1`, "field sent = -5"}},
		{"sent not the sum", func(v map[string]any) { step(v, 0, 1)["sent"] = 4.0 }, []string{`run 1 "shop" step 2`, "field sent = 4", "good + failed + interrupted"}},
		{"failed without statuses", func(v map[string]any) { s := step(v, 0, 1); s["failed"], s["sent"] = 4.0, 4.0 },
			[]string{`step 2 "GET`, "field statuses"}},
		{"histogram count", func(v map[string]any) {
			s := step(v, 1, 0)
			s["good"], s["sent"], s["statuses"] = 3.0, 3.0, map[string]any{"200": 3}
		},
			[]string{`run 2 "home" step 1`, "field latency holds 2 values for 3 good"}},
		{"report total", func(v map[string]any) { v["responses_received"] = 99.0; v["requests_sent"] = 102.0 }, []string{"field requests_sent = 102, the steps' sum is 8"}},
		{"negative bytes", func(v map[string]any) { v["bytes_received"] = -1.0 }, []string{"field bytes_received = -1"}},
		{"negative status count", func(v map[string]any) { step(v, 0, 0)["statuses"] = map[string]any{"200": 4, "500": -1} }, []string{"field statuses"}},
		{"failures do not add up", func(v map[string]any) { step(v, 0, 1)["failures"] = map[string]any{"x": 1} }, []string{`step 2`, "field failures add up to 1, want 3"}},
		{"geometry", func(v map[string]any) { step(v, 1, 0)["latency"] = geometry }, []string{"geometry 1 to 1000000000000 at 5 significant digits"}},
		{"window count", func(v map[string]any) {
			s := step(v, 0, 0)
			s["windows"] = []any{map[string]any{"good": 7}}
		}, []string{`step 1`, "field windows hold 7 good"}},
		{"declared steps", func(v map[string]any) {
			v["runs"].([]any)[1].(map[string]any)["requests"] = map[string]any{"len": 1 << 32, "steps": 1 << 32, "requests": []any{}}
		}, []string{`run 2 "home"`, "field requests.steps = 4294967296, the run has 1 steps"}},
		{"declared length", func(v map[string]any) {
			v["runs"].([]any)[1].(map[string]any)["requests"] = map[string]any{"len": 1 << 32, "steps": 1, "requests": []any{}}
		}, []string{`run 2 "home"`, "field requests.len = 4294967296, want repeat × steps = 2 × 1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v map[string]any
			json.Unmarshal(raw, &v)
			tt.edit(v)
			b, _ := json.Marshal(v)
			_, err := loadtest.ReadJSON(bytes.NewReader(b))
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, loadtest.ErrInvalidReport) {
				t.Errorf("%v does not wrap ErrInvalidReport", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	// ReadBaseline names the file
	path := filepath.Join(t.TempDir(), "base.json")
	os.WriteFile(path, []byte(`{"version":2,"requests_sent":-1}`), 0o644)
	if _, err := loadtest.ReadBaseline(path); err == nil || !strings.Contains(err.Error(), path) ||
		!strings.Contains(err.Error(), "field requests_sent = -1") || !errors.Is(err, loadtest.ErrInvalidReport) {
		t.Errorf("ReadBaseline: %v", err)
	}
}

// TestReadJSONBoundsAllocation: a file declaring 2^32 steps in a request
// log, or histograms of another geometry, is refused having allocated
// little more than its own size; a log declaring 2^32 requests and
// holding none allocates nothing for them.
func TestReadJSONBoundsAllocation(t *testing.T) {
	geometry := otherGeometry(t)
	inputs := map[string]string{
		"steps":    `{"version":2,"runs":[{"name":"r","repeat":1,"steps":[{}],"requests":{"len":4294967296,"steps":4294967296,"requests":[]}}]}`,
		"geometry": `{"version":2,"latency":"` + geometry + `","runs":[]}`,
		"many":     `{"version":2,"runs":[{"name":"r","repeat":1,"steps":[` + strings.Repeat(`{"latency":"`+geometry+`"},`, 200) + `{}]}]}`,
		// valid: a run of 2^32 repeats that sent nothing
		"declared": `{"version":2,"runs":[{"name":"r","repeat":4294967296,"steps":[{}],"requests":{"len":4294967296,"steps":1,"requests":[]}}]}`,
	}
	for name, in := range inputs {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := loadtest.ReadJSON(strings.NewReader(in))
		runtime.ReadMemStats(&after)
		if err == nil && name != "declared" {
			t.Errorf("%s: no error", name)
		}
		if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20+64*uint64(len(in)) {
			t.Errorf("%s: %d bytes allocated for %d bytes of input (%v)", name, got, len(in), err)
		}
	}
}

// TestCompareDuplicateStepNames: two baseline steps of one name are
// never both paired with the run's one step of that name: the second is
// missing.
func TestCompareDuplicateStepNames(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	run := func(steps ...*scenario.Step) *loadtest.Report {
		r, err := loadtest.New(loadtest.Runs(scenario.Run("r", steps...).Repeat(3))).Execute(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	base := run(scenario.Get(srv.URL+"/x").Named("a"), scenario.Get(srv.URL+"/y").Named("b"), scenario.Get(srv.URL+"/x").Named("a"))
	cur := run(scenario.Get(srv.URL+"/y").Named("b"), scenario.Get(srv.URL+"/x").Named("a"))
	c := loadtest.Compare(base, cur, loadtest.CompareOptions{})
	missing := 0
	for _, d := range c.Deltas {
		if d.Verdict == loadtest.Missing {
			missing++
			if d.Step != "a" || !strings.Contains(d.Why, "2. of that name") {
				t.Errorf("missing %+v", d)
			}
		}
	}
	if missing != 1 {
		t.Errorf("%d steps missing, want the second \"a\":\n%s", missing, c)
	}
}

// TestReadBaselineInvalidContent: every error ReadBaseline gives about
// a file's content wraps ErrInvalidReport and names the file, as the
// doc of ErrInvalidReport says (and benchgate compare exits 4, not 2, on
// it): not JSON, JSON that is not an object, another baseline_version,
// no executions, an execution without its report, executions of other
// plans. Only ReadJSON's own errors wrapped it; FuzzReadBaseline found "0".
func TestReadBaselineInvalidContent(t *testing.T) {
	rep := `{"version":2,"requests_configured":1,"requests_sent":1,"responses_received":1,"runs":[{"name":"r","repeat":1,"steps":[{"name":"GET /","configured":1,"sent":1,"good":1,"statuses":{"200":1}}]}]}`
	other := strings.Replace(rep, `"GET /"`, `"GET /other"`, 1)
	dir := t.TempDir()
	for i, data := range []string{
		"0", "{", "[]", `"x"`, `{"baseline_version": 99, "executions": [{"report": ` + rep + `}]}`,
		`{"baseline_version": 2, "executions": []}`, `{"baseline_version": 2, "executions": [{}]}`,
		`{"baseline_version": 2, "executions": [{"report": ` + rep + `}, {"report": ` + other + `}]}`,
		`{"baseline_version": "2"}`,
	} {
		path := filepath.Join(dir, fmt.Sprintf("b%d.json", i))
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := loadtest.ReadBaseline(path)
		if err == nil || !errors.Is(err, loadtest.ErrInvalidReport) || !strings.Contains(err.Error(), path) {
			t.Errorf("%.60q: error %v: want one naming the file and wrapping ErrInvalidReport", data, err)
		}
	}
	path := filepath.Join(dir, "good.json")
	os.WriteFile(path, []byte(`{"baseline_version": 2, "executions": [{"report": `+rep+`}]}`), 0o644)
	if _, err := loadtest.ReadBaseline(path); err != nil {
		t.Errorf("a good baseline: %v", err)
	}
}
