package engine

import (
	"bytes"
	"fmt"
	"iter"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"

	"golang.org/x/net/publicsuffix"

	"github.com/benchgate/benchgate/internal/decode"
	"github.com/benchgate/benchgate/internal/dial"
	"github.com/benchgate/benchgate/internal/h1"
	"github.com/benchgate/benchgate/scenario"
)

// headerKV is a step's own header field.
type headerKV = h1.Field

// Encodings are the content codings benchgate decodes, in the order
// Accept-Encoding names them (internal/decode's list: the same slice).
var Encodings = decode.Encodings

// appendHead appends the request line and every header but Cookie, without
// the blank line that ends the head.
func appendHead(dst []byte, p *Plan, method string, t *target, keepAlive bool,
	extra []headerKV, contentType string, body bool, bodyLen int) []byte {
	h := h1.RequestHead{
		Method: method, RequestURI: t.requestURI, HTTP10: p.HTTP10, KeepAlive: keepAlive,
		Host: t.hostHeader, UserAgent: p.UserAgent, AcceptEncoding: p.AcceptEncoding,
		Authorization: t.auth,
		Body:          body, BodyLen: bodyLen, ContentType: contentType,
		Extra: extra,
	}
	if t.proxy != nil && !t.tls {
		h.ProxyAuthorization = dial.ProxyAuth(t.proxy)
	}
	return h1.AppendRequestHead(dst, &h)
}

// iterState is what one iteration carries from step to step.
type iterState struct {
	vars scenario.Vars
	jar  *cookiejar.Jar // created when a response first sets a cookie
	// secure names the cookies set with Secure (over https): the jar
	// would send them to http://localhost, as browsers do; we never
	// send one over http.
	secure map[string]bool
	prev   *scenario.Response
	// feedOut: the run's feeder had no row left for this iteration
	feedOut bool
}

// setCookies stores the Set-Cookie values (each ended by '\n') of a
// response from u in the iteration's jar: net/http's cookiejar with the
// public suffix list, so Domain, Path, Expires and Max-Age work as in a
// browser, IP hosts get host-only cookies and a cookie for a public
// suffix is refused. Secure is stricter than a browser's localhost
// exception: a Secure cookie is never set from, nor sent over, http. A
// value with a control character (or any byte a cookie value may not
// hold) is dropped.
func (st *iterState) setCookies(lines []byte, u *url.URL) {
	var cs []*http.Cookie
	for len(lines) > 0 {
		i := bytes.IndexByte(lines, '\n')
		line := string(lines[:i])
		lines = lines[i+1:]
		c, err := http.ParseSetCookie(line)
		if err != nil || c.Name == "" {
			continue
		}
		if c.Secure {
			if u.Scheme != "https" {
				continue // a Secure cookie from an insecure origin: refused
			}
			if st.secure == nil {
				st.secure = map[string]bool{}
			}
			st.secure[c.Name] = true
		}
		cs = append(cs, c)
	}
	if len(cs) == 0 {
		return
	}
	if st.jar == nil {
		st.jar, _ = cookiejar.New(&cookiejar.Options{PublicSuffixList: publicsuffix.List})
	}
	st.jar.SetCookies(u, cs)
}

// appendCookieLine appends a Cookie header with the static cookie and the
// jar's cookies for u, if any.
func appendCookieLine(dst []byte, static string, st *iterState, u *url.URL) []byte {
	static = strings.TrimRight(strings.TrimSpace(static), ";")
	var cs []*http.Cookie
	if st != nil && st.jar != nil {
		cs = st.jar.Cookies(u)
	}
	if static == "" && len(cs) == 0 {
		return dst
	}
	dst = append(dst, "Cookie: "...)
	dst = append(dst, static...)
	sep := static != ""
	for _, c := range cs {
		if st.secure[c.Name] && u.Scheme != "https" {
			continue
		}
		if sep {
			dst = append(dst, "; "...)
		}
		sep = true
		dst = append(dst, c.Name...)
		dst = append(dst, '=')
		dst = append(dst, c.Value...)
	}
	return append(dst, "\r\n"...)
}

// built is a request ready to write, apart from its cookies.
type built struct {
	contentType string // a form's, unless the step sets one
	method      string
	head        bool
	t           *target
	body        []byte
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
		if ff.Method == "GET" {
			u.RawQuery = ff.Encode()
		} else {
			ct, body, err := ff.Body()
			if err != nil {
				return dst, b, err
			}
			b.body, b.contentType = body, ct
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
		return dst, b, fmt.Errorf("URL %q: %v", scenario.RedactURL(rawURL), err)
	}
	if !u.IsAbs() {
		switch {
		case rp.spec.Base != nil:
			u = scenario.JoinURL(rp.spec.Base, u)
		case prev != nil && prev.URL != nil:
			u = prev.URL.ResolveReference(u) // a link on the previous page
		default:
			return dst, b, fmt.Errorf("URL %q is relative and there is no base URL", scenario.RedactURL(rawURL))
		}
	}
	b.t, err = resolveTarget(u, p.Proxy)
	if err != nil {
		return dst, b, err
	}
	extra, err := stepHeaders(spec, vars)
	if err != nil {
		return dst, b, err
	}
	ct := spec.ContentType
	if ct == "" {
		ct = b.contentType
	}
	if ct == "" {
		ct = scenario.DefaultContentType
	}
	b.head = b.head || p.noBodyMethod(b.method)
	dst = appendHead(dst, p, b.method, b.t, sp.keepAlive, extra, ct, b.body != nil, len(b.body))
	return dst, b, nil
}

// methodFor chooses the request method: the step's explicit method when
// it has one; else POST with a body, HEAD when asked, GET otherwise.
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
func responseFor(ps *h1.Parser, status int, t *target, failure error) *scenario.Response {
	r := &scenario.Response{Status: status, Header: http.Header{}, Err: failure, Truncated: ps.Truncated}
	if t != nil {
		r.URL = t.url
	}
	if failure != nil {
		return r
	}
	r.Proto = "HTTP/1.0"
	switch {
	case ps.HTTP2:
		r.Proto = "HTTP/2.0"
	case ps.HTTP11:
		r.Proto = "HTTP/1.1"
	}
	r.Body = append([]byte(nil), ps.Body...)
	for k, v := range headerFields(ps.Header) {
		r.Header.Add(string(k), string(v))
	}
	return r
}

// headerFields yields the name and value of each field of a raw
// response head (the status line skipped), trimmed.
func headerFields(head []byte) iter.Seq2[[]byte, []byte] {
	return func(yield func([]byte, []byte) bool) {
		lines := head
		for first := true; len(lines) > 0; first = false {
			i := bytes.IndexByte(lines, '\n')
			if i < 0 {
				i = len(lines) - 1
			}
			line := h1.TrimEOL(lines[:i+1])
			lines = lines[i+1:]
			if first {
				continue
			}
			if k, v, ok := bytes.Cut(line, []byte(":")); ok && !yield(bytes.TrimSpace(k), bytes.TrimSpace(v)) {
				return
			}
		}
	}
}
