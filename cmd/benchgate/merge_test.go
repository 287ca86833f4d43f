package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
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

func TestMerge(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	// the shards of one execution run side by side from one T0; two
	// more ("apart") one after the other, given none
	shards := make([]string, 3)
	reports := make([]*loadtest.Report, 3)
	errs := make([]error, 3)
	t0 := time.Now().Add(300 * time.Millisecond)
	var wg sync.WaitGroup
	plan := func(k, n int, opts ...loadtest.Option) *loadtest.Plan {
		return loadtest.New(append([]loadtest.Option{loadtest.BaseURL(srv.URL), loadtest.Seed(3), loadtest.Concurrency(n), loadtest.Shard(k, n),
			loadtest.Runs(scenario.Run("home", scenario.Get("/"), scenario.Get("/about")).Repeat(15))}, opts...)...)
	}
	for k := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reports[k], errs[k] = plan(k, 3, loadtest.StartAt(t0, 0)).Execute(context.Background())
		}()
	}
	wg.Wait()
	var apart []string
	for k := range 2 {
		r, err := plan(k, 2).Execute(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond) // the next begins after this one ended
		reports, errs = append(reports, r), append(errs, nil)
	}
	var sent int64
	for k, r := range reports {
		if errs[k] != nil {
			t.Fatal(errs[k])
		}
		path := filepath.Join(dir, fmt.Sprintf("shard-%d.json", k))
		if k >= 3 {
			path = filepath.Join(dir, fmt.Sprintf("apart-%d.json", k-3))
			apart = append(apart, path)
		} else {
			sent += r.RequestsSent
			shards[k] = path
		}
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.WriteJSON(f); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	garbage := filepath.Join(dir, "garbage.json")
	os.WriteFile(garbage, []byte(`{"version": 2, "runs": [`), 0o644)
	out := filepath.Join(dir, "merged.json")
	link := filepath.Join(dir, "link.json")
	if err := os.Symlink(shards[1], link); err != nil {
		t.Fatal(err)
	}
	before := map[string][]byte{}
	for _, s := range shards {
		before[s], _ = os.ReadFile(s)
	}

	for _, tc := range []struct {
		name       string
		args       []string
		code       int
		stdout     string
		stderr     string
		wantOutput bool
	}{
		{"merged", append([]string{"-o", out, "--summary"}, shards...), 0, fmt.Sprintf("3 shards, %d requests sent", sent), "", true},
		{"a shard missing", append([]string{"-o", out}, shards[0], shards[2]), 4, "", "1 of 3 shards missing: 1/3", false},
		{"a shard missing, allowed", append([]string{"-o", out, "--allow-missing"}, shards[0], shards[2]), 1, "1 shards missing: [1]", "1 of 3 shards missing: 1/3", true},
		{"shards run apart without T0", append([]string{"-o", out}, apart...), 4, "", "the shards did not run at the same time", false},
		{"shards run apart, allowed", append([]string{"-o", out, "--allow-apart"}, apart...), 0, "2 shards", "when shard 0/2 had ended", true},
		{"a shard twice", append([]string{"-o", out}, shards[0], shards[1], shards[2], shards[1]), 4, "", "shard 1/3 twice: " + shards[1] + " and " + shards[1], false},
		{"not a report", append([]string{"-o", out, garbage}, shards...), 4, "", garbage, false},
		{"no such file", append([]string{"-o", out, filepath.Join(dir, "nope.json")}, shards...), 2, "", "nope.json", false},
		{"not a shard", []string{"-o", filepath.Join(dir, "again.json"), out}, 4, "", out + " has no shard manifest", false},
		{"no output", shards, 2, "", "usage: benchgate merge", false},
		{"output is an input", append([]string{"-o", shards[0]}, shards...), 2, "", "-o " + shards[0] + " is the input " + shards[0], false},
		{"output is an input by another path", append([]string{"-o", dir + "/../" + filepath.Base(dir) + "/./shard-2.json"}, shards...), 2, "", "is the input " + shards[2], false},
		{"output is a link to an input", append([]string{"-o", link}, shards...), 2, "", "-o " + link + " is the input " + shards[1], false},
		{"a directory first", append([]string{"-o", out, dir}, shards...), 2, "", dir + " is a directory", false},
		{"a directory among the shards", append(append([]string{"-o", out}, shards...), dir), 2, "", dir + " is a directory", false},
	} {
		os.Remove(out)
		if tc.name == "not a shard" {
			// a merged report given back to merge
			if code := run(context.Background(), append([]string{"merge", "-o", out}, shards...), io.Discard, io.Discard); code != 0 {
				t.Fatalf("merge: exit %d", code)
			}
		}
		var o, e bytes.Buffer
		code := run(context.Background(), append([]string{"merge"}, tc.args...), &o, &e)
		if code != tc.code || !strings.Contains(o.String(), tc.stdout) || !strings.Contains(e.String(), tc.stderr) {
			t.Errorf("%s: exit %d, want %d\nstdout: %s\nstderr: %s", tc.name, code, tc.code, o.String(), e.String())
		}
		if _, err := os.Stat(out); (err == nil) != (tc.wantOutput || tc.name == "not a shard") {
			t.Errorf("%s: output written: %v", tc.name, err == nil)
		}
		for _, s := range shards {
			if b, _ := os.ReadFile(s); !bytes.Equal(b, before[s]) {
				t.Fatalf("%s: the input %s was overwritten", tc.name, s)
			}
		}
		if tc.name == "merged" {
			if !strings.Contains(o.String(), "merged from 3 shards of plan") {
				t.Errorf("summary without its shards:\n%s", o.String())
			}
			m, err := readReport(out)
			if err != nil {
				t.Fatal(err)
			}
			if m.RequestsSent != sent || len(m.Shards) != 3 || m.Shard != nil {
				t.Errorf("merged file: %d sent (want %d), %d shards", m.RequestsSent, sent, len(m.Shards))
			}
			// and benchgate report takes it
			if code := run(context.Background(), []string{"report", "-o", filepath.Join(dir, "m.html"), out}, io.Discard, io.Discard); code != 0 {
				t.Errorf("report of the merged file: exit %d", code)
			}
		}
		if tc.name == "a shard missing, allowed" {
			m, err := readReport(out)
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Shards) != 2 || len(m.MissingShards) != 1 || m.MissingShards[0] != 1 || !errors.Is(m.Err, loadtest.ErrMissingShards) {
				t.Errorf("partial merge's file: shards %d, missing %v, error %v", len(m.Shards), m.MissingShards, m.Err)
			}
		}
	}
}

// TestMergeFilesAnyOrder: benchgate merge, which reads and adds the
// files one at a time, writes one merged file whatever the order of the
// files, and names a refused file as soon as it reads it.
func TestMergeFilesAnyOrder(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	const n = 4
	t0 := time.Now().Add(300 * time.Millisecond)
	paths := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for k := range n {
		paths[k] = filepath.Join(dir, fmt.Sprintf("shard-%d.json", k))
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := loadtest.New(loadtest.BaseURL(srv.URL), loadtest.Seed(5), loadtest.Concurrency(n), loadtest.Shard(k, n), loadtest.StartAt(t0, 0),
				loadtest.Runs(scenario.Run("home", scenario.Get("/"), scenario.Get("/about")).Repeat(40))).Execute(context.Background())
			if err == nil {
				err = writeFileAtomic(paths[k], r.WriteJSON)
			}
			errs[k] = err
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	merge := func(out string, files ...string) (int, string) {
		var e bytes.Buffer
		code := run(context.Background(), append([]string{"merge", "-o", out}, files...), io.Discard, &e)
		return code, e.String()
	}
	var first []byte
	for i, order := range [][]int{{0, 1, 2, 3}, {3, 2, 1, 0}, {2, 0, 3, 1}} {
		var files []string
		for _, k := range order {
			files = append(files, paths[k])
		}
		out := filepath.Join(dir, fmt.Sprintf("merged-%d.json", i))
		if code, stderr := merge(out, files...); code != 0 {
			t.Fatalf("order %v: exit %d: %s", order, code, stderr)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = b
		} else if !bytes.Equal(b, first) {
			t.Errorf("order %v: the merged file differs from the one in shard order", order)
		}
	}
	// a duplicate is refused when it is read, before a file that does
	// not exist after it
	code, stderr := merge(filepath.Join(dir, "m.json"), paths[0], paths[1], paths[1], filepath.Join(dir, "nope.json"))
	if code != 4 || !strings.Contains(stderr, "shard 1/4 twice: "+paths[1]+" and "+paths[1]) {
		t.Errorf("a shard twice: exit %d: %s", code, stderr)
	}
}

// benchgate merge given duets' files refuses an output that is one of
// them (by another path, or a link to it) and a directory among them,
// exit 2 naming the file, before it reads them.
func TestMergeDuetRefusesItsInputs(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	d0, d1 := filepath.Join(dir, "duet-0.json"), filepath.Join(dir, "duet-1.json")
	for _, p := range []string{d0, d1} {
		if err := os.WriteFile(p, []byte(`{"duet_version": 1}`), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := filepath.Join(dir, "link.json")
	if err := os.Symlink(d1, link); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		args   []string
		stderr string
	}{
		{"output is an input", []string{"-o", d0, d0, d1}, "-o " + d0 + " is the input " + d0},
		{"output is ./an input", []string{"-o", "./duet-1.json", d0, d1}, "-o ./duet-1.json is the input " + d1},
		{"output is a link to an input", []string{"-o", link, d0, d1}, "-o " + link + " is the input " + d1},
		{"a directory among the duets", []string{d0, dir}, dir + " is a directory"},
	} {
		var e bytes.Buffer
		if code := run(context.Background(), append([]string{"merge"}, tc.args...), io.Discard, &e); code != 2 || !strings.Contains(e.String(), tc.stderr) {
			t.Errorf("%s: exit %d, want 2 and %q\nstderr: %s", tc.name, code, tc.stderr, e.String())
		}
		for _, p := range []string{d0, d1} {
			if b, _ := os.ReadFile(p); string(b) != `{"duet_version": 1}` {
				t.Fatalf("%s: %s overwritten", tc.name, p)
			}
		}
	}
}
