package loadtest_test

import (
	"bytes"
	"context"
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
	f.Add([]byte(`{"version":1,"runs":[null]}`))
	f.Add([]byte(`{"version":1,"runs":[{"name":"r","repeat":3,"steps":[{}],"requests":[{}]}]}`))
	f.Add([]byte(`{"version":1,"latency":"not a histogram"}`))
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
	})
}

func TestReadJSONRejectsInconsistentRecords(t *testing.T) {
	for _, in := range []string{
		`{"version":2}`,
		`{"version":1,"runs":[null]}`,
		`{"version":1,"runs":[{"name":"r","repeat":2,"steps":[{}],"requests":[{}]}]}`,
		`{"version":1,"runs":[{"name":"r","repeat":1,"steps":[{}],"headers":["a","b"]}]}`,
		`{"version":1,"runs":[{"name":"r","repeat":-1,"steps":[]}]}`,
		`{"version":1,"latency":"zz"}`,
		`not json`,
	} {
		if _, err := loadtest.ReadJSON(bytes.NewReader([]byte(in))); err == nil {
			t.Errorf("%s: no error", in)
		}
	}
	r, err := loadtest.ReadJSON(bytes.NewReader([]byte(`{"version":1,"runs":[{"name":"r","repeat":2,"steps":[{}],"requests":[]}]}`)))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := r.Runs[0].Iteration(1); ok {
		t.Error("an iteration without records reported ok")
	}
}
