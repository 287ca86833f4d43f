package loadtest_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
	"golang.org/x/net/http2"
)

// TestMaxHeaderBytesEveryProtocol: a response whose headers pass
// MaxHeaderBytes fails the same way over HTTP/1.1 and HTTP/2 (HTTP/2
// took at least 64 KiB whatever the plan said).
func TestMaxHeaderBytesEveryProtocol(t *testing.T) {
	big := strings.Repeat("x", 12<<10)
	srv, _ := h2cServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/big" {
			w.Header().Set("X-Big", big)
		}
		w.Write([]byte("ok"))
	}), &http2.Server{})
	for _, h2 := range []bool{false, true} {
		opts := []loadtest.Option{loadtest.Runs(scenario.Run("r", scenario.Get(srv.URL+"/small"), scenario.Get(srv.URL+"/big"))),
			loadtest.MaxHeaderBytes(8 << 10)}
		if h2 {
			opts = append(opts, loadtest.HTTP2(1))
		}
		r, err := loadtest.New(opts...).Execute(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		small, bigStep := r.Runs[0].Steps[0], r.Runs[0].Steps[1]
		t.Logf("HTTP/2 %v: %v", h2, bigStep.Failures)
		for reason := range bigStep.Failures {
			if !strings.Contains(reason, "header") || strings.Contains(reason, "broke the protocol") {
				t.Errorf("HTTP/2 %v: the reason %q does not say the headers passed the limit", h2, reason)
			}
		}
		if small.Failed != 0 || bigStep.Failed != 1 {
			t.Errorf("HTTP/2 %v: small headers %d failed, 12 KiB of headers under an 8 KiB limit %d failed (want 0 and 1); reasons %v", h2, small.Failed, bigStep.Failed, bigStep.Failures)
		}
	}
}
