// Command benchgate runs load tests from the command line.
//
//	benchgate demo                 start the embedded demo application and run a scenario against it
//	benchgate ab [flags] URL       ApacheBench-compatible load test of one URL
//	benchgate soak [-d 10m]        steady load on the demo application, checking memory stays flat
//	benchgate compare old new...   compare a baseline's executions with new ones step by step; exit 1 on a regression
//	benchgate baseline merge       join baselines recorded apart into one file
//	benchgate report run.json      write a self-contained HTML report of a JSON report
//	benchgate board FILE           print a scoreboard's live counters per shard and in total
//	benchgate k8s job [flags]      render a Kubernetes Indexed Job of N shards and its merge-and-gate Job
//	benchgate merge -o m.json s*.json  add the reports of a plan's shards up into the whole plan's report
//
// ab and demo print a summary; their -j writes the full report as JSON.
//
// # For users of ab and HTTPD::Bench::ApacheBench
//
// benchgate ab takes ab 2.3's flags (getopt style: -n100 -c10 -kq) and
// prints ab's summary, percentage table (-e) and gnuplot file (-g). It
// builds one run of one step repeated -n times, as
// HTTPD::Bench::ApacheBench's own ab re-implementation does, and counts
// a non-2xx response apart instead of failing it (loadtest.DefaultStatus
// with no codes), as ab does. Unlike ab, -s bounds each whole response.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/pflag"
)

const usage = `usage: benchgate <command> [flags]

commands:
  demo   start the embedded demo application on loopback and run a scenario against it
  ab     ApacheBench-compatible load test of one URL (benchgate ab -h for flags)
  soak   keep the demo scenario running (-d 10m) and check memory and goroutines stay flat
  compare  compare a baseline (or report) with new executions step by step (benchgate compare -h); exit 1 on a regression
  baseline merge -o out.json a.json b.json...  join baselines (or reports) recorded apart into one baseline
  report   write a self-contained HTML page of a JSON report (benchgate report -o report.html run.json)
  board    print a scoreboard's live counters per shard and in total (benchgate board FILE)
  k8s job  render a Kubernetes Indexed Job of N shards and the Job that merges and gates (benchgate k8s job -h)
  merge    add the reports of a plan's N shards up into one report (benchgate merge -o merged.json shard-*.json)
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "ab":
		return runAB(ctx, args[1:], stdout, stderr)
	case "demo":
		return runDemo(ctx, args[1:], stdout, stderr)
	case "soak":
		return runSoak(ctx, args[1:], stdout, stderr)
	case "compare":
		return runCompare(ctx, args[1:], stdout, stderr)
	case "baseline":
		return runBaseline(ctx, args[1:], stdout, stderr)
	case "report":
		return runReport(ctx, args[1:], stdout, stderr)
	case "board":
		return runBoard(ctx, args[1:], stdout, stderr)
	case "k8s":
		return runK8s(ctx, args[1:], stdout, stderr)
	case "merge":
		return runMerge(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "benchgate: unknown command %q\n\n%s", args[0], usage)
	return 2
}

// parseFlags parses a subcommand's flags; ok false means return code.
func parseFlags(fs *pflag.FlagSet, args []string) (code int, ok bool) {
	if err := fs.Parse(args); err != nil {
		if err == pflag.ErrHelp {
			return 0, false
		}
		return 2, false
	}
	return 0, true
}
