package h1

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

// Parser parses HTTP/1.x responses incrementally from its own buffer, so
// the same code serves a blocking connection (ReadResponse) and an event
// loop (Begin; then Space, fill, Filled and Step until done). Its buffers
// are reused from one response to the next; nothing is allocated per
// response.
//
// The caller sets the options (MaxHeader to RegisteredHead) between
// responses and reads the outputs (Header to GotByte) after one.
type Parser struct {
	src  io.Reader // for ReadResponse; nil when the caller fills buf
	buf  []byte
	r, w int     // unread bytes are buf[r:w]
	bufp *[]byte // buf's pool entry, while buf is the pool's

	// MaxHeader bounds the response head (status line, headers, and
	// each interim response's), and the trailers; DefaultMaxHeader.
	MaxHeader int
	// Pool is where the read buffer comes from when the parser has
	// none (NewParser with size 0, or after Release).
	Pool *BufPool
	// WaitReadable, when set, waits until src has bytes to read (or an
	// error), before a buffer is taken for them.
	WaitReadable func() error

	KeepHeader     bool // copy the raw header block into Header
	KeepBody       bool // copy the body, up to BodyLimit, into Body
	BodyLimit      int
	CollectCookies bool // collect Set-Cookie values into SetCookies

	// NoBody marks the statuses registered as having no body, indexed
	// by status; nil when none are.
	NoBody []bool
	// RegisteredHead says the request's method was registered as having
	// no body in its response, though it is not HEAD: set before Begin
	// (which leaves it), with Begin's head true.
	RegisteredHead bool

	// Header is the final response's raw head when KeepHeader is set
	// (interim responses dropped); Body its body, up to BodyLimit, or
	// its first bytes (a sample for a failure) when KeepBody is not set.
	Header     []byte
	Body       []byte
	SetCookies []byte // Set-Cookie values, each ended by '\n'
	Coding     []byte // the Content-Encoding list

	Status      int
	HTTP11      bool
	HTTP2       bool // the response came as an HTTP/2 stream (set by its reader)
	KeepAlive   bool // the connection may carry the next request
	HeaderBytes int64
	BodyBytes   int64         // as framed on the wire (chunk framing excluded)
	WireBytes   int64         // every byte consumed, interim responses included
	Truncated   bool          // the body was longer than BodyLimit
	Ref         time.Time     // the request's start, for FirstByte
	FirstByte   time.Duration // since Ref
	HeadersDone time.Duration // since Ref: the final response's headers are in
	GotByte     bool          // a byte of the response came (FirstByte is set)

	// parse state
	state     int
	head      bool
	budget    int
	remaining int64
	cl        int64
	te        bool // a Transfer-Encoding header came
	chunked   bool // and its final coding is chunked
	connTok   int
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

// ErrNeedMore says Step needs more bytes in the buffer.
var ErrNeedMore = errors.New("need more input")

// DefaultMaxHeader is a new Parser's MaxHeader: 64 KiB.
const DefaultMaxHeader = 64 << 10

// NewParser returns a parser reading from r into a buffer of size bytes,
// or with size 0 into a buffer from pool taken at the first read. r is
// nil when the caller fills the buffer itself (Space, Filled, Step).
func NewParser(r io.Reader, size int, pool *BufPool) *Parser {
	p := &Parser{src: r, MaxHeader: DefaultMaxHeader, Pool: pool}
	if size > 0 {
		p.buf = make([]byte, size)
	}
	return p
}

// DiscardInput drops buffered bytes, for a new connection.
func (p *Parser) DiscardInput() { p.r, p.w = 0, 0 }

// Begin resets the outputs for a response to a request with method HEAD
// when head is true.
func (p *Parser) Begin(head bool) {
	p.Header = p.Header[:0]
	p.Body = p.Body[:0]
	p.SetCookies = p.SetCookies[:0]
	p.Coding = p.Coding[:0] // HTTP/2 responses fill it without a status line
	p.Status, p.HTTP11, p.HTTP2, p.KeepAlive = 0, false, false, false
	p.HeaderBytes, p.BodyBytes, p.WireBytes = 0, 0, 0
	p.Truncated, p.GotByte = false, false
	p.state, p.head, p.budget = stStatus, head, p.MaxHeader
	if p.r < p.w {
		p.markFirstByte()
	}
}

func (p *Parser) markFirstByte() {
	if !p.GotByte {
		p.GotByte = true
		p.FirstByte = time.Since(p.Ref)
	}
}

// Space returns the free tail of the buffer to read into, compacting or
// growing it first. It returns nil when a header line does not fit.
func (p *Parser) Space() []byte {
	if p.buf == nil {
		p.bufp = p.Pool.get()
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
	if len(p.buf) >= p.MaxHeader+1024 {
		return nil
	}
	nb := make([]byte, 2*len(p.buf))
	copy(nb, p.buf[:p.w])
	p.buf, p.bufp = nb, nil
	return p.buf[p.w:]
}

// BufPool holds read buffers of one size; a header line longer than a
// buffer grows it, up to the header limit.
type BufPool struct {
	size int
	pool sync.Pool
}

// NewBufPool returns a pool of read buffers of size bytes.
func NewBufPool(size int) *BufPool { return &BufPool{size: size} }

func (b *BufPool) get() *[]byte {
	if v, ok := b.pool.Get().(*[]byte); ok {
		return v
	}
	buf := make([]byte, b.size)
	return &buf
}

// Release returns the read buffer to its pool when it holds no unread
// byte, so a virtual user that thinks between requests keeps none. The
// next read takes one again.
func (p *Parser) Release() {
	if p.bufp == nil || p.r != p.w || len(p.buf) != p.Pool.size {
		return
	}
	p.Pool.pool.Put(p.bufp)
	p.buf, p.bufp, p.r, p.w = nil, nil, 0, 0
}

// Filled records n bytes read into Space().
func (p *Parser) Filled(n int) {
	if n > 0 {
		p.w += n
		p.markFirstByte()
	}
}

// ReadResponse parses one whole response from src, for a request with
// method HEAD when head is true (see Begin). 1xx interim responses
// other than 101 are skipped (and counted in the bytes read).
func (p *Parser) ReadResponse(head bool) error {
	p.Begin(head)
	eof := false
	for {
		done, err := p.Step(eof)
		if done {
			return nil
		}
		if err != ErrNeedMore {
			return err
		}
		if p.buf == nil && p.WaitReadable != nil {
			// wait for the answer without holding a buffer: thousands of
			// virtual users may be waiting at once
			if err := p.WaitReadable(); err != nil {
				return p.ReadError(err)
			}
		}
		sp := p.Space()
		if sp == nil {
			return ErrHeaderTooLarge
		}
		n, rerr := p.src.Read(sp)
		p.Filled(n)
		if rerr == io.EOF {
			eof = true
		} else if rerr != nil {
			if n == 0 {
				return p.ReadError(rerr)
			}
		}
	}
}

// ReadError wraps a connection error with where in the response it hit.
func (p *Parser) ReadError(err error) error {
	switch p.state {
	case stStatus:
		return fmt.Errorf("status line: %w", err)
	case stHeaders:
		return fmt.Errorf("headers: %w", err)
	}
	return fmt.Errorf("body: %w after %d bytes", err, p.BodyBytes)
}

// line returns the next buffered line including its '\n', or ErrNeedMore.
func (p *Parser) line(eof bool) ([]byte, error) {
	i := bytes.IndexByte(p.buf[p.r:p.w], '\n')
	if i < 0 {
		if p.w-p.r > p.budget {
			return nil, ErrHeaderTooLarge
		}
		if eof {
			if p.state == stStatus && p.r == p.w && p.WireBytes == 0 {
				return nil, io.EOF
			}
			return nil, io.ErrUnexpectedEOF
		}
		return nil, ErrNeedMore
	}
	if i+1 > p.budget {
		return nil, ErrHeaderTooLarge
	}
	line := p.buf[p.r : p.r+i+1]
	p.r += i + 1
	p.budget -= len(line)
	p.WireBytes += int64(len(line))
	return line, nil
}

// Step parses as much of the buffer as it can. done is true when the
// response is complete; err is ErrNeedMore when more input is needed. eof says the
// connection has no more bytes than those buffered.
func (p *Parser) Step(eof bool) (done bool, err error) {
	for {
		switch p.state {
		case stStatus, stHeaders:
			line, err := p.line(eof)
			if err != nil {
				if err == ErrNeedMore {
					return false, err
				}
				return false, p.ReadError(err)
			}
			p.HeaderBytes += int64(len(line))
			if p.KeepHeader {
				p.Header = append(p.Header, line...)
			}
			if p.state == stStatus {
				if err := p.statusLine(TrimEOL(line)); err != nil {
					return false, err
				}
				p.state = stHeaders
				continue
			}
			if h := TrimEOL(line); len(h) > 0 {
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
						return false, fmt.Errorf("body: %w after %d of %d bytes", io.ErrUnexpectedEOF, p.BodyBytes, p.cl)
					}
					return false, fmt.Errorf("body: %w in a chunk", io.ErrUnexpectedEOF)
				}
				return false, ErrNeedMore
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
				if err == ErrNeedMore {
					return false, err
				}
				if err == ErrHeaderTooLarge && p.state != stTrailer {
					return false, fmt.Errorf("%w: chunk line too long", ErrBadChunk)
				}
				if err == ErrHeaderTooLarge {
					return false, fmt.Errorf("chunk trailer: %w", err)
				}
				return false, fmt.Errorf("body: %w after %d bytes", err, p.BodyBytes)
			}
			l := TrimEOL(line)
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
					return false, fmt.Errorf("%w: size %q", ErrBadChunk, Clip(l))
				}
				if n == 0 {
					p.state, p.budget = stTrailer, p.MaxHeader
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
			return false, ErrNeedMore
		default:
			return true, nil
		}
	}
}

func (p *Parser) statusLine(sl []byte) error {
	// "HTTP/1.1 200 OK"
	if len(sl) < 12 || !bytes.HasPrefix(sl, []byte("HTTP/1.")) || sl[8] != ' ' ||
		!isDigit(sl[9]) || !isDigit(sl[10]) || !isDigit(sl[11]) || (len(sl) > 12 && sl[12] != ' ') {
		return fmt.Errorf("%w: %q", ErrBadStatusLine, Clip(sl))
	}
	p.HTTP11 = sl[7] == '1'
	p.Status = int(sl[9]-'0')*100 + int(sl[10]-'0')*10 + int(sl[11]-'0')
	if p.Status < 100 {
		return fmt.Errorf("%w: status %d: %q", ErrBadStatusLine, p.Status, Clip(sl))
	}
	p.cl, p.te, p.chunked, p.connTok = -1, false, false, tokNone
	p.Coding = p.Coding[:0]
	return nil
}

func (p *Parser) headerLine(h []byte) error {
	colon := bytes.IndexByte(h, ':')
	if colon <= 0 {
		if h[0] == ' ' || h[0] == '\t' {
			return nil // obsolete line folding: ignore the continuation
		}
		return fmt.Errorf("%w: %q", ErrBadHeader, Clip(h))
	}
	name, val := h[:colon], bytes.TrimSpace(h[colon+1:])
	if !IsToken(name) {
		// RFC 9112 §5.1: no whitespace between name and colon; a name
		// that is not a token could hide a framing header.
		return fmt.Errorf("%w: field name %q", ErrBadHeader, Clip(name))
	}
	if bytes.IndexByte(val, 0) >= 0 || bytes.IndexByte(val, '\r') >= 0 {
		// RFC 9110 §5.5: CR, LF and NUL are never valid in a value.
		return fmt.Errorf("%w: control character in the value of %q", ErrBadHeader, Clip(name))
	}
	switch {
	case EqualFold(name, "content-length"):
		n, ok := parseDecimal(val)
		if !ok || (p.cl >= 0 && n != p.cl) {
			return fmt.Errorf("%w: %q", ErrBadLength, Clip(val))
		}
		p.cl = n
	case EqualFold(name, "transfer-encoding"):
		// RFC 9112 §6.3: the body is chunked only when chunked is the
		// final coding of the (combined) list; the last header field
		// holds the end of that list.
		p.te = true
		p.chunked = lastTokenIs(val, "chunked")
	case EqualFold(name, "connection"):
		if hasToken(val, "close") {
			p.connTok = tokClose
		} else if hasToken(val, "keep-alive") && p.connTok != tokClose {
			p.connTok = tokKeepAlive
		}
	case EqualFold(name, "content-encoding"):
		if len(p.Coding) > 0 {
			p.Coding = append(p.Coding, ',')
		}
		p.Coding = append(p.Coding, val...)
	case p.CollectCookies && EqualFold(name, "set-cookie"):
		p.SetCookies = append(p.SetCookies, val...)
		p.SetCookies = append(p.SetCookies, '\n')
	}
	return nil
}

// endOfHeaders chooses how the body is framed (RFC 9112 §6.3); done is
// true when the response has no body.
func (p *Parser) endOfHeaders() (done bool, err error) {
	if p.Status >= 100 && p.Status < 200 && p.Status != 101 {
		// interim response: the real one follows
		p.Header = p.Header[:0]
		p.SetCookies = p.SetCookies[:0]
		p.state, p.budget = stStatus, p.MaxHeader
		return false, nil
	}
	p.HeadersDone = time.Since(p.Ref)
	switch p.connTok {
	case tokClose:
		p.KeepAlive = false
	case tokKeepAlive:
		p.KeepAlive = true
	default:
		p.KeepAlive = p.HTTP11
	}
	if p.te {
		if p.cl >= 0 {
			// §6.3 rule 3: a sign of smuggling or response splitting,
			// to be handled as an error. net/http's client lets
			// Transfer-Encoding win instead.
			p.KeepAlive = false
			return false, fmt.Errorf("%w: Content-Length together with Transfer-Encoding", ErrBadFraming)
		}
		if !p.HTTP11 {
			// §6.1: an HTTP/1.0 message with Transfer-Encoding has
			// faulty framing; close the connection after it.
			p.KeepAlive = false
		}
	}
	switch {
	case p.head || p.Status == 204 || p.Status == 304 || p.Status < 200 || p.Status < len(p.NoBody) && p.NoBody[p.Status]:
		if p.Status == 101 {
			p.KeepAlive = false
		}
		if (p.RegisteredHead || !p.head) && p.Status >= 200 && p.Status != 204 && p.Status != 304 && (p.te || p.cl != 0) {
			// a registered no-body method or status whose headers frame
			// a body: the server, which does not know of the
			// registration, sends it, and maybe late; read as the next
			// response, it would be taken for another request's answer
			p.KeepAlive = false
		}
		p.state = stDone
		return true, nil
	case p.te && p.chunked:
		p.state, p.budget = stChunkSize, chunkLineMax
	case p.te:
		// §6.3 rule 4: chunked is not the final coding (or the coding
		// is identity): the body runs to the close.
		p.KeepAlive = false
		p.state = stToEOF
	case p.cl >= 0:
		if p.cl == 0 {
			p.state = stDone
			return true, nil
		}
		p.state, p.remaining = stFixed, p.cl
	default:
		p.KeepAlive = false
		p.state = stToEOF
	}
	return false, nil
}

// Leftover describes bytes buffered beyond the end of a complete
// response ("" when there are none). They belong to no request: the
// connection must be closed, never read for the next response.
func (p *Parser) Leftover() string {
	n := p.w - p.r
	if n <= 0 {
		return ""
	}
	var framing string
	switch {
	case p.head:
		framing = "a response to HEAD has no body"
	case p.Status == 204 || p.Status == 304 || p.Status < len(p.NoBody) && p.NoBody[p.Status]:
		framing = fmt.Sprintf("a %d response has no body", p.Status)
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
func (p *Parser) take() {
	n := p.w - p.r
	if int64(n) > p.remaining {
		n = int(p.remaining)
	}
	p.Keep(p.buf[p.r : p.r+n])
	p.r += n
	p.remaining -= int64(n)
	p.BodyBytes += int64(n)
	p.WireBytes += int64(n)
}

// Keep adds chunk to Body as the body's next bytes: up to BodyLimit
// when KeepBody is set (Truncated says what was dropped), else up to
// a failure's sample. An HTTP/2 stream's reader feeds its DATA here.
func (p *Parser) Keep(chunk []byte) {
	if !p.KeepBody {
		// Keep the start of the body anyway, for a failure's sample.
		if room := sampleBytes - len(p.Body); room > 0 && len(chunk) > 0 {
			p.Body = append(p.Body, chunk[:min(room, len(chunk))]...)
		}
		return
	}
	room := p.BodyLimit - len(p.Body)
	if room <= 0 {
		if len(chunk) > 0 {
			p.Truncated = true
		}
		return
	}
	if len(chunk) > room {
		chunk = chunk[:room]
		p.Truncated = true
	}
	p.Body = append(p.Body, chunk...)
}

// TrimEOL drops a line's ending "\n" or "\r\n".
func TrimEOL(b []byte) []byte {
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

// IsToken reports whether b is an RFC 9110 token (a field name, a method).
func IsToken(b []byte) bool {
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

// EqualFold reports whether b equals lower, ASCII letters in any case;
// lower is lower case.
func EqualFold(b []byte, lower string) bool {
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
		if EqualFold(bytes.TrimSpace(item), tok) {
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
	return EqualFold(bytes.TrimSpace(v), tok)
}

// Clip shortens server-provided text quoted in an error.
func Clip(b []byte) []byte {
	if len(b) > 64 {
		return b[:64]
	}
	return b
}
