package loadtest_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/benchgate/benchgate/engine"
	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/matchers"
	"github.com/benchgate/benchgate/scenario"
)

// hostile is what a server under test might put in a body that a report
// quotes: it must be shown, never run.
const hostile = `<img src=x onerror="document.title='pwned'"><script>document.title='pwned'</script>`

func htmlReport(t *testing.T) *loadtest.Report {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/bad" {
			w.WriteHeader(500)
			io.WriteString(w, hostile)
			return
		}
		time.Sleep(time.Duration(1+len(r.URL.RawQuery)%3) * time.Millisecond)
		io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	run := scenario.Run("shop", scenario.Get("/page?{{iteration}}"), scenario.Get("/bad").Named(hostileStep)).Order(scenario.DepthFirst).Repeat(1_000_000)
	report, err := loadtest.New(loadtest.Runs(run), loadtest.BaseURL(srv.URL), loadtest.TimeLimit(1200*time.Millisecond)).Execute(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// the matchers' verdicts, recorded on the report for its page
	g := gomega.NewGomega(func(string, ...int) {})
	g.Expect(report.Run("shop").Step(0)).To(matchers.HaveNoFailures())
	g.Expect(report.Run("shop").Step(0)).To(matchers.HavePercentileBelow(95, time.Minute))
	g.Expect(report).To(matchers.HaveNoFailures())
	return report
}

// TestHTMLReport: the page holds charts with data points, and quotes the
// server's hostile text escaped.
func TestHTMLReport(t *testing.T) {
	var b bytes.Buffer
	if err := htmlReport(t).WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	if strings.Contains(page, "<script") || strings.Contains(page, "<img") {
		t.Error("server text reached the page unescaped")
	}
	if !strings.Contains(page, "&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;") {
		t.Error("the hostile sample is not shown")
	}
	if n := len(regexp.MustCompile(`<polyline [^>]*points="[0-9.]+,[0-9.]+ [0-9.]+,`).FindAllString(page, -1)); n < 4 {
		t.Errorf("%d line series with points", n)
	}
	if !strings.Contains(page, `class="bar"`) {
		t.Error("no histogram bars")
	}
	for _, want := range []string{
		// the matchers' verdicts
		`<td class="l v-pass"><strong>pass</strong></td><td class="l">HaveNoFailures()</td><td class="l">run &#34;shop&#34; step 1`,
		`<td class="l v-pass"><strong>pass</strong></td><td class="l">HavePercentileBelow(95, 1m0s)</td>`,
		`<td class="l v-fail"><strong>fail</strong></td><td class="l">HaveNoFailures()</td><td class="l">report</td>`,
		// axis titles
		"time since the start (s), by when the request started", "requests per second", "requests in flight (mean)",
		"latency (logarithmic scale)", "responses per bin", "time from the request&#39;s start",
		// the load and the phases
		`data-series="in flight"`, `data-series="started/s"`, `class="phase" data-phase="send + wait"`, `class="phase-p50" data-phase="first byte"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	assertInertReport(t, page)
}

// assertInertReport checks that the hostile step name is text only.
func assertInertReport(t *testing.T, page string) {
	t.Helper()
	if strings.Contains(page, "<svg onload") || strings.Contains(page, `onload="document`) {
		t.Error("the hostile step name reached the page as markup")
	}
	if !strings.Contains(page, "&gt;&lt;svg onload=") {
		t.Error("the hostile step name is not shown as text")
	}
}

// rampReport executes virtual users ramping from 1 to 4 over three
// steps for 3 seconds: a page whose charts have something to show.
func rampReport(t *testing.T) *loadtest.Report {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/login":
			time.Sleep(2 * time.Millisecond)
		case "/cart":
			time.Sleep(5 * time.Millisecond)
		}
		io.WriteString(w, strings.Repeat("benchgate ", 2000))
	}))
	t.Cleanup(srv.Close)
	run := scenario.Run("checkout", scenario.Get("/login").Named("GET /login"), scenario.Get("/cart").Named("GET /cart"), scenario.Get("/page").Named("GET /page"))
	report, err := loadtest.New(loadtest.Runs(run), loadtest.BaseURL(srv.URL), loadtest.TimeLimit(3*time.Second),
		loadtest.VirtualUsers(engine.VUs{Start: 1, Max: 4, RampUp: 2 * time.Second, Rounds: engine.RoundsForever})).Execute(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	g := gomega.NewGomega(func(string, ...int) {})
	g.Expect(report).To(matchers.HaveNoFailures())
	g.Expect(report.Run("checkout").StepNamed("GET /cart")).To(matchers.HavePercentileBelow(95, time.Second))
	g.Expect(report).To(matchers.HaveLatency(loadtest.FirstByte, matchers.Percentile(99), gomega.BeNumerically("<", time.Minute)))
	return report
}

// TestHTMLReportInChromium opens the page in headless Chromium, checks
// that the charts rendered with data points, the matchers' verdicts
// show and nothing from the server ran, and saves a screenshot of a
// ramping execution's page ($BENCHGATE_SCREENSHOT_DIR, else the test's
// temporary directory).
func TestHTMLReportInChromium(t *testing.T) {
	findChromium(t)
	dir := t.TempDir()
	write := func(name string, r *loadtest.Report) string {
		path := filepath.Join(dir, name)
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.WriteHTML(f); err != nil {
			t.Fatal(err)
		}
		f.Close()
		return path
	}
	dom := renderInChromium(t, write("hostile.html", htmlReport(t)), filepath.Join(dir, "hostile.png"), "1100,1600")
	if strings.Contains(dom, "pwned</title>") || strings.Contains(dom, `<img src="x"`) || strings.Contains(dom, "<script>document") || strings.Contains(dom, "<svg onload") {
		t.Errorf("the server's text or the step name ran or became markup in the browser")
	}
	if !strings.Contains(dom, "&lt;script&gt;document.title='pwned'&lt;/script&gt;") {
		t.Errorf("the hostile sample is not shown as text")
	}
	dom = renderInChromium(t, write("report.html", rampReport(t)), filepath.Join(screenshotDir(t), "report.png"), "1100,2000")
	if n := len(regexp.MustCompile(`<polyline [^>]*points="[0-9.]+,[0-9.]+ [0-9.]+,`).FindAllString(dom, -1)); n < 8 {
		t.Errorf("the rendered DOM has %d line series with points", n)
	}
	if n := strings.Count(dom, `<strong>pass</strong>`); n != 3 {
		t.Errorf("the rendered DOM shows %d passed assertions, want 3", n)
	}
	if n := strings.Count(dom, `class="phase-p50" data-phase="first byte"`); n != 3 {
		t.Errorf("the rendered DOM has %d phase breakdowns, want one per step (3)", n)
	}
}

// TestHTMLArrivalRate: an open model's page draws the iterations
// started per second of each run; a closed model's has no such chart.
func TestHTMLArrivalRate(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	t.Cleanup(srv.Close)
	a := engine.Arrivals{Rate: 100, Duration: 600 * time.Millisecond, MaxVUs: 4}
	r, err := loadtest.New(loadtest.Runs(scenario.Run("browse", scenario.Get("/a"), scenario.Get("/b")), scenario.Run("buy", scenario.Get("/c"))),
		loadtest.BaseURL(srv.URL), loadtest.ArrivalRate(a)).Execute(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := r.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{`aria-label="arrival rate over time"`, "iterations started per second", `data-series="run browse"`, `data-series="run buy"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	b.Reset()
	if err := htmlReport(t).WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "arrival rate over time") {
		t.Error("a closed model's page draws an arrival rate")
	}
}
