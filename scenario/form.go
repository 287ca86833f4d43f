package scenario

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/PuerkitoBio/goquery"
	"github.com/andybalholm/cascadia"
)

// Form is an HTML form read from the previous response: every successful
// control it holds (inputs including hidden ones such as CSRF tokens,
// checked checkboxes and radios, selects, textareas), with overrides set
// by the test. Submit sends it to the form's action with its method.
type Form struct {
	selector  string
	compiled  cascadia.Selector
	err       error
	overrides []FieldValue
	remove    []string
}

// FormFrom reads the first form matching selector in the previous
// response.
func FormFrom(selector string) *Form {
	f := &Form{selector: selector}
	f.compiled, f.err = cascadia.Compile(selector)
	return f
}

// Set overrides (or adds) a field; the value may use {{var}}. Like every
// builder here it changes f and returns it.
func (f *Form) Set(name, value string) *Form {
	f.overrides = append(f.overrides, FieldValue{name, value})
	return f
}

// Remove drops a field from the submitted values.
func (f *Form) Remove(name string) *Form {
	f.remove = append(f.remove, name)
	return f
}

func (f *Form) validate() error {
	if f.err != nil {
		return fmt.Errorf("invalid CSS selector %q: %v", f.selector, f.err)
	}
	for _, o := range f.overrides {
		if _, err := ParseTemplate(o.Value); err != nil {
			return fmt.Errorf("form field %q: %w", o.Name, err)
		}
	}
	return nil
}

// String describes the form.
func (f *Form) String() string { return fmt.Sprintf("FormFrom(%q)", f.selector) }

// FilledForm is a form read from a response, ready to send.
type FilledForm struct {
	Method string     // upper case, GET when the form says nothing
	Action *url.URL   // resolved against the response URL
	Values url.Values // every field, overrides applied
	Order  []string   // field names in document order, then added ones
}

// Encode returns the values in document order, url-encoded.
func (ff *FilledForm) Encode() string {
	var sb strings.Builder
	for _, n := range ff.Order {
		for _, v := range ff.Values[n] {
			if sb.Len() > 0 {
				sb.WriteByte('&')
			}
			sb.WriteString(url.QueryEscape(n))
			sb.WriteByte('=')
			sb.WriteString(url.QueryEscape(v))
		}
	}
	return sb.String()
}

// Fill reads the form from r and applies the overrides.
func (f *Form) Fill(r *Response, vars Vars) (*FilledForm, error) {
	if err := f.validate(); err != nil {
		return nil, err
	}
	doc, err := r.Document()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f, err)
	}
	form := doc.FindMatcher(f.compiled).First()
	if form.Length() == 0 {
		return nil, fmt.Errorf("%s: no form matches in the previous response (status %d)", f, r.Status)
	}
	ff := &FilledForm{Method: "GET", Values: url.Values{}}
	// The HTML standard knows get, post and dialog; anything else (a
	// typo, or text meant to reach the request line) falls back to GET,
	// as browsers do.
	if m, _ := form.Attr("method"); strings.EqualFold(strings.TrimSpace(m), "post") {
		ff.Method = "POST"
	}
	action, _ := form.Attr("action")
	base := r.URL
	if base == nil {
		base = &url.URL{}
	}
	ff.Action, err = base.Parse(strings.TrimSpace(action))
	if err != nil {
		return nil, fmt.Errorf("%s: action %q: %v", f, action, err)
	}
	add := func(name, value string) {
		if _, seen := ff.Values[name]; !seen {
			ff.Order = append(ff.Order, name)
		}
		ff.Values[name] = append(ff.Values[name], value)
	}
	form.Find("input, select, textarea").Each(func(_ int, s *goquery.Selection) {
		name, ok := s.Attr("name")
		if !ok || name == "" {
			return
		}
		if _, disabled := s.Attr("disabled"); disabled {
			return
		}
		switch goquery.NodeName(s) {
		case "input":
			typ := strings.ToLower(s.AttrOr("type", "text"))
			switch typ {
			case "submit", "button", "image", "reset", "file":
				return
			case "checkbox", "radio":
				if _, checked := s.Attr("checked"); !checked {
					return
				}
				add(name, s.AttrOr("value", "on"))
				return
			}
			add(name, s.AttrOr("value", ""))
		case "textarea":
			add(name, s.Text())
		case "select":
			opt := s.Find("option[selected]").First()
			if opt.Length() == 0 {
				opt = s.Find("option").First()
			}
			if opt.Length() > 0 {
				add(name, opt.AttrOr("value", strings.TrimSpace(opt.Text())))
			}
		}
	})
	for _, o := range f.overrides {
		t, err := ParseTemplate(o.Value)
		if err != nil {
			return nil, err
		}
		v, err := t.ExpandString(vars)
		if err != nil {
			return nil, fmt.Errorf("%s: field %q: %w", f, o.Name, err)
		}
		if _, seen := ff.Values[o.Name]; !seen {
			ff.Order = append(ff.Order, o.Name)
		}
		ff.Values[o.Name] = []string{v}
	}
	for _, n := range f.remove {
		delete(ff.Values, n)
	}
	return ff, nil
}

// Build implements Body: the form's encoded values, so a form can also be
// the body of a step with its own method and URL.
func (f *Form) Build(prev *Response, vars Vars) ([]byte, bool, error) {
	ff, err := f.Fill(prev, vars)
	if err != nil {
		return nil, false, err
	}
	return []byte(ff.Encode()), true, nil
}
