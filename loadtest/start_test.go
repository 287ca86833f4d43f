package loadtest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/benchgate/benchgate/scenario"
)

// TestShardFromEnv: the shard contract read from the environment and
// the test binary's Ginkgo flags, in its order of precedence, and a
// clear error naming the variable and value for each bad one.
func TestShardFromEnv(t *testing.T) {
	t0 := "2026-12-07T04:30:00.250Z"
	for _, c := range []struct {
		name       string
		env        map[string]string
		args       []string
		ok         bool
		index, cnt int
		t0, out    string
		err        string
	}{
		{name: "nothing", ok: false},
		{name: "benchgate", env: map[string]string{"BENCHGATE_SHARD": "2", "BENCHGATE_SHARDS": "4", "BENCHGATE_T0": t0, "BENCHGATE_OUT": "s2.json"}, ok: true, index: 2, cnt: 4, t0: t0, out: "s2.json"},
		{name: "benchgate over the Job", env: map[string]string{"BENCHGATE_SHARD": "1", "BENCHGATE_SHARDS": "3", "JOB_COMPLETION_INDEX": "2"}, ok: true, index: 1, cnt: 3},
		{name: "kubernetes", env: map[string]string{"JOB_COMPLETION_INDEX": "3", "BENCHGATE_SHARDS": "5"}, ok: true, index: 3, cnt: 5},
		{name: "ginkgo", args: []string{"x.test", "--ginkgo.parallel.process=2", "--ginkgo.parallel.total=4"}, ok: true, index: 1, cnt: 4},
		{name: "ginkgo, separate values", args: []string{"x.test", "-ginkgo.parallel.process", "1", "-ginkgo.parallel.total", "1"}, ok: true, index: 0, cnt: 1},
		{name: "bad shard", env: map[string]string{"BENCHGATE_SHARD": "x", "BENCHGATE_SHARDS": "4"}, err: `BENCHGATE_SHARD="x"`},
		{name: "negative shard", env: map[string]string{"BENCHGATE_SHARD": "-1", "BENCHGATE_SHARDS": "4"}, err: `BENCHGATE_SHARD="-1": want a whole number from 0`},
		{name: "no count", env: map[string]string{"BENCHGATE_SHARD": "1"}, err: `BENCHGATE_SHARD="1" without BENCHGATE_SHARDS`},
		{name: "zero count", env: map[string]string{"BENCHGATE_SHARD": "0", "BENCHGATE_SHARDS": "0"}, err: `BENCHGATE_SHARDS="0": want a whole number from 1`},
		{name: "shard beyond count", env: map[string]string{"BENCHGATE_SHARD": "4", "BENCHGATE_SHARDS": "4"}, err: "shard 4 of 4"},
		{name: "job without count", env: map[string]string{"JOB_COMPLETION_INDEX": "1"}, err: `JOB_COMPLETION_INDEX="1" without BENCHGATE_SHARDS`},
		{name: "count alone", env: map[string]string{"BENCHGATE_SHARDS": "3"}, err: `BENCHGATE_SHARDS="3" without BENCHGATE_SHARD`},
		{name: "bad T0", env: map[string]string{"BENCHGATE_SHARD": "0", "BENCHGATE_SHARDS": "2", "BENCHGATE_T0": "tomorrow"}, err: `BENCHGATE_T0="tomorrow"`},
		{name: "T0 alone: the whole plan at T0", env: map[string]string{"BENCHGATE_T0": "2026-01-02T03:04:05.5Z"}, ok: true, index: 0, cnt: 1},
		{name: "bad T0 alone", env: map[string]string{"BENCHGATE_T0": "soon"}, err: `BENCHGATE_T0="soon"`},
		{name: "too many shards", env: map[string]string{"BENCHGATE_SHARD": "0", "BENCHGATE_SHARDS": "1000001"}, err: "1000001 shards: at most 1000000"},
		{name: "ginkgo process 0", args: []string{"x.test", "--ginkgo.parallel.process=0", "--ginkgo.parallel.total=2"}, err: `--ginkgo.parallel.process="0"`},
	} {
		env := func(k string) (string, bool) { v, ok := c.env[k]; return v, ok }
		got, ok, err := shardFrom(env, c.args)
		switch {
		case c.err != "":
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: error %v, want it to say %s", c.name, err, c.err)
			}
		case err != nil || ok != c.ok:
			t.Errorf("%s: ok %v, error %v; want ok %v", c.name, ok, err, c.ok)
		case ok && (got.Index != c.index || got.Count != c.cnt || got.Out != c.out):
			t.Errorf("%s: %+v, want shard %d of %d, out %q", c.name, got, c.index, c.cnt, c.out)
		case c.t0 != "" && !got.T0.Equal(mustTime(t, c.t0)):
			t.Errorf("%s: T0 %v, want %s", c.name, got.T0, c.t0)
		}
	}
}

// TestShardEnvOption: ShardEnv applies the environment's shard and T0
// to the plan, and a bad value makes the plan invalid, naming it.
func TestShardEnvOption(t *testing.T) {
	t.Setenv("BENCHGATE_SHARD", "1")
	t.Setenv("BENCHGATE_SHARDS", "3")
	t0 := time.Now().Add(time.Hour).UTC()
	t.Setenv("BENCHGATE_T0", t0.Format(time.RFC3339Nano))
	p := New(ShardEnv())
	if p.cfg.Segment.Index != 1 || p.cfg.Segment.Count != 3 || !p.startAt.Equal(t0) || p.startReady != DefaultReady {
		t.Errorf("ShardEnv: segment %v, T0 %v, ready %v; want 1/3, %v, %v", p.cfg.Segment, p.startAt, p.startReady, t0, DefaultReady)
	}
	t.Setenv("BENCHGATE_SHARDS", "three")
	_, err := New(ShardEnv(), Seed(1)).compileErr()
	if err == nil || !strings.Contains(err.Error(), "ShardEnv") || !strings.Contains(err.Error(), `BENCHGATE_SHARDS="three"`) {
		t.Errorf("bad BENCHGATE_SHARDS: error %v, want it named", err)
	}
}

func (p *Plan) compileErr() (any, error) {
	_, _, err := p.compile()
	return nil, err
}

func mustTime(t *testing.T, s string) time.Time {
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// TestShardEnvWritesOut: a shard made by the environment writes its
// report to BENCHGATE_OUT, also when its execution failed (the merge
// then names it), and says so when it cannot.
func TestShardEnvWritesOut(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	dir := t.TempDir()
	t.Setenv("BENCHGATE_SHARDS", "2")
	plan := func() *Plan {
		return New(Runs(scenario.Run("r", scenario.Get(srv.URL)).Repeat(10)), Seed(4), Concurrency(2), ShardEnv())
	}
	var written []*Report
	for k, ctx := range []context.Context{context.Background(), canceled()} {
		out := filepath.Join(dir, fmt.Sprintf("s%d.json", k))
		t.Setenv("BENCHGATE_SHARD", strconv.Itoa(k))
		t.Setenv("BENCHGATE_OUT", out)
		report, err := plan().Execute(ctx)
		if (k == 1) != (err != nil) || !report.ShardOnly() {
			t.Fatalf("shard %d: %v, shard only %v", k, err, report.ShardOnly())
		}
		f, err := os.Open(out)
		if err != nil {
			t.Fatalf("shard %d wrote no report: %v", k, err)
		}
		back, err := ReadJSON(f)
		f.Close()
		if err != nil || back.RequestsSent != report.RequestsSent || back.Shard.Index != k || (k == 1) != (back.Err != nil) {
			t.Fatalf("shard %d's file: %v, sent %d of %d", k, err, back.RequestsSent, report.RequestsSent)
		}
		written = append(written, back)
	}
	if _, err := MergeWith(MergeOptions{Names: []string{"s0.json", "s1.json"}}, written...); err == nil || !strings.Contains(err.Error(), "s1.json carries an error") {
		t.Errorf("the failed shard's file merged: %v", err)
	}
	t.Setenv("BENCHGATE_OUT", filepath.Join(dir, "no-such-dir", "s.json"))
	if _, err := plan().Execute(context.Background()); err == nil || !strings.Contains(err.Error(), "BENCHGATE_OUT") {
		t.Errorf("an output that cannot be written: %v", err)
	}
	// a shard of several whose report would go nowhere sends nothing
	os.Unsetenv("BENCHGATE_OUT")
	report, err := plan().Execute(context.Background())
	if err == nil || !strings.Contains(err.Error(), "no BENCHGATE_OUT: the shard's report would reach no merge") || report.RequestsSent != 0 || !report.DidNotRun() {
		t.Errorf("a shard without BENCHGATE_OUT: %v, sent %d", err, report.RequestsSent)
	}
	// the whole plan (one shard) needs none
	t.Setenv("BENCHGATE_SHARD", "0")
	t.Setenv("BENCHGATE_SHARDS", "1")
	if _, err := plan().Execute(context.Background()); err != nil {
		t.Errorf("shard 0 of 1 without BENCHGATE_OUT: %v", err)
	}
}

// TestShardEnvDuetWritesOut: a duet whose plan is made a shard by the
// environment writes the shard's duet to BENCHGATE_OUT, not each
// round's report.
func TestShardEnvDuetWritesOut(t *testing.T) {
	a := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer a.Close()
	b := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer b.Close()
	out := filepath.Join(t.TempDir(), "duet-0.json")
	t.Setenv("BENCHGATE_SHARD", "0")
	t.Setenv("BENCHGATE_SHARDS", "2")
	t.Setenv("BENCHGATE_T0", time.Now().Add(300*time.Millisecond).Format(time.RFC3339Nano))
	t.Setenv("BENCHGATE_OUT", out)
	plan := func(url string) *Plan {
		return New(Runs(scenario.Run("r", scenario.Get(url)).Repeat(4)), Seed(4), Concurrency(2), ShardEnv())
	}
	d, err := Duet(context.Background(), plan, a.URL, b.URL, DuetOptions{RoundTime: 50 * time.Millisecond, RoundGap: 600 * time.Millisecond, MaxPairs: 7, Compare: CompareOptions{Percentiles: []float64{50}}})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	back, err := ReadDuetJSON(f)
	if err != nil || len(back.A) != 7 || len(back.B) != 7 || back.A[0].Shard.String() != "0/2" || back.Seed != d.Seed {
		t.Fatalf("BENCHGATE_OUT holds %v (%v): want the shard's duet of 7 pairs", back, err)
	}
}

func canceled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}
