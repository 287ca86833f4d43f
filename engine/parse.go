package engine

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"
)

// Parse errors name what was wrong with the server's response.
var (
	ErrHeaderTooLarge = errors.New("response header larger than the limit")
	ErrBadStatusLine  = errors.New("malformed status line")
	ErrBadHeader      = errors.New("malformed header line")
	ErrBadChunk       = errors.New("malformed chunked encoding")
	ErrBadLength      = errors.New("malformed Content-Length")
)

// parser reads HTTP/1.x responses from a buffered reader in place. Its
// buffers are reused from one response to the next.
type parser struct {
	br        *bufio.Reader
	maxHeader int

	keepHeader bool // copy the raw header block into header
	keepBody   bool // copy the body, up to bodyLimit, into body
	bodyLimit  int
	cookies    bool // collect Set-Cookie values into cookieBuf

	header    []byte
	body      []byte
	cookieBuf []byte // Set-Cookie values, each ended by '\n'

	status      int
	http11      bool
	keepAlive   bool
	headerBytes int64
	bodyBytes   int64
	wireBytes   int64
	truncated   bool
	ref         time.Time     // the request's start, for firstByte
	firstByte   time.Duration // since ref
	gotByte     bool
}

func newParser(r io.Reader, size int) *parser {
	return &parser{br: bufio.NewReaderSize(r, size), maxHeader: 64 << 10}
}

func (p *parser) reset() {
	p.header = p.header[:0]
	p.body = p.body[:0]
	p.cookieBuf = p.cookieBuf[:0]
	p.status, p.http11, p.keepAlive = 0, false, false
	p.headerBytes, p.bodyBytes, p.wireBytes = 0, 0, 0
	p.truncated, p.gotByte = false, false
}

// read parses one response to a request with method HEAD when head is
// true. 1xx interim responses other than 101 are skipped (and counted in
// the bytes read).
func (p *parser) read(head bool) error {
	p.reset()
	if _, err := p.br.Peek(1); err != nil {
		return err
	}
	p.firstByte = time.Since(p.ref)
	p.gotByte = true
	for {
		cl, chunked, connTok, err := p.readHeader()
		if err != nil {
			return err
		}
		if p.status >= 100 && p.status < 200 && p.status != 101 {
			p.header = p.header[:0]
			p.cookieBuf = p.cookieBuf[:0]
			continue
		}
		switch connTok {
		case tokClose:
			p.keepAlive = false
		case tokKeepAlive:
			p.keepAlive = true
		default:
			p.keepAlive = p.http11
		}
		switch {
		case head || p.status == 204 || p.status == 304 || p.status < 200:
			if p.status == 101 {
				p.keepAlive = false
			}
			return nil
		case chunked:
			return p.readChunked()
		case cl >= 0:
			return p.readFixed(cl)
		default:
			p.keepAlive = false
			return p.readToEOF()
		}
	}
}

const (
	tokNone = iota
	tokClose
	tokKeepAlive
)

// readLine returns one line including its '\n', valid until the next read.
func (p *parser) readLine(budget *int) ([]byte, error) {
	line, err := p.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull || len(line) > *budget {
		return nil, ErrHeaderTooLarge
	}
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	*budget -= len(line)
	p.wireBytes += int64(len(line))
	p.headerBytes += int64(len(line))
	return line, nil
}

func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}

func (p *parser) readHeader() (cl int64, chunked bool, connTok int, err error) {
	budget := p.maxHeader
	line, err := p.readLine(&budget)
	if err != nil {
		return 0, false, 0, fmt.Errorf("status line: %w", err)
	}
	if p.keepHeader {
		p.header = append(p.header, line...)
	}
	sl := trimEOL(line)
	// "HTTP/1.1 200 OK"
	if len(sl) < 12 || !bytes.HasPrefix(sl, []byte("HTTP/1.")) || sl[8] != ' ' ||
		!isDigit(sl[9]) || !isDigit(sl[10]) || !isDigit(sl[11]) || (len(sl) > 12 && sl[12] != ' ') {
		return 0, false, 0, fmt.Errorf("%w: %q", ErrBadStatusLine, clip(sl))
	}
	p.http11 = sl[7] == '1'
	p.status = int(sl[9]-'0')*100 + int(sl[10]-'0')*10 + int(sl[11]-'0')
	if p.status < 100 {
		return 0, false, 0, fmt.Errorf("%w: status %d: %q", ErrBadStatusLine, p.status, clip(sl))
	}
	cl = -1
	for {
		line, err = p.readLine(&budget)
		if err != nil {
			return 0, false, 0, fmt.Errorf("headers: %w", err)
		}
		if p.keepHeader {
			p.header = append(p.header, line...)
		}
		h := trimEOL(line)
		if len(h) == 0 {
			return cl, chunked, connTok, nil
		}
		colon := bytes.IndexByte(h, ':')
		if colon <= 0 {
			if h[0] == ' ' || h[0] == '\t' {
				continue // obsolete line folding: ignore the continuation
			}
			return 0, false, 0, fmt.Errorf("%w: %q", ErrBadHeader, clip(h))
		}
		name, val := h[:colon], bytes.TrimSpace(h[colon+1:])
		switch {
		case asciiEqualFold(name, "content-length"):
			n, ok := parseDecimal(val)
			if !ok || (cl >= 0 && n != cl) {
				return 0, false, 0, fmt.Errorf("%w: %q", ErrBadLength, clip(val))
			}
			cl = n
		case asciiEqualFold(name, "transfer-encoding"):
			if hasToken(val, "chunked") {
				chunked = true
			}
		case asciiEqualFold(name, "connection"):
			if hasToken(val, "close") {
				connTok = tokClose
			} else if hasToken(val, "keep-alive") && connTok != tokClose {
				connTok = tokKeepAlive
			}
		case p.cookies && asciiEqualFold(name, "set-cookie"):
			p.cookieBuf = append(p.cookieBuf, val...)
			p.cookieBuf = append(p.cookieBuf, '\n')
		}
	}
}

// take consumes n body bytes, keeping what fits in the body buffer.
func (p *parser) take(n int64) error {
	for n > 0 {
		buf, err := p.br.Peek(1)
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		avail := p.br.Buffered()
		if avail == 0 {
			avail = len(buf)
		}
		if int64(avail) > n {
			avail = int(n)
		}
		chunk, _ := p.br.Peek(avail)
		p.keep(chunk)
		p.br.Discard(avail)
		n -= int64(avail)
		p.bodyBytes += int64(avail)
		p.wireBytes += int64(avail)
	}
	return nil
}

func (p *parser) keep(chunk []byte) {
	if !p.keepBody {
		return
	}
	room := p.bodyLimit - len(p.body)
	if room <= 0 {
		if len(chunk) > 0 {
			p.truncated = true
		}
		return
	}
	if len(chunk) > room {
		chunk = chunk[:room]
		p.truncated = true
	}
	p.body = append(p.body, chunk...)
}

func (p *parser) readFixed(n int64) error {
	if err := p.take(n); err != nil {
		return fmt.Errorf("body: %w after %d of %d bytes", err, p.bodyBytes, n)
	}
	return nil
}

func (p *parser) readToEOF() error {
	for {
		if _, err := p.br.Peek(1); err != nil {
			if err == io.EOF {
				return nil
			}
			return fmt.Errorf("body: %w after %d bytes", err, p.bodyBytes)
		}
		if err := p.take(int64(p.br.Buffered())); err != nil {
			return err
		}
	}
}

func (p *parser) readChunked() error {
	budget := p.maxHeader
	for {
		line, err := p.br.ReadSlice('\n')
		if err != nil {
			if err == bufio.ErrBufferFull {
				return fmt.Errorf("%w: chunk size line too long", ErrBadChunk)
			}
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("body: %w after %d bytes", err, p.bodyBytes)
		}
		p.wireBytes += int64(len(line))
		sz := trimEOL(line)
		if i := bytes.IndexByte(sz, ';'); i >= 0 {
			sz = sz[:i]
		}
		n, ok := parseHex(bytes.TrimSpace(sz))
		if !ok {
			return fmt.Errorf("%w: size %q", ErrBadChunk, clip(sz))
		}
		if n == 0 {
			for { // trailers
				line, err := p.readLine(&budget)
				if err != nil {
					return fmt.Errorf("chunk trailer: %w", err)
				}
				p.headerBytes -= int64(len(line))
				if len(trimEOL(line)) == 0 {
					return nil
				}
			}
		}
		if err := p.take(n); err != nil {
			return fmt.Errorf("body: %w in a chunk of %d bytes", err, n)
		}
		crlf, err := p.br.ReadSlice('\n')
		if err != nil || len(trimEOL(crlf)) != 0 {
			if err == nil {
				err = fmt.Errorf("%w: missing CRLF after chunk data", ErrBadChunk)
			}
			return err
		}
		p.wireBytes += int64(len(crlf))
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func parseDecimal(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if !isDigit(c) {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

func parseHex(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 15 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			n = n<<4 | int64(c-'0')
		case c >= 'a' && c <= 'f':
			n = n<<4 | int64(c-'a'+10)
		case c >= 'A' && c <= 'F':
			n = n<<4 | int64(c-'A'+10)
		default:
			return 0, false
		}
	}
	return n, true
}

func asciiEqualFold(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// hasToken reports whether the comma-separated list v holds tok, ignoring case.
func hasToken(v []byte, tok string) bool {
	for len(v) > 0 {
		i := bytes.IndexByte(v, ',')
		var item []byte
		if i < 0 {
			item, v = v, nil
		} else {
			item, v = v[:i], v[i+1:]
		}
		if asciiEqualFold(bytes.TrimSpace(item), tok) {
			return true
		}
	}
	return false
}

// clip shortens server-provided text quoted in an error.
func clip(b []byte) []byte {
	if len(b) > 64 {
		return b[:64]
	}
	return b
}
