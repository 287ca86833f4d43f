package loadtest

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Latency is a mergeable latency histogram (HdrHistogram, microsecond
// resolution, 3 significant digits, up to one hour). Its zero value is
// not usable; reports build them.
type Latency struct {
	h *hdr.Histogram
}

const maxLatencyMicros = int64(time.Hour / time.Microsecond)

// NewLatency returns an empty histogram.
func NewLatency() *Latency { return &Latency{h: hdr.New(1, maxLatencyMicros, 3)} }

// Record adds one observation; values beyond an hour count as an hour.
func (l *Latency) Record(d time.Duration) {
	us := int64(d / time.Microsecond)
	if us < 1 {
		us = 1
	}
	if us > maxLatencyMicros {
		us = maxLatencyMicros
	}
	_ = l.h.RecordValue(us)
}

// Merge adds every observation of o.
func (l *Latency) Merge(o *Latency) {
	if o != nil && o.h != nil {
		l.h.Merge(o.h)
	}
}

// Count returns the number of observations.
func (l *Latency) Count() int64 { return l.h.TotalCount() }

// Percentile returns the latency at or below which p percent (0-100) of
// the observations fall; 0 when there are none.
func (l *Latency) Percentile(p float64) time.Duration {
	if l.h.TotalCount() == 0 {
		return 0
	}
	return time.Duration(l.h.ValueAtPercentile(p)) * time.Microsecond
}

// Min returns the smallest observation.
func (l *Latency) Min() time.Duration { return time.Duration(l.h.Min()) * time.Microsecond }

// Max returns the largest observation.
func (l *Latency) Max() time.Duration { return time.Duration(l.h.Max()) * time.Microsecond }

// Mean returns the mean observation.
func (l *Latency) Mean() time.Duration {
	return time.Duration(l.h.Mean() * float64(time.Microsecond))
}

// StdDev returns the standard deviation of the observations.
func (l *Latency) StdDev() time.Duration {
	return time.Duration(l.h.StdDev() * float64(time.Microsecond))
}

// Clone returns an independent copy.
func (l *Latency) Clone() *Latency { return &Latency{h: l.h.Clone()} }

// StandardPercentiles are the ones tables show.
var StandardPercentiles = []float64{50, 66, 75, 80, 90, 95, 98, 99, 99.9, 100}

// Table returns a percentile table, one "  p%  value" line each.
func (l *Latency) Table() string {
	var b strings.Builder
	for _, p := range StandardPercentiles {
		fmt.Fprintf(&b, "  %6s%%  %v\n", trimFloat(p), l.Percentile(p).Round(time.Microsecond))
	}
	return b.String()
}

// Histogram returns a short text histogram of the distribution in at
// most rows rows, on a logarithmic latency scale.
func (l *Latency) Histogram(rows int) string {
	if l.Count() == 0 || rows < 1 {
		return "  (no observations)\n"
	}
	lo, hi := float64(l.h.Min()), float64(l.h.Max())
	if hi <= lo {
		return fmt.Sprintf("  %10v | %s %d\n", l.Min(), strings.Repeat("#", 40), l.Count())
	}
	counts := make([]int64, rows)
	edges := make([]float64, rows+1)
	for i := range edges {
		edges[i] = lo * math.Pow(hi/lo, float64(i)/float64(rows))
	}
	for _, bar := range l.h.Distribution() {
		if bar.Count == 0 {
			continue
		}
		v := float64(bar.From+bar.To) / 2
		i := 0
		for i < rows-1 && v >= edges[i+1] {
			i++
		}
		counts[i] += bar.Count
	}
	var most int64
	for _, c := range counts {
		most = max(most, c)
	}
	var b strings.Builder
	for i, c := range counts {
		n := int(40 * c / most)
		if c > 0 && n == 0 {
			n = 1
		}
		upTo := time.Duration(edges[i+1]) * time.Microsecond
		fmt.Fprintf(&b, "  <=%10v | %-40s %d\n", upTo.Round(time.Microsecond), strings.Repeat("#", n), c)
	}
	return b.String()
}

func trimFloat(f float64) string {
	s := fmt.Sprintf("%.3f", f)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s
}

// MarshalJSON encodes the histogram in HdrHistogram's compressed form.
func (l *Latency) MarshalJSON() ([]byte, error) {
	enc, err := l.h.Encode(hdr.V2CompressedEncodingCookieBase)
	if err != nil {
		return nil, err
	}
	return json.Marshal(string(enc))
}

// UnmarshalJSON decodes what MarshalJSON wrote.
func (l *Latency) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("latency histogram: %w", err)
	}
	h, err := hdr.Decode([]byte(s))
	if err != nil {
		return fmt.Errorf("latency histogram: %w", err)
	}
	l.h = h
	return nil
}
