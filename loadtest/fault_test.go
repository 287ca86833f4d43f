package loadtest_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/benchgate/benchgate/internal/faultserver"
	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

// deadDNS is a resolver whose server is a closed loopback port: every
// lookup fails at once, and no query leaves the machine.
func deadDNS(t *testing.T) *net.Resolver {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", addr)
	}}
}

// TestFaultMatrix points a plan at every misbehaviour of the fault server,
// next to a healthy run, on both drivers at concurrency 1 and 16.
func TestFaultMatrix(t *testing.T) {
	fs, err := faultserver.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fs.Close)
	closed, err := faultserver.ClosedAddr()
	if err != nil {
		t.Fatal(err)
	}
	tlsSrv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are the point
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	resolver := deadDNS(t)

	const (
		stepLimit = 300 * time.Millisecond
		planLimit = 4 * time.Second
		faulty    = 3
		healthy   = 10
		buffer    = 4096
	)
	cases := []struct {
		name   string
		url    string
		reason string // in every failure reason; "" when every request must succeed
	}{
		{"connection refused", "http://" + closed + "/ok", "connection refused"},
		{"closed at once", fs.URL + faultserver.CloseAtOnce, "status line"},
		{"reset in headers", fs.URL + faultserver.ResetHeaders, "headers"},
		{"reset in body", fs.URL + faultserver.ResetBody, "body"},
		{"slowloris headers", fs.URL + faultserver.Slowloris, "step time limit 300ms exceeded"},
		{"endless body", fs.URL + faultserver.EndlessBody, "step time limit 300ms exceeded"},
		{"endless chunked body", fs.URL + faultserver.EndlessChunks, "step time limit 300ms exceeded"},
		{"malformed chunked", fs.URL + faultserver.BadChunked, "malformed chunked encoding"},
		{"invalid status line", fs.URL + faultserver.BadStatus, "malformed status line"},
		{"headers over the limit", fs.URL + faultserver.HugeHeaders, "response header larger than the limit"},
		{"interim 100 and 103", fs.URL + faultserver.Interim, ""},
		{"content-length longer than sent", fs.URL + faultserver.ShortBody, "unexpected EOF after 10 of 100 bytes"},
		{"idle keep-alive closed by server", fs.URL + faultserver.IdleClose, ""},
		{"untrusted certificate", tlsSrv.URL + "/", "certificate"},
		{"host that does not resolve", "http://nowhere.invalid/", "resolve nowhere.invalid"},
	}
	for _, tc := range cases {
		for _, conc := range []int{1, 16} {
			t.Run(fmt.Sprintf("%s/c%d", tc.name, conc), func(t *testing.T) {
				forEachDriver(t, func(t *testing.T) {
					bad := scenario.Run("faulty", scenario.Get(tc.url).TimeLimit(stepLimit)).
						Repeat(faulty).KeepLevel(scenario.KeepEverything).BufferBytes(buffer)
					good := scenario.Run("healthy", scenario.Get(fs.URL+faultserver.OK).TimeLimit(stepLimit)).Repeat(healthy)
					var before runtime.MemStats
					runtime.GC()
					runtime.ReadMemStats(&before)
					start := time.Now()
					report, err := newPlan(t, loadtest.Runs(bad, good), loadtest.Concurrency(conc), loadtest.KeepAlive(true),
						loadtest.TimeLimit(planLimit), loadtest.WithResolver(resolver)).Execute(context.Background())
					elapsed := time.Since(start)
					if err != nil {
						t.Fatal(err)
					}
					var after runtime.MemStats
					runtime.ReadMemStats(&after)

					if elapsed > planLimit+time.Second {
						t.Errorf("took %v, time limit %v", elapsed, planLimit)
					}
					if report.RequestsSent != report.ResponsesReceived+report.ResponsesFailed {
						t.Errorf("sent %d != good %d + failed %d", report.RequestsSent, report.ResponsesReceived, report.ResponsesFailed)
					}
					if report.RequestsSent < report.RequestsConfigured && report.StoppedBy == "" {
						t.Errorf("%d of %d sent and nothing says why", report.RequestsSent, report.RequestsConfigured)
					}
					if h := report.Run("healthy"); h.Good() != healthy || h.Failed() != 0 {
						t.Errorf("the healthy run was affected: good %d failed %d: %v", h.Good(), h.Failed(), h.Steps[0].Failures)
					}
					f := report.Run("faulty").Steps[0]
					if tc.reason == "" {
						if f.Good != faulty {
							t.Errorf("good %d of %d: %v", f.Good, faulty, f.Failures)
						}
					} else {
						if f.Failed != faulty {
							t.Errorf("failed %d of %d (good %d)", f.Failed, faulty, f.Good)
						}
						for reason := range f.Failures {
							if !strings.Contains(reason, tc.reason) {
								t.Errorf("reason %q does not say %q", reason, tc.reason)
							}
						}
						if f.Statuses[599] != f.Failed {
							t.Errorf("statuses %v: failures without a response must be 599", f.Statuses)
						}
					}
					if grown := int64(after.HeapAlloc) - int64(before.HeapAlloc); grown > 64<<20 {
						t.Errorf("heap grew by %d MiB", grown>>20)
					}
					for _, b := range report.Run("faulty").Bodies {
						if len(b) > buffer {
							t.Errorf("kept a %d-byte body with a %d-byte buffer", len(b), buffer)
						}
					}
					t.Logf("%s: %d good, %d failed, %d bytes read in %v: %v", tc.name, f.Good, f.Failed, f.BytesRead, elapsed.Round(time.Millisecond), f.Failures)
				})
			})
		}
	}
}
