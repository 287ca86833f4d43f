package loadtest

import (
	"strings"
	"testing"
	"time"
)

// TestSessionlessBackToBack: a baseline recorded before sessions were
// kept, by two go test runs of three executions each, beside a new
// process's executions. The executions each run recorded back to back
// are one session, not three: taken for six processes, the six would
// measure the variance between processes by that within one, and call
// the new process's level (13% above the nearer run, as the gate study
// saw between two processes of one build) a regression.
func TestSessionlessBackToBack(t *testing.T) {
	t0 := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	var base []*Report
	for run, us := range [][]float64{{1000, 1005, 995}, {1060, 1065, 1055}} {
		for i, v := range us {
			r := fakeReport(time.Duration(v)*time.Microsecond, 50)
			r.Started = t0.Add(time.Duration(run)*time.Hour + time.Duration(i)*1100*time.Millisecond)
			base = append(base, r)
		}
	}
	if g := sessionGroups(base); len(g) != 2 {
		t.Fatalf("groups %v: want the two runs", g)
	}
	var cur []*Report
	for _, v := range []float64{1200, 1205, 1195} {
		cur = append(cur, sessionReport("new", time.Duration(v)*time.Microsecond))
	}
	c := CompareExecutions(base, cur, CompareOptions{})
	if n := len(c.Regressions()); n != 0 || c.Deltas[0].Sessions != [2]int{2, 1} {
		t.Errorf("two sessionless runs beside a new process: %d regressions, sessions %v; want none, [2 1]:\n%s", n, c.Deltas[0].Sessions, c)
	}
	if !strings.Contains(c.Method(), "2 baseline and 1 new sessions") {
		t.Errorf("method: %s", c.Method())
	}
	// executions without a start time (made by hand) stay one each
	for _, r := range base {
		r.Started = time.Time{}
	}
	if g := sessionGroups(base); len(g) != 6 {
		t.Errorf("groups %v: want one an execution without a start time", g)
	}
}

// TestSessionlessBothSides: reports without sessions on both sides
// (files of before sessions were kept) keep the execution as the unit,
// however close in time they were recorded.
func TestSessionlessBothSides(t *testing.T) {
	t0 := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	var base, cur []*Report
	for i := range 6 {
		r := fakeReport(time.Millisecond, 50)
		r.Started = t0.Add(time.Duration(i) * 1100 * time.Millisecond)
		base = append(base, r)
		c := fakeReport(time.Millisecond, 50)
		c.Started = t0.Add(time.Hour + time.Duration(i)*1100*time.Millisecond)
		cur = append(cur, c)
	}
	if bySession(base, cur) {
		t.Errorf("no session on either side: want the execution as the unit")
	}
}

// TestSessionZeroSpread: two baseline sessions whose means coincide
// (figures are quantized) measure no spread on one degree of freedom;
// that is no variance known, and the interval has no ends, where it
// collapsed to a point and decided either way with p = 0.
func TestSessionZeroSpread(t *testing.T) {
	old := [][]float64{{0, 0.02}, {0.02, 0}}
	for _, shift := range []float64{0.05, 0.15} {
		d := sessionVerdict(old, [][]float64{{shift - 0.01, shift + 0.01}}, 9)
		if d.Verdict != Inconclusive || d.bounded() {
			t.Errorf("shift %.2f beside sessions alike: %s [%+.3f, %+.3f], want inconclusive without bounds", shift, d.Verdict, d.Low, d.High)
		}
	}
}
