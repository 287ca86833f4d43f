package scenario

import "testing"

func TestURLTemplateEscaping(t *testing.T) {
	vars := Vars{"v": "a b/c?d&e=f#g", "u": "http://h:1/p?q=1", "h": "example.com:8080"}
	tests := []struct{ tpl, want string }{
		{"/items/{{v}}", "/items/a%20b%2Fc%3Fd&e=f%23g"},
		{"items/{{v}}/x", "items/a%20b%2Fc%3Fd&e=f%23g/x"},
		{"/s?q={{v}}", "/s?q=a+b%2Fc%3Fd%26e%3Df%23g"},
		{"/s?a=1&{{v}}=2", "/s?a=1&a+b%2Fc%3Fd%26e%3Df%23g=2"},
		{"/s#{{v}}", "/s#a%20b%2Fc%3Fd&e=f%23g"},
		{"{{u}}", "http://h:1/p?q=1"},
		{"{{u}}&r=1", "http://h:1/p?q=1&r=1"},
		{"http://{{h}}/p/{{v}}", "http://example.com:8080/p/a%20b%2Fc%3Fd&e=f%23g"},
		{"//{{h}}/", "//example.com:8080/"},
		{"/s?{{v|raw}}", "/s?a b/c?d&e=f#g"},
		{"/p/{{ v | raw }}", "/p/a b/c?d&e=f#g"},
	}
	for _, tt := range tests {
		tpl, err := ParseTemplate(tt.tpl)
		if err != nil {
			t.Fatal(err)
		}
		got, err := tpl.forURL().ExpandString(vars)
		if err != nil {
			t.Fatal(err)
		}
		if got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.tpl, got, tt.want)
		}
		// Outside URLs a template never escapes.
		if plain, _ := tpl.ExpandString(vars); tt.tpl == "/items/{{v}}" && plain != "/items/a b/c?d&e=f#g" {
			t.Errorf("plain expansion escaped: %q", plain)
		}
	}
}
