package loadtest

import "testing"

func TestRedactHeaders(t *testing.T) {
	tests := []struct{ in, want string }{
		{"GET / HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer abc\r\nCookie: sid=1; b=2\r\n\r\nbody Cookie: kept",
			"GET / HTTP/1.1\r\nHost: h\r\nAuthorization: [redacted]\r\nCookie: [redacted]\r\n\r\nbody Cookie: kept"},
		{"HTTP/1.1 200 OK\r\nSet-Cookie: sid=secret; Path=/; HttpOnly\r\nX: y\r\n\r\n",
			"HTTP/1.1 200 OK\r\nSet-Cookie: sid=[redacted]; Path=/; HttpOnly\r\nX: y\r\n\r\n"},
		{"HTTP/1.1 200 OK\r\nproxy-authorization: Basic x\r\n\r\n", "HTTP/1.1 200 OK\r\nproxy-authorization: [redacted]\r\n\r\n"},
		{"HTTP/1.1 200 OK\r\nX-Cookie: fine\r\n\r\n", "HTTP/1.1 200 OK\r\nX-Cookie: fine\r\n\r\n"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := redactHeaders(tt.in); got != tt.want {
			t.Errorf("redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
