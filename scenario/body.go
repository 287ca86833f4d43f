package scenario

import (
	"fmt"
	"net/url"
	"strings"
)

// Body builds a request body just before the request is sent. ok false
// means "no body": a step without a method of its own then sends GET
// (HEAD when it asks for HEAD), and POST when there is a body. prev is
// the previous response of the same iteration, nil for the first step.
type Body interface {
	Build(prev *Response, vars Vars) (body []byte, ok bool, err error)
}

// BodyFunc adapts a Go func of the previous response to Body. Returning
// ok false sends the request without a body. The time the func takes is
// not part of any timing.
type BodyFunc func(prev *Response, vars Vars) (body string, ok bool)

// Build calls f.
func (f BodyFunc) Build(prev *Response, vars Vars) ([]byte, bool, error) {
	s, ok := f(prev, vars)
	if !ok {
		return nil, false, nil
	}
	return []byte(s), true, nil
}

// templateBody is a static or templated body.
type templateBody struct{ t Template }

func (b templateBody) Build(_ *Response, vars Vars) ([]byte, bool, error) {
	out, err := b.t.Expand(nil, vars)
	return out, true, err
}

// FieldValue is one name=value pair of a form body; both may use {{var}}.
type FieldValue struct {
	Name  string
	Value string
}

// Field is a form field for PostForm and Form.Set.
func Field(name, value string) FieldValue { return FieldValue{Name: name, Value: value} }

// formBody encodes fields as application/x-www-form-urlencoded.
type formBody struct{ fields []fieldTpl }

type fieldTpl struct {
	name, value Template
}

func parseFields(fs []FieldValue) ([]fieldTpl, error) {
	out := make([]fieldTpl, 0, len(fs))
	for _, f := range fs {
		n, err := ParseTemplate(f.Name)
		if err != nil {
			return nil, fmt.Errorf("form field name: %w", err)
		}
		v, err := ParseTemplate(f.Value)
		if err != nil {
			return nil, fmt.Errorf("form field %q: %w", f.Name, err)
		}
		out = append(out, fieldTpl{n, v})
	}
	return out, nil
}

func (b formBody) Build(_ *Response, vars Vars) ([]byte, bool, error) {
	var sb strings.Builder
	for i, f := range b.fields {
		n, err := f.name.ExpandString(vars)
		if err != nil {
			return nil, false, err
		}
		v, err := f.value.ExpandString(vars)
		if err != nil {
			return nil, false, err
		}
		if i > 0 {
			sb.WriteByte('&')
		}
		sb.WriteString(url.QueryEscape(n))
		sb.WriteByte('=')
		sb.WriteString(url.QueryEscape(v))
	}
	return []byte(sb.String()), true, nil
}
