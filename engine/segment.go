package engine

import "fmt"

// Segment is the part of a plan's work that one shard does when the plan
// runs as Count shards (processes, Ginkgo's parallel processes,
// Kubernetes pods, CI jobs), Index counting from 0. The zero Segment,
// like any with Count 1, is the whole plan. Every executor honours it
// (Executor.Work returns the segment's share, Execute sends it alone),
// and the shares are deterministic: the Count segments of a plan
// together send what the whole plan sends.
type Segment struct {
	Index, Count int
}

// Whole reports whether s is the whole plan (Count 0 or 1).
func (s Segment) Whole() bool { return s.Count <= 1 }

// Owns reports whether item i (a VU, an iteration, a slot, by its
// number in the whole plan) belongs to s: i mod Count = Index.
func (s Segment) Owns(i int) bool { return s.Whole() || i%s.Count == s.Index }

// String returns "k/N" (shard k of N, from 0), or "whole".
func (s Segment) String() string {
	if s.Whole() {
		return "whole"
	}
	return fmt.Sprintf("%d/%d", s.Index, s.Count)
}

// MaxSegments is the largest number of segments a plan may run as: it
// bounds what a shard count read from a file or the environment can
// make a merge allocate (a Kubernetes Indexed Job allows 100,000).
const MaxSegments = 1_000_000

// Check says what is wrong with s (nil when nothing).
func (s Segment) Check() error {
	if s.Count < 0 || s.Index < 0 || (s.Count > 0 && s.Index >= s.Count) || (s.Count == 0 && s.Index != 0) {
		return fmt.Errorf("index %d of count %d: the count must be 1 or more, the index from 0 to count−1", s.Index, s.Count)
	}
	if s.Count > MaxSegments {
		return fmt.Errorf("index %d of count %d: the count must be at most %d (engine.MaxSegments)", s.Index, s.Count, MaxSegments)
	}
	return nil
}

// share returns how many of the items 0 … n−1 s owns: those i with
// i mod Count = Index.
func (s Segment) share(n int) int {
	if s.Whole() {
		return n
	}
	if n <= s.Index {
		return 0
	}
	return (n - s.Index + s.Count - 1) / s.Count
}

// local returns the place of item i (owned by s) among the items s
// owns, counting from 0.
func (s Segment) local(i int) int {
	if s.Whole() {
		return i
	}
	return i / s.Count
}

// global returns the number of the l-th item s owns.
func (s Segment) global(l int) int {
	if s.Whole() {
		return l
	}
	return l*s.Count + s.Index
}

// iterMap maps the iterations of one run that a segment executes,
// numbered 0, 1, … in the segment (their index: what the engine's
// per-iteration state and a recorder's per-iteration records are
// indexed by), to their numbers in the whole plan, which every
// user-visible place shows ({{iteration}}, feeder rows, hooks, the
// request log).
//
// The segment's iterations of the run are blocks of block iterations
// (a virtual user's rounds; 1 for a single iteration); block j (in the
// whole plan's numbering) belongs to the segment when j mod period is
// one of offs. The zero iterMap is the identity (the whole plan).
type iterMap struct {
	block, period int
	offs          []int
}

// whole reports whether m is the identity.
func (m iterMap) whole() bool { return m.period == 0 }

// stripeMap returns the map of a run whose block j (of block
// iterations) is the segment's when item(j) mod seg.Count is
// seg.Index; item must be such that item(j+seg.Count) ≡ item(j) (mod
// seg.Count), as a multiple of j plus a constant is.
func stripeMap(seg Segment, block int, item func(j int) int) iterMap {
	if seg.Whole() {
		return iterMap{}
	}
	m := iterMap{block: max(block, 1), period: seg.Count}
	for j := 0; j < seg.Count; j++ {
		if seg.Owns(item(j)) {
			m.offs = append(m.offs, j)
		}
	}
	return m
}

// blocks returns how many of blocks 0 … n−1 are the segment's.
func (m iterMap) blocks(n int) int {
	if m.whole() {
		return n
	}
	c := n / m.period * len(m.offs)
	for _, o := range m.offs {
		if o < n%m.period {
			c++
		}
	}
	return c
}

// global returns the whole plan's number of the segment's iteration l.
func (m iterMap) global(l int) int {
	if m.whole() {
		return l
	}
	if len(m.offs) == 0 {
		return -1 // the segment has no iteration of the run
	}
	b, r := l/m.block, l%m.block
	j := b/len(m.offs)*m.period + m.offs[b%len(m.offs)]
	return j*m.block + r
}
