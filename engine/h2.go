package engine

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/benchgate/benchgate/internal/dial"
	"github.com/benchgate/benchgate/internal/h1"
	"github.com/benchgate/benchgate/scenario"

	"github.com/benchgate/benchgate/failure"
)

// HTTP/2 is spoken by a client of its own on x/net's framer and HPACK
// codec: each slot sends its request as a stream from its own goroutine
// (frames appended to the connection's write buffer under a lock, the
// buffer written by whichever sender finds no write in progress: streams
// that arrive during a write go out together with the next one, none
// waits for a timer; see h2Gather), and one goroutine per connection
// reads the frames
// and hands each stream its response. A request's send time is when the
// write that carried its last frame returned.

const (
	// h2StreamWindow is the receive window each stream is given; it
	// bounds what a stream holds that its slot has not read yet.
	h2StreamWindow = 256 << 10
	// h2ConnWindow is the connection's receive window, refunded as the
	// reader takes the data (the streams' windows bound the memory).
	h2ConnWindow = 1 << 30
	// h2Wake is how many unread body bytes a stream gathers before its
	// slot is woken to take them (the end of the stream always wakes it).
	h2Wake = 32 << 10
	// h2FlushRing is how many write times a connection remembers.
	h2FlushRing = 64
	// h2Gather: a slot that finds this many others of its connection
	// woken and about to send lets them run before it writes, so that
	// their streams go out in one write. So many answers waiting for
	// their slots mean the generator is behind: a write (and a TLS
	// record) per stream would spend on system calls the time those
	// slots wait for, and the wait shows in the request's send time.
	// Below it every stream is written at once, as it comes (nginx, one
	// CPU: 1.2x the streams/s at 32 in flight, at 4 and 8 no change, at
	// a rate the generator keeps up with the same latencies).
	h2Gather = 8
)

// h2pool holds an execution's HTTP/2 connections: Plan.H2Conns per
// origin, slot i sending its streams on connection i mod H2Conns. A
// connection that can take no new stream (GOAWAY, broken, out of stream
// IDs) is replaced by the next slot that needs it and closed once its
// last stream ends.
type h2pool struct {
	n         int
	maxHeader uint32
	mu        sync.Mutex
	conns     map[string][]*h2slot
	open      map[*h2conn]struct{}
	readers   sync.WaitGroup
	stop      func() bool // unregisters the close on cancel

	// noBody marks Plan.NoBodyStatuses, indexed by status
	noBody []bool
}

// h2slot is one connection place in the pool.
type h2slot struct {
	mu sync.Mutex // held while dialing
	c  *h2conn
}

func newH2Pool(ctx context.Context, p *Plan) *h2pool {
	n := p.H2Conns
	if n < 1 {
		n = 1
	}
	pool := &h2pool{n: n, conns: map[string][]*h2slot{}, open: map[*h2conn]struct{}{},
		maxHeader: uint32(max(p.MaxHeaderBytes, 64<<10)), noBody: p.noBodyStatuses()}
	// requests in flight are cut: a write the peer does not take must
	// not outlive the run
	pool.stop = context.AfterFunc(ctx, pool.closeConns)
	return pool
}

// h2conn returns slot s's connection to t, dialing it when there is none
// usable (bounded as connectCtx says);
// opened reports that this call opened it (its time is the request's
// Connect).
func (x *execution) h2conn(s *slot, t *target, spec *scenario.StepSpec, began, start time.Time) (c *h2conn, info dial.Info, opened bool, err error) {
	pool := x.h2
	pool.mu.Lock()
	list, ok := pool.conns[t.key]
	if !ok {
		list = make([]*h2slot, pool.n)
		for i := range list {
			list[i] = &h2slot{}
		}
		pool.conns[t.key] = list
	}
	pool.mu.Unlock()
	place := list[s.id%pool.n]
	place.mu.Lock()
	defer place.mu.Unlock()
	if place.c != nil {
		if place.c.usable() {
			return place.c, info, false, nil
		}
		place.c.retire()
		place.c = nil
	}
	ctx, cancel, connectOnly := x.connectCtx(spec, began, start)
	defer cancel()
	nc, info, err := x.dial.Dial(ctx, t.dialTarget(), s.shard, "h2")
	if err == nil {
		c, err = pool.start(ctx, nc) // the server's SETTINGS are part of connecting
	}
	if err != nil {
		return nil, info, false, connectErr(spec, connectOnly, err)
	}
	place.c = c
	return c, info, true, nil
}

// closeConns closes every connection; streams in flight fail.
func (pool *h2pool) closeConns() {
	pool.mu.Lock()
	open := make([]*h2conn, 0, len(pool.open))
	for c := range pool.open {
		open = append(open, c)
	}
	pool.mu.Unlock()
	for _, c := range open {
		c.fail(failure.New(failure.Interrupted, "http2: the connection was closed: the run is over"))
	}
}

// close closes every connection and waits for their readers.
func (pool *h2pool) close() {
	pool.stop()
	pool.closeConns()
	pool.readers.Wait()
}

// h2conn is one HTTP/2 connection.
type h2conn struct {
	pool  *h2pool
	nc    net.Conn
	epoch time.Time
	rfr   *http2.Framer // the reader's

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
	// their end times (since epoch), by gen mod h2FlushRing
	flushed atomic.Uint64
	flushAt [h2FlushRing]atomic.Int64
	werrGen atomic.Uint64 // the failed write's generation + 1
	// woken counts the streams that ended and whose slots have not
	// taken that yet: slots about to send their next stream (h2Gather).
	woken atomic.Int32

	// state, under mu
	mu         sync.Mutex
	streams    map[uint32]*h2stream
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
type appendWriter struct{ c *h2conn }

func (w appendWriter) Write(b []byte) (int, error) {
	w.c.out = append(w.c.out, b...)
	return len(b), nil
}

// start opens an HTTP/2 connection on nc: the preface, our settings and
// connection window, then the reader.
func (pool *h2pool) start(ctx context.Context, nc net.Conn) (*h2conn, error) {
	c := &h2conn{pool: pool, nc: nc, epoch: time.Now(), streams: map[uint32]*h2stream{}, nextID: 1,
		maxStreams: 100, sendWin: 65535, initWin: 65535, maxFrame: 16384, recvAvail: h2ConnWindow,
		avail: make(chan struct{})}
	c.rfr = http2.NewFramer(nil, bufio.NewReaderSize(nc, 64<<10))
	c.rfr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	c.rfr.MaxHeaderListSize = pool.maxHeader
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
		http2.Setting{ID: http2.SettingInitialWindowSize, Val: h2StreamWindow},
		http2.Setting{ID: http2.SettingMaxHeaderListSize, Val: pool.maxHeader})
	c.wfr.WriteWindowUpdate(0, h2ConnWindow-65535)
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
	pool.mu.Lock()
	pool.open[c] = struct{}{}
	pool.readers.Add(1)
	pool.mu.Unlock()
	go c.readLoop()
	return c, nil
}

// usable reports whether a new stream may start on c.
func (c *h2conn) usable() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err == nil && c.goaway == nil && c.nextID < 1<<31-1
}

// retire closes c once its last stream ends.
func (c *h2conn) retire() {
	c.mu.Lock()
	c.retired = true
	idle := len(c.streams) == 0
	c.mu.Unlock()
	if idle {
		c.fail(errors.New("http2: the connection was retired"))
	}
}

// fail breaks c with err: every open stream fails with it, the socket
// closes. The first error stays.
func (c *h2conn) fail(err error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = err
	streams := c.streams
	c.streams = map[uint32]*h2stream{}
	close(c.avail)
	c.avail = make(chan struct{})
	c.mu.Unlock()
	c.nc.Close()
	for id, st := range streams {
		st.finish(c, id, err)
	}
	c.pool.mu.Lock()
	delete(c.pool.open, c)
	c.pool.mu.Unlock()
}

// flushLocked writes out, unless a write is in progress (which will
// write it too); it returns the generation of the write that carries
// what was appended. Called with wmu held; released during the write.
func (c *h2conn) flushLocked(deadline time.Time) (uint64, error) {
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
			c.nc.SetWriteDeadline(later(deadline, time.Now().Add(h2WriteGrace)))
		}
		_, err := c.nc.Write(buf)
		if !deadline.IsZero() {
			c.nc.SetWriteDeadline(time.Time{})
		}
		c.flushAt[g%h2FlushRing].Store(int64(time.Since(c.epoch)))
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
		c.fail(c.werr) // locks c.mu, which comes after wmu
		if ours != nil {
			return gen, ours
		}
		return gen, c.werr
	}
	return gen, nil
}

// h2WriteGrace is how long a write may take at least, whatever time
// is left to the request that makes it: the write carries other
// streams' frames too.
const h2WriteGrace = 250 * time.Millisecond

// later is the later of a and b.
func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// wroteAt returns when the write of generation gen returned, since
// start; ok is false when it has not returned or is forgotten.
func (c *h2conn) wroteAt(gen uint64, start time.Time) (d time.Duration, ok bool) {
	if c.flushed.Load() <= gen {
		return 0, false
	}
	at := c.flushAt[gen%h2FlushRing].Load()
	if c.flushed.Load()-gen > h2FlushRing {
		return 0, false // overwritten meanwhile
	}
	return c.epoch.Add(time.Duration(at)).Sub(start), true
}

// control writes a frame of the connection's own (an ACK, a window, a
// reset) and sends it.
func (c *h2conn) control(write func(fr *http2.Framer) error) {
	c.wmu.Lock()
	if err := write(c.wfr); err == nil {
		c.flushLocked(time.Now().Add(5 * time.Second))
	}
	c.wmu.Unlock()
}

// h2stream is a slot's stream: the request in flight and its response
// as the reader hands it over. Fields under mu, except those the slot
// alone uses.
type h2stream struct {
	mu   sync.Mutex
	wake chan struct{} // the reader has something for the slot
	c    *h2conn
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

	// the slot's own
	spare    []byte
	consumed int64 // taken but not refunded
}

// notify wakes the stream's slot, if it is not awake already.
func (st *h2stream) notify() {
	select {
	case st.wake <- struct{}{}:
	default:
	}
}

// finish ends stream id with err (nil: the response is complete).
func (st *h2stream) finish(c *h2conn, id uint32, err error) {
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

// taken says the slot has taken its stream's end (see h2conn.woken).
func (st *h2stream) taken(c *h2conn) {
	st.mu.Lock()
	if st.counted {
		st.counted = false
		c.woken.Add(-1)
	}
	st.mu.Unlock()
}

// errUnprocessed marks a stream that never started on its connection:
// the connection was gone, or the server ended it gracefully (GOAWAY
// NO_ERROR) before this stream. It is sent again, once.
type errUnprocessed struct {
	error
	// progress says the connection served other streams before it
	// ended: the server gets through requests, this one was unlucky
	progress bool
}

func (e errUnprocessed) Unwrap() error { return e.error }

// connectionFields are HTTP/1's connection-specific header fields, which
// HTTP/2 forbids (RFC 9113 §8.2.2).
var connectionFields = []string{"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"}

// h2request turns the HTTP/1.1 request built in s.wbuf into HTTP/2
// header fields and a body. A static step's fields are kept: the same
// bytes give the same fields.
func (s *slot) h2request(t *target) ([]hpack.HeaderField, []byte, error) {
	head := bytes.Index(s.wbuf, []byte("\r\n\r\n"))
	if head < 0 {
		return nil, nil, errors.New("http2: the request as built has no end of header")
	}
	body := s.wbuf[head+4:]
	if s.h2fields != nil && s.h2key == t.key && bytes.Equal(s.wbuf[:head], s.h2bytes) {
		return s.h2fields, body, nil
	}
	lines := bytes.Split(s.wbuf[:head], []byte("\r\n"))
	reqLine := bytes.SplitN(lines[0], []byte(" "), 3)
	if len(reqLine) != 3 {
		return nil, nil, fmt.Errorf("http2: the request line as built is malformed: %q", h1.Clip(lines[0]))
	}
	method, path := string(reqLine[0]), string(reqLine[1])
	if method == "CONNECT" {
		return nil, nil, errors.New("http2: CONNECT requests are not supported")
	}
	if i := bytes.Index(reqLine[1], []byte("://")); i >= 0 && path[0] != '/' {
		// absolute form (a proxy's): the path is what follows the authority
		rest := path[i+3:]
		if j := bytes.IndexByte([]byte(rest), '/'); j >= 0 {
			path = rest[j:]
		} else {
			path = "/"
		}
	}
	scheme := "http"
	if t.tls {
		scheme = "https"
	}
	fields := append(s.h2fields[:0],
		hpack.HeaderField{Name: ":method", Value: method},
		hpack.HeaderField{Name: ":authority", Value: t.url.Host},
		hpack.HeaderField{Name: ":scheme", Value: scheme},
		hpack.HeaderField{Name: ":path", Value: path})
	for _, line := range lines[1:] {
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return nil, nil, fmt.Errorf("http2: a header line as built is malformed: %q", h1.Clip(line))
		}
		name := string(bytes.ToLower(line[:colon]))
		value := string(bytes.TrimSpace(line[colon+1:]))
		switch {
		case name == "host":
			fields[1].Value = value
			continue
		case name == "te" && value != "trailers":
			continue
		}
		skip := false
		for _, cf := range connectionFields {
			if name == cf {
				skip = true
			}
		}
		if !skip {
			fields = append(fields, hpack.HeaderField{Name: name, Value: value})
		}
	}
	s.h2fields, s.h2key, s.h2bytes = fields, t.key, append(s.h2bytes[:0], s.wbuf[:head]...)
	return fields, body, nil
}

// roundTripH2 sends the request in s.wbuf as an HTTP/2 stream and reads
// its response into the slot's parser, as roundTrip does for HTTP/1.1.
// A stream that never started (its connection gone, or past the last
// stream of a graceful GOAWAY) is sent again on a new connection, up to
// h2Attempts in all.
func (x *execution) roundTripH2(s *slot, t *target, sp *stepPlan, head bool, res *Result) error {
	if t.proxy != nil && !t.tls {
		res.Start = time.Now()
		return errors.New("http2: h2c through an HTTP proxy is not supported (https goes through its CONNECT tunnel)")
	}
	fruitless := 0
	began := time.Now() // the step's time limit bounds all the attempts
	for attempt := 1; ; attempt++ {
		err := x.streamH2(s, t, sp, head, res, began, attempt == 1)
		u, again := err.(errUnprocessed)
		if !again || x.cutting() {
			return err
		}
		if !u.progress {
			fruitless++
		}
		if attempt >= h2Attempts || fruitless >= h2Fruitless {
			return fmt.Errorf("%w (the last of %d attempts)", err, attempt)
		}
		s.p.Begin(head)
	}
}

// A request whose stream the server did not process is sent again, up
// to h2Attempts in all while the connections it lands on serve other
// streams, and h2Fruitless times on connections that served none (a
// server going down).
const (
	h2Attempts  = 100
	h2Fruitless = 2
)

// streamH2 is one attempt of roundTripH2.
func (x *execution) streamH2(s *slot, t *target, sp *stepPlan, head bool, res *Result, began time.Time, firstTry bool) error {
	res.Start = time.Now()
	res.Connect, res.Reused = 0, false
	fields, body, err := s.h2request(t)
	if err != nil {
		return err
	}
	var deadline time.Time
	if lim := sp.spec.TimeLimit; lim > 0 {
		deadline = began.Add(lim)
	}
	c, info, opened, err := x.h2conn(s, t, sp.spec, began, res.Start)
	res.DNSCached, res.TLSHandshake, res.TLSResumed = info.DNSCached, info.TLS, info.TLSResumed
	if err != nil {
		return err
	}
	if opened {
		res.Connect = time.Since(res.Start)
	} else {
		res.Reused = true
	}
	if l := x.plan.Live; l != nil && firstTry {
		l.Started.Add(1)
	}
	st := s.h2s
	if st == nil {
		st = &h2stream{wake: make(chan struct{}, 1)}
		s.h2s = st
	}
	var timer <-chan time.Time
	if !deadline.IsZero() {
		if s.h2timer == nil {
			s.h2timer = time.NewTimer(time.Until(deadline))
		} else {
			s.h2timer.Reset(time.Until(deadline))
		}
		defer s.h2timer.Stop()
		timer = s.h2timer.C
	}
	res.BytesSent = int64(len(s.wbuf))
	// before open: a write of open's that fails ends the stream (and
	// counts it woken) before open returns
	defer st.taken(c)
	id, gen, rest, err := c.open(st, fields, body, head, deadline, x.ioCtx.Done(), timer)
	if err != nil {
		return err
	}
	// wait for the response, sending what is left of the body as the
	// windows open; the step's I/O timeout bounds each wait without a
	// frame sent or received for the stream
	p := s.p
	unwanted := false
	ioLimit, moved := sp.spec.IOTimeout, time.Now()
	var ioTimer <-chan time.Time
	if ioLimit > 0 {
		if s.h2io == nil {
			s.h2io = time.NewTimer(ioLimit)
		} else {
			s.h2io.Reset(ioLimit)
		}
		defer s.h2io.Stop()
		ioTimer = s.h2io.C
	}
	for {
		if len(rest) > 0 && !unwanted {
			left, g, sent, over, err := c.sendBody(st, id, rest, deadline)
			if err != nil {
				return err
			}
			if sent {
				gen, moved = g, time.Now()
			}
			rest, unwanted = left, over
		}
		st.mu.Lock()
		data, ended, serr := st.data, st.ended, st.err
		st.data = st.spare[:0]
		st.mu.Unlock()
		if len(data) > 0 {
			p.BodyBytes += int64(len(data))
			if !head {
				p.Keep(data)
			}
			st.spare = data[:0]
			if !ended {
				c.refund(st, id, int64(len(data)))
			}
		} else {
			st.spare = data
		}
		if ended {
			if serr != nil {
				return serr
			}
			break
		}
		select {
		case <-st.wake:
		case <-x.ioCtx.Done():
			c.cancel(st, id)
			return fmt.Errorf("http2: %w", context.Cause(x.ioCtx))
		case <-timer:
			c.cancel(st, id)
			return fmt.Errorf("http2: %w", context.DeadlineExceeded)
		case <-ioTimer:
			st.mu.Lock()
			last := st.lastAt
			st.mu.Unlock()
			last = later(last, moved)
			if left := time.Until(last.Add(ioLimit)); left > 0 {
				s.h2io.Reset(left)
				continue
			}
			c.cancel(st, id)
			op := "read"
			if len(rest) > 0 && !unwanted {
				op = "write" // the body waits for a window that does not open
			}
			return &ioTimeoutError{ioLimit, op, os.ErrDeadlineExceeded}
		}
	}
	if len(rest) > 0 {
		// the server answered before the body was all sent: the rest is
		// not wanted (RFC 9113 §8.1)
		c.control(func(fr *http2.Framer) error { return fr.WriteRSTStream(id, http2.ErrCodeNo) })
	}
	// times: sent when the write with the request's last frame returned
	first, headers, end := st.firstAt.Sub(res.Start), st.headersAt.Sub(res.Start), st.endAt.Sub(res.Start)
	wrote, ok := c.wroteAt(gen, res.Start)
	if !ok || wrote > first {
		wrote = first
	}
	res.Send = max(wrote-res.Connect, 0)
	res.Wait = max(first-wrote, 0)
	p.Status, p.HTTP11, p.HTTP2 = st.status, false, true
	p.HeadersDone, res.HeadersDone = headers, headers
	if err := s.h2header(st.status, st.fields); err != nil {
		return err
	}
	p.WireBytes = p.HeaderBytes + p.BodyBytes
	res.Total = max(end, headers)
	s.lastRun, s.lastStep = res.Run, res.Step
	return nil
}

// h2header writes the response's header block as HTTP/1 would read it,
// when the step keeps or reads it (otherwise it only counts its bytes),
// and takes its cookies and content codings.
func (s *slot) h2header(status int, fields []hpack.HeaderField) error {
	p := s.p
	text := http.StatusText(status)
	// "HTTP/2.0 200 OK\r\n", each "Name: value\r\n", "\r\n"
	n := len("HTTP/2.0 000 \r\n") + len(text) + 2
	for _, f := range fields {
		if strings.ContainsAny(f.Value, "\r\n\x00") {
			return fmt.Errorf("http2: %w: control character in the value of %q", ErrBadHeader, f.Name)
		}
		n += len(f.Name) + len(f.Value) + 4
		switch {
		case p.CollectCookies && f.Name == "set-cookie":
			p.SetCookies = append(p.SetCookies, f.Value...)
			p.SetCookies = append(p.SetCookies, '\n')
		case f.Name == "content-encoding":
			if len(p.Coding) > 0 {
				p.Coding = append(p.Coding, ',')
			}
			p.Coding = append(p.Coding, f.Value...)
		}
	}
	p.HeaderBytes = int64(n)
	if !p.KeepHeader {
		return nil
	}
	hb := &s.h2head
	hb.Reset()
	hb.WriteString("HTTP/2.0 ")
	var num [8]byte
	hb.Write(strconv.AppendInt(num[:0], int64(status), 10))
	hb.WriteByte(' ')
	hb.WriteString(text)
	hb.WriteString("\r\n")
	for _, f := range fields {
		upper := true
		for i := 0; i < len(f.Name); i++ {
			b := f.Name[i]
			if upper && 'a' <= b && b <= 'z' {
				b -= 'a' - 'A'
			}
			hb.WriteByte(b)
			upper = b == '-'
		}
		hb.WriteString(": ")
		hb.WriteString(f.Value)
		hb.WriteString("\r\n")
	}
	hb.WriteString("\r\n")
	p.Header = append(p.Header[:0], hb.Bytes()...)
	return nil
}

// open starts stream st on c with the request's header fields and as
// much of its body as the windows allow, waiting for a stream to be
// free when c is at the server's limit. It returns the stream's ID, the
// write generation of what it sent and the body not sent yet.
func (c *h2conn) open(st *h2stream, fields []hpack.HeaderField, body []byte, head bool, deadline time.Time,
	cancel <-chan struct{}, timer <-chan time.Time) (id uint32, gen uint64, rest []byte, err error) {
	c.wmu.Lock()
	for {
		c.mu.Lock()
		if c.err != nil {
			c.mu.Unlock()
			c.wmu.Unlock()
			return 0, 0, nil, errUnprocessed{fmt.Errorf("the connection went away before the stream started: %w", c.err), c.nextID > 1}
		}
		if c.goaway != nil {
			code, text := c.goawayCode, c.goawayText
			c.mu.Unlock()
			c.wmu.Unlock()
			err := failure.Wrap(failure.StreamReset, fmt.Errorf("http2: the connection went away before the stream started (GOAWAY %v%s)", code, text))
			if code == http2.ErrCodeNo {
				err = errUnprocessed{err, c.goawayLast > 0}
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
	st.data, st.recvd, st.recvAvail, st.cl, st.head = st.data[:0], 0, h2StreamWindow, -1, head
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
	if !c.flushing && c.woken.Load() >= h2Gather {
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
func (c *h2conn) written(gen uint64) bool { return c.flushed.Load() > gen && c.werrGen.Load() != gen+1 }

// writeError is the error of a write for stream id that failed with
// err: the stream was never processed when it is past the last one of
// a graceful GOAWAY (the connection may have closed after its last
// processed stream, under the write).
func (c *h2conn) writeError(id uint32, err error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.goaway != nil && id > c.goawayLast {
		e := failure.Wrap(failure.StreamReset, fmt.Errorf("http2: the server sent GOAWAY %v%s before processing the stream (%v)", c.goawayCode, c.goawayText, err))
		if c.goawayCode == http2.ErrCodeNo {
			return errUnprocessed{e, c.goawayLast > 0}
		}
		return e // the server's code, not the write's error it caused
	}
	return err
}

// appendData appends as much of body as the windows allow as DATA
// frames, the last one ending the stream; it returns the rest. Called
// with wmu held.
func (c *h2conn) appendData(st *h2stream, id uint32, body []byte, maxFrame int) []byte {
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

// sendBody sends what the windows now allow of a body's rest, and
// returns what is left; sent says something went, in the write of
// generation gen; over says the stream ended (the rest is not wanted).
func (c *h2conn) sendBody(st *h2stream, id uint32, rest []byte, deadline time.Time) (left []byte, gen uint64, sent, over bool, err error) {
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

// refund gives the server back the window of n body bytes the slot has
// taken, once enough have gathered to be worth a frame.
func (c *h2conn) refund(st *h2stream, id uint32, n int64) {
	st.consumed += n
	if st.consumed < h2StreamWindow/4 {
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
		c.control(func(fr *http2.Framer) error { return fr.WriteWindowUpdate(id, uint32(inc)) })
	}
}

// cancel ends a stream the slot gives up on: the reader forgets it and
// the server is told (RST_STREAM CANCEL).
func (c *h2conn) cancel(st *h2stream, id uint32) {
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
