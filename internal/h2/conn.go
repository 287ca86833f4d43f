package h2

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/benchgate/benchgate/failure"
)

const (
	// streamWindow is the receive window each stream is given; it
	// bounds what a stream holds that its sender has not read yet.
	streamWindow = 256 << 10
	// connWindow is the connection's receive window, refunded as the
	// reader takes the data (the streams' windows bound the memory).
	connWindow = 1 << 30
	// wakeBytes is how many unread body bytes a stream gathers before its
	// sender is woken to take them (the end of the stream always wakes it).
	wakeBytes = 32 << 10
	// flushRing is how many write times a connection remembers.
	flushRing = 64
	// gather: a sender that finds this many others of its connection
	// woken and about to send lets them run before it writes, so that
	// their streams go out in one write. So many answers waiting for
	// their senders mean the generator is behind: a write (and a TLS
	// record) per stream would spend on system calls the time those
	// senders wait for, and the wait shows in the request's send time.
	// Below it every stream is written at once, as it comes (nginx, one
	// CPU: 1.2x the streams/s at 32 in flight, at 4 and 8 no change, at
	// a rate the generator keeps up with the same latencies).
	gather = 8
)

// Conn is one HTTP/2 connection.
type Conn struct {
	maxHeader uint32
	noBody    []bool
	closed    func(*Conn)
	nc        net.Conn
	epoch     time.Time
	rfr       *http2.Framer // the reader's

	// writing, under wmu
	wmu      sync.Mutex
	wfr      *http2.Framer // appends frames to out
	out      []byte
	spare    []byte
	flushing bool
	gen      uint64 // the write that out will go in
	werr     error
	henc     *hpack.Encoder
	hbuf     bytes.Buffer
	// written: writes before gen flushed have returned; flushAt holds
	// their end times (since epoch), by gen mod flushRing
	flushed atomic.Uint64
	flushAt [flushRing]atomic.Int64
	werrGen atomic.Uint64 // the failed write's generation + 1
	// woken counts the streams that ended and whose senders have not
	// taken that yet: senders about to send their next stream (gather).
	woken atomic.Int32

	// state, under mu
	mu         sync.Mutex
	streams    map[uint32]*Stream
	nextID     uint32
	maxStreams uint32
	sendWin    int64 // the peer's connection window for our DATA
	initWin    int64 // the peer's initial stream window
	maxFrame   uint32
	goaway     *http2.GoAwayFrame // copy of the first, or nil
	goawayLast uint32
	goawayCode http2.ErrCode
	goawayText string
	err        error // broken: no stream can go on
	retired    bool  // closed once its last stream ends
	avail      chan struct{}
	waiters    int

	recvAvail int64 // the reader's: our connection window left
}

// appendWriter lets a framer write into the connection's out buffer.
type appendWriter struct{ c *Conn }

func (w appendWriter) Write(b []byte) (int, error) {
	w.c.out = append(w.c.out, b...)
	return len(b), nil
}

// Config is what a connection needs to know of the run.
type Config struct {
	// MaxHeader bounds a response's header list (SETTINGS_MAX_HEADER_LIST_SIZE).
	MaxHeader uint32
	// NoBody marks the statuses registered as having no body, indexed
	// by status: their content-length is not checked against the body.
	NoBody []bool
	// Closed, when set, is called once the connection has failed or
	// closed (Fail), from the goroutine that ended it.
	Closed func(*Conn)
}

// Start opens an HTTP/2 connection on nc: the preface, our settings and
// connection window, then the server's preface (its SETTINGS), by ctx's
// deadline. The caller then runs ReadLoop on a goroutine of its own; on
// an error nc is closed.
func Start(ctx context.Context, nc net.Conn, cfg Config) (*Conn, error) {
	c := &Conn{nc: nc, maxHeader: cfg.MaxHeader, noBody: cfg.NoBody, closed: cfg.Closed,
		epoch: time.Now(), streams: map[uint32]*Stream{}, nextID: 1,
		maxStreams: 100, sendWin: 65535, initWin: 65535, maxFrame: 16384, recvAvail: connWindow,
		avail: make(chan struct{})}
	c.rfr = http2.NewFramer(nil, bufio.NewReaderSize(nc, 64<<10))
	c.rfr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	// the framer reads up to 64 KiB (a single field past its bound is a
	// COMPRESSION_ERROR it cannot explain); onHeaders holds the list to
	// cfg.MaxHeader and says so
	frameBound := max(cfg.MaxHeader, 64<<10)
	c.rfr.MaxHeaderListSize = frameBound
	c.rfr.SetMaxReadFrameSize(16384)
	c.rfr.SetReuseFrames() // a DATA frame's bytes are copied before the next read
	c.wfr = http2.NewFramer(appendWriter{c}, nil)
	c.henc = hpack.NewEncoder(&c.hbuf)
	// until the server's SETTINGS say otherwise, as many streams as
	// RFC 9113 §6.5.2 suggests at least
	c.wmu.Lock()
	c.out = append(c.out, http2.ClientPreface...)
	c.wfr.WriteSettings(
		http2.Setting{ID: http2.SettingEnablePush, Val: 0},
		http2.Setting{ID: http2.SettingInitialWindowSize, Val: streamWindow},
		http2.Setting{ID: http2.SettingMaxHeaderListSize, Val: frameBound})
	c.wfr.WriteWindowUpdate(0, connWindow-65535)
	_, err := c.flushLocked(time.Now().Add(10 * time.Second))
	c.wmu.Unlock()
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("http2: writing the connection preface: %w", err)
	}
	// the server's preface, its SETTINGS, before any stream: a stream
	// beyond a limit we did not know yet would be refused for our
	// ignorance, not the server's load
	if err := c.readPreface(ctx); err != nil {
		nc.Close()
		return nil, err
	}
	return c, nil
}

// Usable reports whether a new stream may start on c.
func (c *Conn) Usable() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err == nil && c.goaway == nil && c.nextID < 1<<31-1
}

// Retire closes c once its last stream ends.
func (c *Conn) Retire() {
	c.mu.Lock()
	c.retired = true
	idle := len(c.streams) == 0
	c.mu.Unlock()
	if idle {
		c.Fail(errors.New("http2: the connection was retired"))
	}
}

// Fail breaks c with err: every open stream fails with it, the socket
// closes. The first error stays.
func (c *Conn) Fail(err error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = err
	streams := c.streams
	c.streams = map[uint32]*Stream{}
	close(c.avail)
	c.avail = make(chan struct{})
	c.mu.Unlock()
	c.nc.Close()
	for id, st := range streams {
		st.finish(c, id, err)
	}
	if c.closed != nil {
		c.closed(c)
	}
}

// flushLocked writes out, unless a write is in progress (which will
// write it too); it returns the generation of the write that carries
// what was appended. Called with wmu held; released during the write.
func (c *Conn) flushLocked(deadline time.Time) (uint64, error) {
	gen := c.gen
	if c.flushing || c.werr != nil {
		return gen, c.werr
	}
	c.flushing = true
	var ours error
	for len(c.out) > 0 && c.werr == nil {
		buf, g := c.out, c.gen
		c.out, c.gen = c.spare[:0], c.gen+1
		c.wmu.Unlock()
		if !deadline.IsZero() {
			// a write that has not ended by the caller's time limit (or
			// soon after it, when that has passed) breaks the connection:
			// a frame cut in the middle cannot be continued
			c.nc.SetWriteDeadline(later(deadline, time.Now().Add(writeGrace)))
		}
		_, err := c.nc.Write(buf)
		if !deadline.IsZero() {
			c.nc.SetWriteDeadline(time.Time{})
		}
		c.flushAt[g%flushRing].Store(int64(time.Since(c.epoch)))
		c.flushed.Store(g + 1)
		c.wmu.Lock()
		c.spare = buf[:0]
		if err != nil {
			c.werrGen.Store(g + 1)
			ours = fmt.Errorf("http2: write: %w", err)
			// the other streams on it did not run out of time: their
			// reason must not say they did
			c.werr = failure.Wrap(failure.ConnectionClosed, fmt.Errorf("http2: a write to the connection failed, which closed it: %v", err))
		}
	}
	c.flushing = false
	if c.werr != nil {
		c.Fail(c.werr) // locks c.mu, which comes after wmu
		if ours != nil {
			return gen, ours
		}
		return gen, c.werr
	}
	return gen, nil
}

// writeGrace is how long a write may take at least, whatever time
// is left to the request that makes it: the write carries other
// streams' frames too.
const writeGrace = 250 * time.Millisecond

// later is the later of a and b.
func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// WroteAt returns when the write of generation gen returned, since
// start; ok is false when it has not returned or is forgotten.
func (c *Conn) WroteAt(gen uint64, start time.Time) (d time.Duration, ok bool) {
	if c.flushed.Load() <= gen {
		return 0, false
	}
	at := c.flushAt[gen%flushRing].Load()
	if c.flushed.Load()-gen > flushRing {
		return 0, false // overwritten meanwhile
	}
	return c.epoch.Add(time.Duration(at)).Sub(start), true
}

// Control writes a frame of the connection's own (an ACK, a window, a
// reset) and sends it.
func (c *Conn) Control(write func(fr *http2.Framer) error) {
	c.wmu.Lock()
	if err := write(c.wfr); err == nil {
		c.flushLocked(time.Now().Add(5 * time.Second))
	}
	c.wmu.Unlock()
}

// Stream is a sender's stream: the request in flight and its response
// as the reader hands it over. Fields under mu, except those the sender
// alone uses.
type Stream struct {
	mu   sync.Mutex
	wake chan struct{} // the reader has something for the sender
	c    *Conn
	id   uint32 // 0 once the stream is over for the reader

	status    int
	fields    []hpack.HeaderField
	final     bool // the final (non-1xx) header block came
	data      []byte
	ended     bool
	err       error
	firstAt   time.Time
	headersAt time.Time
	endAt     time.Time
	lastAt    time.Time // the last frame for the stream came
	recvd     int64
	recvAvail int64 // our window left for this stream's DATA
	cl        int64 // Content-Length, or -1
	head      bool  // the request is a HEAD: its content-length says what a GET would get

	sendWin int64 // under c.mu: the peer's window for our DATA
	sending bool  // under c.mu: the body is not all sent

	counted bool // the end is counted in c.woken, not taken yet

	// the sender's own
	spare    []byte
	consumed int64 // taken but not refunded
}

// NewStream returns a stream for one sender, which reuses it for one
// request after another (Conn.Open).
func NewStream() *Stream { return &Stream{wake: make(chan struct{}, 1)} }

// Wake receives when the reader has something for the stream's sender:
// body bytes to Take, the stream's end, or a window opened for the rest
// of its body (Conn.SendBody).
func (st *Stream) Wake() <-chan struct{} { return st.wake }

// Take returns the body bytes received since the last Take, and whether
// the stream has ended (err nil: the response is complete). The bytes
// stay valid until the next Take.
func (st *Stream) Take() (data []byte, ended bool, err error) {
	st.mu.Lock()
	data, ended, err = st.data, st.ended, st.err
	st.data = st.spare[:0]
	st.mu.Unlock()
	st.spare = data[:0]
	return data, ended, err
}

// LastFrame is when the last frame for the stream came (zero before
// the first).
func (st *Stream) LastFrame() time.Time {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.lastAt
}

// Response is the final response: its status and header fields, and
// when its first frame, its final headers and its end came. It is
// valid once Take has reported the end without an error.
func (st *Stream) Response() (status int, fields []hpack.HeaderField, first, headers, end time.Time) {
	return st.status, st.fields, st.firstAt, st.headersAt, st.endAt
}

// notify wakes the stream's sender, if it is not awake already.
func (st *Stream) notify() {
	select {
	case st.wake <- struct{}{}:
	default:
	}
}

// finish ends stream id with err (nil: the response is complete).
func (st *Stream) finish(c *Conn, id uint32, err error) {
	st.mu.Lock()
	if st.c == c && st.id == id {
		st.ended, st.err, st.id = true, err, 0
		if st.endAt.IsZero() {
			st.endAt = time.Now()
		}
		if !st.counted {
			st.counted = true
			c.woken.Add(1)
		}
	}
	st.mu.Unlock()
	st.notify()
}

// Taken says the sender has taken its stream's end (see Conn.woken).
func (st *Stream) Taken(c *Conn) {
	st.mu.Lock()
	if st.counted {
		st.counted = false
		c.woken.Add(-1)
	}
	st.mu.Unlock()
}

// Unprocessed marks a stream that never started on its connection:
// the connection was gone, or the server ended it gracefully (GOAWAY
// NO_ERROR) before this stream. It is sent again, once.
type Unprocessed struct {
	error
	// Progress says the connection served other streams before it
	// ended: the server gets through requests, this one was unlucky
	Progress bool
}

func (e Unprocessed) Unwrap() error { return e.error }

// Open starts stream st on c with the request's header fields and as
// much of its body as the windows allow, waiting for a stream to be
// free when c is at the server's limit. It returns the stream's ID, the
// write generation of what it sent and the body not sent yet.
func (c *Conn) Open(st *Stream, fields []hpack.HeaderField, body []byte, head bool, deadline time.Time,
	cancel <-chan struct{}, timer <-chan time.Time) (id uint32, gen uint64, rest []byte, err error) {
	c.wmu.Lock()
	for {
		c.mu.Lock()
		if c.err != nil {
			c.mu.Unlock()
			c.wmu.Unlock()
			return 0, 0, nil, Unprocessed{fmt.Errorf("the connection went away before the stream started: %w", c.err), c.nextID > 1}
		}
		if c.goaway != nil {
			code, text := c.goawayCode, c.goawayText
			c.mu.Unlock()
			c.wmu.Unlock()
			err := failure.Wrap(failure.StreamReset, fmt.Errorf("http2: the connection went away before the stream started (GOAWAY %v%s)", code, text))
			if code == http2.ErrCodeNo {
				err = Unprocessed{err, c.goawayLast > 0}
			}
			return 0, 0, nil, err
		}
		if uint32(len(c.streams)) < c.maxStreams {
			break
		}
		avail := c.avail
		c.waiters++
		c.mu.Unlock()
		c.wmu.Unlock()
		var err error
		select {
		case <-avail:
		case <-cancel:
			err = failure.New(failure.Interrupted, "http2: cancelled while waiting for a free stream")
		case <-timer:
			err = fmt.Errorf("http2: waiting for a free stream (the server allows %d): %w", c.maxStreams, context.DeadlineExceeded)
		}
		c.mu.Lock()
		c.waiters--
		c.mu.Unlock()
		if err != nil {
			return 0, 0, nil, err
		}
		c.wmu.Lock()
	}
	id = c.nextID
	c.nextID += 2
	st.mu.Lock()
	st.c, st.id = c, id
	st.status, st.fields, st.final, st.ended, st.err = 0, nil, false, false, nil
	st.firstAt, st.headersAt, st.endAt, st.lastAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	st.data, st.recvd, st.recvAvail, st.cl, st.head = st.data[:0], 0, streamWindow, -1, head
	st.mu.Unlock()
	st.consumed = 0
	select { // a wake left from an earlier stream
	case <-st.wake:
	default:
	}
	st.sendWin, st.sending = c.initWin, len(body) > 0
	c.streams[id] = st
	maxFrame := int(c.maxFrame)
	c.mu.Unlock()

	c.hbuf.Reset()
	for _, f := range fields {
		c.henc.WriteField(f)
	}
	block := c.hbuf.Bytes()
	n := min(len(block), maxFrame)
	c.wfr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: block[:n], EndStream: len(body) == 0, EndHeaders: n == len(block)})
	for block = block[n:]; len(block) > 0; block = block[n:] {
		n = min(len(block), maxFrame)
		c.wfr.WriteContinuation(id, n == len(block), block[:n])
	}
	rest = c.appendData(st, id, body, maxFrame)
	gen = c.gen // the write that will carry the frames
	if !c.flushing && c.woken.Load() >= gather {
		c.wmu.Unlock()
		runtime.Gosched()
		c.wmu.Lock()
	}
	_, err = c.flushLocked(deadline)
	c.wmu.Unlock()
	if err != nil && !c.written(gen) {
		return 0, 0, nil, c.writeError(id, err)
	}
	// written: a later write's failure is the stream's only if it
	// fails the connection before the answer comes, which the reader
	// tells it
	return id, gen, rest, nil
}

// written reports whether the write of generation gen returned (the
// error of a flush may be a later write's).
func (c *Conn) written(gen uint64) bool { return c.flushed.Load() > gen && c.werrGen.Load() != gen+1 }

// writeError is the error of a write for stream id that failed with
// err: the stream was never processed when it is past the last one of
// a graceful GOAWAY (the connection may have closed after its last
// processed stream, under the write).
func (c *Conn) writeError(id uint32, err error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.goaway != nil && id > c.goawayLast {
		e := failure.Wrap(failure.StreamReset, fmt.Errorf("http2: the server sent GOAWAY %v%s before processing the stream (%v)", c.goawayCode, c.goawayText, err))
		if c.goawayCode == http2.ErrCodeNo {
			return Unprocessed{e, c.goawayLast > 0}
		}
		return e // the server's code, not the write's error it caused
	}
	return err
}

// appendData appends as much of body as the windows allow as DATA
// frames, the last one ending the stream; it returns the rest. Called
// with wmu held.
func (c *Conn) appendData(st *Stream, id uint32, body []byte, maxFrame int) []byte {
	for len(body) > 0 {
		c.mu.Lock()
		n := int(min(int64(len(body)), int64(maxFrame), c.sendWin, st.sendWin))
		if n > 0 {
			c.sendWin -= int64(n)
			st.sendWin -= int64(n)
		}
		st.sending = n < len(body)
		c.mu.Unlock()
		if n <= 0 {
			return body
		}
		c.wfr.WriteData(id, n == len(body), body[:n])
		body = body[n:]
	}
	return nil
}

// SendBody sends what the windows now allow of a body's rest, and
// returns what is left; sent says something went, in the write of
// generation gen; over says the stream ended (the rest is not wanted).
func (c *Conn) SendBody(st *Stream, id uint32, rest []byte, deadline time.Time) (left []byte, gen uint64, sent, over bool, err error) {
	st.mu.Lock()
	over = st.c != c || st.id != id
	st.mu.Unlock()
	if over {
		return rest, 0, false, true, nil
	}
	c.wmu.Lock()
	c.mu.Lock()
	maxFrame := int(c.maxFrame)
	c.mu.Unlock()
	left = c.appendData(st, id, rest, maxFrame)
	if sent = len(left) < len(rest); sent {
		gen, err = c.flushLocked(deadline)
	}
	c.wmu.Unlock()
	if err != nil && !c.written(gen) {
		return left, gen, sent, false, c.writeError(id, err)
	}
	return left, gen, sent, false, nil
}

// Refund gives the server back the window of n body bytes the sender has
// taken, once enough have gathered to be worth a frame.
func (c *Conn) Refund(st *Stream, id uint32, n int64) {
	st.consumed += n
	if st.consumed < streamWindow/4 {
		return
	}
	inc := st.consumed
	st.consumed = 0
	st.mu.Lock()
	live := st.c == c && st.id == id
	if live {
		st.recvAvail += inc
	}
	st.mu.Unlock()
	if live {
		c.Control(func(fr *http2.Framer) error { return fr.WriteWindowUpdate(id, uint32(inc)) })
	}
}

// Cancel ends a stream the sender gives up on: the reader forgets it and
// the server is told (RST_STREAM CANCEL).
func (c *Conn) Cancel(st *Stream, id uint32) {
	c.mu.Lock()
	open := c.streams[id] == st
	if open {
		c.drop(id)
	}
	c.mu.Unlock()
	st.mu.Lock()
	if st.c == c && st.id == id {
		st.id, st.ended = 0, true
	}
	st.mu.Unlock()
	if open {
		c.wmu.Lock()
		if err := c.wfr.WriteRSTStream(id, http2.ErrCodeCancel); err == nil && !c.flushing {
			c.flushLocked(time.Now().Add(time.Second))
		}
		c.wmu.Unlock()
		c.maybeClose()
	}
}
