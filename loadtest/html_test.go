package loadtest_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/onsi/gomega"

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

// TestHTMLReportInChromium opens the page in headless Chromium, checks
// that the charts rendered with data points and nothing from the server
// ran, and saves a screenshot in the test's temporary directory.
func TestHTMLReportInChromium(t *testing.T) {
	bin := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		t.Skip("Chromium is not installed here (Debian: apt-get install chromium)")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "report.html")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := htmlReport(t).WriteHTML(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	chrome := func(args ...string) []byte {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
			"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
			"--user-data-dir=" + filepath.Join(dir, "profile")}
		var out []byte
		var err error
		for attempt := 0; attempt < 3; attempt++ { // headless Chromium now and then crashes at start
			if out, err = exec.CommandContext(ctx, bin, append(base, args...)...).Output(); err == nil {
				return out
			}
		}
		t.Fatalf("chromium %v: %v", args, err)
		return nil
	}
	dom := string(chrome("--dump-dom", "file://"+path))
	if strings.Contains(dom, "pwned</title>") || strings.Contains(dom, `<img src="x"`) || strings.Contains(dom, "<script>document") {
		t.Errorf("the server's text ran or became markup in the browser")
	}
	if !strings.Contains(dom, "&lt;script&gt;document.title='pwned'&lt;/script&gt;") {
		t.Errorf("the hostile sample is not shown as text")
	}
	if n := len(regexp.MustCompile(`<polyline [^>]*points="[0-9.]+,[0-9.]+ [0-9.]+,`).FindAllString(dom, -1)); n < 4 {
		t.Errorf("the rendered DOM has %d line series with points", n)
	}
	shot := filepath.Join(dir, "report.png")
	chrome("--window-size=1200,2400", "--screenshot="+shot, "file://"+path)
	if st, err := os.Stat(shot); err != nil || st.Size() < 10_000 {
		t.Fatalf("screenshot: %v", err)
	}
	t.Logf("screenshot: %s", shot)
}
