package scenario

import (
	"bytes"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/andybalholm/cascadia"
)

// Expectation is one check of a step's response beyond its status: make
// them with the step's Expect... methods. A response that fails one
// counts as failed, with a reason that says what was expected and shows a
// short, escaped excerpt of what came. Text to compare may use {{var}}.
type Expectation struct {
	kind     expectKind
	name     string // header name, JSON path or CSS selector
	attr     string
	text     Template
	textSrc  string
	re       *regexp.Regexp
	count    int
	compiled cascadia.Selector
	simple   *simpleSelector // when the selector is a simple one
	path     []string
	err      error // found when the expectation was made
}

type expectKind int

const (
	expectBodyContains expectKind = iota
	expectBodyMatches
	expectHeader
	expectHeaderMatches
	expectCSSText
	expectCSSAttr
	expectCSSCount
	expectJSON
)

// excerptMax bounds the text of a response quoted in a failure reason.
const excerptMax = 120

// excerpt quotes b for a failure reason: escaped, at most excerptMax
// bytes, with the length when it was cut.
func excerpt(b []byte) string {
	if len(b) <= excerptMax {
		return strconv.Quote(string(b))
	}
	return fmt.Sprintf("%s… (%d bytes)", strconv.Quote(string(b[:excerptMax])), len(b))
}

func newTextExpectation(kind expectKind, name, text string) Expectation {
	e := Expectation{kind: kind, name: name, textSrc: text}
	e.text, e.err = ParseTemplate(text)
	return e
}

// String describes the expectation as it was written.
func (e Expectation) String() string {
	switch e.kind {
	case expectBodyContains:
		return fmt.Sprintf("ExpectBodyContains(%q)", e.textSrc)
	case expectBodyMatches:
		return fmt.Sprintf("ExpectBodyMatches(%q)", e.textSrc)
	case expectHeader:
		return fmt.Sprintf("ExpectHeader(%q, %q)", e.name, e.textSrc)
	case expectHeaderMatches:
		return fmt.Sprintf("ExpectHeader(%q, regexp %q)", e.name, e.textSrc)
	case expectCSSText:
		return fmt.Sprintf("ExpectCSS(%q, %q)", e.name, e.textSrc)
	case expectCSSAttr:
		return fmt.Sprintf("ExpectCSSAttr(%q, %q, %q)", e.name, e.attr, e.textSrc)
	case expectCSSCount:
		return fmt.Sprintf("ExpectCSSCount(%q, %d)", e.name, e.count)
	}
	return fmt.Sprintf("ExpectJSON(%q, %q)", e.name, e.textSrc)
}

// Template returns the text the expectation compares with, for variable
// checks.
func (e Expectation) Template() Template { return e.text }

// NeedsHeaders and NeedsBody say what of the response the check reads.
func (e Expectation) NeedsHeaders() bool {
	return e.kind == expectHeader || e.kind == expectHeaderMatches
}

func (e Expectation) validate() error {
	if e.err != nil {
		return e.err
	}
	if (e.kind == expectHeader || e.kind == expectHeaderMatches) && !validToken(e.name) {
		return fmt.Errorf("header name %q is not a token", e.name)
	}
	if e.kind == expectCSSCount && e.count < 0 {
		return fmt.Errorf("count %d is negative", e.count)
	}
	return nil
}

// Check returns "" when r satisfies the expectation, else the reason.
func (e Expectation) Check(r *Response, vars Vars) string {
	if r == nil {
		return fmt.Sprintf("%s: no response", e)
	}
	want := ""
	if e.kind != expectCSSCount && e.kind != expectBodyMatches && e.kind != expectHeaderMatches {
		var err error
		if want, err = e.text.ExpandString(vars); err != nil {
			return fmt.Sprintf("%s: %v", e, err)
		}
	}
	switch e.kind {
	case expectBodyContains:
		if !bytes.Contains(r.Body, []byte(want)) {
			return fmt.Sprintf("body does not contain %q; body %s", want, excerpt(r.Body))
		}
	case expectBodyMatches:
		if !e.re.Match(r.Body) {
			return fmt.Sprintf("body does not match %q; body %s", e.textSrc, excerpt(r.Body))
		}
	case expectHeader, expectHeaderMatches:
		vals, ok := r.Header[http.CanonicalHeaderKey(e.name)]
		if !ok {
			return fmt.Sprintf("%s: no %s header", e, e.name)
		}
		for _, v := range vals {
			if (e.kind == expectHeader && v == want) || (e.kind == expectHeaderMatches && e.re.MatchString(v)) {
				return ""
			}
		}
		return fmt.Sprintf("%s: header %s is %s", e, e.name, excerpt([]byte(strings.Join(vals, ", "))))
	case expectCSSText, expectCSSAttr, expectCSSCount:
		if e.kind == expectCSSAttr && e.simple != nil {
			if v, matched, found, ok := r.firstAttr(e.simple, e.attr); ok {
				switch {
				case !matched:
					return fmt.Sprintf("%s: no element matches; body %s", e, excerpt(r.Body))
				case !found:
					return fmt.Sprintf("%s: the element has no attribute %q", e, e.attr)
				case v != want:
					return fmt.Sprintf("%s: want %q, got %s", e, want, excerpt([]byte(v)))
				}
				return ""
			}
		}
		doc, err := r.Document()
		if err != nil {
			return fmt.Sprintf("%s: %v", e, err)
		}
		sel := doc.FindMatcher(e.compiled)
		if e.kind == expectCSSCount {
			if sel.Length() != e.count {
				return fmt.Sprintf("%s: %d elements match; body %s", e, sel.Length(), excerpt(r.Body))
			}
			return ""
		}
		if sel.Length() == 0 {
			return fmt.Sprintf("%s: no element matches; body %s", e, excerpt(r.Body))
		}
		got := ""
		if e.kind == expectCSSAttr {
			v, ok := sel.First().Attr(e.attr)
			if !ok {
				return fmt.Sprintf("%s: the element has no attribute %q", e, e.attr)
			}
			got = v
		} else {
			got = strings.TrimSpace(sel.First().Text())
		}
		if got != want {
			return fmt.Sprintf("%s: want %q, got %s", e, want, excerpt([]byte(got)))
		}
	case expectJSON:
		got, err := jsonAt(r.Body, e.name, e.path)
		if err != nil {
			return fmt.Sprintf("%s: %v; body %s", e, err, excerpt(r.Body))
		}
		if got != want {
			return fmt.Sprintf("%s: want %q, got %s", e, want, excerpt([]byte(got)))
		}
	}
	return ""
}

// ExpectBodyContains makes a response count as failed unless its body
// (within the buffer size) contains text, which may use {{var}}.
func (s *Step) ExpectBodyContains(text string) *Step {
	s.expect = append(s.expect, newTextExpectation(expectBodyContains, "", text))
	return s
}

// ExpectBodyMatches makes a response count as failed unless its body
// matches the regular expression pattern (Go RE2 syntax).
func (s *Step) ExpectBodyMatches(pattern string) *Step {
	e := Expectation{kind: expectBodyMatches, textSrc: pattern}
	e.re, e.err = regexp.Compile(pattern)
	s.expect = append(s.expect, e)
	return s
}

// ExpectHeader makes a response count as failed unless it has a header
// name whose value equals want (a string, which may use {{var}}) or
// matches it (a *regexp.Regexp). Any other type is a validation error.
func (s *Step) ExpectHeader(name string, want any) *Step {
	var e Expectation
	switch w := want.(type) {
	case string:
		e = newTextExpectation(expectHeader, name, w)
	case *regexp.Regexp:
		e = Expectation{kind: expectHeaderMatches, name: name, re: w}
		if w == nil {
			e.err = fmt.Errorf("nil *regexp.Regexp")
		} else {
			e.textSrc = w.String()
		}
	default:
		e = Expectation{kind: expectHeader, name: name, err: fmt.Errorf("want a string or a *regexp.Regexp, got %T", want)}
	}
	s.expect = append(s.expect, e)
	return s
}

// ExpectCSS makes a response count as failed unless the first element
// matching selector has the text want (trimmed of surrounding white
// space, as CSS extraction yields it; want may use {{var}}).
func (s *Step) ExpectCSS(selector, want string) *Step {
	e := newTextExpectation(expectCSSText, selector, want)
	e.compileSelector()
	s.expect = append(s.expect, e)
	return s
}

// ExpectCSSAttr makes a response count as failed unless the first
// element matching selector has attribute attr equal to want.
func (s *Step) ExpectCSSAttr(selector, attr, want string) *Step {
	e := newTextExpectation(expectCSSAttr, selector, want)
	e.attr = attr
	e.compileSelector()
	s.expect = append(s.expect, e)
	return s
}

// ExpectCSSCount makes a response count as failed unless exactly n
// elements match selector.
func (s *Step) ExpectCSSCount(selector string, n int) *Step {
	e := Expectation{kind: expectCSSCount, name: selector, count: n}
	e.compileSelector()
	s.expect = append(s.expect, e)
	return s
}

// ExpectJSON makes a response count as failed unless the JSON body holds
// want at path (the JSON extractor's path and text: a string's text, any
// other value's exact JSON, so numbers keep every digit).
func (s *Step) ExpectJSON(path, want string) *Step {
	e := newTextExpectation(expectJSON, path, want)
	if e.err == nil {
		e.path, e.err = parseJSONPath(path)
	}
	s.expect = append(s.expect, e)
	return s
}

// Expectations returns the step's expectations beyond its status, in
// order.
func (s *Step) Expectations() []Expectation { return append([]Expectation(nil), s.expect...) }

func (e *Expectation) compileSelector() {
	if e.err != nil {
		return
	}
	c, err := cascadia.Compile(e.name)
	if err != nil {
		e.err = fmt.Errorf("invalid CSS selector %q: %v", e.name, err)
		return
	}
	e.compiled, e.simple = c, parseSimple(e.name)
}
