package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/benchgate/benchgate/internal/dial"
	"github.com/benchgate/benchgate/internal/h2"
	"github.com/benchgate/benchgate/scenario"

	"github.com/benchgate/benchgate/failure"
)

// The HTTP/2 client's connections (internal/h2) are pooled here per
// origin; a slot's h2stream sends its request as a stream and reads its
// response into the slot's parser.

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
	open      map[*h2.Conn]struct{}
	readers   sync.WaitGroup
	stop      func() bool // unregisters the close on cancel

	// noBody marks Plan.NoBodyStatuses, indexed by status
	noBody []bool
}

// h2slot is one connection place in the pool.
type h2slot struct {
	mu sync.Mutex // held while dialing
	c  *h2.Conn
}

func newH2Pool(ctx context.Context, p *Plan) *h2pool {
	n := p.H2Conns
	if n < 1 {
		n = 1
	}
	pool := &h2pool{n: n, conns: map[string][]*h2slot{}, open: map[*h2.Conn]struct{}{},
		maxHeader: uint32(maxHeaderBytes(p)), noBody: p.noBodyStatuses()}
	// requests in flight are cut: a write the peer does not take must
	// not outlive the run
	pool.stop = context.AfterFunc(ctx, pool.closeConns)
	return pool
}

// h2conn returns slot s's connection to t, dialing it when there is none
// usable (bounded as connectCtx says);
// opened reports that this call opened it (its time is the request's
// Connect).
func (x *execution) h2conn(s *slot, t *target, spec *scenario.StepSpec, began, start time.Time) (c *h2.Conn, info dial.Info, opened bool, err error) {
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
		if place.c.Usable() {
			return place.c, info, false, nil
		}
		place.c.Retire()
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
	open := make([]*h2.Conn, 0, len(pool.open))
	for c := range pool.open {
		open = append(open, c)
	}
	pool.mu.Unlock()
	for _, c := range open {
		c.Fail(failure.New(failure.Interrupted, "http2: the connection was closed: the run is over"))
	}
}

// close closes every connection and waits for their readers.
func (pool *h2pool) close() {
	pool.stop()
	pool.closeConns()
	pool.readers.Wait()
}

// start opens an HTTP/2 connection on nc (h2.Start), registers it and
// starts its reader.
func (pool *h2pool) start(ctx context.Context, nc net.Conn) (*h2.Conn, error) {
	c, err := h2.Start(ctx, nc, h2.Config{MaxHeader: pool.maxHeader, NoBody: pool.noBody, Closed: pool.closed})
	if err != nil {
		return nil, err
	}
	pool.mu.Lock()
	pool.open[c] = struct{}{}
	pool.readers.Add(1)
	pool.mu.Unlock()
	go func() {
		defer pool.readers.Done()
		c.ReadLoop()
	}()
	return c, nil
}

// closed forgets a connection that failed or closed.
func (pool *h2pool) closed(c *h2.Conn) {
	pool.mu.Lock()
	delete(pool.open, c)
	pool.mu.Unlock()
}

// h2stream is a slot's HTTP/2 stream as the request path's wire, with
// the slot's HTTP/2 state.
type h2stream struct {
	x *execution
	s *slot
	// fields are the HTTP/2 header fields made from the request head
	// headBytes to key; respHead the last response's header block as
	// HTTP/1 reads; st the slot's stream, timer its time limit, io the
	// step's I/O timeout on a stream
	fields    []hpack.HeaderField
	key       string
	headBytes []byte
	respHead  bytes.Buffer
	st        *h2.Stream
	timer     *time.Timer
	io        *time.Timer
}

// request turns the HTTP/1.1 request built in s.wbuf into HTTP/2
// header fields and a body. A static step's fields are kept: the same
// bytes give the same fields.
func (h *h2stream) request(t *target) ([]hpack.HeaderField, []byte, error) {
	s := h.s
	head := bytes.Index(s.wbuf, []byte("\r\n\r\n"))
	if head < 0 {
		return nil, nil, errors.New("http2: the request as built has no end of header")
	}
	body := s.wbuf[head+4:]
	if h.fields != nil && h.key == t.key && bytes.Equal(s.wbuf[:head], h.headBytes) {
		return h.fields, body, nil
	}
	scheme := "http"
	if t.tls {
		scheme = "https"
	}
	fields, err := h2.AppendRequestFields(h.fields[:0], s.wbuf[:head], t.url.Host, scheme)
	if err != nil {
		return nil, nil, err
	}
	h.fields, h.key, h.headBytes = fields, t.key, append(h.headBytes[:0], s.wbuf[:head]...)
	return fields, body, nil
}

// roundTrip sends the request in s.wbuf as an HTTP/2 stream and reads
// its response into the slot's parser, as h1conn's does for HTTP/1.1.
// A stream that never started (its connection gone, or past the last
// stream of a graceful GOAWAY) is sent again on a new connection, up to
// h2Attempts in all.
func (h *h2stream) roundTrip(t *target, sp *stepPlan, head bool, res *Result) error {
	x, s := h.x, h.s
	if t.proxy != nil && !t.tls {
		res.Start = time.Now()
		return errors.New("http2: h2c through an HTTP proxy is not supported (https goes through its CONNECT tunnel)")
	}
	fruitless := 0
	began := time.Now() // the step's time limit bounds all the attempts
	for attempt := 1; ; attempt++ {
		err := h.stream(t, sp, head, res, began, attempt == 1)
		u, again := err.(h2.Unprocessed)
		if !again || x.cutting() {
			return err
		}
		if !u.Progress {
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

// stream is one attempt of roundTrip.
func (h *h2stream) stream(t *target, sp *stepPlan, head bool, res *Result, began time.Time, firstTry bool) error {
	x, s := h.x, h.s
	res.Start = time.Now()
	res.Connect, res.Reused = 0, false
	fields, body, err := h.request(t)
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
	st := h.st
	if st == nil {
		st = h2.NewStream()
		h.st = st
	}
	var timer <-chan time.Time
	if !deadline.IsZero() {
		if h.timer == nil {
			h.timer = time.NewTimer(time.Until(deadline))
		} else {
			h.timer.Reset(time.Until(deadline))
		}
		defer h.timer.Stop()
		timer = h.timer.C
	}
	res.BytesSent = int64(len(s.wbuf))
	// before open: a write of open's that fails ends the stream (and
	// counts it woken) before open returns
	defer st.Taken(c)
	id, gen, rest, err := c.Open(st, fields, body, head, deadline, x.ioCtx.Done(), timer)
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
		if h.io == nil {
			h.io = time.NewTimer(ioLimit)
		} else {
			h.io.Reset(ioLimit)
		}
		defer h.io.Stop()
		ioTimer = h.io.C
	}
	for {
		if len(rest) > 0 && !unwanted {
			left, g, sent, over, err := c.SendBody(st, id, rest, deadline)
			if err != nil {
				return err
			}
			if sent {
				gen, moved = g, time.Now()
			}
			rest, unwanted = left, over
		}
		data, ended, serr := st.Take()
		if len(data) > 0 {
			p.BodyBytes += int64(len(data))
			if !head {
				p.Keep(data)
			}
			if !ended {
				c.Refund(st, id, int64(len(data)))
			}
		}
		if ended {
			if serr != nil {
				return serr
			}
			break
		}
		select {
		case <-st.Wake():
		case <-x.ioCtx.Done():
			c.Cancel(st, id)
			return fmt.Errorf("http2: %w", context.Cause(x.ioCtx))
		case <-timer:
			c.Cancel(st, id)
			return fmt.Errorf("http2: %w", context.DeadlineExceeded)
		case <-ioTimer:
			last := st.LastFrame()
			if moved.After(last) {
				last = moved
			}
			if left := time.Until(last.Add(ioLimit)); left > 0 {
				h.io.Reset(left)
				continue
			}
			c.Cancel(st, id)
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
		c.Control(func(fr *http2.Framer) error { return fr.WriteRSTStream(id, http2.ErrCodeNo) })
	}
	// times: sent when the write with the request's last frame returned
	status, fields, firstAt, headersAt, endAt := st.Response()
	first, headers, end := firstAt.Sub(res.Start), headersAt.Sub(res.Start), endAt.Sub(res.Start)
	wrote, ok := c.WroteAt(gen, res.Start)
	if !ok || wrote > first {
		wrote = first
	}
	res.Send = max(wrote-res.Connect, 0)
	res.Wait = max(first-wrote, 0)
	p.Status, p.HTTP11, p.HTTP2 = status, false, true
	p.HeadersDone, res.HeadersDone = headers, headers
	if err := h.header(status, fields); err != nil {
		return err
	}
	p.WireBytes = p.HeaderBytes + p.BodyBytes
	res.Total = max(end, headers)
	s.lastRun, s.lastStep = res.Run, res.Step
	return nil
}

// header writes the response's header block as HTTP/1 would read it,
// when the step keeps or reads it (otherwise it only counts its bytes),
// and takes its cookies and content codings.
func (h *h2stream) header(status int, fields []hpack.HeaderField) error {
	p := h.s.p
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
	hb := &h.respHead
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
