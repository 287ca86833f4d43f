package loadtest

import (
	"regexp"
	"strings"

	"github.com/benchgate/benchgate/scenario"
)

// Redacted replaces secret values so reports can be shared.
const Redacted = scenario.Redacted

// redactor hides secrets in the raw requests and response heads a report
// keeps: the values (never the names) of Authorization and
// Proxy-Authorization headers, of every cookie in Cookie and Set-Cookie,
// of headers, query parameters, form fields and JSON fields whose names
// are secret by scenario.SecretNames and the plan's RedactFields.
type redactor struct {
	extra []string
	json  *regexp.Regexp // "name": value pairs of JSON objects
}

func newRedactor(extra []string) *redactor {
	return &redactor{extra: extra, json: regexp.MustCompile(`"((?:[^"\\]|\\.)*)"(\s*:\s*)("(?:[^"\\]|\\.)*"|-?[0-9][0-9.eE+-]*|true|false|null)`)}
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
	contentType := ""
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
			contentType = strings.ToLower(value)
		case lname == "authorization" || lname == "proxy-authorization" || rd.secret(lname):
			lines[i] = name + ": " + Redacted + cr
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
	case strings.Contains(contentType, "json"):
		body = rd.json.ReplaceAllStringFunc(body, func(m string) string {
			sub := rd.json.FindStringSubmatch(m)
			if !rd.secret(sub[1]) {
				return m
			}
			return `"` + sub[1] + `"` + sub[2] + `"` + Redacted + `"`
		})
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
