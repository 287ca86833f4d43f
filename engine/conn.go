package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/benchgate/benchgate/scenario"
)

// The slot state both drivers share, and the goroutine driver: each slot
// runs on its own goroutine with a net.Conn (plain TCP, TLS, or through a
// proxy).

// slot is one connection slot: its connection, reader and buffers.
type slot struct {
	id          int
	mu          sync.Mutex // guards nc and interrupted against the watcher
	nc          net.Conn
	interrupted bool
	key         string
	reusable    bool
	deadline    time.Time
	p           *parser
	conn        connReader
	cur         current
	wbuf        []byte
	res         Result
	// lastRun and lastStep name the request whose response the kept
	// connection carried last, for a warning about what came after it.
	lastRun, lastStep int
	// intended is when the next request is due by its schedule (zero
	// for ApacheBench's slots, which send as soon as they are free).
	intended time.Time
}

// idleWarn records a warning about the kept connection's last response.
func (x *execution) idleWarn(s *slot, warning string) {
	if w, ok := x.rec.(Warner); ok {
		w.Warn(s.lastRun, s.lastStep, warning)
	}
}

// connReader lets the parser read from whatever connection the slot has.
type connReader struct{ s *slot }

func (c connReader) Read(b []byte) (int, error) { return c.s.nc.Read(b) }

func (x *execution) runSlot(s *slot) {
	defer s.closeConn()
	var done *work
	var last work
	for {
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
		s.nc = nil
	}
	s.reusable = false
	s.deadline = time.Time{}
	s.p.discardInput()
	s.mu.Unlock()
}

// do sends one request on the slot's goroutine and records it.
func (x *execution) do(s *slot, w work) {
	if !x.prepare(s, w) {
		return
	}
	if x.stopped.Load() != nil {
		return // stopped while the request was built: it never starts
	}
	x.finish(s, x.exchange(s))
}

// roundTrip writes s.wbuf and reads the response, on a kept-alive
// connection when one to the same scheme, host and port is open. A kept
// connection the server closed meanwhile is replaced once.
func (x *execution) roundTrip(s *slot, t *target, sp *stepPlan, head bool, res *Result) error {
	for attempt := 0; ; attempt++ {
		res.Start = time.Now()
		res.Connect, res.Reused = 0, false
		if s.nc != nil && s.reusable && s.key == t.key && sp.reuse {
			s.mu.Lock() // a TLS look sets a deadline: not while the watcher interrupts
			warn, gone := "", s.interrupted
			if !gone {
				warn, gone = idleData(s.nc)
			}
			s.mu.Unlock()
			if gone {
				if warn != "" {
					x.idleWarn(s, warn)
				}
				s.closeConn()
			}
		}
		if s.nc != nil && s.reusable && s.key == t.key && sp.reuse {
			res.Reused = true
		} else {
			s.closeConn()
			dctx, cancel := x.ioCtx, context.CancelFunc(nil)
			dl, connectOnly := connectDeadline(sp.spec, res.Start)
			if !dl.IsZero() {
				// the step's limit bounds the whole request, connect included
				dctx, cancel = context.WithDeadline(x.ioCtx, dl)
			}
			nc, cached, err := x.dial.dial(dctx, t)
			if cancel != nil {
				cancel()
			}
			if err != nil && connectOnly && (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded)) {
				err = &connectTimeoutError{sp.spec.ConnectTimeout, err}
			}
			res.DNSCached = cached
			if err != nil {
				return err
			}
			s.mu.Lock()
			if s.interrupted {
				s.mu.Unlock()
				nc.Close()
				return errInterrupted
			}
			s.nc, s.key = nc, t.key
			s.mu.Unlock()
			s.p.discardInput()
			res.Connect = time.Since(res.Start) // monotonic clock only: cheaper than time.Now
		}
		if err := s.setDeadline(res.Start, sp.spec.TimeLimit); err != nil {
			return err
		}
		if l := x.plan.Live; l != nil && attempt == 0 {
			l.Started.Add(1)
		}
		n, err := s.nc.Write(s.wbuf)
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
		s.p.ref = res.Start
		err = s.p.read(head)
		if err != nil {
			s.closeConn()
			if x.replaceStale(res, attempt > 0, s.p.gotByte, err) {
				continue
			}
			if s.p.gotByte {
				res.Wait = s.p.firstByte - written
			}
			return fmt.Errorf("read response: %w", err)
		}
		res.Wait = s.p.firstByte - written
		res.HeadersDone = s.p.headersDone
		res.Total = time.Since(res.Start)
		s.reusable = sp.keepAlive && s.p.keepAlive
		if warn := s.p.leftover(); warn != "" {
			res.Warning, s.reusable = warn, false
		}
		if !s.reusable {
			s.closeConn()
		}
		s.lastRun, s.lastStep = res.Run, res.Step
		return nil
	}
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
	if dl.Equal(s.deadline) {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.interrupted {
		return errInterrupted
	}
	s.deadline = dl
	return s.nc.SetDeadline(dl)
}

var errInterrupted = errors.New("interrupted")

// connectDeadline is when opening a connection for the step must end:
// the earlier of its connect timeout and its time limit. connectOnly is
// true when the connect timeout is the earlier.
func connectDeadline(spec *scenario.StepSpec, start time.Time) (dl time.Time, connectOnly bool) {
	if lim := spec.TimeLimit; lim > 0 {
		dl = start.Add(lim)
	}
	if ct := spec.ConnectTimeout; ct > 0 && (dl.IsZero() || start.Add(ct).Before(dl)) {
		return start.Add(ct), true
	}
	return dl, false
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
