package loadtest

import (
	"bytes"
	"io"
	"testing"
)

// BenchmarkReadJSONShard times ReadJSON of one shard file of a 10-minute
// run (benchShard: 4 steps, every 200 ms window's histograms).
func BenchmarkReadJSONShard(b *testing.B) {
	data, err := benchShard()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ReadJSON(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWriteJSONShard times WriteJSON of the report of one shard
// file of a 10-minute run.
func BenchmarkWriteJSONShard(b *testing.B) {
	data, err := benchShard()
	if err != nil {
		b.Fatal(err)
	}
	r, err := ReadJSON(bytes.NewReader(data))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if err := r.WriteJSON(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
