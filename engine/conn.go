package engine

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/benchgate/benchgate/failure"
	"github.com/benchgate/benchgate/internal/decode"
	"github.com/benchgate/benchgate/internal/h1"
	"github.com/benchgate/benchgate/scenario"
)

// The slot state both drivers share, and the goroutine driver: each slot
// runs on its own goroutine with a net.Conn (plain TCP, TLS, or through a
// proxy).

// slot is one connection slot: its connection, reader and buffers.
type slot struct {
	id          int
	shard       int        // its VU's shard: the DNS cache it uses
	mu          sync.Mutex // guards nc and interrupted against the watcher
	nc          net.Conn
	raw         syscall.RawConn // nc's, when it is plain TCP (rawOf)
	rio         rawRW           // reads and writes through raw
	interrupted bool
	key         string
	reusable    bool
	deadline    time.Time
	p           *h1.Parser
	conn        connReader
	cur         current
	wbuf        []byte
	res         Result
	// lastRun and lastStep name the request whose response the kept
	// connection carried last, for a warning about what came after it.
	lastRun, lastStep int
	// intended is when the next request is due by its schedule (zero
	// for the slots executor, whose slots send as soon as they are free).
	intended time.Time
	// ioTimeout is the current step's I/O timeout; deadlineDirty says
	// it changed the connection's deadlines since setDeadline.
	ioTimeout     time.Duration
	deadlineDirty bool
	// dec decodes compressed bodies
	dec decode.Decoders
	// wire sends the slot's requests: its HTTP/1 connection (h1conn),
	// or its HTTP/2 stream (h2stream, which holds the HTTP/2 state)
	wire wire
	// timer times a VU's waits
	timer *time.Timer
	// hold keeps finish from recording the result, for a VU's iterator
	// to see first; held says a result was left in res.
	hold, held bool
	// kept is a virtual user's pool of idle kept-alive connections
	kept keptConns
}

// idleWarn records a warning about the kept connection's last response.
func (x *execution) idleWarn(s *slot, warning string) {
	x.rec.Warn(s.lastRun, s.lastStep, warning)
}

// connReader lets the parser read from whatever connection the slot has.
type connReader struct{ s *slot }

func (c connReader) Read(b []byte) (int, error) {
	s := c.s
	if s.ioTimeout <= 0 {
		return s.read(b)
	}
	ioOnly, err := s.ioDeadline(s.nc.SetReadDeadline)
	if err != nil {
		return 0, err
	}
	n, err := s.read(b)
	if err != nil && ioOnly && errors.Is(err, os.ErrDeadlineExceeded) {
		err = &ioTimeoutError{s.ioTimeout, "read", err}
	}
	return n, err
}

// read reads from the slot's connection, raw when it is plain TCP.
func (s *slot) read(b []byte) (int, error) {
	if s.raw == nil || len(b) == 0 {
		return s.nc.Read(b)
	}
	n, errno, err := s.rio.read(s.raw, b)
	switch {
	case err != nil:
		return 0, s.opErr("read", err)
	case errno != nil:
		return 0, s.opErr("read", errno)
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

// write writes b to the slot's connection, raw when it is plain TCP.
func (s *slot) write(b []byte) (int, error) {
	if s.raw == nil || len(b) == 0 {
		return s.nc.Write(b)
	}
	n, errno, err := s.rio.write(s.raw, b)
	switch {
	case err != nil:
		return n, s.opErr("write", err)
	case errno != nil:
		return n, s.opErr("write", errno)
	}
	return n, nil
}

// opErr says what a raw read or write met as net.Conn's methods do.
func (s *slot) opErr(op string, err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) {
		err = oe.Err // the poller's: deadline passed, or closed
	} else if errno, ok := err.(syscall.Errno); ok {
		err = os.NewSyscallError(op, errno)
	}
	return &net.OpError{Op: op, Net: "tcp", Source: s.nc.LocalAddr(), Addr: s.nc.RemoteAddr(), Err: err}
}

// waitReadable waits until the slot's connection has bytes to read,
// without a buffer, for a virtual user's parser.
func (s *slot) waitReadable() error {
	if s.ioTimeout > 0 {
		if _, err := s.ioDeadline(s.nc.SetReadDeadline); err != nil {
			return err
		}
	}
	err := awaitReadable(s.nc)
	if err != nil && s.ioTimeout > 0 && errors.Is(err, os.ErrDeadlineExceeded) {
		err = &ioTimeoutError{s.ioTimeout, "read", err}
	}
	return err
}

// ioDeadline sets the I/O timeout's deadline with set (read or write),
// unless the step's own deadline comes first; ioOnly says which.
func (s *slot) ioDeadline(set func(time.Time) error) (ioOnly bool, err error) {
	dl := time.Now().Add(s.ioTimeout)
	ioOnly = s.deadline.IsZero() || dl.Before(s.deadline)
	if !ioOnly {
		dl = s.deadline
	}
	s.mu.Lock() // not while the watcher interrupts
	defer s.mu.Unlock()
	if s.interrupted {
		return false, errInterrupted
	}
	s.deadlineDirty = true
	return ioOnly, set(dl)
}

// ioTimeoutError says a step's I/O timeout passed.
type ioTimeoutError struct {
	limit time.Duration
	op    string
	err   error
}

func (e *ioTimeoutError) Error() string {
	return fmt.Sprintf("I/O timeout %v exceeded: no progress on %s: %v", e.limit, e.op, e.err)
}
func (e *ioTimeoutError) Unwrap() error { return e.err }

// FailureKind is failure.IOTimeout.
func (e *ioTimeoutError) FailureKind() failure.Kind { return failure.IOTimeout }

func (x *execution) runSlot(s *slot) {
	defer s.closeConn()
	var done *work
	var last work
	for !x.ending() {
		w, ok := x.sched.next(done)
		if !ok {
			return
		}
		x.do(s, w)
		last = w
		done = &last
	}
}

func (s *slot) closeConn() {
	s.mu.Lock()
	if s.nc != nil {
		s.nc.Close()
		s.nc, s.raw = nil, nil
	}
	s.reusable = false
	s.deadline = time.Time{}
	s.p.DiscardInput()
	s.mu.Unlock()
}

// h1conn is a slot's HTTP/1 connection as the request path's wire: the
// connection itself (nc, raw, key, reusable, deadline) and the parser
// reading it stay on the slot, which the goroutine driver, a virtual
// user's kept connections and the event loop share.
type h1conn struct {
	x *execution
	s *slot
}

// roundTrip writes s.wbuf and reads the response, on a kept-alive
// connection when one to the same scheme, host and port is open. A kept
// connection the server closed meanwhile is replaced once.
func (c *h1conn) roundTrip(t *target, sp *stepPlan, head bool, res *Result) error {
	x, s := c.x, c.s
	for attempt := 0; ; attempt++ {
		res.Start = time.Now()
		res.Connect, res.Reused = 0, false
		if s.kept.on {
			x.pickKept(s, t, sp, attempt)
		}
		if s.nc != nil && s.reusable && s.key == t.key && sp.reuse {
			x.checkIdle(s)
		}
		if s.nc != nil && s.reusable && s.key == t.key && sp.reuse {
			res.Reused = true
		} else {
			s.closeConn()
			dctx, cancel, connectOnly := x.connectCtx(sp.spec, res.Start, res.Start)
			nc, info, err := x.dial.Dial(dctx, t.dialTarget(), s.shard, "http/1.1")
			cancel()
			err = connectErr(sp.spec, connectOnly, err)
			res.DNSCached, res.TLSHandshake, res.TLSResumed = info.DNSCached, info.TLS, info.TLSResumed
			if err != nil {
				return err
			}
			s.mu.Lock()
			if s.interrupted {
				s.mu.Unlock()
				nc.Close()
				return errInterrupted
			}
			s.nc, s.key, s.raw = nc, t.key, rawOf(nc)
			s.mu.Unlock()
			s.p.DiscardInput()
			res.Connect = time.Since(res.Start) // monotonic clock only: cheaper than time.Now
		}
		if err := s.setDeadline(res.Start, sp.spec.TimeLimit); err != nil {
			return err
		}
		if l := x.plan.Live; l != nil && attempt == 0 {
			l.Started.Add(1)
		}
		s.ioTimeout = sp.spec.IOTimeout
		var n int
		var err error
		if s.ioTimeout > 0 {
			n, err = s.writeEach(s.wbuf)
		} else {
			n, err = s.write(s.wbuf)
		}
		res.BytesSent = int64(n)
		if err != nil {
			s.closeConn()
			if x.replaceStale(res, attempt > 0, false, err) {
				continue
			}
			return fmt.Errorf("write request: %w", err)
		}
		written := time.Since(res.Start)
		res.Send = written - res.Connect
		s.p.Ref = res.Start
		s.p.RegisteredHead = head && s.cur.b.method != "HEAD"
		err = s.p.ReadResponse(head)
		if err != nil {
			s.closeConn()
			if x.replaceStale(res, attempt > 0, s.p.GotByte, err) {
				continue
			}
			if s.p.GotByte {
				res.Wait = s.p.FirstByte - written
			}
			return fmt.Errorf("read response: %w", err)
		}
		res.Wait = s.p.FirstByte - written
		res.HeadersDone = s.p.HeadersDone
		res.Total = time.Since(res.Start)
		s.reusable = sp.keepAlive && s.p.KeepAlive
		if warn := s.p.Leftover(); warn != "" {
			res.Warning, s.reusable = warn, false
		}
		if !s.reusable {
			s.closeConn()
		}
		s.lastRun, s.lastStep = res.Run, res.Step
		return nil
	}
}

// checkIdle closes the slot's kept-alive connection when the server
// closed it or sent something while it was idle (with a warning).
func (x *execution) checkIdle(s *slot) {
	s.mu.Lock() // a TLS look sets a deadline: not while the watcher interrupts
	warn, gone := "", s.interrupted
	if !gone {
		warn, gone = idleData(s.nc)
		if _, ok := s.nc.(*tls.Conn); ok {
			s.deadlineDirty = true // the look cleared the read deadline
		}
	}
	s.mu.Unlock()
	if gone {
		if warn != "" {
			x.idleWarn(s, warn)
		}
		s.closeConn()
	}
}

// pickKept gives a virtual user's slot the connection the request is
// to use: the slot's connection when it is
// kept alive to the request's origin and the request may reuse one;
// else the slot's reusable connection is parked in the VU's pool and,
// when the request may reuse one, a kept connection to its origin is
// taken from there (one the server closed meanwhile is dropped and the
// next tried). A retry after a kept connection failed (attempt > 0)
// opens a new one.
func (x *execution) pickKept(s *slot, t *target, sp *stepPlan, attempt int) {
	if s.nc != nil && s.reusable && s.key == t.key && sp.reuse {
		return
	}
	if s.nc != nil {
		if s.reusable {
			s.park()
		} else {
			s.closeConn()
		}
	}
	if !sp.reuse || attempt > 0 {
		return
	}
	for s.unpark(t.key) {
		x.checkIdle(s)
		if s.nc != nil {
			return
		}
	}
}

// replaceStale reports whether a failed request on a kept-alive
// connection should be sent once more on a new one: the server closed the
// idle connection before it read the request (nothing came back, and the
// error is what such a close produces). Both drivers ask it.
func (x *execution) replaceStale(res *Result, retried, gotByte bool, err error) bool {
	return res.Reused && !retried && !gotByte && staleConn(err) && !x.cutting()
}

// staleConn reports an error that a server closing an idle kept-alive
// connection produces.
func staleConn(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// setDeadline bounds the request by the step time limit; the plan's time
// limit interrupts through the watcher.
func (s *slot) setDeadline(start time.Time, limit time.Duration) error {
	var dl time.Time
	if limit > 0 {
		dl = start.Add(limit)
	}
	if dl.Equal(s.deadline) && !s.deadlineDirty {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.interrupted {
		return errInterrupted
	}
	s.deadline, s.deadlineDirty = dl, false
	return s.nc.SetDeadline(dl)
}

var errInterrupted = errors.New("interrupted")

// writeEach writes b in pieces of at most 64 KiB, each bounded by the
// I/O timeout.
func (s *slot) writeEach(b []byte) (int, error) {
	done := 0
	for done < len(b) {
		ioOnly, err := s.ioDeadline(s.nc.SetWriteDeadline)
		if err != nil {
			return done, err
		}
		n, err := s.write(b[done:min(len(b), done+64<<10)])
		done += n
		if err != nil {
			if ioOnly && errors.Is(err, os.ErrDeadlineExceeded) {
				err = &ioTimeoutError{s.ioTimeout, "write", err}
			}
			return done, err
		}
	}
	return done, nil
}

// connectDeadline is when opening a connection for the step must end:
// the earlier of its connect timeout and its time limit. connectOnly is
// true when the connect timeout is the earlier.
func connectDeadline(spec *scenario.StepSpec, began, start time.Time) (dl time.Time, connectOnly bool) {
	if lim := spec.TimeLimit; lim > 0 {
		dl = began.Add(lim)
	}
	if ct := spec.ConnectTimeout; ct > 0 && (dl.IsZero() || start.Add(ct).Before(dl)) {
		return start.Add(ct), true
	}
	return dl, false
}

// connectCtx bounds opening a connection at start for a request that
// began then or earlier (an attempt after the first): by the step's
// connect timeout from start (connectOnly) or its time limit from
// began, which bounds the whole request, connect included; else by the
// run.
func (x *execution) connectCtx(spec *scenario.StepSpec, began, start time.Time) (ctx context.Context, cancel context.CancelFunc, connectOnly bool) {
	dl, connectOnly := connectDeadline(spec, began, start)
	if dl.IsZero() {
		return x.ioCtx, func() {}, false
	}
	ctx, cancel = context.WithDeadline(x.ioCtx, dl)
	return ctx, cancel, connectOnly
}

// connectErr is err, a failure to connect, as the step's connect
// timeout when that is what ended it.
func connectErr(spec *scenario.StepSpec, connectOnly bool, err error) error {
	if err != nil && connectOnly && (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded)) {
		return &connectTimeoutError{spec.ConnectTimeout, err}
	}
	return err
}

// connectTimeoutError says a step's connect timeout passed.
type connectTimeoutError struct {
	limit time.Duration
	err   error
}

func (e *connectTimeoutError) Error() string {
	return fmt.Sprintf("connect timeout %v exceeded: %v", e.limit, e.err)
}
func (e *connectTimeoutError) Unwrap() error { return e.err }

// FailureKind is failure.ConnectTimeout.
func (e *connectTimeoutError) FailureKind() failure.Kind { return failure.ConnectTimeout }
