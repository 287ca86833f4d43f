package loadtest_test

import (
	"bufio"
	"context"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/benchgate/benchgate/engine"
	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

// TestVUsRequestStartNoInjection: a URL, method or header field that a
// RequestStart hook sets with CR, LF or other bytes that would end the
// request line or a field never reaches the wire as an extra header
// field: the request is refused (not sent) or its target escaped.
func TestVUsRequestStartNoInjection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var mu sync.Mutex
	var heads []string
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					var head strings.Builder
					for {
						l, err := br.ReadString('\n')
						if err != nil {
							return
						}
						head.WriteString(l)
						if l == "\r\n" {
							break
						}
					}
					mu.Lock()
					heads = append(heads, head.String())
					mu.Unlock()
					if _, err := c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")); err != nil {
						return
					}
				}
			}()
		}
	}()
	base := "http://" + ln.Addr().String()
	type change struct{ method, url, name, value string }
	changes := []change{
		{url: "/a\r\nX-Evil: 1"},
		{url: "/a\nX-Evil: 1"},
		{url: "/a b\r\nX-Evil: 1"},
		{url: "http://127.0.0.1\r\nX-Evil: 1/"},
		{url: "http://[::1%25%0d%0aX-Evil:1]:80/"},
		{url: "/a%0d%0aX-Evil: 1"},
		{url: "/a?q=\r\nX-Evil: 1"},
		{url: "/a#\r\nX-Evil: 1"},
		{method: "GET /x HTTP/1.1\r\nX-Evil: 1\r\n"},
		{name: "X-Ok", value: "v\r\nX-Evil: 1"},
		{name: "X-Evil: 1\r\nX-Ok", value: "v"},
	}
	steps := make([]*scenario.Step, len(changes))
	for i := range steps {
		steps[i] = scenario.Get("/step")
	}
	hooks := engine.VUHooks{RequestStart: func(e *engine.RequestEvent) error {
		c := changes[e.Step]
		e.Method, e.URL = c.method, c.url
		if c.name != "" {
			e.Header[c.name] = []string{c.value}
		}
		return nil
	}}
	report, _ := loadtest.New(loadtest.Runs(scenario.Run("r", steps...)), loadtest.BaseURL(base), loadtest.KeepAlive(true),
		loadtest.VirtualUsers(engine.VUs{Max: 1, Hooks: hooks})).Execute(context.Background())
	if report == nil {
		t.Fatal("no report")
	}
	mu.Lock()
	defer mu.Unlock()
	for _, h := range heads {
		for _, l := range strings.Split(h, "\r\n") {
			if strings.HasPrefix(strings.ToLower(strings.TrimLeft(l, " \t\n")), "x-evil") || strings.Contains(l, "\n") {
				t.Errorf("a hook's value reached the wire as a field:\n%q", h)
			}
		}
	}
	if got := report.ResponsesReceived + report.RequestsNotSent + report.ResponsesFailed; got != int64(len(changes)) {
		t.Errorf("good %d + not sent %d + failed %d, want %d requests accounted for", report.ResponsesReceived, report.RequestsNotSent, report.ResponsesFailed, len(changes))
	}
	t.Logf("%d sent, %d not sent", len(heads), report.RequestsNotSent)
}
