package loadtest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

// TestJSONArtifactSmall: at the default keep level the JSON report holds
// no per-request records (a CI artifact stays small whatever the number
// of requests); WriteJSONWithRequests writes them, one per line, and
// ReadJSON gives back the same records; a run kept at KeepHeaders has
// them in WriteJSON too (asked for).
func TestJSONArtifactSmall(t *testing.T) {
	srv := stallServer(t, -1, 0)
	const n = 3000
	report := execute(t, loadtest.Runs(scenario.Run("r", scenario.Get("/a"), scenario.Get("/b")).Repeat(n/2),
		scenario.Run("h", scenario.Get("/h")).Repeat(10).KeepLevel(scenario.KeepHeaders)),
		loadtest.BaseURL(srv.URL), loadtest.KeepAlive(true), loadtest.Concurrency(4))
	if report.RequestsSent != n+10 || report.Runs[0].Requests.Len() != n {
		t.Fatalf("sent %d, %d records", report.RequestsSent, report.Runs[0].Requests.Len())
	}
	var small, full bytes.Buffer
	if err := report.WriteJSON(&small); err != nil {
		t.Fatal(err)
	}
	if err := report.WriteJSONWithRequests(&full); err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Runs []map[string]json.RawMessage `json:"runs"`
	}
	if err := json.Unmarshal(small.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	if _, ok := raw.Runs[0]["requests"]; ok {
		t.Error("WriteJSON at the default keep level wrote the per-request records")
	}
	if _, ok := raw.Runs[1]["requests"]; !ok {
		t.Error("WriteJSON dropped the records of a run kept at KeepHeaders")
	}
	// what is left does not grow with the requests: far below the ~500
	// bytes per request of the records
	if per := small.Len() / n; per > 60 {
		t.Errorf("WriteJSON: %d bytes, %d per request", small.Len(), per)
	}
	if strings.Count(full.String(), "\n") < n || full.Len() < 20*small.Len()/10 {
		t.Errorf("WriteJSONWithRequests: %d bytes, %d lines", full.Len(), strings.Count(full.String(), "\n"))
	}
	for _, b := range []*bytes.Buffer{&small, &full} {
		back, err := loadtest.ReadJSON(bytes.NewReader(b.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		if back.RequestsSent != report.RequestsSent || back.Runs[0].Steps[1].Latency.Count() != report.Runs[0].Steps[1].Latency.Count() {
			t.Errorf("read back: sent %d", back.RequestsSent)
		}
		if b == &small {
			continue
		}
		for _, k := range []int{0, 1, n / 2, n - 1} {
			got, _ := back.Runs[0].Requests.At(k)
			want, _ := report.Runs[0].Requests.At(k)
			if got != want {
				t.Errorf("request %d: read back %+v, wrote %+v", k, got, want)
			}
		}
		if h, _ := back.Runs[1].Requests.At(9); !h.Sent {
			t.Errorf("run h's request 9 not read back: %+v", h)
		}
	}
}

func TestWriteJSONOfAHandMadeReport(t *testing.T) {
	var buf bytes.Buffer
	if err := (&loadtest.Report{}).WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	r, err := loadtest.ReadJSON(&buf)
	if err != nil {
		t.Fatalf("a hand-made report written by WriteJSON does not read back: %v", err)
	}
	if r.Version != loadtest.ReportVersion {
		t.Errorf("version %d, want %d", r.Version, loadtest.ReportVersion)
	}
}

// TestErrorSurvivesTheFile: the error Execute returned with a report is
// written with it (secrets redacted) and read back, so the report gives
// no verdict from its file either; a spec that cleared it writes none.
func TestErrorSurvivesTheFile(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	report, err := loadtest.New(loadtest.Runs(scenario.Run("r", scenario.Get(srv.URL))), loadtest.Repeat(3)).Execute(context.Background())
	if err != nil || report.NoVerdict() != "" {
		t.Fatalf("%v, %q", err, report.NoVerdict())
	}
	report.Err = errors.New("cancelled while fetching http://ann:SECRET@host/x?token=SECRET2")
	roundTrip := func() *loadtest.Report {
		var buf bytes.Buffer
		if err := report.WriteJSON(&buf); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(buf.String(), "SECRET") {
			t.Errorf("the file shows a secret of the error")
		}
		back, err := loadtest.ReadJSON(&buf)
		if err != nil {
			t.Fatal(err)
		}
		return back
	}
	back := roundTrip()
	if back.Err == nil || !strings.Contains(back.NoVerdict(), "the plan did not run to its end: cancelled while fetching") {
		t.Errorf("read back: error %v, no verdict %q", back.Err, back.NoVerdict())
	}
	report.Err = nil // judged anyway, on purpose
	if back := roundTrip(); back.Err != nil || back.NoVerdict() != "" {
		t.Errorf("a cleared error came back: %v, %q", back.Err, back.NoVerdict())
	}
}
