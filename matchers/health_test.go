package matchers_test

import (
	"strings"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/matchers"
)

// TestLatencyBoundsOnABusyGenerator: on a generator that was late by
// 5 ms, a bound far above the measured latency keeps its pass, a bound
// within twice the delay and a bound below the measured value are
// refused with the reason, and a sound generator's verdicts stand.
func TestLatencyBoundsOnABusyGenerator(t *testing.T) {
	report := func(g *loadtest.Generator) *loadtest.Report {
		l := loadtest.NewLatency()
		for range 100 {
			l.Record(20 * time.Millisecond)
		}
		return &loadtest.Report{Latency: l, RequestsSent: 100, GoodResponses: 100, TotalTime: time.Second, Generator: g}
	}
	busy := &loadtest.Generator{Saturated: true, Cause: loadtest.CauseNeighbour, Delay: 5 * time.Millisecond,
		Why: "its goroutines woke up to 5ms late", Advice: "rerun on a quieter machine, or compare with a duet"}
	ms := time.Millisecond
	tests := []struct {
		name    string
		g       *loadtest.Generator
		m       interface{ Match(any) (bool, error) }
		pass    bool
		refused string
	}{
		{"far pass", busy, matchers.HavePercentileBelow(95, 200*ms), true, ""},
		{"far pass, HaveLatency", busy, matchers.HaveLatency(loadtest.Response, matchers.Percentile(95), 200*ms), true, ""},
		{"far pass, BeNumerically", busy, matchers.HaveLatency(loadtest.Response, matchers.Mean(), gomega.BeNumerically("<", 200*ms)), true, ""},
		{"near pass", busy, matchers.HavePercentileBelow(95, 25*ms), false, "p95 20ms is within 10ms of the bound 25ms while the load generator was late by up to 5ms (other processes took the CPU): its goroutines woke up to 5ms late; rerun on a quieter machine, or compare with a duet"},
		{"fail", busy, matchers.HavePercentileBelow(95, 10*ms), false, "20ms is above the bound 10ms"},
		{"fail, HaveLatency", busy, matchers.HaveLatency(loadtest.Response, matchers.Max(), 10*ms), false, "20ms is above the bound 10ms"},
		{"another matcher", busy, matchers.HaveLatency(loadtest.Response, matchers.Mean(), gomega.BeNumerically(">", ms)), false, "measurement invalid: the load generator was late"},
		{"throughput pass", busy, matchers.HaveThroughputAtLeast(50), true, ""},
		{"throughput fail", busy, matchers.HaveThroughputAtLeast(500), false, "no verdict: 100.0 requests/s is below 500.0: measurement invalid: the load generator was late (other processes took the CPU)"},
		{"sound: near pass", &loadtest.Generator{Delay: 4 * ms}, matchers.HavePercentileBelow(95, 21*ms), true, ""},
		{"sound: fail", &loadtest.Generator{Delay: 4 * ms}, matchers.HavePercentileBelow(95, 10*ms), false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := tt.m.Match(report(tt.g))
			if tt.refused != "" {
				if err == nil || !strings.Contains(err.Error(), tt.refused) {
					t.Fatalf("= %v, %v; want a refusal saying %q", ok, err, tt.refused)
				}
				return
			}
			if err != nil || ok != tt.pass {
				t.Fatalf("= %v, %v; want %v", ok, err, tt.pass)
			}
		})
	}
}

// TestDuetCountsNeighbourRounds: a duet's round slowed by other
// processes does not refuse the verdict (both sides of the pair saw the
// neighbour); a round whose generator saturated itself does.
func TestDuetCountsNeighbourRounds(t *testing.T) {
	round := func(cause string) *loadtest.Report {
		return &loadtest.Report{Generator: &loadtest.Generator{Saturated: true, Cause: cause, Why: "w", Advice: "a"}}
	}
	calm := &loadtest.Report{Generator: &loadtest.Generator{}}
	neighbour := &loadtest.DuetReport{A: []*loadtest.Report{round(loadtest.CauseNeighbour), calm}, B: []*loadtest.Report{calm, round(loadtest.CauseNeighbour)}, Comparison: &loadtest.Comparison{}}
	if ok, err := matchers.HaveNoRegressions().Match(neighbour); !ok || err != nil {
		t.Errorf("rounds a neighbour slowed refused the duet: %v, %v", ok, err)
	}
	own := &loadtest.DuetReport{A: []*loadtest.Report{calm}, B: []*loadtest.Report{round(loadtest.CauseGenerator)}, Comparison: &loadtest.Comparison{}}
	if _, err := matchers.HaveNoRegressions().Match(own); err == nil || !strings.Contains(err.Error(), "the generator's own work") {
		t.Errorf("a round on a saturated generator gave a verdict: %v", err)
	}
}
