package loadtest_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"testing"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

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
	// failures of several kinds: kinds, failed statuses, example reasons
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadGateway) }))
	defer bad.Close()
	failing, err := loadtest.New(loadtest.Runs(scenario.Run("f", scenario.Get(bad.URL).Extract("x", scenario.CSS("#x")),
		scenario.Get(bad.URL+"/{{x}}"), scenario.Get(bad.URL).AnyStatus().ExpectBodyContains("y")).Repeat(2))).Execute(context.Background())
	if err != nil {
		f.Fatal(err)
	}
	var fbuf bytes.Buffer
	failing.WriteJSON(&fbuf)
	f.Add(fbuf.Bytes())
	f.Add([]byte(`{"version":2,"runs":[null]}`))
	f.Add([]byte(`{"version":2,"runs":[{"name":"r","repeat":3,"steps":[{}],"requests":{"len":3,"steps":1,"requests":[{"index":1}]}}]}`))
	f.Add([]byte(`{"version":2,"latency":"not a histogram"}`))
	addHostileSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := readBounded(t, data, func() (*loadtest.Report, error) { return loadtest.ReadJSON(bytes.NewReader(data)) })
		if err != nil {
			return
		}
		for _, run := range r.Runs {
			run.Latency.Percentile(99)
			for _, s := range run.Steps {
				s.Latency.Percentile(50)
			}
			for i := 0; i < min(run.Repeat, 1000); i++ { // Repeat is declared, not held
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

// addHostileSeeds adds reports that declare more than they hold: a
// request log of 2^32 steps, a histogram of another geometry, negative
// and inconsistent counts.
func addHostileSeeds(f *testing.F) {
	h := hdr.New(1, 1_000_000_000_000, 5)
	h.RecordValue(12345)
	enc, _ := h.Encode(hdr.V2CompressedEncodingCookieBase)
	f.Add([]byte(`{"version":2,"runs":[{"name":"r","repeat":1,"steps":[{}],"requests":{"len":4294967296,"steps":4294967296,"requests":[]}}]}`))
	f.Add([]byte(`{"version":2,"latency":"` + string(enc) + `"}`))
	f.Add([]byte(`{"version":2,"requests_sent":1,"responses_received":1,"runs":[{"name":"r","repeat":1,"steps":[{"name":"a","sent":1,"good":-1,"failed":2,"statuses":{"200":1}}]}]}`))
	f.Add([]byte(`{"version":2,"runs":[{"name":"r","repeat":2,"steps":[{"name":"a"},{"name":"a"}]}]}`))
}

// readBounded runs read and fails when it allocated more than 4 MB and
// 2 KB per input byte: what a file makes benchgate allocate is bounded
// by its size (a histogram text of a few dozen bytes may cost a
// decompressor and its counters; nothing may cost what it declares).
func readBounded(t *testing.T, data []byte, read func() (*loadtest.Report, error)) (*loadtest.Report, error) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	r, err := read()
	runtime.ReadMemStats(&after)
	if got, limit := after.TotalAlloc-before.TotalAlloc, 4<<20+2048*uint64(len(data)); got > limit {
		t.Fatalf("%d bytes allocated for %d bytes of input (limit %d); error %v", got, len(data), limit, err)
	}
	return r, err
}

// FuzzReadBaseline: reading any file as a baseline returns a report or
// an error naming the file, never a panic, within the same bounds as
// ReadJSON.
func FuzzReadBaseline(f *testing.F) {
	f.Add([]byte(`{"version":2,"runs":[]}`))
	f.Add([]byte(`{"version":2,"runs":[{"name":"r","repeat":1,"steps":[{"name":"a","configured":1}]}]}`))
	addHostileSeeds(f)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := os.CreateTemp(dir, "baseline-*.json")
		if err != nil {
			t.Fatal(err)
		}
		defer os.Remove(file.Name())
		file.Write(data)
		file.Close()
		var b *loadtest.Baseline
		_, err = readBounded(t, data, func() (*loadtest.Report, error) {
			var err error
			b, err = loadtest.ReadBaseline(file.Name())
			return nil, err
		})
		if err != nil {
			if !strings.Contains(err.Error(), file.Name()) || !errors.Is(err, loadtest.ErrInvalidReport) {
				t.Fatalf("error %q does not name the file or is not ErrInvalidReport", err)
			}
			return
		}
		for _, r := range b.Executions {
			_ = loadtest.Compare(r, r, loadtest.CompareOptions{}).String()
			_ = r.String()
		}
	})
}
