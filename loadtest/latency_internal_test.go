package loadtest

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// TestLatencyMatchesHdrHistogram: the sparse histogram answers every
// percentile exactly as an HdrHistogram of the same layout, and its JSON
// round-trips through HdrHistogram's encoding.
func TestLatencyMatchesHdrHistogram(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, spread := range []float64{10, 1e3, 1e6, 3e9} {
		l, h := NewLatency(), hdr.New(1, maxLatencyMicros, 3)
		for i := 0; i < 20000; i++ {
			us := int64(1 + rng.ExpFloat64()*spread)
			us = min(us, maxLatencyMicros)
			l.Record(time.Duration(us) * time.Microsecond)
			h.RecordValue(us)
		}
		for _, p := range []float64{0, 1, 25, 50, 90, 99, 99.9, 99.99, 100} {
			want := time.Duration(min(max(h.ValueAtQuantile(p), l.min), l.max)) * time.Microsecond
			if got := l.Percentile(p); got != want {
				t.Errorf("spread %v p%v: %v, HdrHistogram %v", spread, p, got, want)
			}
		}
		b, err := json.Marshal(l)
		if err != nil {
			t.Fatal(err)
		}
		var back Latency
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		for _, p := range []float64{50, 99, 100} {
			if back.Percentile(p) != l.Percentile(p) || back.Count() != l.Count() || back.Mean() != l.Mean() {
				t.Errorf("JSON round trip changed p%v: %v vs %v", p, back.Percentile(p), l.Percentile(p))
			}
		}
	}
}

// TestLatencyMemory: memory follows what a histogram holds.
func TestLatencyMemory(t *testing.T) {
	l := NewLatency()
	for i := 0; i < 100000; i++ {
		l.Record(time.Duration(800+i%400) * time.Microsecond) // 0.8-1.2 ms
	}
	pages := 0
	for _, p := range l.pages {
		if p != nil {
			pages++
		}
	}
	if bytes := pages * 8 << pageBits; bytes > 12<<10 {
		t.Errorf("a 0.8-1.2 ms step holds %d pages (%d bytes)", pages, bytes)
	}
}

func BenchmarkLatencyRecord(b *testing.B) {
	l := NewLatency()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		l.Record(time.Duration(500+i%5000) * time.Microsecond)
	}
}

// TestSmallLatencyIsAList: a histogram of a few dozen values holds no
// pages, and answers as a paged one does.
func TestSmallLatencyIsAList(t *testing.T) {
	small, big := NewLatency(), NewLatency()
	for i := 0; i < 40; i++ {
		d := time.Duration(1000+i*137) * time.Microsecond
		small.Record(d)
		big.Record(d)
	}
	for i := 0; i < 200; i++ { // push big past the list
		big.Record(time.Duration(5000+i*53) * time.Microsecond)
	}
	if small.pages != nil || len(small.few) != 40 || big.few != nil {
		t.Fatalf("small: %d pages, %d listed; big: %d listed", len(small.pages), len(small.few), len(big.few))
	}
	merged := NewLatency()
	merged.Merge(small)
	for _, p := range []float64{0, 10, 50, 90, 100} {
		if small.Percentile(p) != merged.Percentile(p) {
			t.Errorf("p%v: %v after a merge, %v before", p, merged.Percentile(p), small.Percentile(p))
		}
	}
}
