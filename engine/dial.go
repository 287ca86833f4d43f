package engine

import (
	"crypto/tls"

	"github.com/benchgate/benchgate/internal/dial"
)

// dialer opens the connections of a run (internal/dial): DNS with the
// plan's overrides and cache, TCP connect with attempts, proxy, TLS.
type dialer = dial.Dialer

func newDialer(p *Plan) *dialer {
	return dial.New(dial.Config{
		Resolve:  p.Resolve,
		Resolver: p.Resolver,
		Attempts: p.ConnectAttempts,
		TLS:      tlsBase(p),
		ProxyTLS: proxyTLS(p),
	})
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

// dialTarget is where a connection to t goes.
func (t *target) dialTarget() dial.Target {
	return dial.Target{Host: t.host, Port: t.port, TLS: t.tls, Proxy: t.proxy}
}
