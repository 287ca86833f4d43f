package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/benchgate/benchgate/loadtest"
)

// runMerge adds the JSON reports of a plan's shards up into the report
// of the whole plan (loadtest.Merger: the files are read and added one
// at a time, so one report is in memory at a time beside the merge's
// sums; a file is refused as soon as it is read). It exits 4 when a file is not
// a valid report or the files are not the shards of one execution of
// one plan (the error names the files and values), 2 on bad usage, an
// output that is one of the inputs (checkInputs: it would be
// overwritten) or a file that cannot be opened, read (a directory) or
// written; with --allow-missing, 1 when
// shards were missing (the others' merge is written all the same).
// Given the files of a duet's shards (DuetReport.WriteJSON) it merges
// them (loadtest.MergeDuets), prints the comparison and exits as
// compare does: 0 no regression, 1 a regression, 3 no verdict.
func runMerge(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("merge", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.StringP("output", "o", "", "the merged JSON report to write (required for reports, optional for duets; - for standard output)")
	summary := fs.Bool("summary", false, "also print the merged report's summary")
	var opts loadtest.MergeOptions
	fs.BoolVar(&opts.AllowBinaryMismatch, "allow-binary-mismatch", false, "merge shards run by different executables (CI jobs that each built the binary); the plan must still agree")
	fs.BoolVar(&opts.AllowApart, "allow-apart", false, "merge shards given no common T0 that did not start together (more than a window apart) or did not run at the same time: without it they are refused, since nothing says they are of one execution and the plan's load held only while all ran")
	fs.BoolVar(&opts.AllowMissing, "allow-missing", false, "merge the shards that are there when some are missing (a shard that died): the report keeps their data, names the missing ones and no gate passes on it; exit 1")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: benchgate merge -o merged.json shard-0.json shard-1.json...\n\n"+
			"Adds the JSON reports of the N shards of one plan (each run with loadtest.Shard(k, N)) up into\n"+
			"the report of the whole plan: counts add, latency histograms merge exactly per run, step, phase\n"+
			"and time window. Every shard must be there once, and their manifests must agree (shard count,\n"+
			"plan hash, seed, histogram layout, binary hash). The merged report works with benchgate compare\n"+
			"and benchgate report like any other.\n"+
			"Exit status: 0 merged, 1 merged with --allow-missing but shards were missing, 2 bad usage, an output (-o) that is\n"+
			"one of the input files (it would be overwritten), or a file that cannot be opened, read (a directory) or written,\n"+
			"4 a file that is not a valid report or files that are not the shards of one execution (the error names them).\n\n"+
			"Given the files of a duet's N shards (loadtest.Duet with a sharded plan, DuetReport.WriteJSON) it merges\n"+
			"them (loadtest.MergeDuets: each round across the shards), judges the merged pairs at the planned looks as\n"+
			"one process would, prints the comparison and writes the merged duet to -o when given.\n"+
			"Exit status then: 0 no regression, 1 a regression, 2 bad usage, an output that is an input, or a file that\n"+
			"cannot be opened, read or written, 3 no verdict (inconclusive, or shards missing with --allow-missing),\n"+
			"4 a file that is not a valid duet or files that are not the shards of one duet.\n\nflags:\n%s", fs.FlagUsages())
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	opts.Names = fs.Args()
	if err := checkInputs(*out, fs.Args()); err != nil {
		fmt.Fprintln(stderr, "benchgate merge:", err)
		return 2
	}
	// the first file says which kind the merge is of; one of the other
	// kind among the rest is refused when it is read
	duet, err := isDuetFile(fs.Arg(0))
	if err != nil {
		fmt.Fprintln(stderr, "benchgate merge:", err)
		return readExit(err)
	}
	if duet {
		return mergeDuets(fs.Args(), *out, opts, stdout, stderr)
	}
	if *out == "" {
		fs.Usage()
		return 2
	}
	// one report in memory at a time: each is read, added and dropped
	merger := loadtest.NewMerger(opts)
	for _, path := range fs.Args() {
		r, err := readInput(path, loadtest.ReadJSON)
		if err != nil {
			if duet, _ := isDuetFile(path); duet {
				err = mixedKinds(path, fs.Arg(0))
			}
		}
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

// mixedKinds is the refusal of a duet's file and a report's given to
// one merge.
func mixedKinds(duet, report string) error {
	return fmt.Errorf("%w: %s is a duet's file and %s a report's: merge the shards of one duet, or of one plan", loadtest.ErrInvalidReport, duet, report)
}

// isDuetFile reports whether path holds a JSON object with a
// top-level duet_version (its keys in any order: a file rewritten with
// sorted keys is still a duet's); it stops at a report's top-level
// version, which benchgate writes first, so a report is not read twice.
func isDuetFile(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	d := json.NewDecoder(bufio.NewReader(f))
	if t, err := d.Token(); err != nil || t != json.Delim('{') {
		return false, nil // not an object: the reader says what it is
	}
	for d.More() {
		t, err := d.Token()
		if err != nil {
			return false, nil
		}
		switch t {
		case "duet_version":
			return true, nil
		case "version": // a report's, first in those benchgate writes
			return false, nil
		}
		var skip json.RawMessage
		if err := d.Decode(&skip); err != nil {
			return false, nil
		}
	}
	return false, nil
}

// mergeDuets merges the files of a duet's shards, writes the merged
// duet to out (when given) and prints its comparison and verdict.
func mergeDuets(paths []string, out string, opts loadtest.MergeOptions, stdout, stderr io.Writer) int {
	var duets []*loadtest.DuetReport
	for _, path := range paths {
		d, err := readInput(path, loadtest.ReadDuetJSON)
		if err != nil {
			if !errors.Is(err, loadtest.ErrInvalidReport) { // not read: exit 2
				fmt.Fprintln(stderr, "benchgate merge:", err)
				return 2
			}
			if duet, _ := isDuetFile(path); !duet {
				err = mixedKinds(paths[0], path)
			}
			fmt.Fprintln(stderr, "benchgate merge:", err)
			return readExit(err)
		}
		duets = append(duets, d)
	}
	m, err := loadtest.MergeDuets(opts, duets...)
	if err != nil {
		fmt.Fprintln(stderr, "benchgate merge:", err)
		return readExit(err)
	}
	w := stdout
	switch out {
	case "":
	case "-":
		err, w = m.WriteJSON(stdout), stderr
	default:
		err = writeFileAtomic(out, m.WriteJSON)
	}
	if err != nil {
		fmt.Fprintln(stderr, "benchgate merge:", err)
		return 2
	}
	c := m.Comparison
	if out != "" && out != "-" {
		fmt.Fprintf(w, "%s: ", out)
	}
	first := m.A[0] // every round merged from the same shards
	fmt.Fprintf(w, "a duet of %d shards, %d pairs, judged at %d\n", len(first.Shards)+len(first.MissingShards), len(m.A), c.Pairs)
	warned := map[string]bool{}
	for _, r := range append(append([]*loadtest.Report(nil), m.A...), m.B...) {
		for _, warn := range r.Warnings {
			if !warned[warn] {
				warned[warn] = true
				fmt.Fprintln(stderr, "warning:", warn)
			}
		}
	}
	if first.Err != nil && len(first.MissingShards) > 0 {
		fmt.Fprint(w, c)
		fmt.Fprintf(w, "verdict: none: %v\n", first.Err)
		return 3
	}
	if why := m.NoVerdict(); why != "" {
		fmt.Fprint(w, c)
		fmt.Fprintf(w, "verdict: none: %s\n", why)
		return 3
	}
	fmt.Fprint(w, c)
	return printVerdict(w, c, c.Options.PassInconclusive, "the duet's PassInconclusive")
}

// checkInputs refuses, before any file is read, an output that is one
// of the inputs (the same cleaned absolute path, or, when the output
// exists, the same file: a link to an input, or the input by another
// path), which the merge would overwrite, and an input that is a
// directory. A file that cannot be opened is left to the read, which
// names it in its turn.
func checkInputs(out string, inputs []string) error {
	abs := func(p string) string {
		if a, err := filepath.Abs(p); err == nil {
			return a
		}
		return filepath.Clean(p)
	}
	var outAbs string
	var outInfo os.FileInfo
	if out != "" && out != "-" {
		outAbs = abs(out)
		outInfo, _ = os.Stat(out)
	}
	for _, in := range inputs {
		st, err := os.Stat(in)
		if err == nil && st.IsDir() {
			return fmt.Errorf("%s is a directory, not a report's or a duet's file", in)
		}
		if outAbs != "" && (abs(in) == outAbs || err == nil && outInfo != nil && os.SameFile(st, outInfo)) {
			return fmt.Errorf("-o %s is the input %s: the merge would overwrite it; write the merged file elsewhere", out, in)
		}
	}
	return nil
}

// openInput opens an input file, refusing a directory with an error
// that names it (a file that cannot be read as a file: exit 2, not 4).
func openInput(path string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err != nil || st.IsDir() {
		f.Close()
		if err == nil {
			err = fmt.Errorf("%s is a directory, not a report's or a duet's file", path)
		}
		return nil, err
	}
	return f, nil
}

// readInput reads the input file path with read (loadtest.ReadJSON or
// ReadDuetJSON). A file that cannot be opened or read (a directory, a
// read error) returns an error naming it that is not
// loadtest.ErrInvalidReport (exit 2); a file read whole that is not
// valid returns read's error (ErrInvalidReport, exit 4), named too.
func readInput[T any](path string, read func(io.Reader) (T, error)) (T, error) {
	var zero T
	f, err := openInput(path)
	if err != nil {
		return zero, err
	}
	defer f.Close()
	rd := &readRecorder{r: f}
	v, err := read(rd)
	switch {
	case rd.err != nil:
		return zero, fmt.Errorf("read %s: %w", path, rd.err)
	case err != nil:
		return zero, fmt.Errorf("%s: %w", path, err)
	}
	return v, nil
}

// readRecorder keeps the first error, other than io.EOF, of the reads
// from r: what tells a file that could not be read from one whose
// content is not valid.
type readRecorder struct {
	r   io.Reader
	err error
}

func (rr *readRecorder) Read(p []byte) (int, error) {
	n, err := rr.r.Read(p)
	if err != nil && err != io.EOF && rr.err == nil {
		rr.err = err
	}
	return n, err
}
