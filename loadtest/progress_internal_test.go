package loadtest

import (
	"testing"
	"time"
)

// A time-limited run's bar follows the elapsed time, not a huge Repeat.
func TestBarPosition(t *testing.T) {
	for _, tc := range []struct {
		elapsed, limit   time.Duration
		done, configured int64
		wantPos, wantMax int64
	}{
		{0, 0, 5, 10, 5, 10},
		{time.Second, 0, 10, 10, 10, 10},
		{5 * time.Second, 10 * time.Second, 10, 2_000_000, 500, barSteps},
		{12 * time.Second, 10 * time.Second, 10, 2_000_000, barSteps, barSteps},
		{time.Second, 10 * time.Second, 90, 100, 900, barSteps},  // the requests run out first
		{2 * time.Second, 10 * time.Second, 7, 0, 200, barSteps}, // For: time alone
	} {
		pos, max := barPosition(tc.elapsed, tc.limit, tc.done, tc.configured)
		if pos != tc.wantPos || max != tc.wantMax {
			t.Errorf("barPosition(%v, %v, %d, %d) = %d/%d, want %d/%d", tc.elapsed, tc.limit, tc.done, tc.configured, pos, max, tc.wantPos, tc.wantMax)
		}
	}
	for _, tc := range []struct {
		elapsed, limit time.Duration
		want           string
	}{
		{3210 * time.Millisecond, 10 * time.Second, "3.2s / 10s"},
		{51234 * time.Microsecond, 100 * time.Millisecond, "51ms / 100ms"},
		{453 * time.Millisecond, 450 * time.Millisecond, "450ms / 450ms"},
	} {
		if got := elapsedOf(tc.elapsed, tc.limit); got != tc.want {
			t.Errorf("elapsedOf(%v, %v) = %q, want %q", tc.elapsed, tc.limit, got, tc.want)
		}
	}
}
