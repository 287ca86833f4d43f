package loadtest

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/benchgate/benchgate/scenario"
)

// WriteHTML writes the report as one self-contained HTML page: totals,
// the assertions the matchers recorded on it so far (Assertions; the
// comparison of NotRegressFrom drawn as Comparison.WriteHTML draws
// it), the execution's requests per second and requests in flight over
// time, then per step its counts and percentiles, its latency
// percentiles over time, its latency histogram, its phase breakdown
// (connect, TLS handshake, first byte, body) and its failure samples.
// Charts are inline SVG drawn here, each with its axis titles: the file
// needs no network and no script to view. Every string that came from
// a server or a spec is escaped, and secrets in it redacted.
func (r *Report) WriteHTML(w io.Writer) error {
	return htmlPage.Execute(w, r.htmlView())
}

type htmlView struct {
	Style    template.CSS
	Title    string
	Totals   [][2]string
	Timeline template.HTML
	Load     template.HTML
	Arrivals template.HTML
	Runs     []htmlRun
	// Assertions are the matchers' verdicts recorded on the report;
	// Dropped counts the older ones no longer kept.
	Assertions []htmlAssertion
	Dropped    int
	// Comparisons are those the assertions made (NotRegressFrom)
	Comparisons []htmlComparison
}

type htmlAssertion struct {
	Outcome, Class, Matcher, Subject, Message string
}

// htmlComparison is a comparison an assertion made, drawn on the page.
type htmlComparison struct {
	Matcher string
	View    cmpView
}

type htmlRun struct {
	Name  string
	Steps []htmlStep
}

type htmlStep struct {
	Label string
	// NeverSent says why the step was never sent, or ""
	NeverSent string
	Cells     []string
	OverTime  template.HTML
	Histogram template.HTML
	Phases    template.HTML
	Failures  []htmlFailure
}

type htmlFailure struct {
	Count  int64
	Reason string
	Sample string
}

func (r *Report) htmlView() htmlView {
	v := htmlView{Style: template.CSS(pageStyle), Title: fmt.Sprintf("benchgate report, %s", r.Started.Format(time.RFC1123))}
	as, dropped := r.Assertions()
	v.Dropped = dropped
	drawn := map[*Comparison]bool{}
	for _, a := range as {
		ha := htmlAssertion{Outcome: string(a.Outcome), Matcher: redact(a.Matcher), Subject: redact(a.Subject), Message: redact(printableLines(a.Message))}
		switch a.Outcome {
		case Passed:
			ha.Class = "v-pass"
		case Failed:
			ha.Class = "v-fail"
		default:
			ha.Class = "v-none"
		}
		if c := a.Comparison; c != nil {
			if a.Outcome == Passed {
				h, _, lines := c.headline()
				ha.Message = redact(strings.Join(append([]string{h + "."}, lines...), " "))
			}
			if !drawn[c] {
				drawn[c] = true
				cv := c.htmlView()
				cv.Sub = true
				v.Comparisons = append(v.Comparisons, htmlComparison{Matcher: ha.Matcher, View: cv})
			}
		}
		v.Assertions = append(v.Assertions, ha)
	}
	v.Totals = [][2]string{
		{"requests", fmt.Sprintf("%d configured, %d sent, %d good, %d failed, %d interrupted, %d not sent, %d not started",
			r.RequestsConfigured, r.RequestsSent, r.goodResponses(), r.ResponsesFailed, r.RequestsInterrupted, r.RequestsNotSent, r.RequestsNotStarted)},
		{"time", fmt.Sprintf("%v (%.1f requests/s), concurrency %d, %s", r.TotalTime.Round(time.Millisecond), r.RequestsPerSecond(), r.Concurrency, r.Priority)},
		{"bytes", fmt.Sprintf("%d received, %d sent", r.BytesReceived, r.BytesSent)},
	}
	if r.StoppedBy != "" {
		v.Totals = append(v.Totals, [2]string{"stopped", r.StoppedBy})
	}
	if m := r.Shard; m != nil {
		v.Totals = append(v.Totals, [2]string{"shard", fmt.Sprintf("%s of plan %s", m, short(m.PlanHash))})
	}
	if len(r.Shards) > 0 {
		var b strings.Builder
		writeShards(&b, r.Shards)
		v.Totals = append(v.Totals, [2]string{"shards", strings.ReplaceAll(strings.TrimSpace(b.String()), "\n  ", "; ")})
	}
	if len(r.MissingShards) > 0 {
		v.Totals = append(v.Totals, [2]string{"missing shards", missingShardsError(r.MissingShards, len(r.Shards)+len(r.MissingShards)).Error()})
	}
	if a := r.Arrivals; a != nil {
		v.Totals = append(v.Totals, [2]string{"arrivals", fmt.Sprintf("%d planned, %d started (%.1f/s), %d dropped; start lag p50 %v, p99 %v, max %v",
			a.Planned, a.Started, a.Rate, a.Dropped, round(a.Lag.Percentile(50)), round(a.Lag.Percentile(99)), round(a.Lag.Max()))})
		if a.Dropped > 0 {
			v.Totals = append(v.Totals, [2]string{"dropped", fmt.Sprintf("FAILED: %d arrivals were due and never started (no VU free within MaxLag): the rate was not kept; each step's percentiles leave out their requests", a.Dropped)})
		}
	}
	for _, why := range r.StepsNeverSent() {
		v.Totals = append(v.Totals, [2]string{"never ran", why})
	}
	for _, w := range r.Warnings {
		v.Totals = append(v.Totals, [2]string{"warning", w})
	}
	v.Timeline = timelineSVG(r.Timeline)
	v.Load = loadSVG(r.Timeline, r.TotalTime)
	v.Arrivals = arrivalsSVG(r)
	for _, run := range r.Runs {
		hr := htmlRun{Name: run.Name}
		for _, s := range run.Steps {
			hs := htmlStep{Label: s.Label(), NeverSent: s.NeverSent(), Cells: []string{
				fmt.Sprint(s.Sent), fmt.Sprint(s.Good), fmt.Sprint(s.Failed), fmt.Sprint(s.Interrupted), fmt.Sprint(s.NotSent),
			}}
			for _, p := range []float64{50, 90, 95, 99} {
				hs.Cells = append(hs.Cells, pct(s.Latency, p))
			}
			hs.Cells = append(hs.Cells, pct(s.Latency, 100))
			hs.OverTime = overTimeSVG(s.Windows, r.Window)
			hs.Histogram = histogramSVG(s.Latency)
			hs.Phases = phaseSVG(s)
			reasons := make([]string, 0, len(s.Failures)+len(s.Unsent))
			counts := map[string]int64{}
			for k, n := range s.Failures {
				reasons, counts[k] = append(reasons, k), n
			}
			for k, n := range s.Unsent {
				reasons, counts["not sent: "+k] = append(reasons, "not sent: "+k), n
			}
			if run.Dropped > 0 {
				k := "dropped arrivals: due and never sent (no VU free within MaxLag); not in the percentiles"
				reasons, counts[k] = append(reasons, k), run.Dropped
			}
			sort.Slice(reasons, func(i, j int) bool { return counts[reasons[i]] > counts[reasons[j]] })
			for _, k := range reasons {
				// redacted when made; again here for a report read from a file
				f := htmlFailure{Count: counts[k], Reason: scenario.RedactText(k)}
				if smp, ok := s.Samples[strings.TrimPrefix(k, "not sent: ")]; ok {
					smp.URL, smp.Body = scenario.RedactText(smp.URL), scenario.RedactText(smp.Body)
					f.Sample = smp.String()
				}
				hs.Failures = append(hs.Failures, f)
			}
			hr.Steps = append(hr.Steps, hs)
		}
		v.Runs = append(v.Runs, hr)
	}
	return v
}

func pct(l *Latency, p float64) string {
	if l == nil || l.Count() == 0 {
		return "–"
	}
	return round(l.Percentile(p)).String()
}

// printableLines is Printable line by line: a message keeps its lines.
func printableLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = Printable(l)
	}
	return strings.Join(lines, "\n")
}

// svgText escapes text for an SVG text node or attribute.
func svgText(s string) string { return template.HTMLEscapeString(s) }

const chartW, chartH, padL, padB, padT = 640, 200, 72, 44, 12

// lineChart draws series (each a list of y values at x) on shared axes.
func lineChart(title, yUnit, xTitle, yTitle string, xs []float64, maxX float64, xLabel func(float64) string, series []struct {
	name  string
	color string
	ys    []float64
}) template.HTML {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s">`, chartW, chartH+padB+padT, svgText(title))
	maxY := 0.0
	for _, s := range series {
		for _, y := range s.ys {
			if !math.IsNaN(y) {
				maxY = math.Max(maxY, y)
			}
		}
	}
	for _, x := range xs {
		maxX = math.Max(maxX, x)
	}
	if maxY == 0 {
		maxY = 1
	}
	if maxX == 0 {
		maxX = 1
	}
	px := func(x float64) float64 { return padL + x/maxX*(chartW-padL-24) }
	py := func(y float64) float64 { return padT + chartH - y/maxY*chartH }
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" class="axis"/>`, padL, padT+chartH, chartW-24, padT+chartH)
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" class="axis"/>`, padL, padT, padL, padT+chartH)
	for i := 0; i <= 4; i++ {
		y := maxY * float64(i) / 4
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" class="tick" text-anchor="end">%s</text>`, padL-4, py(y)+4, svgText(fmtY(y, yUnit)))
	}
	for i := 0; i <= 4; i++ {
		x := maxX * float64(i) / 4
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" class="tick" text-anchor="middle">%s</text>`, px(x), padT+chartH+16, svgText(xLabel(x)))
	}
	for k, s := range series {
		var pts []string
		for i, y := range s.ys {
			if i < len(xs) && !math.IsNaN(y) {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(xs[i]), py(y)))
			}
		}
		if len(pts) == 1 {
			pts = append(pts, pts[0])
		}
		fmt.Fprintf(&b, `<polyline class="series" data-series="%s" fill="none" stroke="%s" stroke-width="1.5" points="%s"/>`,
			svgText(s.name), s.color, strings.Join(pts, " "))
		if len(s.ys) <= 60 { // few points: mark each, so a lone one shows
			for _, pt := range pts {
				x, y, _ := strings.Cut(pt, ",")
				fmt.Fprintf(&b, `<circle cx="%s" cy="%s" r="2.5" fill="%s"/>`, x, y, s.color)
			}
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" class="legend" fill="%s">%s</text>`, padL+8+k*90, padT+10, s.color, svgText(s.name))
	}
	axisTitles(&b, xTitle, yTitle, chartH+padB+padT)
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // every piece of text above went through svgText
}

func fmtY(y float64, unit string) string {
	if unit == "µs" {
		return round(time.Duration(y) * time.Microsecond).String()
	}
	switch {
	case y >= 100 || y == 0:
		return fmt.Sprintf("%.0f", y)
	case y < 1:
		return fmt.Sprintf("%.2g", y) // a fraction of a request in flight
	}
	return fmt.Sprintf("%.1f", y)
}

// overTimeSVG draws a step's p50, p95 and p99 per time window.
func overTimeSVG(ws []Window, size time.Duration) template.HTML {
	if size <= 0 {
		size = DefaultWindow
	}
	xs := make([]float64, len(ws))
	series := []struct {
		name  string
		color string
		ys    []float64
	}{{"p50", "#2b7bb9", nil}, {"p95", "#e08a1e", nil}, {"p99", "#c0392b", nil}}
	for i, w := range ws {
		xs[i] = (time.Duration(i)*size + size/2).Seconds() // the window's middle
		for k, p := range []float64{50, 95, 99} {
			y := math.NaN()
			if w.Latency != nil && w.Latency.Count() > 0 {
				y = float64(w.Latency.Percentile(p) / time.Microsecond)
			}
			series[k].ys = append(series[k].ys, y)
		}
	}
	return lineChart("latency percentiles over time", "µs", "time since the start (s), by when the request started", "latency", xs, (time.Duration(len(ws)) * size).Seconds(),
		func(x float64) string { return fmt.Sprintf("%.2gs", x) }, series)
}

// timelineSVG draws good responses and failures per second.
func timelineSVG(tl []Second) template.HTML {
	xs := make([]float64, len(tl))
	series := []struct {
		name  string
		color string
		ys    []float64
	}{{"good/s", "#2b7bb9", nil}, {"failed/s", "#c0392b", nil}, {"interrupted/s", "#7f8c8d", nil}, {"started/s", "#8e44ad", nil}}
	for i, s := range tl {
		xs[i] = float64(s.At) + 0.5
		series[0].ys = append(series[0].ys, float64(s.Good))
		series[1].ys = append(series[1].ys, float64(s.Failed))
		series[2].ys = append(series[2].ys, float64(s.Interrupted))
		series[3].ys = append(series[3].ys, float64(s.Sent))
	}
	return lineChart("throughput and errors over time", "/s", "time since the start (s), by when the request started", "requests per second", xs, float64(len(tl)),
		func(x float64) string { return fmt.Sprintf("%.2gs", x) }, series)
}

// histogramSVG draws a latency histogram in 24 logarithmic bins.
func histogramSVG(l *Latency) template.HTML {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="latency histogram">`, chartW, chartH+padB+padT)
	if l == nil || l.Count() == 0 {
		fmt.Fprintf(&b, `<text x="%d" y="%d" class="tick">no good response</text></svg>`, padL, padT+chartH/2)
		return template.HTML(b.String())
	}
	const bins = 24
	lo, hi := math.Max(float64(l.min), 1), math.Max(float64(l.max), float64(l.min)+1)
	counts := make([]int64, bins)
	edge := func(i int) float64 { return lo * math.Pow(hi/lo, float64(i)/bins) }
	l.each(func(idx int, n int64) bool {
		from, to := latencyRange(idx)
		v := float64(from+to) / 2
		i := int(math.Log(v/lo) / math.Log(hi/lo) * bins)
		counts[min(max(i, 0), bins-1)] += n
		return true
	})
	var most int64
	for _, c := range counts {
		most = max(most, c)
	}
	barW := float64(chartW-padL-8) / bins
	for i, c := range counts {
		h := float64(c) / float64(most) * chartH
		fmt.Fprintf(&b, `<rect class="bar" x="%.1f" y="%.1f" width="%.1f" height="%.1f" data-count="%d"><title>≤ %s: %d</title></rect>`,
			padL+float64(i)*barW+1, padT+chartH-h, barW-2, h, c, svgText(round(time.Duration(edge(i+1))*time.Microsecond).String()), c)
	}
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" class="axis"/>`, padL, padT+chartH, chartW-8, padT+chartH)
	// ticks at the 1-2-5 latencies inside the bins' range, else at its ends
	var ticks []float64
	for _, t := range newLogScale(lo, hi, 0, 1).ticks() {
		if t >= lo && t <= hi {
			ticks = append(ticks, t)
		}
	}
	if len(ticks) < 2 { // the ends, and a round value between them clear of their labels
		inside := ticks
		ticks = []float64{lo, hi}
		for _, t := range inside {
			if f := math.Log(t/lo) / math.Log(hi/lo); f > 0.15 && f < 0.85 {
				ticks = append(ticks, t)
			}
		}
	}
	for _, t := range ticks {
		x, anchor := padL+math.Log(t/lo)/math.Log(hi/lo)*bins*barW, "middle"
		if x > chartW-40 {
			anchor = "end" // the last label stays inside the chart
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" class="tick xtick" text-anchor="%s" data-value="%g">%s</text>`, x, padT+chartH+16, anchor, t,
			svgText(round(time.Duration(t)*time.Microsecond).String()))
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" class="tick" text-anchor="end">%d</text>`, padL-4, padT+8, most)
	fmt.Fprintf(&b, `<text x="%d" y="%d" class="tick" text-anchor="end">0</text>`, padL-4, padT+chartH)
	axisTitles(&b, "latency (logarithmic scale)", "responses per bin", chartH+padB+padT)
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

var htmlPage = template.Must(template.Must(template.New("report").Parse(comparisonBody)).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>{{.Style}}</style></head><body>
<h1>{{.Title}}</h1>
<table>{{range .Totals}}<tr><th class="l">{{index . 0}}</th><td class="l">{{index . 1}}</td></tr>{{end}}</table>
<h2>Assertions</h2>
{{if .Assertions}}<table class="assertions"><tr><th class="l">outcome</th><th class="l">matcher</th><th class="l">on</th><th class="l">message</th></tr>
{{range .Assertions}}<tr><td class="l {{.Class}}"><strong>{{.Outcome}}</strong></td><td class="l">{{.Matcher}}</td><td class="l">{{.Subject}}</td><td class="l">{{if .Message}}<pre>{{.Message}}</pre>{{end}}</td></tr>
{{end}}</table>{{if .Dropped}}<p>{{.Dropped}} earlier assertions are not kept (at most 200 a report).</p>{{end}}
{{else}}<p>No assertion was recorded on this report: the matchers record theirs when they run, so write the page after them.</p>{{end}}
{{range .Comparisons}}<h3>The comparison of {{.Matcher}}</h3>
{{template "comparison" .View}}{{end}}
<h2>Throughput and load</h2>
<div class="charts">{{.Timeline}}{{.Load}}{{.Arrivals}}</div>
<p><small>Requests in flight: the good responses' latencies summed per second they started in (Little's law), the mean number of requests waiting on the server; failed and interrupted requests are not in it.</small></p>
{{range .Runs}}<h2>Run {{.Name}}</h2>
{{range .Steps}}<h3>{{.Label}}</h3>
{{if .NeverSent}}<p class="never"><strong>{{.NeverSent}}</strong></p>{{end}}
<table><tr><th>sent</th><th>good</th><th>failed</th><th>interrupted</th><th>not sent</th><th>p50</th><th>p90</th><th>p95</th><th>p99</th><th>max</th></tr>
<tr>{{range .Cells}}<td>{{.}}</td>{{end}}</tr></table>
<div class="charts">{{.OverTime}}{{.Histogram}}{{.Phases}}</div>
{{if .Failures}}<table class="failures"><tr><th>count</th><th class="l">reason</th><th class="l">first sample</th></tr>
{{range .Failures}}<tr><td>{{.Count}}</td><td class="l"><pre>{{.Reason}}</pre></td><td class="l"><pre>{{.Sample}}</pre></td></tr>{{end}}</table>{{end}}
{{end}}{{end}}
</body></html>
`))
