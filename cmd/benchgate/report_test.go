package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

func TestReportCommand(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	t.Cleanup(srv.Close)
	r, err := loadtest.New(loadtest.Runs(scenario.Run("home", scenario.Get(srv.URL)).Repeat(50))).Execute(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	js, out := filepath.Join(dir, "run.json"), filepath.Join(dir, "run.html")
	f, _ := os.Create(js)
	r.WriteJSON(f)
	f.Close()
	var stdout bytes.Buffer
	if code := run(context.Background(), []string{"report", "-o", out, js}, &stdout, io.Discard); code != 0 {
		t.Fatalf("exit %d", code)
	}
	page, err := os.ReadFile(out)
	if err != nil || !strings.Contains(string(page), "<svg") || !strings.Contains(string(page), `run &#34;home&#34; step 1`) {
		t.Fatalf("page: %v\n%.500s", err, page)
	}
	if code := run(context.Background(), []string{"report", filepath.Join(dir, "none.json")}, io.Discard, io.Discard); code != 2 {
		t.Errorf("missing input: exit %d", code)
	}
}
