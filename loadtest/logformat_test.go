package loadtest_test

import (
	"bytes"
	"errors"
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

// watchedLog is an io.Writer that signals when what was written to it
// contains want.
type watchedLog struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	want string
	seen chan struct{}
}

func (w *watchedLog) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, _ := w.buf.Write(b)
	if w.seen != nil && strings.Contains(w.buf.String(), w.want) {
		close(w.seen)
		w.seen = nil
	}
	return n, nil
}

func (w *watchedLog) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// TestRequestLogAsItGoes: the request log reaches its writer while the
// execution runs, not only at its end: the server holds the second
// request until the first one's line was written (or 5 s passed, when
// it answers 500), for each of the three formats.
func TestRequestLogAsItGoes(t *testing.T) {
	for _, format := range []string{"json", "csv", "tab"} {
		t.Run(format, func(t *testing.T) {
			log := &watchedLog{want: "/first", seen: make(chan struct{})}
			seen := log.seen
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/second" {
					select {
					case <-seen:
					case <-time.After(5 * time.Second):
						w.WriteHeader(500)
					}
				}
			}))
			t.Cleanup(srv.Close)
			opt := map[string]loadtest.Option{"json": loadtest.LogRequests(log), "csv": loadtest.LogRequestsCSV(log),
				"tab": loadtest.LogRequestsFormatted(log, loadtest.TabSeparated)}[format]
			report := execute(t, loadtest.Runs(scenario.Run("r", scenario.Get("/first"), scenario.Get("/second"))),
				loadtest.BaseURL(srv.URL), opt)
			if st := report.Run("r").Steps[1].Statuses; st[200] != 1 {
				t.Errorf("the second request was answered %v: the first one's line was not written while the run went on", st)
			}
			if !strings.Contains(log.String(), "/second") {
				t.Errorf("log at the end:\n%s", log.String())
			}
		})
	}
}

// TestRequestLogFormatted: HTTP::LoadGen::Logger's tab-joined line by
// default, a user's formatter when given, and a formatter that panics
// costs its line, not the run.
func TestRequestLogFormatted(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			w.WriteHeader(404)
		}
	}))
	t.Cleanup(srv.Close)
	run := scenario.Run("r", scenario.Get("/a?token=s3cret"), scenario.Get("/missing").ExpectStatus(404)).Repeat(2)

	var tab bytes.Buffer
	execute(t, loadtest.Runs(run), loadtest.BaseURL(srv.URL), loadtest.LogRequestsFormatted(&tab, nil))
	lines := strings.Split(strings.TrimSuffix(tab.String(), "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d lines:\n%s", len(lines), tab.String())
	}
	for _, l := range lines {
		f := strings.Split(l, "\t")
		if len(f) != 26 || f[0] != "r" || (f[1] != "1" && f[1] != "2") || f[11] != "GET" {
			t.Errorf("line %q: %d fields", l, len(f))
		}
		if strings.Contains(l, "s3cret") {
			t.Errorf("secret query value in the log: %q", l)
		}
	}

	var mine bytes.Buffer
	execute(t, loadtest.Runs(run), loadtest.BaseURL(srv.URL), loadtest.LogRequestsFormatted(&mine, func(l loadtest.RequestLine) string {
		if l.Step == 2 && l.Iteration == 1 {
			panic("no format for this one")
		}
		return fmt.Sprintf("%d/%d %s %d\n", l.Iteration, l.Step, l.Method, l.Status)
	}))
	got := strings.Split(strings.TrimSuffix(mine.String(), "\n"), "\n")
	// breadth-first: both iterations' step 1, then their step 2
	want := []string{"0/1 GET 200", "1/1 GET 200", "0/2 GET 404",
		`request log formatter panicked on run "r" step 2 iteration 1: no format for this one`}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

// TestTabSeparatedEscapes: a field with a tab, CR or LF stays one field
// of one line.
func TestTabSeparatedEscapes(t *testing.T) {
	l := loadtest.TabSeparated(loadtest.RequestLine{Run: "r", Reason: "bad\tline\r\nX-Injected: 1\\"})
	if strings.Count(l, "\n") != 1 || strings.Count(l, "\t") != 25 || !strings.Contains(l, `bad\tline\r\nX-Injected: 1\\`) {
		t.Errorf("%q", l)
	}
}

// failingWriter takes n bytes, then fails every write.
type failingWriter struct{ n int }

func (w *failingWriter) Write(b []byte) (int, error) {
	if len(b) > w.n {
		k := w.n
		w.n = 0
		return k, errors.New("disk full")
	}
	w.n -= len(b)
	return len(b), nil
}

// TestRequestLogWriteError: a request log whose writer fails loses
// the lines from then on; the report says so in its warnings instead of
// keeping a silently cut log (the flusher and the last flush dropped
// the error).
func TestRequestLogWriteError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(srv.Close)
	for _, opt := range []func(io.Writer) loadtest.Option{
		loadtest.LogRequests,
		loadtest.LogRequestsCSV,
		func(w io.Writer) loadtest.Option { return loadtest.LogRequestsFormatted(w, loadtest.TabSeparated) },
	} {
		report := execute(t, loadtest.Runs(scenario.Run("r", scenario.Get("/")).Repeat(50)), loadtest.BaseURL(srv.URL),
			opt(&failingWriter{n: 300}))
		if !strings.Contains(strings.Join(report.Warnings, "\n"), "request log: disk full") {
			t.Errorf("warnings %q do not say the request log failed", report.Warnings)
		}
	}
}
