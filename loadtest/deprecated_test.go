package loadtest_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

// TestReportGoodResponsesDeprecatedName: ResponsesReceived, the former
// name of GoodResponses, holds the same count on a report Execute
// returns and on one ReadJSON reads; the JSON key stays
// responses_received, written once; a report built by code that sets
// only the former name writes its count under that key.
func TestReportGoodResponsesDeprecatedName(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/bad" {
			w.WriteHeader(500)
		}
	}))
	defer srv.Close()
	plan := loadtest.New(loadtest.Runs(scenario.Run("r", scenario.Get(srv.URL+"/"), scenario.Get(srv.URL+"/bad")).Repeat(3)))
	report, err := plan.Execute(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if report.GoodResponses != 3 || report.ResponsesReceived != report.GoodResponses || report.ResponsesFailed != 3 {
		t.Fatalf("good %d, former name %d, failed %d; want 3, 3, 3", report.GoodResponses, report.ResponsesReceived, report.ResponsesFailed)
	}
	var buf bytes.Buffer
	if err := report.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	js := buf.String()
	if strings.Count(js, `"responses_received": 3`) != 1 || strings.Contains(js, "GoodResponses") || strings.Contains(js, "ResponsesReceived") {
		t.Fatalf("JSON counts: %s", js[:min(len(js), 400)])
	}
	back, err := loadtest.ReadJSON(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if back.GoodResponses != 3 || back.ResponsesReceived != 3 {
		t.Fatalf("read back: good %d, former name %d; want 3, 3", back.GoodResponses, back.ResponsesReceived)
	}

	byHand := &loadtest.Report{Version: loadtest.ReportVersion, RequestsConfigured: 2, RequestsSent: 2, ResponsesReceived: 2, Latency: loadtest.NewLatency()}
	buf.Reset()
	if err := byHand.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"responses_received": 2`) {
		t.Fatalf("a report setting only ResponsesReceived: %s", buf.String())
	}
}
