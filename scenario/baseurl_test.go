package scenario_test

import (
	"errors"
	"net/url"
	"strings"
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
		{"http://h//v1", "/x", "http://h//v1/x"}, // not host v1
		{"http://h/", "//", "http://h/"},
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

// FuzzJoinURL: a relative step URL without dot segments always lands
// under the base's host and path; nothing panics.
func FuzzJoinURL(f *testing.F) {
	for _, s := range [][2]string{{"http://h/v1", "/orders"}, {"https://h:1/a/b/", "c?d=e#f"}, {"http://h", ""}, {"http://h/v%2F1", "x%20y"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, rawBase, rawRef string) {
		base, err := url.Parse(rawBase)
		if err != nil || !base.IsAbs() || base.Host == "" || base.Opaque != "" {
			return
		}
		ref, err := url.Parse(rawRef)
		if err != nil {
			return
		}
		got := scenario.JoinURL(base, ref)
		if ref.IsAbs() {
			if got != ref {
				t.Fatalf("absolute %q changed to %q", rawRef, got)
			}
			return
		}
		if ref.Host != "" || ref.Opaque != "" || strings.Contains(ref.EscapedPath(), ".") || strings.Contains(base.EscapedPath(), ".") {
			return
		}
		if got.Scheme != base.Scheme || got.Host != base.Host {
			t.Fatalf("JoinURL(%q, %q) = %q: left the base's origin", rawBase, rawRef, got)
		}
		if prefix := strings.TrimRight(base.EscapedPath(), "/"); !strings.HasPrefix(got.EscapedPath(), prefix) {
			t.Fatalf("JoinURL(%q, %q) = %q: lost the base's path %q", rawBase, rawRef, got, prefix)
		}
		if got.RawQuery != ref.RawQuery {
			t.Fatalf("JoinURL(%q, %q) = %q: query %q, want the step's %q", rawBase, rawRef, got, got.RawQuery, ref.RawQuery)
		}
	})
}

// TestRunBaseURL: a run's base URL has the plan's name (BaseURL) in its
// setter and in the error that refuses it; the deprecated Base still
// sets it.
func TestRunBaseURL(t *testing.T) {
	for name, set := range map[string]func(*scenario.RunDef, string) *scenario.RunDef{
		"BaseURL": (*scenario.RunDef).BaseURL,
		"Base":    (*scenario.RunDef).Base,
	} {
		spec, err := set(scenario.Run("r", scenario.Get("/a")), "http://h/v1").Resolve(0, scenario.Defaults{Repeat: 1, BaseURL: "http://other/"})
		if err != nil || spec.Base == nil || spec.Base.String() != "http://h/v1" {
			t.Errorf("%s: base %v, error %v; want http://h/v1 over the plan's", name, spec.Base, err)
		}
		_, err = set(scenario.Run("r", scenario.Get("/a")), "http://h/v1?k=1").Resolve(0, scenario.Defaults{Repeat: 1})
		var ve *scenario.ValidationError
		if !errors.As(err, &ve) || ve.Field != "BaseURL" || ve.Value != "http://h/v1?k=1" {
			t.Errorf("%s: error %v, want one naming the field BaseURL and the value", name, err)
		}
	}
}
