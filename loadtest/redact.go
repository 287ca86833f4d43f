package loadtest

import "strings"

// Redacted replaces secret header values so reports can be shared.
const Redacted = "[redacted]"

// redactHeaders hides the values of Authorization, Proxy-Authorization
// and Cookie headers, and the values of cookies a Set-Cookie header sets,
// in a raw HTTP head (request or response). The body after the blank line
// is kept as is.
func redactHeaders(text string) string {
	if text == "" {
		return text
	}
	head, body, hasBody := strings.Cut(text, "\r\n\r\n")
	lines := strings.Split(head, "\n")
	changed := false
	for i, line := range lines {
		name, value, ok := strings.Cut(line, ":")
		if !ok || i == 0 {
			continue
		}
		cr := ""
		if strings.HasSuffix(value, "\r") {
			cr = "\r"
		}
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "authorization", "proxy-authorization", "cookie":
			lines[i] = name + ": " + Redacted + cr
			changed = true
		case "set-cookie":
			v := strings.TrimSuffix(strings.TrimSpace(value), "\r")
			cookie, attrs, _ := strings.Cut(v, ";")
			n, _, _ := strings.Cut(cookie, "=")
			out := name + ": " + strings.TrimSpace(n) + "=" + Redacted
			if attrs != "" {
				out += ";" + attrs
			}
			lines[i] = out + cr
			changed = true
		}
	}
	if !changed {
		return text
	}
	out := strings.Join(lines, "\n")
	if hasBody {
		out += "\r\n\r\n" + body
	}
	return out
}
