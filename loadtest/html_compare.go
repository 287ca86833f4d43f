package loadtest

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"

	"github.com/benchgate/benchgate/scenario"
)

// WriteHTML writes the comparison as one self-contained HTML page: the
// verdict and why in words, how it was decided, then per step both
// sides' latency distributions on one chart (cumulative, on a
// logarithmic latency axis), each compared metric's change drawn as a
// point with its interval against zero and the minimum effect, and the
// table of metrics with their verdicts. Charts are inline SVG drawn
// here: the page needs no network and no script. Every name and reason
// is escaped, and secrets in them are redacted.
//
// The distributions are the comparison's Distributions(): the good
// responses of every execution (a duet's rounds) of each side, merged.
func (c *Comparison) WriteHTML(w io.Writer) error {
	return comparePage.Execute(w, c.htmlView())
}

type cmpView struct {
	// Sub: shown inside a report's page, under its assertion
	Sub       bool
	Style     template.CSS
	Title     string
	Headline  string
	HeadClass string
	Lines     []string
	Method    string
	Groups    []cmpGroup
}

// cmpGroup is one step (or a run's iterations per second) of the page.
type cmpGroup struct {
	Name      string
	Verdict   string
	Class     string
	Why       string
	CDF       template.HTML
	Intervals template.HTML
	Rows      []cmpRow
}

type cmpRow struct {
	Metric, Old, New, Change, P, N, Verdict, Class, Why string
}

// sides names the two sides of the comparison.
func (c *Comparison) sides() [2]string {
	if c.Duet {
		return [2]string{"A (baseline)", "B (candidate)"}
	}
	return [2]string{"baseline", "candidate"}
}

func (c *Comparison) htmlView() cmpView {
	v := cmpView{Style: template.CSS(pageStyle), Title: "benchgate comparison: stored baseline", Method: redact(c.Method())}
	if c.Duet {
		v.Title = "benchgate comparison: duet"
	}
	v.Headline, v.HeadClass, v.Lines = c.headline()
	if f := c.First; f != nil {
		var flagged []string
		for _, d := range f.Regressions() {
			flagged = append(flagged, fmt.Sprintf("%s / %s %s %s", d.Run, d.Step, d.Metric, d.ChangeText()))
		}
		v.Lines = append(v.Lines, redact(fmt.Sprintf("A rerun judged this: the first executions flagged %s; a metric fails only when the rerun flags it too.", strings.Join(flagged, ", "))))
	}
	// the deltas of one step stand together; each step's distribution
	// comes in the same order
	dists, next := c.Distributions(), 0
	for i := 0; i < len(c.Deltas); {
		j := i + 1
		for j < len(c.Deltas) && c.Deltas[j].Run == c.Deltas[i].Run && c.Deltas[j].Step == c.Deltas[i].Step {
			j++
		}
		ds := c.Deltas[i:j]
		g := c.group(ds)
		if ds[0].Step != "(iterations)" && next < len(dists) &&
			dists[next].Run == ds[0].Run && dists[next].Step == ds[0].Step {
			g.CDF = cdfSVG(dists[next], c.sides())
			next++
		}
		v.Groups = append(v.Groups, g)
		i = j
	}
	return v
}

// headline is the comparison's verdict, its CSS class and the lines
// that say why.
func (c *Comparison) headline() (string, string, []string) {
	var lines []string
	for _, d := range c.Ungated() {
		lines = append(lines, redact(fmt.Sprintf("%s / %s is ungated: %s.", d.Run, d.Step, d.Why)))
	}
	switch reg, inc := c.Regressions(), c.Inconclusive(); {
	case c.Refused != "":
		return "No verdict: refused", "v-none", append([]string{redact(c.Refused)}, lines...)
	case len(reg) > 0:
		var names []string
		for _, d := range reg {
			names = append(names, fmt.Sprintf("%s / %s %s %s", d.Run, d.Step, d.Metric, d.ChangeText()))
		}
		return fmt.Sprintf("Regressed: %d metric(s)", len(reg)), "v-fail",
			append([]string{redact("Regressed: " + strings.Join(names, ", ") + ".")}, lines...)
	case len(inc) > 0:
		s := fmt.Sprintf("%d metric(s) without a verdict: their intervals reach past the minimum effect; no verdict is not \"no regression\".", len(inc))
		h := fmt.Sprintf("Inconclusive: no verdict on %d metric(s)", len(inc))
		if c.Options.PassInconclusive {
			s += " PassInconclusive lets this pass with a warning."
		}
		return h, "v-none", append([]string{s}, lines...)
	}
	return "No regression", "v-pass", append([]string{fmt.Sprintf("Every gated metric's interval lies below the %.0f%% minimum effect (or its change below %v).", c.Options.MinEffect*100, c.Options.MinAbsolute)}, lines...)
}

// severity orders verdicts, the worst last.
func severity(v Verdict) int {
	switch v {
	case Missing:
		return 6
	case Regressed:
		return 5
	case Inconclusive:
		return 4
	case NoRegression:
		return 3
	case Improved:
		return 2
	case Ungated:
		return 1
	}
	return 0
}

// group is one step's part of the page.
func (c *Comparison) group(ds []Delta) cmpGroup {
	g := cmpGroup{Name: redact(ds[0].Run + " / " + ds[0].Step)}
	if ds[0].Step == "(iterations)" {
		g.Name = redact("run " + ds[0].Run + ": iterations per second")
	}
	worst := ds[0]
	for _, d := range ds {
		if severity(d.Verdict) > severity(worst.Verdict) {
			worst = d
		}
		old, new, p, n := c.cells(d)
		row := cmpRow{Metric: d.Metric, Old: old, New: new, Change: d.ChangeText(), P: p, N: n,
			Verdict: string(d.Verdict), Class: verdictClass(d.Verdict), Why: redact(c.deltaWhy(d))}
		if c.Refused != "" {
			row.Verdict, row.Class = "not judged (refused)", "v-none"
		}
		g.Rows = append(g.Rows, row)
	}
	g.Verdict, g.Class, g.Why = string(worst.Verdict), verdictClass(worst.Verdict), redact(c.deltaWhy(worst))
	if c.Refused != "" {
		g.Verdict, g.Class, g.Why = "refused", "v-none", "not judged: the comparison was refused (above)"
	} else if worst.Verdict == NoRegression && len(ds) > 1 {
		g.Why = "every metric shows no regression: " + g.Why
	}
	g.Intervals = intervalSVG(ds, c.Options.MinEffect, c.Duet)
	return g
}

// cells are a delta's old and new values, p-value and count as text.
func (c *Comparison) cells(d Delta) (old, new, p, n string) {
	switch {
	case strings.HasPrefix(d.Metric, "p"):
		old, new = fmtMicros(d.Old), fmtMicros(d.New)
	case d.Metric == "error rate":
		old, new = fmt.Sprintf("%.2f%%", d.Old*100), fmt.Sprintf("%.2f%%", d.New*100)
	case d.Metric == "iter/s":
		old, new = fmt.Sprintf("%.1f", d.Old), fmt.Sprintf("%.1f", d.New)
	}
	p = "–"
	if d.P < 1 {
		p = FormatP(d.P)
	}
	switch {
	case d.Metric == "step":
		n = "–"
	case c.Duet:
		n = fmt.Sprintf("%d pairs", d.N[0])
	case d.Sessions != [2]int{}:
		n = fmt.Sprintf("%d / %d (%d / %d sessions)", d.N[0], d.N[1], d.Sessions[0], d.Sessions[1])
	default:
		n = fmt.Sprintf("%d / %d", d.N[0], d.N[1])
	}
	return old, new, p, n
}

// deltaWhy says in words why a metric got its verdict.
func (c *Comparison) deltaWhy(d Delta) string {
	if c.Refused != "" {
		return "not judged: the comparison was refused"
	}
	o := c.Options
	larger := d.Metric != "iter/s" // larger values are worse
	var s string
	switch {
	case d.Metric == "error rate" && d.Verdict == NoRegression:
		s = fmt.Sprintf("changed by %+.2f percentage points, within the %.2f allowed", d.Change*100, o.MaxErrorRateIncrease*100)
	case d.Metric == "error rate" || d.Metric == "step":
		return d.Why
	case d.Verdict == Regressed:
		dir := "rose"
		if !larger {
			dir = "fell"
		}
		s = fmt.Sprintf("%s %s by %s: the whole interval lies beyond 0 and the change beyond the %.0f%% minimum effect", d.Metric, dir, d.ChangeText(), o.EffectFor(d.Metric)*100)
	case d.Verdict == NoRegression || d.Verdict == Improved:
		end := d.High
		if !larger {
			end = d.Low
		}
		s = fmt.Sprintf("the interval %s ends at %s, inside the %.0f%% minimum effect", d.ChangeText(), relText(end), o.EffectFor(d.Metric)*100)
		if larger && math.Abs(end) >= o.EffectFor(d.Metric) {
			s = fmt.Sprintf("at the interval's end (%s) the change is %s, below the %v minimum", relText(end), fmtMicros(d.Old*end), o.MinAbsolute)
		}
		if d.Verdict == Improved {
			s = "faster: " + s
		}
	case d.Verdict == Inconclusive:
		switch {
		case d.Why == "":
			return "no verdict: " + d.ChangeText()
		case strings.HasPrefix(d.Why, "no verdict"):
			return d.Why
		}
		return fmt.Sprintf("no verdict: %s; %s", d.ChangeText(), d.Why)
	default:
		return d.Why
	}
	if d.Why != "" {
		s += "; " + d.Why
	}
	return s
}

// redact hides secrets in a text shown on a page (html/template escapes it).
func redact(s string) string { return scenario.RedactText(s) }

// cdfSVG draws both sides' latency distributions: the fraction of good
// responses at or below each latency, on a logarithmic latency axis.
func cdfSVG(d Distribution, names [2]string) template.HTML {
	const h = chartH + padB + padT
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart cdf" viewBox="0 0 %d %d" role="img" aria-label="%s">`, chartW, h, svgText(redact("latency distributions of "+d.Run+" / "+d.Step)))
	sides := [2]*Latency{d.Old, d.New}
	lo, hi := math.Inf(1), 0.0
	for _, l := range sides {
		if l != nil && l.Count() > 0 {
			lo, hi = math.Min(lo, float64(l.min)), math.Max(hi, float64(l.max))
		}
	}
	if hi == 0 {
		lo, hi = 1, 1000
	}
	xs := newLogScale(lo, hi, padL, chartW-24)
	py := func(f float64) float64 { return padT + chartH - f*chartH }
	for _, t := range xs.ticks() {
		x := xs.px(t)
		fmt.Fprintf(&b, `<line class="grid" x1="%.1f" y1="%d" x2="%.1f" y2="%d"/>`, x, padT, x, padT+chartH)
		fmt.Fprintf(&b, `<text class="tick xtick" x="%.1f" y="%d" text-anchor="middle" data-value="%g">%s</text>`, x, padT+chartH+16, t, svgText(microsText(t)))
	}
	for _, f := range []float64{0, 0.25, 0.5, 0.75, 1} {
		fmt.Fprintf(&b, `<text class="tick" x="%d" y="%.1f" text-anchor="end">%.2f</text>`, padL-4, py(f)+4, f)
	}
	fmt.Fprintf(&b, `<line class="axis" x1="%d" y1="%d" x2="%d" y2="%d"/>`, padL, padT+chartH, chartW-24, padT+chartH)
	fmt.Fprintf(&b, `<line class="axis" x1="%d" y1="%d" x2="%d" y2="%d"/>`, padL, padT, padL, padT+chartH)
	colors, dashes := [2]string{"#2b7bb9", "#d35400"}, [2]string{"", ` stroke-dasharray="7 3"`}
	for k, l := range sides {
		// the legend at the bottom right, where a distribution function
		// has no line (few responses are that slow)
		ly, lx := padT+chartH-30+18*k, chartW-30
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"%s/>`, lx-24, ly-4, lx, ly-4, colors[k], dashes[k])
		if l == nil || l.Count() == 0 {
			fmt.Fprintf(&b, `<text class="legend" x="%d" y="%d" text-anchor="end">%s: no good response</text>`, lx-30, ly, svgText(names[k]))
			continue
		}
		fmt.Fprintf(&b, `<text class="legend" x="%d" y="%d" text-anchor="end">%s: %d responses, p50 %s, p95 %s</text>`, lx-30, ly,
			svgText(names[k]), l.Count(), svgText(round(l.Percentile(50)).String()), svgText(round(l.Percentile(95)).String()))
		pts := []string{fmt.Sprintf("%.1f,%.1f", xs.px(float64(l.min)), py(0))}
		lastX, lastY := xs.px(float64(l.min)), py(0)
		var seen int64
		l.each(func(idx int, n int64) bool {
			seen += n
			_, top := latencyRange(idx)
			x, y := xs.px(float64(min(top, l.max))), py(float64(seen)/float64(l.count))
			if x-lastX >= 0.5 || seen == l.count {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", x, lastY), fmt.Sprintf("%.1f,%.1f", x, y))
				lastX = x
			} else {
				pts[len(pts)-1] = fmt.Sprintf("%.1f,%.1f", lastX, y) // the same pixel: rise in place
			}
			lastY = y
			return true
		})
		fmt.Fprintf(&b, `<polyline class="cdf-line" data-side="%s" fill="none" stroke="%s" stroke-width="2"%s points="%s"/>`,
			svgText(names[k]), colors[k], dashes[k], strings.Join(pts, " "))
	}
	axisTitles(&b, "latency (logarithmic scale)", "fraction of responses ≤ latency", h)
	b.WriteString(`</svg>`)
	return chartHTML(&b)
}

// intervalSVG draws each metric's change as a point with its interval,
// against the zero line and the minimum effect (dashed): the metric
// regressed when the whole bar lies beyond zero and the point beyond the
// dashed line; it shows no regression when the bar ends before the
// dashed line.
func intervalSVG(ds []Delta, minEffect float64, duet bool) template.HTML {
	var rows []Delta
	for _, d := range ds {
		if d.Metric != "error rate" && d.Metric != "step" {
			rows = append(rows, d)
		}
	}
	if len(rows) == 0 {
		return ""
	}
	const rowH = 30
	h := padT + rowH*len(rows) + padB
	lo, hi := -2*minEffect, 2*minEffect
	for _, d := range rows {
		for _, x := range []float64{d.Change, d.Low, d.High} {
			if !math.IsNaN(x) && !math.IsInf(x, 0) && (x != d.Low || d.bounded()) && (x != d.High || d.bounded()) {
				lo, hi = math.Min(lo, x), math.Max(hi, x)
			}
		}
	}
	lo, hi = math.Max(lo, -1), math.Min(hi, 4) // -100% … +400%; beyond, bars stop at the edge
	if hi-lo < 0.01 {
		lo, hi = lo-0.1, hi+0.1 // a comparison made by hand without a minimum effect
	}
	pad := (hi - lo) * 0.05
	sc := linearScale{lo: lo - pad, hi: hi + pad, p0: padL, p1: chartW - 24}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart intervals" viewBox="0 0 %d %d" role="img" aria-label="changes with their intervals">`, chartW, h)
	bottom := padT + rowH*len(rows)
	for _, t := range linearTicks(lo, hi) {
		x := sc.px(t)
		fmt.Fprintf(&b, `<line class="grid" x1="%.1f" y1="%d" x2="%.1f" y2="%d"/>`, x, padT, x, bottom)
		fmt.Fprintf(&b, `<text class="tick xtick" x="%.1f" y="%d" text-anchor="middle" data-value="%g">%s</text>`, x, bottom+16, t, svgText(relTick(t)))
	}
	fmt.Fprintf(&b, `<line class="axis" x1="%d" y1="%d" x2="%d" y2="%d"/>`, padL, bottom, chartW-24, bottom)
	fmt.Fprintf(&b, `<line class="zero" x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#333" stroke-width="1.5"/>`, sc.px(0), padT, sc.px(0), bottom)
	for i, d := range rows {
		y := float64(padT + rowH*i + rowH/2)
		fmt.Fprintf(&b, `<text class="tick" x="%d" y="%.1f" text-anchor="end">%s</text>`, padL-6, y+4, svgText(d.Metric))
		me := minEffect
		if d.Metric == "iter/s" { // fewer is worse
			me = -me
		}
		fmt.Fprintf(&b, `<line class="min-effect" data-value="%g" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#c0392b" stroke-dasharray="4 3"/>`,
			me, sc.px(me), y-rowH/2+3, sc.px(me), y+rowH/2-3)
		if math.IsNaN(d.Change) {
			fmt.Fprintf(&b, `<text class="tick" x="%.1f" y="%.1f">no data on a side</text>`, sc.px(0)+6, y+4)
			continue
		}
		low, high, cls := d.Low, d.High, "ci"
		if !d.bounded() {
			low, high, cls = sc.lo, sc.hi, "ci unbounded"
		}
		color := verdictColor(d.Verdict)
		fmt.Fprintf(&b, `<line class="%s" data-metric="%s" data-low="%g" data-high="%g" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="3"/>`,
			cls, svgText(d.Metric), d.Low, d.High, sc.px(low), y, sc.px(high), y, color)
		for _, e := range []float64{low, high} {
			if e > sc.lo && e < sc.hi {
				fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="2"/>`, sc.px(e), y-6, sc.px(e), y+6, color)
			}
		}
		fmt.Fprintf(&b, `<circle class="estimate" data-metric="%s" data-change="%g" cx="%.1f" cy="%.1f" r="5" fill="%s"><title>%s %s: %s</title></circle>`,
			svgText(d.Metric), d.Change, sc.px(d.Change), y, color, svgText(d.Metric), svgText(d.ChangeText()), svgText(string(d.Verdict)))
	}
	what := "change, new / old − 1"
	if duet {
		what = "change, B / A − 1"
	}
	axisTitles(&b, what+" (dashed: the minimum effect)", "", h)
	b.WriteString(`</svg>`)
	return chartHTML(&b)
}

// linearScale maps values to pixels; values outside stay at its ends.
type linearScale struct{ lo, hi, p0, p1 float64 }

func (s linearScale) px(v float64) float64 {
	v = min(max(v, s.lo), s.hi)
	return s.p0 + (v-s.lo)/(s.hi-s.lo)*(s.p1-s.p0)
}

// relTick labels a relative change on an axis: "+20%", "0%".
func relTick(x float64) string {
	if math.Abs(x) < 1e-12 {
		return "0%"
	}
	return fmt.Sprintf("%+.4g%%", x*100)
}

// comparisonBody is a comparison's part of a page: on its own page, and
// under the assertion that made it on a report's (Sub).
const comparisonBody = `{{define "comparison"}}<p class="verdict {{.HeadClass}}"><strong>{{.Headline}}</strong></p>
{{range .Lines}}<p>{{.}}</p>{{end}}
<p class="method"><small>{{.Method}}</small></p>
{{range .Groups}}{{if $.Sub}}<h4>{{.Name}}</h4>{{else}}<h2>{{.Name}}</h2>{{end}}
<p class="{{.Class}}"><strong>{{.Verdict}}</strong>: {{.Why}}</p>
<div class="charts">{{.CDF}}{{.Intervals}}</div>
<table><tr><th class="l">metric</th><th>old</th><th>new</th><th>change [interval]</th><th>p</th><th>n</th><th class="l">verdict</th><th class="l">why</th></tr>
{{range .Rows}}<tr><td class="l">{{.Metric}}</td><td>{{.Old}}</td><td>{{.New}}</td><td>{{.Change}}</td><td>{{.P}}</td><td>{{.N}}</td><td class="l {{.Class}}">{{.Verdict}}</td><td class="l">{{.Why}}</td></tr>
{{end}}</table>
{{end}}{{end}}`

var comparePage = template.Must(template.Must(template.New("comparison page").Parse(comparisonBody)).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>{{.Style}}</style></head><body>
<h1>{{.Title}}</h1>
{{template "comparison" .}}
</body></html>
`))
