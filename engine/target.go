package engine

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	"golang.org/x/net/idna"
)

// target is where a request goes and how its first line and Host header
// read.
type target struct {
	key        string // scheme://host:port of the connection (proxy's when proxied)
	tls        bool   // TLS to the origin
	host       string // host name to resolve, without port
	port       string
	hostHeader string
	requestURI string // origin-form, or absolute-form through a plain proxy
	proxy      *url.URL
	url        *url.URL
}

// resolveTarget turns an absolute URL into a target. The seed API's proxy
// form http://proxy:port/http://real:port/path sends through the proxy.
func resolveTarget(u *url.URL, proxy *url.URL) (*target, error) {
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("unsupported scheme %q in %q", u.Scheme, u.Redacted())
	}
	if p := strings.TrimPrefix(u.Path, "/"); strings.HasPrefix(p, "http://") || strings.HasPrefix(p, "https://") {
		inner := p
		if u.RawQuery != "" {
			inner += "?" + u.RawQuery
		}
		real, err := url.Parse(inner)
		if err != nil {
			return nil, fmt.Errorf("proxied URL %q: %v", inner, err)
		}
		proxy = &url.URL{Scheme: u.Scheme, Host: u.Host}
		u = real
		if u.Scheme != "http" && u.Scheme != "https" {
			return nil, fmt.Errorf("unsupported scheme %q in %q", u.Scheme, u.Redacted())
		}
	}
	if u.Host == "" {
		return nil, fmt.Errorf("no host in %q", u.Redacted())
	}
	host := u.Hostname()
	if ascii, err := idna.Lookup.ToASCII(host); err == nil {
		host = ascii
	} else {
		return nil, fmt.Errorf("host %q: %v", host, err)
	}
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	t := &target{tls: u.Scheme == "https", host: host, port: port, url: u}
	t.hostHeader = host
	if strings.Contains(host, ":") {
		t.hostHeader = "[" + host + "]"
	}
	if u.Port() != "" {
		t.hostHeader += ":" + port
	}
	t.requestURI = u.RequestURI()
	t.key = u.Scheme + "://" + net.JoinHostPort(host, port)
	if proxy != nil {
		t.proxy = proxy
		if !t.tls {
			abs := *u
			abs.Fragment = ""
			t.requestURI = abs.String()
		}
		t.key = "proxy " + proxy.Host + " " + t.key
	}
	return t, nil
}
