package h1

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func parseOne(raw string, head bool, keepBody bool, limit int) (*Parser, error) {
	p := NewParser(strings.NewReader(raw), 4096, testBufs)
	p.KeepHeader, p.KeepBody, p.BodyLimit, p.CollectCookies = true, keepBody, limit, true
	err := p.ReadResponse(head)
	return p, err
}

func TestParser(t *testing.T) {
	tests := []struct {
		name      string
		raw       string
		head      bool
		status    int
		body      string
		keepAlive bool
		err       error
		bodyBytes int64
		truncated bool
	}{
		{name: "content-length 1.1", raw: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", status: 200, body: "hello", keepAlive: true, bodyBytes: 5},
		{name: "1.1 close", raw: "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nhi", status: 200, body: "hi", bodyBytes: 2},
		{name: "1.0 default close", raw: "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi", status: 200, body: "hi", bodyBytes: 2},
		{name: "1.0 keep-alive", raw: "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nhi", status: 200, body: "hi", keepAlive: true, bodyBytes: 2},
		{name: "chunked", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\n", status: 200, body: "hello world", keepAlive: true, bodyBytes: 11},
		{name: "close-delimited", raw: "HTTP/1.1 200 OK\r\n\r\nuntil eof", status: 200, body: "until eof", bodyBytes: 9},
		{name: "head ignores length", raw: "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", head: true, status: 200, keepAlive: true},
		{name: "204 no body", raw: "HTTP/1.1 204 No Content\r\n\r\n", status: 204, keepAlive: true},
		{name: "304 no body", raw: "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", status: 304, keepAlive: true},
		{name: "100 continue skipped", raw: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nx", status: 201, body: "x", keepAlive: true, bodyBytes: 1},
		{name: "bare LF lines", raw: "HTTP/1.1 200 OK\nContent-Length: 2\n\nok", status: 200, body: "ok", keepAlive: true, bodyBytes: 2},
		{name: "status without reason", raw: "HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n", status: 404, keepAlive: true},
		{name: "truncated at buffer", raw: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789", status: 200, body: "0123", keepAlive: true, bodyBytes: 10, truncated: true},
		{name: "short body", raw: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123", err: io.ErrUnexpectedEOF},
		{name: "bad status line", raw: "HTTP/2 200 OK\r\n\r\n", err: ErrBadStatusLine},
		{name: "garbage", raw: "hello there\r\n\r\n", err: ErrBadStatusLine},
		{name: "bad content-length", raw: "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", err: ErrBadLength},
		{name: "conflicting content-length", raw: "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx", err: ErrBadLength},
		{name: "endless trailers", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n" + strings.Repeat("T: x\r\n", 20000), err: ErrHeaderTooLarge},
		{name: "chunked EOF mid-chunk", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc", err: io.ErrUnexpectedEOF},
		{name: "bad chunk size", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", err: ErrBadChunk},
		{name: "chunk without CRLF", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabcd\r\n0\r\n\r\n", err: ErrBadChunk},
		{name: "header without colon", raw: "HTTP/1.1 200 OK\r\nnonsense\r\n\r\n", err: ErrBadHeader},
		{name: "no headers end", raw: "HTTP/1.1 200 OK\r\nA: b\r\n", err: io.ErrUnexpectedEOF},
		{name: "empty", raw: "", err: io.EOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			limit := 1 << 20
			if tt.truncated {
				limit = 4
			}
			p, err := parseOne(tt.raw, tt.head, true, limit)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Status != tt.status || string(p.Body) != tt.body || p.KeepAlive != tt.keepAlive ||
				p.BodyBytes != tt.bodyBytes || p.Truncated != tt.truncated {
				t.Errorf("got status %d body %q keepAlive %v bodyBytes %d truncated %v", p.Status, p.Body, p.KeepAlive, p.BodyBytes, p.Truncated)
			}
			if tt.err == nil && p.WireBytes != int64(len(tt.raw)) && !strings.HasPrefix(tt.name, "head") && tt.status != 304 {
				t.Errorf("wireBytes = %d, want %d", p.WireBytes, len(tt.raw))
			}
		})
	}
}

func TestParserHeaderLimit(t *testing.T) {
	raw := "HTTP/1.1 200 OK\r\nX-Big: " + strings.Repeat("a", 2000) + "\r\n\r\n"
	p := NewParser(strings.NewReader(raw), 4096, testBufs)
	p.MaxHeader = 1024
	if err := p.ReadResponse(false); !errors.Is(err, ErrHeaderTooLarge) {
		t.Fatalf("err = %v, want ErrHeaderTooLarge", err)
	}
	// A line longer than the read buffer but within the limit is fine.
	raw = "HTTP/1.1 200 OK\r\nX-Big: " + strings.Repeat("a", 8000) + "\r\nContent-Length: 0\r\n\r\n"
	p = NewParser(strings.NewReader(raw), 4096, testBufs)
	if err := p.ReadResponse(false); err != nil || p.Status != 200 {
		t.Fatalf("8000-byte line, 64 KiB limit: err = %v", err)
	}
	raw = "HTTP/1.1 200 OK\r\nX-Big: " + strings.Repeat("a", 70000) + "\r\n\r\n"
	p = NewParser(strings.NewReader(raw), 4096, testBufs)
	if err := p.ReadResponse(false); !errors.Is(err, ErrHeaderTooLarge) {
		t.Fatalf("70000-byte line: err = %v, want ErrHeaderTooLarge", err)
	}
	many := "HTTP/1.1 200 OK\r\n" + strings.Repeat("X-A: b\r\n", 20000) + "\r\n"
	p = NewParser(strings.NewReader(many), 4096, testBufs)
	if err := p.ReadResponse(false); !errors.Is(err, ErrHeaderTooLarge) {
		t.Fatalf("20000 header lines: err = %v, want ErrHeaderTooLarge", err)
	}
}

func TestParserCollectsCookies(t *testing.T) {
	p, err := parseOne("HTTP/1.1 200 OK\r\nSet-Cookie: a=1; Path=/\r\nset-cookie: b=2\r\nContent-Length: 0\r\n\r\n", false, false, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(p.SetCookies); got != "a=1; Path=/\nb=2\n" {
		t.Errorf("cookies = %q", got)
	}
}

func TestParserKeepsConnectionUsable(t *testing.T) {
	raw := "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nd\r\n0\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
	p := NewParser(strings.NewReader(raw), 4096, testBufs)
	p.KeepBody, p.BodyLimit = false, 0
	for i, want := range []int{200, 200, 404} {
		if err := p.ReadResponse(false); err != nil || p.Status != want {
			t.Fatalf("response %d: status %d err %v, want %d", i, p.Status, err, want)
		}
	}
}

func FuzzParser(f *testing.F) {
	f.Add("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", false)
	f.Add("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", false)
	f.Add("HTTP/1.0 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\n\r\nbody", false)
	f.Add("HTTP/1.1 204 No Content\r\nSet-Cookie: a=b\r\n\r\n", true)
	f.Fuzz(func(t *testing.T, raw string, head bool) {
		p := NewParser(strings.NewReader(raw), 256, testBufs)
		p.MaxHeader = 512
		p.KeepHeader, p.KeepBody, p.BodyLimit, p.CollectCookies = true, true, 64, true
		for i := 0; i < 4; i++ {
			if err := p.ReadResponse(head); err != nil {
				return
			}
			if len(p.Body) > 64 {
				t.Fatalf("kept %d body bytes, limit 64", len(p.Body))
			}
			if p.WireBytes > int64(len(raw)) {
				t.Fatalf("counted %d wire bytes of %d", p.WireBytes, len(raw))
			}
			if p.Status < 100 || p.Status > 999 {
				t.Fatalf("status %d", p.Status)
			}
		}
	})
}

func BenchmarkParser(b *testing.B) {
	resp := "HTTP/1.1 200 OK\r\nServer: nginx\r\nDate: Mon, 23 Nov 2026 12:00:00 GMT\r\nContent-Type: text/plain\r\nContent-Length: 600\r\nConnection: keep-alive\r\n\r\n" + strings.Repeat("x", 600)
	r := &repeatReader{data: []byte(resp)}
	p := NewParser(r, 16<<10, testBufs)
	b.ReportAllocs()
	b.SetBytes(int64(len(resp)))
	for b.Loop() {
		if err := p.ReadResponse(false); err != nil {
			b.Fatal(err)
		}
	}
}

// repeatReader returns data over and over.
type repeatReader struct {
	data []byte
	off  int
}

func (r *repeatReader) Read(b []byte) (int, error) {
	n := 0
	for n < len(b) {
		c := copy(b[n:], r.data[r.off:])
		n += c
		r.off = (r.off + c) % len(r.data)
	}
	return n, nil
}

// testBufs is the pool of the tests' parsers made with size 0.
var testBufs = NewBufPool(16 << 10)
