package engine

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/benchgate/benchgate/scenario"
)

type headerKV struct{ name, value string }

// appendHead appends the request line and every header but Cookie, without
// the blank line that ends the head.
func appendHead(dst []byte, p *Plan, method string, t *target, keepAlive bool,
	extra []headerKV, contentType string, body bool, bodyLen int) []byte {
	dst = append(dst, method...)
	dst = append(dst, ' ')
	dst = append(dst, t.requestURI...)
	if p.HTTP10 {
		dst = append(dst, " HTTP/1.0\r\n"...)
	} else {
		dst = append(dst, " HTTP/1.1\r\n"...)
	}
	has := func(name string) bool {
		for _, h := range extra {
			if strings.EqualFold(h.name, name) {
				return true
			}
		}
		return false
	}
	if !has("Host") {
		dst = append(dst, "Host: "...)
		dst = append(dst, t.hostHeader...)
		dst = append(dst, "\r\n"...)
	}
	if !has("User-Agent") && p.UserAgent != "" {
		dst = append(dst, "User-Agent: "...)
		dst = append(dst, p.UserAgent...)
		dst = append(dst, "\r\n"...)
	}
	if !has("Accept") {
		dst = append(dst, "Accept: */*\r\n"...)
	}
	switch {
	case p.HTTP10 && keepAlive:
		dst = append(dst, "Connection: Keep-Alive\r\n"...)
	case !p.HTTP10 && !keepAlive:
		dst = append(dst, "Connection: close\r\n"...)
	}
	if t.proxy != nil && !t.tls {
		if auth := proxyAuth(t); auth != "" {
			dst = append(dst, "Proxy-Authorization: "...)
			dst = append(dst, auth...)
			dst = append(dst, "\r\n"...)
		}
	}
	if body {
		if !has("Content-Type") && contentType != "" {
			dst = append(dst, "Content-Type: "...)
			dst = append(dst, contentType...)
			dst = append(dst, "\r\n"...)
		}
		dst = append(dst, "Content-Length: "...)
		dst = strconv.AppendInt(dst, int64(bodyLen), 10)
		dst = append(dst, "\r\n"...)
	}
	for _, h := range extra {
		dst = append(dst, h.name...)
		dst = append(dst, ": "...)
		dst = append(dst, h.value...)
		dst = append(dst, "\r\n"...)
	}
	return dst
}

// iterState is what one iteration carries from step to step.
type iterState struct {
	vars    scenario.Vars
	cookies []cookie
	prev    *scenario.Response
}

type cookie struct{ name, value, domain string }

// setCookies stores the Set-Cookie values (each ended by '\n') of a
// response from host: a crude, fast jar, like the seed's, that also
// honours Domain and deletion by Max-Age or an empty value.
func (st *iterState) setCookies(lines []byte, host string) {
	for len(lines) > 0 {
		i := bytes.IndexByte(lines, '\n')
		line := string(lines[:i])
		lines = lines[i+1:]
		name, value, ok := scenario.ParseSetCookie(line)
		if !ok {
			continue
		}
		domain, del := host, value == ""
		for _, attr := range strings.Split(line, ";")[1:] {
			k, v, _ := strings.Cut(strings.TrimSpace(attr), "=")
			switch strings.ToLower(k) {
			case "domain":
				if d := strings.TrimPrefix(strings.ToLower(strings.TrimSpace(v)), "."); d != "" && domainMatch(host, d) {
					domain = d
				}
			case "max-age":
				if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n <= 0 {
					del = true
				}
			}
		}
		j := 0
		for _, c := range st.cookies {
			if c.name != name || c.domain != domain {
				st.cookies[j] = c
				j++
			}
		}
		st.cookies = st.cookies[:j]
		if !del {
			st.cookies = append(st.cookies, cookie{name, value, domain})
		}
	}
}

func domainMatch(host, domain string) bool {
	host = strings.ToLower(host)
	return host == domain || strings.HasSuffix(host, "."+domain)
}

// appendCookieLine appends a Cookie header with the static cookie and the
// jar's cookies for host, if any.
func appendCookieLine(dst []byte, static string, st *iterState, host string) []byte {
	static = strings.TrimRight(strings.TrimSpace(static), ";")
	n := 0
	if st != nil {
		for _, c := range st.cookies {
			if domainMatch(host, c.domain) {
				n++
			}
		}
	}
	if static == "" && n == 0 {
		return dst
	}
	dst = append(dst, "Cookie: "...)
	dst = append(dst, static...)
	sep := static != ""
	if n > 0 {
		for _, c := range st.cookies {
			if !domainMatch(host, c.domain) {
				continue
			}
			if sep {
				dst = append(dst, "; "...)
			}
			sep = true
			dst = append(dst, c.name...)
			dst = append(dst, '=')
			dst = append(dst, c.value...)
		}
	}
	return append(dst, "\r\n"...)
}

// built is a request ready to write, apart from its cookies.
type built struct {
	method string
	head   bool
	t      *target
	body   []byte
}

// buildDynamic expands a step that needs variables or the previous
// response. Its head goes to dst.
func buildDynamic(dst []byte, p *Plan, rp *runPlan, sp *stepPlan, st *iterState) ([]byte, built, error) {
	spec := sp.spec
	var vars scenario.Vars
	var prev *scenario.Response
	if st != nil {
		vars, prev = st.vars, st.prev
	}
	var b built
	var rawURL string
	var err error
	if spec.Form != nil {
		ff, err := spec.Form.Fill(prev, vars)
		if err != nil {
			return dst, b, err
		}
		b.method = ff.Method
		u := *ff.Action
		if ff.Method == "GET" || ff.Method == "HEAD" {
			u.RawQuery = ff.Encode()
		} else {
			b.body = []byte(ff.Encode())
		}
		rawURL = u.String()
	} else {
		rawURL, err = spec.URL.ExpandString(vars)
		if err != nil {
			return dst, b, fmt.Errorf("URL: %w", err)
		}
		hasBody := false
		if spec.Body != nil {
			body, ok, err := buildBody(spec.Body, prev, vars)
			if err != nil {
				return dst, b, fmt.Errorf("body: %w", err)
			}
			if ok {
				b.body, hasBody = body, true
				if b.body == nil {
					b.body = []byte{}
				}
			}
		}
		b.method, b.head = methodFor(spec, hasBody)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return dst, b, fmt.Errorf("URL %q: %v", rawURL, err)
	}
	if !u.IsAbs() {
		base := rp.spec.Base
		if base == nil && prev != nil && prev.URL != nil {
			base = prev.URL
		}
		if base == nil {
			return dst, b, fmt.Errorf("URL %q is relative and there is no base URL", rawURL)
		}
		u = base.ResolveReference(u)
	}
	b.t, err = resolveTarget(u, p.Proxy)
	if err != nil {
		return dst, b, err
	}
	extra := make([]headerKV, 0, len(spec.Headers))
	for _, h := range spec.Headers {
		v, err := h.Value.ExpandString(vars)
		if err != nil {
			return dst, b, fmt.Errorf("header %s: %w", h.Name, err)
		}
		if strings.ContainsAny(v, "\r\n") {
			return dst, b, fmt.Errorf("header %s: expanded value contains a line break", h.Name)
		}
		extra = append(extra, headerKV{h.Name, v})
	}
	ct := spec.ContentType
	if ct == "" {
		ct = scenario.DefaultContentType
	}
	dst = appendHead(dst, p, b.method, b.t, sp.keepAlive, extra, ct, b.body != nil, len(b.body))
	return dst, b, nil
}

// methodFor applies the seed's precedence: a body makes a POST (or the
// step's explicit method); without one, HEAD if asked, else GET (or the
// explicit method).
func methodFor(spec *scenario.StepSpec, hasBody bool) (method string, head bool) {
	switch {
	case spec.Method != "":
		return spec.Method, spec.Method == "HEAD"
	case hasBody:
		return "POST", false
	case spec.Head:
		return "HEAD", true
	}
	return "GET", false
}

// responseFor turns what the parser kept into a scenario.Response that
// user code may hold on to.
func responseFor(ps *parser, status int, t *target, failure error) *scenario.Response {
	r := &scenario.Response{Status: status, Header: http.Header{}, Err: failure, Truncated: ps.truncated}
	if t != nil {
		r.URL = t.url
	}
	if failure != nil {
		return r
	}
	r.Proto = "HTTP/1.0"
	if ps.http11 {
		r.Proto = "HTTP/1.1"
	}
	r.Body = append([]byte(nil), ps.body...)
	lines := ps.header
	first := true
	for len(lines) > 0 {
		i := bytes.IndexByte(lines, '\n')
		if i < 0 {
			i = len(lines) - 1
		}
		line := trimEOL(lines[:i+1])
		lines = lines[i+1:]
		if first {
			first = false
			continue
		}
		if k, v, ok := bytes.Cut(line, []byte(":")); ok {
			r.Header.Add(string(bytes.TrimSpace(k)), string(bytes.TrimSpace(v)))
		}
	}
	return r
}
