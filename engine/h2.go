package engine

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2"
)

// h2pool holds an execution's HTTP/2 connections: Plan.H2Conns per
// origin, slot i sending its streams on connection i mod H2Conns. A
// connection that can take no new stream (GOAWAY, closed) is replaced
// by the next slot that needs it.
type h2pool struct {
	t       *http2.Transport
	n       int
	mu      sync.Mutex
	conns   map[string][]*h2conn
	retired []*http2.ClientConn
}

type h2conn struct {
	mu sync.Mutex // held while dialing
	cc *http2.ClientConn
}

func newH2Pool(p *Plan) *h2pool {
	n := p.H2Conns
	if n < 1 {
		n = 1
	}
	return &h2pool{n: n, conns: map[string][]*h2conn{},
		t: &http2.Transport{DisableCompression: true, AllowHTTP: true, MaxHeaderListSize: uint32(max(p.MaxHeaderBytes, 64<<10))}}
}

// h2conn returns slot s's connection to t, dialing it when there is none
// usable; opened reports that this call opened it (its time is the
// request's Connect).
func (x *execution) h2conn(ctx context.Context, s *slot, t *target) (cc *http2.ClientConn, info dialed, opened bool, err error) {
	pool := x.h2
	pool.mu.Lock()
	list, ok := pool.conns[t.key]
	if !ok {
		list = make([]*h2conn, pool.n)
		for i := range list {
			list[i] = &h2conn{}
		}
		pool.conns[t.key] = list
	}
	pool.mu.Unlock()
	c := list[s.id%pool.n]
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cc != nil {
		// at its stream limit, RoundTrip waits for a stream to end
		if st := c.cc.State(); !st.Closed && !st.Closing {
			return c.cc, info, false, nil
		}
		// closed, or going away: other slots may still finish their
		// streams on it; it is closed with the pool
		pool.mu.Lock()
		pool.retired = append(pool.retired, c.cc)
		pool.mu.Unlock()
		c.cc = nil
	}
	nc, info, err := x.dial.dialProto(ctx, t, s.shard, "h2")
	if err != nil {
		return nil, info, false, err
	}
	cc, err = pool.t.NewClientConn(&bufConn{Conn: nc, r: bufio.NewReaderSize(nc, 64<<10)})
	if err != nil {
		nc.Close()
		return nil, info, false, fmt.Errorf("http2: %w", err)
	}
	c.cc = cc
	return cc, info, true, nil
}

// bufConn reads its connection through a 64 KiB buffer: the HTTP/2
// client reads frames 4 KiB at a time, which would be a system call for
// every few responses.
type bufConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufConn) Read(b []byte) (int, error) { return c.r.Read(b) }

// close closes every connection.
func (pool *h2pool) close() {
	pool.mu.Lock()
	defer pool.mu.Unlock()
	for _, cc := range pool.retired {
		cc.Close()
	}
	for _, list := range pool.conns {
		for _, c := range list {
			c.mu.Lock()
			if c.cc != nil {
				c.cc.Close()
			}
			c.mu.Unlock()
		}
	}
}

// connectionFields are HTTP/1's connection-specific header fields, which
// HTTP/2 forbids (RFC 9113 §8.2.2).
var connectionFields = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding", "Upgrade"}

// roundTripH2 sends the request in s.wbuf as an HTTP/2 stream and reads
// its response into the slot's parser, as roundTrip does for HTTP/1.1.
func (x *execution) roundTripH2(s *slot, t *target, sp *stepPlan, head bool, res *Result) error {
	res.Start = time.Now()
	res.Connect, res.Reused = 0, false
	if t.proxy != nil && !t.tls {
		return errors.New("http2: h2c through an HTTP proxy is not supported (https goes through its CONNECT tunnel)")
	}
	req, err := s.h2request(t)
	if err != nil {
		return err
	}
	ctx, cancel := x.ioCtx, context.CancelFunc(func() {})
	if lim := sp.spec.TimeLimit; lim > 0 {
		ctx, cancel = context.WithDeadline(ctx, res.Start.Add(lim))
	}
	defer cancel()
	dctx, dcancel := ctx, context.CancelFunc(func() {})
	if dl, connectOnly := connectDeadline(sp.spec, res.Start); connectOnly {
		dctx, dcancel = context.WithDeadline(ctx, dl)
	}
	cc, info, opened, err := x.h2conn(dctx, s, t)
	dcancel()
	res.DNSCached, res.TLSHandshake, res.TLSResumed = info.dnsCached, info.tls, info.tlsResumed
	if err != nil {
		return err
	}
	if opened {
		res.Connect = time.Since(res.Start)
	} else {
		res.Reused = true
	}
	if l := x.plan.Live; l != nil {
		l.Started.Add(1)
	}
	// the trace runs on the transport's goroutines, maybe after
	// RoundTrip returned: it writes only into this request's own times
	tm := &h2times{start: res.Start}
	trace := &httptrace.ClientTrace{
		WroteRequest:         func(httptrace.WroteRequestInfo) { tm.wrote.Store(int64(time.Since(tm.start))) },
		GotFirstResponseByte: func() { tm.first.Store(int64(time.Since(tm.start))) },
	}
	req = req.WithContext(httptrace.WithClientTrace(ctx, trace))
	res.BytesSent = int64(len(s.wbuf))
	resp, err := cc.RoundTrip(req)
	if err != nil {
		if err.Error() == "http2: client conn not usable" {
			// x/net's words when a GOAWAY or a close came before the stream
			// could start; its code, if any, went with the connection
			return fmt.Errorf("http2: the connection went away before the stream started (GOAWAY or close): %w", err)
		}
		return fmt.Errorf("http2: %w", err)
	}
	defer resp.Body.Close()
	p := s.p
	p.status, p.http11, p.http2 = resp.StatusCode, false, true
	p.headersDone = time.Since(res.Start)
	wrote, first := time.Duration(tm.wrote.Load()), time.Duration(tm.first.Load())
	if first == 0 {
		first = p.headersDone
	}
	if wrote == 0 || wrote > first {
		wrote = min(first, time.Since(res.Start))
	}
	res.Send = max(wrote-res.Connect, 0)
	res.Wait = max(first-wrote, 0)
	res.HeadersDone = p.headersDone
	// the header block as HTTP/1 would read, for what keeps or reads it
	hb := &s.h2head
	hb.Reset()
	fmt.Fprintf(hb, "HTTP/2.0 %d %s\r\n", resp.StatusCode, http.StatusText(resp.StatusCode))
	for name, vals := range resp.Header {
		for _, v := range vals {
			if strings.ContainsAny(v, "\r\n\x00") {
				return fmt.Errorf("http2: %w: control character in the value of %q", ErrBadHeader, name)
			}
			hb.WriteString(name)
			hb.WriteString(": ")
			hb.WriteString(v)
			hb.WriteString("\r\n")
			switch {
			case p.cookies && name == "Set-Cookie":
				p.cookieBuf = append(p.cookieBuf, v...)
				p.cookieBuf = append(p.cookieBuf, '\n')
			case name == "Content-Encoding":
				if len(p.coding) > 0 {
					p.coding = append(p.coding, ',')
				}
				p.coding = append(p.coding, v...)
			}
		}
	}
	hb.WriteString("\r\n")
	p.headerBytes = int64(hb.Len())
	if p.keepHeader {
		p.header = append(p.header[:0], hb.Bytes()...)
	}
	if !head {
		if s.h2buf == nil {
			s.h2buf = make([]byte, 16<<10)
		}
		buf := s.h2buf
		for {
			n, rerr := resp.Body.Read(buf)
			if n > 0 {
				p.bodyBytes += int64(n)
				p.keep(buf[:n])
			}
			if rerr == io.EOF {
				break
			}
			if rerr != nil {
				p.wireBytes = p.headerBytes + p.bodyBytes
				return fmt.Errorf("http2: body: %w after %d bytes", rerr, p.bodyBytes)
			}
		}
	}
	p.wireBytes = p.headerBytes + p.bodyBytes
	res.Total = time.Since(res.Start)
	s.lastRun, s.lastStep = res.Run, res.Step
	return nil
}

// h2request turns the request built in s.wbuf into an *http.Request
// for t. The last one is reused when the bytes are the same (a static
// step): the transport only reads it.
func (s *slot) h2request(t *target) (*http.Request, error) {
	if s.h2req != nil && s.h2key == t.key && bytes.Equal(s.wbuf, s.h2bytes) {
		return s.h2req, nil
	}
	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(s.wbuf)))
	if err != nil {
		return nil, fmt.Errorf("http2: the request as built: %w", err)
	}
	for _, f := range connectionFields {
		req.Header.Del(f)
	}
	req.Close = false // HTTP/1's Connection: close; streams share the connection
	if req.ContentLength > 0 {
		// the transport may still read the body after the response came:
		// it gets its own copy, not the slot's buffer
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, fmt.Errorf("http2: the request body as built: %w", err)
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	} else {
		req.Body = http.NoBody
	}
	u := *t.url
	req.URL, req.RequestURI = &u, ""
	if req.ContentLength <= 0 {
		s.h2req, s.h2key, s.h2bytes = req, t.key, append(s.h2bytes[:0], s.wbuf...)
	} else {
		s.h2req = nil // a body is read once
	}
	return req, nil
}

// h2times are a stream's times from its start, set by httptrace.
type h2times struct {
	start        time.Time
	wrote, first atomic.Int64
}

// errNoH2 says a TLS server did not agree to HTTP/2.
var errNoH2 = errors.New("the server did not negotiate h2 by ALPN")

// h2TLS reports whether nc negotiated h2 (nil for a connection without
// TLS: h2c with prior knowledge).
func h2TLS(nc net.Conn) error {
	if tc, ok := nc.(*tls.Conn); ok && tc.ConnectionState().NegotiatedProtocol != "h2" {
		return fmt.Errorf("%w (got %q)", errNoH2, tc.ConnectionState().NegotiatedProtocol)
	}
	return nil
}
