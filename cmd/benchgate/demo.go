package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"time"

	"github.com/spf13/pflag"

	"github.com/benchgate/benchgate/demoapp"
	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

// DemoPlan is the scenario the demo runs against the demo application at
// base: browsing, a CSRF-protected login driven by the page's own form,
// a cart, and a run that posts back a name it read from the previous
// page.
func DemoPlan(base string, repeat, concurrency int, extra ...loadtest.Option) *loadtest.Plan {
	userName := regexp.MustCompile(`(?i)<div id="userName">([^<>]+)</div>`)
	browse := scenario.Run("browse",
		scenario.Get("/").ExpectStatus(200),
		scenario.Get("/api/items").ExpectStatus(200).Extract("first", scenario.JSON("items.0.name")),
		scenario.Get("/slow?ms=5").ExpectStatus(200),
	).Repeat(repeat)
	checkout := scenario.Run("checkout",
		scenario.Get("/login").ExpectStatus(200),
		scenario.Submit(scenario.FormFrom("form#login").Set("user", "alice").Set("password", demoapp.Password)).
			ExpectStatus(303),
		scenario.Get("/account").ExpectBodyContains("alice").
			Extract("item", scenario.CSS("a.item").Attr("data-id")),
		scenario.PostForm("/cart", scenario.Field("item", "{{item}}")).ExpectStatus(200),
		scenario.Get("/cart").Extract("total", scenario.JSON("total_cents")).ExpectStatus(200),
	).Repeat(repeat).Order(scenario.DepthFirst)
	synopsis := scenario.Run("synopsis",
		scenario.Get("/"),
		scenario.PostIfBody("/echo").BodyFunc(func(prev *scenario.Response, _ scenario.Vars) (string, bool) {
			m := userName.FindSubmatch(prev.Body)
			if m == nil {
				return "", false
			}
			return "cgi-username=" + string(m[1]), true
		}).ExpectBodyContains("cgi-username=guest"),
	).Repeat(repeat)
	opts := []loadtest.Option{
		loadtest.Runs(browse, checkout, synopsis),
		loadtest.BaseURL(base),
		loadtest.Concurrency(concurrency),
		loadtest.KeepAlive(true),
		loadtest.TimeLimit(time.Minute),
	}
	return loadtest.New(append(opts, extra...)...)
}

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("demo", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	repeat := fs.IntP("repeat", "n", 200, "iterations per run")
	concurrency := fs.IntP("concurrency", "c", 8, "connection slots")
	jsonFile := fs.StringP("json", "j", "", "write the full report to this JSON file")
	csvFile := fs.String("csv", "", "write one line per run and step (counts, percentiles, rate) to this CSV file")
	progress := fs.Duration("progress", 5*time.Second, "print live counts on standard error this often (a bar on a terminal; 0: never)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	base, stopApp, err := startDemoApp()
	if err != nil {
		fmt.Fprintln(stderr, "benchgate demo:", err)
		return 1
	}
	defer stopApp()
	fmt.Fprintf(stdout, "demo application on %s\n", base)
	plan := DemoPlan(base, *repeat, *concurrency)
	if *progress > 0 {
		plan.Apply(loadtest.Progress(stderr, *progress))
	}
	if err := plan.Validate(); err != nil {
		fmt.Fprintln(stderr, "benchgate demo:", err)
		return 2
	}
	fmt.Fprintf(stdout, "sending %d requests...\n\n", plan.TotalRequests())
	report, err := plan.Execute(ctx)
	if report.DidNotRun() {
		fmt.Fprintln(stderr, "benchgate demo:", err)
		return 1
	}
	if err != nil {
		fmt.Fprintf(stdout, "interrupted (%v); results so far:\n", err)
	}
	report.WriteSummary(stdout)
	if *jsonFile != "" {
		if err := writeFileAtomic(*jsonFile, report.WriteJSON); err != nil {
			fmt.Fprintln(stderr, "benchgate demo:", err)
			return 1
		}
	}
	if *csvFile != "" {
		if err := writeFileAtomic(*csvFile, report.WriteCSV); err != nil {
			fmt.Fprintln(stderr, "benchgate demo:", err)
			return 1
		}
	}
	if err != nil || report.ResponsesFailed > 0 {
		return 1
	}
	return 0
}

// startDemoApp serves the demo application on a loopback port.
func startDemoApp() (base string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: demoapp.New(), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}
