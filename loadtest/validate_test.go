package loadtest_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

func TestInvalidPlansSendNothing(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer srv.Close()
	ok := func() *scenario.RunDef { return scenario.Run("ok", scenario.Get(srv.URL+"/")) }
	one := func(steps ...*scenario.Step) []loadtest.Option {
		return []loadtest.Option{loadtest.Runs(ok(), scenario.Run("bad", steps...))}
	}
	run := func(r *scenario.RunDef) []loadtest.Option { return []loadtest.Option{loadtest.Runs(ok(), r)} }
	tests := []struct {
		name  string
		opts  []loadtest.Option
		field string
		value string
	}{
		{"no runs", nil, "Runs", "[]"},
		{"zero concurrency", []loadtest.Option{loadtest.Runs(ok()), loadtest.Concurrency(0)}, "Concurrency", "0"},
		{"negative concurrency", []loadtest.Option{loadtest.Runs(ok()), loadtest.Concurrency(-3)}, "Concurrency", "-3"},
		{"zero repeat", []loadtest.Option{loadtest.Runs(ok()), loadtest.Repeat(0)}, "Repeat", "0"},
		{"negative time limit", []loadtest.Option{loadtest.Runs(ok()), loadtest.TimeLimit(-time.Second)}, "TimeLimit", "-1s"},
		{"negative buffer", []loadtest.Option{loadtest.Runs(ok()), loadtest.BufferBytes(-1)}, "BufferBytes", "-1"},
		{"keep level 4", []loadtest.Option{loadtest.Runs(ok()), loadtest.KeepLevel(4)}, "KeepLevel", "4"},
		{"shard index beyond count", []loadtest.Option{loadtest.Runs(ok()), loadtest.Shard(2, 2)}, "Shard", "(2, 2)"},
		{"negative shard", []loadtest.Option{loadtest.Runs(ok()), loadtest.Shard(-1, 2)}, "Shard", "(-1, 2)"},
		{"shard of no count", []loadtest.Option{loadtest.Runs(ok()), loadtest.Shard(0, 0)}, "Shard", "(0, 0)"},
		{"keep level -1", []loadtest.Option{loadtest.Runs(ok()), loadtest.KeepLevel(-1)}, "KeepLevel", "-1"},
		{"bad priority", []loadtest.Option{loadtest.Runs(ok()), loadtest.WithPriority(7)}, "Priority", "7"},
		{"tiny header limit", []loadtest.Option{loadtest.Runs(ok()), loadtest.MaxHeaderBytes(10)}, "MaxHeaderBytes", "10"},
		{"user agent line break", []loadtest.Option{loadtest.Runs(ok()), loadtest.UserAgent("a\r\nX: y")}, "UserAgent", "a\r\nX: y"},
		{"proxy scheme", []loadtest.Option{loadtest.Runs(ok()), loadtest.Proxy("socks5://p:1")}, "Proxy", "socks5://p:1"},
		{"bad base URL", []loadtest.Option{loadtest.Runs(scenario.Run("r", scenario.Get("/"))), loadtest.BaseURL("ftp://x")}, "BaseURL", "ftp://x"},
		{"nil run", []loadtest.Option{loadtest.Runs(ok(), nil)}, "Runs[1]", "nil"},
		{"empty run", run(scenario.Run("bad")), "Steps", "[]"},
		{"run repeat negative", run(scenario.Run("bad", scenario.Get(srv.URL)).Repeat(-2)), "Repeat", "-2"},
		{"run keep level", run(scenario.Run("bad", scenario.Get(srv.URL)).KeepLevel(9)), "KeepLevel", "9"},
		{"run buffer", run(scenario.Run("bad", scenario.Get(srv.URL)).BufferBytes(-5)), "BufferBytes", "-5"},
		{"run order", run(scenario.Run("bad", scenario.Get(srv.URL)).Order(5)), "Order", "5"},
		{"cookies length", run(scenario.Run("bad", scenario.Get(srv.URL)).Repeat(3).Cookies("a=1", "b=2")), "Cookies", "2 cookies"},
		{"cookie line break", run(scenario.Run("bad", scenario.Get(srv.URL)).Cookies("a=1\r\nX: y")), "Cookies[0]", "a=1\r\nX: y"},
		{"relative URL without base", one(scenario.Get("/path")), "URL", "/path"},
		{"unsupported scheme", one(scenario.Get("ftp://host/file")), "URL", "ftp://host/file"},
		{"malformed URL", one(scenario.Get("http://[::1")), "URL", "http://[::1"},
		{"no host", one(scenario.Get("http:///path")), "URL", "http:///path"},
		{"unclosed template", one(scenario.Get(srv.URL + "/{{id")), "URL", srv.URL + "/{{id"},
		{"bad variable name", one(scenario.Get(srv.URL + "/{{a b}}")), "URL", srv.URL + "/{{a b}}"},
		{"bad method", one(scenario.Request("GE T", srv.URL)), "Method", "GE T"},
		{"empty header name", one(scenario.Get(srv.URL).Header("", "v")), "Header", ""},
		{"header name with colon", one(scenario.Get(srv.URL).Header("X:Y", "v")), "Header", "X:Y"},
		{"header value line break", one(scenario.Get(srv.URL).Header("X", "a\nb")), "Header X", "a\nb"},
		{"content type line break", one(scenario.Post(srv.URL, "x").ContentType("text/plain\r\nX: y")), "ContentType", "text/plain\r\nX: y"},
		{"negative step time limit", one(scenario.Get(srv.URL).TimeLimit(-time.Millisecond)), "TimeLimit", "-1ms"},
		{"bad body template", one(scenario.Post(srv.URL, "a={{")), "Body", ""},
		{"bad CSS selector", one(scenario.Get(srv.URL).Extract("x", scenario.CSS("a[[["))), "Extract x", `CSS("a[[[")`},
		{"bad regex", one(scenario.Get(srv.URL).Extract("x", scenario.Regex("a(("))), "Extract x", `Regex("a((")`},
		{"bad variable for extractor", one(scenario.Get(srv.URL).Extract("a b", scenario.Header("X"))), "Extract", "a b"},
		{"nil extractor", one(scenario.Get(srv.URL).Extract("x", nil)), "Extract x", "nil"},
		{"bad form selector", one(scenario.Get(srv.URL), scenario.Submit(scenario.FormFrom("form[[["))), "Form", "form[[["},
		{"form in first step", one(scenario.Submit(scenario.FormFrom("form"))), "Form", "form"},
		{"bad expected status", one(scenario.Get(srv.URL).ExpectStatus(42)), "ExpectStatus", "42"},
		{"nil step", one(nil), "Step", "nil"},
		{"submit without a form", one(scenario.Get(srv.URL), scenario.Submit(nil)), "Form", "nil"},
		{"bad form field template", one(scenario.PostForm(srv.URL, scenario.Field("a", "{{"))), "Body", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := loadtest.New(tt.opts...)
			verr := plan.Validate()
			report, err := plan.Execute(context.Background())
			if err == nil || verr == nil || report == nil || !report.DidNotRun() || report.Err != err || report.RequestsSent != 0 {
				t.Fatalf("Execute = %v, %v; Validate = %v; want an error and an empty report carrying it", report, err, verr)
			}
			var ve *scenario.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error %v holds no *ValidationError", err)
			}
			found := false
			for _, e := range unwrapAll(err) {
				if v, ok := e.(*scenario.ValidationError); ok && v.Field == tt.field && v.Value == tt.value {
					found = true
				}
			}
			if !found {
				t.Errorf("error %q does not name field %q with value %q", err, tt.field, tt.value)
			}
			if !strings.Contains(err.Error(), tt.field) {
				t.Errorf("message %q does not name the field", err)
			}
		})
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the server got %d requests from invalid plans", n)
	}
}

func unwrapAll(err error) []error {
	out := []error{err}
	switch e := err.(type) {
	case interface{ Unwrap() []error }:
		for _, x := range e.Unwrap() {
			out = append(out, unwrapAll(x)...)
		}
	case interface{ Unwrap() error }:
		if x := e.Unwrap(); x != nil {
			out = append(out, unwrapAll(x)...)
		}
	}
	return out
}

func TestValidationErrorNamesRunAndStep(t *testing.T) {
	plan := loadtest.New(loadtest.Runs(scenario.Run("checkout", scenario.Get("http://x/"), scenario.Get("gopher://x/"))))
	err := plan.Validate()
	want := `run "checkout": step 2: URL "gopher://x/": unsupported scheme "gopher" (want http or https)`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q, want it to contain %q", err, want)
	}
}

// TestConcurrencyBeyondOpenFiles: a concurrency the open-file limit
// cannot hold fails before sending, naming both numbers; one above the
// number of requests is capped.
func TestConcurrencyBeyondOpenFiles(t *testing.T) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skip(err)
	}
	if lim.Max > 1<<24 {
		t.Skipf("hard open-file limit %d: nothing to exceed", lim.Max)
	}
	conc := int(lim.Max) + 1000
	run := scenario.Run("r", scenario.Get("http://127.0.0.1:1/")).Repeat(conc)
	_, err := loadtest.New(loadtest.Runs(run), loadtest.Concurrency(conc)).Execute(context.Background())
	if err == nil || !strings.Contains(err.Error(), "Concurrency") || !strings.Contains(err.Error(), fmt.Sprint(lim.Max)) ||
		!strings.Contains(err.Error(), fmt.Sprint(conc+64)) {
		t.Fatalf("err %v", err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	report, err := loadtest.New(loadtest.Runs(scenario.Run("r", scenario.Get(srv.URL)).Repeat(3)), loadtest.Concurrency(10_000_000)).Execute(context.Background())
	if err != nil || report.Concurrency != 3 || report.GoodResponses != 3 {
		t.Fatalf("concurrency %d, good %d, %v", report.Concurrency, report.GoodResponses, err)
	}
}

// TestUndefinedVariables: every {{name}} must be defined by the run's
// Vars, iteration, or an extractor of an earlier step; Validate names
// run, step, field, the variable and what is defined.
func TestUndefinedVariables(t *testing.T) {
	login := func() *scenario.Step {
		return scenario.Get("/login").Extract("csrf", scenario.CSS("input").Attr("value"))
	}
	tests := []struct {
		name string
		run  *scenario.RunDef
		want string // "" when valid
	}{
		{"misspelt in the URL", scenario.Run("r", login(), scenario.Get("/x/{{csfr}}")),
			`run "r": step 2: URL "/x/{{csfr}}": undefined variable "csfr" (defined before this step: csrf, iteration)`},
		{"defined by a later step", scenario.Run("r", scenario.Get("/{{csrf}}"), login()),
			`step 1: URL "/{{csrf}}": undefined variable "csrf" (defined before this step: iteration)`},
		{"in a header", scenario.Run("r", login(), scenario.Get("/").Header("X-T", "{{token}}")), `step 2: Header X-T "{{token}}": undefined variable "token"`},
		{"in a body", scenario.Run("r", login(), scenario.Post("/", "a={{nope}}")), `step 2: Body "a={{nope}}": undefined variable "nope"`},
		{"in a form field", scenario.Run("r", login(), scenario.PostForm("/", scenario.Field("a", "{{nope}}"))), `step 2: Field a "{{nope}}": undefined variable "nope"`},
		{"in a form override", scenario.Run("r", login(), scenario.Submit(scenario.FormFrom("form").Set("user", "{{usr}}"))).Vars(scenario.Vars{"user": "alice"}),
			`step 2: Form field user "{{usr}}": undefined variable "usr" (defined before this step: csrf, iteration, user)`},
		{"in an expectation", scenario.Run("r", scenario.Get("/").ExpectBodyContains("hello {{who}}")), `step 1: Expect "ExpectBodyContains(\"hello {{who}}\")": undefined variable "who"`},
		{"in a cookie", scenario.Run("r", scenario.Get("/")).Cookies("sid={{sid}}"), `Cookies[0] "sid={{sid}}": undefined variable "sid"`},
		{"all defined", scenario.Run("r", login(), scenario.Get("/{{csrf}}/{{iteration}}/{{u}}").ExpectBodyContains("{{u}}")).Vars(scenario.Vars{"u": "1"}).Cookies("u={{u}}"), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := loadtest.New(loadtest.Runs(tc.run), loadtest.BaseURL("http://127.0.0.1:1")).Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatal(err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("err %v\nwant it to say %s", err, tc.want)
			}
		})
	}
}

// One malformed template does not hide the other fields' undefined
// variables: every error of every run comes in one go.
func TestValidationReportsEveryError(t *testing.T) {
	login := scenario.Run("login",
		scenario.Get("/a/{{unclosed").Header("X-User", "{{user}}"),
		scenario.Post("/b/{{token}}", "name={{name}}").Header("X-Bad", "{{ oops"),
		nil,
		scenario.Get("/c/{{missing}}"),
		scenario.Get("gopher://x/").Header("Bad Name", "v"),
	)
	cart := scenario.Run("cart",
		scenario.Get("/cart").Header("X-T", "{{cart"),
		scenario.Get("/items/{{item}}"),
	).Repeat(0)
	err := loadtest.New(loadtest.Runs(login, cart), loadtest.BaseURL("http://127.0.0.1:1"), loadtest.Repeat(1)).Validate()
	if err == nil {
		t.Fatal("invalid plan accepted")
	}
	for _, want := range []string{
		`run "login": step 1: URL "/a/{{unclosed": template "/a/{{unclosed": unclosed {{`,
		`run "login": step 1: Header X-User "{{user}}": undefined variable "user"`,
		`run "login": step 2: Header X-Bad "{{ oops": template "{{ oops": unclosed {{`,
		`run "login": step 2: URL "/b/{{token}}": undefined variable "token"`,
		`run "login": step 2: Body "name={{name}}": undefined variable "name"`,
		`run "login": step 3: Step "nil": step is nil`,
		`run "login": step 4: URL "/c/{{missing}}": undefined variable "missing"`,
		`run "login": step 5: Header "Bad Name": not a valid header name`,
		`run "login": step 5: URL "gopher://x/": unsupported scheme "gopher"`,
		`run "cart": step 1: Header X-T "{{cart": template "{{cart": unclosed {{`,
		`run "cart": step 2: URL "/items/{{item}}": undefined variable "item"`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
}
