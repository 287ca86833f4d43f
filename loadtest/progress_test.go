package loadtest_test

import (
	"bytes"
	"encoding/csv"
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
	if len(lines) < 3 || !strings.Contains(lines[len(lines)-1], "(done)") || !strings.Contains(lines[0], "/2000000 sent") {
		t.Errorf("progress lines:\n%s", out.String())
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
