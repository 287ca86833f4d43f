package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/benchgate/benchgate/demoapp"
	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

func TestCompare(t *testing.T) {
	app := demoapp.New()
	srv := httptest.NewServer(app)
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	save := func(name string, d time.Duration) string {
		var runs []*scenario.RunDef
		for i := 0; i < 2; i++ {
			runs = append(runs, scenario.Run(fmt.Sprintf("user %d", i), scenario.Get("/slow?ms=2")).Order(scenario.DepthFirst).Repeat(1_000_000))
		}
		r, err := loadtest.New(loadtest.Runs(runs...), loadtest.BaseURL(srv.URL), loadtest.Concurrency(2),
			loadtest.KeepAlive(true), loadtest.TimeLimit(d)).Execute(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name)
		f, _ := os.Create(path)
		r.WriteJSON(f)
		f.Close()
		return path
	}
	saveN := func(prefix string, n int) []string {
		var out []string
		for i := range n {
			out = append(out, save(fmt.Sprintf("%s%d.json", prefix, i), 300*time.Millisecond))
		}
		return out
	}
	olds := saveN("old", 5)
	old := filepath.Join(dir, "baseline.json")
	var mergeOut bytes.Buffer
	if code := run(context.Background(), append([]string{"baseline", "merge", "-o", old}, olds...), &mergeOut, io.Discard); code != 0 || !strings.Contains(mergeOut.String(), "5 executions") {
		t.Fatalf("baseline merge: exit %d: %s", code, mergeOut.String())
	}
	same := saveN("same", 5)
	app.SlowDown("/slow", 1.0)
	slow := saveN("slow", 5)
	app.SlowDown("/slow", 0)

	for _, tc := range []struct {
		name  string
		files []string
		flags []string
		code  int
		want  string
	}{
		// a busy machine may leave unchanged code open: let that pass here
		{"unchanged", append([]string{old}, same...), []string{"--pass-inconclusive"}, 0, "verdict: no regression"},
		{"2x slower", append([]string{old}, slow...), nil, 1, "REGRESSED"},
		{"one execution a side", []string{olds[0], same[0]}, nil, 3, `a baseline of 1 execution cannot show "no regression"`},
	} {
		var out bytes.Buffer
		// 25%: this test runs beside other packages' tests
		args := append(append([]string{"compare", "--min-effect", "0.25", "--percentiles", "50"}, tc.flags...), tc.files...)
		code := run(context.Background(), args, &out, io.Discard)
		if code != tc.code || !strings.Contains(out.String(), tc.want) {
			t.Errorf("compare %s: exit %d\n%s", tc.name, code, out.String())
		}
	}
	// --html writes the page beside the table: both sides drawn, the verdict
	page := filepath.Join(dir, "cmp.html")
	var out, errs bytes.Buffer
	if code := run(context.Background(), append([]string{"compare", "--min-effect", "0.25", "--percentiles", "50", "--html", page, old}, slow...), &out, &errs); code != 1 {
		t.Errorf("compare --html: exit %d\n%s%s", code, out.String(), errs.String())
	}
	if b, err := os.ReadFile(page); err != nil {
		t.Error(err)
	} else if html := string(b); strings.Count(html, `class="cdf-line" data-side="baseline"`) != 2 || strings.Count(html, `class="cdf-line" data-side="candidate"`) != 2 ||
		!strings.Contains(html, "Regressed: ") || !strings.Contains(html, `class="estimate"`) {
		t.Errorf("compare --html: the page lacks a side, the estimates or the verdict:\n%.3000s", html)
	}
	var errOut bytes.Buffer
	if code := run(context.Background(), []string{"compare", old, filepath.Join(dir, "nope.json")}, io.Discard, &errOut); code != 2 || !strings.Contains(errOut.String(), "nope.json") {
		t.Errorf("missing file: exit %d: %s", code, errOut.String())
	}
}

// TestCompareAndReportBadFile: a file that is not a valid report exits 4
// (not 2, Go's status when out of memory) with an error naming the file,
// the run, the step and the field; a file that is not there exits 2.
func TestCompareAndReportBadFile(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"version":2,"requests_sent":1,"responses_received":1,"runs":[{"name":"r","repeat":1,"steps":[{"name":"GET /","configured":1,"sent":1,"good":-1,"failed":2,"statuses":{"200":1}}]}]}`), 0o644)
	for _, args := range [][]string{{"compare", bad, bad}, {"report", "-o", filepath.Join(dir, "r.html"), bad}} {
		var errOut bytes.Buffer
		code := run(context.Background(), args, io.Discard, &errOut)
		if code != 4 {
			t.Errorf("%v: exit %d, want 4", args, code)
		}
		for _, want := range []string{bad, `run 1 "r" step 1 "GET /"`, "field good = -1"} {
			if !strings.Contains(errOut.String(), want) {
				t.Errorf("%v: stderr %q lacks %q", args, errOut.String(), want)
			}
		}
	}
	if code := run(context.Background(), []string{"report", filepath.Join(dir, "none.json")}, io.Discard, io.Discard); code != 2 {
		t.Errorf("missing file: exit %d, want 2", code)
	}
}

// TestCompareNamesWhichFile: a bad or missing new file is named as the
// new file, not as the baseline (compare said "baseline new.json: …" of
// a bad new file, and of a missing one "no baseline at new.json: record
// one with BENCHGATE_UPDATE_BASELINES=1 …").
func TestCompareNamesWhichFile(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"version":2,"requests_sent":1,"responses_received":1,"runs":[{"name":"r","repeat":1,"steps":[{"name":"GET /","configured":1,"sent":1,"good":-1,"failed":2,"statuses":{"200":1}}]}]}`), 0o644)
	good := filepath.Join(dir, "good.json")
	os.WriteFile(good, []byte(`{"version":2,"requests_configured":1,"requests_sent":1,"responses_received":1,"runs":[{"name":"r","repeat":1,"steps":[{"name":"GET /","configured":1,"sent":1,"good":1,"statuses":{"200":1}}]}]}`), 0o644)
	none := filepath.Join(dir, "none.json")
	for _, tc := range []struct {
		args      []string
		code      int
		want, not string
	}{
		{[]string{"compare", good, bad}, 4, "new file " + bad + ": ", "baseline " + bad},
		{[]string{"compare", good, none}, 2, "new file " + none + ": ", "no baseline"},
		{[]string{"compare", bad, good}, 4, "baseline " + bad + ": ", "new file"},
		{[]string{"compare", none, good}, 2, "no baseline at " + none, "new file"},
	} {
		var errOut bytes.Buffer
		code := run(context.Background(), tc.args, io.Discard, &errOut)
		if code != tc.code || !strings.Contains(errOut.String(), tc.want) || strings.Contains(errOut.String(), tc.not) {
			t.Errorf("%v: exit %d, stderr %q: want exit %d, %q and not %q", tc.args[1:], code, errOut.String(), tc.code, tc.want, tc.not)
		}
	}
}
