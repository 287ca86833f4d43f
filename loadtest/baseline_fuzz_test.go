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

// FuzzDecodeBaseline: decoding any input returns a baseline or an
// error, never a panic; a decoded baseline compares with itself and is
// written again.
func FuzzDecodeBaseline(f *testing.F) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	report, err := loadtest.New(loadtest.Runs(scenario.Run("r", scenario.Get(srv.URL), scenario.Get(srv.URL)).Repeat(2))).
		Execute(context.Background())
	if err != nil {
		f.Fatal(err)
	}
	var b loadtest.Baseline
	for range 2 {
		if err := b.Add(report, &loadtest.Machine{CPU: "x", Cores: 2, Calibration: 2e6}); err != nil {
			f.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := b.WriteJSON(&buf); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	buf.Reset()
	report.WriteJSON(&buf)
	f.Add(buf.Bytes()) // a single report: one execution
	f.Add([]byte(`{"baseline_version":2,"executions":[]}`))
	f.Add([]byte(`{"baseline_version":2,"executions":[{"report":null}]}`))
	f.Add([]byte(`{"baseline_version":2,"executions":[{"machine":{"calibration":-5},"report":{"version":2}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := loadtest.DecodeBaseline(data)
		if err != nil {
			return
		}
		if len(b.Executions) == 0 {
			t.Fatal("a decoded baseline without executions")
		}
		_ = loadtest.CompareBaseline(b, b.Executions, &loadtest.Machine{Calibration: 1e6}, loadtest.CompareOptions{}).String()
		var out bytes.Buffer
		if err := b.WriteJSON(&out); err != nil {
			t.Fatalf("re-encoding a decoded baseline: %v", err)
		}
	})
}
