package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

// TestMergeDuet: the files of a duet's two shards, against a candidate
// 4 ms slower, merge into the duet's verdict (exit 1, a regression); a
// missing shard, a report's file among duets' and a bad duet file are
// refused (exit 4); a missing shard allowed gives no verdict (exit 3).
func TestMergeDuet(t *testing.T) {
	serve := func(d time.Duration) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { time.Sleep(d) }))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	a, b := serve(time.Millisecond), serve(5*time.Millisecond)
	t0 := time.Now().Add(500 * time.Millisecond)
	opts := loadtest.DuetOptions{RoundTime: 100 * time.Millisecond, MaxPairs: 4, RoundGap: 600 * time.Millisecond,
		Compare: loadtest.CompareOptions{Percentiles: []float64{50}, Alpha: 0.4, GatedSpecs: 1}}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second) // a hang guard
	defer cancel()
	dir := t.TempDir()
	files := make([]string, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for k := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			plan := func(url string) *loadtest.Plan {
				return loadtest.New(loadtest.Runs(scenario.Run("r", scenario.Get("/")).Repeat(10)), loadtest.BaseURL(url),
					loadtest.Seed(5), loadtest.Concurrency(2), loadtest.Shard(k, 2), loadtest.StartAt(t0, 100*time.Millisecond))
			}
			d, err := loadtest.Duet(ctx, plan, a, b, opts)
			if err != nil {
				errs[k] = err
				return
			}
			files[k] = filepath.Join(dir, fmt.Sprintf("duet-%d.json", k))
			errs[k] = writeFileAtomic(files[k], d.WriteJSON)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	report := filepath.Join(dir, "report.json")
	r, err := loadtest.New(loadtest.Runs(scenario.Run("r", scenario.Get("/"))), loadtest.BaseURL(a)).Execute(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeFileAtomic(report, r.WriteJSON); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(files[1])
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, bytes.Replace(data, []byte(`"b_first": [`), []byte(`"b_first": [true, `), 1), 0o644)
	out := filepath.Join(dir, "merged.json")
	// the verdict the files hold: a regression (exit 1), unless a busy
	// machine blurred the 4 pairs (no verdict: 3)
	var duets []*loadtest.DuetReport
	for _, path := range files {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		d, err := loadtest.ReadDuetJSON(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		duets = append(duets, d)
	}
	m, err := loadtest.MergeDuets(loadtest.MergeOptions{}, duets...)
	if err != nil {
		t.Fatal(err)
	}
	// the same shards with every round's generator saturated by its own
	// work: no verdict, as HaveNoRegressions says
	var saturated []string
	for k, d := range duets {
		for _, r := range append(append([]*loadtest.Report(nil), d.A...), d.B...) {
			r.Generator = &loadtest.Generator{Saturated: true, Cause: loadtest.CauseGenerator, Why: "its own work held the CPU"}
		}
		path := filepath.Join(dir, fmt.Sprintf("saturated-%d.json", k))
		if err := writeFileAtomic(path, d.WriteJSON); err != nil {
			t.Fatal(err)
		}
		saturated = append(saturated, path)
	}
	// the same files rewritten with their keys sorted (as jq -S does)
	var sorted []string
	for k, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var v map[string]any
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		out, err := json.Marshal(v) // a map's keys in order
		if err != nil {
			t.Fatal(err)
		}
		sorted = append(sorted, filepath.Join(dir, fmt.Sprintf("sorted-%d.json", k)))
		if err := os.WriteFile(sorted[k], out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, verdict := 1, "verdict: 1 regression(s)"
	if len(m.Comparison.Regressions()) == 0 {
		code, verdict = 3, "verdict: none"
		t.Logf("no regression shown in 4 pairs (a busy machine):\n%v", m.Comparison)
	}
	for _, tc := range []struct {
		name           string
		args           []string
		code           int
		stdout, stderr string
	}{
		{"merged", []string{"-o", out, files[0], files[1]}, code, "a duet of 2 shards, 4 pairs, judged at 4", ""},
		{"no output file", []string{files[1], files[0]}, code, verdict, ""},
		{"a shard missing", []string{files[0]}, 4, "", "1 of 2 shards' duets missing: 1/2"},
		{"a shard missing, allowed", []string{"--allow-missing", files[1]}, 3, "verdict: none: merge: shards missing from the merge: 1 of 2 shards missing: 0/2", ""},
		{"a shard twice", []string{files[0], files[0]}, 4, "", "shard 0/2 twice"},
		{"a report among duets", []string{files[0], report}, 4, "", files[0] + " is a duet's file and " + report + " a report's"},
		{"a bad duet", []string{files[0], bad}, 4, "", bad + ": duet JSON: 4 rounds of A, 4 of B and 5 pair orders"},
		{"keys sorted", sorted, code, verdict, ""},
		{"generators saturated", saturated, 3, "verdict: none: 4 of 4 pairs had a round whose measurement invalid: the load generator was saturated", ""},
	} {
		var o, e bytes.Buffer
		code := run(context.Background(), append([]string{"merge"}, tc.args...), &o, &e)
		if code != tc.code || !strings.Contains(o.String(), tc.stdout) || !strings.Contains(e.String(), tc.stderr) {
			t.Errorf("%s: exit %d, want %d\nstdout: %s\nstderr: %s", tc.name, code, tc.code, o.String(), e.String())
		}
		if testing.Verbose() {
			t.Logf("%s: exit %d\n%s%s", tc.name, code, o.String(), e.String())
		}
		if tc.name == "merged" {
			if !strings.Contains(o.String(), verdict) || !strings.Contains(o.String(), m.Comparison.String()) {
				t.Errorf("merged: not the comparison and verdict %q:\n%s", verdict, o.String())
			}
			f, err := os.Open(out)
			if err != nil {
				t.Fatal(err)
			}
			back, err := loadtest.ReadDuetJSON(f)
			f.Close()
			if err != nil || back.Comparison == nil || back.Comparison.String() != m.Comparison.String() || len(back.A) != 4 || back.NoVerdict() != "" {
				t.Errorf("the merged duet's file: %v, %v", back, err)
			}
		}
	}
}
