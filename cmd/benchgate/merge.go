package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/benchgate/benchgate/loadtest"
)

// runMerge adds the JSON reports of a plan's shards up into the report
// of the whole plan (loadtest.Merger: the files are read and added one
// at a time, so one report is in memory at a time beside the merge's
// sums; a file is refused as soon as it is read). It exits 4 when a file is not
// a valid report or the files are not the shards of one execution of
// one plan (the error names the files and values), 2 on bad usage or a
// file that cannot be opened or written; with --allow-missing, 1 when
// shards were missing (the others' merge is written all the same).
func runMerge(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("merge", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.StringP("output", "o", "", "the merged JSON report to write (required; - for standard output)")
	summary := fs.Bool("summary", false, "also print the merged report's summary")
	var opts loadtest.MergeOptions
	fs.BoolVar(&opts.AllowBinaryMismatch, "allow-binary-mismatch", false, "merge shards run by different executables (CI jobs that each built the binary); the plan must still agree")
	fs.BoolVar(&opts.AllowApart, "allow-apart", false, "merge shards given no common T0 that did not run at the same time (one began after another had ended): without it they are refused, since nothing says they are of one execution")
	fs.BoolVar(&opts.AllowMissing, "allow-missing", false, "merge the shards that are there when some are missing (a shard that died): the report keeps their data, names the missing ones and no gate passes on it; exit 1")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: benchgate merge -o merged.json shard-0.json shard-1.json...\n\n"+
			"Adds the JSON reports of the N shards of one plan (each run with loadtest.Shard(k, N)) up into\n"+
			"the report of the whole plan: counts add, latency histograms merge exactly per run, step, phase\n"+
			"and time window. Every shard must be there once, and their manifests must agree (shard count,\n"+
			"plan hash, seed, histogram layout, binary hash). The merged report works with benchgate compare\n"+
			"and benchgate report like any other.\n"+
			"Exit status: 0 merged, 1 merged with --allow-missing but shards were missing, 2 bad usage or a file that cannot be opened or written, 4 a file that is\n"+
			"not a valid report or files that are not the shards of one execution (the error names them).\n\nflags:\n%s", fs.FlagUsages())
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if *out == "" || fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	// one report in memory at a time: each is read, added and dropped
	merger := loadtest.NewMerger(opts)
	for _, path := range fs.Args() {
		r, err := readReport(path)
		if err == nil {
			err = merger.AddNamed(path, r)
		}
		if err != nil {
			fmt.Fprintln(stderr, "benchgate merge:", err)
			return readExit(err)
		}
	}
	m, err := merger.Report()
	if err != nil {
		fmt.Fprintln(stderr, "benchgate merge:", err)
		return readExit(err)
	}
	if *out == "-" {
		err = m.WriteJSON(stdout)
	} else {
		err = writeFileAtomic(*out, m.WriteJSON)
	}
	if err != nil {
		fmt.Fprintln(stderr, "benchgate merge:", err)
		return 2
	}
	if *out != "-" {
		fmt.Fprintf(stdout, "%s: %d shards, %d requests sent, %d good\n", *out, len(m.Shards), m.RequestsSent, m.GoodResponses)
		if len(m.MissingShards) > 0 {
			missing := fmt.Sprint(m.MissingShards)
			if len(m.MissingShards) > 20 {
				missing = fmt.Sprintf("%v and %d more", m.MissingShards[:20], len(m.MissingShards)-20)
			}
			fmt.Fprintf(stdout, "%s: %d shards missing: %s\n", *out, len(m.MissingShards), missing)
		}
	}
	for _, w := range m.Warnings {
		fmt.Fprintln(stderr, "warning:", w)
	}
	if *summary {
		w := stdout
		if *out == "-" {
			w = stderr
		}
		if err := m.WriteSummary(w); err != nil {
			fmt.Fprintln(stderr, "benchgate merge:", err)
			return 2
		}
	}
	if m.Err != nil { // shards missing: the data is kept, no verdict passes
		fmt.Fprintln(stderr, "benchgate merge:", m.Err)
		return 1
	}
	return 0
}
