package scenario

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// domAttr is what the DOM says: the first element matching sel and its
// attribute.
func domAttr(t testing.TB, body, sel, attr string) (value string, matched, found bool) {
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	s := doc.Find(sel).First()
	if s.Length() == 0 {
		return "", false, false
	}
	v, ok := s.Attr(attr)
	return v, true, ok
}

func TestFirstAttr(t *testing.T) {
	cases := []struct{ body, sel, attr string }{
		{`<a class="item" data-id="17">x</a><a class="item" data-id="18">`, "a.item", "data-id"},
		{`<p><a class="x item  y" data-id=&quot;7&amp;></a>`, ".item", "data-id"},
		{`<A CLASS=item DATA-ID=9>`, "a.item", "data-id"},
		{`<a class=item data-id=1 data-id=2>`, "a.item", "data-id"},
		{`<script><a class=item data-id=1></script><a class=item data-id=2>`, "a.item", "data-id"},
		{`<textarea><a class=item data-id=1></textarea><a class=item data-id=2>`, "a.item", "data-id"},
		{`<!-- <a class=item data-id=1> --><a class=item data-id=2>`, "a.item", "data-id"},
		{`<input name=csrf value=abc><input name=other value=x>`, `input[name="csrf"]`, "value"},
		{`<input name=csrf value=abc>`, `input[name=csrf]`, "value"},
		{`<input name=csrf>`, `input[name=csrf]`, "value"},
		{`<div id=main data-v=1><div id=main data-v=2>`, "#main", "data-v"},
		{`<p>none here`, "a.item", "data-id"},
		{`<noscript><a class=item data-id=1></noscript><a class=item data-id=2>`, "a.item", "data-id"},
		{`<title><a class=item data-id=1></title><a class=item data-id=2>`, "a.item", "data-id"},
	}
	for _, tc := range cases {
		sel := parseSimple(tc.sel)
		if sel == nil {
			t.Fatalf("%q is simple", tc.sel)
		}
		v, m, f, decided := firstAttr([]byte(tc.body), sel, tc.attr)
		if !decided {
			t.Errorf("%s in %q: not decided", tc.sel, tc.body)
			continue
		}
		wv, wm, wf := domAttr(t, tc.body, tc.sel, tc.attr)
		if v != wv || m != wm || f != wf {
			t.Errorf("%s %s in %q: tokens %q %v %v, DOM %q %v %v", tc.sel, tc.attr, tc.body, v, m, f, wv, wm, wf)
		}
	}
	for _, bail := range []string{`<table><a class=item data-id=1>`, `<select><a class=item data-id=1>`, `<td class=item data-id=1>`,
		`<body><a class=item data-id=1><body class=item data-id=2>`, `<form><form class=item data-id=2>`,
		`<svg><a class=item data-id=1>`, "<a class=item data-id=1\x00>",
		// after the match: a frameset replaces the body; a <body> breaking out of foreign content
		// merges its attributes into the body before the match
		`<i class=item data-id=1><frameset>`, `<b><i class=item data-id=1><svg><body class=item data-id=2>`,
		`<b><i class=item data-id=1><body class=item data-id=2>`, `<i class=item data-id=1><html data-id=2>`} {
		if _, _, _, decided := firstAttr([]byte(bail), parseSimple(".item"), "data-id"); decided {
			t.Errorf("%q: decided, want the DOM to answer", bail)
		}
	}
	for _, complex := range []string{"div a", "a > b", "a:first-child", "a, b", "a[x^=y]", "a ~ b", "a:not(.x)", ""} {
		if parseSimple(complex) != nil {
			t.Errorf("%q parsed as simple", complex)
		}
	}
}

// FuzzFirstAttr: wherever the tokens decide, they agree with the DOM.
func FuzzFirstAttr(f *testing.F) {
	f.Add(uint64(1), uint64(2))
	f.Add(uint64(42), uint64(7))
	f.Fuzz(func(t *testing.T, a, b uint64) {
		body := randomHTML(rand.New(rand.NewPCG(a, b)))
		for _, sel := range []string{"a.item", ".item", "#main", "input[name=csrf]", "p", "*[data-id]", "span.x.item", "form#login"} {
			for _, attr := range []string{"data-id", "value", "class"} {
				v, m, fd, decided := firstAttr([]byte(body), parseSimple(sel), attr)
				if !decided {
					continue
				}
				wv, wm, wf := domAttr(t, body, sel, attr)
				if v != wv || m != wm || fd != wf {
					t.Fatalf("%s %s in %q: tokens %q %v %v, DOM %q %v %v", sel, attr, body, v, m, fd, wv, wm, wf)
				}
			}
		}
	})
}

// TestFirstAttrRandom runs the fuzz body over many seeds in every test run.
func TestFirstAttrRandom(t *testing.T) {
	decided := 0
	for i := uint64(0); i < 3000; i++ {
		body := randomHTML(rand.New(rand.NewPCG(i, 99)))
		for _, sel := range []string{"a.item", ".item", "#main", "input[name=csrf]", "p", "*[data-id]", "span.x.item", "form#login"} {
			for _, attr := range []string{"data-id", "value", "class"} {
				v, m, f, ok := firstAttr([]byte(body), parseSimple(sel), attr)
				if !ok {
					continue
				}
				decided++
				wv, wm, wf := domAttr(t, body, sel, attr)
				if v != wv || m != wm || f != wf {
					t.Fatalf("%s %s in %q: tokens %q %v %v, DOM %q %v %v", sel, attr, body, v, m, f, wv, wm, wf)
				}
			}
		}
	}
	if decided < 20000 {
		t.Errorf("only %d cases decided by tokens", decided)
	}
}

func randomHTML(r *rand.Rand) string {
	tags := []string{"a", "p", "div", "span", "input", "form", "b", "i", "li", "ul", "option", "button", "label", "h1", "br",
		"script", "textarea", "title", "noscript", "style", "em", "nobr", "table", "td", "select", "body", "head", "html",
		"svg", "template", "image", "img", "frameset", "xmp", "iframe", "object", "p", "a", "a", "span"}
	attrs := []string{`class="item"`, `class="x item"`, `class=itemx`, `id=main`, `id="main"`, `data-id=1`, `data-id="2"`,
		`data-id='3'`, `form=login`, `FORM`, `name=csrf`, `value=v1`, `value="a&amp;b"`, `DATA-ID=4`, `Class=item`, `data-id`, `id=login`}
	var b bytes.Buffer
	if r.IntN(3) == 0 {
		b.WriteString("<!DOCTYPE html>")
	}
	for n := r.IntN(25); n > 0; n-- {
		switch r.IntN(6) {
		case 0:
			fmt.Fprintf(&b, "</%s>", tags[r.IntN(len(tags))])
		case 1:
			b.WriteString([]string{"text", " ", "<!-- c -->", "&amp;", "\n", "<", ">", "x<y"}[r.IntN(8)])
		default:
			fmt.Fprintf(&b, "<%s", tags[r.IntN(len(tags))])
			for k := r.IntN(4); k > 0; k-- {
				b.WriteString(" " + attrs[r.IntN(len(attrs))])
			}
			if r.IntN(5) == 0 {
				b.WriteString("/")
			}
			b.WriteString(">")
		}
	}
	return b.String()
}

// FuzzFirstAttrBytes: any bytes at all; where the tokens decide, they
// agree with the DOM.
func FuzzFirstAttrBytes(f *testing.F) {
	f.Add([]byte(`<a class="item" data-id="17">x</a>`))
	f.Add([]byte(`<html lang=en><head><title>t</title></head><body class=item><p><a class=item data-id=3></p></body></html>`))
	f.Add([]byte(`<form id=login><input name=csrf value=x></form>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, sel := range []string{"a.item", ".item", "#login", "input[name=csrf]", "p", "[data-id]", "form#login"} {
			for _, attr := range []string{"data-id", "value", "class"} {
				v, m, fd, decided := firstAttr(body, parseSimple(sel), attr)
				if !decided {
					continue
				}
				wv, wm, wf := domAttr(t, string(body), sel, attr)
				if v != wv || m != wm || fd != wf {
					t.Fatalf("%s %s in %q: tokens %q %v %v, DOM %q %v %v", sel, attr, body, v, m, fd, wv, wm, wf)
				}
			}
		}
	})
}

// TestFirstAttrRealPage: a page as servers write them is read from its
// tokens, and they agree with the DOM.
func TestFirstAttrRealPage(t *testing.T) {
	page := `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Your account - Shop</title>
<link rel="stylesheet" href="/static/site.css"></head>
<body class="page"><header class="top"><nav><a href="/">Home</a></nav></header>
<main><h1>Your account</h1><ul class="items">
<li class="card"><a class="item" data-id="1001" href="/item/1001">Item</a> <span class="price">$9.99</span></li>
<li class="card"><a class="item" data-id="1002" href="/item/1002">Item</a></li>
</ul><table class="orders"><tr><td>#1</td></tr></table></main></body></html>`
	for _, q := range [][2]string{{"a.item", "data-id"}, {"li.card", "class"}, {".price", "class"}, {"link[rel=stylesheet]", "href"}} {
		v, m, f, ok := firstAttr([]byte(page), parseSimple(q[0]), q[1])
		wv, wm, wf := domAttr(t, page, q[0], q[1])
		if !ok || v != wv || m != wm || f != wf {
			t.Errorf("%s %s: tokens %q %v %v (decided %v), DOM %q %v %v", q[0], q[1], v, m, f, ok, wv, wm, wf)
		}
	}
}

// TestFormFragment: a form filled from its own bytes is filled as from
// the whole page's DOM, for every form of the browser corpus put on a
// page of its own (with and without page furniture around it), and the
// fragment path is taken for most of them.
func TestFormFragment(t *testing.T) {
	corpus, err := os.ReadFile("testdata/forms.html")
	if err != nil {
		t.Fatal(err)
	}
	forms := regexp.MustCompile(`(?s)<form id="([^"]+)".*?</form>`).FindAllSubmatch(corpus, -1)
	u, _ := url.Parse("http://shop.test/a/page")
	wraps := []string{"%s",
		`<!doctype html><html lang="en"><head><title>t</title></head><body><header><a href="/">home</a></header><main>%s</main><table><tr><td>x</td></tr></table></body></html>`,
		`<b>%s</b>`, `<div><p>intro%s`, `<fieldset disabled>%s</fieldset>`, `%s<input form="x" name="late">`,
		`<base href="/elsewhere/">%s`, `<table><tr><td>%s</td></tr></table>`}
	decided := 0
	for _, m := range forms {
		for _, wrap := range wraps {
			page := []byte(fmt.Sprintf(wrap, m[0]))
			form := FormFrom("form#" + string(m[1]))
			full := &Response{Status: 200, Body: page, URL: u}
			if _, err := full.Document(); err != nil {
				t.Fatal(err)
			}
			want, werr := form.Fill(full, nil)
			if _, ok := formFragment(page, form.simple); ok {
				decided++
			}
			got, gerr := form.Fill(&Response{Status: 200, Body: page, URL: u}, nil)
			if fmt.Sprint(werr) != fmt.Sprint(gerr) {
				t.Errorf("%s in %q: error %v, from the whole DOM %v", m[1], wrap, gerr, werr)
				continue
			}
			if werr != nil {
				continue
			}
			if got.Method != want.Method || got.Action.String() != want.Action.String() || got.Enctype != want.Enctype ||
				entries(got.Entries) != entries(want.Entries) {
				t.Errorf("%s in %q:\n fragment %s %s %s %s\n whole    %s %s %s %s", m[1], wrap, got.Method, got.Action, got.Enctype, entries(got.Entries),
					want.Method, want.Action, want.Enctype, entries(want.Entries))
			}
		}
	}
	if len(forms) < 30 || decided < len(forms) {
		t.Errorf("%d forms, %d fills from fragments", len(forms), decided)
	}
}

func entries(es []Entry) string {
	var b strings.Builder
	for _, e := range es {
		fmt.Fprintf(&b, "%q=%q", e.Name, e.Value)
		if e.File != nil {
			fmt.Fprintf(&b, "(file %+v)", *e.File)
		}
		b.WriteString(" ")
	}
	return b.String()
}

// TestFormFragmentRandom: corpus forms between random markup; wherever
// the fragment decides, it fills as the whole DOM does.
func TestFormFragmentRandom(t *testing.T) {
	corpus, err := os.ReadFile("testdata/forms.html")
	if err != nil {
		t.Fatal(err)
	}
	forms := regexp.MustCompile(`(?s)<form id="([^"]+)".*?</form>`).FindAllSubmatch(corpus, -1)
	u, _ := url.Parse("http://shop.test/a/page")
	decided := 0
	for i := uint64(0); i < 20000; i++ {
		r := rand.New(rand.NewPCG(i, 7))
		m := forms[r.IntN(len(forms))]
		page := []byte(randomHTML(r) + string(m[0]) + randomHTML(r))
		form := FormFrom("form#" + string(m[1]))
		full := &Response{Status: 200, Body: page, URL: u}
		full.Document()
		want, werr := form.Fill(full, nil)
		if _, ok := formFragment(page, form.simple); !ok {
			continue
		}
		decided++
		got, gerr := form.Fill(&Response{Status: 200, Body: page, URL: u}, nil)
		if fmt.Sprint(werr) != fmt.Sprint(gerr) || (werr == nil && (got.Method != want.Method || got.Action.String() != want.Action.String() ||
			got.Enctype != want.Enctype || entries(got.Entries) != entries(want.Entries))) {
			t.Fatalf("%q:\n fragment %v %+v %s\n whole    %v %+v %s", page, gerr, got, entries(got.Entries), werr, want, entries(want.Entries))
		}
	}
	if decided < 500 {
		t.Errorf("only %d of 20000 decided from fragments", decided)
	}
}

// FuzzFormFragment: any page; where the fragment decides, the form is
// filled as from the whole DOM.
func FuzzFormFragment(f *testing.F) {
	f.Add([]byte(`<form id=login action=/in method=post><input name=csrf value=x><input name=user></form>`))
	f.Add([]byte(`<div><form id=login><select name=s><option selected>a</option></select><textarea name=t>hi</textarea></form></div>`))
	u, _ := url.Parse("http://shop.test/a/page")
	form := FormFrom("form#login")
	f.Fuzz(func(t *testing.T, page []byte) {
		if _, ok := formFragment(page, form.simple); !ok {
			return
		}
		full := &Response{Status: 200, Body: page, URL: u}
		full.Document()
		want, werr := form.Fill(full, nil)
		got, gerr := form.Fill(&Response{Status: 200, Body: page, URL: u}, nil)
		if fmt.Sprint(werr) != fmt.Sprint(gerr) || (werr == nil && (got.Method != want.Method || got.Action.String() != want.Action.String() ||
			got.Enctype != want.Enctype || entries(got.Entries) != entries(want.Entries))) {
			t.Fatalf("%q:\n fragment %v %s\n whole    %v %s", page, gerr, entries(got.Entries), werr, entries(want.Entries))
		}
	})
}

func TestMayHaveFormAttr(t *testing.T) {
	for raw, want := range map[string]bool{`<input form=x>`: true, `<input FORM>`: true, `<input form/>`: true, "<input\nform = 'x'>": true,
		`<input name=form>`: false, `<input formaction=x>`: false, `<form id=x>`: false, `<input data-form=1>`: false} {
		if got := mayHaveFormAttr([]byte(raw)); got != want {
			t.Errorf("%s: %v", raw, got)
		}
	}
}
