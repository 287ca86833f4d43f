package loadtest_test

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c"

	"github.com/benchgate/benchgate/engine"
	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

// noBodyServer answers over raw TCP, keeping each connection open:
// PURGE with a Content-Length of 50 and no body, /gone with status 299,
// chunked, and no body, /extra with status 299 and a body it should not
// have, anything else with "ok". It counts the connections it accepts.
func noBodyServer(t *testing.T) (string, *atomic.Int64) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var conns atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					line, err := br.ReadString('\n')
					if err != nil {
						return
					}
					for { // the rest of the head
						h, err := br.ReadString('\n')
						if err != nil {
							return
						}
						if h == "\r\n" {
							break
						}
					}
					var resp string
					switch {
					case strings.HasPrefix(line, "PURGE "):
						resp = "HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n"
					case strings.HasPrefix(line, "GET /gone "):
						resp = "HTTP/1.1 299 Gone-ish\r\nTransfer-Encoding: chunked\r\n\r\n"
					case strings.HasPrefix(line, "GET /extra "):
						resp = "HTTP/1.1 299 Gone-ish\r\nContent-Length: 5\r\n\r\nextra"
					default:
						resp = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
					}
					if _, err := c.Write([]byte(resp)); err != nil {
						return
					}
				}
			}()
		}
	}()
	return "http://" + ln.Addr().String(), &conns
}

// TestNoResponseBody: a registered method and status end their
// response with its headers (HTTP::LoadGen's
// register_no_response_body_method and _code): the engine does not wait
// for the body the headers announce, and the connection carries the
// next request. Unregistered, the same plan waits for a body that never
// comes and fails on the step's time limit.
func TestNoResponseBody(t *testing.T) {
	run := func() *scenario.RunDef {
		return scenario.Run("r",
			scenario.Request("PURGE", "/cache").TimeLimit(2*time.Second),
			scenario.Get("/gone").ExpectStatus(299).TimeLimit(2*time.Second),
			scenario.Get("/ok").TimeLimit(2*time.Second)).Repeat(3)
	}
	registered := []loadtest.Option{loadtest.NoResponseBodyMethods("PURGE"), loadtest.NoResponseBodyStatuses(299)}
	forEachDriver(t, func(t *testing.T) {
		base, conns := noBodyServer(t)
		report := execute(t, append([]loadtest.Option{loadtest.Runs(run()), loadtest.BaseURL(base), loadtest.KeepAlive(true)}, registered...)...)
		if report.GoodResponses != 9 || report.ResponsesFailed != 0 || len(report.Warnings) != 0 {
			t.Errorf("good %d, failed %d, warnings %q", report.GoodResponses, report.ResponsesFailed, report.Warnings)
		}
		// PURGE's response announces 50 bytes, /gone's a chunked body:
		// each closes its connection after it, as the server may send
		// that body late (TestNoResponseBodyLateBody); /ok's is kept for
		// the next PURGE: 1 + 2 × 3 connections
		if n := conns.Load(); n != 7 {
			t.Errorf("%d connections, want 7", n)
		}
	})
	t.Run("vus", func(t *testing.T) {
		base, conns := noBodyServer(t)
		report := execute(t, append([]loadtest.Option{loadtest.Runs(run()), loadtest.BaseURL(base), loadtest.KeepAlive(true),
			loadtest.VirtualUsers(engine.VUs{Max: 1, Rounds: 3})}, registered...)...)
		if report.GoodResponses != 9 || report.ResponsesFailed != 0 || conns.Load() != 7 {
			t.Errorf("good %d, failed %d, connections %d", report.GoodResponses, report.ResponsesFailed, conns.Load())
		}
	})
	t.Run("unregistered", func(t *testing.T) {
		base, _ := noBodyServer(t)
		report := execute(t, loadtest.Runs(scenario.Run("r", scenario.Request("PURGE", "/cache").TimeLimit(200*time.Millisecond))),
			loadtest.BaseURL(base), loadtest.KeepAlive(true))
		if report.ResponsesFailed != 1 {
			t.Errorf("without the registration PURGE should wait for its 50 bytes and fail: failed %d", report.ResponsesFailed)
		}
	})
	t.Run("body anyway", func(t *testing.T) {
		// a registered status whose response has a body after all: the
		// bytes are unexpected, the connection is closed with a warning,
		// and the next response is read on a new one
		base, conns := noBodyServer(t)
		report := execute(t, loadtest.Runs(scenario.Run("r", scenario.Get("/extra").ExpectStatus(299), scenario.Get("/ok")).Repeat(2)),
			loadtest.BaseURL(base), loadtest.KeepAlive(true), loadtest.NoResponseBodyStatuses(299))
		if report.GoodResponses+report.ResponsesFailed != 4 || report.Run("r").Steps[1].Statuses[200] != 2 {
			t.Errorf("good %d, failed %d, /ok statuses %v", report.GoodResponses, report.ResponsesFailed, report.Run("r").Steps[1].Statuses)
		}
		if conns.Load() < 2 {
			t.Errorf("%d connections: the connection with unexpected bytes must not be reused", conns.Load())
		}
	})
}

// TestNoResponseBodyValidation: a method that is no token and a status
// outside 100–999 are refused before any request, naming the field.
func TestNoResponseBodyValidation(t *testing.T) {
	_, err := loadtest.New(loadtest.Runs(scenario.Run("r", scenario.Get("http://127.0.0.1:1/"))),
		loadtest.NoResponseBodyMethods("BAD METHOD"), loadtest.NoResponseBodyStatuses(42)).Execute(t.Context())
	var ve *scenario.ValidationError
	if !errors.As(err, &ve) || !strings.Contains(err.Error(), "NoResponseBodyMethods") || !strings.Contains(err.Error(), "NoResponseBodyStatuses") || !strings.Contains(err.Error(), "42") {
		t.Errorf("err %v", err)
	}
}

// TestNoResponseBodyHTTP2: over HTTP/2 a registered status or method
// whose headers announce a body that never comes is a complete answer,
// and unregistered the same response is refused (its body ended short
// of its content-length).
func TestNoResponseBodyHTTP2(t *testing.T) {
	srv := httptest.NewUnstartedServer(h2c.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "50")
		if r.Method == "PURGE" {
			return // 200 with no body
		}
		w.WriteHeader(299)
	}), &http2.Server{}))
	srv.Start()
	t.Cleanup(srv.Close)
	run := scenario.Run("r", scenario.Request("PURGE", "/cache"), scenario.Get("/gone").ExpectStatus(299)).Repeat(2)
	report := execute(t, loadtest.Runs(run), loadtest.BaseURL(srv.URL), loadtest.HTTP2(1),
		loadtest.NoResponseBodyMethods("PURGE"), loadtest.NoResponseBodyStatuses(299))
	if report.GoodResponses != 4 || report.ResponsesFailed != 0 {
		t.Errorf("registered: good %d, failed %d: %v", report.GoodResponses, report.ResponsesFailed, report.Run("r").Steps[1].Failures)
	}
	report = execute(t, loadtest.Runs(run), loadtest.BaseURL(srv.URL), loadtest.HTTP2(1))
	if report.ResponsesFailed != 4 {
		t.Errorf("unregistered: good %d, failed %d", report.GoodResponses, report.ResponsesFailed)
	}
}

// lateBodyServer answers GET /extra with status 299 and PURGE /extra
// with 200, each with a Content-Length whose body it sends only when the
// next request on the connection has come: the body is itself a
// "200 OK" response. GET /empty is answered 299 with Content-Length 0.
// Any other request is answered 503. It counts its connections.
func lateBodyServer(t *testing.T) (string, *atomic.Int64) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	const fake = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
	var conns atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				pending := ""
				for {
					line, err := br.ReadString('\n')
					if err != nil {
						return
					}
					for {
						h, err := br.ReadString('\n')
						if err != nil {
							return
						}
						if h == "\r\n" {
							break
						}
					}
					resp := pending + "HTTP/1.1 503 No\r\nContent-Length: 0\r\n\r\n"
					pending = ""
					announce := "Content-Length: " + fmt.Sprint(len(fake)) + "\r\n\r\n"
					switch {
					case strings.HasPrefix(line, "GET /extra "):
						resp, pending = "HTTP/1.1 299 Body-After-All\r\n"+announce, fake
					case strings.HasPrefix(line, "PURGE /extra "):
						resp, pending = "HTTP/1.1 200 OK\r\n"+announce, fake
					case strings.HasPrefix(line, "GET /empty "):
						resp = "HTTP/1.1 299 Empty\r\nContent-Length: 0\r\n\r\n"
					}
					if _, err := c.Write([]byte(resp)); err != nil {
						return
					}
				}
			}()
		}
	}()
	return "http://" + ln.Addr().String(), &conns
}

// TestNoResponseBodyLateBody: a registered no-body status or method
// whose headers announce a body (the server does not know the client
// registered it, and sends it) leaves a connection whose next bytes
// belong to no request: the body, sent late, must never be read as the
// next request's response. Before the fix the body, a "200 OK", was
// taken for /next's answer (which was 503). A registered status whose
// headers announce no body (Content-Length 0) keeps its connection.
func TestNoResponseBodyLateBody(t *testing.T) {
	cases := []struct {
		name  string
		first *scenario.Step
	}{
		{"status", scenario.Get("/extra").ExpectStatus(299)},
		{"method", scenario.Request("PURGE", "/extra")},
	}
	opts := func(base string, first *scenario.Step) []loadtest.Option {
		return []loadtest.Option{loadtest.Runs(scenario.Run("r", first.TimeLimit(2*time.Second), scenario.Get("/next").TimeLimit(2*time.Second)).Repeat(2)),
			loadtest.BaseURL(base), loadtest.KeepAlive(true), loadtest.NoResponseBodyStatuses(299), loadtest.NoResponseBodyMethods("PURGE")}
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			check := func(t *testing.T, report *loadtest.Report) {
				st := report.Run("r").Steps[1].Statuses
				if st[200] != 0 || st[503] != 2 {
					t.Errorf("/next statuses %v: the body of the first response was read as its answer (the server answered 503)", st)
				}
			}
			forEachDriver(t, func(t *testing.T) {
				base, _ := lateBodyServer(t)
				check(t, execute(t, opts(base, c.first)...))
			})
			t.Run("vus", func(t *testing.T) {
				base, _ := lateBodyServer(t)
				check(t, execute(t, append(opts(base, c.first), loadtest.VirtualUsers(engine.VUs{Max: 1, Rounds: 2}))...))
			})
		})
	}
	t.Run("no body announced", func(t *testing.T) {
		forEachDriver(t, func(t *testing.T) {
			base, conns := lateBodyServer(t)
			report := execute(t, loadtest.Runs(scenario.Run("r", scenario.Get("/empty").ExpectStatus(299), scenario.Get("/next").ExpectStatus(503)).Repeat(3)),
				loadtest.BaseURL(base), loadtest.KeepAlive(true), loadtest.NoResponseBodyStatuses(299))
			if report.GoodResponses != 6 || conns.Load() != 1 {
				t.Errorf("good %d, %d connections: a 299 with Content-Length 0 leaves its connection usable", report.GoodResponses, conns.Load())
			}
		})
	})
}
