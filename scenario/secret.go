package scenario

import (
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
)

// SecretNames are the parts of header, cookie, form-field, JSON-field and
// query-parameter names that mark their values as secrets: those values
// are redacted wherever benchgate shows or keeps a request (step names,
// messages, summaries, kept request texts, JSON reports). A name matches
// when, lower-cased and without '-' and '_', it contains one of them.
// loadtest.RedactFields adds more for a plan.
var SecretNames = []string{"password", "passwd", "pwd", "secret", "token", "apikey", "accesskey", "privatekey", "authorization", "credential", "session"}

// Redacted is what a secret value is replaced with.
const Redacted = "[redacted]"

var separators = strings.NewReplacer("-", "", "_", "")

// IsSecretName reports whether name marks a secret, by SecretNames and
// the extra parts given.
func IsSecretName(name string, extra ...string) bool {
	n := separators.Replace(strings.ToLower(name))
	for _, lists := range [][]string{SecretNames, extra} {
		for _, s := range lists {
			if s = separators.Replace(strings.ToLower(s)); s != "" && strings.Contains(n, s) {
				return true
			}
		}
	}
	return false
}

// RedactURL hides the password of a URL's user information and the
// values of query parameters with secret names, for names, messages and
// reports; text that is not such a URL comes back as it is.
func RedactURL(raw string, extra ...string) string {
	if !strings.Contains(raw, "@") && !strings.Contains(raw, "?") {
		return raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	changed := false
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
			changed = true
		}
	}
	if u.RawQuery != "" {
		if q, ok := RedactQuery(u.RawQuery, extra...); ok {
			u.RawQuery = q
			changed = true
		}
	}
	if !changed {
		return raw
	}
	return u.String()
}

// RedactQuery replaces the values of secret-named pairs in an
// application/x-www-form-urlencoded text (a query or a form body),
// keeping the names and the order. changed is false when nothing was.
func RedactQuery(q string, extra ...string) (out string, changed bool) {
	pairs := strings.Split(q, "&")
	for i, p := range pairs {
		k, _, ok := strings.Cut(p, "=")
		if !ok {
			continue
		}
		name, err := url.QueryUnescape(k)
		if err != nil {
			name = k
		}
		if IsSecretName(name, extra...) {
			pairs[i] = k + "=" + url.QueryEscape(Redacted)
			changed = true
		}
	}
	return strings.Join(pairs, "&"), changed
}

// textUserinfo is the user information of a URL inside a text: "//user:"
// then the password up to the last '@' of the authority.
var textUserinfo = regexp.MustCompile(`//([^/?#@\s"\\:]*):([^/?#\s"\\]*)@`)

// textPair is a name=value pair inside a text (a query, a form, a
// cookie): the value runs to '&', ';', '#', white space or a '"', and
// takes backslash escapes (of %q-quoted text) whole.
var textPair = regexp.MustCompile(`([A-Za-z0-9_.~%+\-\[\]]+)=((?:\\.|[^&;#\s"\\])*)`)

// RedactText hides secrets wherever they stand inside a text, such as a
// failure reason that quotes a server's Location: the password of every
// URL's user information (as RedactURL), the value of every name=value
// pair whose name is secret (a URL's query, a form, a cookie; also of an
// opaque URL such as javascript:…?token=…), and, in a text with '{' or
// '[', every value under a secret name in JSON it holds (RedactJSON). Names are secret by
// IsSecretName with the extra parts given.
func RedactText(s string, extra ...string) string {
	if strings.Contains(s, `"`) && strings.ContainsAny(s, "{[") {
		s = RedactJSON(s, extra...) // first: a pair's value may hold its '{'
	}
	if strings.Contains(s, "@") {
		s = textUserinfo.ReplaceAllString(s, "//$1:xxxxx@")
	}
	if strings.Contains(s, "=") {
		s = textPair.ReplaceAllStringFunc(s, func(m string) string {
			k, _, _ := strings.Cut(m, "=")
			name, err := url.QueryUnescape(k)
			if err != nil {
				name = k
			}
			if !IsSecretName(name, extra...) {
				return m
			}
			return k + "=" + url.QueryEscape(Redacted)
		})
	}
	return s
}

// RedactJSON replaces every value whose member name is secret (by
// IsSecretName with the extra parts given; a name with '/', '?', '=' or
// '&' in it, or longer than 100 bytes, is taken for a quoted URL or text,
// not a member name) in a JSON text with "[redacted]": a string, a
// number, true, false, null, and a whole array or object. It finds each
// `"name":` from its colon, so that a cut or invalid JSON text (a
// truncated body, a reason quoting JSON after other quotes) is redacted
// as far as it goes; an array or object left open is redacted to the
// end. Its work is linear in the text's length.
func RedactJSON(s string, extra ...string) string {
	var out strings.Builder
	from := 0 // s[from:] is not yet copied to out
	for i := 0; i < len(s); i++ {
		if s[i] != ':' {
			continue
		}
		q := i - 1 // the closing quote of the name
		for q >= from && isJSONSpace(s[q]) {
			q--
		}
		if q < from || s[q] != '"' || escapedAt(s, q) {
			continue
		}
		open := -1
		for p := q - 1; p >= from && p >= q-101; p-- {
			if s[p] == '"' && !escapedAt(s, p) {
				open = p
				break
			}
		}
		if open < 0 {
			continue
		}
		var name string
		if err := json.Unmarshal([]byte(s[open:q+1]), &name); err != nil {
			name = s[open+1 : q]
		}
		if len(name) > 100 || strings.ContainsAny(name, "/?=&") || !IsSecretName(name, extra...) {
			continue
		}
		j := i + 1
		for j < len(s) && isJSONSpace(s[j]) {
			j++
		}
		if j >= len(s) {
			break
		}
		vend := jsonValueEnd(s, j)
		if s[j] == '"' && vend < len(s) && vend-1 > j && strings.IndexByte(",}] \t\r\n", s[vend]) < 0 {
			vend-- // text that is not JSON: leave the quote that may open the next name
		}
		if from == 0 {
			out.Grow(len(s))
		}
		out.WriteString(s[from:j])
		out.WriteString(`"` + Redacted + `"`)
		from, i = vend, vend-1
	}
	if from == 0 {
		return s
	}
	out.WriteString(s[from:])
	return out.String()
}

// escapedAt reports whether s[p] follows an odd number of backslashes
// (of at most 100: a longer run counts as not escaping).
func escapedAt(s string, p int) bool {
	n := 0
	for k := p - 1; k >= 0 && k >= p-101 && s[k] == '\\'; k-- {
		n++
	}
	return n%2 == 1
}

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// jsonStringEnd returns the index after the string starting at s[i] == '"'
// (len(s) when it is not closed).
func jsonStringEnd(s string, i int) int {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(s)
}

// jsonValueEnd returns the index after the value starting at s[i]: a
// string, a balanced array or object (strings in it skipped), or a
// scalar up to ',', '}', ']', white space, or the '{', '[' or '"' of
// what follows it in a text that is not JSON (at least one byte).
func jsonValueEnd(s string, i int) int {
	switch s[i] {
	case '"':
		return jsonStringEnd(s, i)
	case '[', '{':
		depth := 0
		for j := i; j < len(s); j++ {
			switch s[j] {
			case '"':
				j = jsonStringEnd(s, j) - 1
			case '[', '{':
				depth++
			case ']', '}':
				if depth--; depth == 0 {
					return j + 1
				}
			}
		}
		return len(s)
	}
	j := i // a number, true, false, null, or text that is not JSON
	for j < len(s) && strings.IndexByte(",}] \t\r\n{[\"", s[j]) < 0 {
		j++
	}
	return max(j, i+1)
}
