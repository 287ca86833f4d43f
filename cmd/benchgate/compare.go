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

// runCompare compares a baseline's executions with new ones step by
// step and exits 1 when they regressed, 3 when there is no verdict
// (inconclusive, or refused: the machines differ), 4 when a file is not
// a valid report, 2 on bad usage or a file that cannot be opened.
func runCompare(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("compare", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	var o loadtest.CompareOptions
	fs.Float64Var(&o.MinEffect, "min-effect", 0.10, "smallest relative change that can fail, and the margin of \"no regression\" (0.10: 10%)")
	fs.DurationVar(&o.MinAbsolute, "min-absolute", 0, "smallest latency change that can fail (default 100µs)")
	fs.Float64Var(&o.Alpha, "alpha", 0.05, "chance of a false \"regressed\" over the whole comparison")
	fs.Float64SliceVar(&o.Percentiles, "percentiles", []float64{50, 95}, "latency percentiles to compare")
	fs.BoolVar(&o.PassInconclusive, "pass-inconclusive", false, "exit 0 (with a warning) when the only flaw is an inconclusive metric")
	htmlOut := fs.String("html", "", "also write the comparison as a self-contained HTML page to this file: per step both sides' latency distributions, each change with its interval, the verdicts")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: benchgate compare [flags] old.json new.json [new2.json...]\n\n"+
			"Compares the executions of old.json (a baseline, or one JSON report: benchgate ab -j, demo -j,\n"+
			"Report.WriteJSON) with those of the new files, step by step: latency percentiles, iterations per\n"+
			"second and error rate. One figure per execution; per metric the Hodges-Lehmann change with its\n"+
			"exact rank-sum interval; regressed, no regression (the interval below --min-effect) or\n"+
			"inconclusive. One execution a side can never show \"no regression\": record 5 or more.\n"+
			"Exit status: 0 no regression, 1 a regression, 2 bad usage or a file that cannot be opened,\n"+
			"3 no verdict, 4 a file that is not a valid report (the error names the file, run, step and field).\n"+
			"--html page.html also writes the comparison as one HTML page that needs no network to view.\n\nflags:\n%s", fs.FlagUsages())
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() < 2 {
		fs.Usage()
		return 2
	}
	old, err := loadtest.ReadBaseline(fs.Arg(0))
	if err != nil {
		fmt.Fprintln(stderr, "benchgate compare:", err)
		return readExit(err)
	}
	cur, err := readNew(fs.Args()[1:])
	if err != nil {
		fmt.Fprintln(stderr, "benchgate compare:", err)
		return readExit(err)
	}
	// the new files' machine, when they recorded one, against the old's
	var here *loadtest.Machine
	for _, m := range cur.Machines {
		if m != nil && m.Calibration > 0 {
			here = m
			break
		}
	}
	c := loadtest.CompareBaseline(old, cur.Executions, here, o)
	fmt.Fprint(stdout, c)
	if *htmlOut != "" {
		if err := writeFileAtomic(*htmlOut, c.WriteHTML); err != nil {
			fmt.Fprintln(stderr, "benchgate compare:", err)
			return 2
		}
		fmt.Fprintf(stderr, "wrote %s\n", *htmlOut)
	}
	return printVerdict(stdout, c, o.PassInconclusive, "--pass-inconclusive")
}

// printVerdict prints comparison c's verdict line and returns the exit
// status: 0 no regression, 1 a regression, 3 no verdict (refused, or
// metrics inconclusive unless pass, which passedBy names, lets them).
func printVerdict(w io.Writer, c *loadtest.Comparison, pass bool, passedBy string) int {
	switch {
	case c.Refused != "":
		fmt.Fprintln(w, "verdict: none: refused")
		return 3
	case len(c.Regressions()) > 0:
		fmt.Fprintf(w, "verdict: %d regression(s)\n", len(c.Regressions()))
		return 1
	case len(c.Inconclusive()) > 0 && !pass:
		fmt.Fprintf(w, "verdict: none: %d metric(s) inconclusive\n", len(c.Inconclusive()))
		return 3
	case len(c.Inconclusive()) > 0:
		fmt.Fprintf(w, "verdict: no regression shown, but %d metric(s) inconclusive (passed by %s)\n", len(c.Inconclusive()), passedBy)
		return 0
	}
	fmt.Fprintln(w, "verdict: no regression")
	return 0
}

// runBaseline runs the baseline subcommands: merge.
func runBaseline(_ context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "merge" {
		fmt.Fprintln(stderr, "usage: benchgate baseline merge -o out.json a.json b.json...")
		return 2
	}
	fs := pflag.NewFlagSet("baseline merge", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.StringP("output", "o", "", "the merged baseline file to write (required)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: benchgate baseline merge -o out.json a.json b.json...\n\n"+
			"Joins the executions of baselines (or single JSON reports) recorded in separate processes or\n"+
			"CI jobs into one baseline file; their runs and steps must agree. out.json may be one of the inputs.\n\nflags:\n%s", fs.FlagUsages())
	}
	if code, ok := parseFlags(fs, args[1:]); !ok {
		return code
	}
	if *out == "" || fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	b, err := loadtest.MergeBaselines(fs.Args()...)
	if err == nil {
		err = b.Write(*out)
	}
	if err != nil {
		fmt.Fprintln(stderr, "benchgate baseline merge:", err)
		return 2
	}
	fmt.Fprintf(stdout, "%s: %d executions\n", *out, len(b.Executions))
	return 0
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

// readNew reads compare's new files (reports or baselines) into one
// baseline, naming a bad or missing one as a new file: ReadBaseline's
// words ("baseline …", "no baseline at …: record one …") are the old
// file's.
func readNew(paths []string) (*loadtest.Baseline, error) {
	out := &loadtest.Baseline{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("new file %s: %w", p, err)
		}
		b, err := loadtest.DecodeBaseline(data)
		if err != nil {
			return nil, fmt.Errorf("new file %s: %w", p, err)
		}
		for i, r := range b.Executions {
			var m *loadtest.Machine
			if i < len(b.Machines) {
				m = b.Machines[i]
			}
			if err := out.Add(r, m); err != nil {
				return nil, fmt.Errorf("new file %s: %w", p, err)
			}
		}
	}
	return out, nil
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
