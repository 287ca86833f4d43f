package engine

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/benchgate/benchgate/failure"
)

// Parse errors name what was wrong with the server's response; each is a
// failure.Parse (failure.KindOf).
var (
	ErrHeaderTooLarge = failure.New(failure.Parse, "response header larger than the limit")
	ErrBadStatusLine  = failure.New(failure.Parse, "malformed status line")
	ErrBadHeader      = failure.New(failure.Parse, "malformed header line")
	ErrBadChunk       = failure.New(failure.Parse, "malformed chunked encoding")
	ErrBadLength      = failure.New(failure.Parse, "malformed Content-Length")
	ErrBadFraming     = failure.New(failure.Parse, "conflicting message framing")
)

// parser parses HTTP/1.x responses incrementally from its own buffer, so
// the same code serves a blocking connection (read) and the event loop
// (feed bytes, call step until done). Its buffers are reused from one
// response to the next; nothing is allocated per response.
type parser struct {
	src       io.Reader // for read; nil when the event loop fills buf
	buf       []byte
	r, w      int // unread bytes are buf[r:w]
	maxHeader int
	pool      *bufPool // where buf comes from when nil
	bufp      *[]byte  // buf's pool entry, while buf is the pool's
	// waitReadable, when set, waits until src has bytes to read (or an
	// error), before a buffer is taken for them.
	waitReadable func() error

	keepHeader bool // copy the raw header block into header
	keepBody   bool // copy the body, up to bodyLimit, into body
	bodyLimit  int
	cookies    bool // collect Set-Cookie values into cookieBuf

	header    []byte
	body      []byte
	cookieBuf []byte // Set-Cookie values, each ended by '\n'
	coding    []byte // the Content-Encoding list

	status      int
	http11      bool
	http2       bool // the response came as an HTTP/2 stream
	keepAlive   bool
	headerBytes int64
	bodyBytes   int64
	wireBytes   int64
	truncated   bool
	ref         time.Time     // the request's start, for firstByte
	firstByte   time.Duration // since ref
	headersDone time.Duration // since ref: the final response's headers are in
	gotByte     bool

	// parse state
	state     int
	head      bool
	budget    int
	remaining int64
	cl        int64
	te        bool // a Transfer-Encoding header came
	chunked   bool // and its final coding is chunked
	connTok   int

	// noBody marks the statuses registered as having no body
	// (Plan.NoBodyStatuses), indexed by status; nil when none are.
	noBody []bool
	// regHead says head is set for a method of Plan.NoBodyMethods, not
	// HEAD (set before begin, which leaves it)
	regHead bool
}

const (
	stStatus = iota
	stHeaders
	stFixed
	stChunkSize
	stChunkData
	stChunkEnd
	stTrailer
	stToEOF
	stDone
)

// sampleBytes is how much of a body is kept when the step keeps none,
// for the sample a failure shows.
const sampleBytes = 256

// chunkLineMax bounds a chunk-size line (extensions included).
const chunkLineMax = 4096

// errNeedMore says step needs more bytes in the buffer.
var errNeedMore = errors.New("need more input")

// newParser returns a parser reading from r into a buffer of size bytes,
// or with size 0 into a buffer from slotBufs taken at the first read.
func newParser(r io.Reader, size int) *parser {
	p := &parser{src: r, maxHeader: 64 << 10, pool: slotBufs}
	if size > 0 {
		p.buf = make([]byte, size)
	}
	return p
}

// discardInput drops buffered bytes, for a new connection.
func (p *parser) discardInput() { p.r, p.w = 0, 0 }

// begin resets the outputs for a response to a request with method HEAD
// when head is true.
func (p *parser) begin(head bool) {
	p.header = p.header[:0]
	p.body = p.body[:0]
	p.cookieBuf = p.cookieBuf[:0]
	p.coding = p.coding[:0] // HTTP/2 responses fill it without a status line
	p.status, p.http11, p.http2, p.keepAlive = 0, false, false, false
	p.headerBytes, p.bodyBytes, p.wireBytes = 0, 0, 0
	p.truncated, p.gotByte = false, false
	p.state, p.head, p.budget = stStatus, head, p.maxHeader
	if p.r < p.w {
		p.markFirstByte()
	}
}

func (p *parser) markFirstByte() {
	if !p.gotByte {
		p.gotByte = true
		p.firstByte = time.Since(p.ref)
	}
}

// space returns the free tail of the buffer to read into, compacting or
// growing it first. It returns nil when a header line does not fit.
func (p *parser) space() []byte {
	if p.buf == nil {
		p.bufp = p.pool.get()
		p.buf = *p.bufp
	}
	if p.r == p.w {
		p.r, p.w = 0, 0
	}
	if p.w < len(p.buf) {
		return p.buf[p.w:]
	}
	if p.r > 0 {
		n := copy(p.buf, p.buf[p.r:p.w])
		p.r, p.w = 0, n
		return p.buf[p.w:]
	}
	if len(p.buf) >= p.maxHeader+1024 {
		return nil
	}
	nb := make([]byte, 2*len(p.buf))
	copy(nb, p.buf[:p.w])
	p.buf, p.bufp = nb, nil
	return p.buf[p.w:]
}

// bufPool holds read buffers of one size; a header line longer than a
// buffer grows it, up to the header limit.
type bufPool struct {
	size int
	pool sync.Pool
}

// The read buffers: 16 KiB for the slots executor's slots, which keep theirs
// and read bodies fast; 4 KiB (net/http's) for virtual users, thousands
// of which may wait for an answer at once.
var (
	slotBufs = &bufPool{size: 16 << 10}
	vuBufs   = &bufPool{size: 4 << 10}
)

func (b *bufPool) get() *[]byte {
	if v, ok := b.pool.Get().(*[]byte); ok {
		return v
	}
	buf := make([]byte, b.size)
	return &buf
}

// release returns the read buffer to its pool when it holds no unread
// byte, so a virtual user that thinks between requests keeps none. The
// next read takes one again.
func (p *parser) release() {
	if p.bufp == nil || p.r != p.w || len(p.buf) != p.pool.size {
		return
	}
	p.pool.pool.Put(p.bufp)
	p.buf, p.bufp, p.r, p.w = nil, nil, 0, 0
}

// filled records n bytes read into space().
func (p *parser) filled(n int) {
	if n > 0 {
		p.w += n
		p.markFirstByte()
	}
}

// read parses one whole response from src. 1xx interim responses other
// than 101 are skipped (and counted in the bytes read).
func (p *parser) read(head bool) error {
	p.begin(head)
	eof := false
	for {
		done, err := p.step(eof)
		if done {
			return nil
		}
		if err != errNeedMore {
			return err
		}
		if p.buf == nil && p.waitReadable != nil {
			// wait for the answer without holding a buffer: thousands of
			// virtual users may be waiting at once
			if err := p.waitReadable(); err != nil {
				return p.readError(err)
			}
		}
		sp := p.space()
		if sp == nil {
			return ErrHeaderTooLarge
		}
		n, rerr := p.src.Read(sp)
		p.filled(n)
		if rerr == io.EOF {
			eof = true
		} else if rerr != nil {
			if n == 0 {
				return p.readError(rerr)
			}
		}
	}
}

// readError wraps a connection error with where in the response it hit.
func (p *parser) readError(err error) error {
	switch p.state {
	case stStatus:
		return fmt.Errorf("status line: %w", err)
	case stHeaders:
		return fmt.Errorf("headers: %w", err)
	}
	return fmt.Errorf("body: %w after %d bytes", err, p.bodyBytes)
}

// line returns the next buffered line including its '\n', or errNeedMore.
func (p *parser) line(eof bool) ([]byte, error) {
	i := bytes.IndexByte(p.buf[p.r:p.w], '\n')
	if i < 0 {
		if p.w-p.r > p.budget {
			return nil, ErrHeaderTooLarge
		}
		if eof {
			if p.state == stStatus && p.r == p.w && p.wireBytes == 0 {
				return nil, io.EOF
			}
			return nil, io.ErrUnexpectedEOF
		}
		return nil, errNeedMore
	}
	if i+1 > p.budget {
		return nil, ErrHeaderTooLarge
	}
	line := p.buf[p.r : p.r+i+1]
	p.r += i + 1
	p.budget -= len(line)
	p.wireBytes += int64(len(line))
	return line, nil
}

// step parses as much of the buffer as it can. done is true when the
// response is complete; err is errNeedMore when more input is needed.
func (p *parser) step(eof bool) (done bool, err error) {
	for {
		switch p.state {
		case stStatus, stHeaders:
			line, err := p.line(eof)
			if err != nil {
				if err == errNeedMore {
					return false, err
				}
				return false, p.readError(err)
			}
			p.headerBytes += int64(len(line))
			if p.keepHeader {
				p.header = append(p.header, line...)
			}
			if p.state == stStatus {
				if err := p.statusLine(trimEOL(line)); err != nil {
					return false, err
				}
				p.state = stHeaders
				continue
			}
			if h := trimEOL(line); len(h) > 0 {
				if err := p.headerLine(h); err != nil {
					return false, err
				}
				continue
			}
			done, err := p.endOfHeaders()
			if err != nil || done {
				return done, err
			}
		case stFixed, stChunkData:
			if p.r == p.w {
				if eof {
					if p.state == stFixed {
						return false, fmt.Errorf("body: %w after %d of %d bytes", io.ErrUnexpectedEOF, p.bodyBytes, p.cl)
					}
					return false, fmt.Errorf("body: %w in a chunk", io.ErrUnexpectedEOF)
				}
				return false, errNeedMore
			}
			p.take()
			if p.remaining > 0 {
				continue
			}
			if p.state == stFixed {
				p.state = stDone
				return true, nil
			}
			p.state, p.budget = stChunkEnd, chunkLineMax
		case stChunkSize, stChunkEnd, stTrailer:
			line, err := p.line(eof)
			if err != nil {
				if err == errNeedMore {
					return false, err
				}
				if err == ErrHeaderTooLarge && p.state != stTrailer {
					return false, fmt.Errorf("%w: chunk line too long", ErrBadChunk)
				}
				if err == ErrHeaderTooLarge {
					return false, fmt.Errorf("chunk trailer: %w", err)
				}
				return false, fmt.Errorf("body: %w after %d bytes", err, p.bodyBytes)
			}
			l := trimEOL(line)
			switch p.state {
			case stChunkEnd:
				if len(l) != 0 {
					return false, fmt.Errorf("%w: missing CRLF after chunk data", ErrBadChunk)
				}
				p.state, p.budget = stChunkSize, chunkLineMax
			case stTrailer:
				if len(l) == 0 {
					p.state = stDone
					return true, nil
				}
			default:
				if i := bytes.IndexByte(l, ';'); i >= 0 {
					l = l[:i]
				}
				n, ok := parseHex(bytes.TrimSpace(l))
				if !ok {
					return false, fmt.Errorf("%w: size %q", ErrBadChunk, clip(l))
				}
				if n == 0 {
					p.state, p.budget = stTrailer, p.maxHeader
				} else {
					p.remaining, p.state = n, stChunkData
				}
			}
		case stToEOF:
			if p.r < p.w {
				p.remaining = int64(p.w - p.r)
				p.take()
			}
			if eof {
				p.state = stDone
				return true, nil
			}
			return false, errNeedMore
		default:
			return true, nil
		}
	}
}

func (p *parser) statusLine(sl []byte) error {
	// "HTTP/1.1 200 OK"
	if len(sl) < 12 || !bytes.HasPrefix(sl, []byte("HTTP/1.")) || sl[8] != ' ' ||
		!isDigit(sl[9]) || !isDigit(sl[10]) || !isDigit(sl[11]) || (len(sl) > 12 && sl[12] != ' ') {
		return fmt.Errorf("%w: %q", ErrBadStatusLine, clip(sl))
	}
	p.http11 = sl[7] == '1'
	p.status = int(sl[9]-'0')*100 + int(sl[10]-'0')*10 + int(sl[11]-'0')
	if p.status < 100 {
		return fmt.Errorf("%w: status %d: %q", ErrBadStatusLine, p.status, clip(sl))
	}
	p.cl, p.te, p.chunked, p.connTok = -1, false, false, tokNone
	p.coding = p.coding[:0]
	return nil
}

func (p *parser) headerLine(h []byte) error {
	colon := bytes.IndexByte(h, ':')
	if colon <= 0 {
		if h[0] == ' ' || h[0] == '\t' {
			return nil // obsolete line folding: ignore the continuation
		}
		return fmt.Errorf("%w: %q", ErrBadHeader, clip(h))
	}
	name, val := h[:colon], bytes.TrimSpace(h[colon+1:])
	if !isToken(name) {
		// RFC 9112 §5.1: no whitespace between name and colon; a name
		// that is not a token could hide a framing header.
		return fmt.Errorf("%w: field name %q", ErrBadHeader, clip(name))
	}
	if bytes.IndexByte(val, 0) >= 0 || bytes.IndexByte(val, '\r') >= 0 {
		// RFC 9110 §5.5: CR, LF and NUL are never valid in a value.
		return fmt.Errorf("%w: control character in the value of %q", ErrBadHeader, clip(name))
	}
	switch {
	case asciiEqualFold(name, "content-length"):
		n, ok := parseDecimal(val)
		if !ok || (p.cl >= 0 && n != p.cl) {
			return fmt.Errorf("%w: %q", ErrBadLength, clip(val))
		}
		p.cl = n
	case asciiEqualFold(name, "transfer-encoding"):
		// RFC 9112 §6.3: the body is chunked only when chunked is the
		// final coding of the (combined) list; the last header field
		// holds the end of that list.
		p.te = true
		p.chunked = lastTokenIs(val, "chunked")
	case asciiEqualFold(name, "connection"):
		if hasToken(val, "close") {
			p.connTok = tokClose
		} else if hasToken(val, "keep-alive") && p.connTok != tokClose {
			p.connTok = tokKeepAlive
		}
	case asciiEqualFold(name, "content-encoding"):
		if len(p.coding) > 0 {
			p.coding = append(p.coding, ',')
		}
		p.coding = append(p.coding, val...)
	case p.cookies && asciiEqualFold(name, "set-cookie"):
		p.cookieBuf = append(p.cookieBuf, val...)
		p.cookieBuf = append(p.cookieBuf, '\n')
	}
	return nil
}

// endOfHeaders chooses how the body is framed (RFC 9112 §6.3); done is
// true when the response has no body.
func (p *parser) endOfHeaders() (done bool, err error) {
	if p.status >= 100 && p.status < 200 && p.status != 101 {
		// interim response: the real one follows
		p.header = p.header[:0]
		p.cookieBuf = p.cookieBuf[:0]
		p.state, p.budget = stStatus, p.maxHeader
		return false, nil
	}
	p.headersDone = time.Since(p.ref)
	switch p.connTok {
	case tokClose:
		p.keepAlive = false
	case tokKeepAlive:
		p.keepAlive = true
	default:
		p.keepAlive = p.http11
	}
	if p.te {
		if p.cl >= 0 {
			// §6.3 rule 3: a sign of smuggling or response splitting,
			// to be handled as an error. net/http's client lets
			// Transfer-Encoding win instead.
			p.keepAlive = false
			return false, fmt.Errorf("%w: Content-Length together with Transfer-Encoding", ErrBadFraming)
		}
		if !p.http11 {
			// §6.1: an HTTP/1.0 message with Transfer-Encoding has
			// faulty framing; close the connection after it.
			p.keepAlive = false
		}
	}
	switch {
	case p.head || p.status == 204 || p.status == 304 || p.status < 200 || p.status < len(p.noBody) && p.noBody[p.status]:
		if p.status == 101 {
			p.keepAlive = false
		}
		if (p.regHead || !p.head) && p.status >= 200 && p.status != 204 && p.status != 304 && (p.te || p.cl != 0) {
			// a registered no-body method or status whose headers frame
			// a body: the server, which does not know of the
			// registration, sends it, and maybe late; read as the next
			// response, it would be taken for another request's answer
			p.keepAlive = false
		}
		p.state = stDone
		return true, nil
	case p.te && p.chunked:
		p.state, p.budget = stChunkSize, chunkLineMax
	case p.te:
		// §6.3 rule 4: chunked is not the final coding (or the coding
		// is identity): the body runs to the close.
		p.keepAlive = false
		p.state = stToEOF
	case p.cl >= 0:
		if p.cl == 0 {
			p.state = stDone
			return true, nil
		}
		p.state, p.remaining = stFixed, p.cl
	default:
		p.keepAlive = false
		p.state = stToEOF
	}
	return false, nil
}

// leftover describes bytes buffered beyond the end of a complete
// response ("" when there are none). They belong to no request: the
// connection must be closed, never read for the next response.
func (p *parser) leftover() string {
	n := p.w - p.r
	if n <= 0 {
		return ""
	}
	var framing string
	switch {
	case p.head:
		framing = "a response to HEAD has no body"
	case p.status == 204 || p.status == 304 || p.status < len(p.noBody) && p.noBody[p.status]:
		framing = fmt.Sprintf("a %d response has no body", p.status)
	case p.chunked:
		framing = "after the last chunk"
	default:
		framing = fmt.Sprintf("after Content-Length %d", p.cl)
	}
	return fmt.Sprintf("%d unexpected bytes after the response (%s): connection closed", n, framing)
}

const (
	tokNone = iota
	tokClose
	tokKeepAlive
)

// take consumes up to remaining buffered body bytes.
func (p *parser) take() {
	n := p.w - p.r
	if int64(n) > p.remaining {
		n = int(p.remaining)
	}
	p.keep(p.buf[p.r : p.r+n])
	p.r += n
	p.remaining -= int64(n)
	p.bodyBytes += int64(n)
	p.wireBytes += int64(n)
}

func (p *parser) keep(chunk []byte) {
	if !p.keepBody {
		// Keep the start of the body anyway, for a failure's sample.
		if room := sampleBytes - len(p.body); room > 0 && len(chunk) > 0 {
			p.body = append(p.body, chunk[:min(room, len(chunk))]...)
		}
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

func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}

// tokenChars marks the bytes of an RFC 9110 token.
var tokenChars = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

func isToken(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if !tokenChars[c] {
			return false
		}
	}
	return true
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

// lastTokenIs reports whether the last item of the comma-separated list
// v is tok, ignoring case.
func lastTokenIs(v []byte, tok string) bool {
	if i := bytes.LastIndexByte(v, ','); i >= 0 {
		v = v[i+1:]
	}
	return asciiEqualFold(bytes.TrimSpace(v), tok)
}

// clip shortens server-provided text quoted in an error.
func clip(b []byte) []byte {
	if len(b) > 64 {
		return b[:64]
	}
	return b
}
