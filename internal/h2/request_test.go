package h2

import (
	"fmt"
	"strings"
	"testing"
)

func TestAppendRequestFields(t *testing.T) {
	tests := []struct {
		name, head, authority, scheme string
		want                          string
	}{
		{
			name:      "origin form, Host gives the authority, connection fields dropped",
			head:      "POST /a?b=1 HTTP/1.1\r\nHost: app.test:8443\r\nUser-Agent: bg\r\nConnection: close\r\nKeep-Alive: 5\r\nTransfer-Encoding: chunked\r\nUpgrade: h2c\r\nProxy-Connection: x\r\nContent-Length: 3\r\nX-Mixed-Case:  v ",
			authority: "fallback", scheme: "https",
			want: ":method=POST :authority=app.test:8443 :scheme=https :path=/a?b=1 user-agent=bg content-length=3 x-mixed-case=v",
		},
		{
			name:      "absolute form through a proxy: its path; no Host: the authority given",
			head:      "GET http://app.test/x/y?z HTTP/1.1\r\nAccept: */*",
			authority: "app.test", scheme: "http",
			want: ":method=GET :authority=app.test :scheme=http :path=/x/y?z accept=*/*",
		},
		{
			name:      "absolute form without a path",
			head:      "GET http://app.test HTTP/1.1\r\nTE: trailers\r\nte: gzip",
			authority: "app.test", scheme: "http",
			want: ":method=GET :authority=app.test :scheme=http :path=/ te=trailers",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fields, err := AppendRequestFields(nil, []byte(tt.head), tt.authority, tt.scheme)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range fields {
				got = append(got, fmt.Sprintf("%s=%s", f.Name, f.Value))
			}
			if g := strings.Join(got, " "); g != tt.want {
				t.Errorf("got  %s\nwant %s", g, tt.want)
			}
		})
	}
	for _, bad := range []string{"CONNECT app.test:443 HTTP/1.1\r\nHost: app.test:443", "GET /\r\nHost: h", "GET / HTTP/1.1\r\nno colon"} {
		if _, err := AppendRequestFields(nil, []byte(bad), "h", "http"); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
