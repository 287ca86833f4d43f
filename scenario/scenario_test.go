package scenario

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestParseTemplate(t *testing.T) {
	tests := []struct {
		src     string
		vars    Vars
		want    string
		wantErr string
	}{
		{src: "plain", want: "plain"},
		{src: "", want: ""},
		{src: "{{a}}", vars: Vars{"a": "1"}, want: "1"},
		{src: "x{{ a }}y{{b.c}}z", vars: Vars{"a": "1", "b.c": "2"}, want: "x1y2z"},
		{src: "{{a}}{{a}}", vars: Vars{"a": "<"}, want: "<<"},
		{src: "}} alone", want: "}} alone"},
		{src: "{{a", wantErr: "unclosed"},
		{src: "{{}}", wantErr: "invalid variable name"},
		{src: "{{a b}}", wantErr: "invalid variable name"},
		{src: "{{missing}}", vars: Vars{}, wantErr: `undefined variable "missing"`},
	}
	for _, tt := range tests {
		tpl, err := ParseTemplate(tt.src)
		if err == nil {
			var s string
			s, err = tpl.ExpandString(tt.vars)
			if err == nil && s != tt.want {
				t.Errorf("%q: got %q, want %q", tt.src, s, tt.want)
			}
		}
		if (err != nil) != (tt.wantErr != "") || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%q: err %v, want %q", tt.src, err, tt.wantErr)
		}
	}
}

func FuzzParseTemplate(f *testing.F) {
	f.Add("a{{b}}c")
	f.Add("{{")
	f.Add("{{x}}{{y")
	f.Fuzz(func(t *testing.T, src string) {
		tpl, err := ParseTemplate(src)
		if err != nil {
			return
		}
		vars := Vars{}
		for _, v := range tpl.Vars() {
			vars[v] = "V"
		}
		out, err := tpl.ExpandString(vars)
		if err != nil {
			t.Fatalf("%q: expand with every variable set: %v", src, err)
		}
		if tpl.Static() && out != src {
			t.Fatalf("static %q expanded to %q", src, out)
		}
	})
}

func TestFormFill(t *testing.T) {
	page := &Response{URL: &url.URL{Scheme: "https", Host: "h", Path: "/a/b"}, Body: []byte(`
<form id="f" action="next?x=1">
  <input type="hidden" name="csrf" value="tok">
  <input name="q" value="default">
  <input type="checkbox" name="c1" value="on1" checked>
  <input type="checkbox" name="c2" value="on2">
  <input type="radio" name="r" value="a"><input type="radio" name="r" value="b" checked>
  <input name="dis" value="no" disabled>
  <input type="submit" name="go" value="Go">
  <select name="s"><option value="1">one</option><option selected>two</option></select>
  <select name="s2"><option value="first">1</option></select>
  <textarea name="t">text here</textarea>
  <input name="multi" value="m1"><input name="multi" value="m2">
</form>`)}
	ff, err := FormFrom("#f").Set("q", "{{v}}").Add("extra", "e").Remove("t").Fill(page, Vars{"v": "set"})
	if err != nil {
		t.Fatal(err)
	}
	if ff.Method != "GET" || ff.Action.String() != "https://h/a/next?x=1" {
		t.Errorf("method %s action %s", ff.Method, ff.Action)
	}
	// the default button submits, at its place, as Enter does in a browser
	want := "csrf=tok&q=set&c1=on1&r=b&go=Go&s=two&s2=first&multi=m1&multi=m2&extra=e"
	if got := ff.Encode(); got != want {
		t.Errorf("encoded\n%s\nwant\n%s", got, want)
	}
	_, err = FormFrom("#f").Set("qq", "x").Fill(page, nil)
	if err == nil || !strings.Contains(err.Error(), `Set("qq"): the form has no such field (its fields: csrf, q, c1, c2, r, dis, s, s2, t, multi); Add adds one on purpose`) {
		t.Errorf("misspelt field: %v", err)
	}
	if _, err := FormFrom("#nope").Fill(page, nil); err == nil || !strings.Contains(err.Error(), "no form matches") {
		t.Errorf("missing form: %v", err)
	}
	if _, err := FormFrom("#f").Fill(nil, nil); err == nil {
		t.Error("nil response: no error")
	}
}

func TestExtractors(t *testing.T) {
	r := &Response{Status: 200, Header: http.Header{"X-Id": {"42"}, "Set-Cookie": {`sid="abc"; Path=/`, "x=1"}},
		Body: []byte(`<p class="a">one <b>two</b></p><p class="a">three</p> {"not":"json"}`)}
	j := &Response{Body: []byte(`{"a":{"b":[{"c":"d"},{"n":1.5,"o":{"k":true}}]}}`)}
	tests := []struct {
		name    string
		x       Extractor
		r       *Response
		want    string
		wantErr string
	}{
		{"css text", CSS("p.a"), r, "one two", ""},
		{"css html", CSS("p.a").HTML(), r, "one <b>two</b>", ""},
		{"css attr missing", CSS("p.a").Attr("id"), r, "", `no attribute "id"`},
		{"css no match", CSS("div"), r, "", "no element matches"},
		{"regex group", Regex(`class="(\w)"`), r, "a", ""},
		{"regex whole", Regex(`t\w+e`), r, "three", ""},
		{"regex none", Regex(`zzz`), r, "", "no match"},
		{"header", Header("x-id"), r, "42", ""},
		{"header missing", Header("X-None"), r, "", "not in response"},
		{"cookie quoted", Cookie("sid"), r, "abc", ""},
		{"cookie missing", Cookie("zz"), r, "", "not set"},
		{"json string", JSON("a.b.0.c"), j, "d", ""},
		{"json number", JSON("a.b.1.n"), j, "1.5", ""},
		{"json object", JSON("a.b.1.o"), j, `{"k":true}`, ""},
		{"json index out of range", JSON("a.b.5"), j, "", "out of range"},
		{"json missing field", JSON("a.zz"), j, "", `no field "zz"`},
		{"json not json", JSON("a"), r, "", "body"},
		{"nil response", Header("x"), nil, "", "no previous response"},
	}
	for _, tt := range tests {
		got, err := tt.x.Extract(tt.r)
		if got != tt.want || (err != nil) != (tt.wantErr != "") || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: got %q, %v; want %q, %q", tt.name, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestStepNames(t *testing.T) {
	for step, want := range map[*Step]string{
		Get("/a"):                       "GET /a",
		Head("/h"):                      "HEAD /h",
		Post("/p", "x"):                 "POST /p",
		Request("PATCH", "/x"):          "PATCH /x",
		Submit(FormFrom("#login")):      "submit #login",
		Get("/a").Named("home page"):    "home page",
		PostForm("/f", Field("a", "b")): "POST /f",
	} {
		if got := step.Name(); got != want {
			t.Errorf("name %q, want %q", got, want)
		}
	}
}

// FuzzExtract runs every kind of extractor and the form reader over
// arbitrary bodies and selectors: an error or a value, never a panic.
func FuzzExtract(f *testing.F) {
	f.Add([]byte(`<form id="f" action="/x"><input name="a" value="1"><select name="s"><option>o</option></select></form>`), "#f", `a(.)`, "a.0.b")
	f.Add([]byte(`{"a":[{"b":"c"}]}`), "p > a[href]", `"b":"(\w+)"`, "a.0.b")
	f.Add([]byte("\x00<<<>>>"), "*", `(`, "")
	f.Fuzz(func(t *testing.T, body []byte, selector, pattern, path string) {
		r := &Response{Status: 200, Body: body, Header: http.Header{"Set-Cookie": {string(body)}, "X": {selector}},
			URL: &url.URL{Scheme: "http", Host: "h", Path: "/p"}}
		for _, x := range []Extractor{CSS(selector), CSS(selector).Attr("value"), CSS(selector).HTML(),
			Regex(pattern), JSON(path), Header("X"), Cookie(selector)} {
			x.Extract(r)
		}
		if ff, err := FormFrom(selector).Set("a", "{{v}}").Fill(r, Vars{"v": pattern}); err == nil {
			ff.Encode()
		}
		ParseSetCookie(string(body))
	})
}

func TestRedactText(t *testing.T) {
	tests := []struct{ in, want string }{
		{`redirect to "http://u:pw@host:70000/x?access_token=abc": parse "http://u:pw@host:70000/x?access_token=abc": invalid port ":70000" after host`,
			`redirect to "http://u:xxxxx@host:70000/x?access_token=%5Bredacted%5D": parse "http://u:xxxxx@host:70000/x?access_token=%5Bredacted%5D": invalid port ":70000" after host`},
		{`redirect to "javascript:alert(1)?token=t0k&a=1": unsupported scheme`, `redirect to "javascript:alert(1)?token=%5Bredacted%5D&a=1": unsupported scheme`},
		{`redirect limit 1 reached (next Location "/c3?x=1&Pass_Word=p\"w#f")`, `redirect limit 1 reached (next Location "/c3?x=1&Pass_Word=%5Bredacted%5D#f")`},
		{`http://a:p@ss@h/`, `http://a:xxxxx@h/`},
		{`http://user@h/?q=1`, `http://user@h/?q=1`},
		{`body {"tokens": ["a", "b"], "n": 1}`, `body {"tokens": "[redacted]", "n": 1}`},
		{`session_id=abc; path=/`, `session_id=%5Bredacted%5D; path=/`},
		{`status 500, expected 2xx`, `status 500, expected 2xx`},
		{`x=1&pin=9`, `x=1&pin=%5Bredacted%5D`},
	}
	for _, tt := range tests {
		if got := RedactText(tt.in, "pin"); got != tt.want {
			t.Errorf("RedactText(%q)\n = %q\nwant %q", tt.in, got, tt.want)
		}
	}
}

// FuzzRedactText: any text redacts without a panic, and a secret-named
// value put in a query, a form line or a JSON member is gone after.
func FuzzRedactText(f *testing.F) {
	f.Add("redirect to \"http://u:pw@h:70000/?access_token=abc\"", "s3cr3tvalue")
	f.Add(`{"tokens": ["a", {"b": "]"}], "n": 1}`, "zzzzzzzz")
	f.Fuzz(func(t *testing.T, text, secret string) {
		_ = RedactText(text)
		_ = RedactJSON(text)
		if len(secret) < 8 || strings.Trim(secret, "abcdefghijklmnopqrstuvwxyz0123456789") != "" || strings.ContainsAny(text, `"\`) {
			// the property holds for JSON after text without quotes; quotes
			// before it (not JSON, not %q) can hide a member's name
			return
		}
		for _, s := range []string{text + " /x?token=" + secret + "&a=1", text + `{"password": "` + secret + `"}`, `{"secret": [` + `"` + secret + `"]} ` + text} {
			if got := RedactText(s); strings.Contains(got, secret) && !strings.Contains(text, secret) {
				t.Fatalf("RedactText(%q) = %q keeps the secret", s, got)
			}
		}
	})
}
