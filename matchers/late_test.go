package matchers_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/matchers"
)

// execution is a synthetic execution of one step answering in about us
// microseconds (a little spread), its generator late by delay (0: not).
func execution(us float64, wobble float64, delay time.Duration) *loadtest.Report {
	s := &loadtest.StepReport{Number: 1, Name: "GET /", Latency: loadtest.NewLatency()}
	const n = 200
	for i := range n {
		s.Latency.Record(time.Duration(us * wobble * (1 + 0.01*float64(i%21-10)/10) * float64(time.Microsecond)))
	}
	s.Configured, s.Sent, s.Good = n, n, n
	s.Statuses = map[int]int64{200: n}
	run := &loadtest.RunReport{Name: "r", Repeat: n, Latency: loadtest.NewLatency(), Steps: []*loadtest.StepReport{s}}
	run.Latency.Merge(s.Latency)
	r := &loadtest.Report{Version: loadtest.ReportVersion, TotalTime: time.Second, Runs: []*loadtest.RunReport{run}}
	if delay > 0 {
		r.Generator = &loadtest.Generator{Saturated: true, Delay: delay, Cause: loadtest.CauseNeighbour, Why: "synthetic"}
	}
	return r
}

// TestStoredComparisonOnALateGenerator: executions measured by a late
// generator are left out when the sound ones settle the comparison; when
// every new execution was late, every latency verdict is refused,
// however small the generator's delay against the step's time: the
// busy machine slowed the application too, by an amount the delay does
// not bound.
func TestStoredComparisonOnALateGenerator(t *testing.T) {
	build := func(us, factor float64, late time.Duration, all bool) (base, cur []*loadtest.Report) {
		for i := range 6 {
			w := 1 + 0.004*float64(i%3)
			base = append(base, execution(us, w, 0))
			d := time.Duration(0)
			if all || i == 2 {
				d = late
			}
			// a late execution measured more than the server took
			cur = append(cur, execution(us*factor+float64(d/time.Microsecond), w, d))
		}
		return base, cur
	}
	opts := loadtest.CompareOptions{Percentiles: []float64{50}}
	for _, tt := range []struct {
		name       string
		us, factor float64
		late       time.Duration
		all        bool
		refused    bool
		pass       bool
	}{
		{"quiet, 1 ms step, +50%", 1000, 1.5, 0, false, false, false},
		{"one late by 20 ms, 1 ms step, unchanged: left out", 1000, 1, 20 * time.Millisecond, false, false, true},
		// a regression the sound new executions show while another
		// new one was late: the machine was busy then, no verdict
		{"one late by 20 ms, 1 ms step, +50%: the others' regression refused", 1000, 1.5, 20 * time.Millisecond, false, true, false},
		{"all late by 1 ms, 1 ms step, +50%", 1000, 1.5, time.Millisecond, true, true, false},
		{"all late by 1 ms, 1 ms step, unchanged", 1000, 1, time.Millisecond, true, true, false},
		{"all late by 1 ms, 200 ms step, +50%", 200_000, 1.5, time.Millisecond, true, true, false},
		{"all late by 1 ms, 200 ms step, unchanged", 200_000, 1, time.Millisecond, true, true, false},
		// measured 10 % slower through the delay: inconclusive, no
		// verdict either way
		{"all late by 20 ms, 200 ms step, unchanged", 200_000, 1, 20 * time.Millisecond, true, false, false},
		{"all late by 100 µs, 200 ms step, +50%", 200_000, 1.5, 100 * time.Microsecond, true, true, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			base, cur := build(tt.us, tt.factor, tt.late, tt.all)
			ok, err := matchers.NotRegressFrom(base, opts).Match(cur)
			if refused := errors.Is(err, matchers.ErrLateGenerator); refused != tt.refused {
				t.Fatalf("refused %v, want %v: ok %v, err %v", refused, tt.refused, ok, err)
			}
			if tt.refused {
				if !strings.Contains(err.Error(), "r / GET / p50") || !strings.Contains(err.Error(), "compare with a duet") {
					t.Errorf("the refusal names neither the metric nor the duet: %v", err)
				}
				return
			}
			if tt.late >= 20*time.Millisecond && tt.all {
				if err == nil || !strings.Contains(err.Error(), "no verdict") {
					t.Errorf("ok %v, err %v; want no verdict", ok, err)
				}
				return
			}
			if err != nil || ok != tt.pass {
				t.Errorf("ok %v, err %v; want pass %v", ok, err, tt.pass)
			}
		})
	}
}
