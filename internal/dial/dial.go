package dial

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/benchgate/benchgate/failure"
)

// DefaultAttempts is Config.Attempts when it is below 1.
const DefaultAttempts = 10

// Config is what a Dialer is made of.
type Config struct {
	// Resolve sends a host name to another address ("ip" or
	// "ip:port"), while requests keep the name.
	Resolve map[string]string
	// Resolver resolves the other names; nil is net.DefaultResolver.
	Resolver *net.Resolver
	// Attempts is how many times in all a failed TCP connect is tried
	// (at once, one after another); below 1, DefaultAttempts.
	Attempts int
	// TLS is the base configuration for a TLS target; each host gets a
	// clone with its ServerName (unless TLS names one) and the ALPN
	// protocol asked for. nil is Go's defaults.
	TLS *tls.Config
	// ProxyTLS is the configuration for an https:// proxy, used as is.
	ProxyTLS *tls.Config
}

// Target is where a connection goes.
type Target struct {
	Host, Port string   // the origin's: Host a name or an IP, without brackets
	TLS        bool     // https: a TLS handshake with Host
	Proxy      *url.URL // an http:// or https:// proxy; nil connects directly
}

// Info is what opening a connection found out.
type Info struct {
	DNSCached  bool          // the address came from the cache or an override
	TLS        time.Duration // the TLS handshake with the target; 0 without TLS
	TLSResumed bool          // the handshake resumed a session
}

// Dialer opens connections. Make it with New; it is safe for concurrent
// use.
type Dialer struct {
	res      *resolver
	net      net.Dialer
	attempts int
	tlsBase  *tls.Config
	proxyTLS *tls.Config
	tlsMu    sync.Mutex
	tlsConfs map[string]*tls.Config
}

// New returns a Dialer for c.
func New(c Config) *Dialer {
	attempts := c.Attempts
	if attempts < 1 {
		attempts = DefaultAttempts
	}
	base := c.TLS
	if base == nil {
		base = &tls.Config{}
	}
	return &Dialer{
		res:      newResolver(c.Resolve, c.Resolver),
		attempts: attempts,
		tlsBase:  base,
		proxyTLS: c.ProxyTLS,
		tlsConfs: map[string]*tls.Config{},
	}
}

// Attempts is how many times in all a failed TCP connect is tried.
func (d *Dialer) Attempts() int { return d.attempts }

// tlsConfig is the configuration for a connection to host offering
// proto by ALPN: the server name is the host's unless the base
// configuration names one.
func (d *Dialer) tlsConfig(host, proto string) *tls.Config {
	d.tlsMu.Lock()
	defer d.tlsMu.Unlock()
	c, ok := d.tlsConfs[proto+" "+host]
	if !ok {
		c = d.tlsBase.Clone()
		if c.ServerName == "" {
			c.ServerName = host
		}
		c.NextProtos = []string{proto}
		d.tlsConfs[proto+" "+host] = c
	}
	return c
}

// Lookup resolves host within limit (0: no limit of its own), in shard
// 0's cache, and returns the address to connect to for port.
func (d *Dialer) Lookup(ctx context.Context, host, port string, limit time.Duration) (addr string, cached bool, err error) {
	if limit > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, limit)
		defer cancel()
	}
	return d.res.lookup(ctx, 0, host, port)
}

// Dial connects to t, resolving names in shard's cache, trying a failed
// TCP connect again at once up to Attempts times in all, and offering
// proto by ALPN over TLS ("h2" requires the server to agree: ErrNoH2).
// ctx bounds every part: resolving, connecting, a proxy's TLS handshake
// and CONNECT, and the TLS handshake.
func (d *Dialer) Dial(ctx context.Context, t Target, shard int, proto string) (nc net.Conn, info Info, err error) {
	host, port := t.Host, t.Port
	if t.Proxy != nil {
		host, port = t.Proxy.Hostname(), t.Proxy.Port()
		if port == "" {
			port = "80"
			if t.Proxy.Scheme == "https" {
				port = "443"
			}
		}
	}
	addr, cached, err := d.res.lookup(ctx, shard, host, port)
	info.DNSCached = cached
	if err != nil {
		return nil, info, MarkAs(failure.DNS, fmt.Errorf("resolve %s: %w", host, err))
	}
	for attempt := 1; ; attempt++ {
		nc, err = d.net.DialContext(ctx, "tcp", addr)
		if err == nil {
			break
		}
		if ctx.Err() != nil || attempt >= d.attempts {
			return nil, info, ConnectError(attempt, err)
		}
	}
	if dl, ok := ctx.Deadline(); ok {
		nc.SetDeadline(dl)
		defer func() {
			if err == nil {
				nc.SetDeadline(time.Time{})
			}
		}()
	}
	if t.Proxy != nil && t.Proxy.Scheme == "https" && d.proxyTLS != nil {
		pc := tls.Client(nc, d.proxyTLS)
		if err := pc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, info, MarkAs(failure.TLS, fmt.Errorf("tls handshake with the proxy %s: %w", host, err))
		}
		nc = pc
	}
	if t.Proxy != nil && t.TLS {
		if err := connectTunnel(nc, t); err != nil {
			nc.Close()
			return nil, info, err
		}
	}
	if t.TLS {
		began := time.Now()
		tc := tls.Client(nc, d.tlsConfig(t.Host, proto))
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			if proto == "h2" {
				return nil, info, MarkAs(failure.TLS, fmt.Errorf("tls handshake with %s, offering only h2 by ALPN: %w", t.Host, err))
			}
			return nil, info, MarkAs(failure.TLS, fmt.Errorf("tls handshake with %s: %w", t.Host, err))
		}
		info.TLS, info.TLSResumed = time.Since(began), tc.ConnectionState().DidResume
		nc = tc
		if proto == "h2" {
			if err := NegotiatedH2(tc); err != nil {
				nc.Close()
				return nil, info, failure.Wrap(failure.TLS, fmt.Errorf("%s: %w", t.Host, err))
			}
		}
	}
	return nc, info, nil
}

// ErrNoH2 says a TLS server did not agree to HTTP/2.
var ErrNoH2 = failure.New(failure.TLS, "the server did not negotiate h2 by ALPN")

// NegotiatedH2 returns nil when nc negotiated h2 by ALPN, or has no TLS
// (h2c with prior knowledge), else ErrNoH2 with what was negotiated.
func NegotiatedH2(nc net.Conn) error {
	if tc, ok := nc.(*tls.Conn); ok && tc.ConnectionState().NegotiatedProtocol != "h2" {
		return fmt.Errorf("%w (got %q)", ErrNoH2, tc.ConnectionState().NegotiatedProtocol)
	}
	return nil
}

// connectTunnel asks an HTTP proxy for a tunnel to t.
func connectTunnel(nc net.Conn, t Target) error {
	hp := net.JoinHostPort(t.Host, t.Port)
	req := "CONNECT " + hp + " HTTP/1.1\r\nHost: " + hp + "\r\n"
	if auth := ProxyAuth(t.Proxy); auth != "" {
		req += "Proxy-Authorization: " + auth + "\r\n"
	}
	if _, err := nc.Write([]byte(req + "\r\n")); err != nil {
		return MarkAs(failure.Connect, fmt.Errorf("proxy CONNECT: %w", err))
	}
	resp, err := http.ReadResponse(bufio.NewReaderSize(nc, 1), &http.Request{Method: "CONNECT"})
	if err != nil {
		return MarkAs(failure.Connect, fmt.Errorf("proxy CONNECT: %w", err))
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return failure.New(failure.Connect, "proxy CONNECT: "+resp.Status)
	}
	return nil
}

// ProxyAuth is the Proxy-Authorization value for proxy's user ("Basic
// ..."), or "" when the proxy URL has none.
func ProxyAuth(proxy *url.URL) string {
	if proxy == nil || proxy.User == nil {
		return ""
	}
	pw, _ := proxy.User.Password()
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(proxy.User.Username()+":"+pw))
}

// ConnectError says that connecting failed, after how many attempts.
func ConnectError(attempts int, err error) error {
	if attempts > 1 {
		return fmt.Errorf("connect (%d attempts): %w", attempts, err)
	}
	return fmt.Errorf("connect: %w", err)
}

// MarkAs returns err marked as a failure of kind k, unless a deadline or
// a cancel ended it: those are a time limit's or the cancel's, which
// the caller names.
func MarkAs(k failure.Kind, err error) error {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.Canceled) {
		return err
	}
	return failure.Wrap(k, err)
}
