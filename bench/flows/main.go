// Command flows runs the flows benchmark's login flow
// (../shared/bench/flows) with benchgate's DSL: GET /login, Submit the
// login form (hidden csrf token and cookies carried), GET /account
// extracting one data-id, POST /cart with it. bench/flows.sh runs it in
// the place of the benchmark's bench-ours.
//
// -exec vus (default) runs -c virtual users, each walking the flow
// -n/-c times; -exec slots -order depth declares one DepthFirst run per
// user on the slots executor, as the benchmark's bench-ours does;
// -order breadth a single BreadthFirst run of -n iterations.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"time"

	"github.com/benchgate/benchgate/engine"
	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

func flow(name string, repeat int, order scenario.Order) *scenario.RunDef {
	return scenario.Run(name,
		scenario.Get("/login").ExpectStatus(200),
		scenario.Submit(scenario.FormFrom("form#login").
			Set("user", "alice").Set("password", "secret")).ExpectStatus(303),
		scenario.Get("/account").ExpectStatus(200).
			Extract("item", scenario.CSS("a.item").Attr("data-id")),
		scenario.PostForm("/cart", scenario.Field("item", "{{item}}")).ExpectStatus(200),
	).Repeat(repeat).Order(order)
}

func main() {
	base := flag.String("url", "http://127.0.0.1:8080", "base URL of the flow server")
	n := flag.Int("n", 20000, "flows in all")
	c := flag.Int("c", 32, "concurrent users (connection slots)")
	order := flag.String("order", "", "depth: one DepthFirst run per user; breadth (slots): one BreadthFirst run; one (vus): one run for all")
	exec := flag.String("exec", "vus", "vus: -c virtual users; slots: connection slots")
	keep := flag.Int("keep", -1, "keep level 0-3 (default: the plan's default)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of Execute here")
	memProfile := flag.String("memprofile", "", "write an allocation profile here (every 4 KiB sampled, which\n"+
		"slows the run: take the CPU profile in another run); its inuse figures are what the\n"+
		"report and the plan still hold after Execute")
	flag.Parse()
	if *order == "" {
		*order = "depth"
		if *exec == "vus" {
			*order = "one" // the VUs share one run, as a user would declare it
		}
	}
	if *n < *c {
		*c = *n
	}

	var runs []*scenario.RunDef
	switch {
	case *exec == "vus" && *order == "one":
		runs = append(runs, flow("flows", *n, scenario.DepthFirst))
	case *exec != "slots" && *exec != "vus":
		fmt.Fprintln(os.Stderr, "-exec: vus or slots")
		os.Exit(2)
	case *order == "depth": // with vus: VU k walks run k
		for u := 0; u < *c; u++ {
			r := *n / *c
			if u < *n%*c {
				r++
			}
			runs = append(runs, flow("user"+strconv.Itoa(u), r, scenario.DepthFirst))
		}
	case *order == "breadth" && *exec == "slots":
		runs = append(runs, flow("flows", *n, scenario.BreadthFirst))
	default:
		fmt.Fprintln(os.Stderr, "-order: depth or breadth")
		os.Exit(2)
	}
	opts := []loadtest.Option{
		loadtest.Runs(runs...),
		loadtest.BaseURL(*base),
		loadtest.Concurrency(*c),
		loadtest.KeepAlive(true),
	}
	if *exec == "vus" {
		if *n%*c != 0 {
			fmt.Fprintln(os.Stderr, "-exec vus: -c must divide -n")
			os.Exit(2)
		}
		opts = append(opts, loadtest.VirtualUsers(engine.VUs{Max: *c, Rounds: *n / *c}))
	}
	if *keep >= 0 {
		opts = append(opts, loadtest.KeepLevel(scenario.KeepLevel(*keep)))
	}
	plan := loadtest.New(opts...)

	if *memProfile != "" {
		runtime.MemProfileRate = 4096
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		pprof.StartCPUProfile(f)
	}
	t0 := time.Now()
	report, err := plan.Execute(context.Background())
	el := time.Since(t0)
	if *cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	runtime.ReadMemStats(&after)
	if err != nil {
		fmt.Fprintln(os.Stderr, "execute:", err)
		os.Exit(1)
	}
	if *memProfile != "" {
		runtime.GC() // inuse as of now, with the report still held
		f, err := os.Create(*memProfile)
		if err == nil {
			pprof.Lookup("allocs").WriteTo(f, 0)
			f.Close()
		}
		runtime.KeepAlive(plan)
	}

	flows := int64(0)
	for _, rr := range report.Runs {
		flows += rr.Step(3).Good
	}
	reqs := report.RequestsSent
	fmt.Printf("flows_ok=%d requests=%d good=%d failed=%d elapsed_s=%.3f\n",
		flows, reqs, report.GoodResponses, report.ResponsesFailed, el.Seconds())
	if reqs > 0 {
		fmt.Printf("mallocs_per_req=%.1f alloc_bytes_per_req=%.0f gc_cycles=%d\n",
			float64(after.Mallocs-before.Mallocs)/float64(reqs),
			float64(after.TotalAlloc-before.TotalAlloc)/float64(reqs), after.NumGC-before.NumGC)
	}
	if report.ResponsesFailed > 0 {
		reasons := map[string]int64{}
		for _, rr := range report.Runs {
			for _, st := range rr.Steps {
				for r, k := range st.Failures {
					reasons[st.Name+": "+r] += k
				}
			}
		}
		keys := make([]string, 0, len(reasons))
		for k := range reasons {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for i, k := range keys {
			if i == 5 {
				break
			}
			fmt.Printf("failure %d× %s\n", reasons[k], k)
		}
	}
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	fmt.Printf("LAT p50_ms=%.3f p99_ms=%.3f\n", ms(report.Latency.Percentile(50)), ms(report.Latency.Percentile(99)))
}
