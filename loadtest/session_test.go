package loadtest

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// A two-level world: each process (session) of the application and
// generator sits at its own level (normal, sd between), and each
// execution in it varies around that (sd within). The gate study
// measured about 10% between two processes of one build on a quiet
// machine, more than between executions of one process.
type sessionWorld struct {
	rng             *rand.Rand
	between, within float64
}

// sessions returns k sessions of n executions' log figures, shifted.
func (w *sessionWorld) sessions(k, n int, shift float64) [][]float64 {
	out := make([][]float64, k)
	for i := range out {
		lv := shift + w.rng.NormFloat64()*w.between
		for range n {
			out[i] = append(out[i], lv+w.rng.NormFloat64()*w.within)
		}
	}
	return out
}

func flat(gs [][]float64) []float64 {
	var out []float64
	for _, g := range gs {
		out = append(out, g...)
	}
	return out
}

// sessionVerdict judges one metric of k by the session interval.
func sessionVerdict(old, new [][]float64, k int) Delta {
	c := &Comparison{Options: CompareOptions{}.withDefaults(), Tests: k, Looks: 1}
	d := Delta{Metric: "p50", Old: 1000}
	strict, iv := c.bounds(func(a float64) interval { return sessionInterval(old, new, a) }, true)
	c.decide(&d, iv, strict, true)
	return d
}

// TestSimulatedSessions: a baseline of 6 sessions of 2 executions and a
// candidate session of 5, 9 metrics, α = 0.05. With processes 5% apart
// (sd) and executions 2%, the execution-level rank interval calls an
// unchanged build "regressed" far more often than α (it takes the
// candidate's five executions of one process for five independent
// draws); the session interval stays within α, still finds +40%, and
// its interval covers the true change at its level.
func TestSimulatedSessions(t *testing.T) {
	const trials, metrics = 3000, 9
	w := &sessionWorld{rng: rand.New(rand.NewPCG(20, 1)), between: 0.05, within: 0.02}
	var execAlarms, sessAlarms, caught, covered, noReg int
	for range trials {
		old, new := w.sessions(6, 2, 0), w.sessions(1, 5, 0)
		if d, _ := storedVerdict(flat(old), flat(new), metrics); d.Verdict == Regressed {
			execAlarms++
		}
		d := sessionVerdict(old, new, metrics)
		if d.Verdict == Regressed {
			sessAlarms++
		}
		if d.Verdict == NoRegression {
			noReg++
		}
		if d.Low <= 0 && d.High >= 0 {
			covered++
		}
		if sessionVerdict(w.sessions(6, 2, 0), w.sessions(1, 5, math.Log(1.4)), metrics).Verdict == Regressed {
			caught++
		}
	}
	rate := func(n int) float64 { return float64(n) / trials }
	t.Logf("unchanged: execution unit %.1f%% regressed, session unit %.2f%% regressed, %.1f%% no regression, interval covers 0 in %.1f%%; +40%%: %.1f%% regressed",
		100*rate(execAlarms), 100*rate(sessAlarms), 100*rate(noReg), 100*rate(covered), 100*rate(caught))
	if rate(execAlarms) < 5*0.05/metrics {
		t.Errorf("the execution-level interval raised %.2f%% false alarms: the world is not the one that shows its flaw", 100*rate(execAlarms))
	}
	// each metric's worse end stands at α/9 (one-sided): one metric's
	// false alarms at most that, with simulation slack
	if rate(sessAlarms) > 0.05/metrics+0.004 {
		t.Errorf("session unit: %.2f%% false \"regressed\", want ≤ %.2f%%", 100*rate(sessAlarms), 100*0.05/metrics)
	}
	if rate(caught) < 0.8 {
		t.Errorf("session unit: +40%% caught in %.1f%%, want ≥ 80%%", 100*rate(caught))
	}
	if rate(covered) < 0.93 {
		t.Errorf("session unit: the interval covered the true change in %.1f%%", 100*rate(covered))
	}
}

// TestSessionIntervalByHand checks the interval against figures worked
// by hand: five stored sessions of one execution, one new one.
func TestSessionIntervalByHand(t *testing.T) {
	old := [][]float64{{0}, {0.1}, {-0.1}, {0.05}, {-0.05}}
	iv := sessionInterval(old, [][]float64{{0.3}}, 0.025)
	// s² = 0.025/4 over 4 df; se = sqrt(s²(1/5+1)) = 0.0866; t(4, .975) = 2.7764
	if math.Abs(iv.Est-0.3) > 1e-12 || math.Abs(iv.Low-(0.3-2.7764*0.0866025)) > 1e-3 || math.Abs(iv.High-(0.3+2.7764*0.0866025)) > 1e-3 {
		t.Errorf("interval %+v, want 0.3 ± 0.2404", iv)
	}
	// t(4, 0.9995) = 8.6103: far in the tail, where a bisection could stray
	iv = sessionInterval(old, [][]float64{{0.3}}, 0.0005)
	if got := (iv.High - iv.Est) / 0.0866025; math.Abs(got-8.6103) > 0.01 {
		t.Errorf("t quantile %.4f, want 8.6103", got)
	}
	// sessions of two executions beside a new session of one: the new
	// mean misses the averaging of its within-session noise, and the
	// interval is widened by it
	two := [][]float64{{0, 0.02}, {0.1, 0.08}, {-0.1, -0.12}, {0.05, 0.07}, {-0.05, -0.03}}
	one := sessionInterval(two, [][]float64{{0.3}}, 0.025)
	pair := sessionInterval(two, [][]float64{{0.29, 0.31}}, 0.025)
	if !(one.High-one.Est > pair.High-pair.Est) {
		t.Errorf("one execution's session %+v is not wider than two's %+v", one, pair)
	}
	// one session a side: no degrees of freedom, no interval
	if iv := sessionInterval([][]float64{{0, 0.1, 0.05}}, [][]float64{{0.3, 0.31}}, 0.025); !math.IsInf(iv.High, 1) || math.IsNaN(iv.Est) {
		t.Errorf("one session a side: %+v, want an estimate without bounds", iv)
	}
}

// TestBySession: which comparisons take the session as their unit.
func TestBySession(t *testing.T) {
	rs := func(sessions ...string) []*Report {
		var out []*Report
		for _, s := range sessions {
			out = append(out, &Report{Session: s})
		}
		return out
	}
	for _, tc := range []struct {
		name      string
		base, cur []*Report
		want      bool
	}{
		{"one process measured both", rs("a", "a", "a"), rs("a", "a"), false},
		{"a session an execution", rs("a", "b", "c"), rs("d"), false},
		{"files without sessions, one new execution", rs("", "", ""), rs("x"), false},
		{"files without sessions, new executions of one process", rs("", "", ""), rs("x", "x"), true},
		{"baseline sessions of several executions", rs("a", "a", "b", "b"), rs("c"), true},
		{"a baseline of one process, a candidate of another", rs("a", "a", "a"), rs("b", "b"), true},
	} {
		if got := bySession(tc.base, tc.cur); got != tc.want {
			t.Errorf("%s: bySession = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// sessionReport is an execution of one step whose responses all took
// d, measured by session s.
func sessionReport(s string, d time.Duration) *Report {
	r := fakeReport(d, 50)
	r.Session = s
	return r
}

// TestCompareBySession: a baseline recorded in one process, compared
// with executions of another, is inconclusive whatever the executions
// show, and says why (no wrong "regressed" from the difference between
// two processes); recorded across sessions it decides, and a file
// keeps each execution's session.
func TestCompareBySession(t *testing.T) {
	var one []*Report
	for i := range 12 {
		one = append(one, sessionReport("rec", 1000*time.Microsecond+time.Duration(i)*time.Microsecond))
	}
	var cur []*Report
	for i := range 5 {
		cur = append(cur, sessionReport("new", 1150*time.Microsecond+time.Duration(i)*time.Microsecond))
	}
	c := CompareExecutions(one, cur, CompareOptions{})
	if n := len(c.Regressions()); n != 0 {
		t.Fatalf("one baseline session: %d regressions, want none (a 15%% step between two processes is no change shown):\n%s", n, c)
	}
	d := c.Inconclusive()
	if len(d) == 0 || !strings.Contains(d[0].Why, "1 session(s)") || d[0].Sessions != [2]int{1, 1} {
		t.Fatalf("one baseline session: want an inconclusive latency that names the sessions:\n%s", c)
	}
	if execs := CompareExecutions(one, withSession(cur, "rec"), CompareOptions{}); len(execs.Regressions()) == 0 {
		t.Fatalf("within one process the same figures are a regression (the test's premise):\n%s", execs)
	}

	// six sessions of two executions, 1000 µs ± 3%
	var six []*Report
	for i := range 6 {
		lv := []float64{0, 0.03, -0.03, 0.02, -0.02, 0.01}[i]
		for j := range 2 {
			us := 1000 * math.Exp(lv+0.005*float64(j))
			six = append(six, sessionReport(string(rune('a'+i)), time.Duration(us)*time.Microsecond))
		}
	}
	slow := withLatency(cur, 1500*time.Microsecond)
	if c := CompareExecutions(six, slow, CompareOptions{}); len(c.Regressions()) == 0 || !strings.Contains(c.Method(), "by session (6 baseline and 1 new") {
		t.Errorf("six sessions, +50%%: want regressed, by session:\n%s", c)
	}
	same := withLatency(cur, 990*time.Microsecond)
	if c := CompareExecutions(six, same, CompareOptions{}); len(c.Regressions()) != 0 {
		t.Errorf("six sessions, -1%%: want no regression:\n%s", c)
	}

	var b Baseline
	for _, r := range six {
		if err := b.Add(r, nil); err != nil {
			t.Fatal(err)
		}
	}
	var buf strings.Builder
	if err := b.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := DecodeBaseline([]byte(buf.String()))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range back.Executions {
		if r.Session != six[i].Session {
			t.Fatalf("execution %d: session %q read back, %q written", i, r.Session, six[i].Session)
		}
	}
}

// fakeReport is an execution of one step whose n responses took about
// d (±0.5%).
func fakeReport(d time.Duration, n int) *Report {
	run := &RunReport{Name: "r", Latency: NewLatency(), Repeat: n}
	s := &StepReport{Number: 1, Name: "GET /x", Latency: NewLatency()}
	for i := range n {
		s.Latency.Record(time.Duration(float64(d) * (1 + 0.005*float64(i%11-5)/5)))
	}
	s.Configured, s.Sent, s.Good = int64(n), int64(n), int64(n)
	s.Statuses = map[int]int64{200: int64(n)}
	run.Latency.Merge(s.Latency)
	run.Steps = []*StepReport{s}
	r := &Report{Version: ReportVersion, TotalTime: time.Second, Runs: []*RunReport{run},
		RequestsConfigured: int64(n), RequestsSent: int64(n), GoodResponses: int64(n), Latency: NewLatency()}
	r.Latency.Merge(run.Latency)
	return r
}

func withSession(rs []*Report, s string) []*Report {
	var out []*Report
	for _, r := range rs {
		c := *r
		c.Session = s
		out = append(out, &c)
	}
	return out
}

func withLatency(rs []*Report, d time.Duration) []*Report {
	var out []*Report
	for _, r := range rs {
		out = append(out, sessionReport(r.Session, d))
	}
	return out
}
