package loadtest_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"golang.org/x/net/http2/hpack"
	"io"
	"log"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c"

	"github.com/benchgate/benchgate/demoapp"
	"github.com/benchgate/benchgate/engine"
	"github.com/benchgate/benchgate/failure"
	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

// h2Counter counts the requests that came over HTTP/2 and the
// connections.
type h2Counter struct{ h2, other, conns atomic.Int64 }

func (c *h2Counter) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor == 2 {
			c.h2.Add(1)
		} else {
			c.other.Add(1)
		}
		if r.URL.Path == "/reset" {
			panic(http.ErrAbortHandler) // the stream is reset
		}
		h.ServeHTTP(w, r)
	})
}

func (c *h2Counter) count(srv *httptest.Server) {
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			c.conns.Add(1)
		}
	}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
}

func loginFlow() *scenario.RunDef {
	return scenario.Run("login",
		scenario.Get("/login"),
		scenario.Submit(scenario.FormFrom("form#login").Set("user", "ann").Set("password", demoapp.Password)).ExpectStatus(303),
		scenario.Get("/account").ExpectCSS("#userName", "ann").Extract("n", scenario.CSS("#userName")),
	).Repeat(8)
}

// TestHTTP2: h2 by ALPN and h2c with prior knowledge carry the login
// flow (form, cookies, extraction) with the streams spread over the
// configured connections; a stream reset, a GOAWAY and a server that
// will not speak h2 are failures that say so.
func TestHTTP2(t *testing.T) {
	var c h2Counter
	tlsSrv := httptest.NewUnstartedServer(c.wrap(demoapp.New()))
	tlsSrv.EnableHTTP2 = true
	c.count(tlsSrv)
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	pool := x509.NewCertPool()
	pool.AddCert(tlsSrv.Certificate())
	trust := loadtest.TLSConfig(&tls.Config{RootCAs: pool})

	report := execute(t, loadtest.Runs(loginFlow()), loadtest.BaseURL(tlsSrv.URL), trust, loadtest.HTTP2(2), loadtest.Concurrency(8))
	if report.GoodResponses != 24 || report.ResponsesFailed != 0 || c.h2.Load() != 24 || c.other.Load() != 0 || c.conns.Load() != 2 {
		t.Fatalf("h2: good %d failed %d (%v %v %v); server: %d over h2, %d other, %d connections",
			report.GoodResponses, report.ResponsesFailed, report.Runs[0].Steps[0].Failures, report.Runs[0].Steps[1].Unsent, report.Runs[0].Steps[2].Failures, c.h2.Load(), c.other.Load(), c.conns.Load())
	}
	if s := report.Runs[0].Steps[0]; s.TLSHandshake == nil || s.TLSHandshake.Count() != 2 {
		t.Errorf("TLS handshakes %v, want 2 (one per connection)", s.TLSHandshake)
	}

	var hc h2Counter
	h2cSrv := httptest.NewUnstartedServer(h2c.NewHandler(hc.wrap(demoapp.New()), &http2.Server{}))
	hc.count(h2cSrv)
	h2cSrv.Start()
	t.Cleanup(h2cSrv.Close)
	report = execute(t, loadtest.Runs(loginFlow()), loadtest.BaseURL(h2cSrv.URL), loadtest.HTTP2(0), loadtest.Concurrency(4))
	if report.GoodResponses != 24 || hc.h2.Load() != 24 || hc.conns.Load() != 1 {
		t.Fatalf("h2c: good %d (%v); server: %d over h2, %d connections", report.GoodResponses, report.Runs[0].Steps[1].Failures,
			hc.h2.Load(), hc.conns.Load())
	}

	// virtual users share the connections as slots do
	hc.h2.Store(0)
	vus := scenario.Run("login", loginFlow().Steps()...)
	report = execute(t, loadtest.Runs(vus), loadtest.BaseURL(h2cSrv.URL), loadtest.HTTP2(1),
		loadtest.VirtualUsers(engine.VUs{Start: 3, Max: 3, Rounds: 2}))
	if report.GoodResponses != 18 || report.ResponsesFailed != 0 || hc.h2.Load() != 18 {
		t.Fatalf("VUs over h2c: good %d failed %d; server: %d over h2", report.GoodResponses, report.ResponsesFailed, hc.h2.Load())
	}

	reason := func(r *loadtest.Report) string {
		for _, s := range r.Runs[0].Steps {
			for k := range s.Failures {
				return k
			}
		}
		return ""
	}
	// a reset stream
	report = execute(t, loadtest.Runs(scenario.Run("r", scenario.Get("/reset"), scenario.Get("/login")).Repeat(2)),
		loadtest.BaseURL(tlsSrv.URL), trust, loadtest.HTTP2(1), loadtest.Concurrency(2))
	if s := report.Runs[0].Steps; s[0].Failed != 2 || s[1].Good != 2 || !strings.Contains(reason(report), "INTERNAL_ERROR") {
		t.Errorf("reset: failed %d, then good %d; reason %q", s[0].Failed, s[1].Good, reason(report))
	}
	// a GOAWAY with a code
	goaway := rawServer(t, func(conn net.Conn) {
		preface := make([]byte, len(http2.ClientPreface))
		if _, err := io.ReadFull(conn, preface); err != nil {
			return
		}
		fr := http2.NewFramer(conn, conn)
		fr.WriteSettings()
		fr.WriteGoAway(0, http2.ErrCodeEnhanceYourCalm, []byte("calm down"))
		io.Copy(io.Discard, conn)
	})
	report = execute(t, loadtest.Runs(scenario.Run("r", scenario.Get(goaway+"/"))), loadtest.HTTP2(1))
	// the code when the stream was open as the GOAWAY came; else x/net
	// drops it with the connection
	if r := reason(report); report.ResponsesFailed != 1 || (!strings.Contains(r, "ENHANCE_YOUR_CALM") && !strings.Contains(r, "went away before the stream started")) {
		t.Errorf("GOAWAY: failed %d, reason %q", report.ResponsesFailed, r)
	}
	// a TLS server that speaks only HTTP/1.1
	h1 := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	h1.Config.ErrorLog = log.New(io.Discard, "", 0)
	h1.StartTLS()
	t.Cleanup(h1.Close)
	report = execute(t, loadtest.Runs(scenario.Run("r", scenario.Get(h1.URL+"/"))), loadtest.HTTP2(1), loadtest.InsecureSkipVerify())
	if r := reason(report); report.ResponsesFailed != 1 || !strings.Contains(r, "offering only h2 by ALPN") {
		t.Errorf("no h2: failed %d, reason %q", report.ResponsesFailed, r)
	}
}

// TestHTTP2Limits: a step's time limit cuts a stream; the plan's time
// limit interrupts the streams in flight; redirects are followed.
func TestHTTP2Limits(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/slow":
			select {
			case <-r.Context().Done():
			case <-time.After(3 * time.Second):
			}
		case "/moved":
			http.Redirect(w, r, "/here", http.StatusSeeOther)
		default:
			io.WriteString(w, "here "+r.Proto)
		}
	})
	srv := httptest.NewUnstartedServer(h2c.NewHandler(h, &http2.Server{}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Start()
	t.Cleanup(srv.Close)
	report := execute(t, loadtest.Runs(scenario.Run("r", scenario.Get("/slow").TimeLimit(100*time.Millisecond),
		scenario.Get("/moved").FollowRedirects(1).ExpectBodyContains("here HTTP/2.0"))), loadtest.BaseURL(srv.URL), loadtest.HTTP2(1))
	s := report.Runs[0].Steps
	reason := ""
	for r := range s[0].Failures {
		reason = r
	}
	if s[0].Failed != 1 || !strings.Contains(reason, "step time limit 100ms exceeded") || s[1].Good != 1 || s[1].Followed != 1 {
		t.Errorf("slow: failed %d %q; moved: good %d followed %d %v", s[0].Failed, reason, s[1].Good, s[1].Followed, s[1].Failures)
	}
	start := time.Now()
	report = execute(t, loadtest.Runs(scenario.Run("r", scenario.Get("/slow")).Repeat(4)), loadtest.BaseURL(srv.URL), loadtest.HTTP2(1),
		loadtest.Concurrency(4), loadtest.TimeLimit(200*time.Millisecond), loadtest.GracePeriod(-1))
	if report.RequestsInterrupted != 4 || report.ResponsesFailed != 0 || time.Since(start) > 2*time.Second {
		t.Errorf("time limit: interrupted %d, failed %d, after %v", report.RequestsInterrupted, report.ResponsesFailed, time.Since(start))
	}
}

// h2RawServer answers each connection as script says, after reading the
// client preface and its SETTINGS.
func h2RawServer(t *testing.T, script func(fr *http2.Framer, enc *hpack.Encoder, hbuf *bytes.Buffer)) string {
	return rawServer(t, func(conn net.Conn) {
		preface := make([]byte, len(http2.ClientPreface))
		if _, err := io.ReadFull(conn, preface); err != nil {
			return
		}
		fr := http2.NewFramer(conn, conn)
		var hbuf bytes.Buffer
		script(fr, hpack.NewEncoder(&hbuf), &hbuf)
		io.Copy(io.Discard, conn)
	})
}

// TestHTTP2Faults: the fault matrix's HTTP/2 cases, each a recorded
// failure that says what happened: a peer that stops reading (no flow
// control window), an oversized header block, a GOAWAY after one
// stream, a reset with a code.
func TestHTTP2Faults(t *testing.T) {
	// waits for the request's HEADERS, then does what is asked
	onRequest := func(do func(fr *http2.Framer, enc *hpack.Encoder, hbuf *bytes.Buffer, stream uint32)) string {
		return h2RawServer(t, func(fr *http2.Framer, enc *hpack.Encoder, hbuf *bytes.Buffer) {
			h2Requests(fr, func(f *http2.MetaHeadersFrame) bool {
				do(fr, enc, hbuf, f.StreamID)
				return true
			}, http2.Setting{ID: http2.SettingInitialWindowSize, Val: 0})
		})
	}
	respond := func(fr *http2.Framer, enc *hpack.Encoder, hbuf *bytes.Buffer, stream uint32, fields ...hpack.HeaderField) {
		hbuf.Reset()
		for _, f := range fields {
			enc.WriteField(f)
		}
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: stream, BlockFragment: hbuf.Bytes(), EndHeaders: true, EndStream: true})
	}
	stalled := onRequest(func(*http2.Framer, *hpack.Encoder, *bytes.Buffer, uint32) {}) // never answers, never opens a window
	huge := onRequest(func(fr *http2.Framer, enc *hpack.Encoder, hbuf *bytes.Buffer, stream uint32) {
		hbuf.Reset()
		enc.WriteField(hpack.HeaderField{Name: ":status", Value: "200"})
		for i := 0; i < 20; i++ {
			enc.WriteField(hpack.HeaderField{Name: fmt.Sprintf("x-big-%d", i), Value: strings.Repeat("b", 10<<10)})
		}
		block := hbuf.Bytes() // 200 KiB, sent in frames of 16 KiB
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: stream, BlockFragment: block[:16<<10], EndStream: true})
		for block = block[16<<10:]; len(block) > 0; {
			n := min(len(block), 16<<10)
			fr.WriteContinuation(stream, n == len(block), block[:n])
			block = block[n:]
		}
	})
	served := 0
	goaway := onRequest(func(fr *http2.Framer, enc *hpack.Encoder, hbuf *bytes.Buffer, stream uint32) {
		if served++; served == 1 {
			respond(fr, enc, hbuf, stream, hpack.HeaderField{Name: ":status", Value: "204"})
			return
		}
		fr.WriteGoAway(stream-min(stream, 2), http2.ErrCodeNo, []byte("going away")) // the retry on a new connection too
	})
	reset := onRequest(func(fr *http2.Framer, _ *hpack.Encoder, _ *bytes.Buffer, stream uint32) {
		fr.WriteRSTStream(stream, http2.ErrCodeRefusedStream)
	})
	cases := []struct {
		name, url string
		step      *scenario.Step
		want      string
	}{
		{"a peer that stops reading", stalled, scenario.Post(stalled+"/", strings.Repeat("p", 1<<10)).TimeLimit(300 * time.Millisecond), "step time limit 300ms exceeded"},
		{"an oversized header block", huge, scenario.Get(huge + "/").TimeLimit(2 * time.Second), "PROTOCOL_ERROR"},
		{"a GOAWAY after one stream", goaway, scenario.Get(goaway + "/").TimeLimit(2 * time.Second), "GOAWAY"},
		{"a reset stream", reset, scenario.Get(reset + "/").TimeLimit(2 * time.Second), "REFUSED_STREAM"},
	}
	h2kinds := map[string]failure.Kind{
		"a peer that stops reading": failure.StepTimeLimit,
		"an oversized header block": failure.Parse,
		"a GOAWAY after one stream": failure.StreamReset,
		"a reset stream":            failure.StreamReset,
	}
	for _, tc := range cases {
		served = 0
		n := 1
		if tc.name == "a GOAWAY after one stream" {
			n = 2
		}
		report := execute(t, loadtest.Runs(scenario.Run("r", tc.step).Repeat(n).Order(scenario.DepthFirst)), loadtest.HTTP2(1))
		s := report.Runs[0].Steps[0]
		reason := ""
		for r := range s.Failures {
			reason = r
		}
		if s.Failed != 1 || !strings.Contains(reason, tc.want) {
			t.Errorf("%s: good %d failed %d, reason %q, want %q", tc.name, s.Good, s.Failed, reason, tc.want)
		}
		if want := map[failure.Kind]int64{h2kinds[tc.name]: 1}; !maps.Equal(s.Kinds, want) {
			t.Errorf("%s: kinds %v, want %v (reason %q)", tc.name, s.Kinds, want, reason)
		}
	}
}

// TestHTTP2Encoding: every stream's Content-Encoding is its own: a
// gzip body after a gzip body is decoded once, not twice.
func TestHTTP2Encoding(t *testing.T) {
	page := []byte("<p id=t>hello</p>" + strings.Repeat("x", 2000))
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(encode(t, "gzip", page))
	})
	srv := httptest.NewServer(h2c.NewHandler(h, &http2.Server{}))
	t.Cleanup(srv.Close)
	report := execute(t, loadtest.Runs(scenario.Run("r", scenario.Get("/").ExpectCSS("#t", "hello")).Repeat(3).Order(scenario.DepthFirst)),
		loadtest.BaseURL(srv.URL), loadtest.HTTP2(1), loadtest.AcceptEncoding("gzip"))
	if s := report.Runs[0].Steps[0]; s.Good != 3 || s.DecodedBytes != 3*int64(len(page)) {
		t.Errorf("good %d (%v), decoded %d bytes", s.Good, s.Failures, s.DecodedBytes)
	}
}
