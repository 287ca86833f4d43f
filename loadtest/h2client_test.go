package loadtest_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c"
	"golang.org/x/net/http2/hpack"

	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

// h2cServer serves h over h2c with the given server settings, counting
// its connections.
func h2cServer(t *testing.T, h http.Handler, conf *http2.Server) (*httptest.Server, *atomic.Int64) {
	return countingServer(t, h2c.NewHandler(h, conf).ServeHTTP)
}

// h2Requests sends the server's SETTINGS, acknowledges the client's and
// hands each request's header block to serve, until it returns false or
// the connection ends.
func h2Requests(fr *http2.Framer, serve func(*http2.MetaHeadersFrame) bool, settings ...http2.Setting) {
	fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	fr.WriteSettings(settings...)
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			return
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				fr.WriteSettingsAck()
			}
		case *http2.MetaHeadersFrame:
			if !serve(f) {
				return
			}
		}
	}
}

func stepFailure(s *loadtest.StepReport) string {
	for r := range s.Failures {
		return r
	}
	return ""
}

// TestHTTP2FlowControl: bodies far larger than the windows go both ways,
// byte for byte, on streams sharing one connection; the kept part of a
// response is its start, the rest counted.
func TestHTTP2FlowControl(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 3<<16) // 3 MiB
	sum := sha256.Sum256(big)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/up":
			got, err := io.ReadAll(r.Body)
			s := sha256.Sum256(got)
			fmt.Fprintf(w, "got %d bytes %s %v", len(got), hex.EncodeToString(s[:]), err)
		default:
			w.Write(big)
		}
	})
	srv, conns := h2cServer(t, h, &http2.Server{})
	report := execute(t, loadtest.Runs(scenario.Run("r",
		scenario.Get("/down").ExpectBodyContains("0123456789abcdef"),
		scenario.Post("/up", string(big)).ExpectBodyContains(fmt.Sprintf("got %d bytes %s <nil>", len(big), hex.EncodeToString(sum[:])))).Repeat(6)),
		loadtest.BaseURL(srv.URL), loadtest.HTTP2(1), loadtest.Concurrency(3))
	s := report.Runs[0].Steps
	if s[0].Good != 6 || s[0].BodyBytes != 6*int64(len(big)) || s[1].Good != 6 || conns.Load() != 1 {
		t.Errorf("down: good %d, %d bytes (%q); up: good %d (%q); %d connections",
			s[0].Good, s[0].BodyBytes, stepFailure(s[0]), s[1].Good, stepFailure(s[1]), conns.Load())
	}
}

// TestHTTP2StreamLimit: a server that allows one stream at a time gets
// one at a time, however many slots share its connection.
func TestHTTP2StreamLimit(t *testing.T) {
	var inFlight, most atomic.Int64
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		time.Sleep(2 * time.Millisecond)
		io.WriteString(w, "ok")
	})
	srv, conns := h2cServer(t, h, &http2.Server{MaxConcurrentStreams: 1})
	report := execute(t, loadtest.Runs(scenario.Run("r", scenario.Get("/")).Repeat(40)),
		loadtest.BaseURL(srv.URL), loadtest.HTTP2(1), loadtest.Concurrency(8))
	if report.GoodResponses != 40 || report.ResponsesFailed != 0 || most.Load() != 1 || conns.Load() != 1 {
		t.Errorf("good %d failed %d, at most %d in flight, %d connections", report.GoodResponses, report.ResponsesFailed, most.Load(), conns.Load())
	}
}

// TestHTTP2GracefulGoAway: a server that ends each connection after two
// streams with GOAWAY (as nginx after keepalive_requests) loses no
// request: the streams it did not process go again on a new connection;
// the ones it did process are answered.
func TestHTTP2GracefulGoAway(t *testing.T) {
	var conns, processed atomic.Int64
	url := h2RawServer(t, func(fr *http2.Framer, enc *hpack.Encoder, hbuf *bytes.Buffer) {
		conns.Add(1)
		served := 0
		h2Requests(fr, func(f *http2.MetaHeadersFrame) bool {
			if served++; served > 2 {
				fr.WriteGoAway(3, http2.ErrCodeNo, nil) // streams 1 and 3 were answered
				time.Sleep(20 * time.Millisecond)
				return false
			}
			processed.Add(1)
			hbuf.Reset()
			enc.WriteField(hpack.HeaderField{Name: ":status", Value: "200"})
			enc.WriteField(hpack.HeaderField{Name: "content-length", Value: "2"})
			fr.WriteHeaders(http2.HeadersFrameParam{StreamID: f.StreamID, BlockFragment: hbuf.Bytes(), EndHeaders: true})
			fr.WriteData(f.StreamID, true, []byte("ok"))
			return true
		})
	})
	report := execute(t, loadtest.Runs(scenario.Run("r", scenario.Get(url+"/").ExpectBodyContains("ok")).Repeat(10).Order(scenario.DepthFirst)),
		loadtest.HTTP2(1))
	if report.GoodResponses != 10 || report.ResponsesFailed != 0 || processed.Load() != 10 || conns.Load() != 5 {
		t.Errorf("good %d failed %d (%q); server processed %d on %d connections",
			report.GoodResponses, report.ResponsesFailed, stepFailure(report.Runs[0].Steps[0]), processed.Load(), conns.Load())
	}
}

// TestHTTP2GoAwayUnderLoad: many streams in flight on connections a
// server ends after five streams each (GOAWAY NO_ERROR, then a lingering
// close, as nginx's): every request is answered, none lost to the close
// (ours or the server's) while other streams were being written.
func TestHTTP2GoAwayUnderLoad(t *testing.T) {
	var processed atomic.Int64
	url := rawServer(t, func(conn net.Conn) {
		preface := make([]byte, len(http2.ClientPreface))
		if _, err := io.ReadFull(conn, preface); err != nil {
			return
		}
		fr := http2.NewFramer(conn, conn)
		var hbuf bytes.Buffer
		enc := hpack.NewEncoder(&hbuf)
		served := 0
		h2Requests(fr, func(f *http2.MetaHeadersFrame) bool {
			served++
			processed.Add(1)
			hbuf.Reset()
			enc.WriteField(hpack.HeaderField{Name: ":status", Value: "200"})
			fr.WriteHeaders(http2.HeadersFrameParam{StreamID: f.StreamID, BlockFragment: hbuf.Bytes(), EndHeaders: true})
			fr.WriteData(f.StreamID, true, []byte("ok"))
			if served == 5 {
				fr.WriteGoAway(f.StreamID, http2.ErrCodeNo, nil)
				return false
			}
			return true
		})
		// a lingering close, as nginx's: what comes meanwhile is read
		// and dropped, so that no reset takes the answers with it
		conn.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
		io.Copy(io.Discard, conn)
	})
	report := execute(t, loadtest.Runs(scenario.Run("r", scenario.Get(url+"/").ExpectBodyContains("ok")).Repeat(600)),
		loadtest.HTTP2(2), loadtest.Concurrency(16))
	if report.GoodResponses != 600 || report.ResponsesFailed != 0 || processed.Load() != 600 {
		t.Errorf("good %d failed %d (%q); the server processed %d", report.GoodResponses, report.ResponsesFailed,
			stepFailure(report.Runs[0].Steps[0]), processed.Load())
	}
}

// TestHTTP2Framing: what the protocol allows is read right (padding,
// informational responses, trailers, CONTINUATION, headers and body in
// many frames); what it forbids fails the stream with the reason and
// leaves the connection serving the next one.
func TestHTTP2Framing(t *testing.T) {
	type script func(fr *http2.Framer, enc func(...string) []byte, id uint32)
	headers := func(fr *http2.Framer, id uint32, block []byte, end bool) {
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: block, EndHeaders: true, EndStream: end})
	}
	cases := []struct {
		name   string
		answer script
		want   string // a failure's reason; "" for good
		body   string
	}{
		{"padding", func(fr *http2.Framer, enc func(...string) []byte, id uint32) {
			headers(fr, id, enc(":status", "200"), false)
			fr.WriteDataPadded(id, false, []byte("pad"), make([]byte, 100))
			fr.WriteDataPadded(id, true, []byte("ded"), make([]byte, 7))
		}, "", "padded"},
		{"103 then 200, trailers", func(fr *http2.Framer, enc func(...string) []byte, id uint32) {
			headers(fr, id, enc(":status", "103", "link", "</a.css>"), false)
			headers(fr, id, enc(":status", "200", "content-length", "5"), false)
			fr.WriteData(id, false, []byte("hel"))
			fr.WriteData(id, false, []byte("lo"))
			headers(fr, id, enc("x-checksum", "1"), true)
		}, "", "hello"},
		{"continuation", func(fr *http2.Framer, enc func(...string) []byte, id uint32) {
			block := enc(":status", "200", "x-long", strings.Repeat("v", 300))
			fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: block[:10]})
			fr.WriteContinuation(id, false, block[10:100])
			fr.WriteContinuation(id, true, block[100:])
			fr.WriteData(id, true, []byte("continued"))
		}, "", "continued"},
		{"short body", func(fr *http2.Framer, enc func(...string) []byte, id uint32) {
			headers(fr, id, enc(":status", "200", "content-length", "10"), false)
			fr.WriteData(id, true, []byte("short"))
		}, "the body ended after 5 bytes, its content-length said 10", ""},
		{"long body", func(fr *http2.Framer, enc func(...string) []byte, id uint32) {
			headers(fr, id, enc(":status", "200", "content-length", "2"), false)
			fr.WriteData(id, true, []byte("longer"))
		}, "more body than its content-length 2", ""},
		{"data first", func(fr *http2.Framer, enc func(...string) []byte, id uint32) {
			fr.WriteData(id, true, []byte("early"))
		}, "DATA before the response's headers", ""},
		{"no status", func(fr *http2.Framer, enc func(...string) []byte, id uint32) {
			headers(fr, id, enc("x-a", "1"), true)
		}, "PROTOCOL_ERROR", ""},
		{"bad status", func(fr *http2.Framer, enc func(...string) []byte, id uint32) {
			headers(fr, id, enc(":status", "2xx"), true)
		}, `bad :status "2xx"`, ""},
		{"upper-case name", func(fr *http2.Framer, enc func(...string) []byte, id uint32) {
			headers(fr, id, enc(":status", "200", "X-Upper", "1"), true)
		}, "PROTOCOL_ERROR", ""},
		{"control character", func(fr *http2.Framer, enc func(...string) []byte, id uint32) {
			headers(fr, id, enc(":status", "200", "x-a", "1\r\nset-cookie: a=b"), true)
		}, "PROTOCOL_ERROR", ""},
		{"101", func(fr *http2.Framer, enc func(...string) []byte, id uint32) {
			headers(fr, id, enc(":status", "101"), true)
		}, "101 is not allowed", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			url := h2RawServer(t, func(fr *http2.Framer, henc *hpack.Encoder, hbuf *bytes.Buffer) {
				enc := func(kv ...string) []byte {
					hbuf.Reset()
					for i := 0; i < len(kv); i += 2 {
						henc.WriteField(hpack.HeaderField{Name: kv[i], Value: kv[i+1]})
					}
					return append([]byte(nil), hbuf.Bytes()...)
				}
				h2Requests(fr, func(f *http2.MetaHeadersFrame) bool {
					if f.PseudoValue("path") == "/next" {
						headers(fr, f.StreamID, enc(":status", "200"), false)
						fr.WriteData(f.StreamID, true, []byte("next"))
					} else {
						tc.answer(fr, enc, f.StreamID)
					}
					return true
				})
			})
			first := scenario.Get(url + "/")
			if tc.body != "" {
				first.ExpectBodyContains(tc.body)
			}
			report := execute(t, loadtest.Runs(scenario.Run("r", first, scenario.Get(url+"/next").ExpectBodyContains("next"))),
				loadtest.HTTP2(1), loadtest.TimeLimit(5*time.Second))
			s := report.Runs[0].Steps
			if tc.want == "" && s[0].Good != 1 {
				t.Errorf("good %d failed %d (%q)", s[0].Good, s[0].Failed, stepFailure(s[0]))
			}
			if tc.want != "" && (s[0].Failed != 1 || !strings.Contains(stepFailure(s[0]), tc.want)) {
				t.Errorf("failed %d, reason %q, want %q", s[0].Failed, stepFailure(s[0]), tc.want)
			}
			if s[1].Good != 1 {
				t.Errorf("the next stream: good %d (%q)", s[1].Good, stepFailure(s[1]))
			}
		})
	}
}

// TestHTTP2StuckWrite: a server that stops reading while it opens every
// window leaves a write that cannot finish; the plan's time limit still
// ends the run, on time, with the request interrupted, and so does a
// step's time limit, with the request failed.
func TestHTTP2StuckWrite(t *testing.T) {
	release := make(chan struct{})
	url := h2RawServer(t, func(fr *http2.Framer, _ *hpack.Encoder, _ *bytes.Buffer) {
		fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1<<31 - 1})
		fr.WriteWindowUpdate(0, 1<<31-1-65535)
		<-release // reads nothing more
	})
	start := time.Now()
	report := execute(t, loadtest.Runs(scenario.Run("r", scenario.Post(url+"/", strings.Repeat("w", 24<<20)))),
		loadtest.HTTP2(1), loadtest.TimeLimit(3*time.Second), loadtest.GracePeriod(-1), loadtest.BufferBytes(1<<10))
	// the body takes a while to build under the race detector: the limit
	// leaves it time to be sent
	if report.RequestsInterrupted != 1 || time.Since(start) > 6*time.Second {
		t.Errorf("plan time limit: interrupted %d, failed %d, after %v", report.RequestsInterrupted, report.ResponsesFailed, time.Since(start))
	}
	// a step's time limit, with no plan time limit: the write is cut
	start = time.Now()
	report = execute(t, loadtest.Runs(scenario.Run("r", scenario.Post(url+"/", strings.Repeat("w", 24<<20)).TimeLimit(time.Second))),
		loadtest.HTTP2(1), loadtest.BufferBytes(1<<10))
	close(release)
	if s := report.Runs[0].Steps[0]; s.Failed != 1 || !strings.Contains(stepFailure(s), "step time limit 1s exceeded") || time.Since(start) > 8*time.Second {
		t.Errorf("step time limit: failed %d (%q), after %v", s.Failed, stepFailure(s), time.Since(start))
	}
}

// TestHTTP2IOTimeout: a step's I/O timeout bounds each wait without a
// frame for the stream, as over HTTP/1.1: a stalled body and a window
// that never opens fail, a trickle that keeps coming passes.
func TestHTTP2IOTimeout(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pause := func(d time.Duration) {
			select {
			case <-r.Context().Done():
			case <-time.After(d):
			}
		}
		switch r.URL.Path {
		case "/stall":
			io.WriteString(w, "abcd")
			w.(http.Flusher).Flush()
			pause(1500 * time.Millisecond)
			io.WriteString(w, "efgh")
		case "/trickle":
			for _, b := range "abcdefgh" {
				pause(40 * time.Millisecond)
				io.WriteString(w, string(b))
				w.(http.Flusher).Flush()
			}
		case "/deaf":
			pause(1500 * time.Millisecond) // reads nothing: the window stays shut
		}
	})
	srv, _ := h2cServer(t, h, &http2.Server{})
	run := scenario.Run("r",
		scenario.Get("/stall").IOTimeout(300*time.Millisecond),
		scenario.Get("/trickle").IOTimeout(300*time.Millisecond).ExpectBodyContains("abcdefgh"),
		scenario.Post("/deaf", strings.Repeat("x", 4<<20)).IOTimeout(300*time.Millisecond))
	start := time.Now()
	report := execute(t, loadtest.Runs(run), loadtest.BaseURL(srv.URL), loadtest.HTTP2(1))
	s := report.Runs[0].Steps
	if s[0].Failed != 1 || s[1].Good != 1 || s[2].Failed != 1 {
		t.Fatalf("stall failed %d, trickle good %d (%q), deaf failed %d", s[0].Failed, s[1].Good, stepFailure(s[1]), s[2].Failed)
	}
	for i, want := range map[int]string{0: "I/O timeout 300ms exceeded: no progress on read", 2: "I/O timeout 300ms exceeded: no progress on write"} {
		if got := stepFailure(s[i]); !strings.Contains(got, want) {
			t.Errorf("step %d: reason %q, want %q", i+1, got, want)
		}
	}
	if took := time.Since(start); took > 2500*time.Millisecond { // the stalls alone: 3 s
		t.Errorf("took %v: the timeouts did not cut the stalls", took)
	}
}

// TestHTTP2ConnectTimeout: the server's SETTINGS are part of opening an
// HTTP/2 connection: a server that accepts and stays silent fails the
// step by its connect timeout, as a connect that does not end would.
func TestHTTP2ConnectTimeout(t *testing.T) {
	silent := rawServer(t, func(c net.Conn) { io.Copy(io.Discard, c) })
	start := time.Now()
	report := execute(t, loadtest.Runs(scenario.Run("r", scenario.Get(silent+"/").ConnectTimeout(100*time.Millisecond))), loadtest.HTTP2(1))
	s := report.Runs[0].Steps[0]
	if s.Failed != 1 || !strings.Contains(stepFailure(s), "connect timeout 100ms exceeded") || time.Since(start) > 2*time.Second {
		t.Errorf("failed %d %q after %v", s.Failed, stepFailure(s), time.Since(start))
	}
}

// TestHTTP2StreamsOwnAnswers: 64 streams on one connection, answered
// out of order, on one processor and on all: each request gets its own
// answer, its extraction feeds its own next step, and the counts add up
// (with so many streams the slots gather their writes, h2Gather).
func TestHTTP2StreamsOwnAnswers(t *testing.T) {
	srv, conns := h2cServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.URL.Query().Get("id")
		if len(id)%3 == 0 {
			time.Sleep(200 * time.Microsecond) // out of order
		}
		w.Header().Set("X-Id", id)
		fmt.Fprintf(w, "<p id=v>%s-%s</p>", r.URL.Path, id)
	}), &http2.Server{MaxConcurrentStreams: 250})
	run := scenario.Run("own",
		scenario.Get("/a?id={{iteration}}").ExpectHeader("X-Id", "{{iteration}}").
			Extract("v", scenario.Regex(`<p id=v>/a-(\d+)</p>`)),
		scenario.Get("/b?id={{v}}").ExpectBodyContains("<p id=v>/b-{{iteration}}</p>"),
	).Repeat(2000)
	for _, procs := range []int{1, runtime.GOMAXPROCS(0)} {
		func() {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
			conns.Store(0)
			report := execute(t, loadtest.Runs(run), loadtest.BaseURL(srv.URL), loadtest.HTTP2(1), loadtest.Concurrency(64))
			if report.GoodResponses != 4000 || report.ResponsesFailed != 0 || conns.Load() != 1 {
				t.Errorf("GOMAXPROCS %d: good %d, failed %d (%q, %q), %d connections", procs, report.GoodResponses, report.ResponsesFailed,
					stepFailure(report.Runs[0].Steps[0]), stepFailure(report.Runs[0].Steps[1]), conns.Load())
			}
		}()
	}
}
