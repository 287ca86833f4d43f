package loadtest_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/onsi/gomega"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c"

	"github.com/benchgate/benchgate/engine"
	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/matchers"
	"github.com/benchgate/benchgate/scenario"
)

// hostileRedirects answers with Locations that carry secrets: user
// information, secret query values, an opaque javascript: URL, and a
// chain longer than the plan follows.
func hostileRedirects(t *testing.T) *httptest.Server { return hostileServer(t, false) }

func hostileServer(t *testing.T, h2 bool) *httptest.Server {
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		loc := map[string]string{
			"/a":  "http://u:SECRET1@host:70000/x?access_token=SECRET2",
			"/b":  "javascript:alert(1)?token=SECRET3",
			"/c":  "/c2?api_key=SECRET4",
			"/c2": "/c3?password=SECRET5",
			"/d":  "http://u:SECRET6@127.0.0.1:1/x?session=SECRET7",
		}[r.URL.Path]
		if loc == "" {
			w.WriteHeader(500)
			return
		}
		w.Header().Set("Location", loc)
		w.WriteHeader(302)
	})
	if h2 {
		h = h2c.NewHandler(h, &http2.Server{})
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// TestRedactionInEveryOutput: a failure reason that quotes a server's
// Location shows no secret in the summary, the HTML report, the JSON
// report, either request log or the CSV, on both drivers and over
// HTTP/2.
func TestRedactionInEveryOutput(t *testing.T) {
	srv, h2srv := hostileRedirects(t), hostileServer(t, true)
	for _, mode := range []string{"event loop", "goroutines", "h2c"} {
		var lines, csvLines bytes.Buffer
		run := scenario.Run("r", scenario.Get("/a"), scenario.Get("/b"), scenario.Get("/c"), scenario.Get("/d")).Repeat(2).KeepLevel(scenario.KeepHeaders)
		opts := []loadtest.Option{loadtest.Runs(run), loadtest.BaseURL(srv.URL), loadtest.FollowRedirects(1), loadtest.LogRequests(&lines)}
		switch mode {
		case "goroutines":
			opts = append(opts, loadtest.WithExecutor(engine.Slots{Goroutines: true}))
		case "h2c":
			opts = append(opts, loadtest.HTTP2(1))
			opts[1] = loadtest.BaseURL(h2srv.URL)
		}
		report := execute(t, opts...)
		// the CSV request log from a second run
		execute(t, append(opts[:len(opts):len(opts)], loadtest.LogRequestsCSV(&csvLines))...)
		var html, js, csv bytes.Buffer
		if err := report.WriteHTML(&html); err != nil {
			t.Fatal(err)
		}
		if err := report.WriteJSON(&js); err != nil {
			t.Fatal(err)
		}
		if err := report.WriteCSV(&csv); err != nil {
			t.Fatal(err)
		}
		if report.ResponsesFailed == 0 {
			t.Fatalf("no failure: %s", report)
		}
		for name, out := range map[string]string{"summary": report.String(), "HTML": html.String(), "JSON": js.String(),
			"request log": lines.String(), "CSV request log": csvLines.String(), "CSV": csv.String()} {
			if strings.Contains(out, "SECRET") {
				i := strings.Index(out, "SECRET")
				t.Errorf("%s: %s shows a secret: …%s…", mode, name, out[max(0, i-120):min(len(out), i+40)])
			}
		}
		for _, want := range []string{"access_token=%5Bredacted%5D", "token=%5Bredacted%5D", "password=%5Bredacted%5D", "u:xxxxx@host:70000"} {
			if !strings.Contains(report.String(), want) {
				t.Errorf("%s: the summary lacks %q (the reason itself is gone?):\n%s", mode, want, report)
			}
		}
	}
}

// TestRedactionOfAReportReadFromAFile: a report written by another tool
// (or an older benchgate) with a secret in a reason shows none in the
// summary or the HTML page made from it.
func TestRedactionOfAReportReadFromAFile(t *testing.T) {
	in := `{"version":2,"requests_sent":1,"responses_failed":1,"runs":[{"name":"r","repeat":1,"steps":[{"name":"GET /a","configured":1,"sent":1,"failed":1,"statuses":{"302":1},` +
		`"failures":{"redirect to \"http://u:SECRET1@h:70000/?access_token=SECRET2\"":1},` +
		`"samples":{"redirect to \"http://u:SECRET1@h:70000/?access_token=SECRET2\"":{"method":"GET","url":"http://h/?token=SECRET3","status":302,"body":"{\"secret\": {\"k\": \"SECRET4\"}}"}}}]}]}`
	r, err := loadtest.ReadJSON(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	var html bytes.Buffer
	if err := r.WriteHTML(&html); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"summary": r.String(), "HTML": html.String()} {
		if strings.Contains(out, "SECRET") || !strings.Contains(out, "redacted") {
			t.Errorf("%s:\n%s", name, out)
		}
	}
}

// TestRedactionOfFailureSamples: a failed response's body kept as the
// sample of its reason (Sample.Body) is redacted when kept, as reasons
// are: JSON values under secret names, whatever their type (an array, an
// object), name=value pairs, and the plan's RedactFields, so neither the
// JSON report (with or without its records), the summary, the HTML page
// nor a matcher's message shows them. The HTML page redacted the sample
// when drawn; the JSON report and the matchers showed it as received.
func TestRedactionOfFailureSamples(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(500)
		w.Write([]byte(`{"tokens": ["SECRET1", {"x": "SECRET2"}], "secret": {"k": "SECRET3"}, "password": "SECRET4", "pin": "PINVALUE", "user": "alice", "next": "a=1&api_key=SECRET5"}`))
	})
	plain := httptest.NewServer(h)
	t.Cleanup(plain.Close)
	h2srv := httptest.NewServer(h2c.NewHandler(h, &http2.Server{}))
	t.Cleanup(h2srv.Close)
	for _, mode := range []string{"event loop", "goroutines", "h2c"} {
		opts := []loadtest.Option{loadtest.Runs(scenario.Run("r", scenario.Get("/")).Repeat(2)), loadtest.BaseURL(plain.URL),
			loadtest.RedactFields("pin")}
		switch mode {
		case "goroutines":
			opts = append(opts, loadtest.WithExecutor(engine.Slots{Goroutines: true}))
		case "h2c":
			opts = append(opts, loadtest.HTTP2(1), loadtest.BaseURL(h2srv.URL))
		}
		report := execute(t, opts...)
		var smp loadtest.Sample
		for _, v := range report.Runs[0].Steps[0].Samples {
			smp = v
		}
		if report.ResponsesFailed != 2 || len(report.Runs[0].Steps[0].Samples) != 1 {
			t.Fatalf("%s: failed %d, samples %v: the test needs the 500s' sample", mode, report.ResponsesFailed, report.Runs[0].Steps[0].Samples)
		}
		var html, js, jsr bytes.Buffer
		if err := report.WriteHTML(&html); err != nil {
			t.Fatal(err)
		}
		if err := report.WriteJSON(&js); err != nil {
			t.Fatal(err)
		}
		if err := report.WriteJSONWithRequests(&jsr); err != nil {
			t.Fatal(err)
		}
		var msg string
		gomega.NewGomega(func(m string, _ ...int) { msg = m }).Expect(report).To(matchers.HaveNoFailures())
		for name, out := range map[string]string{"sample": smp.Body, "summary": report.String(), "HTML": html.String(), "JSON": js.String(),
			"JSON with records": jsr.String(), "HaveNoFailures": msg} {
			if i := strings.Index(out, "SECRET"); i >= 0 {
				t.Errorf("%s: %s shows a secret: …%s…", mode, name, out[max(0, i-120):min(len(out), i+40)])
			}
			if strings.Contains(out, "PINVALUE") {
				t.Errorf("%s: %s shows the RedactFields value", mode, name)
			}
		}
		if !strings.Contains(smp.Body, `"user": "alice"`) || !strings.Contains(smp.Body, `"tokens": "[redacted]"`) {
			t.Errorf("%s: sample body %q: want what is not secret kept, the secret array redacted", mode, smp.Body)
		}
	}
}

// TestRedactionOfKeptBodies: response bodies kept at keep level 3 (in
// the Report, the JSON report and the HTML page) hide secret values as
// failure samples do: JSON fields, name=value pairs, URLs' passwords,
// and the plan's RedactFields.
func TestRedactionOfKeptBodies(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/json":
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"user":"ann","access_token":"SECRET1","nested":{"password":"SECRET2"},"pin":"SECRET3"}`))
		default:
			w.Write([]byte("<a href=\"/next?session=SECRET4&page=2\">next</a> http://u:SECRET5@example.com/"))
		}
	}))
	t.Cleanup(srv.Close)
	run := scenario.Run("r", scenario.Get("/json"), scenario.Get("/page")).Repeat(2).KeepLevel(scenario.KeepBodies)
	report := execute(t, loadtest.Runs(run), loadtest.BaseURL(srv.URL), loadtest.RedactFields("pin"))
	it, ok := report.Run("r").Iteration(0)
	if !ok {
		t.Fatal("no iteration 0")
	}
	bodies, ok := it.ResponseBodies()
	if !ok || len(bodies) != 2 || !strings.Contains(bodies[0], `"user":"ann"`) || !strings.Contains(bodies[1], "page=2") {
		t.Fatalf("kept bodies %q (%v): want them kept, what is not secret as it was", bodies, ok)
	}
	var js, html bytes.Buffer
	if err := report.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	if err := report.WriteHTML(&html); err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{"bodies": strings.Join(bodies, "\n"), "JSON": js.String(), "HTML": html.String()} {
		for _, secret := range []string{"SECRET1", "SECRET2", "SECRET3", "SECRET4", "SECRET5"} {
			if strings.Contains(text, secret) {
				t.Errorf("%s shows %s", name, secret)
			}
		}
	}
}
