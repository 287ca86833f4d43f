package loadtest_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
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
	if got := report.GoodResponses + report.RequestsNotSent + report.ResponsesFailed; got != int64(len(changes)) {
		t.Errorf("good %d + not sent %d + failed %d, want %d requests accounted for", report.GoodResponses, report.RequestsNotSent, report.ResponsesFailed, len(changes))
	}
	t.Logf("%d sent, %d not sent", len(heads), report.RequestsNotSent)
}

// TestVUsChangedURLOtherOrigin: a RequestStart hook or an iterator
// that sends a step to another origin does not take the step's
// Authorization and Cookie fields, or the run's static cookies, along
// (as a redirect to another origin does not): the hook cannot see or
// remove them, and they were meant for the step's origin. A field the
// hook adds itself goes. Before, B received the step's credentials,
// and after an iterator's change to B a hook's relative URL sent the
// static cookie there too.
func TestVUsChangedURLOtherOrigin(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	see := func(name string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			seen = append(seen, fmt.Sprintf("%s %s auth=%q cookie=%q", name, r.URL.Path, r.Header.Get("Authorization"), r.Header.Get("Cookie")))
			mu.Unlock()
		}
	}
	a := httptest.NewServer(see("a"))
	t.Cleanup(a.Close)
	b := httptest.NewServer(see("b"))
	t.Cleanup(b.Close)
	hooks := engine.VUHooks{RequestStart: func(e *engine.RequestEvent) error {
		switch e.Step {
		case 0:
			e.URL = b.URL + "/hook"
		case 1:
			e.URL = b.URL + "/own"
			e.Header.Set("Authorization", "Bearer for-b")
		case 2:
			e.URL = "/relative" // against the iterator's URL, on b
		}
		return nil
	}}
	it := func(vu, round int, _ *rand.Rand) engine.StepIterator {
		k := 0
		return func(prev *engine.Result) (engine.NextStep, bool) {
			k++
			switch k {
			case 1, 2:
				return engine.NextStep{Step: k - 1}, true
			case 3:
				return engine.NextStep{Step: 2, URL: b.URL + "/iter"}, true
			case 4:
				return engine.NextStep{Step: 3}, true
			}
			return engine.NextStep{}, false
		}
	}
	step := func(path string) *scenario.Step {
		return scenario.Get(path).Header("Authorization", "Bearer for-a")
	}
	run := scenario.Run("r", step("/0"), step("/1"), step("/2"), step("/3")).Cookies("sid=for-a")
	report := execute(t, loadtest.Runs(run), loadtest.BaseURL(a.URL),
		loadtest.VirtualUsers(engine.VUs{Max: 1, Hooks: hooks, Iterate: it}))
	if report.GoodResponses != 4 {
		t.Fatalf("good %d", report.GoodResponses)
	}
	want := []string{
		`b /hook auth="" cookie=""`,
		`b /own auth="Bearer for-b" cookie=""`,
		`b /relative auth="" cookie=""`,
		`a /3 auth="Bearer for-a" cookie="sid=for-a"`,
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(seen, "\n") != strings.Join(want, "\n") {
		t.Errorf("servers saw\n%s\nwant\n%s", strings.Join(seen, "\n"), strings.Join(want, "\n"))
	}
}

// TestVUsChangedURLSameOriginKeepsUserInfo: a hook's URL on the step's
// own origin keeps the step URL's user info (Basic credentials), as a
// redirect on the same origin does.
func TestVUsChangedURLSameOriginKeepsUserInfo(t *testing.T) {
	var got atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, _ := r.BasicAuth()
		got.Store(r.URL.Path + " " + u + ":" + p)
	}))
	t.Cleanup(srv.Close)
	withUser := strings.Replace(srv.URL, "http://", "http://alice:s3cret@", 1)
	hooks := engine.VUHooks{RequestStart: func(e *engine.RequestEvent) error { e.URL = "/rel"; return nil }}
	report := execute(t, loadtest.Runs(scenario.Run("r", scenario.Get(withUser+"/step"))), loadtest.VirtualUsers(engine.VUs{Max: 1, Hooks: hooks}))
	if report.GoodResponses != 1 || got.Load() != "/rel alice:s3cret" {
		t.Errorf("good %d, server saw %v", report.GoodResponses, got.Load())
	}
}
