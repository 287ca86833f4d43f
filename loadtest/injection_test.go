package loadtest_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

// wireRecorder is a loopback server that keeps every request head it
// receives, byte for byte, and answers by path with pages that carry
// hostile text for extractors, forms and the cookie jar.
type wireRecorder struct {
	URL   string
	mu    sync.Mutex
	heads [][]byte
	total int
}

// hostile pages, by path.
var hostilePages = map[string]string{
	"/evil-body": "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\ntoken=abc\r\nX-Injected: 1\r\n;nul=a\x00b;end;pad.",
	"/form-method": "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n" +
		`<form method="GET /admin HTTP/1.1&#13;&#10;X-Injected: 1&#13;&#10;" action="/next"><input name="a" value="1"></form>`,
	"/form-put": "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n" +
		`<form method="put" action="/next"><input name="a" value="1"></form>`,
	"/form-action-space": "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n" +
		`<form method="post" action="/next path?q=a b"><input name="a" value="x&#13;&#10;X-Injected: 1"></form>`,
	"/form-action-crlf": "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n" +
		`<form method="post" action="/next&#13;&#10;X-Injected: 1"><input name="a" value="1"></form>`,
	"/cookie-ctl": "HTTP/1.1 200 OK\r\nSet-Cookie: good=1; Path=/\r\nSet-Cookie: bad=a\x01X-Injected; Path=/\r\nSet-Cookie: del=a\x7fb; Path=/\r\nSet-Cookie: q=a\"b; Path=/\r\nSet-Cookie: sp ace=1; Path=/\r\nContent-Length: 0\r\n\r\n",
}

func startWireRecorder(t *testing.T) *wireRecorder {
	w := &wireRecorder{}
	w.URL = rawServer(t, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(10 * time.Second))
		br := bufio.NewReader(c)
		for {
			head, err := readHead(br)
			w.mu.Lock()
			w.total += len(head)
			if len(head) > 0 {
				w.heads = append(w.heads, head)
			}
			w.mu.Unlock()
			if err != nil {
				return
			}
			if n := contentLength(head); n > 0 {
				if _, err := io.CopyN(io.Discard, br, int64(n)); err != nil {
					return
				}
			}
			path := ""
			if f := bytes.Fields(head); len(f) > 1 {
				path, _, _ = strings.Cut(string(f[1]), "?")
			}
			resp, ok := hostilePages[path]
			if !ok {
				resp = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
			} else if strings.Contains(resp, "%d") {
				_, body, _ := strings.Cut(resp, "\r\n\r\n")
				resp = fmt.Sprintf(resp, len(body))
			}
			io.WriteString(c, resp)
		}
	})
	return w
}

func readHead(br *bufio.Reader) ([]byte, error) {
	var head []byte
	for {
		line, err := br.ReadBytes('\n')
		head = append(head, line...)
		if err != nil {
			return head, err
		}
		if len(line) <= 2 && bytes.TrimRight(line, "\r\n") != nil && len(bytes.TrimRight(line, "\r\n")) == 0 {
			return head, nil
		}
	}
}

func contentLength(head []byte) int {
	for _, l := range strings.Split(string(head), "\r\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(k, "content-length") {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	return 0
}

var (
	requestLine = regexp.MustCompile(`^[!#$%&'*+\-.^_` + "`" + `|~0-9A-Za-z]+ [\x21-\x7e]+ HTTP/1\.[01]$`)
	headerLine  = regexp.MustCompile(`^[!#$%&'*+\-.^_` + "`" + `|~0-9A-Za-z]+: [\t\x20-\x7e]*$`)
)

// audit checks every head the server received: a request line of token,
// target without space or control character, version; header lines of a
// token name and a value without control characters; no injected field.
func (w *wireRecorder) audit(t *testing.T) [][]byte {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, h := range w.heads {
		lines := strings.Split(strings.TrimSuffix(string(h), "\r\n\r\n"), "\r\n")
		if !requestLine.MatchString(lines[0]) {
			t.Errorf("unsafe request line %q", lines[0])
		}
		for _, l := range lines[1:] {
			if !headerLine.MatchString(l) {
				t.Errorf("unsafe header line %q", l)
			}
			if strings.HasPrefix(strings.ToLower(l), "x-injected") {
				t.Errorf("injected header reached the server: %q", l)
			}
		}
	}
	return w.heads
}

// TestInjection feeds CR, LF, NUL and other control characters through
// every place a request value comes from, and checks on the server's side
// that nothing unsafe reached the wire: a static value is a validation
// error before anything is sent; a value known only at run time fails
// its request; a value that belongs in a URL is percent-encoded.
func TestInjection(t *testing.T) {
	type outcome int
	const (
		invalid outcome = iota // validation error, nothing sent
		failed                 // the request is not sent, with a reason
		sent                   // sent, made safe
	)
	cases := []struct {
		name  string
		run   func(base string) *scenario.RunDef
		opts  []loadtest.Option
		want  outcome
		field string // in the validation error or the failure reason
		wire  string // sent: in the last request head the server got
	}{
		{name: "header value CRLF", run: one(scenario.Get("/").Header("X-A", "a\r\nX-Injected: 1")), field: "Header X-A"},
		{name: "header value LF", run: one(scenario.Get("/").Header("X-A", "a\nX-Injected: 1")), field: "Header X-A"},
		{name: "header value CR", run: one(scenario.Get("/").Header("X-A", "a\rX-Injected: 1")), field: "Header X-A"},
		{name: "header value NUL", run: one(scenario.Get("/").Header("X-A", "a\x00b")), field: "Header X-A"},
		{name: "header value SOH", run: one(scenario.Get("/").Header("X-A", "a\x01b")), field: "Header X-A"},
		{name: "header value DEL", run: one(scenario.Get("/").Header("X-A", "a\x7fb")), field: "Header X-A"},
		{name: "header name with space", run: one(scenario.Get("/").Header("X A", "1")), field: "Header"},
		{name: "header name with colon", run: one(scenario.Get("/").Header("X-A: 1\r\nX-Injected", "1")), field: "Header"},
		{name: "header name empty", run: one(scenario.Get("/").Header("", "1")), field: "Header"},
		{name: "method with space", run: one(scenario.Request("GET /admin HTTP/1.1\r\nX-Injected: 1\r\n\r\nGET", "/")), field: "Method"},
		{name: "method with CR", run: one(scenario.Request("GET\r", "/")), field: "Method"},
		{name: "content type CRLF", run: one(scenario.Post("/", "x").ContentType("text/plain\r\nX-Injected: 1")), field: "ContentType"},
		{name: "static cookie CRLF", run: func(base string) *scenario.RunDef {
			return scenario.Run("r", scenario.Get("/")).Cookies("a=b\r\nX-Injected: 1")
		}, field: "Cookies[0]"},
		{name: "static cookie NUL", run: func(base string) *scenario.RunDef {
			return scenario.Run("r", scenario.Get("/")).Cookies("a=b\x00")
		}, field: "Cookies[0]"},
		{name: "user Content-Length", run: one(scenario.Post("/", "x").Header("Content-Length", "0")), field: "Header"},
		{name: "user Transfer-Encoding", run: one(scenario.Post("/", "x").Header("Transfer-Encoding", "chunked")), field: "Header"},
		{name: "user content-length on GET", run: one(scenario.Get("/").Header("content-length", "5")), field: "Header"},
		{name: "URL with CRLF", run: one(scenario.Get("/a\r\nX-Injected: 1")), field: "URL"},
		{name: "URL port 0", run: func(base string) *scenario.RunDef {
			return scenario.Run("r", scenario.Get("http://127.0.0.1:0/"))
		}, field: "URL"},
		{name: "URL port 70000", run: func(base string) *scenario.RunDef {
			return scenario.Run("r", scenario.Get("http://127.0.0.1:70000/"))
		}, field: "URL"},
		{name: "user agent CRLF", run: one(scenario.Get("/")), opts: []loadtest.Option{loadtest.UserAgent("ua\r\nX-Injected: 1")}, field: "UserAgent"},
		{name: "base URL CRLF", run: one(scenario.Get("/")), opts: []loadtest.Option{loadtest.BaseURL("http://127.0.0.1:1/\r\nX-Injected: 1")}, field: "BaseURL"},

		{name: "URL with a space in the query", run: one(scenario.Get("/q?a=b c&d=\"<>\"")), want: sent, wire: "GET /q?a=b%20c&d=%22%3C%3E%22 HTTP/1.1"},
		{name: "path variable with CRLF and slash", run: func(base string) *scenario.RunDef {
			return scenario.Run("r", scenario.Get("/items/{{id}}")).Vars(scenario.Vars{"id": "1/../x HTTP/1.1\r\nX-Injected: 1"})
		}, want: sent, wire: "GET /items/1%2F..%2Fx%20HTTP%2F1.1%0D%0AX-Injected:%201 HTTP/1.1"},
		{name: "query variable with CRLF and &", run: func(base string) *scenario.RunDef {
			return scenario.Run("r", scenario.Get("/s?q={{q}}&x=1")).Vars(scenario.Vars{"q": "a&admin=1 HTTP/1.1\r\nX-Injected: 1"})
		}, want: sent, wire: "GET /s?q=a%26admin%3D1+HTTP%2F1.1%0D%0AX-Injected%3A+1&x=1 HTTP/1.1"},
		{name: "raw variable with a space", run: func(base string) *scenario.RunDef {
			return scenario.Run("r", scenario.Get("/s?{{qs|raw}}")).Vars(scenario.Vars{"qs": "a=1&b=two words"})
		}, want: sent, wire: "GET /s?a=1&b=two%20words HTTP/1.1"},
		{name: "raw variable with CRLF", run: func(base string) *scenario.RunDef {
			return scenario.Run("r", scenario.Get("{{u|raw}}")).Vars(scenario.Vars{"u": base + "/a\r\nX-Injected: 1"})
		}, want: failed, field: "URL"},
		{name: "header variable with CRLF", run: func(base string) *scenario.RunDef {
			return scenario.Run("r", scenario.Get("/").Header("X-A", "{{v}}")).Vars(scenario.Vars{"v": "a\r\nX-Injected: 1"})
		}, want: failed, field: "header X-A"},
		{name: "Host header variable with CRLF", run: func(base string) *scenario.RunDef {
			return scenario.Run("r", scenario.Get("/").Header("Host", "{{h}}")).Vars(scenario.Vars{"h": "evil\r\nX-Injected: 1"})
		}, want: failed, field: "header Host"},
		{name: "extracted CRLF into a header", run: func(base string) *scenario.RunDef {
			return scenario.Run("r",
				scenario.Get("/evil-body").Extract("tok", scenario.Regex(`(?s)token=(.*?);`)),
				scenario.Get("/").Header("X-Token", "{{tok}}"))
		}, want: failed, field: "header X-Token"},
		{name: "extracted NUL into a header", run: func(base string) *scenario.RunDef {
			return scenario.Run("r",
				scenario.Get("/evil-body").Extract("v", scenario.Regex(`nul=(.*?);`)),
				scenario.Get("/").Header("X-V", "{{v}}"))
		}, want: failed, field: "header X-V"},
		{name: "extracted CRLF into a path", run: func(base string) *scenario.RunDef {
			return scenario.Run("r",
				scenario.Get("/evil-body").Extract("tok", scenario.Regex(`(?s)token=(.*?);`)),
				scenario.Get("/t/{{tok}}"))
		}, want: sent, wire: "GET /t/abc%0D%0AX-Injected:%201%0D%0A HTTP/1.1"},
		{name: "form method with CRLF", run: func(base string) *scenario.RunDef {
			return scenario.Run("r", scenario.Get("/form-method"), scenario.Submit(scenario.FormFrom("form")))
		}, want: sent, wire: "GET /next?a=1 HTTP/1.1"},
		{name: "form method PUT", run: func(base string) *scenario.RunDef {
			return scenario.Run("r", scenario.Get("/form-put"), scenario.Submit(scenario.FormFrom("form")))
		}, want: sent, wire: "GET /next?a=1 HTTP/1.1"},
		{name: "form action with spaces, field with CRLF", run: func(base string) *scenario.RunDef {
			return scenario.Run("r", scenario.Get("/form-action-space"), scenario.Submit(scenario.FormFrom("form")))
		}, want: sent, wire: "POST /next%20path?q=a%20b HTTP/1.1"},
		{name: "form action with CRLF", run: func(base string) *scenario.RunDef {
			return scenario.Run("r", scenario.Get("/form-action-crlf"), scenario.Submit(scenario.FormFrom("form")))
		}, want: failed, field: "URL"},
		{name: "form override with CRLF", run: func(base string) *scenario.RunDef {
			return scenario.Run("r", scenario.Get("/form-put"), scenario.Submit(scenario.FormFrom("form").Set("a", "x\r\nX-Injected: 1")))
		}, want: sent, wire: "GET /next?a=x%0D%0AX-Injected%3A+1 HTTP/1.1"},
		{name: "Set-Cookie with control characters", run: func(base string) *scenario.RunDef {
			return scenario.Run("r", scenario.Get("/cookie-ctl"), scenario.Get("/after"))
		}, want: sent, wire: "\r\nCookie: good=1\r\n"},
	}
	if len(cases) < 30 {
		t.Fatalf("only %d cases", len(cases))
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			forEachDriver(t, func(t *testing.T) {
				srv := startWireRecorder(t)
				opts := append([]loadtest.Option{loadtest.Runs(tc.run(srv.URL)), loadtest.BaseURL(srv.URL), loadtest.KeepAlive(true)}, tc.opts...)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				report, err := newPlan(t, opts...).Execute(ctx)
				heads := srv.audit(t)
				switch tc.want {
				case invalid:
					var ve *scenario.ValidationError
					if !errors.As(err, &ve) || !strings.Contains(err.Error(), tc.field) {
						t.Fatalf("want a validation error naming %q, got %v", tc.field, err)
					}
					if srv.total != 0 {
						t.Errorf("the server got %d bytes from an invalid plan", srv.total)
					}
					return
				case failed:
					if err != nil {
						t.Fatal(err)
					}
					last := report.Runs[0].Steps[len(report.Runs[0].Steps)-1]
					if last.Sent != 0 || last.NotSent != 1 {
						t.Fatalf("want the request refused (not sent), got statuses %v", last.Statuses)
					}
					for reason := range last.Unsent {
						if !strings.Contains(reason, tc.field) {
							t.Errorf("reason %q does not name %q", reason, tc.field)
						}
					}
				case sent:
					if err != nil {
						t.Fatal(err)
					}
					if report.ResponsesFailed != 0 || len(heads) == 0 {
						t.Fatalf("failures %v", report.Runs[0].Steps[len(report.Runs[0].Steps)-1].Failures)
					}
					if last := string(heads[len(heads)-1]); !strings.Contains(last, tc.wire) {
						t.Errorf("last request\n%s\ndoes not hold %q", last, tc.wire)
					}
				}
			})
		})
	}
}

// one is a run of the given steps.
func one(steps ...*scenario.Step) func(string) *scenario.RunDef {
	return func(string) *scenario.RunDef { return scenario.Run("r", steps...) }
}
