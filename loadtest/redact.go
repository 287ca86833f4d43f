package loadtest

import (
	"mime"
	"strings"

	"github.com/benchgate/benchgate/scenario"
)

// Redacted replaces secret values so reports can be shared.
const Redacted = scenario.Redacted

// redactor hides secrets in the raw requests and response heads a report
// keeps: the values (never the names) of Authorization and
// Proxy-Authorization headers, of every cookie in Cookie and Set-Cookie,
// of headers, query parameters, form fields (urlencoded, multipart and
// text/plain) and JSON fields (whatever their value: a string, a number,
// an array, an object) whose names are secret by scenario.SecretNames
// and the plan's RedactFields.
type redactor struct {
	extra []string
}

func newRedactor(extra []string) *redactor {
	return &redactor{extra: extra}
}

func (rd *redactor) secret(name string) bool { return scenario.IsSecretName(name, rd.extra...) }

// head redacts a raw HTTP message: its request line's query, its header
// values, and, for a request, its form or JSON body.
func (rd *redactor) head(text string) string {
	if text == "" {
		return text
	}
	head, body, hasBody := strings.Cut(text, "\r\n\r\n")
	lines := strings.Split(head, "\n")
	contentType, ctRaw := "", ""
	for i, line := range lines {
		cr := ""
		if strings.HasSuffix(line, "\r") {
			cr, line = "\r", strings.TrimSuffix(line, "\r")
		}
		if i == 0 {
			// "GET /path?query HTTP/1.1": redact secret query values
			if parts := strings.Split(line, " "); len(parts) == 3 {
				if p, q, ok := strings.Cut(parts[1], "?"); ok {
					if rq, changed := scenario.RedactQuery(q, rd.extra...); changed {
						lines[i] = parts[0] + " " + p + "?" + rq + " " + parts[2] + cr
					}
				}
			}
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		value = strings.TrimSpace(value)
		switch lname := strings.ToLower(strings.TrimSpace(name)); {
		case lname == "cookie":
			lines[i] = name + ": " + redactCookies(value, "; ") + cr
		case lname == "set-cookie":
			cookie, attrs, _ := strings.Cut(value, ";")
			n, _, _ := strings.Cut(cookie, "=")
			out := name + ": " + strings.TrimSpace(n) + "=" + Redacted
			if attrs != "" {
				out += ";" + attrs
			}
			lines[i] = out + cr
		case lname == "content-type":
			contentType, ctRaw = strings.ToLower(value), value
		case lname == "authorization" || lname == "proxy-authorization" || rd.secret(lname):
			lines[i] = name + ": " + Redacted + cr
		default:
			// a Location, a Link, a Refresh: URLs and pairs the server chose
			if rv := scenario.RedactText(value, rd.extra...); rv != value {
				lines[i] = name + ": " + rv + cr
			}
		}
	}
	out := strings.Join(lines, "\n")
	if !hasBody {
		return out
	}
	switch {
	case strings.HasPrefix(contentType, "application/x-www-form-urlencoded"):
		if rb, changed := scenario.RedactQuery(body, rd.extra...); changed {
			body = rb
		}
	case strings.HasPrefix(contentType, "multipart/form-data"):
		body = rd.multipart(ctRaw, body)
	case strings.HasPrefix(contentType, "text/plain"):
		body = rd.plainForm(body)
	case strings.Contains(contentType, "json"):
		body = scenario.RedactJSON(body, rd.extra...)
	}
	return out + "\r\n\r\n" + body
}

// redactCookies keeps the names of "a=1; b=2" and hides the values.
func redactCookies(v, sep string) string {
	parts := strings.Split(v, ";")
	for i, p := range parts {
		n, _, ok := strings.Cut(strings.TrimSpace(p), "=")
		if ok {
			parts[i] = n + "=" + Redacted
		} else {
			parts[i] = strings.TrimSpace(p)
		}
	}
	return strings.Join(parts, sep)
}

// multipart redacts the values of a multipart/form-data body's parts
// whose names are secret (a file part's content too), keeping the part
// headers and the boundaries. A body it cannot split is left as the
// other rules leave it.
func (rd *redactor) multipart(contentType, body string) string {
	_, params, err := mime.ParseMediaType(contentType)
	boundary := params["boundary"]
	if err != nil || boundary == "" {
		return body
	}
	delim := "--" + boundary
	parts := strings.Split(body, delim)
	for i := 1; i < len(parts); i++ { // parts[0] is the preamble
		head, content, ok := strings.Cut(parts[i], "\r\n\r\n")
		if !ok {
			continue
		}
		name := ""
		for _, line := range strings.Split(head, "\r\n") {
			if n, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(strings.TrimSpace(n), "content-disposition") {
				if _, p, err := mime.ParseMediaType(strings.TrimSpace(v)); err == nil {
					name = p["name"]
				} else if _, after, ok := strings.Cut(v, `name="`); ok {
					name, _, _ = strings.Cut(after, `"`)
				}
			}
		}
		if name == "" || !rd.secret(name) {
			continue
		}
		// the content ends at the CRLF before the next delimiter
		end := ""
		if strings.HasSuffix(content, "\r\n") {
			end = "\r\n"
		}
		parts[i] = head + "\r\n\r\n" + Redacted + end
	}
	return strings.Join(parts, delim)
}

// plainForm redacts a text/plain form body (HTML's enctype text/plain:
// "name=value" lines) where a line's name is secret.
func (rd *redactor) plainForm(body string) string {
	lines := strings.Split(body, "\n")
	for i, line := range lines {
		n, _, ok := strings.Cut(line, "=")
		if !ok || !rd.secret(n) {
			continue
		}
		cr := ""
		if strings.HasSuffix(line, "\r") {
			cr = "\r"
		}
		lines[i] = n + "=" + Redacted + cr
	}
	return strings.Join(lines, "\n")
}
