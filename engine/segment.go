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

// Check says what is wrong with s (nil when nothing).
func (s Segment) Check() error {
	if s.Count < 0 || s.Index < 0 || (s.Count > 0 && s.Index >= s.Count) || (s.Count == 0 && s.Index != 0) {
		return fmt.Errorf("index %d of count %d: the count must be 1 or more, the index from 0 to count−1", s.Index, s.Count)
	}
	return nil
}
