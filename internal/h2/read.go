package h2

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/benchgate/benchgate/failure"
	"github.com/benchgate/benchgate/internal/h1"
)

// The reading side of an HTTP/2 connection: one goroutine per
// connection reads the frames, keeps the flow-control and settings
// state, and hands each stream its headers, body and end.

// readPreface reads the server's connection preface, a SETTINGS frame,
// and acknowledges it; by ctx's deadline (10 s without one).
func (c *Conn) readPreface(ctx context.Context) error {
	dl, ok := ctx.Deadline()
	if !ok {
		dl = time.Now().Add(10 * time.Second)
	}
	c.nc.SetReadDeadline(dl)
	stop := context.AfterFunc(ctx, func() { c.nc.SetReadDeadline(time.Now()) })
	f, err := c.rfr.ReadFrame()
	if !stop() && err != nil {
		err = fmt.Errorf("%w (%v)", err, context.Cause(ctx))
	}
	c.nc.SetReadDeadline(time.Time{})
	if err != nil {
		return fmt.Errorf("http2: reading the server's preface (SETTINGS): %w", err)
	}
	sf, ok := f.(*http2.SettingsFrame)
	if !ok || sf.IsAck() {
		return failure.Wrap(failure.Parse, fmt.Errorf("http2: the server's preface is %v, not SETTINGS (PROTOCOL_ERROR)", f.Header().Type))
	}
	return c.onSettings(sf)
}

// ReadLoop reads c's frames until the connection ends.
func (c *Conn) ReadLoop() {
	for {
		f, err := c.rfr.ReadFrame()
		if err != nil {
			var se http2.StreamError
			if errors.As(err, &se) {
				c.resetStream(se.StreamID, se.Code, failure.Wrap(failure.Parse, fmt.Errorf("http2: the response is malformed (%v sent): %v", se.Code, streamCause(se, c.rfr))))
				continue
			}
			c.Fail(c.readError(err))
			return
		}
		if err := c.handle(f); err != nil {
			c.Fail(err)
			return
		}
	}
}

// streamCause is what made a stream error.
func streamCause(se http2.StreamError, fr *http2.Framer) error {
	if se.Cause != nil {
		return se.Cause
	}
	if d := fr.ErrorDetail(); d != nil {
		return d
	}
	return errors.New("protocol violation")
}

// readError says why reading c ended.
func (c *Conn) readError(err error) error {
	var ce http2.ConnectionError
	if errors.As(err, &ce) {
		code := http2.ErrCode(ce)
		c.Control(func(fr *http2.Framer) error { return fr.WriteGoAway(0, code, nil) })
		if d := c.rfr.ErrorDetail(); d != nil {
			return failure.Wrap(failure.Parse, fmt.Errorf("http2: the server broke the protocol (%v sent): %v", code, d))
		}
		return failure.Wrap(failure.Parse, fmt.Errorf("http2: the server broke the protocol (%v sent)", code))
	}
	c.mu.Lock()
	g := c.goaway != nil
	code, text := c.goawayCode, c.goawayText
	gone := c.err
	c.mu.Unlock()
	switch {
	case gone != nil:
		return gone
	case g:
		return failure.Wrap(failure.StreamReset, fmt.Errorf("http2: the connection closed after the server's GOAWAY %v%s: %w", code, text, err))
	}
	return fmt.Errorf("http2: reading the connection: %w", err)
}

// handle acts on one frame; an error breaks the connection.
func (c *Conn) handle(f http2.Frame) error {
	switch f := f.(type) {
	case *http2.MetaHeadersFrame:
		return c.onHeaders(f)
	case *http2.DataFrame:
		return c.onData(f)
	case *http2.SettingsFrame:
		if f.IsAck() {
			return nil
		}
		return c.onSettings(f)
	case *http2.WindowUpdateFrame:
		return c.onWindowUpdate(f)
	case *http2.PingFrame:
		if !f.IsAck() {
			data := f.Data
			c.Control(func(fr *http2.Framer) error { return fr.WritePing(true, data) })
		}
	case *http2.RSTStreamFrame:
		// REFUSED_STREAM too is a failure, not sent again: a server that
		// refuses work under load is what a load test is there to see
		c.endStream(f.StreamID, failure.Wrap(failure.StreamReset, fmt.Errorf("http2: the server reset the stream (RST_STREAM %v)", f.ErrCode)), false)
	case *http2.GoAwayFrame:
		c.onGoAway(f)
	case *http2.PushPromiseFrame:
		return failure.New(failure.Parse, "http2: the server pushed a stream though push is off (PROTOCOL_ERROR)")
	}
	return nil
}

// stream returns the open stream id, or nil; a stream we never opened
// is a connection error.
func (c *Conn) stream(id uint32) (*Stream, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.streams[id]
	if st == nil && (id%2 == 0 || id >= c.nextID) {
		return nil, failure.Wrap(failure.Parse, fmt.Errorf("http2: the server sent a frame on stream %d, which was never opened (PROTOCOL_ERROR)", id))
	}
	return st, nil
}

// headerListSize is a header list's size as SETTINGS_MAX_HEADER_LIST_SIZE
// counts it (RFC 9113 §6.5.2): each field's name and value and 32.
func headerListSize(fields []hpack.HeaderField) uint64 {
	var n uint64
	for _, f := range fields {
		n += uint64(len(f.Name)) + uint64(len(f.Value)) + 32
	}
	return n
}

func (c *Conn) onHeaders(f *http2.MetaHeadersFrame) error {
	now := time.Now()
	id := f.StreamID
	st, err := c.stream(id)
	if st == nil {
		return err // a stream we reset: its headers are decoded and dropped
	}
	if f.Truncated || headerListSize(f.Fields) > uint64(c.maxHeader) {
		c.resetStream(id, http2.ErrCodeProtocol, failure.Wrap(failure.Parse, fmt.Errorf("http2: the response's header list exceeds %d bytes (PROTOCOL_ERROR sent)", c.maxHeader)))
		return nil
	}
	st.mu.Lock()
	if st.c != c || st.id != id {
		st.mu.Unlock()
		return nil
	}
	if st.firstAt.IsZero() {
		st.firstAt = now
	}
	st.lastAt = now
	var bad error
	switch {
	case st.final:
		if !f.StreamEnded() {
			bad = errors.New("trailers without END_STREAM")
		}
	default:
		code, err := strconv.Atoi(f.PseudoValue("status"))
		switch {
		case err != nil || code < 100 || code > 999:
			bad = fmt.Errorf("bad :status %q", h1.Clip([]byte(f.PseudoValue("status"))))
		case code == 101:
			bad = errors.New(":status 101 is not allowed in HTTP/2")
		case code < 200:
			if f.StreamEnded() {
				bad = fmt.Errorf("an informational response (%d) ends the stream", code)
			}
		default:
			st.final, st.status, st.fields, st.headersAt = true, code, f.RegularFields(), now
			st.cl = -1
			if v := fieldValue(st.fields, "content-length"); v != "" {
				if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
					st.cl = n
				} else {
					bad = fmt.Errorf("bad content-length %q", h1.Clip([]byte(v)))
				}
			}
		}
	}
	st.mu.Unlock()
	if bad != nil {
		c.resetStream(id, http2.ErrCodeProtocol, failure.Wrap(failure.Parse, fmt.Errorf("http2: the response is malformed (PROTOCOL_ERROR sent): %v", bad)))
		return nil
	}
	if f.StreamEnded() {
		c.endStream(id, nil, true)
	}
	return nil
}

// fieldValue is the first value of the (lower-case) field name.
func fieldValue(fields []hpack.HeaderField, name string) string {
	for _, f := range fields {
		if f.Name == name {
			return f.Value
		}
	}
	return ""
}

func (c *Conn) onData(f *http2.DataFrame) error {
	n := int64(f.Length) // flow control counts the padding too
	c.recvAvail -= n
	if c.recvAvail < 0 {
		c.Control(func(fr *http2.Framer) error { return fr.WriteGoAway(0, http2.ErrCodeFlowControl, nil) })
		return failure.New(failure.Parse, "http2: the server sent more than the connection's window (FLOW_CONTROL_ERROR)")
	}
	if c.recvAvail < connWindow/2 {
		inc := uint32(connWindow - c.recvAvail)
		c.recvAvail = connWindow
		c.Control(func(fr *http2.Framer) error { return fr.WriteWindowUpdate(0, inc) })
	}
	id := f.StreamID
	st, err := c.stream(id)
	if st == nil {
		return err
	}
	data := f.Data()
	st.mu.Lock()
	if st.c != c || st.id != id {
		st.mu.Unlock()
		return nil
	}
	var bad error
	var code http2.ErrCode
	switch {
	case !st.final:
		bad, code = errors.New("DATA before the response's headers"), http2.ErrCodeProtocol
	case n > st.recvAvail:
		bad, code = fmt.Errorf("DATA beyond the stream's window (%d bytes over)", n-st.recvAvail), http2.ErrCodeFlowControl
	case st.cl >= 0 && st.recvd+int64(len(data)) > st.cl:
		bad, code = fmt.Errorf("more body than its content-length %d", st.cl), http2.ErrCodeProtocol
	}
	pad := n - int64(len(data))
	if bad == nil {
		st.lastAt = time.Now()
		st.recvAvail -= n - pad // padding is refunded at once
		st.recvd += int64(len(data))
		st.data = append(st.data, data...)
	}
	wake := len(st.data) >= wakeBytes
	st.mu.Unlock()
	if bad == nil && pad > 0 && !f.StreamEnded() {
		c.Control(func(fr *http2.Framer) error { return fr.WriteWindowUpdate(id, uint32(pad)) })
	}
	if bad != nil {
		c.resetStream(id, code, failure.Wrap(failure.Parse, fmt.Errorf("http2: the response is malformed (%v sent): %v", code, bad)))
		return nil
	}
	if f.StreamEnded() {
		c.endStream(id, nil, true)
	} else if wake {
		st.notify()
	}
	return nil
}

// endStream closes stream id: complete when ok, else failed with err.
func (c *Conn) endStream(id uint32, err error, ok bool) {
	c.mu.Lock()
	st := c.streams[id]
	if st != nil {
		c.drop(id)
	}
	c.mu.Unlock()
	if st == nil {
		return
	}
	if ok {
		st.mu.Lock()
		if st.c == c && st.id == id && st.cl >= 0 && st.recvd != st.cl && st.status != 304 && st.status != 204 && !st.head &&
			!(st.status < len(c.noBody) && c.noBody[st.status]) {
			err = failure.Wrap(failure.Parse, fmt.Errorf("http2: the body ended after %d bytes, its content-length said %d", st.recvd, st.cl))
		}
		st.endAt = time.Now()
		st.mu.Unlock()
	}
	st.finish(c, id, err)
	c.maybeClose()
}

// drop forgets stream id; called with c.mu held.
func (c *Conn) drop(id uint32) {
	delete(c.streams, id)
	if c.waiters > 0 {
		close(c.avail)
		c.avail = make(chan struct{})
	}
}

// maybeClose closes a retired or going-away connection whose last
// stream ended.
func (c *Conn) maybeClose() {
	c.mu.Lock()
	idle := len(c.streams) == 0 && (c.retired || c.goaway != nil) && c.err == nil
	c.mu.Unlock()
	if idle {
		c.Fail(failure.New(failure.ConnectionClosed, "http2: the connection was closed after its last stream"))
	}
}

// resetStream sends RST_STREAM code for id and fails it with err.
func (c *Conn) resetStream(id uint32, code http2.ErrCode, err error) {
	c.Control(func(fr *http2.Framer) error { return fr.WriteRSTStream(id, code) })
	c.endStream(id, err, false)
}

func (c *Conn) onSettings(f *http2.SettingsFrame) error {
	var bad error
	c.mu.Lock()
	f.ForeachSetting(func(s http2.Setting) error {
		if err := s.Valid(); err != nil {
			bad = err
			return err
		}
		switch s.ID {
		case http2.SettingMaxConcurrentStreams:
			c.maxStreams = s.Val
			if c.waiters > 0 {
				close(c.avail)
				c.avail = make(chan struct{})
			}
		case http2.SettingInitialWindowSize:
			delta := int64(s.Val) - c.initWin
			c.initWin = int64(s.Val)
			for _, st := range c.streams {
				st.sendWin += delta
				if st.sending {
					st.notify()
				}
			}
		case http2.SettingMaxFrameSize:
			c.maxFrame = s.Val
		}
		return nil
	})
	c.mu.Unlock()
	if bad != nil {
		c.Control(func(fr *http2.Framer) error { return fr.WriteGoAway(0, http2.ErrCodeProtocol, nil) })
		return failure.Wrap(failure.Parse, fmt.Errorf("http2: the server's SETTINGS are invalid (PROTOCOL_ERROR sent): %v", bad))
	}
	c.Control(func(fr *http2.Framer) error {
		if v, ok := f.Value(http2.SettingHeaderTableSize); ok {
			c.henc.SetMaxDynamicTableSizeLimit(v)
		}
		return fr.WriteSettingsAck()
	})
	return nil
}

func (c *Conn) onWindowUpdate(f *http2.WindowUpdateFrame) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	inc := int64(f.Increment)
	if f.StreamID == 0 {
		if c.sendWin+inc > 1<<31-1 {
			return failure.New(failure.Parse, "http2: the server's WINDOW_UPDATE overflows the connection window (FLOW_CONTROL_ERROR)")
		}
		c.sendWin += inc
		for _, st := range c.streams {
			if st.sending {
				st.notify()
			}
		}
		return nil
	}
	if st := c.streams[f.StreamID]; st != nil {
		st.sendWin += inc
		if st.sending {
			st.notify()
		}
	}
	return nil
}

func (c *Conn) onGoAway(f *http2.GoAwayFrame) {
	c.mu.Lock()
	if c.goaway == nil || f.LastStreamID < c.goawayLast {
		c.goaway, c.goawayLast, c.goawayCode = f, f.LastStreamID, f.ErrCode
		if d := f.DebugData(); len(d) > 0 {
			c.goawayText = fmt.Sprintf(" (%q)", h1.Clip(d))
		}
	}
	var unprocessed []uint32
	for id := range c.streams {
		if id > f.LastStreamID {
			unprocessed = append(unprocessed, id)
		}
	}
	code, text := c.goawayCode, c.goawayText
	c.mu.Unlock()
	for _, id := range unprocessed {
		err := failure.Wrap(failure.StreamReset, fmt.Errorf("http2: the server sent GOAWAY %v%s before processing the stream", code, text))
		if code == http2.ErrCodeNo {
			err = Unprocessed{err, f.LastStreamID > 0} // a graceful end of the connection
		}
		c.endStream(id, err, false)
	}
	c.maybeClose()
}
