package loadtest

import (
	"fmt"
	"html/template"
	"math"
	"strings"
	"time"
)

// The pieces the HTML pages' charts share: scales with their ticks and
// axis titles. Every text drawn goes through svgText.

// logScale maps latencies in µs to pixels on a logarithmic axis.
type logScale struct{ lo, hi, p0, p1 float64 }

// newLogScale spans lo to hi (µs), widened to the 1-2-5 ticks around
// them, over the pixels p0 to p1.
func newLogScale(lo, hi, p0, p1 float64) logScale {
	lo, hi = max(lo, 1), max(hi, 1)
	if hi < lo {
		lo, hi = hi, lo
	}
	s := logScale{lo: tickBelow(lo), hi: tickAbove(hi), p0: p0, p1: p1}
	if s.hi <= s.lo {
		s.hi = tickAbove(s.lo * 1.5)
	}
	return s
}

// tickBelow is the largest 1, 2 or 5 × 10^k at or below v.
func tickBelow(v float64) float64 {
	d := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{5, 2, 1} {
		if m*d <= v*(1+1e-9) {
			return m * d
		}
	}
	return d
}

// tickAbove is the smallest 1, 2 or 5 × 10^k at or above v.
func tickAbove(v float64) float64 {
	d := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*d >= v*(1-1e-9) {
			return m * d
		}
	}
	return 10 * d
}

// px is v's pixel; values outside the scale stay at its ends.
func (s logScale) px(v float64) float64 {
	v = min(max(v, s.lo), s.hi)
	return s.p0 + (math.Log(v)-math.Log(s.lo))/(math.Log(s.hi)-math.Log(s.lo))*(s.p1-s.p0)
}

// ticks are the 1-2-5 values on the scale, only the powers of ten when
// those are three or more.
func (s logScale) ticks() []float64 {
	var all, decades []float64
	for d := math.Pow(10, math.Floor(math.Log10(s.lo))); d <= s.hi*(1+1e-9); d *= 10 {
		for _, m := range []float64{1, 2, 5} {
			if v := m * d; v >= s.lo*(1-1e-9) && v <= s.hi*(1+1e-9) {
				all = append(all, v)
				if m == 1 {
					decades = append(decades, v)
				}
			}
		}
	}
	if len(decades) >= 3 {
		return decades
	}
	return all
}

// microsText names a latency in µs: "500µs", "2ms", "1.5s".
func microsText(us float64) string {
	return (time.Duration(math.Round(us)) * time.Microsecond).String()
}

// linearTicks are round values from lo to hi, four to ten of them.
func linearTicks(lo, hi float64) []float64 {
	if !(hi > lo) {
		return []float64{lo}
	}
	span := hi - lo
	step := math.Pow(10, math.Floor(math.Log10(span)))
	for _, m := range []float64{0.1, 0.2, 0.25, 0.5, 1, 2, 2.5, 5, 10} {
		if span/(m*step) <= 8 {
			step *= m
			break
		}
	}
	var out []float64
	for v := math.Ceil(lo/step-1e-9) * step; v <= hi+step*1e-9; v += step {
		out = append(out, math.Round(v/step)*step)
	}
	return out
}

// axisTitles writes the x axis's title under it and the y axis's turned
// along it, in a chart of the pages' usual geometry.
func axisTitles(b *strings.Builder, x, y string, height int) {
	fmt.Fprintf(b, `<text class="axis-title" x="%d" y="%d" text-anchor="middle">%s</text>`, padL+(chartW-padL-24)/2, height-4, svgText(x))
	if y != "" {
		fmt.Fprintf(b, `<text class="axis-title" transform="translate(12,%d) rotate(-90)" text-anchor="middle">%s</text>`, padT+chartH/2, svgText(y))
	}
}

// pageStyle is the CSS both pages share.
const pageStyle = `body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}
h1{font-size:20px}h2{font-size:17px;margin-top:32px}h3{font-size:15px;margin:20px 0 6px}
table{border-collapse:collapse;margin:6px 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f4f4f4}td.l,th.l{text-align:left}.charts{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}
.chart{width:500px;height:auto;border:1px solid #eee}.axis{stroke:#999}.grid{stroke:#eee}.tick{font-size:11px;fill:#555}
.axis-title{font-size:12px;fill:#333}.legend{font-size:12px}.bar{fill:#2b7bb9}
pre{white-space:pre-wrap;word-break:break-all;background:#f8f8f8;padding:4px;margin:0}
.v-fail{color:#c0392b}.v-pass{color:#1e8449}.v-none{color:#b9770e}.v-info{color:#555}
p.verdict{font-size:16px;padding:6px 10px;border-left:5px solid currentColor;background:#fafafa}`

// verdictClass is the CSS class of a verdict's colour.
func verdictClass(v Verdict) string {
	switch v {
	case Regressed, Missing:
		return "v-fail"
	case NoRegression, Improved:
		return "v-pass"
	case Inconclusive:
		return "v-none"
	}
	return "v-info"
}

// verdictColor is a verdict's colour inside an SVG.
func verdictColor(v Verdict) string {
	switch verdictClass(v) {
	case "v-fail":
		return "#c0392b"
	case "v-pass":
		return "#1e8449"
	case "v-none":
		return "#b9770e"
	}
	return "#555"
}

// template.HTML of a chart: every text in it went through svgText.
func chartHTML(b *strings.Builder) template.HTML { return template.HTML(b.String()) }
