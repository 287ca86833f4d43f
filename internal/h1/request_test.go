package h1

import "testing"

func TestAppendRequestHead(t *testing.T) {
	tests := []struct {
		name string
		head RequestHead
		want string
	}{
		{
			name: "defaults, keep-alive 1.1",
			head: RequestHead{Method: "GET", RequestURI: "/a?b=1", KeepAlive: true, Host: "example.test:8080"},
			want: "GET /a?b=1 HTTP/1.1\r\nHost: example.test:8080\r\nAccept: */*\r\n",
		},
		{
			name: "1.1 close, every default",
			head: RequestHead{
				Method: "POST", RequestURI: "/f", Host: "h", UserAgent: "bg/1",
				AcceptEncoding: []string{"gzip", "br"}, Authorization: "Basic eDp5",
				ProxyAuthorization: "Basic cDpx", Body: true, BodyLen: 3, ContentType: "text/plain",
			},
			want: "POST /f HTTP/1.1\r\nHost: h\r\nUser-Agent: bg/1\r\nAccept: */*\r\nAccept-Encoding: gzip, br\r\n" +
				"Authorization: Basic eDp5\r\nConnection: close\r\nProxy-Authorization: Basic cDpx\r\n" +
				"Content-Type: text/plain\r\nContent-Length: 3\r\n",
		},
		{
			name: "1.0 keep-alive asks for it",
			head: RequestHead{Method: "HEAD", RequestURI: "/", HTTP10: true, KeepAlive: true, Host: "h"},
			want: "HEAD / HTTP/1.0\r\nHost: h\r\nAccept: */*\r\nConnection: Keep-Alive\r\n",
		},
		{
			name: "1.0 close sends no Connection",
			head: RequestHead{Method: "GET", RequestURI: "/", HTTP10: true, Host: "h"},
			want: "GET / HTTP/1.0\r\nHost: h\r\nAccept: */*\r\n",
		},
		{
			name: "empty body still has its length, no type",
			head: RequestHead{Method: "PUT", RequestURI: "/", KeepAlive: true, Host: "h", Body: true},
			want: "PUT / HTTP/1.1\r\nHost: h\r\nAccept: */*\r\nContent-Length: 0\r\n",
		},
		{
			name: "the step's fields replace the defaults, in any case",
			head: RequestHead{
				Method: "POST", RequestURI: "/", KeepAlive: true, Host: "h", UserAgent: "bg/1",
				AcceptEncoding: []string{"gzip"}, Authorization: "Basic eDp5",
				Body: true, BodyLen: 2, ContentType: "text/plain",
				Extra: []Field{
					{Name: "host", Value: "other"}, {Name: "USER-AGENT", Value: "me"},
					{Name: "Accept", Value: "text/html"}, {Name: "accept-encoding", Value: "identity"},
					{Name: "Authorization", Value: "Bearer t"}, {Name: "content-type", Value: "a/b"},
					{Name: "X-Id", Value: "7"},
				},
			},
			want: "POST / HTTP/1.1\r\nContent-Length: 2\r\nhost: other\r\nUSER-AGENT: me\r\nAccept: text/html\r\n" +
				"accept-encoding: identity\r\nAuthorization: Bearer t\r\ncontent-type: a/b\r\nX-Id: 7\r\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prefix := []byte("kept")
			got := AppendRequestHead(prefix, &tt.head)
			if string(got) != "kept"+tt.want {
				t.Errorf("got\n%q\nwant\n%q", got, "kept"+tt.want)
			}
		})
	}
}

func TestAppendRequestHeadAllocs(t *testing.T) {
	h := RequestHead{Method: "GET", RequestURI: "/", KeepAlive: true, Host: "h", UserAgent: "u",
		AcceptEncoding: []string{"gzip"}, Extra: []Field{{Name: "X", Value: "y"}}}
	buf := make([]byte, 0, 512)
	if n := testing.AllocsPerRun(100, func() { buf = AppendRequestHead(buf[:0], &h) }); n != 0 {
		t.Errorf("AppendRequestHead into a buffer with room: %v allocs, want 0", n)
	}
}
