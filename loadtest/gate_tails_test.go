package loadtest

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// tailRound is a synthetic round of one run: per step, n responses of
// which 97% answer in about body µs and 3% in about tail µs, all scaled
// by the machine's state m; iterations per second ips.
func tailRound(rng *rand.Rand, n int, body, tail []float64, m, ips float64, open bool) *Report {
	run := &RunReport{Name: "flow", Latency: NewLatency()}
	for k := range body {
		s := &StepReport{Number: k + 1, Name: []string{"GET /a", "POST /b", "GET /c", "GET /d"}[k], Latency: NewLatency()}
		for i := range n {
			v := body[k]
			if i%100 >= 97 {
				v = tail[k]
			}
			v *= m * math.Exp(rng.NormFloat64()*0.03)
			s.Latency.Record(time.Duration(v * float64(time.Microsecond)))
		}
		s.Sent, s.Good = int64(n), int64(n)
		run.Steps = append(run.Steps, s)
	}
	r := &Report{Version: ReportVersion, TotalTime: time.Duration(float64(n) / ips * float64(time.Second)), Runs: []*RunReport{run}}
	if open {
		r.Arrivals = &ArrivalReport{Planned: int64(n), Started: int64(n), Rate: ips}
	}
	return r
}

// TestSimulatedDuetTail: a duet asked for p99 catches a step whose p99
// doubled while its median did not move, pair after pair at the duet's
// planned looks: each round's p99 comes from its whole histogram (every
// response of the round), so the tail is seen in every pair. The
// step's p50 and the other steps stay unflagged.
func TestSimulatedDuetTail(t *testing.T) {
	const trials, maxPairs = 20, 60
	o := CompareOptions{Percentiles: []float64{50, 99}}.withDefaults()
	body := []float64{800, 1500, 600, 2000}
	slowTail := []float64{3000, 5000, 2500, 6000}
	fastTail := append([]float64(nil), slowTail...)
	slowTail[1] *= 2 // POST /b: p99 doubled, median unchanged
	k := len(body) * len(o.Percentiles)
	looks, L, err := planLooks(maxPairs, k, o.Alpha)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(18, 6))
	caught, stray := 0, 0
	var pairs int
	for trial := range trials {
		var as, bs []*Report
		var c *Comparison
		for n, next := 0, 0; n < maxPairs; {
			m := math.Exp(rng.NormFloat64()*0.10 + float64(trial%4)*0.2) // the machine: busy in some trials
			as = append(as, tailRound(rng, 300, body, fastTail, m*math.Exp(rng.NormFloat64()*0.05), 100, false))
			bs = append(bs, tailRound(rng, 300, body, slowTail, m*math.Exp(rng.NormFloat64()*0.05), 100, false))
			n++
			if n != looks[next] {
				continue
			}
			next++
			c = comparePaired(as, bs, o, L)
			if c.Settled() {
				break
			}
		}
		pairs += c.Pairs
		if c.Tests != k {
			t.Fatalf("Bonferroni m = %d, want %d (the closed model's iter/s is not gated):\n%s", c.Tests, k, c)
		}
		for _, d := range c.Deltas {
			switch {
			case d.Step == "POST /b" && d.Metric == "p99" && d.Verdict == Regressed:
				caught++
			case d.Verdict == Regressed || d.Verdict == Missing:
				stray++
				t.Errorf("trial %d: %s %s flagged:\n%s", trial, d.Step, d.Metric, c)
			}
		}
		if trial == 0 {
			t.Logf("\n%s", c)
		}
	}
	t.Logf("p99 doubled, p50 unchanged: caught %d of %d duets (mean %.1f pairs), other metrics flagged %d", caught, trials, float64(pairs)/trials, stray)
	if caught < trials*18/20 {
		t.Errorf("p99 doubled: caught %d of %d", caught, trials)
	}
}

// TestIterRatesGatedOnlyOpen: in a closed model, iterations per second
// that halve while every latency stays (the generator's own time, a
// neighbour on its CPU) are reported with their interval, not a
// verdict, and not in the Bonferroni m; in the open model the
// achieved rate halving (the server no longer keeps up) regresses.
func TestIterRatesGatedOnlyOpen(t *testing.T) {
	for _, open := range []bool{false, true} {
		rng := rand.New(rand.NewPCG(18, 7))
		var base, cur []*Report
		body, tail := []float64{1000, 2000}, []float64{3000, 6000}
		for range 7 {
			base = append(base, tailRound(rng, 200, body, tail, 1, 100*math.Exp(rng.NormFloat64()*0.01), open))
			cur = append(cur, tailRound(rng, 200, body, tail, 1, 50*math.Exp(rng.NormFloat64()*0.01), open))
		}
		for _, c := range []*Comparison{
			CompareExecutions(base, cur, CompareOptions{}),
			comparePaired(base, cur, CompareOptions{}.withDefaults(), 1),
		} {
			var rate Delta
			for _, d := range c.Deltas {
				if d.Metric == "iter/s" {
					rate = d
				}
			}
			wantTests, wantVerdict := 4, Reported
			if open {
				wantTests, wantVerdict = 5, Regressed
			}
			if c.Tests != wantTests || rate.Verdict != wantVerdict || rate.Change > -0.4 || !rate.bounded() {
				t.Errorf("open %v, duet %v: m = %d (want %d), iter/s %s %s (want %s):\n%s", open, c.Duet, c.Tests, wantTests, rate.Verdict, rate.ChangeText(), wantVerdict, c)
			}
			if !open && len(c.Regressions())+len(c.Inconclusive()) > 0 {
				t.Errorf("closed model, latencies unchanged, not settled as no regression:\n%s", c)
			}
		}
	}
}
