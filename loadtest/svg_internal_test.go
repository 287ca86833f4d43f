package loadtest

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestLogScale: the latency axis is logarithmic: equal ratios are equal
// distances, and its ticks are 1-2-5 values (only the decades when
// there are three or more) spanning the data.
func TestLogScale(t *testing.T) {
	for _, tc := range []struct {
		name     string
		lo, hi   float64
		ticks    []float64
		from, to float64
	}{
		{"three decades", 150, 30_000, []float64{100, 1000, 10_000}, 100, 50_000},
		{"within one decade", 1200, 4300, []float64{1000, 2000, 5000}, 1000, 5000},
		{"one value", 700, 700, []float64{500, 1000}, 500, 1000},
		{"below a microsecond", 0, 3, []float64{1, 2, 5}, 1, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newLogScale(tc.lo, tc.hi, 100, 600)
			if s.lo != tc.from || s.hi != tc.to {
				t.Errorf("scale %v–%v, want %v–%v", s.lo, s.hi, tc.from, tc.to)
			}
			if got := s.ticks(); !equalFloats(got, tc.ticks) {
				t.Errorf("ticks %v, want %v", got, tc.ticks)
			}
			if s.px(s.lo) != 100 || math.Abs(s.px(s.hi)-600) > 1e-9 {
				t.Errorf("ends at %v and %v, want 100 and 600", s.px(s.lo), s.px(s.hi))
			}
			// equal ratios, equal distances
			a, b := s.px(s.lo*2)-s.px(s.lo), s.px(s.lo*4)-s.px(s.lo*2)
			if s.lo*4 <= s.hi && math.Abs(a-b) > 1e-9 {
				t.Errorf("×2 spans %v pixels, the next ×2 %v", a, b)
			}
		})
	}
	s := newLogScale(100, 100_000, 0, 300) // three decades on 300 pixels
	for v, want := range map[float64]float64{100: 0, 1000: 100, 10_000: 200, 100_000: 300, 50: 0, 1e6: 300} {
		if got := s.px(v); math.Abs(got-want) > 1e-9 {
			t.Errorf("px(%v) = %v, want %v", v, got, want)
		}
	}
}

func equalFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(a[i]-b[i]) > 1e-9*b[i] {
			return false
		}
	}
	return true
}

// TestIntervalChart: each metric's bar spans its interval and its point
// sits at its change on the axis the chart labels; the dashed minimum
// effect stands at +MinEffect (at -MinEffect for iterations per second,
// where fewer is worse); an unbounded interval spans the axis.
func TestIntervalChart(t *testing.T) {
	ds := []Delta{
		{Metric: "p50", Change: 0.45, Low: 0.2, High: 0.7, Verdict: Regressed},
		{Metric: "p95", Change: 0.02, Low: -0.05, High: 0.08, Verdict: NoRegression},
		{Metric: "p99", Change: 0.3, Low: -1, High: math.Inf(1), Verdict: Inconclusive},
		{Metric: "iter/s", Change: -0.1, Low: -0.15, High: -0.04, Verdict: Reported},
		{Metric: "error rate", Change: 0, Verdict: NoRegression},
	}
	svg := string(intervalSVG(ds, 0.1, false))
	// the axis from its labelled ticks
	ticks := regexp.MustCompile(`<text class="tick xtick" x="([0-9.]+)" [^>]*data-value="([-0-9.e]+)">`).FindAllStringSubmatch(svg, -1)
	if len(ticks) < 4 {
		t.Fatalf("%d ticks:\n%s", len(ticks), svg)
	}
	x0, v0 := num(t, ticks[0][1]), num(t, ticks[0][2])
	x1, v1 := num(t, ticks[len(ticks)-1][1]), num(t, ticks[len(ticks)-1][2])
	at := func(v float64) float64 { return x0 + (v-v0)/(v1-v0)*(x1-x0) }
	for _, d := range ds[:4] {
		bar := regexp.MustCompile(`<line class="(ci[^"]*)" data-metric="` + regexp.QuoteMeta(d.Metric) + `" [^>]*x1="([0-9.]+)" [^>]*x2="([0-9.]+)"`).FindStringSubmatch(svg)
		pt := regexp.MustCompile(`<circle class="estimate" data-metric="` + regexp.QuoteMeta(d.Metric) + `" data-change="[^"]*" cx="([0-9.]+)"`).FindStringSubmatch(svg)
		if bar == nil || pt == nil {
			t.Fatalf("%s: no bar or point:\n%s", d.Metric, svg)
		}
		if got := num(t, pt[1]); math.Abs(got-at(d.Change)) > 0.2 {
			t.Errorf("%s: the point at x=%v, its change %v is at x=%.1f", d.Metric, got, d.Change, at(d.Change))
		}
		lo, hi := num(t, bar[2]), num(t, bar[3])
		if d.bounded() {
			if math.Abs(lo-at(d.Low)) > 0.2 || math.Abs(hi-at(d.High)) > 0.2 || bar[1] != "ci" {
				t.Errorf("%s: the bar spans x=%v–%v (%s), its interval [%v, %v] is at %.1f–%.1f", d.Metric, lo, hi, bar[1], d.Low, d.High, at(d.Low), at(d.High))
			}
		} else if bar[1] != "ci unbounded" || lo > x0 || hi < x1 {
			t.Errorf("%s: an unbounded interval drawn %v–%v (%s), not across the axis %v–%v", d.Metric, lo, hi, bar[1], x0, x1)
		}
	}
	effects := regexp.MustCompile(`<line class="min-effect" data-value="([-0-9.e]+)" x1="([0-9.]+)"`).FindAllStringSubmatch(svg, -1)
	if len(effects) != 4 {
		t.Fatalf("%d minimum-effect lines, want one per metric drawn (4)", len(effects))
	}
	for i, want := range []float64{0.1, 0.1, 0.1, -0.1} {
		if v, x := num(t, effects[i][1]), num(t, effects[i][2]); v != want || math.Abs(x-at(want)) > 0.2 {
			t.Errorf("%s: the minimum effect at %v (x=%v), want %v (x=%.1f)", ds[i].Metric, v, x, want, at(want))
		}
	}
	if strings.Contains(svg, `data-metric="error rate"`) {
		t.Error("the error rate is a rule, not an interval: it has no bar")
	}
	zero := regexp.MustCompile(`<line class="zero" x1="([0-9.]+)"`).FindStringSubmatch(svg)
	if zero == nil || math.Abs(num(t, zero[1])-at(0)) > 0.2 {
		t.Errorf("the zero line %v is not at x=%.1f", zero, at(0))
	}
}

func num(t *testing.T, s string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestCDFChart: both sides are drawn as rising lines on the log axis:
// the median of each side sits where the line crosses one half.
func TestCDFChart(t *testing.T) {
	old, cur := NewLatency(), NewLatency()
	for i := range 100 {
		old.Record(time.Duration(1000+i) * time.Microsecond) // 1.0–1.1 ms
		cur.Record(time.Duration(10_000+10*i) * time.Microsecond)
	}
	svg := string(cdfSVG(Distribution{Run: "r", Step: "s", Old: old, New: cur}, [2]string{"A", "B"}))
	s := newLogScale(1000, float64(cur.max), padL, chartW-24)
	for side, l := range map[string]*Latency{"A": old, "B": cur} {
		m := regexp.MustCompile(`data-side="` + side + `" [^>]*points="([^"]+)"`).FindStringSubmatch(svg)
		if m == nil {
			t.Fatalf("side %s not drawn:\n%s", side, svg)
		}
		half := float64(padT + chartH/2)
		var cross float64
		prevY := math.Inf(1)
		for _, p := range strings.Fields(m[1]) {
			x, y, _ := strings.Cut(p, ",")
			if num(t, y) <= half && prevY > half {
				cross = num(t, x)
			}
			prevY = num(t, y)
		}
		if want := s.px(float64(l.Percentile(50) / time.Microsecond)); math.Abs(cross-want) > 2 {
			t.Errorf("side %s crosses one half at x=%v, its median is at x=%.1f", side, cross, want)
		}
	}
	for _, label := range []string{">1ms<", ">10ms<", "latency (logarithmic scale)", "A: 100 responses", "B: 100 responses"} {
		if !strings.Contains(svg, label) {
			t.Errorf("the chart lacks %q", label)
		}
	}
}

// TestPagesOfLittle: pages of empty or hand-made values are written
// without a panic and without a coordinate that is not a number.
func TestPagesOfLittle(t *testing.T) {
	empty := &StepReport{Name: "s"}
	for _, tc := range []struct {
		name  string
		write func(b *strings.Builder) error
	}{
		{"empty report", func(b *strings.Builder) error { return (&Report{}).WriteHTML(b) }},
		{"a step with nothing", func(b *strings.Builder) error {
			return (&Report{Runs: []*RunReport{{Name: "r", Steps: []*StepReport{empty}}}, Timeline: []Second{{At: 0}}}).WriteHTML(b)
		}},
		{"zero comparison", func(b *strings.Builder) error { return (&Comparison{}).WriteHTML(b) }},
		{"no minimum effect, one side", func(b *strings.Builder) error {
			l := NewLatency()
			l.Record(time.Millisecond)
			side := func(l *Latency) []*Report {
				return []*Report{{Runs: []*RunReport{{Name: "r", Steps: []*StepReport{{Name: "s", Latency: l}, {Name: "t"}}}}}}
			}
			return (&Comparison{Deltas: []Delta{{Run: "r", Step: "s", Metric: "p50", Change: math.NaN(), Low: -1, High: math.Inf(1), Verdict: Inconclusive},
				{Run: "r", Step: "t", Metric: "p50", Verdict: Inconclusive, Low: -1, High: math.Inf(1)}},
				old: side(nil), new: side(l)}).WriteHTML(b)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			if err := tc.write(&b); err != nil {
				t.Fatal(err)
			}
			if bad := regexp.MustCompile(`\b(x|y|x1|x2|y1|y2|cx|cy|width|height|points)="[^"]*(NaN|Inf)`).FindString(b.String()); bad != "" {
				t.Errorf("a coordinate is not a number: %s", bad)
			}
		})
	}
}
