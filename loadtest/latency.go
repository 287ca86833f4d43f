package loadtest

import (
	"encoding/json"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strings"
	"time"
)

// Latency is a mergeable latency histogram with HdrHistogram's layout:
// microsecond resolution, 3 significant digits (a recorded value is
// within 0.1% of the true one: values below 2048 µs are exact, above
// that each bucket spans 1/1024 of its value), from 1 µs to one hour.
// Unlike a plain HdrHistogram it is sparse: its first 48 distinct
// counters are kept as a sorted list (a time window of a few dozen
// responses costs under a kilobyte), then counters live in pages of 32
// that are allocated when a value first lands in them, so an empty
// histogram costs a few dozen bytes and a step whose latencies span two
// decades a few kilobytes (an HdrHistogram of that range costs 188 KB
// each). Count, minimum, maximum, mean and standard deviation are exact.
// JSON uses HdrHistogram's V2 compressed encoding, which its tools read.
//
// Its zero value is an empty histogram.
type Latency struct {
	few      []latencyCount // sorted by index, until there are too many
	pages    []*latencyPage // by index >> pageBits; grown on demand
	count    int64
	min, max int64 // µs
	sum      float64
	sumSq    float64
}

type latencyPage [1 << pageBits]int64

// latencyCount is one counter of a small histogram.
type latencyCount struct {
	idx int32
	n   int64
}

const (
	fewMax           = 48 // counters kept as a list before pages
	pageBits         = 5
	subBucketBits    = 11 // 2048 sub-buckets: 3 significant digits
	subBucketHalf    = 1 << (subBucketBits - 1)
	maxLatencyMicros = int64(time.Hour / time.Microsecond)
)

// NewLatency returns an empty histogram.
func NewLatency() *Latency { return &Latency{} }

// latencyIndex is HdrHistogram's counts index of v (lowest unit 1).
func latencyIndex(v int64) int {
	bucket := bits.Len64(uint64(v)|(1<<subBucketBits-1)) - subBucketBits
	sub := int(v >> bucket)
	return (bucket+1)<<(subBucketBits-1) + sub - subBucketHalf
}

// latencyRange returns the values index i stands for: [lo, hi].
func latencyRange(i int) (lo, hi int64) {
	bucket := i>>(subBucketBits-1) - 1
	sub := int64(i&(subBucketHalf-1)) + subBucketHalf
	if bucket < 0 {
		sub -= subBucketHalf
		bucket = 0
	}
	lo = sub << bucket
	return lo, lo + 1<<bucket - 1
}

func (l *Latency) add(idx int, n int64) {
	if l.pages == nil {
		// the first counter of index idx or above (sort.Search, without
		// its closure: Merge adds every counter of every window here)
		i, j := 0, len(l.few)
		for i < j {
			h := int(uint(i+j) >> 1)
			if int(l.few[h].idx) < idx {
				i = h + 1
			} else {
				j = h
			}
		}
		if i < len(l.few) && int(l.few[i].idx) == idx {
			l.few[i].n += n
			return
		}
		if len(l.few) < fewMax {
			l.few = append(l.few, latencyCount{})
			copy(l.few[i+1:], l.few[i:])
			l.few[i] = latencyCount{int32(idx), n}
			return
		}
		// too many: move to pages
		few := l.few
		l.few = nil
		l.pages = make([]*latencyPage, 0, 8)
		for _, c := range few {
			l.addPage(int(c.idx), c.n)
		}
	}
	l.addPage(idx, n)
}

func (l *Latency) addPage(idx int, n int64) {
	pg := idx >> pageBits
	if pg >= len(l.pages) {
		l.pages = append(l.pages, make([]*latencyPage, pg+1-len(l.pages))...)
	}
	p := l.pages[pg]
	if p == nil {
		p = new(latencyPage)
		l.pages[pg] = p
	}
	p[idx&(1<<pageBits-1)] += n
}

// Record adds one observation; values beyond an hour count as an hour.
func (l *Latency) Record(d time.Duration) {
	us := int64(d / time.Microsecond)
	if us < 1 {
		us = 1
	}
	if us > maxLatencyMicros {
		us = maxLatencyMicros
	}
	l.add(latencyIndex(us), 1)
	if l.count == 0 || us < l.min {
		l.min = us
	}
	l.max = max(l.max, us)
	l.count++
	f := float64(us)
	l.sum += f
	l.sumSq += f * f
}

// Merge adds every observation of o.
func (l *Latency) Merge(o *Latency) {
	if o == nil || o.count == 0 {
		return
	}
	l.mergeCounts(o)
	l.sum += o.sum
	l.sumSq += o.sumSq
}

// mergeCounts adds o's counters, count, min and max to l, not its sums
// (floating-point, whose total depends on the order of the additions:
// Merger adds them apart, in the shards' order).
func (l *Latency) mergeCounts(o *Latency) {
	if o == nil || o.count == 0 {
		return
	}
	if l.few == nil && l.pages == nil && o.pages == nil {
		// empty: o's counters as they are (what adding them one by one
		// would make, without the room to grow)
		l.few = slices.Clone(o.few)
	} else {
		o.each(func(idx int, n int64) bool {
			l.add(idx, n)
			return true
		})
	}
	if l.count == 0 || o.min < l.min {
		l.min = o.min
	}
	l.max = max(l.max, o.max)
	l.count += o.count
}

// sums returns the sum and sum of squares that Merge would add of l
// (zeros for an empty or nil histogram, which Merge skips).
func (l *Latency) sums() (sum, sumSq float64) {
	if l == nil || l.count == 0 {
		return 0, 0
	}
	return l.sum, l.sumSq
}

// each calls f for every non-empty counter in index order.
func (l *Latency) each(f func(idx int, n int64) bool) {
	for _, c := range l.few {
		if !f(int(c.idx), c.n) {
			return
		}
	}
	for pg, p := range l.pages {
		if p == nil {
			continue
		}
		for k, n := range p {
			if n != 0 && !f(pg<<pageBits+k, n) {
				return
			}
		}
	}
}

// Count returns the number of observations.
func (l *Latency) Count() int64 { return l.count }

// Percentile returns the latency at or below which p percent (0-100) of
// the observations fall (the top of its bucket, as HdrHistogram
// reports it); 0 when there are none.
func (l *Latency) Percentile(p float64) time.Duration {
	if l.count == 0 {
		return 0
	}
	p = min(max(p, 0), 100)
	want := max(int64(p/100*float64(l.count)+0.5), 1)
	var seen, v int64
	l.each(func(idx int, n int64) bool {
		seen += n
		if seen >= want {
			lo, hi := latencyRange(idx)
			v = hi
			if p == 0 {
				v = lo
			}
			return false
		}
		return true
	})
	v = min(max(v, l.min), l.max)
	return time.Duration(v) * time.Microsecond
}

// CountOver returns how many observations exceed d (to the histogram's
// precision: the observations in d's own bucket count as not over).
func (l *Latency) CountOver(d time.Duration) int64 {
	limit := int64(d / time.Microsecond)
	var n int64
	l.each(func(idx int, c int64) bool {
		if lo, _ := latencyRange(idx); lo > limit {
			n += c
		}
		return true
	})
	return n
}

// Min returns the smallest observation.
func (l *Latency) Min() time.Duration { return time.Duration(l.min) * time.Microsecond }

// Max returns the largest observation.
func (l *Latency) Max() time.Duration { return time.Duration(l.max) * time.Microsecond }

// Mean returns the mean observation.
func (l *Latency) Mean() time.Duration {
	if l.count == 0 {
		return 0
	}
	return time.Duration(l.sum / float64(l.count) * float64(time.Microsecond))
}

// StdDev returns the standard deviation of the observations.
func (l *Latency) StdDev() time.Duration {
	if l.count == 0 {
		return 0
	}
	mean := l.sum / float64(l.count)
	v := l.sumSq/float64(l.count) - mean*mean
	return time.Duration(math.Sqrt(max(v, 0)) * float64(time.Microsecond))
}

// Clone returns an independent copy.
func (l *Latency) Clone() *Latency {
	c := &Latency{}
	c.Merge(l)
	return c
}

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
	lo, hi := float64(l.min), float64(l.max)
	if hi <= lo {
		return fmt.Sprintf("  %10v | %s %d\n", l.Min(), strings.Repeat("#", 40), l.Count())
	}
	counts := make([]int64, rows)
	edges := make([]float64, rows+1)
	for i := range edges {
		edges[i] = lo * math.Pow(hi/lo, float64(i)/float64(rows))
	}
	l.each(func(idx int, n int64) bool {
		from, to := latencyRange(idx)
		v := float64(from+to) / 2
		i := 0
		for i < rows-1 && v >= edges[i+1] {
			i++
		}
		counts[i] += n
		return true
	})
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

// MarshalJSON encodes the histogram in HdrHistogram's V2 compressed
// form (base64), with the exact sum and sum of squares beside it.
func (l *Latency) MarshalJSON() ([]byte, error) {
	enc, err := l.appendHdr(nil)
	if err != nil {
		return nil, err
	}
	if l.count == 0 {
		return json.Marshal(string(enc))
	}
	return json.Marshal(latencyJSON{Hdr: string(enc), Min: l.min, Max: l.max, Sum: l.sum, SumSquares: l.sumSq})
}

type latencyJSON struct {
	Hdr        string  `json:"hdr"`
	Min        int64   `json:"min_us"`
	Max        int64   `json:"max_us"`
	Sum        float64 `json:"sum_us"`
	SumSquares float64 `json:"sum_squares_us"`
}

// UnmarshalJSON decodes what MarshalJSON wrote (or a bare HdrHistogram
// string of benchgate's geometry: 1 µs to an hour, 3 significant
// digits). Another geometry is refused before its counts are read; the
// work and memory are bounded by the text's length (decodeLatency).
func (l *Latency) UnmarshalJSON(b []byte) error {
	var j latencyJSON
	if parseLatencyJSON(b, &j) {
		return l.setJSON(j)
	}
	j = latencyJSON{} // what the parser read before it gave up
	if err := json.Unmarshal(b, &j.Hdr); err != nil {
		if err := json.Unmarshal(b, &j); err != nil {
			return fmt.Errorf("latency histogram: %w", err)
		}
	}
	return l.setJSON(j)
}

// setJSON sets l from what its JSON holds.
func (l *Latency) setJSON(j latencyJSON) error {
	if err := decodeLatency(l, j.Hdr); err != nil {
		*l = Latency{}
		return fmt.Errorf("latency histogram: %w", err)
	}
	if j.Sum > 0 && l.count > 0 && j.Min >= 1 && j.Max >= j.Min && j.Max <= maxLatencyMicros {
		l.min, l.max, l.sum, l.sumSq = j.Min, j.Max, j.Sum, j.SumSquares
	}
	return nil
}

// Phase names a part of a request's time.
type Phase int

// The phases a report keeps histograms of, per step.
const (
	// Response is the whole request: start (connect included) to the
	// last byte of the response.
	Response Phase = iota
	// FirstByte is the start to the first byte of the response
	// (connect, send and wait).
	FirstByte
	// Connect is the time to open the connection (TCP and TLS); zero
	// when a kept-alive connection was reused.
	Connect
	// Corrected is Response measured from the request's intended start
	// (StepReport.Corrected); without a schedule, Response.
	Corrected
	// TLSHandshake is the TLS handshake of a new connection (part of
	// Connect).
	TLSHandshake
)

// String returns "response", "first byte", "connect", "response from
// intended start" or "TLS handshake".
func (p Phase) String() string {
	switch p {
	case FirstByte:
		return "first byte"
	case Connect:
		return "connect"
	case Corrected:
		return "response from intended start"
	case TLSHandshake:
		return "TLS handshake"
	}
	return "response"
}

// PhaseLatency returns the step's histogram of phase p.
func (s *StepReport) PhaseLatency(p Phase) *Latency {
	var l *Latency
	switch p {
	case FirstByte:
		l = s.FirstByte
	case Connect:
		l = s.Connect
	case Corrected:
		l = s.Corrected
		if l == nil {
			l = s.Latency
		}
	case TLSHandshake:
		l = s.TLSHandshake
	default:
		l = s.Latency
	}
	if l == nil {
		return NewLatency()
	}
	return l
}
