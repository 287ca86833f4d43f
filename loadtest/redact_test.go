package loadtest

import "testing"

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"GET / HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer abc\r\nCookie: sid=1; b=2\r\n\r\nbody Cookie: kept",
			"GET / HTTP/1.1\r\nHost: h\r\nAuthorization: [redacted]\r\nCookie: sid=[redacted]; b=[redacted]\r\n\r\nbody Cookie: kept"},
		{"HTTP/1.1 200 OK\r\nSet-Cookie: sid=secret; Path=/; HttpOnly\r\nX: y\r\n\r\n",
			"HTTP/1.1 200 OK\r\nSet-Cookie: sid=[redacted]; Path=/; HttpOnly\r\nX: y\r\n\r\n"},
		{"HTTP/1.1 200 OK\r\nproxy-authorization: Basic x\r\n\r\n", "HTTP/1.1 200 OK\r\nproxy-authorization: [redacted]\r\n\r\n"},
		{"HTTP/1.1 200 OK\r\nX-Cookie: fine\r\n\r\n", "HTTP/1.1 200 OK\r\nX-Cookie: fine\r\n\r\n"},
		{"GET / HTTP/1.1\r\nX-Api-Key: k1\r\nX-Auth-Token: t1\r\nX-Author: me\r\n\r\n",
			"GET / HTTP/1.1\r\nX-Api-Key: [redacted]\r\nX-Auth-Token: [redacted]\r\nX-Author: me\r\n\r\n"},
		{"GET /login?user=alice&password=hunter2&next=/ HTTP/1.1\r\nHost: h\r\n\r\n",
			"GET /login?user=alice&password=%5Bredacted%5D&next=/ HTTP/1.1\r\nHost: h\r\n\r\n"},
		{"POST /login HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\ncsrf_token=abc&user=alice&passwd=x%26y",
			"POST /login HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\ncsrf_token=%5Bredacted%5D&user=alice&passwd=%5Bredacted%5D"},
		{"POST /api HTTP/1.1\r\nContent-Type: application/json\r\n\r\n{\"user\": \"alice\", \"password\": \"p\\\"w\", \"apiKey\": 42, \"nested\": {\"client_secret\": null}}",
			"POST /api HTTP/1.1\r\nContent-Type: application/json\r\n\r\n{\"user\": \"alice\", \"password\": \"[redacted]\", \"apiKey\": \"[redacted]\", \"nested\": {\"client_secret\": \"[redacted]\"}}"},
		{"POST /x HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\npin=1234", // extended by the plan
			"POST /x HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\npin=%5Bredacted%5D"},
		{"", ""},
	}
	rd := newRedactor([]string{"pin"})
	for _, tt := range tests {
		if got := rd.head(tt.in); got != tt.want {
			t.Errorf("redact(%q)\n = %q\nwant %q", tt.in, got, tt.want)
		}
	}
}
