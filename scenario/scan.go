package scenario

import (
	"bytes"
	"regexp"
	"strings"

	"golang.org/x/net/html"
)

// simpleSelector is a compound CSS selector without combinators or
// pseudo-classes — tag, #id, .class, [attr] and [attr="value"] — that a
// page's tokens can be matched against without building its DOM.
type simpleSelector struct {
	tag     string // "" or "*": any
	id      string
	classes []string
	attrs   []attrTest
}

type attrTest struct {
	name, value string
	hasValue    bool
}

var (
	simplePart = regexp.MustCompile(`^(?:#([A-Za-z_][-\w]*)|\.([A-Za-z_][-\w]*)|\[\s*([A-Za-z_][-\w]*)\s*(?:=\s*(?:"([^"\\]*)"|'([^'\\]*)'|([-\w]+))\s*)?\])`)
	simpleTag  = regexp.MustCompile(`^(?:\*|[A-Za-z][A-Za-z0-9]*)`)
)

// parseSimple returns sel as a simpleSelector, or nil when it is more
// than one (the DOM then answers).
func parseSimple(sel string) *simpleSelector {
	s := strings.TrimSpace(sel)
	if s == "" {
		return nil
	}
	out := &simpleSelector{}
	if t := simpleTag.FindString(s); t != "" {
		out.tag = strings.ToLower(t)
		s = s[len(t):]
	}
	for s != "" {
		m := simplePart.FindStringSubmatch(s)
		if m == nil {
			return nil
		}
		switch {
		case m[1] != "":
			if out.id != "" {
				return nil
			}
			out.id = m[1]
		case m[2] != "":
			out.classes = append(out.classes, m[2])
		default:
			t := attrTest{name: strings.ToLower(m[3])}
			if strings.Contains(m[0], "=") {
				t.hasValue, t.value = true, m[4]+m[5]+m[6]
			}
			out.attrs = append(out.attrs, t)
		}
		s = s[len(m[0]):]
	}
	if out.tag == "img" {
		return nil // the tree builder turns <image> into <img>
	}
	if out.bare() {
		switch out.tag {
		case "", "*", "html", "head", "body":
			return nil // elements the tree builder makes without a tag
		}
	}
	return out
}

// bare reports a selector of a tag name alone.
func (s *simpleSelector) bare() bool { return s.id == "" && len(s.classes) == 0 && len(s.attrs) == 0 }

// rawAttr is one attribute of a start tag, as the tokenizer gives it.
type rawAttr struct{ key, val []byte }

func (s *simpleSelector) matches(tag []byte, attrs []rawAttr) bool {
	if s.tag != "" && s.tag != "*" && string(tag) != s.tag {
		return false
	}
	get := func(name string) ([]byte, bool) {
		for _, a := range attrs {
			if string(a.key) == name {
				return a.val, true
			}
		}
		return nil, false
	}
	if s.id != "" {
		if v, ok := get("id"); !ok || string(v) != s.id {
			return false
		}
	}
	if len(s.classes) > 0 {
		v, ok := get("class")
		if !ok {
			return false
		}
		fields := strings.FieldsFunc(string(v), isHTMLSpace)
		for _, c := range s.classes {
			found := false
			for _, f := range fields {
				if f == c {
					found = true
					break
				}
			}
			if !found {
				return false
			}
		}
	}
	for _, t := range s.attrs {
		v, ok := get(t.name)
		if !ok || (t.hasValue && string(v) != t.value) {
			return false
		}
	}
	return true
}

func isHTMLSpace(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\f' || r == '\r' }

// bailTags are start tags after which the tree builder may drop,
// reorder or re-interpret tags (select, table foster parenting, template
// contents, foreign content, frameset, plaintext): the DOM answers.
var bailTags = map[string]bool{"select": true, "table": true, "template": true, "svg": true, "math": true,
	"frameset": true, "frame": true, "plaintext": true, "image": true, "isindex": true,
	// table parts outside a table are dropped by the tree builder
	"caption": true, "colgroup": true, "col": true, "tbody": true, "thead": true, "tfoot": true, "tr": true, "td": true, "th": true}

// lateTags are what, after a match, could still change the tree before
// it.
var lateTags = []string{"html", "body", "frameset", "svg", "math"}

// headTags may stand before <body> without implying it.
var headTags = map[string]bool{"base": true, "basefont": true, "bgsound": true, "link": true, "meta": true, "noframes": true,
	"script": true, "style": true, "template": true, "title": true, "noscript": true}

// rawTextTags hold text the tokenizer does not read as markup.
var rawTextTags = map[string]bool{"script": true, "style": true, "title": true, "textarea": true, "noscript": true,
	"noframes": true, "noembed": true, "iframe": true, "xmp": true}

// firstAttr finds the first element matching sel in body and returns its
// attribute attr, reading tokens only. decided is false when the page
// holds, before the match, something whose tree could differ from its
// tokens in what sel sees (tags the tree builder drops, reorders or
// merges); the caller then asks the DOM. matched says an element matches, found that it has
// the attribute. The whole page is read: a late <html> or <body> with
// attributes would give them to an element before the match.
func firstAttr(body []byte, sel *simpleSelector, attr string) (value string, matched, found, decided bool) {
	if bytes.IndexByte(body, 0) >= 0 {
		return "", false, false, false // NUL handling differs between the tokenizer and the tree builder
	}
	z := html.NewTokenizer(bytes.NewReader(body))
	var attrs []rawAttr
	// begun: the root element exists (a token other than a doctype, a
	// comment or white space came); implied: so does <body>.
	// pastHTML: a token other than those and the <html> tag came.
	begun, pastHTML, implied, bodyTag, inForm, rawNext := false, false, false, false, false, false
	off, looked := 0, false
	for {
		if matched && !rawNext && !looked {
			// once: if the rest may hold such a tag, it is read to the end
			if looked = true; !restHas(body[off:], lateTags, "") {
				return value, matched, found, true // nothing after the match reaches back before it
			}
		}
		tt := z.Next()
		off += len(z.Raw())
		raw := rawNext
		rawNext = false
		switch tt {
		case html.ErrorToken:
			return value, matched, found, true
		case html.TextToken:
			if !raw && len(bytes.TrimLeft(z.Text(), " \t\n\f\r")) > 0 {
				begun, pastHTML, implied = true, true, true
			}
		case html.EndTagToken:
			begun, pastHTML = true, true
			name, _ := z.TagName()
			switch string(name) {
			case "form":
				inForm = false
			case "p", "br":
				if sel.bare() && !matched {
					return "", false, false, false // </p> and </br> can make an element
				}
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, more := z.TagName()
			tag := string(name)
			if (bailTags[tag] && !matched) || tag == "frameset" || tag == "svg" || tag == "math" {
				// after the match, what these do to the tree comes after it;
				// but a <frameset> can take the place of the whole body, and
				// foreign content is tokenized by other rules (a <body> in it
				// would escape unseen)
				return "", false, false, false
			}
			switch {
			case tag == "html":
				if begun && more {
					return "", false, false, false // its attributes go to the root
				}
			case tag == "head":
				if pastHTML {
					return "", false, false, false // a late <head> is dropped
				}
			case tag == "body":
				if bodyTag || (implied && more) {
					return "", false, false, false // its attributes go to the body there is
				}
				bodyTag, implied = true, true
			case headTags[tag]:
			default:
				implied = true
			}
			begun, pastHTML = true, pastHTML || tag != "html"
			rawNext = rawTextTags[tag] // "<textarea/>" too: the tokenizer reads raw text after it
			if tag == "form" && !matched {
				if inForm {
					return "", false, false, false // a nested form tag is dropped
				}
				inForm = true
			}
			if matched {
				continue // only looking for what would change the tree
			}
			if sel.tag != "" && sel.tag != "*" && tag != sel.tag {
				continue
			}
			attrs = attrs[:0]
			for more {
				var k, v []byte
				k, v, more = z.TagAttr()
				dup := false
				for _, a := range attrs {
					if bytes.Equal(a.key, k) {
						dup = true // the first of repeated attributes counts
						break
					}
				}
				if !dup {
					attrs = append(attrs, rawAttr{k, v})
				}
			}
			if !sel.matches(name, attrs) {
				continue
			}
			matched = true
			for _, a := range attrs {
				if string(a.key) == attr {
					value, found = string(a.val), true
					break
				}
			}
		}
	}
}

// formLateTags are what, after the form, could still change it.
var formLateTags = []string{"base", "frameset", "svg", "math", "template"}

// formattingTags are the elements the tree builder reconstructs.
var formattingTags = map[string]bool{"a": true, "b": true, "big": true, "code": true, "em": true, "font": true, "i": true,
	"nobr": true, "s": true, "small": true, "strike": true, "strong": true, "tt": true, "u": true}

// safeOuter are the elements a form may stand in for its fragment to
// build as it does in the page: no tag inside the form closes them.
var safeOuter = map[string]bool{"html": true, "head": true, "body": true, "div": true, "main": true, "section": true,
	"article": true, "header": true, "footer": true, "nav": true, "aside": true, "center": true, "blockquote": true,
	"figure": true, "figcaption": true, "details": true, "dialog": true, "span": true, "label": true, "ul": true, "ol": true,
	"dl": true, "p": true, "address": true, "hgroup": true, "search": true}

// restHas reports whether rest may hold one of the tags (a '<' and the
// name, ASCII case-insensitively) or, with attr, the attribute name
// followed by '='. A false positive only costs reading on with the
// tokenizer.
func restHas(rest []byte, tags []string, attr string) bool {
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if c == '<' {
			for _, t := range tags {
				if hasFold(rest[i+1:], t) {
					return true
				}
			}
		} else if attr != "" && (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '/') && hasFold(rest[i+1:], attr) {
			j := i + 1 + len(attr)
			for j < len(rest) && (rest[j] == ' ' || rest[j] == '\t' || rest[j] == '\n' || rest[j] == '\r' || rest[j] == '\f') {
				j++
			}
			if j < len(rest) && rest[j] == '=' {
				return true
			}
		}
	}
	return false
}

// mayHaveFormAttr reports whether a raw start tag may hold a form
// attribute, with a value or without: "form" after white space or '/'
// and before white space, '=', '/' or '>'. A false positive only costs
// reading its attributes.
func mayHaveFormAttr(raw []byte) bool {
	for i := 1; i+4 < len(raw); i++ {
		switch raw[i-1] {
		case ' ', '\t', '\n', '\r', '\f', '/':
		default:
			continue
		}
		if !hasFold(raw[i:], "form") {
			continue
		}
		switch raw[i+4] {
		case ' ', '\t', '\n', '\r', '\f', '=', '/', '>':
			return true
		}
	}
	return false
}

// hasFold reports whether b starts with lower, ASCII case-insensitively.
func hasFold(b []byte, lower string) bool {
	if len(b) < len(lower) {
		return false
	}
	for i := 0; i < len(lower); i++ {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// voidTags have no end tag.
var voidTags = map[string]bool{"area": true, "base": true, "br": true, "col": true, "embed": true, "hr": true, "img": true,
	"input": true, "link": true, "meta": true, "param": true, "source": true, "track": true, "wbr": true, "keygen": true,
	"basefont": true, "bgsound": true, "frame": true, "image": true, "menuitem": true}

// formFragment returns the bytes of the first form matching sel, from its
// start tag to its end tag, when a DOM of those bytes alone gives the
// form the same controls, values and action as the whole page's DOM:
// nothing before it that changes how it is built or what it holds (a
// table, select, template, foreign content or fieldset around it), no
// <base> and no form= attribute anywhere, and inside it every element
// closed in order before </form>. decided is false otherwise; the
// caller then builds the whole page's DOM.
func formFragment(body []byte, sel *simpleSelector) (frag []byte, decided bool) {
	if bytes.IndexByte(body, 0) >= 0 {
		return nil, false
	}
	z := html.NewTokenizer(bytes.NewReader(body))
	var attrs []rawAttr
	var stack []string // open inside the form
	// formatting elements open before the form: the tree builder may
	// reopen them inside it and keep them open past its end tag, so that
	// what follows </form> lands in the form
	formatting := map[string]int{}
	var outer []string // open before the form
	outerBroken := false
	off, start, end, looked := 0, -1, -1, false
	for {
		if end >= 0 && !looked {
			// once: if the rest may hold such a tag, it is read to the end
			if looked = true; !restHas(body[off:], formLateTags, "form") {
				return body[start:end], true
			}
		}
		tt := z.Next()
		at := off
		off += len(z.Raw())
		switch tt {
		case html.ErrorToken:
			if end < 0 {
				return nil, false // no such form, or not closed: the DOM says which
			}
			return body[start:end], true
		case html.EndTagToken:
			if end >= 0 {
				continue
			}
			name, _ := z.TagName()
			tag := string(name)
			switch {
			case start < 0:
				if formattingTags[tag] && formatting[tag] > 0 {
					formatting[tag]--
				}
				if len(outer) > 0 && outer[len(outer)-1] == tag {
					outer = outer[:len(outer)-1]
				} else {
					for _, o := range outer {
						outerBroken = outerBroken || o == tag // closed out of order: the tree builder decides
					}
				}
				continue
			case len(stack) > 0 && stack[len(stack)-1] == tag:
				stack = stack[:len(stack)-1]
			case tag == "form" && len(stack) == 0:
				end = off
			default:
				return nil, false // an implied or misnested end: the tree builder decides
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, more := z.TagName()
			tag := string(name)
			attrs = attrs[:0]
			if more && (mayHaveFormAttr(z.Raw()) || (start < 0 && (sel.tag == "" || sel.tag == "*" || sel.tag == tag))) {
				for more {
					var k, v []byte
					k, v, more = z.TagAttr()
					if string(k) == "form" {
						return nil, false // a control owned from elsewhere
					}
					attrs = append(attrs, rawAttr{k, v})
				}
			}
			switch {
			case tag == "base" || tag == "frameset" || tag == "svg" || tag == "math" || tag == "template":
				return nil, false
			case end >= 0:
				continue // after the form: only looking for <base> and form=
			case start < 0 && (bailTags[tag] || tag == "fieldset"):
				return nil, false // the form would be built in another context
			case start < 0:
				if sel.matches(name, attrs) {
					if tag != "form" {
						return nil, false // the DOM path says what is wrong
					}
					for _, n := range formatting {
						if n > 0 {
							return nil, false
						}
					}
					if outerBroken {
						return nil, false
					}
					for _, o := range outer {
						if !safeOuter[o] {
							return nil, false // a tag inside the form could close it (button, li…)
						}
					}
					start = at
				} else {
					if formattingTags[tag] {
						formatting[tag]++
					}
					if !voidTags[tag] {
						outer = append(outer, tag)
					}
				}
			case tag == "form":
				return nil, false // a nested form tag is dropped
			case !voidTags[tag]:
				stack = append(stack, tag) // "<div/>" opens a div too
			}
		}
	}
}
