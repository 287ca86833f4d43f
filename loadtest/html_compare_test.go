package loadtest_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/matchers"
	"github.com/benchgate/benchgate/scenario"
)

// Hostile names a spec or a server could bring into a page.
const (
	hostileStep = `"><svg onload="document.title='pwned'">`
	hostileRun  = `<script>document.title='pwned'</script>`
	secretStep  = `GET /api?token=hunter2`
)

// comparedReports executes a plan of three steps (one of them slowed
// 3× on the candidate side) n times a side against a loopback server.
func comparedReports(t *testing.T, n int, hostile bool) (base, cur []*loadtest.Report) {
	t.Helper()
	var slow atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d := time.Millisecond
		if r.URL.Path == "/cart" {
			d = 2 * time.Millisecond
			if slow.Load() {
				d *= 3
			}
		}
		time.Sleep(d)
		io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	runName, pageName := "shop", "GET /page"
	if hostile {
		runName, pageName = hostileRun, hostileStep
	}
	exec := func() *loadtest.Report {
		run := scenario.Run(runName,
			scenario.Get("/page").Named(pageName),
			scenario.Get("/cart").Named("GET /cart"),
			scenario.Get("/api?token=hunter2").Named(secretStep),
		).Order(scenario.DepthFirst).Repeat(40)
		r, err := loadtest.New(loadtest.Runs(run), loadtest.BaseURL(srv.URL), loadtest.TimeLimit(2*time.Second)).Execute(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for range n {
		base = append(base, exec())
	}
	slow.Store(true)
	for range n {
		cur = append(cur, exec())
	}
	return base, cur
}

func comparisonPage(t *testing.T, c *loadtest.Comparison) string {
	t.Helper()
	var b bytes.Buffer
	if err := c.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestComparisonHTML: per step both sides' distributions and each
// change with its interval are drawn, the verdicts and why are in
// words, and the spec's hostile names stay text and its secret is
// redacted.
func TestComparisonHTML(t *testing.T) {
	base, cur := comparedReports(t, 5, true)
	c := loadtest.CompareExecutions(base, cur, loadtest.CompareOptions{Percentiles: []float64{50}, MinEffect: 0.3})
	page := comparisonPage(t, c)
	if len(c.Distributions()) != 3 {
		t.Fatalf("%d distributions, want 3 steps", len(c.Distributions()))
	}
	for _, d := range c.Distributions() {
		if d.Old == nil || d.New == nil || d.Old.Count() != 5*40 || d.New.Count() != 5*40 {
			t.Errorf("%s: the sides are not the 5 executions' responses merged: %v / %v", d.Step, d.Old, d.New)
		}
	}
	checks := []struct{ what, want string }{
		{"baseline drawn per step", `class="cdf-line" data-side="baseline"`},
		{"candidate drawn per step", `class="cdf-line" data-side="candidate"`},
		{"an estimate per metric with an interval", `class="estimate" data-metric="p50"`},
		{"an interval bar per metric", `class="ci" data-metric="p50"`},
	}
	for _, ck := range checks {
		if n := strings.Count(page, ck.want); n != 3 {
			t.Errorf("%s: %d times, want 3", ck.what, n)
		}
	}
	cart := c.Deltas[slicesIndex(c.Deltas, "GET /cart", "p50")]
	if cart.Verdict != loadtest.Regressed {
		t.Fatalf("the 3× slower step was judged %s:\n%s", cart.Verdict, c)
	}
	for _, want := range []string{
		"<strong>" + htmlEscape("Regressed: 1 metric(s)") + "</strong>",
		"<strong>REGRESSED</strong>: " + htmlEscape("p50 rose by "+cart.ChangeText()+": the whole interval lies beyond 0 and the change beyond the 30% minimum effect"),
		"latency (logarithmic scale)", "fraction of responses ≤ latency", "change, new / old − 1",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	assertInert(t, page)
}

// slicesIndex finds the delta of a step's metric.
func slicesIndex(ds []loadtest.Delta, step, metric string) int {
	for i, d := range ds {
		if d.Step == step && d.Metric == metric {
			return i
		}
	}
	return -1
}

// htmlEscape escapes as html/template escapes text.
func htmlEscape(s string) string {
	return strings.NewReplacer(`&`, "&amp;", `<`, "&lt;", `>`, "&gt;", `"`, "&#34;", `'`, "&#39;", "+", "&#43;").Replace(s)
}

// assertInert checks that the hostile names are shown as text only, and
// the secret not at all.
func assertInert(t *testing.T, page string) {
	t.Helper()
	if strings.Contains(page, "<script") || strings.Contains(page, "<svg onload") || strings.Contains(page, `onload="document`) {
		t.Error("a hostile name reached the page as markup")
	}
	if !strings.Contains(page, "&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;") {
		t.Error("the hostile run name is not shown as text")
	}
	if strings.Contains(page, "hunter2") {
		t.Error("the secret reached the page")
	}
}

// TestComparisonHTMLVerdicts: the page's headline and each step's words
// for every outcome, on comparisons made of known deltas.
func TestComparisonHTMLVerdicts(t *testing.T) {
	opts := loadtest.CompareOptions{MinEffect: 0.1, MinAbsolute: 100 * time.Microsecond, Alpha: 0.05}
	delta := func(v loadtest.Verdict, change, low, high float64, why string) loadtest.Delta {
		return loadtest.Delta{Run: "shop", Step: "GET /cart", Metric: "p95", Old: 1000, New: 1000 * (1 + change), Change: change, Low: low, High: high, P: 0.5, N: [2]int{5, 5}, Verdict: v, Why: why}
	}
	for _, tc := range []struct {
		name string
		c    loadtest.Comparison
		want []string
	}{
		{"regressed", loadtest.Comparison{Deltas: []loadtest.Delta{delta(loadtest.Regressed, 0.45, 0.2, 0.7, "")}},
			[]string{"Regressed: 1 metric(s)", "p95 rose by +45.0% [+20.0%, +70.0%]: the whole interval lies beyond 0"}},
		{"no regression", loadtest.Comparison{Deltas: []loadtest.Delta{delta(loadtest.NoRegression, 0.01, -0.03, 0.05, "")}},
			[]string{"No regression", "the interval +1.0% [-3.0%, +5.0%] ends at +5.0%, inside the 10% minimum effect"}},
		{"inconclusive", loadtest.Comparison{Deltas: []loadtest.Delta{delta(loadtest.Inconclusive, 0.45, -0.03, 0.9, "no verdict: +45.0% [-3.0%, +90.0%] after 12 pairs in 30s; give it a longer budget")}, Duet: true},
			[]string{"Inconclusive: no verdict on 1 metric(s)", "no verdict: +45.0% [-3.0%, +90.0%] after 12 pairs in 30s; give it a longer budget"}},
		{"refused", loadtest.Comparison{Refused: "this machine ran the calibration workload 2.00× slower", Deltas: []loadtest.Delta{delta(loadtest.Regressed, 0.45, 0.2, 0.7, "")}},
			[]string{"No verdict: refused", "this machine ran the calibration workload 2.00× slower", "not judged (refused)"}},
		{"missing", loadtest.Comparison{Deltas: []loadtest.Delta{{Run: "shop", Step: "GET /pay", Metric: "step", Verdict: loadtest.Missing, P: 1, Why: `run "shop" has no step named "GET /pay"`}}},
			[]string{"Regressed: 1 metric(s)", "MISSING", `run "shop" has no step named "GET /pay"`}},
		{"ungated", loadtest.Comparison{Deltas: []loadtest.Delta{delta(loadtest.NoRegression, 0, -0.02, 0.02, ""),
			{Run: "shop", Step: "GET /new", Metric: "step", Verdict: loadtest.Ungated, P: 1, Why: "not in the baseline, so not gated"}}},
			[]string{"No regression", "shop / GET /new is ungated: not in the baseline, so not gated."}},
		{"hostile reason", loadtest.Comparison{Deltas: []loadtest.Delta{{Run: hostileRun, Step: hostileStep, Metric: "step", Verdict: loadtest.Missing, P: 1, Why: "no step named " + hostileStep + "?password=hunter2"}}},
			[]string{"MISSING", "no step named &#34;&gt;&lt;svg onload="}},
		{"hostile refusal", loadtest.Comparison{Refused: "the baseline's machine: " + hostileRun + " password=hunter2"},
			[]string{"No verdict: refused", "the baseline&#39;s machine: &lt;script&gt;"}},
		{"reported", loadtest.Comparison{Deltas: []loadtest.Delta{{Run: "shop", Step: "(iterations)", Metric: "iter/s", Old: 100, New: 90, Change: -0.1, Low: -0.2, High: 0, P: 0.3, N: [2]int{5, 5}, Verdict: loadtest.Reported, Why: "closed model: follows from the latencies"}}},
			[]string{"run shop: iterations per second", "reported", "closed model: follows from the latencies"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.c.Options = opts
			page := comparisonPage(t, &tc.c)
			for _, w := range tc.want {
				if !strings.Contains(page, htmlEscape(w)) && !strings.Contains(page, w) {
					t.Errorf("the page lacks %q", w)
				}
			}
			if strings.Contains(page, "<script") || strings.Contains(page, "<svg onload") || strings.Contains(page, "hunter2") {
				t.Error("a hostile reason reached the page as markup, or a secret in it")
			}
		})
	}
}

// findChromium returns the path of a headless-capable Chromium, or
// skips the test.
func findChromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("Chromium is not installed here (Debian: apt-get install chromium)")
	return ""
}

// screenshotDir is where a test's screenshots go: $BENCHGATE_SCREENSHOT_DIR
// when set, else the test's temporary directory.
func screenshotDir(t *testing.T) string {
	if d := os.Getenv("BENCHGATE_SCREENSHOT_DIR"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// renderInChromium opens the page at path in headless Chromium and
// returns the DOM it built; it fails the test on a message the page
// logged to the console (an error, or a script that ran) and writes a
// screenshot of the given window size to shot.
func renderInChromium(t *testing.T, path, shot, size string) string {
	t.Helper()
	bin := findChromium(t)
	profile := t.TempDir()
	chrome := func(args ...string) (string, string) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
			"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
			"--enable-logging=stderr", "--v=0", "--hide-scrollbars", "--user-data-dir=" + profile}
		var err error
		for attempt := 0; attempt < 3; attempt++ { // headless Chromium now and then crashes at start
			cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
			var out, errs bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errs
			if err = cmd.Run(); err == nil {
				return out.String(), errs.String()
			}
		}
		t.Fatalf("chromium %v: %v", args, err)
		return "", ""
	}
	dom, logs := chrome("--dump-dom", "file://"+path)
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, ":CONSOLE") {
			t.Errorf("the page logged to the console: %s", line)
		}
	}
	chrome("--window-size="+size, "--screenshot="+shot, "file://"+path)
	if st, err := os.Stat(shot); err != nil || st.Size() < 10_000 {
		t.Fatalf("screenshot %s: %v", shot, err)
	}
	t.Logf("screenshot: %s", shot)
	return dom
}

// TestComparisonHTMLInChromium renders a comparison's page in headless
// Chromium: the charts are in the DOM it built, the verdict is shown,
// the hostile names stayed text, and a screenshot is saved
// ($BENCHGATE_SCREENSHOT_DIR, else the test's temporary directory).
func TestComparisonHTMLInChromium(t *testing.T) {
	findChromium(t)
	base, cur := comparedReports(t, 5, false)
	c := loadtest.CompareExecutions(base, cur, loadtest.CompareOptions{MinEffect: 0.3})
	dir := t.TempDir()
	path := filepath.Join(dir, "comparison.html")
	if err := os.WriteFile(path, []byte(comparisonPage(t, c)), 0o644); err != nil {
		t.Fatal(err)
	}
	dom := renderInChromium(t, path, filepath.Join(screenshotDir(t), "comparison.png"), "1100,1800")
	if strings.Contains(dom, "hunter2") {
		t.Error("the secret in a step name reached the page")
	}
	if n := len(regexp.MustCompile(`<polyline class="cdf-line" data-side="(baseline|candidate)" [^>]*points="[0-9.]+,[0-9.]+ [0-9.]+,`).FindAllString(dom, -1)); n != 6 {
		t.Errorf("the rendered DOM has %d distribution lines with points, want 6 (2 sides × 3 steps)", n)
	}
	if !strings.Contains(dom, "Regressed: ") || strings.Count(dom, `class="estimate"`) < 6 {
		t.Errorf("the rendered DOM lacks the verdict or the estimates")
	}
}

// TestReportPageShowsItsComparison: a report's page written after
// NotRegressFrom shows the assertion failed and draws its comparison.
func TestReportPageShowsItsComparison(t *testing.T) {
	base, cur := comparedReports(t, 5, false)
	var failed []string
	g := gomega.NewGomega(func(msg string, _ ...int) { failed = append(failed, msg) })
	g.Expect(cur).To(matchers.NotRegressFrom(base, loadtest.CompareOptions{Percentiles: []float64{50}, MinEffect: 0.3}))
	if len(failed) != 1 {
		t.Fatalf("NotRegressFrom did not fail on a 3× slower step: %q", failed)
	}
	for _, r := range []*loadtest.Report{cur[0], cur[4]} {
		var b bytes.Buffer
		if err := r.WriteHTML(&b); err != nil {
			t.Fatal(err)
		}
		page := b.String()
		for _, want := range []string{
			`<td class="l v-fail"><strong>fail</strong></td><td class="l">NotRegressFrom([]*loadtest.Report)</td><td class="l">5 executions, this one among them</td>`,
			`<h3>The comparison of NotRegressFrom([]*loadtest.Report)</h3>`,
			`<strong>REGRESSED</strong>: p50 rose by`,
		} {
			if !strings.Contains(page, want) {
				t.Errorf("the page lacks %s", want)
			}
		}
		if n := strings.Count(page, `class="cdf-line"`); n != 6 {
			t.Errorf("the page draws %d distributions, want 2 sides × 3 steps", n)
		}
	}
}

// TestDuetHTML: a duet's comparison keeps each side's rounds merged per
// step, and its page names the sides A and B and counts pairs.
func TestDuetHTML(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	t.Cleanup(srv.Close)
	plan := func(url string) *loadtest.Plan {
		run := scenario.Run("shop", scenario.Get("/")).Repeat(30)
		return loadtest.New(loadtest.Runs(run), loadtest.BaseURL(url), loadtest.Seed(3))
	}
	d, err := loadtest.Duet(context.Background(), plan, srv.URL, srv.URL, loadtest.DuetOptions{MaxPairs: 10, RoundTime: time.Second,
		Compare: loadtest.CompareOptions{Percentiles: []float64{50}, PassInconclusive: true}})
	if err != nil {
		t.Fatal(err)
	}
	c := d.Comparison
	if len(c.Distributions()) != 1 {
		t.Fatalf("%d distributions, want 1", len(c.Distributions()))
	}
	var a, b int64
	for i := range c.Pairs {
		a += d.A[i].Run("shop").Step(0).Latency.Count()
		b += d.B[i].Run("shop").Step(0).Latency.Count()
	}
	if got := c.Distributions()[0]; got.Old.Count() != a || got.New.Count() != b || a == 0 {
		t.Errorf("the sides hold %d and %d responses, the pairs' rounds %d and %d", got.Old.Count(), got.New.Count(), a, b)
	}
	page := comparisonPage(t, c)
	for _, want := range []string{"benchgate comparison: duet", `data-side="A (baseline)"`, `data-side="B (candidate)"`,
		"change, B / A − 1", htmlEscape(fmt.Sprintf("%d pairs", c.Pairs))} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
}
