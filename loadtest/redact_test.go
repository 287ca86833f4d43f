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
		// keep level 3: multipart and text/plain forms, JSON arrays and objects under secret names
		{"POST /f HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=XyZ\r\n\r\n--XyZ\r\nContent-Disposition: form-data; name=\"user\"\r\n\r\nalice\r\n--XyZ\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\nhunter2\r\n--XyZ--\r\n",
			"POST /f HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=XyZ\r\n\r\n--XyZ\r\nContent-Disposition: form-data; name=\"user\"\r\n\r\nalice\r\n--XyZ\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\n[redacted]\r\n--XyZ--\r\n"},
		{"POST /f HTTP/1.1\r\nContent-Type: text/plain\r\n\r\nuser=alice\r\npassword=hunter2\r\n",
			"POST /f HTTP/1.1\r\nContent-Type: text/plain\r\n\r\nuser=alice\r\npassword=[redacted]\r\n"},
		{"POST /api HTTP/1.1\r\nContent-Type: application/json\r\n\r\n{\"tokens\": [\"t1\", {\"x\": \"]t2\"}], \"secret\": {\"a\": [1, 2], \"b\": \"}s3\"}, \"user\": \"alice\"}",
			"POST /api HTTP/1.1\r\nContent-Type: application/json\r\n\r\n{\"tokens\": \"[redacted]\", \"secret\": \"[redacted]\", \"user\": \"alice\"}"},
		{"POST /api HTTP/1.1\r\nContent-Type: application/json\r\n\r\n{\"user\": \"a\", \"session\": {\"id\": \"cut here", // a cut body
			"POST /api HTTP/1.1\r\nContent-Type: application/json\r\n\r\n{\"user\": \"a\", \"session\": \"[redacted]\""},
		// a response's Location
		{"HTTP/1.1 302 Found\r\nLocation: http://u:pw@host:70000/x?access_token=abc&n=1\r\n\r\n",
			"HTTP/1.1 302 Found\r\nLocation: http://u:xxxxx@host:70000/x?access_token=%5Bredacted%5D&n=1\r\n\r\n"},
		{"", ""},
	}
	rd := newRedactor([]string{"pin"})
	for _, tt := range tests {
		if got := rd.head(tt.in); got != tt.want {
			t.Errorf("redact(%q)\n = %q\nwant %q", tt.in, got, tt.want)
		}
	}
}
