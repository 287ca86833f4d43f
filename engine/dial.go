package engine

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/benchgate/benchgate/failure"
)

// resolver resolves each host once per shard (each shard has a cache
// of its own, as each process of a multi-process run will) and caches
// the address;
// overrides send a host name to a chosen address while requests keep the
// name.
type resolver struct {
	mu       sync.Mutex
	cache    map[shardHost]string
	override map[string]string
	dns      *net.Resolver
}

func newResolver(override map[string]string, dns *net.Resolver) *resolver {
	if dns == nil {
		dns = net.DefaultResolver
	}
	return &resolver{cache: map[shardHost]string{}, override: override, dns: dns}
}

type shardHost struct {
	shard int
	host  string
}

// lookup returns host:port to dial for host and port.
func (r *resolver) lookup(ctx context.Context, shard int, host, port string) (addr string, cached bool, err error) {
	if a, ok := r.override[host]; ok {
		if _, _, err := net.SplitHostPort(a); err == nil {
			return a, true, nil
		}
		return net.JoinHostPort(a, port), true, nil
	}
	if net.ParseIP(host) != nil {
		return net.JoinHostPort(host, port), false, nil
	}
	key := shardHost{shard, host}
	r.mu.Lock()
	ip, ok := r.cache[key]
	r.mu.Unlock()
	if ok {
		return net.JoinHostPort(ip, port), true, nil
	}
	ips, err := r.dns.LookupHost(ctx, host)
	if err != nil {
		return "", false, err
	}
	if len(ips) == 0 {
		return "", false, fmt.Errorf("lookup %s: no addresses", host)
	}
	r.mu.Lock()
	r.cache[key] = ips[0]
	r.mu.Unlock()
	return net.JoinHostPort(ips[0], port), false, nil
}

// dialer opens connections for the slots.
type dialer struct {
	res      *resolver
	net      net.Dialer
	attempts int
	tlsBase  *tls.Config
	proxyTLS *tls.Config // for an https:// proxy
	tlsMu    sync.Mutex
	tlsConfs map[string]*tls.Config
}

func newDialer(p *Plan) *dialer {
	attempts := p.ConnectAttempts
	if attempts < 1 {
		attempts = 10
	}
	return &dialer{
		res:      newResolver(p.Resolve, p.Resolver),
		attempts: attempts,
		tlsBase:  tlsBase(p),
		proxyTLS: proxyTLS(p),
		tlsConfs: map[string]*tls.Config{},
	}
}

// proxyTLS is the TLS configuration for an https:// proxy: the plan's
// ProxyTLS or Go's defaults, HTTP/1.1 by ALPN (a proxy is spoken to in
// HTTP/1.1: CONNECT, or requests in absolute form), the proxy's name.
func proxyTLS(p *Plan) *tls.Config {
	if p.Proxy == nil || p.Proxy.Scheme != "https" {
		return nil
	}
	c := &tls.Config{}
	if p.ProxyTLS != nil {
		c = p.ProxyTLS.Clone()
	}
	c.NextProtos = []string{"http/1.1"}
	if c.ServerName == "" {
		c.ServerName = p.Proxy.Hostname()
	}
	return c
}

// tlsBase is the plan's TLS configuration: the user's (Plan.TLS, cloned)
// or Go's defaults, certificates verified unless InsecureSkipVerify,
// sessions resumed from a cache unless NoTLSResumption, HTTP/1.1 by ALPN.
func tlsBase(p *Plan) *tls.Config {
	c := &tls.Config{}
	if p.TLS != nil {
		c = p.TLS.Clone()
	}
	if p.InsecureSkipVerify {
		c.InsecureSkipVerify = true //nolint:gosec // only when the user asks for it
	}
	switch {
	case p.NoTLSResumption:
		c.ClientSessionCache, c.SessionTicketsDisabled = nil, true
	case c.ClientSessionCache == nil:
		c.ClientSessionCache = tls.NewLRUClientSessionCache(256)
	}
	return c
}

// tlsConfig is the configuration for a connection to host offering
// proto by ALPN: the server name is the host's unless the plan's
// configuration names one.
func (d *dialer) tlsConfig(host, proto string) *tls.Config {
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

// dialed is what opening a connection found out.
type dialed struct {
	dnsCached  bool
	tls        time.Duration // the TLS handshake; 0 without TLS
	tlsResumed bool
}

// lookup resolves host within limit (0: no limit of its own).
func (d *dialer) lookup(ctx context.Context, host, port string, limit time.Duration) (string, bool, error) {
	if limit > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, limit)
		defer cancel()
	}
	return d.res.lookup(ctx, 0, host, port)
}

// dial connects to t, trying a failed TCP connect again at once up to
// Plan.ConnectAttempts times in all. ctx
// bounds every part: resolving, connecting, a proxy's CONNECT and the TLS
// handshake.
func (d *dialer) dial(ctx context.Context, t *target, shard int) (nc net.Conn, info dialed, err error) {
	return d.dialProto(ctx, t, shard, "http/1.1")
}

// dialProto is dial offering proto by ALPN over TLS; "h2" requires the
// server to agree.
func (d *dialer) dialProto(ctx context.Context, t *target, shard int, proto string) (nc net.Conn, info dialed, err error) {
	host, port := t.host, t.port
	if t.proxy != nil {
		host, port = t.proxy.Hostname(), t.proxy.Port()
		if port == "" {
			port = "80"
			if t.proxy.Scheme == "https" {
				port = "443"
			}
		}
	}
	addr, cached, err := d.res.lookup(ctx, shard, host, port)
	info.dnsCached = cached
	if err != nil {
		return nil, info, markAs(failure.DNS, fmt.Errorf("resolve %s: %w", host, err))
	}
	for attempt := 1; ; attempt++ {
		nc, err = d.net.DialContext(ctx, "tcp", addr)
		if err == nil {
			break
		}
		if ctx.Err() != nil || attempt >= d.attempts {
			return nil, info, connectError(attempt, err)
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
	if t.proxy != nil && t.proxy.Scheme == "https" && d.proxyTLS != nil {
		pc := tls.Client(nc, d.proxyTLS)
		if err := pc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, info, markAs(failure.TLS, fmt.Errorf("tls handshake with the proxy %s: %w", host, err))
		}
		nc = pc
	}
	if t.proxy != nil && t.tls {
		if err := connectTunnel(nc, t); err != nil {
			nc.Close()
			return nil, info, err
		}
	}
	if t.tls {
		began := time.Now()
		tc := tls.Client(nc, d.tlsConfig(t.host, proto))
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			if proto == "h2" {
				return nil, info, markAs(failure.TLS, fmt.Errorf("tls handshake with %s, offering only h2 by ALPN: %w", t.host, err))
			}
			return nil, info, markAs(failure.TLS, fmt.Errorf("tls handshake with %s: %w", t.host, err))
		}
		info.tls, info.tlsResumed = time.Since(began), tc.ConnectionState().DidResume
		nc = tc
		if proto == "h2" {
			if err := h2TLS(tc); err != nil {
				nc.Close()
				return nil, info, failure.Wrap(failure.TLS, fmt.Errorf("%s: %w", t.host, err))
			}
		}
	}
	return nc, info, nil
}

// connectTunnel asks an HTTP proxy for a tunnel to t.
func connectTunnel(nc net.Conn, t *target) error {
	hp := net.JoinHostPort(t.host, t.port)
	req := "CONNECT " + hp + " HTTP/1.1\r\nHost: " + hp + "\r\n"
	if auth := proxyAuth(t); auth != "" {
		req += "Proxy-Authorization: " + auth + "\r\n"
	}
	if _, err := nc.Write([]byte(req + "\r\n")); err != nil {
		return markAs(failure.Connect, fmt.Errorf("proxy CONNECT: %w", err))
	}
	resp, err := http.ReadResponse(bufio.NewReaderSize(nc, 1), &http.Request{Method: "CONNECT"})
	if err != nil {
		return markAs(failure.Connect, fmt.Errorf("proxy CONNECT: %w", err))
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return failure.New(failure.Connect, "proxy CONNECT: "+resp.Status)
	}
	return nil
}

func proxyAuth(t *target) string {
	if t.proxy == nil || t.proxy.User == nil {
		return ""
	}
	pw, _ := t.proxy.User.Password()
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(t.proxy.User.Username()+":"+pw))
}

// connectError says that connecting failed, after how many attempts.
func connectError(attempts int, err error) error {
	if attempts > 1 {
		return fmt.Errorf("connect (%d attempts): %w", attempts, err)
	}
	return fmt.Errorf("connect: %w", err)
}

// replaceStale reports whether a failed request on a kept-alive
// connection should be sent once more on a new one: the server closed the
// idle connection before it read the request (nothing came back, and the
// error is what such a close produces). Both drivers ask it.
func (x *execution) replaceStale(res *Result, retried, gotByte bool, err error) bool {
	return res.Reused && !retried && !gotByte && staleConn(err) && !x.cutting()
}

// markAs returns err marked as a failure of kind k, unless a deadline or
// a cancel ended it: those are a time limit's or the cancel's, which
// finish names.
func markAs(k failure.Kind, err error) error {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.Canceled) {
		return err
	}
	return failure.Wrap(k, err)
}
