package engine

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c"
)

// BenchmarkH2RoundTrip measures the HTTP/2 path (h2c) against a Go
// server in the same process: allocations and the client's share.
func BenchmarkH2RoundTrip(b *testing.B) {
	body := strings.Repeat("x", 600)
	srv := httptest.NewServer(h2c.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, body)
	}), &http2.Server{}))
	b.Cleanup(srv.Close)
	plan := benchPlan(b, srv.URL, 8)
	plan.HTTP2 = true
	b.ReportAllocs()
	b.ResetTimer()
	if err := (Slots{}).Execute(context.Background(), plan, nopRecorder{}); err != nil {
		b.Fatal(err)
	}
}
