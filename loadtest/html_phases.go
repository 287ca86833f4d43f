package loadtest

import (
	"fmt"
	"html/template"
	"math"
	"strings"
	"time"
)

// loadSVG draws the load over time: the mean number of requests in
// flight in each second, by Little's law the summed latencies of the
// good responses that started in it over its length. With virtual
// users or slots it is how many of them were waiting on the server;
// failed and interrupted requests are not in it.
func loadSVG(tl []Second, total time.Duration) template.HTML {
	xs := make([]float64, len(tl))
	series := []struct {
		name  string
		color string
		ys    []float64
	}{{"in flight", "#16a085", nil}}
	for i, s := range tl {
		xs[i] = float64(s.At) + 0.5
		length := 1.0
		if rest := total.Seconds() - float64(s.At); i == len(tl)-1 && rest > 0.05 && rest < 1 {
			length = rest // the last second is cut short
		}
		series[0].ys = append(series[0].ys, s.LatencySum.Seconds()/length)
	}
	return lineChart("requests in flight over time", "", "time since the start (s), by when the request started", "requests in flight (mean)", xs, float64(len(tl)),
		func(x float64) string { return fmt.Sprintf("%.2gs", x) }, series)
}

// phaseShare is one part of a step's requests in its breakdown.
type phaseShare struct {
	name  string
	color string
	mean  float64 // µs per good response
}

// phaseSVG draws where a step's time went: the mean per good response
// split into connect, TLS handshake, sending and waiting for the first
// byte, and the body (stacked: means add up), then each phase's p50
// (bar) and p95 (whisker) from its histogram.
func phaseSVG(s *StepReport) template.HTML {
	var b strings.Builder
	n := int64(0)
	if s.Latency != nil {
		n = s.Latency.Count()
	}
	type row struct {
		name string
		l    *Latency
	}
	rows := []row{{"connect", s.Connect}, {"TLS handshake", s.TLSHandshake}, {"first byte", s.FirstByte}, {"response", s.Latency}}
	var shown []row
	for _, r := range rows {
		if r.l != nil && r.l.Count() > 0 {
			shown = append(shown, r)
		}
	}
	const rowH = 26
	h := padT + rowH*(len(shown)+2) + padB
	fmt.Fprintf(&b, `<svg class="chart phases" viewBox="0 0 %d %d" role="img" aria-label="phase breakdown">`, chartW, h)
	if n == 0 {
		fmt.Fprintf(&b, `<text x="%d" y="%d" class="tick">no good response</text></svg>`, padL, padT+20)
		return chartHTML(&b)
	}
	per := func(l *Latency) float64 {
		if l == nil {
			return 0
		}
		return l.sum / float64(n)
	}
	tls, conn, fb, total := per(s.TLSHandshake), per(s.Connect), per(s.FirstByte), per(s.Latency)
	shares := []phaseShare{
		{"connect", "#7f8c8d", math.Max(conn-tls, 0)},
		{"TLS", "#8e44ad", tls},
		{"send + wait", "#2b7bb9", math.Max(fb-conn, 0)},
		{"body", "#e08a1e", math.Max(total-fb, 0)},
	}
	maxX := total
	for _, r := range shown {
		maxX = math.Max(maxX, float64(r.l.Percentile(95)/time.Microsecond))
	}
	sc := linearScale{lo: 0, hi: math.Max(maxX, 1), p0: padL + 40, p1: chartW - 24}
	bottom := padT + rowH*(len(shown)+2)
	for _, t := range linearTicks(0, sc.hi) {
		x := sc.px(t)
		fmt.Fprintf(&b, `<line class="grid" x1="%.1f" y1="%d" x2="%.1f" y2="%d"/>`, x, padT, x, bottom)
		fmt.Fprintf(&b, `<text class="tick xtick" x="%.1f" y="%d" text-anchor="middle" data-value="%g">%s</text>`, x, bottom+16, t, svgText(microsText(t)))
	}
	fmt.Fprintf(&b, `<line class="axis" x1="%.1f" y1="%d" x2="%d" y2="%d"/>`, sc.p0, bottom, chartW-24, bottom)
	// the stacked means
	y := float64(padT + rowH/2)
	fmt.Fprintf(&b, `<text class="tick" x="%.1f" y="%.1f" text-anchor="end">mean</text>`, sc.p0-6, y+4)
	at := 0.0
	for _, p := range shares {
		if p.mean <= 0 {
			continue
		}
		fmt.Fprintf(&b, `<rect class="phase" data-phase="%s" data-mean="%.1f" x="%.1f" y="%.1f" width="%.1f" height="14" fill="%s"><title>%s: %s per response</title></rect>`,
			p.name, p.mean, sc.px(at), y-7, sc.px(at+p.mean)-sc.px(at), p.color, p.name, svgText(microsText(p.mean)))
		at += p.mean
	}
	// the legend of the stack
	lx := sc.p0
	ly := float64(padT + rowH + rowH/2)
	for _, p := range shares {
		if p.name == "TLS" && s.TLSHandshake == nil {
			continue
		}
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="10" height="10" fill="%s"/><text class="legend" x="%.1f" y="%.1f">%s %s</text>`,
			lx, ly-8, p.color, lx+14, ly+1, p.name, svgText(round(time.Duration(p.mean*1000)).String()))
		lx += 150
	}
	for i, r := range shown {
		y := float64(padT + rowH*(i+2) + rowH/2)
		p50, p95 := float64(r.l.Percentile(50)/time.Microsecond), float64(r.l.Percentile(95)/time.Microsecond)
		fmt.Fprintf(&b, `<text class="tick" x="%.1f" y="%.1f" text-anchor="end">%s</text>`, sc.p0-6, y+4, r.name)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#555"/>`, sc.px(p50), y, sc.px(p95), y)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#555"/>`, sc.px(p95), y-5, sc.px(p95), y+5)
		fmt.Fprintf(&b, `<rect class="phase-p50" data-phase="%s" x="%.1f" y="%.1f" width="%.1f" height="10" fill="#5d6d7e"><title>%s: p50 %s, p95 %s, %d observations</title></rect>`,
			r.name, sc.p0, y-5, sc.px(p50)-sc.p0, r.name, svgText(microsText(p50)), svgText(microsText(p95)), r.l.Count())
	}
	axisTitles(&b, "time from the request's start (bars: p50, whiskers: p95)", "", h)
	b.WriteString(`</svg>`)
	return chartHTML(&b)
}

// arrivalsSVG draws an open model's (ArrivalRate) iterations started
// per second, run by run: its first step's requests by the window they
// started in (interrupted ones left out; dropped arrivals never
// started). Nothing for a closed model.
func arrivalsSVG(r *Report) template.HTML {
	if r.Arrivals == nil {
		return ""
	}
	size := r.Window
	if size <= 0 {
		size = DefaultWindow
	}
	colors := []string{"#2b7bb9", "#e08a1e", "#16a085", "#8e44ad", "#c0392b"}
	var series []struct {
		name  string
		color string
		ys    []float64
	}
	n := 0
	for _, run := range r.Runs {
		if run == nil || len(run.Steps) == 0 || run.Steps[0] == nil {
			continue
		}
		ws := run.Steps[0].Windows
		ys := make([]float64, len(ws))
		for i, w := range ws {
			ys[i] = float64(w.Good+w.Failed) / size.Seconds()
		}
		n = max(n, len(ws))
		series = append(series, struct {
			name  string
			color string
			ys    []float64
		}{"run " + run.Name, colors[len(series)%len(colors)], ys})
	}
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = (time.Duration(i)*size + size/2).Seconds()
	}
	return lineChart("arrival rate over time", "/s", "time since the start (s), by when the iteration started", "iterations started per second", xs, (time.Duration(n) * size).Seconds(),
		func(x float64) string { return fmt.Sprintf("%.2gs", x) }, series)
}
