package scenario

import (
	"net/url"
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
