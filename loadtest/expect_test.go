package loadtest_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/benchgate/benchgate/engine"
	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

const expectPage = `<html><body><h1 id="user">
  alice  </h1><a class="item" data-id="17">x</a><a class="item" data-id="18">y</a>` + "\x1b[31m" + `</body></html>`

const expectJSONBody = `{"id": 1234567890123456789, "price": 1e3, "items": [{"n": "a"}, {"n": "b"}], "meta.v": {"x": true}, "s": "text"}`

func expectServer(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/json":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, expectJSONBody)
		case "/missing":
			w.WriteHeader(404)
			io.WriteString(w, "not here")
		case "/unauthorized":
			w.WriteHeader(401)
		default:
			w.Header().Set("X-Version", "2.4.1")
			io.WriteString(w, expectPage+strings.Repeat("pad ", 100))
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestExpectations: each expectation passes when it should and fails with
// a reason naming what was expected and an escaped, bounded excerpt.
func TestExpectations(t *testing.T) {
	srv := expectServer(t)
	tests := []struct {
		name string
		step *scenario.Step
		fail string // in the reason; "" when the response is good
	}{
		{"status 2xx by default", scenario.Get("/"), ""},
		{"404 fails by default", scenario.Get("/missing"), "status 404, expected 2xx or 3xx"},
		{"401 fails by default", scenario.Get("/unauthorized"), "status 401, expected 2xx or 3xx"},
		{"AnyStatus", scenario.Get("/missing").AnyStatus(), ""},
		{"ExpectStatus", scenario.Get("/missing").ExpectStatus(404), ""},
		{"body contains", scenario.Get("/").ExpectBodyContains("alice"), ""},
		{"body contains a variable", scenario.Get("/").ExpectBodyContains("{{who}}"), ""},
		{"body lacks", scenario.Get("/").ExpectBodyContains("bob"), `body does not contain "bob"; body "<html><body><h1 id=\"user\">\n  alice`},
		{"excerpt is bounded and escaped", scenario.Get("/").ExpectBodyContains("bob"), `\x1b[31m`},
		{"excerpt says the length", scenario.Get("/").ExpectBodyContains("bob"), `… (528 bytes)`},
		{"body matches", scenario.Get("/").ExpectBodyMatches(`data-id="\d+"`), ""},
		{"body does not match", scenario.Get("/").ExpectBodyMatches(`^\{`), `body does not match "^\\{"`},
		{"header equals", scenario.Get("/").ExpectHeader("X-Version", "2.4.1"), ""},
		{"header matches", scenario.Get("/").ExpectHeader("x-version", regexp.MustCompile(`^2\.`)), ""},
		{"header differs", scenario.Get("/").ExpectHeader("X-Version", "3"), `ExpectHeader("X-Version", "3"): header X-Version is "2.4.1"`},
		{"header missing", scenario.Get("/").ExpectHeader("X-Nope", "1"), `no X-Nope header`},
		{"CSS text, trimmed", scenario.Get("/").ExpectCSS("#user", "alice"), ""},
		{"CSS text differs", scenario.Get("/").ExpectCSS("#user", "bob"), `ExpectCSS("#user", "bob"): want "bob", got "alice"`},
		{"CSS no match", scenario.Get("/").ExpectCSS("#nope", "x"), `no element matches`},
		{"CSS attribute", scenario.Get("/").ExpectCSSAttr("a.item", "data-id", "17"), ""},
		{"CSS attribute differs", scenario.Get("/").ExpectCSSAttr("a.item", "data-id", "99"), `want "99", got "17"`},
		{"CSS count", scenario.Get("/").ExpectCSSCount("a.item", 2), ""},
		{"CSS count differs", scenario.Get("/").ExpectCSSCount("a.item", 3), `2 elements match`},
		{"JSON exact big number", scenario.Get("/json").ExpectJSON("id", "1234567890123456789"), ""},
		{"JSON number text kept", scenario.Get("/json").ExpectJSON("price", "1e3"), ""},
		{"JSON array index", scenario.Get("/json").ExpectJSON("items.1.n", "b"), ""},
		{"JSON last item", scenario.Get("/json").ExpectJSON("items.-1.n", "b"), ""},
		{"JSON escaped dot", scenario.Get("/json").ExpectJSON(`meta\.v.x`, "true"), ""},
		{"JSON object", scenario.Get("/json").ExpectJSON("items.0", `{"n":"a"}`), ""},
		{"JSON differs", scenario.Get("/json").ExpectJSON("s", "other"), `ExpectJSON("s", "other"): want "other", got "text"`},
		{"JSON missing field", scenario.Get("/json").ExpectJSON("nope", "1"), `the document has no field "nope"`},
		{"JSON index out of range", scenario.Get("/json").ExpectJSON("items.5.n", "1"), `items: index 5 out of range (2 items)`},
		{"JSON on HTML", scenario.Get("/").ExpectJSON("a", "1"), `body is not JSON`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			run := scenario.Run("r", tc.step).Vars(scenario.Vars{"who": "alice"})
			report := execute(t, loadtest.Runs(run), loadtest.BaseURL(srv.URL))
			st := report.Runs[0].Steps[0]
			if tc.fail == "" {
				if st.Good != 1 {
					t.Fatalf("failed: %v", st.Failures)
				}
				return
			}
			if st.Failed != 1 {
				t.Fatalf("want a failure saying %q; good %d", tc.fail, st.Good)
			}
			for reason := range st.Failures {
				if !strings.Contains(reason, tc.fail) {
					t.Errorf("reason %q\ndoes not say %q", reason, tc.fail)
				}
				if len(reason) > 400 {
					t.Errorf("reason of %d bytes", len(reason))
				}
			}
		})
	}
}

// TestJSONExtractionIsExact: a 19-digit id extracted and sent again keeps
// every digit.
func TestJSONExtractionIsExact(t *testing.T) {
	srv := expectServer(t)
	var got string
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.URL.Query().Get("id") }))
	t.Cleanup(echo.Close)
	run := scenario.Run("r",
		scenario.Get(srv.URL+"/json").Extract("id", scenario.JSON("id")),
		scenario.Get(echo.URL+"/?id={{id}}"))
	report := execute(t, loadtest.Runs(run))
	if report.GoodResponses != 2 || got != "1234567890123456789" {
		t.Fatalf("sent id %q (good %d)", got, report.GoodResponses)
	}
}

// TestBadExpectationsAreValidationErrors: a broken expectation is refused
// before anything is sent.
func TestBadExpectationsAreValidationErrors(t *testing.T) {
	for _, tc := range []struct {
		step *scenario.Step
		want string
	}{
		{scenario.Get("/").ExpectBodyMatches("("), "ExpectBodyMatches"},
		{scenario.Get("/").ExpectHeader("X", 42), "want a string or a *regexp.Regexp, got int"},
		{scenario.Get("/").ExpectHeader("X Y", "1"), "not a token"},
		{scenario.Get("/").ExpectCSS("a[", "x"), "invalid CSS selector"},
		{scenario.Get("/").ExpectJSON("a..b", "x"), "empty key"},
		{scenario.Get("/").ExpectStatus(200).AnyStatus(), "not both"},
		{scenario.Get("/").ExpectStatus(700), "not an HTTP status code"},
	} {
		err := loadtest.New(loadtest.Runs(scenario.Run("r", tc.step)), loadtest.BaseURL("http://127.0.0.1:1")).Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("err %v, want %q", err, tc.want)
		}
	}
}

// TestSamplesAtKeepLevelZero: each failure reason keeps one sample (method,
// URL, status, the start of the body) whatever the keep level, and %v
// prints a readable summary that says when a step has no good response.
func TestSamplesAtKeepLevelZero(t *testing.T) {
	srv := expectServer(t)
	run := scenario.Run("r", scenario.Get("/"), scenario.Get("/missing")).Repeat(3).KeepLevel(scenario.KeepTotals)
	report := execute(t, loadtest.Runs(run), loadtest.BaseURL(srv.URL))
	st := report.Run("r").Step(1)
	if len(st.Samples) != 1 {
		t.Fatalf("samples %v", st.Samples)
	}
	for reason, smp := range st.Samples {
		if smp.Method != "GET" || smp.Status != 404 || smp.Body != "not here" || !strings.HasSuffix(smp.URL, "/missing") {
			t.Errorf("sample of %q: %+v", reason, smp)
		}
	}
	text := fmt.Sprintf("%v", report.Run("r"))
	if !strings.Contains(text, `step 2 "GET /missing": 3 sent, 0 good, 3 failed; statuses 404×3; no good response`) {
		t.Errorf("%%v of the run:\n%s", text)
	}
	if !strings.Contains(fmt.Sprint(report), "(no good response)") {
		t.Errorf("%%v of the report:\n%v", report)
	}
}

// TestFormSubmission: Submit sends the browser's request: a multipart
// upload with Attach, the submitter's formaction and formmethod with
// Click, and a clear error for a field the form does not have.
func TestFormSubmission(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/form":
			io.WriteString(w, `<form id="up" method="post" action="/upload" enctype="multipart/form-data">
				<input type="hidden" name="csrf" value="t"><input type="file" name="doc"><textarea name="note">a
b</textarea><button name="go" value="save">Save</button><button name="go" value="publish" formaction="/publish" formmethod="get">Publish</button></form>`)
		case "/upload":
			if err := r.ParseMultipartForm(1 << 20); err != nil {
				w.WriteHeader(400)
				return
			}
			f, h, err := r.FormFile("doc")
			if err != nil {
				w.WriteHeader(400)
				return
			}
			content, _ := io.ReadAll(f)
			got = append(got, fmt.Sprintf("upload csrf=%s note=%q go=%s file=%s:%s", r.FormValue("csrf"), r.FormValue("note"), r.FormValue("go"), h.Filename, content))
		case "/publish":
			got = append(got, r.Method+" publish "+r.URL.RawQuery)
		}
	}))
	t.Cleanup(srv.Close)
	run := scenario.Run("forms",
		scenario.Get("/form"),
		scenario.Submit(scenario.FormFrom("#up").Attach("doc", "report.csv", []byte("a,b\n1,2"))),
		scenario.Get("/form"),
		scenario.Submit(scenario.FormFrom("#up").Click("[value=publish]").Set("note", "x y")),
	)
	report := execute(t, loadtest.Runs(run), loadtest.BaseURL(srv.URL))
	if report.ResponsesFailed != 0 || report.RequestsNotSent != 0 {
		t.Fatalf("%v", report)
	}
	want := []string{`upload csrf=t note="a\r\nb" go=save file=report.csv:a,b` + "\n1,2", "GET publish csrf=t&doc=&note=x+y&go=publish"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("server got\n%q\nwant\n%q", got, want)
	}

	bad := scenario.Run("typo", scenario.Get("/form"), scenario.Submit(scenario.FormFrom("#up").Set("nots", "x")))
	report = execute(t, loadtest.Runs(bad), loadtest.BaseURL(srv.URL))
	for reason := range report.Run("typo").Step(1).Unsent {
		if !strings.Contains(reason, `Set("nots"): the form has no such field (its fields: csrf, doc, note)`) {
			t.Errorf("reason %q", reason)
		}
	}
	if report.Run("typo").Step(1).NotSent != 1 {
		t.Errorf("a misspelt field was sent: %v", report)
	}
}

// TestExpectationVarsOnStaticSteps: a static request whose expectation
// reads {{iteration}} sees the iteration's number, on every executor.
func TestExpectationVarsOnStaticSteps(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "you are number %d", n.Add(1)-1)
	}))
	t.Cleanup(srv.Close)
	for _, opt := range []loadtest.Option{loadtest.Concurrency(1), loadtest.VirtualUsers(engine.VUs{Max: 1, Rounds: 3})} {
		n.Store(0)
		run := scenario.Run("r", scenario.Get("/").ExpectBodyContains("number {{iteration}}")).Repeat(3)
		report := execute(t, loadtest.Runs(run), loadtest.BaseURL(srv.URL), opt)
		if report.GoodResponses != 3 || report.ResponsesFailed != 0 {
			t.Errorf("good %d failed %d: %v", report.GoodResponses, report.ResponsesFailed, report.Runs[0].Steps[0].Failures)
		}
	}
}
