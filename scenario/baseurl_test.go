package scenario_test

import (
	"net/url"
	"testing"

	"github.com/benchgate/benchgate/scenario"
)

func TestJoinURL(t *testing.T) {
	for _, tc := range []struct{ base, ref, want string }{
		{"http://h/v1", "/orders", "http://h/v1/orders"},
		{"http://h/v1/", "/orders", "http://h/v1/orders"},
		{"http://h/v1", "orders", "http://h/v1/orders"},
		{"http://h/v1/", "orders/", "http://h/v1/orders/"},
		{"http://h/v1//", "//x.example/a", "http://x.example/a"},
		{"http://h", "/orders", "http://h/orders"},
		{"http://h/", "orders", "http://h/orders"},
		{"http://h", "", "http://h/"},
		{"http://h/v1", "", "http://h/v1"},
		{"http://h/v1", "?q=1", "http://h/v1?q=1"},
		{"http://h/v1", "/orders?q=a%20b&r=2", "http://h/v1/orders?q=a%20b&r=2"},
		{"http://h/v1", "/orders#top", "http://h/v1/orders#top"},
		{"http://h/v1", "/a%2Fb/c", "http://h/v1/a%2Fb/c"},
		{"http://h/v%201", "/x y", "http://h/v%201/x%20y"},
		{"http://h/v1/api", "../x", "http://h/v1/x"},
		{"http://h/v1", "https://other:8443/x?y", "https://other:8443/x?y"},
		{"https://h:8443/v1", "//other/x", "https://other/x"},
	} {
		base, _ := url.Parse(tc.base)
		ref, err := url.Parse(tc.ref)
		if err != nil {
			t.Fatal(err)
		}
		if got := scenario.JoinURL(base, ref).String(); got != tc.want {
			t.Errorf("JoinURL(%q, %q) = %q, want %q", tc.base, tc.ref, got, tc.want)
		}
	}
}

func TestBaseURLWithQueryRefused(t *testing.T) {
	for _, base := range []string{"http://h/v1?key=1", "http://h/v1#x", "http://h/v1?"} {
		_, err := scenario.Run("r", scenario.Get("/a")).Base(base).Resolve(0, scenario.Defaults{Repeat: 1})
		if err == nil {
			t.Errorf("base %q accepted", base)
		}
	}
}
