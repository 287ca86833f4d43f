package scenario

import (
	"bytes"
	"errors"
	"fmt"
	"mime/multipart"
	"net/textproto"
	"net/url"
	"slices"
	"strings"

	"github.com/PuerkitoBio/goquery"
	"github.com/andybalholm/cascadia"
	"golang.org/x/net/html"
)

// Form is an HTML form read from the previous response and submitted as a
// browser submits it: the entry list is built by the HTML standard's rules
// ("constructing the entry list"), the submitter (the form's default
// button, as when Enter is pressed, or the one Click names) decides the
// method, action and encoding with its formmethod, formaction and
// formenctype, and the body is encoded as application/x-www-form-urlencoded,
// multipart/form-data or text/plain.
//
// Set changes a field the form has (an error names the field and lists
// the form's fields when it has none of that name), Add adds a field on
// purpose, Remove drops one, Attach gives a file input a file. Like every
// builder here, each changes f and returns it.
type Form struct {
	selector string
	compiled cascadia.Selector
	simple   *simpleSelector // when the selector is a simple one
	err      error
	ops      []formOp
	click    string
	files    []File
}

type formOp struct {
	kind        int // opSet, opAdd, opRemove
	name, value string
}

const (
	opSet = iota
	opAdd
	opRemove
)

// File is a file sent for a file input.
type File struct {
	Field       string // the file input's name
	Filename    string
	ContentType string // "" sends application/octet-stream
	Content     []byte
}

// FormFrom reads the first form matching selector in the previous
// response.
func FormFrom(selector string) *Form {
	f := &Form{selector: selector}
	f.compiled, f.err = cascadia.Compile(selector)
	if f.err == nil {
		f.simple = parseSimple(selector)
	}
	return f
}

// Set gives the form's field name the value (which may use {{var}}),
// replacing what the page put there; a field sent several times (a
// select multiple, a group of checkboxes) is sent once with this value.
// Setting an unchecked checkbox checks it. Filling a form that has no
// field of that name fails, listing the fields it has.
func (f *Form) Set(name, value string) *Form {
	f.ops = append(f.ops, formOp{opSet, name, value})
	return f
}

// Add adds a field the form does not have (or one more value of a field
// it has), on purpose.
func (f *Form) Add(name, value string) *Form {
	f.ops = append(f.ops, formOp{opAdd, name, value})
	return f
}

// Remove drops every value of the field name; filling a form without
// such a field fails.
func (f *Form) Remove(name string) *Form {
	f.ops = append(f.ops, formOp{opRemove, name, ""})
	return f
}

// Click submits the form with the submit button that submitter names:
// a CSS selector, or the button's name. Without Click the form's default
// button is the submitter, as when Enter is pressed in one of its fields.
func (f *Form) Click(submitter string) *Form { f.click = submitter; return f }

// Attach sends content as the file filename for the form's file input
// field (several calls send several files). The form is then sent as
// multipart/form-data if its encoding says so.
func (f *Form) Attach(field, filename string, content []byte) *Form {
	f.files = append(f.files, File{Field: field, Filename: filename, Content: content})
	return f
}

func (f *Form) validate() error {
	if f.err != nil {
		return fmt.Errorf("invalid CSS selector %q: %v", f.selector, f.err)
	}
	for _, o := range f.ops {
		if o.name == "" {
			return errors.New("a form field needs a name")
		}
		if _, err := ParseTemplate(o.value); err != nil {
			return fmt.Errorf("form field %q: %w", o.name, err)
		}
	}
	if f.click != "" && strings.TrimSpace(f.click) == "" {
		return errors.New("Click needs a selector or a name")
	}
	return nil
}

// String describes the form.
func (f *Form) String() string { return fmt.Sprintf("FormFrom(%q)", f.selector) }

// Entry is one name-value pair of a form's entry list; File is set for a
// file input's entry.
type Entry struct {
	Name  string
	Value string
	File  *File
}

// FilledForm is a form read from a response, ready to send.
type FilledForm struct {
	Method  string   // GET or POST
	Action  *url.URL // resolved against the document's base URL
	Enctype string   // application/x-www-form-urlencoded, multipart/form-data or text/plain
	Entries []Entry  // in the order a browser sends them
}

// Encode returns the entries as application/x-www-form-urlencoded, a file
// standing for its file name, as browsers encode a GET form's query.
func (ff *FilledForm) Encode() string {
	var b strings.Builder
	for i, e := range ff.Entries {
		if i > 0 {
			b.WriteByte('&')
		}
		v := e.Value
		if e.File != nil {
			v = e.File.Filename
		}
		formURLEncode(&b, normalizeNewlines(e.Name))
		b.WriteByte('=')
		formURLEncode(&b, normalizeNewlines(v))
	}
	return b.String()
}

// Body returns the request body and its Content-Type for the form's
// encoding.
func (ff *FilledForm) Body() (contentType string, body []byte, err error) {
	switch ff.Enctype {
	case "multipart/form-data":
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		for _, e := range ff.Entries {
			h := textproto.MIMEHeader{}
			name := escapeMultipartName(normalizeNewlines(e.Name))
			if e.File != nil {
				h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="%s"; filename="%s"`, name, escapeMultipartName(e.File.Filename)))
				ct := e.File.ContentType
				if ct == "" {
					ct = "application/octet-stream"
				}
				h.Set("Content-Type", ct)
				p, err := w.CreatePart(h)
				if err != nil {
					return "", nil, err
				}
				p.Write(e.File.Content)
				continue
			}
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="%s"`, name))
			p, err := w.CreatePart(h)
			if err != nil {
				return "", nil, err
			}
			p.Write([]byte(normalizeNewlines(e.Value)))
		}
		if err := w.Close(); err != nil {
			return "", nil, err
		}
		return w.FormDataContentType(), buf.Bytes(), nil
	case "text/plain":
		var b strings.Builder
		for _, e := range ff.Entries {
			v := e.Value
			if e.File != nil {
				v = e.File.Filename
			}
			b.WriteString(normalizeNewlines(e.Name) + "=" + normalizeNewlines(v) + "\r\n")
		}
		return "text/plain", []byte(b.String()), nil
	}
	return DefaultContentType, []byte(ff.Encode()), nil
}

// formURLEncode writes s as the URL standard's
// application/x-www-form-urlencoded serializer does: ASCII letters,
// digits and *-._ as they are, space as '+', every other byte as %XX.
func formURLEncode(b *strings.Builder, s string) {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '*', c == '-', c == '.', c == '_':
			b.WriteByte(c)
		case c == ' ':
			b.WriteByte('+')
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
}

// normalizeNewlines turns every CR not followed by LF and every LF not
// preceded by CR into CRLF, as form encoding does.
func normalizeNewlines(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return strings.ReplaceAll(s, "\n", "\r\n")
}

var multipartNameEscaper = strings.NewReplacer("\n", "%0A", "\r", "%0D", `"`, "%22")

// escapeMultipartName escapes a multipart field or file name as the HTML
// standard does: LF, CR and '"' as %0A, %0D and %22.
func escapeMultipartName(s string) string {
	return multipartNameEscaper.Replace(s)
}

// Fill reads the form from r and builds what a browser would send.
func (f *Form) Fill(r *Response, vars Vars) (*FilledForm, error) {
	if err := f.validate(); err != nil {
		return nil, err
	}
	doc, err := r.formDocument(f.simple)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f, err)
	}
	formSel := doc.FindMatcher(f.compiled).First()
	if formSel.Length() == 0 {
		return nil, fmt.Errorf("%s: no form matches in the previous response (status %d)", f, r.Status)
	}
	form := formSel.Get(0)
	if form.Data != "form" {
		return nil, fmt.Errorf("%s: matches a <%s>, not a <form>", f, form.Data)
	}
	controls := formControls(doc, form)

	submitter, err := f.submitter(controls)
	if err != nil {
		return nil, err
	}
	ff := &FilledForm{Method: "GET", Enctype: DefaultContentType}
	method, enctype, action := attr(form, "method"), attr(form, "enctype"), attr(form, "action")
	_, hasAction := attrOK(form, "action")
	if submitter != nil {
		if v, ok := attrOK(submitter.n, "formmethod"); ok {
			method = v
		}
		if v, ok := attrOK(submitter.n, "formenctype"); ok {
			enctype = v
		}
		if v, ok := attrOK(submitter.n, "formaction"); ok {
			action, hasAction = v, true
		}
	}
	switch strings.ToLower(strings.TrimSpace(method)) {
	case "post":
		ff.Method = "POST"
	case "dialog":
		return nil, fmt.Errorf("%s: method dialog closes a dialog; a browser sends nothing", f)
	}
	switch strings.ToLower(strings.TrimSpace(enctype)) {
	case "multipart/form-data":
		ff.Enctype = "multipart/form-data"
	case "text/plain":
		ff.Enctype = "text/plain"
	}
	docURL := r.URL
	if docURL == nil {
		docURL = &url.URL{}
	}
	base := docURL
	if b := doc.Find("base[href]").First(); b.Length() > 0 {
		if u, err := docURL.Parse(strings.TrimSpace(b.AttrOr("href", ""))); err == nil {
			base = u
		}
	}
	action = strings.TrimSpace(action)
	if !hasAction || action == "" {
		u := *docURL
		ff.Action = &u
	} else if ff.Action, err = base.Parse(action); err != nil {
		return nil, fmt.Errorf("%s: action %q: %v", f, action, err)
	}

	ff.Entries = entryList(controls, submitter)
	for _, file := range f.files {
		if err := ff.attach(controls, file); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
	}
	for _, o := range f.ops {
		if err := ff.apply(controls, o, vars); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
	}
	return ff, nil
}

// Build implements Body: the form's entries url-encoded, so a form can
// also be the body of a step with its own method and URL.
func (f *Form) Build(prev *Response, vars Vars) ([]byte, bool, error) {
	ff, err := f.Fill(prev, vars)
	if err != nil {
		return nil, false, err
	}
	return []byte(ff.Encode()), true, nil
}

// control is a submittable element whose form owner is the form.
type control struct {
	n        *html.Node
	tag, typ string // typ: the input's type (lower case), the button's type
	name     string
	disabled bool
}

func (c *control) isSubmitButton() bool {
	return (c.tag == "button" && c.typ == "submit") || (c.tag == "input" && (c.typ == "submit" || c.typ == "image"))
}

func (c *control) isButton() bool {
	return c.tag == "button" || (c.tag == "input" && (c.typ == "submit" || c.typ == "image" || c.typ == "reset" || c.typ == "button"))
}

func (c *control) describe() string {
	var b strings.Builder
	b.WriteString("<" + c.tag)
	if c.tag == "input" || c.tag == "button" {
		b.WriteString(` type="` + c.typ + `"`)
	}
	if c.name != "" {
		b.WriteString(fmt.Sprintf(" name=%q", c.name))
	}
	if v, ok := attrOK(c.n, "value"); ok {
		b.WriteString(fmt.Sprintf(" value=%q", v))
	}
	return b.String() + ">"
}

func attrOK(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func attr(n *html.Node, key string) string { v, _ := attrOK(n, key); return v }

func hasAttr(n *html.Node, key string) bool { _, ok := attrOK(n, key); return ok }

// formControls returns, in tree order, the submittable elements (button,
// input, select, textarea) whose form owner is form: its descendants
// without a form attribute naming another form, and elements elsewhere
// whose form attribute names it by id.
func formControls(doc *goquery.Document, form *html.Node) []*control {
	var out []*control
	doc.Find("button, input, select, textarea").Each(func(_ int, s *goquery.Selection) {
		n := s.Get(0)
		if owner(doc, n) != form {
			return
		}
		c := &control{n: n, tag: n.Data, name: attr(n, "name")}
		switch c.tag {
		case "input":
			c.typ = inputType(n)
		case "button":
			c.typ = strings.ToLower(strings.TrimSpace(attr(n, "type")))
			if c.typ != "reset" && c.typ != "button" {
				c.typ = "submit"
			}
		}
		c.disabled = disabled(n)
		out = append(out, c)
	})
	return out
}

// owner returns the form owner of a form-associated element.
func owner(doc *goquery.Document, n *html.Node) *html.Node {
	if id, ok := attrOK(n, "form"); ok {
		for _, f := range doc.Find("form").Nodes {
			if v, ok := attrOK(f, "id"); ok && v == id {
				return f
			}
		}
		return nil
	}
	for p := n.Parent; p != nil; p = p.Parent {
		if p.Type == html.ElementNode && p.Data == "form" {
			return p
		}
	}
	return nil
}

var inputTypes = map[string]bool{
	"hidden": true, "text": true, "search": true, "tel": true, "url": true, "email": true, "password": true,
	"date": true, "month": true, "week": true, "time": true, "datetime-local": true, "number": true,
	"range": true, "color": true, "checkbox": true, "radio": true, "file": true, "submit": true,
	"image": true, "reset": true, "button": true,
}

// inputType is the input's type in lower case; unknown types are text.
func inputType(n *html.Node) string {
	t := strings.ToLower(strings.TrimSpace(attr(n, "type")))
	if !inputTypes[t] {
		return "text"
	}
	return t
}

// disabled reports a control disabled by its own attribute or by a
// disabled fieldset ancestor (unless it is inside that fieldset's first
// legend).
func disabled(n *html.Node) bool {
	if hasAttr(n, "disabled") {
		return true
	}
	child := n
	for p := n.Parent; p != nil; child, p = p, p.Parent {
		if p.Type != html.ElementNode || p.Data != "fieldset" || !hasAttr(p, "disabled") {
			continue
		}
		if legend := firstLegend(p); legend != nil && (child == legend || isAncestor(legend, n)) {
			continue
		}
		return true
	}
	return false
}

func firstLegend(fieldset *html.Node) *html.Node {
	for c := fieldset.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && c.Data == "legend" {
			return c
		}
	}
	return nil
}

func isAncestor(a, n *html.Node) bool {
	for p := n.Parent; p != nil; p = p.Parent {
		if p == a {
			return true
		}
	}
	return false
}

// submitter picks the button that submits the form: the one Click names,
// or the form's default button (its first submit button), as when Enter
// is pressed.
func (f *Form) submitter(controls []*control) (*control, error) {
	var buttons []*control
	for _, c := range controls {
		if c.isSubmitButton() {
			buttons = append(buttons, c)
		}
	}
	list := func() string {
		if len(buttons) == 0 {
			return "the form has no submit button"
		}
		var parts []string
		for _, b := range buttons {
			parts = append(parts, b.describe())
		}
		return "its submit buttons: " + strings.Join(parts, ", ")
	}
	if f.click == "" {
		if len(buttons) == 0 {
			return nil, nil
		}
		if buttons[0].disabled {
			return nil, fmt.Errorf("%s: its default button %s is disabled, so a browser does not submit it on Enter; Click another (%s)", f, buttons[0].describe(), list())
		}
		return buttons[0], nil
	}
	var chosen *control
	if sel, err := cascadia.Compile(f.click); err == nil {
		for _, b := range buttons {
			if sel.Match(b.n) {
				chosen = b
				break
			}
		}
	}
	if chosen == nil {
		for _, b := range buttons {
			if b.name == f.click {
				chosen = b
				break
			}
		}
	}
	if chosen == nil {
		return nil, fmt.Errorf("%s: Click(%q): no submit button of the form matches (%s)", f, f.click, list())
	}
	if chosen.disabled {
		return nil, fmt.Errorf("%s: Click(%q): %s is disabled", f, f.click, chosen.describe())
	}
	return chosen, nil
}

// entryList builds the entry list by the HTML standard's rules.
func entryList(controls []*control, submitter *control) []Entry {
	var out []Entry
	add := func(name, value string) { out = append(out, Entry{Name: name, Value: value}) }
	for _, c := range controls {
		n := c.n
		// The standard bars a datalist's descendants; Chromium submits
		// them, and so does benchgate (TestFormsAgainstChromium).
		if c.disabled {
			continue
		}
		if c.isButton() && c != submitter {
			continue
		}
		if (c.typ == "checkbox" || c.typ == "radio") && !hasAttr(n, "checked") {
			continue
		}
		if c.tag == "input" && c.typ == "image" {
			prefix := ""
			if c.name != "" {
				prefix = c.name + "."
			}
			add(prefix+"x", "0")
			add(prefix+"y", "0")
			continue
		}
		if c.name == "" {
			continue
		}
		switch {
		case c.tag == "select":
			for _, opt := range selectedOptions(n) {
				add(c.name, optionValue(opt))
			}
		case c.typ == "checkbox" || c.typ == "radio":
			v, ok := attrOK(n, "value")
			if !ok {
				v = "on"
			}
			add(c.name, v)
		case c.typ == "file":
			out = append(out, Entry{Name: c.name, File: &File{Field: c.name, ContentType: "application/octet-stream"}})
		case c.typ == "hidden" && strings.EqualFold(c.name, "_charset_"):
			add(c.name, "UTF-8")
		case c.tag == "textarea":
			add(c.name, textareaValue(n))
		case c.tag == "button":
			add(c.name, attr(n, "value"))
		case c.typ == "submit":
			v, ok := attrOK(n, "value")
			if !ok {
				v = "Submit" // the default label, as browsers send it
			}
			add(c.name, v)
		default:
			add(c.name, sanitizeValue(c.typ, n))
		}
		if d := attr(n, "dirname"); d != "" && (c.tag == "textarea" || c.typ == "text" || c.typ == "search") {
			add(d, "ltr")
		}
	}
	return out
}

// selectedOptions returns a select's selected options that are not
// disabled, by the selectedness rules: with multiple, those marked
// selected; without, the last one marked selected, or, when the select
// shows one row, the first option that is not disabled.
func selectedOptions(sel *html.Node) []*html.Node {
	var opts []*html.Node
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type != html.ElementNode {
				continue
			}
			switch c.Data {
			case "option":
				opts = append(opts, c)
			case "optgroup":
				walk(c)
			}
		}
	}
	walk(sel)
	optDisabled := func(o *html.Node) bool {
		return hasAttr(o, "disabled") || (o.Parent != nil && o.Parent.Data == "optgroup" && hasAttr(o.Parent, "disabled"))
	}
	multiple := hasAttr(sel, "multiple")
	var selected []*html.Node
	if multiple {
		for _, o := range opts {
			if hasAttr(o, "selected") {
				selected = append(selected, o)
			}
		}
	} else {
		for _, o := range opts {
			if hasAttr(o, "selected") {
				selected = []*html.Node{o}
			}
		}
		size := 1
		if v, ok := attrOK(sel, "size"); ok {
			fmt.Sscan(strings.TrimSpace(v), &size)
		}
		if len(selected) == 0 && size <= 1 {
			for _, o := range opts {
				if !optDisabled(o) {
					selected = []*html.Node{o}
					break
				}
			}
		}
	}
	return slices.DeleteFunc(selected, optDisabled)
}

// optionValue is the option's value attribute, or its text with white
// space stripped and collapsed.
func optionValue(o *html.Node) string {
	if v, ok := attrOK(o, "value"); ok {
		return v
	}
	return strings.Join(strings.Fields(nodeText(o)), " ")
}

func nodeText(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			switch c.Type {
			case html.TextNode:
				b.WriteString(c.Data)
			case html.ElementNode:
				if c.Data != "script" {
					walk(c)
				}
			}
		}
	}
	walk(n)
	return b.String()
}

// textareaValue is the textarea's text with line breaks normalized to LF
// (the HTML parser already dropped a newline right after the start tag).
func textareaValue(n *html.Node) string {
	v := nodeText(n)
	v = strings.ReplaceAll(v, "\r\n", "\n")
	return strings.ReplaceAll(v, "\r", "\n")
}

// attach gives a file input a file.
func (ff *FilledForm) attach(controls []*control, file File) error {
	var input *control
	for _, c := range controls {
		if c.typ == "file" && c.name == file.Field {
			input = c
			break
		}
	}
	if input == nil {
		return fmt.Errorf("Attach(%q): the form has no file input of that name (%s)", file.Field, fieldList(controls))
	}
	for i, e := range ff.Entries {
		if e.File != nil && e.Name == file.Field && e.File.Filename == "" && len(e.File.Content) == 0 {
			f := file
			ff.Entries[i].File = &f
			return nil
		}
	}
	f := file
	ff.Entries = append(ff.Entries, Entry{Name: file.Field, File: &f})
	return nil
}

// apply performs one Set, Add or Remove.
func (ff *FilledForm) apply(controls []*control, o formOp, vars Vars) error {
	has := false
	for _, c := range controls {
		if c.name == o.name && !c.isButton() {
			has = true
			if c.typ == "file" && o.kind == opSet {
				return fmt.Errorf("Set(%q): a file input: use Attach", o.name)
			}
		}
	}
	for _, e := range ff.Entries {
		has = has || e.Name == o.name
	}
	if !has && o.kind != opAdd {
		op := "Set"
		if o.kind == opRemove {
			op = "Remove"
		}
		return fmt.Errorf("%s(%q): the form has no such field (%s); Add adds one on purpose", op, o.name, fieldList(controls))
	}
	if o.kind == opRemove {
		ff.Entries = slices.DeleteFunc(ff.Entries, func(e Entry) bool { return e.Name == o.name })
		return nil
	}
	t, err := ParseTemplate(o.value)
	if err != nil {
		return err
	}
	v, err := t.ExpandString(vars)
	if err != nil {
		return fmt.Errorf("field %q: %w", o.name, err)
	}
	if o.kind == opAdd {
		ff.Entries = append(ff.Entries, Entry{Name: o.name, Value: v})
		return nil
	}
	for i, e := range ff.Entries {
		if e.Name == o.name {
			ff.Entries[i].Value = v
			rest := slices.DeleteFunc(ff.Entries[i+1:], func(e Entry) bool { return e.Name == o.name })
			ff.Entries = ff.Entries[:i+1+len(rest)]
			return nil
		}
	}
	ff.Entries = append(ff.Entries, Entry{Name: o.name, Value: v})
	return nil
}

// fieldList names the form's fields for an error message.
func fieldList(controls []*control) string {
	var names []string
	for _, c := range controls {
		if c.name != "" && !c.isButton() && !slices.Contains(names, c.name) {
			names = append(names, c.name)
		}
	}
	if len(names) == 0 {
		return "it has no named fields"
	}
	return "its fields: " + strings.Join(names, ", ")
}
