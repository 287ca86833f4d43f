package loadtest

import (
	"testing"
	"time"

	"github.com/benchgate/benchgate/engine"
	"github.com/benchgate/benchgate/scenario"
)

// BenchmarkRecord measures what the recorder adds to each request at
// keep level 1.
func BenchmarkRecord(b *testing.B) {
	run := scenario.Run("r", scenario.Get("http://h/")).Repeat(b.N)
	spec, err := run.Resolve(0, scenario.Defaults{Repeat: 1, KeepLevel: 1})
	if err != nil {
		b.Fatal(err)
	}
	rec := newRecorder(&engine.Plan{Runs: []scenario.RunSpec{spec}, Concurrency: 1}, nil)
	res := &engine.Result{Start: time.Now(), Total: 300 * time.Microsecond, Status: 200, Method: "GET", BytesRead: 700}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res.Iteration = i
		rec.Record(0, res)
	}
}
