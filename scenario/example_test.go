package scenario_test

import (
	"fmt"
	"net/url"

	"github.com/benchgate/benchgate/scenario"
)

// A form read from a page keeps its hidden fields; overrides fill the rest.
func ExampleFormFrom() {
	page := &scenario.Response{
		Status: 200,
		URL:    &url.URL{Scheme: "http", Host: "shop.test", Path: "/login"},
		Body: []byte(`<form id="login" method="post" action="/session">
			<input type="hidden" name="csrf" value="t0k3n">
			<input name="user"><input type="password" name="password">
			<input type="submit" name="go" value="Log in"></form>`),
	}
	form, err := scenario.FormFrom("#login").Set("user", "{{who}}").Set("password", "secret").
		Fill(page, scenario.Vars{"who": "alice"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(form.Method, form.Action)
	fmt.Println(form.Encode())
	// Output:
	// POST http://shop.test/session
	// csrf=t0k3n&user=alice&password=secret&go=Log+in
}

// Extractors read one value each from a response.
func ExampleCSS() {
	r := &scenario.Response{Body: []byte(`<a class="item" data-id="7">teapot</a>`)}
	id, _ := scenario.CSS("a.item").Attr("data-id").Extract(r)
	text, _ := scenario.CSS("a.item").Extract(r)
	fmt.Println(id, text)
	// Output: 7 teapot
}

// Templates refer to iteration variables as {{name}}.
func ExampleParseTemplate() {
	t, _ := scenario.ParseTemplate("/cart/{{item}}?qty={{qty}}")
	s, _ := t.ExpandString(scenario.Vars{"item": "7", "qty": "2"})
	_, err := t.ExpandString(scenario.Vars{"item": "7"})
	fmt.Println(s)
	fmt.Println(err)
	// Output:
	// /cart/7?qty=2
	// undefined variable "qty" in "/cart/{{item}}?qty={{qty}}"
}

// JSON paths index objects by name and arrays by number; numbers keep
// every digit.
func ExampleJSON() {
	r := &scenario.Response{Body: []byte(`{"order": {"id": 9007199254740993123, "lines": [{"sku": "tea"}, {"sku": "cup"}]}}`)}
	id, _ := scenario.JSON("order.id").Extract(r)
	last, _ := scenario.JSON("order.lines.-1.sku").Extract(r)
	_, err := scenario.JSON("order.total").Extract(r)
	fmt.Println(id, last)
	fmt.Println(err)
	// Output:
	// 9007199254740993123 cup
	// JSON("order.total"): order has no field "total"
}

// Each expectation checks one thing of a response and says what came
// when it fails.
func ExampleExpectation() {
	r := &scenario.Response{Status: 200, Header: map[string][]string{"X-Version": {"2.4"}},
		Body: []byte(`<h1 id="user"> alice </h1><a class="item">x</a><a class="item">y</a>`)}
	step := scenario.Get("/account").
		ExpectBodyContains("{{who}}").
		ExpectBodyMatches(`class="item"`).
		ExpectHeader("X-Version", "2.4").
		ExpectCSS("#user", "alice").
		ExpectCSSAttr("h1", "id", "user").
		ExpectCSSCount("a.item", 3).
		ExpectJSON("total", "1")
	for _, e := range step.Expectations() {
		reason := e.Check(r, scenario.Vars{"who": "alice"})
		if reason == "" {
			reason = "ok"
		}
		fmt.Printf("%s: %s\n", e, reason)
	}
	// Output:
	// ExpectBodyContains("{{who}}"): ok
	// ExpectBodyMatches("class=\"item\""): ok
	// ExpectHeader("X-Version", "2.4"): ok
	// ExpectCSS("#user", "alice"): ok
	// ExpectCSSAttr("h1", "id", "user"): ok
	// ExpectCSSCount("a.item", 3): ExpectCSSCount("a.item", 3): 2 elements match; body "<h1 id=\"user\"> alice </h1><a class=\"item\">x</a><a class=\"item\">y</a>"
	// ExpectJSON("total", "1"): ExpectJSON("total", "1"): body is not JSON; body "<h1 id=\"user\"> alice </h1><a class=\"item\">x</a><a class=\"item\">y</a>"
}

// A run is a sequence of steps repeated; Submit sends a form read from the
// previous page, hidden fields included.
func ExampleRun() {
	login := scenario.Run("login",
		scenario.Get("/login"),
		scenario.Submit(scenario.FormFrom("form#login").Set("user", "alice")).ExpectStatus(303),
		scenario.Get("/account").ExpectCSS("#user", "alice"),
	).Repeat(10).Order(scenario.DepthFirst)
	spec, err := login.Resolve(0, scenario.Defaults{BaseURL: "http://shop.test"})
	fmt.Println(err)
	for _, st := range spec.Steps {
		fmt.Println(st.Name)
	}
	fmt.Println(spec.Repeat, spec.Order)
	// Output:
	// <nil>
	// GET /login
	// submit form#login
	// GET /account
	// 10 depth-first
}
