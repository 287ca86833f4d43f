package loadtest_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

// lockedBuffer is a bytes.Buffer safe for the progress goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// TestProgressAndCSV: a plan prints plain progress lines when not on a
// terminal, and a report writes one CSV line per run and step.
func TestProgressAndCSV(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Millisecond)
		io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	var out lockedBuffer
	run := scenario.Run("shop", scenario.Get("/a"), scenario.Get("/b")).Repeat(1_000_000)
	report := execute(t, loadtest.Runs(run), loadtest.BaseURL(srv.URL), loadtest.Concurrency(2), loadtest.KeepAlive(true),
		loadtest.TimeLimit(450*time.Millisecond), loadtest.Progress(&out, 100*time.Millisecond))
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) < 3 || !strings.Contains(lines[len(lines)-1], "(done)") || !strings.Contains(lines[0], "/2000000 sent") ||
		!strings.Contains(lines[0], " / 450ms, ") || !strings.Contains(lines[len(lines)-1], "450ms / 450ms, ") {
		t.Errorf("progress lines (want the elapsed time against the limit):\n%s", out.String())
	}
	var b bytes.Buffer
	if err := report.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil || len(rows) != 4 || rows[0][0] != "run" || rows[2][1] != "GET /a" || rows[2][4] == "0" || rows[2][8] == "" {
		t.Errorf("csv %v:\n%v", err, rows)
	}
}

// TestLogRequests: every request becomes one JSON line, secrets redacted,
// flushed at the end.
// badPathServer answers 503 on /bad and 200 elsewhere.
func badPathServer(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/bad" {
			w.WriteHeader(503)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestLogRequests(t *testing.T) {
	srv := badPathServer(t)
	var out bytes.Buffer
	run := scenario.Run("shop", scenario.Get("/page?token=s3cret&n={{iteration}}"), scenario.Get("/bad")).Repeat(3)
	report := execute(t, loadtest.Runs(run), loadtest.BaseURL(srv.URL), loadtest.LogRequests(&out))
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != int(report.RequestsSent) || strings.Contains(out.String(), "s3cret") {
		t.Fatalf("%d lines for %d requests, or a secret shows:\n%s", len(lines), report.RequestsSent, out.String())
	}
	var first struct {
		Run    string
		Step   int
		Status int
		URL    string
		Failed bool
		Reason string
		Kind   string
	}
	var failed int
	for _, l := range lines {
		if err := json.Unmarshal([]byte(l), &first); err != nil {
			t.Fatal(err)
		}
		if first.Failed {
			failed++
			if first.Status != 503 || first.Step != 2 || !strings.Contains(first.Reason, "status 503") || first.Kind != "status" {
				t.Errorf("failed line %s", l)
			}
		} else if first.Run != "shop" || !strings.Contains(first.URL, "token=%5Bredacted%5D") {
			t.Errorf("line %s", l)
		}
	}
	if failed != 3 {
		t.Errorf("%d failed lines", failed)
	}
}

// TestLogRequestsCSV: the same fields as CSV, a header row first,
// secrets redacted, one row per request.
func TestLogRequestsCSV(t *testing.T) {
	srv := badPathServer(t)
	var out bytes.Buffer
	run := scenario.Run("shop", scenario.Get("/page?token=s3cret"), scenario.Get("/bad")).Repeat(2)
	report := execute(t, loadtest.Runs(run), loadtest.BaseURL(srv.URL), loadtest.LogRequestsCSV(&out))
	rows, err := csv.NewReader(&out).ReadAll()
	if err != nil || len(rows) != 1+int(report.RequestsSent) || strings.Contains(fmt.Sprint(rows), "s3cret") {
		t.Fatalf("%d rows for %d requests (%v), or a secret shows: %q", len(rows), report.RequestsSent, err, rows)
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	bad := 0
	for _, r := range rows[1:] {
		if r[col["step"]] == "2" {
			bad++
			if r[col["status"]] != "503" || r[col["failed"]] != "true" || !strings.Contains(r[col["reason"]], "status 503") || r[col["kind"]] != "status" {
				t.Errorf("row %q", r)
			}
		} else if r[col["kind"]] != "" {
			t.Errorf("a good row with kind %q", r[col["kind"]])
		}
	}
	if bad != 2 || len(rows[0]) != 27 {
		t.Errorf("%d failed rows, %d columns", bad, len(rows[0]))
	}
}
