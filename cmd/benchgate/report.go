package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/pflag"
)

// runReport turns a JSON report into a self-contained HTML page.
func runReport(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("report", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.StringP("output", "o", "report.html", "the HTML file to write (- for standard output)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: benchgate report [-o report.html] run.json\n\n"+
			"Writes one HTML file that needs no network to view: totals, throughput, errors and\n"+
			"requests in flight over time, per step its counts, percentiles, latency over time,\n"+
			"histogram, phase breakdown and failure samples. Exit status 4: the file is not a valid report.\n\nflags:\n%s", fs.FlagUsages())
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	r, err := readReport(fs.Arg(0))
	if err != nil {
		fmt.Fprintln(stderr, "benchgate report:", err)
		return readExit(err)
	}
	if *out == "-" {
		if err := r.WriteHTML(stdout); err != nil {
			fmt.Fprintln(stderr, "benchgate report:", err)
			return 1
		}
		return 0
	}
	if err := writeFileAtomic(*out, r.WriteHTML); err != nil {
		fmt.Fprintln(stderr, "benchgate report:", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote %s\n", *out)
	return 0
}
