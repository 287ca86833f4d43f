package loadtest

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/benchgate/benchgate/engine"
)

// benchShard is one shard's JSON report of a 10-minute run of 4 steps:
// every 200 ms window of every step holds responses (10 each, latencies
// spread over two decades), so its histograms are full. The 100 shards
// differ in their index (and start, by up to a few ms).
var benchShard = sync.OnceValues(func() ([]byte, error) {
	const steps, minutes, perWindow = 4, 10, 10
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	windows := int(minutes * time.Minute / DefaultWindow)
	p := synthPlan(1, steps, []int{windows * perWindow}, 8)
	rec := newRecorder(p, nil)
	rec.start = start
	rng := rand.New(rand.NewPCG(1, 2))
	it := 0
	for w := range windows {
		for range perWindow {
			at := start.Add(time.Duration(w)*DefaultWindow + time.Duration(rng.Int64N(int64(DefaultWindow/2))))
			for s := range steps {
				total := time.Duration(math.Exp(rng.NormFloat64()*0.8+math.Log(5000))) * time.Microsecond
				res := &engine.Result{Run: 0, Iteration: it, Step: s, Start: at, Method: "GET", Status: 200,
					Connect: time.Duration(rng.IntN(500)) * time.Microsecond, Send: 10 * time.Microsecond,
					Wait: total / 2, Total: total, BytesSent: 90, BytesRead: 400, BodyBytes: 250,
					Intended: at.Add(-time.Duration(rng.IntN(300)) * time.Microsecond)}
				rec.Record(it%8, res)
				at = at.Add(total)
			}
			it++
		}
	}
	r := rec.report()
	r.Seed = 1
	r.Shard = newManifest(engine.Segment{Index: 0, Count: 100}, "benchplan", r, time.Time{})
	var buf bytes.Buffer
	err := r.WriteJSON(&buf)
	return buf.Bytes(), err
})

// writeBenchShards writes the 100 shard files into dir.
func writeBenchShards(tb testing.TB, dir string) []string {
	data, err := benchShard()
	if err != nil {
		tb.Fatal(err)
	}
	// the shard's index in its manifest
	at := bytes.Index(data, []byte(`"shard": {`))
	idx := bytes.Index(data[max(at, 0):], []byte(`"index": 0,`))
	if at < 0 || idx < 0 {
		tb.Fatal("no shard index found in the report's JSON")
	}
	idx += at
	// and its execution's id: each file is an execution of its own
	ex := bytes.Index(data, []byte(`"execution": "`))
	if ex < 0 || ex < idx {
		tb.Fatal("no execution id found after the shard index in the report's JSON")
	}
	ex += len(`"execution": "`)
	var paths []string
	for k := range 100 {
		d := slices.Concat(data[:idx], fmt.Appendf(nil, `"index": %d,`, k), data[idx+len(`"index": 0,`):ex],
			fmt.Appendf(nil, "%032x", k), data[ex+32:])
		path := filepath.Join(dir, fmt.Sprintf("shard-%03d.json", k))
		if err := os.WriteFile(path, d, 0o644); err != nil {
			tb.Fatal(err)
		}
		paths = append(paths, path)
	}
	return paths
}

// readFile reads one shard file.
func readFile(path string) (*Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := ReadJSON(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// readAndMerge reads the shard files and merges them.
func readAndMerge(paths []string) (*Report, error) {
	reports := make([]*Report, 0, len(paths))
	for _, path := range paths {
		r, err := readFile(path)
		if err != nil {
			return nil, err
		}
		reports = append(reports, r)
	}
	return MergeWith(MergeOptions{Names: paths}, reports...)
}

// readAndAdd reads the shard files one at a time and adds each to a
// Merger, as benchgate merge does: one report is held at a time.
func readAndAdd(paths []string) (*Report, error) {
	m := NewMerger(MergeOptions{})
	for _, path := range paths {
		r, err := readFile(path)
		if err != nil {
			return nil, err
		}
		if err := m.AddNamed(path, r); err != nil {
			return nil, err
		}
	}
	return m.Report()
}

// benchShardsDir is where the benchmarks write their 100 shard files:
// $BENCHGATE_MERGE_SHARDS_DIR, kept (to measure benchgate merge on
// them), or a temporary directory.
func benchShardsDir(b *testing.B) string {
	if dir := os.Getenv("BENCHGATE_MERGE_SHARDS_DIR"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		return dir
	}
	return b.TempDir()
}

// BenchmarkMerge100Shards times ReadJSON and MergeWith of the 100 shard
// files of a 10-minute run (4 steps, 200 ms windows, full histograms),
// every report read before the merge.
func BenchmarkMerge100Shards(b *testing.B) { benchMerge100(b, readAndMerge) }

// BenchmarkMerge100ShardsOneAtATime times the same files read and added
// to a Merger one at a time (benchgate merge): one report is held at a
// time.
func BenchmarkMerge100ShardsOneAtATime(b *testing.B) { benchMerge100(b, readAndAdd) }

func benchMerge100(b *testing.B, merge func([]string) (*Report, error)) {
	paths := writeBenchShards(b, benchShardsDir(b))
	st, err := os.Stat(paths[0])
	if err != nil {
		b.Fatal(err)
	}
	var m *Report
	for b.Loop() {
		if m, err = merge(paths); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(st.Size())/10/1024, "KiB/shard-minute")
	// 100 times one shard's counts, and a report that passes the check
	f, err := os.Open(paths[7])
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	r, err := ReadJSON(f)
	if err != nil {
		b.Fatal(err)
	}
	if m.RequestsSent != 100*r.RequestsSent || m.Latency.Count() != 100*r.Latency.Count() || len(m.Shards) != 100 ||
		len(m.Runs[0].Steps[3].Windows) != len(r.Runs[0].Steps[3].Windows) {
		b.Errorf("merged %d sent, %d latencies, %d shards; one shard %d, %d", m.RequestsSent, m.Latency.Count(), len(m.Shards), r.RequestsSent, r.Latency.Count())
	}
	if err := m.validate(); err != nil {
		b.Error(err)
	}
}

// BenchmarkMerge100ShardsInMemory times Merge alone of 100 shard reports
// of a 10-minute run already read (BenchmarkMerge100Shards less the
// reading): 100 copies of one shard's report under 100 manifests.
func BenchmarkMerge100ShardsInMemory(b *testing.B) {
	data, err := benchShard()
	if err != nil {
		b.Fatal(err)
	}
	one, err := ReadJSON(bytes.NewReader(data))
	if err != nil {
		b.Fatal(err)
	}
	reports := make([]*Report, 100)
	for k := range reports {
		r := *one
		m := *one.Shard
		m.Index, m.Execution = k, fmt.Sprint(k)
		r.Shard = &m
		reports[k] = &r
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := Merge(reports...); err != nil {
			b.Fatal(err)
		}
	}
}
