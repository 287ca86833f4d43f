package loadtest_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/benchgate/benchgate/loadtest"
)

// FuzzReadDuetJSON: reading any input returns a duet or an error that
// wraps ErrInvalidReport, never a panic, and a duet read can be written
// and read again.
func FuzzReadDuetJSON(f *testing.F) {
	d := &loadtest.DuetReport{Seed: 3, RoundTime: time.Second, Looks: []int{2, 3}, PlannedLooks: 2, BFirst: []bool{true, false, true},
		Compare: loadtest.CompareOptions{Percentiles: []float64{50, 95}, MinEffect: 0.1, TailMinEffect: 0.2, MinAbsolute: 100 * time.Microsecond,
			Alpha: 0.05, MaxErrorRateIncrease: 0.01, MaxCalibrationRatio: 1.3, GatedSpecs: 1}}
	for i := range 3 {
		d.A = append(d.A, synth([]string{"GET /a", "GET /b"}, []float64{1000, 2000}, 50, 1+0.01*float64(i)))
		d.B = append(d.B, synth([]string{"GET /a", "GET /b"}, []float64{1500, 2000}, 50, 1))
	}
	d.Comparison = loadtest.ComparePairedForTest(d, 3)
	var buf bytes.Buffer
	if err := d.WriteJSON(&buf); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte(`{"duet_version": 1, "looks": [1], "planned_looks": 1, "compare": {"percentiles": [50], "min_effect": 0.1, "tail_min_effect": 0.2, "alpha": 0.05, "gated_specs": 1}, "b_first": [], "a": [], "b": []}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := loadtest.ReadDuetJSON(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, loadtest.ErrInvalidReport) {
				t.Fatalf("error %v does not wrap ErrInvalidReport", err)
			}
			return
		}
		var out bytes.Buffer
		if err := d.WriteJSON(&out); err != nil {
			t.Fatalf("a duet read cannot be written: %v", err)
		}
		if _, err := loadtest.ReadDuetJSON(&out); err != nil {
			t.Fatalf("a duet read and written cannot be read again: %v", err)
		}
		_ = d.NoVerdict()
		if d.Comparison != nil {
			_ = d.Comparison.String()
		}
	})
}
