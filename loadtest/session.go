package loadtest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/aclements/go-moremath/stats"
)

// MinBaselineSessions is how many sessions (separate processes: go test
// runs, CI jobs) a stored baseline should come from when its executions
// are compared by session: with fewer, the variance between processes
// is known too roughly to bound a change.
const MinBaselineSessions = 5

var session = sync.OnceValue(func() string {
	host, _ := os.Hostname()
	h := sha256.Sum256(fmt.Appendf(nil, "%s\x00%d\x00%d", host, os.Getpid(), time.Now().UnixNano()))
	return hex.EncodeToString(h[:8])
})

// ThisSession returns this process's session id (Report.Session): an
// opaque name, the same for every execution this process measures and
// different in any other process.
func ThisSession() string { return session() }

// SessionCount returns how many sessions (Report.Session) the
// baseline's executions come from; executions without one recorded
// back to back count as one (sessionGroups).
func (b *Baseline) SessionCount() int { return len(sessionGroups(b.Executions)) }

// sessionGap is how far apart in time two executions without a session
// (recorded before sessions were kept) may be and still be taken as one
// process's: a go test run that recorded several executions of a spec
// ran them back to back, seconds apart, while separate runs or CI jobs
// are further apart. Taking two processes for one only costs a degree
// of freedom; taking one process's executions for several processes
// would measure the variance between processes by that within one.
const sessionGap = 30 * time.Second

// sessionGroups returns the indices of rs grouped by Report.Session, in
// the order each session first appears. Executions without a session
// (reports recorded before sessions were kept) that began within
// sessionGap of the end of another are one group, as one process
// records them; one without a start time is a group of its own.
func sessionGroups(rs []*Report) [][]int {
	var out [][]int
	at := map[string]int{}
	var bare []int
	for i, r := range rs {
		if r.Session == "" {
			if r.Started.IsZero() {
				out = append(out, []int{i})
			} else {
				bare = append(bare, i)
			}
			continue
		}
		if g, ok := at[r.Session]; ok {
			out[g] = append(out[g], i)
			continue
		}
		at[r.Session] = len(out)
		out = append(out, []int{i})
	}
	slices.SortStableFunc(bare, func(a, b int) int { return rs[a].Started.Compare(rs[b].Started) })
	var end time.Time
	for _, i := range bare {
		r := rs[i]
		if len(out) == 0 || end.IsZero() || r.Started.Sub(end) > sessionGap {
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], i)
		if e := r.Started.Add(max(r.TotalTime, 0)); e.After(end) {
			end = e
		}
	}
	return out
}

// bySession reports whether a stored comparison of base and cur takes
// the session as its unit: when a side holds several executions of one
// session, except when every execution of both sides comes from one
// session (both builds measured by one process, as a test does: no
// process differs from another there).
func bySession(base, cur []*Report) bool {
	one := base[0].Session != ""
	for _, rs := range [][]*Report{base, cur} {
		for _, r := range rs {
			one = one && r.Session == base[0].Session
		}
	}
	if one {
		return false
	}
	// reports of before sessions were kept alone, on both sides: nothing
	// is known of their processes, and the unit stays the execution, as
	// it was when they were recorded
	known := false
	for _, rs := range [][]*Report{base, cur} {
		for _, r := range rs {
			known = known || r.Session != ""
		}
	}
	if !known {
		return false
	}
	for _, rs := range [][]*Report{base, cur} {
		for _, g := range sessionGroups(rs) {
			if len(g) > 1 {
				return true
			}
		}
	}
	return false
}

// grouped returns the logarithms of the finite positive values of xs,
// grouped as groups says; groups left empty are dropped.
func grouped(xs []float64, groups [][]int) [][]float64 {
	var out [][]float64
	for _, g := range groups {
		var v []float64
		for _, i := range g {
			if x := xs[i]; x > 0 && !math.IsInf(x, 0) {
				v = append(v, math.Log(x))
			}
		}
		if len(v) > 0 {
			out = append(out, v)
		}
	}
	return out
}

// sessionInterval estimates the shift of the new sessions over the old
// ones, each session the mean of its executions' log figures: the
// difference of the sides' means of session means, with a Student t
// interval of one-sided level alpha on each side over the session
// means (pooled variance, K+L-2 degrees of freedom), widened when one
// side's sessions hold fewer executions than the other's by the
// within-session variance that difference leaves unaveraged.
//
// A session's mean varies by the between-process variance plus the
// within-process variance over its executions; the spread of the
// baseline's session means measures both, so the interval is valid
// whatever share lies between processes (as long as log session means
// are roughly normal). A rank interval over sessions would need no
// such assumption but cannot bound anything with the few sessions a
// baseline holds (one candidate session beside K stored ones has a
// smallest p of 1/(K+1)).
func sessionInterval(old, new [][]float64, alpha float64) interval {
	none := interval{Est: math.NaN(), Low: math.Inf(-1), High: math.Inf(1), P: 1, untested: true}
	k, l := len(old), len(new)
	if k == 0 || l == 0 {
		return none
	}
	means := func(groups [][]float64) (ms []float64, h float64) {
		for _, g := range groups {
			s := 0.0
			for _, v := range g {
				s += v
			}
			ms = append(ms, s/float64(len(g)))
			h += 1 / float64(len(g))
		}
		return ms, h / float64(len(groups))
	}
	om, oh := means(old)
	nm, nh := means(new)
	mo, mn := stats.Mean(om), stats.Mean(nm)
	iv := none
	iv.Est = mn - mo
	df := k + l - 2
	if df < 1 {
		return iv
	}
	ss := 0.0
	for _, m := range om {
		ss += (m - mo) * (m - mo)
	}
	for _, m := range nm {
		ss += (m - mn) * (m - mn)
	}
	s2 := ss / float64(df)
	if s2 == 0 {
		// sessions alike to the histogram's precision (µs, 1/1024): no
		// spread measured is no variance known, not none; a zero-width
		// interval on a degree of freedom or two would decide anything
		return iv
	}
	// the within-session variance, pooled over sessions of two or more
	var ws float64
	var wdf int
	for _, g := range append(append([][]float64{}, old...), new...) {
		if len(g) < 2 {
			continue
		}
		m := stats.Mean(g)
		for _, v := range g {
			ws += (v - m) * (v - m)
		}
		wdf += len(g) - 1
	}
	w2 := 0.0
	if wdf > 0 {
		w2 = ws / float64(wdf)
	}
	se2 := s2*(1/float64(k)+1/float64(l)) + w2*(max(0, nh-oh)/float64(l)+max(0, oh-nh)/float64(k))
	se := math.Sqrt(se2)
	t := stats.TDist{V: float64(df)}
	q := stats.InvCDF(t)(1 - alpha)
	iv.Low, iv.High = iv.Est-q*se, iv.Est+q*se
	iv.P = 1 - t.CDF(iv.Est/se)
	return iv
}
