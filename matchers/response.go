package matchers

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"

	"github.com/PuerkitoBio/goquery"
	"github.com/onsi/gomega/format"
	"github.com/onsi/gomega/types"

	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

// The matchers of a single response take a *scenario.Response, or a body
// as a string or []byte (kept at keep level 3, or read by a func).

func responseOf(actual any) (*scenario.Response, error) {
	switch a := actual.(type) {
	case *scenario.Response:
		if a != nil {
			return a, nil
		}
	case string:
		return &scenario.Response{Status: 200, Header: http.Header{}, Body: []byte(a)}, nil
	case []byte:
		return &scenario.Response{Status: 200, Header: http.Header{}, Body: a}, nil
	}
	return nil, fmt.Errorf("expected a *scenario.Response, a string or a []byte body, got %T", actual)
}

// excerpt quotes the start of a body for a message.
func excerpt(b []byte) string {
	if len(b) <= 200 {
		return fmt.Sprintf("%q", b)
	}
	return fmt.Sprintf("%q… (%d bytes)", b[:200], len(b))
}

// want turns a string into an equality matcher; a matcher stays one.
func want(v any) (types.GomegaMatcher, error) {
	switch w := v.(type) {
	case types.GomegaMatcher:
		return w, nil
	case string:
		return equalString(w), nil
	}
	return nil, fmt.Errorf("want a string or a Gomega matcher, got %T", v)
}

type eqString string

func equalString(s string) types.GomegaMatcher { return eqString(s) }
func (e eqString) Match(actual any) (bool, error) {
	a, ok := actual.(string)
	return ok && a == string(e), nil
}
func (e eqString) FailureMessage(actual any) string {
	return fmt.Sprintf("Expected %q to be %q", actual, string(e))
}
func (e eqString) NegatedFailureMessage(actual any) string {
	return fmt.Sprintf("Expected %q not to be %q", actual, string(e))
}

// HaveSelector succeeds when the response's HTML has an element matching
// the CSS selector and the selection (all matching elements) satisfies
// every one of ms: HaveText, HaveAttr, HaveCount or any matcher of a
// *goquery.Selection.
//
//	Expect(resp).To(HaveSelector("#user", HaveText("alice")))
func HaveSelector(selector string, ms ...types.GomegaMatcher) types.GomegaMatcher {
	return &selectorMatcher{selector: selector, ms: ms}
}

type selectorMatcher struct {
	selector string
	ms       []types.GomegaMatcher
	r        *scenario.Response
	n        int
	failed   types.GomegaMatcher
	sel      *goquery.Selection
}

func (m *selectorMatcher) Match(actual any) (bool, error) {
	r, err := responseOf(actual)
	if err != nil {
		return false, fmt.Errorf("HaveSelector: %w", err)
	}
	m.r = r
	doc, err := r.Document()
	if err != nil {
		return false, fmt.Errorf("HaveSelector: %w", err)
	}
	m.sel = doc.Find(m.selector)
	m.n = m.sel.Length()
	if m.n == 0 {
		return false, nil
	}
	for _, inner := range m.ms {
		ok, err := inner.Match(m.sel)
		if err != nil {
			return false, err
		}
		if !ok {
			m.failed = inner
			return false, nil
		}
	}
	return true, nil
}

func (m *selectorMatcher) FailureMessage(any) string {
	if m.n == 0 {
		return fmt.Sprintf("Expected an element matching %q, but none does; body %s", m.selector, excerpt(m.r.Body))
	}
	if m.failed == nil {
		return fmt.Sprintf("Expected the %d element(s) matching %q to satisfy the matchers (they do)", m.n, m.selector)
	}
	return fmt.Sprintf("Expected the %d element(s) matching %q to satisfy:\n%s", m.n, m.selector, format.IndentString(m.failed.FailureMessage(m.sel), 1))
}

func (m *selectorMatcher) NegatedFailureMessage(any) string {
	return fmt.Sprintf("Expected no element matching %q (with the given properties), but %d do", m.selector, m.n)
}

// selectionMatcher adapts a func of a selection to a matcher.
type selectionMatcher struct {
	what  string
	get   func(*goquery.Selection) (any, bool)
	inner types.GomegaMatcher
	err   error
	got   any
}

func (m *selectionMatcher) Match(actual any) (bool, error) {
	if m.err != nil {
		return false, m.err
	}
	sel, ok := actual.(*goquery.Selection)
	if !ok {
		return false, fmt.Errorf("%s: expected a *goquery.Selection (use it inside HaveSelector), got %T", m.what, actual)
	}
	v, ok := m.get(sel)
	if !ok {
		return false, fmt.Errorf("%s: the element has none", m.what)
	}
	m.got = v
	return m.inner.Match(v)
}
func (m *selectionMatcher) FailureMessage(any) string {
	return fmt.Sprintf("%s: %s", m.what, m.inner.FailureMessage(m.got))
}
func (m *selectionMatcher) NegatedFailureMessage(any) string {
	return fmt.Sprintf("%s: %s", m.what, m.inner.NegatedFailureMessage(m.got))
}

// HaveText matches the first selected element's text, trimmed as CSS
// extraction trims it, against a string or a matcher.
func HaveText(text any) types.GomegaMatcher {
	inner, err := want(text)
	return &selectionMatcher{what: "text", inner: inner, err: err, get: func(s *goquery.Selection) (any, bool) {
		return strings.TrimSpace(s.First().Text()), true
	}}
}

// HaveAttr matches the first selected element's attribute name against a
// string or a matcher.
func HaveAttr(name string, value any) types.GomegaMatcher {
	inner, err := want(value)
	return &selectionMatcher{what: "attribute " + name, inner: inner, err: err, get: func(s *goquery.Selection) (any, bool) {
		v, ok := s.First().Attr(name)
		return v, ok
	}}
}

// HaveCount matches the number of selected elements: an int or a matcher
// (BeNumerically(">=", 3)).
func HaveCount(n any) types.GomegaMatcher {
	var inner types.GomegaMatcher
	var err error
	switch v := n.(type) {
	case int:
		inner = equalInt(v)
	case types.GomegaMatcher:
		inner = v
	default:
		err = fmt.Errorf("HaveCount: want an int or a Gomega matcher, got %T", n)
	}
	return &selectionMatcher{what: "count", inner: inner, err: err, get: func(s *goquery.Selection) (any, bool) { return s.Length(), true }}
}

// HaveBody matches the response body, as a string, against a string
// (equal) or a matcher (ContainSubstring, MatchRegexp).
func HaveBody(body any) types.GomegaMatcher { return &fieldMatcher{what: "body", w: body} }

// HaveHeader matches the response's header name (its values joined by
// ", ") against a string or a matcher.
func HaveHeader(name string, value any) types.GomegaMatcher {
	return &fieldMatcher{what: "header " + name, w: value, header: name}
}

// HaveCookie matches the value of the cookie name the response sets
// against a string or a matcher.
func HaveCookie(name string, value any) types.GomegaMatcher {
	return &fieldMatcher{what: "cookie " + name, w: value, cookie: name}
}

type fieldMatcher struct {
	what, header, cookie string
	w                    any
	inner                types.GomegaMatcher
	got                  string
	missing              bool
}

func (m *fieldMatcher) Match(actual any) (bool, error) {
	inner, err := want(m.w)
	if err != nil {
		return false, fmt.Errorf("%s: %w", m.what, err)
	}
	m.inner = inner
	r, err := responseOf(actual)
	if err != nil {
		return false, fmt.Errorf("%s: %w", m.what, err)
	}
	switch {
	case m.header != "":
		vals, ok := r.Header[http.CanonicalHeaderKey(m.header)]
		m.got, m.missing = strings.Join(vals, ", "), !ok
	case m.cookie != "":
		v, err := scenario.Cookie(m.cookie).Extract(r)
		m.got, m.missing = v, err != nil
	default:
		m.got = string(bytes.Clone(r.Body))
	}
	if m.missing {
		return false, nil
	}
	return m.inner.Match(m.got)
}

func (m *fieldMatcher) FailureMessage(any) string {
	if m.missing {
		return fmt.Sprintf("Expected the response to have a %s, but it has none", m.what)
	}
	return fmt.Sprintf("Expected the response's %s (%s) to satisfy:\n%s", m.what, loadtest.Printable(excerpt([]byte(m.got))), format.IndentString(m.inner.FailureMessage(m.got), 1))
}

func (m *fieldMatcher) NegatedFailureMessage(any) string {
	return fmt.Sprintf("Expected the response's %s (%s) not to satisfy:\n%s", m.what, loadtest.Printable(excerpt([]byte(m.got))), format.IndentString(m.inner.NegatedFailureMessage(m.got), 1))
}
