package matchers

import (
	"github.com/onsi/ginkgo/v2"

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
