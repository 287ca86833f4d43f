package scenario

import (
	"fmt"
	"slices"
	"strings"
)

// usedTemplate is a template a step uses, with the field it fills.
type usedTemplate struct {
	field string
	src   string
	t     Template
}

// templates lists every template of the step: URL, headers, body, form
// fields and overrides, expectations.
func (s *Step) templates(sp *StepSpec) []usedTemplate {
	var out []usedTemplate
	add := func(field, src string, t Template) { out = append(out, usedTemplate{field, src, t}) }
	if s.form == nil {
		add("URL", RedactURL(s.url), sp.URL)
	}
	for _, h := range sp.Headers {
		add("Header "+h.Name, h.Value.String(), h.Value)
	}
	switch b := s.body.(type) {
	case templateBody:
		add("Body", b.t.String(), b.t)
	case formBody:
		for _, f := range b.fields {
			add("Field", f.name.String(), f.name)
			add("Field "+f.name.String(), f.value.String(), f.value)
		}
	}
	if s.form != nil {
		for _, o := range s.form.ops {
			if t, err := ParseTemplate(o.value); err == nil && o.kind != opRemove {
				add("Form field "+o.name, o.value, t)
			}
		}
	}
	for _, e := range s.expect {
		add("Expect", e.String(), e.text)
	}
	return out
}

// checkVars reports each {{name}} that no earlier source defines: the
// run's Vars, the built-in iteration, or an extractor of an earlier
// step. bad is called with the 1-based step (0 for the run), the field,
// its value and the reason.
func (s *RunDef) checkVars(steps []*Step, specs []*StepSpec, bad func(step int, field, value, reason string)) {
	defined := map[string]bool{IterationVar: true}
	for k := range s.vars {
		defined[k] = true
	}
	if s.feeder != nil {
		for _, k := range s.feeder.fields {
			defined[k] = true
		}
	}
	names := func() string {
		list := make([]string, 0, len(defined))
		for k := range defined {
			list = append(list, k)
		}
		slices.Sort(list)
		return strings.Join(list, ", ")
	}
	for i, c := range s.cookies {
		if t, err := ParseTemplate(c); err == nil {
			for _, v := range t.Vars() {
				if !defined[v] {
					bad(0, fmt.Sprintf("Cookies[%d]", i), c, fmt.Sprintf("undefined variable %q (a cookie may use the run's Vars and iteration: %s)", v, names()))
				}
			}
		}
	}
	for k, st := range steps {
		if st == nil || k >= len(specs) || specs[k] == nil {
			continue
		}
		for _, u := range st.templates(specs[k]) {
			for _, v := range u.t.Vars() {
				if !defined[v] {
					bad(k+1, u.field, u.src, fmt.Sprintf("undefined variable %q (defined before this step: %s)", v, names()))
				}
			}
		}
		for _, x := range st.extract {
			defined[x.Name] = true
		}
	}
}
