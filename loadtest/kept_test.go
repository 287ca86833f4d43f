package loadtest_test

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/benchgate/benchgate/engine"
	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

// TestVUKeptConnsMixedModes: a virtual user keeps HTTP::LoadGen's pool
// of kept-alive connections, so a plan that mixes keep-alive modes opens
// exactly the connections HTTP::LoadGen opens.
//
// HTTP::LoadGen::Run's run_url takes a cached connection ("$ip $port")
// only when keepalive has the USE bit (1, 3), shifting it off the list,
// and pushes the connection back after the response only when keepalive
// has the STORE bit (2, 3) and the server keeps it open. One thread,
// steps /a KA3, /b KA0, /c KA2, /d KA1, /e KA3:
//
//	round 1: /a pool empty: opens C1, stores it          pool [C1]
//	         /b no USE: opens C2, does not store it        pool [C1]
//	         /c no USE: opens C3, stores it                pool [C1 C3]
//	         /d USE: takes C1, does not store it           pool [C3]
//	         /e USE: takes C3, stores it                   pool [C3]
//	round 2: /a takes C3, stores it; /b opens C4; /c opens C5 (pool
//	         [C3 C5]); /d takes C3; /e takes C5          pool [C5]
//
// 3 connections in round 1 and 2 in each later one: 3 + 2·(rounds−1).
// (One connection per VU, closed whenever a request did not reuse it,
// opened 4 + 3·(rounds−1).)
func TestVUKeptConnsMixedModes(t *testing.T) {
	run := scenario.Run("mixed",
		scenario.Get("/a").KeepAliveMode(scenario.ReuseThenKeep),
		scenario.Get("/b").KeepAliveMode(0),
		scenario.Get("/c").KeepAliveMode(scenario.OpenThenKeep),
		scenario.Get("/d").KeepAliveMode(scenario.ReuseThenClose),
		scenario.Get("/e").KeepAliveMode(scenario.ReuseThenKeep))
	for _, https := range []bool{false, true} {
		var conns atomic.Int64
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
		srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				conns.Add(1)
			}
		}
		opts := []loadtest.Option{loadtest.Runs(run)}
		if https {
			srv.StartTLS()
			pool := x509.NewCertPool()
			pool.AddCert(srv.Certificate())
			opts = append(opts, loadtest.TLSConfig(&tls.Config{RootCAs: pool}))
		} else {
			srv.Start()
		}
		t.Cleanup(srv.Close)
		opts = append(opts, loadtest.BaseURL(srv.URL))
		for _, rounds := range []int{1, 2, 5} {
			conns.Store(0)
			report := execute(t, append(opts, loadtest.VirtualUsers(engine.VUs{Max: 1, Rounds: rounds}))...)
			if report.ResponsesFailed != 0 || report.RequestsSent != int64(5*rounds) {
				t.Fatalf("https %v, %d rounds: sent %d, failed %d", https, rounds, report.RequestsSent, report.ResponsesFailed)
			}
			if got, want := conns.Load(), int64(3+2*(rounds-1)); got != want {
				t.Errorf("https %v, %d rounds: the server accepted %d connections, HTTP::LoadGen opens %d", https, rounds, got, want)
			}
		}
	}
}

// TestVUKeptConnsRedirectAcrossPorts: following a redirect to another
// port and back takes each origin's kept connection from the VU's pool.
//
// HTTP::LoadGen's follow iterator sends each hop as a new request with
// keepalive KEEPALIVE (3). Steps (KA3): A/start → 302 B/hop → 302
// A/back → 200, then A/next:
//
//	round 1: A/start opens A1, stores it; B/hop opens B1, stores it;
//	         A/back takes A1 and stores it; A/next takes A1
//	round r: every request takes its origin's kept connection
//
// One connection to each port, whatever the rounds. (One connection per
// VU, closed whenever the origin changed, opened 1 + rounds to A and
// rounds to B.)
func TestVUKeptConnsRedirectAcrossPorts(t *testing.T) {
	var bURL string
	a, aConns := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/start" {
			http.Redirect(w, r, bURL+"/hop", http.StatusFound)
		}
	})
	b, bConns := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, a.URL+"/back", http.StatusFound)
	})
	bURL = b.URL
	run := scenario.Run("bounce", scenario.Get("/start"), scenario.Get("/next"))
	const rounds = 4
	report := execute(t, loadtest.Runs(run), loadtest.BaseURL(a.URL), loadtest.KeepAlive(true),
		loadtest.VirtualUsers(engine.VUs{Max: 1, Rounds: rounds, Follow: true}))
	if report.ResponsesFailed != 0 || report.GoodResponses != 2*rounds {
		t.Fatalf("good %d, failed %d", report.GoodResponses, report.ResponsesFailed)
	}
	if got, gotB := aConns.Load(), bConns.Load(); got != 1 || gotB != 1 {
		t.Errorf("connections accepted: %d to A, %d to B; HTTP::LoadGen opens 1 and 1", got, gotB)
	}
}

// TestVUKeptConnsFollowHopsKeepAlive: HTTP::LoadGen's follow iterator
// sends each hop with keepalive KEEPALIVE (3), whatever the step's
// mode. Steps without keep-alive (mode 0): A/start → 302 B/hop → 302
// A/back → 200, then A/next:
//
//	round 1: A/start opens A1 (not kept); B/hop opens B1, keeps it;
//	         A/back opens A2, keeps it; A/next opens A3 (not kept)
//	round r: A/start and A/next open one each; the hops take B1 and A2
//
// 3 + 2·(rounds−1) connections to A, 1 to B. (Hops with the step's
// mode: 3·rounds and rounds.)
func TestVUKeptConnsFollowHopsKeepAlive(t *testing.T) {
	var bURL string
	a, aConns := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/start" {
			http.Redirect(w, r, bURL+"/hop", http.StatusFound)
		}
	})
	b, bConns := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, a.URL+"/back", http.StatusFound)
	})
	bURL = b.URL
	run := scenario.Run("bounce", scenario.Get("/start"), scenario.Get("/next"))
	const rounds = 4
	report := execute(t, loadtest.Runs(run), loadtest.BaseURL(a.URL), loadtest.KeepAlive(false),
		loadtest.VirtualUsers(engine.VUs{Max: 1, Rounds: rounds, Follow: true}))
	if report.ResponsesFailed != 0 || report.GoodResponses != 2*rounds {
		t.Fatalf("good %d, failed %d", report.GoodResponses, report.ResponsesFailed)
	}
	if got, gotB := aConns.Load(), bConns.Load(); got != 3+2*(rounds-1) || gotB != 1 {
		t.Errorf("connections accepted: %d to A, %d to B; HTTP::LoadGen opens %d and 1", got, gotB, 3+2*(rounds-1))
	}
}

// TestVUKeptConnsBound: a VU keeps at most engine.MaxKeptConns idle
// connections; keeping one more closes the one kept longest.
//
// MaxKeptConns+2 requests with KA2 each open a connection and keep it
// (HTTP::LoadGen keeps them all); as many with KA1 then each take one.
// HTTP::LoadGen opens MaxKeptConns+2 connections in all. Here the last
// KA2 request's connection stays with the VU and MaxKeptConns are kept
// idle: the earliest one was closed, so the last KA1 request opens one
// more, MaxKeptConns+3 in all.
func TestVUKeptConnsBound(t *testing.T) {
	srv, conns := countingServer(t, func(w http.ResponseWriter, r *http.Request) {})
	n := engine.MaxKeptConns + 2
	var steps []*scenario.Step
	for i := 0; i < n; i++ {
		steps = append(steps, scenario.Get("/store").KeepAliveMode(scenario.OpenThenKeep))
	}
	for i := 0; i < n; i++ {
		steps = append(steps, scenario.Get("/use").KeepAliveMode(scenario.ReuseThenClose))
	}
	report := execute(t, loadtest.Runs(scenario.Run("bound", steps...)), loadtest.BaseURL(srv.URL),
		loadtest.VirtualUsers(engine.VUs{Max: 1}))
	if report.ResponsesFailed != 0 || report.RequestsSent != int64(2*n) {
		t.Fatalf("sent %d, failed %d", report.RequestsSent, report.ResponsesFailed)
	}
	if got, want := conns.Load(), int64(engine.MaxKeptConns+3); got != want {
		t.Errorf("the server accepted %d connections, want %d", got, want)
	}
}

// TestVUKeptConnsClosedWhileKept: a kept connection the server closed
// while it sat in the pool is dropped when a request would take it, and
// the request goes on a new one: no failure.
func TestVUKeptConnsClosedWhileKept(t *testing.T) {
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
					for {
						h, err := br.ReadString('\n')
						if err != nil {
							return
						}
						if h == "\r\n" {
							break
						}
					}
					// a keep-alive answer, but /a's connection is closed after it
					if _, err := c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")); err != nil || strings.HasPrefix(line, "GET /a ") {
						return
					}
				}
			}()
		}
	}()
	run := scenario.Run("r",
		scenario.Get("/a").KeepAliveMode(scenario.ReuseThenKeep),
		scenario.Get("/b").KeepAliveMode(0),
		scenario.Get("/c").KeepAliveMode(scenario.ReuseThenKeep))
	report := execute(t, loadtest.Runs(run), loadtest.BaseURL("http://"+ln.Addr().String()), loadtest.VirtualUsers(engine.VUs{Max: 1}))
	if report.GoodResponses != 3 || report.ResponsesFailed != 0 || conns.Load() != 3 {
		t.Errorf("good %d, failed %d, connections %d (want 3, 0, 3)", report.GoodResponses, report.ResponsesFailed, conns.Load())
	}
}
