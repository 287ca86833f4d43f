package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/pflag"

	"github.com/benchgate/benchgate/loadtest"
)

// runCompare compares two JSON reports (or baselines) step by step and
// exits 1 when the new one regressed, 3 when there was not enough data
// for a verdict, 4 when a file is not a valid report.
func runCompare(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("compare", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	var o loadtest.CompareOptions
	fs.Float64Var(&o.MinEffect, "min-effect", 0.10, "smallest relative change that can fail (0.10: 10%)")
	fs.DurationVar(&o.MinAbsolute, "min-absolute", 0, "smallest latency change that can fail (default 100µs)")
	fs.Float64Var(&o.Alpha, "alpha", 0.01, "significance level of the whole comparison")
	fs.Float64SliceVar(&o.Percentiles, "percentiles", []float64{50, 95}, "latency percentiles to compare")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: benchgate compare [flags] old.json new.json\n\n"+
			"Compares two reports (benchgate ab -j, demo -j, Report.WriteJSON or a baseline) step by\n"+
			"step: latency percentiles, throughput and error rate, over time blocks with a one-sided\n"+
			"Mann-Whitney U test and a minimum effect. Exit status: 0 no regression, 1 a regression,\n"+
			"2 bad usage or a file that cannot be opened, 3 not enough data for a verdict, 4 a file that\n"+
			"is not a valid report (the error names the file, run, step and field).\n\nflags:\n%s", fs.FlagUsages())
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() != 2 {
		fs.Usage()
		return 2
	}
	old, err := readReport(fs.Arg(0))
	if err == nil {
		var cur *loadtest.Report
		if cur, err = readReport(fs.Arg(1)); err == nil {
			c := loadtest.Compare(old, cur, o)
			fmt.Fprint(stdout, c)
			switch {
			case len(c.Regressions()) > 0:
				fmt.Fprintf(stdout, "verdict: %d regression(s)\n", len(c.Regressions()))
				return 1
			case len(c.Undecided()) > 0:
				fmt.Fprintf(stdout, "verdict: none: not enough data for %d metric(s)\n", len(c.Undecided()))
				return 3
			}
			fmt.Fprintln(stdout, "verdict: no regression")
			return 0
		}
	}
	fmt.Fprintln(stderr, "benchgate compare:", err)
	return readExit(err)
}

// readExit is the exit status for a report that could not be read: 4
// when the file is not a valid report (loadtest.ErrInvalidReport), 2
// when it could not be opened. Go exits 2 when out of memory as well;
// a bad file never gets that far, and never shares its status.
func readExit(err error) int {
	if errors.Is(err, loadtest.ErrInvalidReport) {
		return 4
	}
	return 2
}

// readReport reads a JSON report (or baseline) file.
func readReport(path string) (*loadtest.Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := loadtest.ReadJSON(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}
