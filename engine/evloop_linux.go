//go:build linux

package engine

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/benchgate/benchgate/failure"
	"github.com/benchgate/benchgate/internal/dial"
	"github.com/benchgate/benchgate/internal/h1"
)

// The event loop drives slots on non-blocking sockets with epoll: one
// goroutine per core owns many connections, reads only
// when the kernel says a socket is readable, and so spends fewer system
// calls and scheduler switches per request than a goroutine per
// connection. It serves plans whose requests are plain http, built without
// user code (user code that may block runs on the goroutine driver).

const (
	evIdle = iota
	evConnecting
	evWriting
	evReading
)

type evSlot struct {
	*slot
	idx      int // index in the loop's slots, the epoll user data
	fd       int
	state    int
	events   uint32 // what the fd is registered for
	woff     int
	retried  bool // a stale kept-alive connection was replaced
	dials    int
	deadline time.Duration // since the loop's epoch; 0 for none
	fullDL   time.Duration // the step's limit while deadline is the connect timeout
	connectT bool          // deadline is the connect timeout
	written  time.Duration
	doneW    work // the completed request fill reports, when hasDone
	hasDone  bool
	addr     netip.AddrPort // where dial connects, for error messages
}

type evLoop struct {
	x        *execution
	epfd     int
	epFile   *os.File        // epfd in Go's netpoller, to wait without holding a thread
	epRaw    syscall.RawConn // its raw access
	deadline time.Time       // the wait deadline set on epFile
	waitFn   func(uintptr) bool
	n        int
	err      error
	wake     [2]int // pipe: read end, write end
	sleeping atomic.Bool
	slots    []*evSlot
	idle     []*evSlot     // slots without a request: completed ones first report it
	expired  time.Duration // when expire last looked, since epoch
	busy     int
	finished bool
	epoch    time.Time
	events   []syscall.EpollEvent
}

const wakeIndex = -1

// eventLoopRuns counts executions the event loop served (for tests).
var eventLoopRuns atomic.Int64

// eventLoopEligible reports whether every request of p can go through the
// event loop: static steps (no user code builds them) to plain http
// origins, no proxy.
func eventLoopEligible(p *Plan, runs []runPlan) bool {
	if p.Proxy != nil || raceEnabled || p.HTTP2 {
		return false
	}
	for i := range runs {
		for k := range runs[i].steps {
			sp := &runs[i].steps[k]
			if !sp.static || sp.t.tls || sp.t.proxy != nil || sp.follow > 0 || sp.spec.IOTimeout > 0 {
				return false
			}
		}
	}
	return true
}

// runLoops runs the plan on min(GOMAXPROCS, concurrency) event loops.
func (x *execution) runLoops() (ran bool, err error) {
	if !eventLoopEligible(x.plan, x.runs) {
		return false, nil
	}
	n := min(runtime.GOMAXPROCS(0), len(x.slots))
	loops := make([]*evLoop, 0, n)
	defer func() {
		for _, l := range loops {
			l.close()
		}
	}()
	for i := 0; i < n; i++ {
		l, err := newEvLoop(x)
		if err != nil {
			return false, nil // no epoll here: use goroutines
		}
		loops = append(loops, l)
	}
	for i, s := range x.slots {
		l := loops[i%n]
		es := &evSlot{slot: s, idx: len(l.slots), fd: -1}
		l.slots = append(l.slots, es)
		l.idle = append(l.idle, es)
	}
	x.sched.wake = func() {
		for _, l := range loops {
			if l.sleeping.Load() {
				l.poke()
			}
		}
	}
	stopWatch := x.watch(func() {
		for _, l := range loops {
			l.poke()
		}
	})
	finished := make(chan struct{}, n)
	for _, l := range loops {
		go func() {
			l.run()
			finished <- struct{}{}
		}()
	}
	for range loops {
		<-finished
	}
	eventLoopRuns.Add(1)
	stopWatch()
	return true, nil
}

func newEvLoop(x *execution) (*evLoop, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	l := &evLoop{x: x, epfd: epfd, epoch: time.Now(), events: make([]syscall.EpollEvent, 128)}
	if err := syscall.Pipe2(l.wake[:], syscall.O_NONBLOCK|syscall.O_CLOEXEC); err != nil {
		syscall.Close(epfd)
		return nil, err
	}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: wakeIndex}
	if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, l.wake[0], &ev); err != nil {
		l.close()
		return nil, err
	}
	// Waiting goes through Go's netpoller (the epoll fd is itself
	// pollable), so a loop with nothing to do never holds a thread and a
	// server in the same process keeps running meanwhile.
	if err := syscall.SetNonblock(epfd, true); err != nil {
		l.close()
		return nil, err
	}
	l.epFile = os.NewFile(uintptr(epfd), "epoll")
	rc, err := l.epFile.SyscallConn()
	if err != nil {
		l.close()
		return nil, err
	}
	l.epRaw = rc
	return l, nil
}

func (l *evLoop) poke() { syscall.Write(l.wake[1], []byte{1}) }

func (l *evLoop) close() {
	for _, s := range l.slots {
		l.closeFd(s)
	}
	syscall.Close(l.wake[0])
	syscall.Close(l.wake[1])
	if l.epFile != nil {
		l.epFile.Close()
	} else {
		syscall.Close(l.epfd)
	}
}

func (l *evLoop) run() {
	l.refill()
	var drain [64]byte
	for {
		if l.x.halted.Load() {
			l.abort()
			return
		}
		if l.finished && l.busy == 0 {
			return
		}
		n, err := l.wait()
		l.sleeping.Store(false)
		if err != nil && err != syscall.EINTR {
			l.abortWith(fmt.Errorf("epoll: %w", err))
			return
		}
		for i := 0; i < n; i++ {
			ev := l.events[i]
			if ev.Fd == wakeIndex {
				for {
					if k, _ := syscall.Read(l.wake[0], drain[:]); k <= 0 {
						break
					}
				}
				continue
			}
			l.handle(l.slots[ev.Fd], ev.Events)
		}
		l.expire(n == 0)
		l.refill()
	}
}

// refill reports completions and hands out work while awake (so our own
// completions do not poke our own pipe), then, if a slot is still idle,
// says it is going to sleep and looks once more: a request another loop
// makes ready after that look will wake it.
func (l *evLoop) refill() {
	l.fill()
	if len(l.idle) > 0 && !l.finished {
		l.sleeping.Store(true)
		l.fill()
	}
}

// wait returns ready events, parking in Go's netpoller while there are
// none, until the nearest step deadline.
func (l *evLoop) wait() (int, error) {
	n, err := rawEpollPoll(l.epfd, l.events)
	if n != 0 || (err != nil && err != syscall.EINTR) {
		return n, err
	}
	var next time.Duration
	for _, s := range l.slots {
		if s.state != evIdle && s.deadline > 0 && (next == 0 || s.deadline < next) {
			next = s.deadline
		}
	}
	var dl time.Time
	if next > 0 {
		// Round up to the millisecond so the timer is not reset for
		// every request.
		dl = l.epoch.Add(next).Truncate(time.Millisecond).Add(time.Millisecond)
	}
	if !dl.Equal(l.deadline) {
		l.epFile.SetReadDeadline(dl)
		l.deadline = dl
	}
	if l.waitFn == nil {
		l.waitFn = func(uintptr) bool {
			l.n, l.err = rawEpollPoll(l.epfd, l.events)
			return l.n != 0 || (l.err != nil && l.err != syscall.EINTR)
		}
	}
	if rerr := l.epRaw.Read(l.waitFn); rerr != nil {
		if errors.Is(rerr, os.ErrDeadlineExceeded) {
			return 0, nil
		}
		return 0, rerr
	}
	return l.n, l.err
}

// fill reports the idle slots' completed requests to the scheduler and
// gives idle slots new requests, until neither makes progress. It loops
// rather than recursing, so a run of requests that fail at once (a
// refused port) costs no stack.
func (l *evLoop) fill() {
	for progress := true; progress; {
		progress = false
		noWork := false
		for i := 0; i < len(l.idle); {
			s := l.idle[i]
			var done *work
			if s.hasDone {
				done, s.hasDone = &s.doneW, false
			} else if noWork || l.finished {
				i++
				continue
			}
			if !l.finished && l.x.ending() {
				l.finished = true // cancelled: nothing new starts (done is still reported)
			}
			w, ok, fin := l.x.sched.tryNext(done)
			if fin {
				l.finished = true
			}
			if !ok {
				noWork = true
				i++
				continue
			}
			progress = true
			l.idle[i] = l.idle[len(l.idle)-1]
			l.idle = l.idle[:len(l.idle)-1]
			l.busy++
			if l.x.prepare(s.slot, w) {
				l.begin(s) // may fail at once: done() puts s back in idle
			} else {
				l.busy--
				l.parkDone(s, w) // recorded as failed by prepare
			}
		}
	}
	if len(l.idle) == 0 || l.finished {
		l.sleeping.Store(false)
	}
}

// parkDone returns a slot to the idle list with its completed request,
// for fill to report.
func (l *evLoop) parkDone(s *evSlot, w work) {
	s.state = evIdle
	s.doneW, s.hasDone = w, true
	l.idle = append(l.idle, s)
}

func (l *evLoop) register(s *evSlot, events uint32, op int) error {
	ev := syscall.EpollEvent{Events: events, Fd: int32(s.idx)}
	s.events = events
	return syscall.EpollCtl(l.epfd, op, s.fd, &ev)
}

func (l *evLoop) closeFd(s *evSlot) {
	if s.fd >= 0 {
		syscall.Close(s.fd) // also leaves the epoll set
		s.fd = -1
	}
	s.reusable = false
	s.p.DiscardInput() // nothing read on a closed connection may leak into the next
}

// begin starts the current request: on the kept-alive connection when it
// goes to the same scheme, host and port, else on a new one.
func (l *evLoop) begin(s *evSlot) {
	res := &s.res
	res.Start = time.Now()
	res.Connect, res.Reused = 0, false
	s.deadline, s.connectT = 0, false
	if lim := s.cur.sp.spec.TimeLimit; lim > 0 {
		s.deadline = time.Since(l.epoch) + lim
	}
	t := s.cur.b.t
	if s.fd >= 0 && s.reusable && s.key == t.key && s.cur.sp.reuse {
		res.Reused = true
		l.startWrite(s)
		return
	}
	l.closeFd(s)
	s.dials = 0
	if ct := s.cur.sp.spec.ConnectTimeout; ct > 0 {
		if c := time.Since(l.epoch) + ct; s.deadline == 0 || c < s.deadline {
			s.fullDL, s.deadline, s.connectT = s.deadline, c, true
		}
	}
	l.dial(s)
}

func (l *evLoop) dial(s *evSlot) {
	t := s.cur.b.t
	x := l.x
	addr, cached, err := x.dial.Lookup(x.ioCtx, t.host, t.port, s.cur.sp.spec.TimeLimit)
	s.res.DNSCached = cached
	if err != nil {
		l.fail(s, dial.MarkAs(failure.DNS, fmt.Errorf("resolve %s: %w", t.host, err)))
		return
	}
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		l.fail(s, fmt.Errorf("address %q: %w", addr, err))
		return
	}
	s.addr = ap
	var sa syscall.Sockaddr
	family := syscall.AF_INET
	if ap.Addr().Is4() || ap.Addr().Is4In6() {
		sa = &syscall.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().Unmap().As4()}
	} else {
		family = syscall.AF_INET6
		sa = &syscall.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}
	}
	for {
		s.dials++
		fd, err := syscall.Socket(family, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			l.fail(s, fmt.Errorf("socket: %w", err))
			return
		}
		syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1)
		err = syscall.Connect(fd, sa)
		if err == nil || err == syscall.EINPROGRESS {
			s.fd, s.key = fd, t.key
			if err == nil {
				if rerr := l.register(s, syscall.EPOLLIN, syscall.EPOLL_CTL_ADD); rerr != nil {
					l.fail(s, fmt.Errorf("epoll: %w", rerr))
					return
				}
				l.connected(s)
				return
			}
			s.state = evConnecting
			if rerr := l.register(s, syscall.EPOLLOUT, syscall.EPOLL_CTL_ADD); rerr != nil {
				l.fail(s, fmt.Errorf("epoll: %w", rerr))
			}
			return
		}
		syscall.Close(fd)
		if s.dials >= x.dial.Attempts() || x.cutting() {
			l.fail(s, l.connectFailed(s, err))
			return
		}
	}
}

// connectFailed words a connect error as net.Dial does, so both drivers
// record the same reason.
func (l *evLoop) connectFailed(s *evSlot, errno error) error {
	return dial.ConnectError(s.dials, &net.OpError{Op: "dial", Net: "tcp",
		Addr: net.TCPAddrFromAddrPort(s.addr), Err: os.NewSyscallError("connect", errno)})
}

func (l *evLoop) connected(s *evSlot) {
	if s.connectT {
		s.deadline, s.connectT = s.fullDL, false
	}
	s.res.Connect = time.Since(s.res.Start)
	l.startWrite(s)
}

func (l *evLoop) startWrite(s *evSlot) {
	if lv := l.x.plan.Live; lv != nil && !s.retried {
		lv.Started.Add(1)
	}
	s.woff = 0
	s.state = evWriting
	l.write(s)
}

func (l *evLoop) write(s *evSlot) {
	for s.woff < len(s.wbuf) {
		n, err := rawWrite(s.fd, s.wbuf[s.woff:])
		if err == syscall.EINTR {
			continue
		}
		if err == syscall.EAGAIN {
			if s.events&syscall.EPOLLOUT == 0 {
				l.register(s, syscall.EPOLLIN|syscall.EPOLLOUT, syscall.EPOLL_CTL_MOD)
			}
			return
		}
		if err != nil {
			l.ioError(s, fmt.Errorf("write request: %w", err))
			return
		}
		s.woff += n
		s.res.BytesSent = int64(s.woff)
	}
	if s.events&syscall.EPOLLOUT != 0 {
		l.register(s, syscall.EPOLLIN, syscall.EPOLL_CTL_MOD)
	}
	s.written = time.Since(s.res.Start)
	s.res.Send = s.written - s.res.Connect
	s.p.Ref = s.res.Start
	s.p.RegisteredHead = s.cur.b.head && s.cur.b.method != "HEAD"
	s.p.Begin(s.cur.b.head)
	s.state = evReading
}

func (l *evLoop) handle(s *evSlot, events uint32) {
	switch s.state {
	case evConnecting:
		soerr, err := syscall.GetsockoptInt(s.fd, syscall.SOL_SOCKET, syscall.SO_ERROR)
		if err == nil && soerr != 0 {
			err = syscall.Errno(soerr)
		}
		if err != nil {
			l.closeFd(s)
			if s.dials >= l.x.dial.Attempts() || l.x.cutting() {
				l.fail(s, l.connectFailed(s, err))
				return
			}
			l.dial(s)
			return
		}
		l.register(s, syscall.EPOLLIN, syscall.EPOLL_CTL_MOD)
		l.connected(s)
	case evWriting:
		l.write(s)
	case evReading:
		l.read(s)
	case evIdle:
		// A kept-alive connection spoke while idle: the server closed
		// it, or sent bytes that answer no request.
		if n := peekFd(s.fd); n > 0 {
			l.x.idleWarn(s.slot, fmt.Sprintf(idleWarning, n))
		}
		l.closeFd(s)
	}
}

func (l *evLoop) read(s *evSlot) {
	space := s.p.Space()
	if space == nil {
		l.ioError(s, h1.ErrHeaderTooLarge)
		return
	}
	n, err := rawRead(s.fd, space)
	switch {
	case err == syscall.EAGAIN || err == syscall.EINTR:
		return
	case err != nil:
		l.ioError(s, fmt.Errorf("read response: %w", s.p.ReadError(os.NewSyscallError("read", err))))
		return
	}
	eof := n == 0
	full := n == len(space)
	s.p.Filled(n)
	done, perr := s.p.Step(eof)
	switch {
	case done:
		if w := s.p.Leftover(); w != "" {
			s.res.Warning = w
			l.closeFd(s)
		} else if full && !eof {
			// The read filled the buffer: the kernel may hold more,
			// which would answer no request.
			if k := peekFd(s.fd); k > 0 {
				s.res.Warning = fmt.Sprintf("%d unexpected bytes after the response: connection closed", k)
				l.closeFd(s)
			}
		}
		l.complete(s)
	case perr != h1.ErrNeedMore:
		l.ioError(s, fmt.Errorf("read response: %w", perr))
	}
}

// ioError fails the request, or replaces a stale kept-alive connection
// once, as the goroutine driver does.
func (l *evLoop) ioError(s *evSlot, err error) {
	l.closeFd(s)
	if l.x.replaceStale(&s.res, s.retried, s.p.GotByte, err) {
		s.retried = true
		l.begin(s)
		return
	}
	l.fail(s, err)
}

func (l *evLoop) complete(s *evSlot) {
	res := &s.res
	res.Wait = s.p.FirstByte - s.written
	res.HeadersDone = s.p.HeadersDone
	res.Total = time.Since(res.Start)
	s.reusable = s.fd >= 0 && s.cur.sp.keepAlive && s.p.KeepAlive
	if !s.reusable {
		l.closeFd(s)
	}
	s.lastRun, s.lastStep = res.Run, res.Step
	l.done(s, nil)
}

func (l *evLoop) fail(s *evSlot, err error) {
	l.closeFd(s)
	l.done(s, err)
}

func (l *evLoop) done(s *evSlot, err error) {
	s.retried = false
	l.busy--
	l.x.finish(s.slot, err)
	l.parkDone(s, s.cur.w)
}

// expire fails requests past their step time limit. Deadlines are kept
// to the millisecond, so while events keep the loop busy it looks at most
// once a millisecond; after a timed-out wait (timedOut) it always looks.
func (l *evLoop) expire(timedOut bool) {
	now := time.Since(l.epoch)
	if !timedOut && now-l.expired < time.Millisecond {
		return
	}
	l.expired = now
	for _, s := range l.slots {
		if s.state == evIdle || s.deadline == 0 || now < s.deadline {
			continue
		}
		switch s.state {
		case evConnecting:
			err := fmt.Errorf("connect: %w", os.ErrDeadlineExceeded)
			if s.connectT {
				err = &connectTimeoutError{s.cur.sp.spec.ConnectTimeout, err}
			}
			l.fail(s, err)
		case evWriting:
			l.fail(s, fmt.Errorf("write request: %w", os.ErrDeadlineExceeded))
		default:
			l.fail(s, fmt.Errorf("read response: %w", s.p.ReadError(os.ErrDeadlineExceeded)))
		}
	}
}

// abort fails every request in flight with the context's cause.
func (l *evLoop) abort() { l.abortWith(errInterrupted) }

func (l *evLoop) abortWith(err error) {
	for _, s := range l.slots {
		if s.state != evIdle {
			l.closeFd(s)
			s.state = evIdle
			l.busy--
			l.x.finish(s.slot, err)
		}
	}
}
