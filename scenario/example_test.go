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
	// csrf=t0k3n&user=alice&password=secret
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
