package scenario

import (
	"bytes"
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
	simple   *simpleSelector // when the selector is a simple one
	err      error
}

var _ Extractor = (*Selection)(nil)

// CSS selects the first element matching selector (goquery syntax) and
// yields its text, or with Attr or HTML an attribute or its inner HTML.
func CSS(selector string) *Selection {
	s := &Selection{selector: selector}
	s.compiled, s.err = cascadia.Compile(selector)
	if s.err == nil {
		s.simple = parseSimple(selector)
	}
	return s
}

// Attr makes the selection yield the named attribute (it changes s and
// returns it).
func (s *Selection) Attr(name string) *Selection { s.attr, s.html = name, false; return s }

// HTML makes the selection yield the element's inner HTML.
func (s *Selection) HTML() *Selection { s.html, s.attr = true, ""; return s }

// Text makes the selection yield the element's text, trimmed of the white
// space around it as strings.TrimSpace does (what a browser's
// element.textContent.trim() gives; white space inside is kept). This is
// the default.
func (s *Selection) Text() *Selection { s.html, s.attr = false, ""; return s }

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
	if s.attr != "" && s.simple != nil {
		if v, matched, found, ok := r.firstAttr(s.simple, s.attr); ok {
			switch {
			case !matched:
				return "", fmt.Errorf("%s: no element matches", s)
			case !found:
				return "", fmt.Errorf("%s: element has no attribute %q", s, s.attr)
			}
			return v, nil
		}
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

// JSON yields the value at path in a JSON body.
//
// The path is a list of keys separated by dots: "data.items.0.id". A key
// indexes an object by name, or an array by a number from 0 (a negative
// number counts from the end: "items.-1" is the last item). Write "\."
// for a dot inside a key ("meta.version\.major") and "\\" for a
// backslash; an empty path is the whole document.
//
// A string yields its text. Any other value yields its JSON text exactly
// as the body has it (compacted): a number keeps every digit, so a
// 19-digit id round-trips, and 1e3 stays 1e3.
func JSON(path string) Extractor {
	keys, perr := parseJSONPath(path)
	return ExtractorFunc(func(r *Response) (string, error) {
		if perr != nil {
			return "", fmt.Errorf("JSON(%q): %v", path, perr)
		}
		if r == nil {
			return "", errNoResponse
		}
		v, err := jsonAt(r.Body, path, keys)
		if err != nil {
			return "", fmt.Errorf("JSON(%q): %v", path, err)
		}
		return v, nil
	})
}

// parseJSONPath splits a JSON path into its keys.
func parseJSONPath(path string) ([]string, error) {
	if path == "" {
		return nil, nil
	}
	var keys []string
	var cur strings.Builder
	for i := 0; i < len(path); i++ {
		switch c := path[i]; c {
		case '\\':
			if i+1 == len(path) || (path[i+1] != '.' && path[i+1] != '\\') {
				return nil, fmt.Errorf("path %q: a backslash must escape a dot or a backslash", path)
			}
			i++
			cur.WriteByte(path[i])
		case '.':
			if cur.Len() == 0 {
				return nil, fmt.Errorf("path %q: empty key", path)
			}
			keys = append(keys, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	if cur.Len() == 0 {
		return nil, fmt.Errorf("path %q: empty key", path)
	}
	return append(keys, cur.String()), nil
}

// jsonAt walks body along keys without decoding more than it must; the
// value comes back as JSON.JSON's doc says.
func jsonAt(body []byte, path string, keys []string) (string, error) {
	raw := json.RawMessage(bytes.TrimSpace(body))
	if !json.Valid(raw) {
		return "", fmt.Errorf("body is not JSON")
	}
	for n, k := range keys {
		where := strings.Join(keys[:n], ".")
		if where == "" {
			where = "the document"
		}
		switch {
		case len(raw) > 0 && raw[0] == '{':
			var obj map[string]json.RawMessage
			if err := json.Unmarshal(raw, &obj); err != nil {
				return "", err
			}
			next, ok := obj[k]
			if !ok {
				return "", fmt.Errorf("%s has no field %q", where, k)
			}
			raw = next
		case len(raw) > 0 && raw[0] == '[':
			var arr []json.RawMessage
			if err := json.Unmarshal(raw, &arr); err != nil {
				return "", err
			}
			i, err := strconv.Atoi(k)
			if err != nil {
				return "", fmt.Errorf("%s is an array: key %q is not an index", where, k)
			}
			if i < 0 {
				i += len(arr)
			}
			if i < 0 || i >= len(arr) {
				return "", fmt.Errorf("%s: index %s out of range (%d items)", where, k, len(arr))
			}
			raw = arr[i]
		default:
			return "", fmt.Errorf("%s is %s, not an object or array (key %q)", where, excerpt(raw), k)
		}
	}
	if len(raw) > 0 && raw[0] == '"' {
		var str string
		if err := json.Unmarshal(raw, &str); err != nil {
			return "", err
		}
		return str, nil
	}
	var out bytes.Buffer
	if err := json.Compact(&out, raw); err != nil {
		return "", err
	}
	return out.String(), nil
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
