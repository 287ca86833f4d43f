package engine

import (
	"encoding/base64"
	"fmt"
	"net"
	"net/url"
	"strings"

	"golang.org/x/net/idna"

	"github.com/benchgate/benchgate/scenario"
)

// safeTarget percent-encodes what may not stand in a request target
// (RFC 9112 §3.2, RFC 3986): spaces, control characters, bytes beyond
// ASCII and the characters browsers escape in a query. Nothing a URL
// carries can then split the request line.
func safeTarget(s string) string {
	const hex = "0123456789ABCDEF"
	clean := true
	for i := 0; i < len(s); i++ {
		if unsafeInTarget(s[i]) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	b := make([]byte, 0, len(s)+16)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unsafeInTarget(c) {
			b = append(b, '%', hex[c>>4], hex[c&15])
			continue
		}
		b = append(b, c)
	}
	return string(b)
}

func unsafeInTarget(c byte) bool {
	return c <= ' ' || c >= 0x7f || c == '"' || c == '<' || c == '>' || c == '\\' || c == '^' || c == '`' || c == '{' || c == '|' || c == '}'
}

// target is where a request goes and how its first line and Host header
// read.
type target struct {
	key        string // scheme://host:port of the connection (proxy's when proxied)
	tls        bool   // TLS to the origin
	host       string // host name to resolve, without port
	port       string
	hostHeader string
	requestURI string // origin-form, or absolute-form through a plain proxy
	auth       string // Authorization from the URL's user information
	proxy      *url.URL
	url        *url.URL
}

// resolveTarget turns an absolute URL into a target. The proxy form
// http://proxy:port/http://real:port/path sends through the proxy.
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
	return newTarget(u, proxy)
}

// newTarget turns an absolute http or https URL into a target sent
// through proxy, if any.
func newTarget(u *url.URL, proxy *url.URL) (*target, error) {
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("unsupported scheme %q in %q", u.Scheme, u.Redacted())
	}
	if u.Host == "" {
		return nil, fmt.Errorf("no host in %q", u.Redacted())
	}
	if err := scenario.CheckPort(u.Port()); err != nil {
		return nil, fmt.Errorf("%q: %w", u.Redacted(), err)
	}
	host := u.Hostname()
	if net.ParseIP(host) == nil {
		ascii, err := idna.Lookup.ToASCII(host)
		if err != nil {
			return nil, fmt.Errorf("host %q: %v", host, err)
		}
		host = ascii
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
	t.requestURI = safeTarget(u.RequestURI())
	if u.User != nil {
		pw, _ := u.User.Password()
		t.auth = "Basic " + base64.StdEncoding.EncodeToString([]byte(u.User.Username()+":"+pw))
		clean := *u
		clean.User = nil
		t.url = &clean
	}
	t.key = u.Scheme + "://" + net.JoinHostPort(host, port)
	if proxy != nil {
		t.proxy = proxy
		if !t.tls {
			abs := *t.url
			abs.Fragment = ""
			t.requestURI = safeTarget(abs.String())
		}
		t.key = "proxy " + proxy.Host + " " + t.key
	}
	return t, nil
}
