package dial

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/benchgate/benchgate/failure"
)

func TestLookupOverridesAndCache(t *testing.T) {
	d := New(Config{Resolve: map[string]string{"app.test": "127.0.0.1", "port.test": "127.0.0.1:9"}})
	ctx := context.Background()
	for _, tt := range []struct {
		host, want string
		cached     bool
	}{
		{"app.test", "127.0.0.1:8080", true},
		{"port.test", "127.0.0.1:9", true},
		{"127.0.0.2", "127.0.0.2:8080", false},
		{"::1", "[::1]:8080", false},
	} {
		addr, cached, err := d.Lookup(ctx, tt.host, "8080", 0)
		if err != nil || addr != tt.want || cached != tt.cached {
			t.Errorf("Lookup(%q) = %q, %v, %v; want %q, %v", tt.host, addr, cached, err, tt.want, tt.cached)
		}
	}
	// A name is resolved once per shard: the second lookup in a shard
	// is the cache's, another shard resolves it again.
	r := d.res
	for _, tt := range []struct {
		shard  int
		cached bool
	}{{0, false}, {0, true}, {1, false}, {1, true}} {
		addr, cached, err := r.lookup(ctx, tt.shard, "localhost", "80")
		if err != nil {
			t.Skipf("localhost does not resolve here: %v", err)
		}
		if cached != tt.cached || !strings.HasSuffix(addr, ":80") {
			t.Errorf("shard %d: localhost = %q cached %v, want cached %v", tt.shard, addr, cached, tt.cached)
		}
	}
}

func TestLookupError(t *testing.T) {
	d := New(Config{})
	_, _, err := d.Dial(context.Background(), Target{Host: "no-such-host.invalid", Port: "80"}, 0, "http/1.1")
	if err == nil || failure.KindOf(err) != failure.DNS || !strings.Contains(err.Error(), "resolve no-such-host.invalid") {
		t.Fatalf("err = %v (kind %v), want a DNS failure naming the host", err, failure.KindOf(err))
	}
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) (host, port string) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	host, port, _ = net.SplitHostPort(addr)
	return host, port
}

func TestDialAttempts(t *testing.T) {
	host, port := closedPort(t)
	for _, tt := range []struct {
		attempts int
		want     string
	}{{1, "connect: "}, {3, "connect (3 attempts): "}, {0, "connect (10 attempts): "}} {
		d := New(Config{Attempts: tt.attempts})
		_, _, err := d.Dial(context.Background(), Target{Host: host, Port: port}, 0, "http/1.1")
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) || failure.KindOf(err) != failure.Connect {
			t.Errorf("Attempts %d: err = %v (kind %v), want %q… a Connect failure", tt.attempts, err, failure.KindOf(err), tt.want)
		}
	}
}

// connectProxy is a loopback proxy that answers CONNECT with reply and,
// when reply is a 2xx, tunnels to origin. It records each CONNECT.
type connectProxy struct {
	l      net.Listener
	origin string
	reply  string
	mu     sync.Mutex
	seen   []*http.Request
	wg     sync.WaitGroup
}

func newConnectProxy(t *testing.T, origin, reply string) *connectProxy {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &connectProxy{l: l, origin: origin, reply: reply}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(func() { l.Close(); p.wg.Wait() })
	return p
}

func (p *connectProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			defer c.Close()
			req, err := http.ReadRequest(bufio.NewReader(c))
			if err != nil {
				return
			}
			p.mu.Lock()
			p.seen = append(p.seen, req)
			p.mu.Unlock()
			io.WriteString(c, p.reply)
			if !strings.HasPrefix(p.reply, "HTTP/1.1 2") {
				return
			}
			o, err := net.Dial("tcp", p.origin)
			if err != nil {
				return
			}
			defer o.Close()
			go func() { io.Copy(o, c); o.Close() }()
			io.Copy(c, o)
		}()
	}
}

func (p *connectProxy) url(user string) *url.URL {
	u := &url.URL{Scheme: "http", Host: p.l.Addr().String()}
	if user != "" {
		u.User = url.UserPassword(user, "secret")
	}
	return u
}

func tlsOrigin(t *testing.T) (*httptest.Server, *tls.Config, string) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "through the tunnel")
	}))
	t.Cleanup(srv.Close)
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	return srv, &tls.Config{RootCAs: roots}, port
}

func TestDialThroughConnectProxy(t *testing.T) {
	srv, conf, port := tlsOrigin(t)
	proxy := newConnectProxy(t, srv.Listener.Addr().String(), "HTTP/1.1 200 Connection established\r\n\r\n")
	d := New(Config{TLS: conf})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// example.com is a name the test certificate holds; the proxy, not
	// the dialer, decides where the tunnel goes.
	nc, info, err := d.Dial(ctx, Target{Host: "example.com", Port: port, TLS: true, Proxy: proxy.url("alice")}, 0, "http/1.1")
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if info.TLS <= 0 {
		t.Errorf("Info.TLS = %v, want the handshake's time", info.TLS)
	}
	tc, ok := nc.(*tls.Conn)
	if !ok || tc.ConnectionState().ServerName != "example.com" || tc.ConnectionState().NegotiatedProtocol != "http/1.1" {
		t.Fatalf("connection %T: want TLS with example.com, http/1.1 by ALPN", nc)
	}
	io.WriteString(nc, "GET / HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(body) != "through the tunnel" {
		t.Errorf("response %d %q", resp.StatusCode, body)
	}
	proxy.mu.Lock()
	defer proxy.mu.Unlock()
	if len(proxy.seen) != 1 {
		t.Fatalf("proxy saw %d requests, want 1 CONNECT", len(proxy.seen))
	}
	r := proxy.seen[0]
	if r.Method != "CONNECT" || r.Host != "example.com:"+port || r.Header.Get("Proxy-Authorization") != ProxyAuth(proxy.url("alice")) {
		t.Errorf("proxy saw %s %s, Proxy-Authorization %q", r.Method, r.Host, r.Header.Get("Proxy-Authorization"))
	}
	if got := ProxyAuth(proxy.url("alice")); got != "Basic YWxpY2U6c2VjcmV0" {
		t.Errorf("ProxyAuth = %q", got)
	}
}

func TestDialProxyRefusesTunnel(t *testing.T) {
	srv, conf, port := tlsOrigin(t)
	proxy := newConnectProxy(t, srv.Listener.Addr().String(), "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
	d := New(Config{TLS: conf})
	_, _, err := d.Dial(context.Background(), Target{Host: "example.com", Port: port, TLS: true, Proxy: proxy.url("")}, 0, "http/1.1")
	if err == nil || failure.KindOf(err) != failure.Connect || !strings.Contains(err.Error(), "proxy CONNECT: 407") {
		t.Fatalf("err = %v (kind %v), want a Connect failure naming the 407", err, failure.KindOf(err))
	}
}

func TestDialTLSFailures(t *testing.T) {
	_, conf, port := tlsOrigin(t)
	// An unknown certificate: a TLS failure naming the host.
	d := New(Config{})
	_, _, err := d.Dial(context.Background(), Target{Host: "127.0.0.1", Port: port, TLS: true}, 0, "http/1.1")
	if err == nil || failure.KindOf(err) != failure.TLS || !strings.HasPrefix(err.Error(), "tls handshake with 127.0.0.1: ") {
		t.Errorf("unknown certificate: err = %v (kind %v), want a TLS failure", err, failure.KindOf(err))
	}
	// The server does not speak h2: offering only h2 must fail, never
	// fall back to HTTP/1.1.
	d = New(Config{TLS: conf})
	nc, _, err := d.Dial(context.Background(), Target{Host: "127.0.0.1", Port: port, TLS: true}, 0, "h2")
	if err == nil {
		nc.Close()
		t.Fatal("offering h2 to an HTTP/1.1-only server: no error")
	}
	if failure.KindOf(err) != failure.TLS {
		t.Errorf("h2 refused: err = %v (kind %v), want a TLS failure", err, failure.KindOf(err))
	}
	// A deadline that ends the handshake is the deadline's, not a TLS
	// failure: the caller names it.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := l.Accept()
		if err == nil {
			io.Copy(io.Discard, c) // never answers the ClientHello
			c.Close()
		}
	}()
	host, lport, _ := net.SplitHostPort(l.Addr().String())
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, _, err = d.Dial(ctx, Target{Host: host, Port: lport, TLS: true}, 0, "http/1.1")
	var fe *failure.Error
	if err == nil || errors.As(err, &fe) {
		t.Errorf("deadline in the handshake: err = %v (%T), want it unmarked", err, err)
	}
	l.Close()
	<-done
}
