package scenario

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/andybalholm/cascadia"
)

var errNoResponse = errors.New("no previous response")

// Extractor takes one value out of a response. It returns an error when
// the value is not there; the request that needed it then fails with
// that reason. Extractors run on the engine's connection loop, right
// after the response: keep them quick and never block in one (a BodyFunc
// may block; it runs where that is harmless). A panic in an extractor
// fails the request.
type Extractor interface {
	Extract(r *Response) (string, error)
}

// ExtractorFunc adapts a plain func to Extractor.
type ExtractorFunc func(r *Response) (string, error)

// Extract calls f.
func (f ExtractorFunc) Extract(r *Response) (string, error) { return f(r) }

// validator is implemented by extractors that can be checked before any
// request is sent.
type validator interface{ validate() error }

// Selection extracts from the first element matching a CSS selector. Make
// one with CSS; by default it yields the element's text.
type Selection struct {
	selector string
	attr     string
	html     bool
	compiled cascadia.Selector
	err      error
}

var _ Extractor = (*Selection)(nil)

// CSS selects the first element matching selector (goquery syntax) and
// yields its text, or with Attr or HTML an attribute or its inner HTML.
func CSS(selector string) *Selection {
	s := &Selection{selector: selector}
	s.compiled, s.err = cascadia.Compile(selector)
	return s
}

// Attr makes the selection yield the named attribute.
func (s *Selection) Attr(name string) *Selection { c := *s; c.attr, c.html = name, false; return &c }

// HTML makes the selection yield the element's inner HTML.
func (s *Selection) HTML() *Selection { c := *s; c.html, c.attr = true, ""; return &c }

// Text makes the selection yield the element's text (the default).
func (s *Selection) Text() *Selection { c := *s; c.html, c.attr = false, ""; return &c }

func (s *Selection) validate() error {
	if s.err != nil {
		return fmt.Errorf("invalid CSS selector %q: %v", s.selector, s.err)
	}
	return nil
}

// String describes the selection.
func (s *Selection) String() string {
	switch {
	case s.attr != "":
		return fmt.Sprintf("CSS(%q).Attr(%q)", s.selector, s.attr)
	case s.html:
		return fmt.Sprintf("CSS(%q).HTML()", s.selector)
	}
	return fmt.Sprintf("CSS(%q)", s.selector)
}

// Extract implements Extractor.
func (s *Selection) Extract(r *Response) (string, error) {
	if s.err != nil {
		return "", s.validate()
	}
	doc, err := r.Document()
	if err != nil {
		return "", err
	}
	sel := doc.FindMatcher(s.compiled).First()
	if sel.Length() == 0 {
		return "", fmt.Errorf("%s: no element matches", s)
	}
	switch {
	case s.attr != "":
		v, ok := sel.Attr(s.attr)
		if !ok {
			return "", fmt.Errorf("%s: element has no attribute %q", s, s.attr)
		}
		return v, nil
	case s.html:
		return sel.Html()
	}
	return strings.TrimSpace(sel.Text()), nil
}

// RegexExtractor yields the first submatch of a regular expression in the
// response body (or the whole match when it has no group).
type RegexExtractor struct {
	pattern string
	re      *regexp.Regexp
	err     error
}

// Regex matches pattern (Go RE2 syntax) against the response body.
func Regex(pattern string) *RegexExtractor {
	re, err := regexp.Compile(pattern)
	return &RegexExtractor{pattern: pattern, re: re, err: err}
}

func (x *RegexExtractor) validate() error {
	if x.err != nil {
		return fmt.Errorf("invalid regex %q: %v", x.pattern, x.err)
	}
	return nil
}

// String describes the extractor.
func (x *RegexExtractor) String() string { return fmt.Sprintf("Regex(%q)", x.pattern) }

// Extract implements Extractor.
func (x *RegexExtractor) Extract(r *Response) (string, error) {
	if x.err != nil {
		return "", x.validate()
	}
	if r == nil {
		return "", errNoResponse
	}
	m := x.re.FindSubmatch(r.Body)
	if m == nil {
		return "", fmt.Errorf("%s: no match in body", x)
	}
	if len(m) > 1 {
		return string(m[1]), nil
	}
	return string(m[0]), nil
}

// Header yields the first value of the named response header.
func Header(name string) Extractor {
	return ExtractorFunc(func(r *Response) (string, error) {
		if r == nil {
			return "", errNoResponse
		}
		v := r.Header.Values(name)
		if len(v) == 0 {
			return "", fmt.Errorf("Header(%q): not in response", name)
		}
		return v[0], nil
	})
}

// Cookie yields the value of the named cookie set by the response.
func Cookie(name string) Extractor {
	return ExtractorFunc(func(r *Response) (string, error) {
		if r == nil {
			return "", errNoResponse
		}
		for _, line := range r.Header.Values("Set-Cookie") {
			n, v, ok := ParseSetCookie(line)
			if ok && n == name {
				return v, nil
			}
		}
		return "", fmt.Errorf("Cookie(%q): not set by response", name)
	})
}

// JSON yields the field at path in a JSON body. The path is dot separated;
// a number indexes an array: "data.items.0.id". A string field yields its
// text, any other value its JSON encoding.
func JSON(path string) Extractor {
	keys := strings.Split(path, ".")
	return ExtractorFunc(func(r *Response) (string, error) {
		if r == nil {
			return "", errNoResponse
		}
		var v any
		if err := json.Unmarshal(r.Body, &v); err != nil {
			return "", fmt.Errorf("JSON(%q): body: %v", path, err)
		}
		for _, k := range keys {
			if k == "" {
				continue
			}
			switch c := v.(type) {
			case map[string]any:
				next, ok := c[k]
				if !ok {
					return "", fmt.Errorf("JSON(%q): no field %q", path, k)
				}
				v = next
			case []any:
				i, err := strconv.Atoi(k)
				if err != nil || i < 0 || i >= len(c) {
					return "", fmt.Errorf("JSON(%q): index %q out of range (len %d)", path, k, len(c))
				}
				v = c[i]
			default:
				return "", fmt.Errorf("JSON(%q): %q is not an object or array", path, k)
			}
		}
		if s, ok := v.(string); ok {
			return s, nil
		}
		b, _ := json.Marshal(v)
		return string(b), nil
	})
}

// ParseSetCookie returns the name and value of a Set-Cookie header line.
// ok is false for a line without a name.
func ParseSetCookie(line string) (name, value string, ok bool) {
	if i := strings.IndexByte(line, ';'); i >= 0 {
		line = line[:i]
	}
	name, value, found := strings.Cut(line, "=")
	name = strings.TrimSpace(name)
	if !found || name == "" {
		return "", "", false
	}
	value = strings.TrimSpace(value)
	if len(value) > 1 && value[0] == '"' && value[len(value)-1] == '"' {
		value = value[1 : len(value)-1]
	}
	return name, value, true
}
