package loadtest_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

// smuggled is what a misbehaving server leaves on a kept-alive connection
// after a response: if a client ever read it as the answer to its next
// request, that request would show status 418.
const smuggled = "HTTP/1.1 418 SMUGGLED\r\nContent-Length: 0\r\n\r\n"

// second is the real answer to the request that follows each case.
const second = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nSECOND"

// wireCase is one response, byte for byte, and what a client must make of
// it. Every case is followed by a second request on the same plan: it
// must get second, whatever the first response left behind.
type wireCase struct {
	name   string
	rfc    string // the clause that decides
	raw    string // what the server sends for the first request
	head   bool   // the first request is a HEAD
	close  bool   // the server closes the connection after raw
	status int    // 0: the first request fails
	body   string
	fail   string // in the failure reason when status is 0
	warn   string // in a warning; the connection is then not reused
	reuse  bool   // the second request goes on the same connection
	// stdlib says how net/http's client differs ("" when it agrees on
	// success or failure, status and body).
	stdlib string
}

func wireCases() []wireCase {
	const ok5 = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
	const chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
	return []wireCase{
		// Content-Length (RFC 9112 §6.3 rule 6, RFC 9110 §8.6)
		{name: "content-length", rfc: "9112 6.3(6)", raw: ok5, status: 200, body: "hello", reuse: true},
		{name: "content-length zero", rfc: "9112 6.3(6)", raw: "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", status: 200, reuse: true},
		{name: "content-length leading zeros", rfc: "9110 8.6", raw: "HTTP/1.1 200 OK\r\nContent-Length: 005\r\n\r\nhello", status: 200, body: "hello", reuse: true},
		{name: "content-length with whitespace", rfc: "9110 5.5", raw: "HTTP/1.1 200 OK\r\nContent-Length: \t5 \r\n\r\nhello", status: 200, body: "hello", reuse: true},
		{name: "content-length repeated, same value", rfc: "9110 8.6", raw: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello", status: 200, body: "hello", reuse: true},
		{name: "content-length repeated, other value", rfc: "9112 6.3(5)", raw: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", fail: "Content-Length"},
		{name: "content-length list", rfc: "9112 6.3(5)", raw: "HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\nhello", fail: "Content-Length"},
		{name: "content-length negative", rfc: "9112 6.3(5)", raw: "HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\nhello", fail: "Content-Length"},
		{name: "content-length plus sign", rfc: "9112 6.3(5)", raw: "HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello", fail: "Content-Length"},
		{name: "content-length hex", rfc: "9112 6.3(5)", raw: "HTTP/1.1 200 OK\r\nContent-Length: 0x5\r\n\r\nhello", fail: "Content-Length"},
		{name: "content-length overflow", rfc: "9112 6.3(5)", raw: "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\nhello", fail: "Content-Length"},
		{name: "content-length empty", rfc: "9112 6.3(5)", raw: "HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\nhello", fail: "Content-Length"},
		{name: "content-length longer than sent", rfc: "9112 8", raw: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello", close: true, fail: "unexpected EOF"},
		{name: "content-length shorter than sent", rfc: "9112 6.3(6)", raw: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nhello", status: 200, body: "hel", warn: "2 unexpected bytes"},
		{name: "a response smuggled after the body", rfc: "9112 6.3(6)", raw: ok5 + smuggled, status: 200, body: "hello", warn: "unexpected bytes"},
		{name: "a stray CRLF after the body", rfc: "9112 6.3(6)", raw: ok5 + "\r\n", status: 200, body: "hello", warn: "2 unexpected bytes"},
		{name: "content-length and close", rfc: "9112 9.6", raw: "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello", close: true, status: 200, body: "hello"},

		// Responses without a body (RFC 9112 §6.3 rule 1)
		{name: "204", rfc: "9112 6.3(1)", raw: "HTTP/1.1 204 No Content\r\n\r\n", status: 204, reuse: true},
		{name: "204 with a body", rfc: "9112 6.3(1)", raw: "HTTP/1.1 204 No Content\r\n\r\n" + smuggled, status: 204, warn: "a 204 response has no body"},
		{name: "204 with content-length and a body", rfc: "9112 6.3(1)", raw: "HTTP/1.1 204 No Content\r\nContent-Length: 4\r\n\r\njunk", status: 204, warn: "a 204 response has no body"},
		{name: "304 with content-length", rfc: "9112 6.3(1)", raw: "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", status: 304, reuse: true},
		{name: "304 with a body", rfc: "9112 6.3(1)", raw: "HTTP/1.1 304 Not Modified\r\n\r\n" + smuggled, status: 304, warn: "a 304 response has no body"},
		{name: "HEAD with content-length", rfc: "9112 6.3(1)", head: true, raw: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", status: 200, reuse: true},
		{name: "HEAD with chunked", rfc: "9112 6.3(1)", head: true, raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", status: 200, reuse: true},
		{name: "HEAD answered with a body", rfc: "9112 6.3(1)", head: true, raw: ok5, status: 200, warn: "a response to HEAD has no body"},
		{name: "HEAD answered with a smuggled response", rfc: "9112 6.3(1)", head: true, raw: "HTTP/1.1 200 OK\r\nContent-Length: 44\r\n\r\n" + smuggled, status: 200, warn: "a response to HEAD has no body"},

		// Interim responses (RFC 9110 §15.2)
		{name: "100 then 200", rfc: "9110 15.2", raw: "HTTP/1.1 100 Continue\r\n\r\n" + ok5, status: 200, body: "hello", reuse: true},
		{name: "103 with links then 200", rfc: "9110 15.2", raw: "HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n" + ok5, status: 200, body: "hello", reuse: true},
		{name: "three interim responses", rfc: "9110 15.2", raw: strings.Repeat("HTTP/1.1 102 Processing\r\n\r\n", 3) + ok5, status: 200, body: "hello", reuse: true},

		// Transfer-Encoding (RFC 9112 §6.1, §6.3 rules 3 and 4, §7.1)
		{name: "chunked", rfc: "9112 7.1", raw: chunked, status: 200, body: "hello", reuse: true},
		{name: "chunked in capitals", rfc: "9112 7", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: CHUNKED\r\n\r\n5\r\nhello\r\n0\r\n\r\n", status: 200, body: "hello", reuse: true},
		{name: "chunked with extensions", rfc: "9112 7.1.1", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b;c=\"d\"\r\nhello\r\n0;x\r\n\r\n", status: 200, body: "hello", reuse: true},
		{name: "chunked with trailers", rfc: "9112 7.1.2", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-Sum: 1\r\nX-More: 2\r\n\r\n", status: 200, body: "hello", reuse: true},
		{name: "chunk sizes in hex, leading zeros", rfc: "9112 7.1", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n000A\r\n0123456789\r\n00\r\n\r\n", status: 200, body: "0123456789", reuse: true},
		{name: "chunked, last chunk missing", rfc: "9112 7.1", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", close: true, fail: "unexpected EOF"},
		{name: "chunk size not hex", rfc: "9112 7.1", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", fail: "malformed chunked"},
		{name: "chunk size overflows", rfc: "9112 7.1", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\nhello\r\n0\r\n\r\n", fail: "malformed chunked"},
		{name: "chunk longer than its size", rfc: "9112 7.1", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n", fail: "malformed chunked"},
		{name: "a response smuggled after the last chunk", rfc: "9112 7.1", raw: chunked + smuggled, status: 200, body: "hello", warn: "after the last chunk"},
		{name: "gzip, chunked", rfc: "9112 6.3(4)", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", status: 200, body: "hello", reuse: true,
			stdlib: "net/http refuses any Transfer-Encoding but chunked; chunked is final here, so RFC 9112 dechunks (the gzip coding stays)"},
		{name: "final coding gzip after chunked", rfc: "9112 6.3(4)", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\nraw to the close", close: true, status: 200, body: "raw to the close",
			stdlib: "net/http refuses any Transfer-Encoding but chunked; RFC 9112 reads the body to the close"},
		{name: "identity", rfc: "9112 6.3(4)", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\nto the close", close: true, status: 200, body: "to the close",
			stdlib: "net/http refuses identity; RFC 9112 dropped it, so chunked is not final and the body runs to the close"},
		{name: "two fields, chunked last", rfc: "9112 6.3(4)", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", status: 200, body: "hello", reuse: true,
			stdlib: "net/http refuses more than one Transfer-Encoding field; RFC 9110 5.3 combines them into one list"},
		{name: "two fields, chunked first", rfc: "9112 6.3(4)", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\nto the close", close: true, status: 200, body: "to the close",
			stdlib: "net/http refuses more than one Transfer-Encoding field"},
		{name: "content-length and chunked", rfc: "9112 6.3(3)", raw: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", fail: "Content-Length together with Transfer-Encoding",
			stdlib: "net/http lets chunked win; RFC 9112 says to handle the message as an error (smuggling)"},
		{name: "chunked and content-length", rfc: "9112 6.3(3)", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 100\r\n\r\n5\r\nhello\r\n0\r\n\r\n" + smuggled, fail: "Content-Length together with Transfer-Encoding",
			stdlib: "net/http lets chunked win; RFC 9112 says to handle the message as an error (smuggling)"},
		{name: "HTTP/1.0 with chunked", rfc: "9112 6.1", raw: "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", close: true, status: 200, body: "hello",
			stdlib: "net/http ignores Transfer-Encoding in HTTP/1.0; RFC 9112 6.1 decodes it and closes the connection"},

		// Persistence (RFC 9112 §9.3)
		{name: "1.1 close", rfc: "9112 9.6", raw: "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello", close: true, status: 200, body: "hello"},
		{name: "close among other tokens", rfc: "9112 9.6", raw: "HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\nContent-Length: 5\r\n\r\nhello", close: true, status: 200, body: "hello"},
		{name: "1.0 without keep-alive", rfc: "9112 9.3", raw: "HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello", close: true, status: 200, body: "hello"},
		{name: "1.0 keep-alive", rfc: "9112 9.3", raw: "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 5\r\n\r\nhello", status: 200, body: "hello", reuse: true},
		{name: "close-delimited body", rfc: "9112 6.3(8)", raw: "HTTP/1.1 200 OK\r\n\r\nuntil the close", close: true, status: 200, body: "until the close"},
		{name: "close-delimited, empty", rfc: "9112 6.3(8)", raw: "HTTP/1.1 200 OK\r\n\r\n", close: true, status: 200},

		// Status lines and header fields (RFC 9112 §4, §5; RFC 9110 §5.5)
		{name: "status without reason", rfc: "9112 4", raw: "HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n", status: 404, reuse: true},
		{name: "status with empty reason", rfc: "9112 4", raw: "HTTP/1.1 500 \r\nContent-Length: 0\r\n\r\n", status: 500, reuse: true},
		{name: "four-digit status", rfc: "9112 4", raw: "HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n", fail: "malformed status line"},
		{name: "status below 100", rfc: "9110 15", raw: "HTTP/1.1 099 Odd\r\nContent-Length: 0\r\n\r\n", fail: "malformed status line",
			stdlib: "net/http takes any three digits; RFC 9110 15 defines 100 to 599"},
		{name: "HTTP/2.0 version", rfc: "9112 2.3", raw: "HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n", fail: "malformed status line",
			stdlib: "net/http reads an HTTP/2.0 status line in HTTP/1 framing; a request sent as HTTP/1.1 wants an HTTP/1.x answer"},
		{name: "ICY", rfc: "9112 4", raw: "ICY 200 OK\r\n\r\n", close: true, fail: "malformed status line"},
		{name: "two spaces after the version", rfc: "9112 4", raw: "HTTP/1.1  200 OK\r\nContent-Length: 0\r\n\r\n", fail: "malformed status line",
			stdlib: "net/http skips the extra space; the grammar has exactly one SP"},
		{name: "header line without a colon", rfc: "9112 5", raw: "HTTP/1.1 200 OK\r\nnonsense\r\nContent-Length: 0\r\n\r\n", fail: "malformed header"},
		{name: "space before the colon", rfc: "9112 5.1", raw: "HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\nhello", close: true, fail: "malformed header",
			stdlib: "net/http's client tolerates the space; RFC 9112 5.1 forbids it, as it can hide a framing field from one reader and not another"},
		{name: "NUL in a value", rfc: "9110 5.5", raw: "HTTP/1.1 200 OK\r\nX-A: a\x00b\r\nContent-Length: 0\r\n\r\n", fail: "control character"},
		{name: "bare CR in a value", rfc: "9110 5.5", raw: "HTTP/1.1 200 OK\r\nX-A: a\rb\r\nContent-Length: 0\r\n\r\n", fail: "control character"},
		{name: "bare LF line ends", rfc: "9112 2.2", raw: "HTTP/1.1 200 OK\nContent-Length: 5\n\nhello", status: 200, body: "hello", reuse: true},
		{name: "folded header", rfc: "9112 5.2", raw: "HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 5\r\n\r\nhello", status: 200, body: "hello", reuse: true},
		{name: "headers over 64 KiB", rfc: "9112 2.3", raw: "HTTP/1.1 200 OK\r\nX-A: " + strings.Repeat("a", 70<<10) + "\r\n\r\n", close: true, fail: "larger than the limit"},
		{name: "closed without a response", rfc: "9112 9.6", raw: "", close: true, fail: "status line: EOF"},
		{name: "closed in the headers", rfc: "9112 8", raw: "HTTP/1.1 200 OK\r\nContent-Le", close: true, fail: "unexpected EOF"},
	}
}

// wireServer serves each case's bytes for GET/HEAD /case/N and second for
// /second, on raw TCP, closing after a case when it says so.
func wireServer(t *testing.T, cases []wireCase) string {
	return rawServer(t, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(10 * time.Second))
		br := bufio.NewReader(c)
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			io.Copy(io.Discard, req.Body)
			var i int
			if _, err := fmt.Sscanf(req.URL.Path, "/case/%d", &i); err == nil && i < len(cases) {
				io.WriteString(c, cases[i].raw)
				if cases[i].close {
					return
				}
				continue
			}
			io.WriteString(c, second)
		}
	})
}

// TestWireDifferential serves every case to benchgate (both drivers) and
// to net/http's client, and checks benchgate against the expectation and
// the RFC clause; net/http must agree unless the case says how and why it
// differs.
func TestWireDifferential(t *testing.T) {
	cases := wireCases()
	if len(cases) < 50 {
		t.Fatalf("only %d cases", len(cases))
	}
	base := wireServer(t, cases)
	log.SetOutput(io.Discard) // net/http logs each unsolicited response it sees
	t.Cleanup(func() { log.SetOutput(os.Stderr) })
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			url := fmt.Sprintf("%s/case/%d", base, i)
			forEachDriver(t, func(t *testing.T) {
				first := scenario.Get(url).AnyStatus()
				if tc.head {
					first = scenario.Head(url).AnyStatus()
				}
				run := scenario.Run("wire", first, scenario.Get(base+"/second")).KeepLevel(scenario.KeepBodies)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				report, err := newPlan(t, loadtest.Runs(run), loadtest.KeepAlive(true)).Execute(ctx)
				if err != nil {
					t.Fatal(err)
				}
				r := report.Run("wire")
				s1, s2 := r.Steps[0], r.Steps[1]
				if tc.status == 0 {
					if s1.Failed != 1 {
						t.Fatalf("RFC %s: want a failure saying %q; got status %v body %q", tc.rfc, tc.fail, s1.Statuses, r.Bodies[0])
					}
					for reason := range s1.Failures {
						if !strings.Contains(reason, tc.fail) {
							t.Errorf("RFC %s: reason %q does not say %q", tc.rfc, reason, tc.fail)
						}
					}
				} else {
					if s1.Good != 1 || s1.Statuses[tc.status] != 1 || r.Bodies[0] != tc.body {
						t.Errorf("RFC %s: want %d %q; got statuses %v body %q failures %v", tc.rfc, tc.status, tc.body, s1.Statuses, r.Bodies[0], s1.Failures)
					}
				}
				var warnings []string
				for w := range s1.Warnings {
					warnings = append(warnings, w)
				}
				switch {
				case tc.warn == "" && len(warnings) > 0:
					t.Errorf("unexpected warnings %q", warnings)
				case tc.warn != "" && (len(warnings) != 1 || !strings.Contains(warnings[0], tc.warn)):
					t.Errorf("warnings %q, want one saying %q", warnings, tc.warn)
				}
				// The property that matters most: whatever the first
				// response left behind, the second request gets its own
				// answer.
				if s2.Good != 1 || s2.Statuses[200] != 1 || r.Bodies[1] != "SECOND" {
					t.Errorf("the second request got statuses %v body %q failures %v", s2.Statuses, r.Bodies[1], s2.Failures)
				}
				if rq, _ := r.Requests.At(1); rq.Reused != tc.reuse {
					got := rq.Reused
					t.Errorf("second request reused the connection: %v, want %v", got, tc.reuse)
				}
			})
			t.Run("net-http", func(t *testing.T) {
				status, body, err := stdlibOutcome(url, base+"/second", tc.head)
				agrees := (tc.status == 0) == (err != nil) && (err != nil || status == tc.status && body == tc.body)
				switch {
				case tc.stdlib == "" && !agrees:
					t.Errorf("net/http differs and the case does not say why: status %d body %q err %v", status, body, err)
				case tc.stdlib != "" && agrees:
					t.Errorf("net/http agrees now; drop the note %q", tc.stdlib)
				case tc.stdlib != "":
					t.Logf("differs on purpose: %s (net/http: status %d body %q err %v)", tc.stdlib, status, body, err)
				}
			})
		})
	}
}

// stdlibOutcome sends the case and the second request with net/http's
// client, pausing between them so that its read loop sees any leftover.
func stdlibOutcome(url, secondURL string, head bool) (status int, body string, err error) {
	tr := &http.Transport{MaxResponseHeaderBytes: 64 << 10}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	method := http.MethodGet
	if head {
		method = http.MethodHead
	}
	req, _ := http.NewRequest(method, url, nil)
	resp, err := c.Do(req)
	if err == nil {
		var b []byte
		b, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		status, body = resp.StatusCode, string(b)
	}
	time.Sleep(20 * time.Millisecond)
	if r2, err2 := c.Get(secondURL); err2 == nil {
		io.Copy(io.Discard, r2.Body)
		r2.Body.Close()
	}
	return status, body, err
}
