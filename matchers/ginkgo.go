package matchers

import (
	"runtime"
	"strings"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/benchgate/benchgate/loadtest"
)

// RecordReport adds r's per-step summary table to the running Ginkgo
// spec's report: printed with the spec (in verbose runs, and with its
// failure), and kept in --json-report output.
func RecordReport(name string, r *loadtest.Report) {
	ginkgo.AddReportEntry(name, r.String())
}

// RecordComparison adds a baseline or duet comparison table to the
// running spec's report.
func RecordComparison(name string, c *loadtest.Comparison) {
	ginkgo.AddReportEntry(name, c.String())
}

// numbersEntry names the report entry that shows a report's numbers.
const numbersEntry = "benchgate"

// recordNumbers adds r's numbers (one line per run: requests, good,
// failed, p50/p95/p99, req/s) to the running Ginkgo spec's report, once
// per report and spec, so that a passing spec shows them too: under the
// spec in Ginkgo's output (ginkgo, or go test -v), and in --json-report
// and --junit-report. Outside a running Ginkgo node it does nothing.
func recordNumbers(r *loadtest.Report) {
	if r == nil || r.DidNotRun() || len(r.Runs) == 0 {
		return
	}
	spec := ginkgo.CurrentSpecReport()
	if spec.LeafNodeType == types.NodeTypeInvalid {
		return // not inside a running Ginkgo node
	}
	text := r.Numbers()
	for _, e := range spec.ReportEntries {
		if e.Name == numbersEntry && e.StringRepresentation() == text {
			return
		}
	}
	ginkgo.AddReportEntry(numbersEntry, text, specLocation())
}

// specLocation is where the spec called the matcher: the first caller
// outside this package and Gomega.
func specLocation() types.CodeLocation {
	pcs := make([]uintptr, 32)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(2, pcs)])
	for {
		f, more := frames.Next()
		if !strings.HasPrefix(f.Function, "github.com/benchgate/benchgate/matchers.") && !strings.HasPrefix(f.Function, "github.com/onsi/gomega") && f.File != "" {
			return types.CodeLocation{FileName: f.File, LineNumber: f.Line}
		}
		if !more {
			return types.NewCodeLocation(2)
		}
	}
}
