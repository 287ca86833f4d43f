package scenario

import (
	"fmt"
	"net/url"
	"strings"
)

// Template is a string with {{name}} placeholders that are replaced by the
// iteration's variables when the request is built. A string without
// placeholders is a static template and costs nothing to expand.
type Template struct {
	src   string
	parts []tplPart
}

type tplPart struct {
	lit string
	v   string // variable name; empty for a literal
	raw bool   // {{name|raw}}: never escaped
	esc escape // how a URL template escapes the value
}

// escape says how a value inserted into a URL is encoded.
type escape uint8

const (
	escNone  escape = iota // as is: not a URL, raw, or before the path
	escPath                // one path segment: url.PathEscape
	escQuery               // a query name or value: url.QueryEscape
)

// ParseTemplate parses s. It fails on an unclosed "{{" or an empty or
// malformed variable name.
func ParseTemplate(s string) (Template, error) {
	t := Template{src: s}
	rest := s
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			if rest != "" {
				t.parts = append(t.parts, tplPart{lit: rest})
			}
			break
		}
		if i > 0 {
			t.parts = append(t.parts, tplPart{lit: rest[:i]})
		}
		rest = rest[i+2:]
		j := strings.Index(rest, "}}")
		if j < 0 {
			return Template{}, fmt.Errorf("template %q: unclosed {{", s)
		}
		name, raw := strings.TrimSpace(rest[:j]), false
		if n, f, ok := strings.Cut(name, "|"); ok && strings.TrimSpace(f) == "raw" {
			name, raw = strings.TrimSpace(n), true
		}
		if !validVarName(name) {
			return Template{}, fmt.Errorf("template %q: invalid variable name %q", s, rest[:j])
		}
		t.parts = append(t.parts, tplPart{v: name, raw: raw})
		rest = rest[j+2:]
	}
	return t, nil
}

func validVarName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-', r == '.':
		default:
			return false
		}
	}
	return true
}

// forURL returns t with each variable set to be escaped for where it
// stands in a URL: in the path as one path segment, in the query as a
// query component. A variable before the path (a template that starts
// with one, or one in the scheme or host) and a variable written
// {{name|raw}} go in as they are, for values that are already URLs or
// URL parts.
func (t Template) forURL() Template {
	if t.Static() {
		return t
	}
	parts := append([]tplPart(nil), t.parts...)
	prefix := ""
	for i := range parts {
		p := &parts[i]
		if p.v == "" {
			prefix += p.lit
			continue
		}
		if !p.raw {
			p.esc = urlPosition(prefix)
		}
		prefix += "x"
	}
	return Template{src: t.src, parts: parts}
}

// urlPosition tells how to escape a value that follows prefix in a URL.
func urlPosition(prefix string) escape {
	switch {
	case strings.ContainsAny(prefix, "?#"):
		if strings.Contains(prefix, "#") {
			return escPath
		}
		return escQuery
	case prefix == "":
		return escNone
	}
	rest := prefix
	if i := strings.Index(rest, "://"); i >= 0 && !strings.ContainsAny(rest[:i], "/?#") {
		rest = rest[i+3:]
	} else if strings.HasPrefix(rest, "//") {
		rest = rest[2:]
	} else {
		return escPath // "/a/", "a/": a path
	}
	if strings.Contains(rest, "/") {
		return escPath
	}
	return escNone // in the host or port
}

// Static reports whether the template has no placeholders.
func (t Template) Static() bool {
	for _, p := range t.parts {
		if p.v != "" {
			return false
		}
	}
	return true
}

// String returns the template's source text.
func (t Template) String() string { return t.src }

// Vars returns the names the template refers to, in order.
func (t Template) Vars() []string {
	var out []string
	for _, p := range t.parts {
		if p.v != "" {
			out = append(out, p.v)
		}
	}
	return out
}

// Expand appends the template expanded with vars to dst. A name missing
// from vars is an error that names it.
func (t Template) Expand(dst []byte, vars Vars) ([]byte, error) {
	for _, p := range t.parts {
		if p.v == "" {
			dst = append(dst, p.lit...)
			continue
		}
		val, ok := vars[p.v]
		if !ok {
			return dst, fmt.Errorf("undefined variable %q in %q", p.v, t.src)
		}
		switch p.esc {
		case escPath:
			val = url.PathEscape(val)
		case escQuery:
			val = url.QueryEscape(val)
		}
		dst = append(dst, val...)
	}
	return dst, nil
}

// ExpandString is Expand returning a string.
func (t Template) ExpandString(vars Vars) (string, error) {
	if t.Static() {
		return t.src, nil
	}
	b, err := t.Expand(nil, vars)
	return string(b), err
}

// placeholderText expands every variable as "x", for validation of the
// shape of a templated URL before any request is sent.
func (t Template) placeholderText() string {
	var b strings.Builder
	for _, p := range t.parts {
		if p.v == "" {
			b.WriteString(p.lit)
		} else {
			b.WriteString("x")
		}
	}
	return b.String()
}

// Vars holds one iteration's variables: values saved by extractors, the
// run's initial variables, and IterationVar.
type Vars map[string]string

// IterationVar is the variable that holds the iteration's number (0-based)
// in every iteration: "/items/{{iteration}}".
const IterationVar = "iteration"
