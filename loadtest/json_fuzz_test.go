package loadtest_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

// FuzzReadJSON: decoding any input returns a report or an error, never a
// panic, and a decoded report can be used and written again.
func FuzzReadJSON(f *testing.F) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	report, err := loadtest.New(loadtest.Runs(scenario.Run("r", scenario.Get(srv.URL), scenario.Get(srv.URL)).Repeat(2))).
		Execute(context.Background())
	if err != nil {
		f.Fatal(err)
	}
	var buf bytes.Buffer
	report.WriteJSON(&buf)
	f.Add(buf.Bytes())
	f.Add([]byte(`{"version":2,"runs":[null]}`))
	f.Add([]byte(`{"version":2,"runs":[{"name":"r","repeat":3,"steps":[{}],"requests":{"len":3,"steps":1,"requests":[{"index":1}]}}]}`))
	f.Add([]byte(`{"version":2,"latency":"not a histogram"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := loadtest.ReadJSON(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, run := range r.Runs {
			run.Latency.Percentile(99)
			for _, s := range run.Steps {
				s.Latency.Percentile(50)
			}
			for i := 0; i < run.Repeat; i++ {
				if it, ok := run.Iteration(i); ok {
					it.ResponseTimes()
					it.ResponseHeaders()
					it.BodyLengths()
				}
			}
		}
		var out bytes.Buffer
		if err := r.WriteJSON(&out); err != nil {
			t.Fatalf("re-encoding a decoded report: %v", err)
		}
		// every consumer of a report copes with what JSON can hold
		_ = loadtest.Compare(r, r, loadtest.CompareOptions{}).String()
		_ = r.WriteHTML(io.Discard)
		_ = r.WriteCSV(io.Discard)
		_ = r.String()
	})
}

func TestReadJSONRejectsInconsistentRecords(t *testing.T) {
	for _, in := range []string{
		`{"version":1}`,
		`{"version":2,"runs":[null]}`,
		`{"version":2,"runs":[{"name":"r","repeat":2,"steps":[{}],"requests":[{}]}]}`,
		`{"version":2,"runs":[{"name":"r","repeat":2,"steps":[{}],"requests":{"len":1,"steps":1,"requests":[]}}]}`,
		`{"version":2,"runs":[{"name":"r","repeat":2,"steps":[{}],"requests":{"len":2,"steps":2,"requests":[]}}]}`,
		`{"version":2,"runs":[{"name":"r","repeat":2,"steps":[{}],"requests":{"len":2,"steps":1,"requests":[{"index":2}]}}]}`,
		`{"version":2,"runs":[{"name":"r","repeat":1,"steps":[{}],"headers":["a","b"]}]}`,
		`{"version":2,"runs":[{"name":"r","repeat":-1,"steps":[]}]}`,
		`{"version":2,"latency":"zz"}`,
		`not json`,
	} {
		if _, err := loadtest.ReadJSON(bytes.NewReader([]byte(in))); err == nil {
			t.Errorf("%s: no error", in)
		}
	}
	r, err := loadtest.ReadJSON(bytes.NewReader([]byte(`{"version":2,"runs":[{"name":"r","repeat":2,"steps":[{}],"requests":{"len":2,"steps":1,"requests":[{"index":0,"sent":true,"status":200}]}}]}`)))
	if err != nil {
		t.Fatal(err)
	}
	it, ok := r.Runs[0].Iteration(1)
	if !ok || it.Requests()[0].Sent {
		t.Error("a request without a record reads as sent")
	}
	if it, _ := r.Runs[0].Iteration(0); it.Statuses()[0] != 200 {
		t.Error("the recorded request lost its status")
	}
}
