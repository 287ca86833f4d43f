package engine

import (
	"math"
	"testing"
	"time"
)

// TestArrivalSchedule checks the open model's schedule: arrival k comes
// when the rate's integral reaches k.
func TestArrivalSchedule(t *testing.T) {
	near := func(got, want time.Duration) bool { return math.Abs(float64(got-want)) < float64(time.Microsecond) }
	cases := []struct {
		name  string
		a     Arrivals
		count int
		at    func(k int) time.Duration
	}{
		{"constant 100/s for 1s", Arrivals{Rate: 100, Duration: time.Second}, 100,
			func(k int) time.Duration { return time.Duration(k) * 10 * time.Millisecond }},
		{"constant 3/s for 1s: arrivals at 0, 1/3, 2/3", Arrivals{Rate: 3, Duration: time.Second}, 3,
			func(k int) time.Duration { return time.Duration(float64(k) / 3 * float64(time.Second)) }},
		{"2.5/s for 1s: ceil(2.5) arrivals", Arrivals{Rate: 2.5, Duration: time.Second}, 3,
			func(k int) time.Duration { return time.Duration(float64(k) / 2.5 * float64(time.Second)) }},
		{"ramp 0→100/s over 1s: N(t) = 50t²", Arrivals{Stages: []RateStage{{100, time.Second}}}, 50,
			func(k int) time.Duration { return time.Duration(math.Sqrt(float64(k)/50) * float64(time.Second)) }},
		{"ramp 0→100 then hold 100 for 1s", Arrivals{Stages: []RateStage{{100, time.Second}, {100, time.Second}}}, 150,
			func(k int) time.Duration {
				if k < 50 {
					return time.Duration(math.Sqrt(float64(k)/50) * float64(time.Second))
				}
				return time.Second + time.Duration(float64(k-50)/100*float64(time.Second))
			}},
		{"ramp down 100→0 over 2s: N(t) = 100t − 25t²", Arrivals{StartRate: 100, Stages: []RateStage{{0, 2 * time.Second}}}, 100,
			func(k int) time.Duration {
				// 25t² − 100t + k = 0
				return time.Duration((100 - math.Sqrt(10000-100*float64(k))) / 50 * float64(time.Second))
			}},
		{"a pause: 0/s for 1s, then 10/s", Arrivals{Stages: []RateStage{{0, time.Second}, {10, 0}}}, 0, nil},
	}
	for _, tc := range cases {
		if tc.at == nil {
			continue
		}
		if got := tc.a.Count(); got != tc.count {
			t.Errorf("%s: %d arrivals, want %d", tc.name, got, tc.count)
		}
		for k := 0; k < tc.count; k++ {
			if got, want := tc.a.ArrivalAt(k), tc.at(k); !near(got, want) {
				t.Errorf("%s: arrival %d at %v, want %v", tc.name, k, got, want)
			}
		}
	}
	pause := Arrivals{Stages: []RateStage{{0, time.Second}, {10, time.Second}}}
	// 0 in the first second; then N = 5 over a ramp 0→10
	if got := pause.Count(); got != 5 {
		t.Errorf("pause then ramp: %d arrivals, want 5", got)
	}
	if got := pause.ArrivalAt(0); got != time.Second {
		t.Errorf("pause then ramp: first arrival at %v, want 1s", got)
	}
	bad := []Arrivals{{}, {Rate: 10}, {Duration: time.Second}, {Rate: -1, Duration: time.Second},
		{Stages: []RateStage{{10, 0}}}, {Stages: []RateStage{{math.NaN(), time.Second}}}, {Stages: []RateStage{{0, time.Second}}}}
	for _, a := range bad {
		if a.Validate(nil) == nil {
			t.Errorf("%+v: valid, want an error", a)
		}
	}
	if (Arrivals{Rate: 10, Duration: time.Second, MaxVUs: 3}).Iterations(1, 2) != 5 {
		t.Error("10 arrivals over 2 runs: run 1 gets 5")
	}
}

// TestArrivalsBefore: before(t) counts the arrivals before t exactly,
// and past the schedule's end it is the count, at once (a dropped
// arrival's bulk count must not walk arrivals one by one).
func TestArrivalsBefore(t *testing.T) {
	for _, a := range []Arrivals{
		{Rate: 3, Duration: time.Second},
		{Rate: 100, Duration: time.Second, MaxIterations: 40},
		{Stages: []RateStage{{100, time.Second}, {0, time.Second}}},
		{StartRate: 50, Stages: []RateStage{{0, time.Second}, {0, time.Second}, {80, 500 * time.Millisecond}}},
	} {
		n := a.Count()
		for _, at := range []time.Duration{-time.Second, 0, 1, 9 * time.Millisecond, 10 * time.Millisecond, 333333333, 400 * time.Millisecond,
			999 * time.Millisecond, time.Second, 1500 * time.Millisecond, 2400 * time.Millisecond, time.Hour} {
			want := 0
			for k := range n {
				if a.ArrivalAt(k) < at {
					want++
				}
			}
			if got := a.Normalized().before(at); got != want {
				t.Errorf("%+v: before(%v) = %d, want %d", a, at, got, want)
			}
		}
	}
	huge := Arrivals{Rate: 1e9, Duration: time.Second}.Normalized()
	if got := huge.before(time.Hour); got != 1e9 {
		t.Errorf("1e9/s for 1s: before(1h) = %d, want 1e9", got)
	}
	if got := huge.before(500 * time.Millisecond); got < 5e8-2 || got > 5e8+2 {
		t.Errorf("1e9/s: before(0.5s) = %d", got)
	}
}
