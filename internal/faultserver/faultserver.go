// Package faultserver is a loopback HTTP server that misbehaves on
// purpose, one behaviour per path, for the engine's fault-matrix tests.
// It speaks raw TCP so that it can send what no well-behaved server
// would.
package faultserver

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Paths of the behaviours.
const (
	OK            = "/ok"             // a normal 200 with a small body
	CloseAtOnce   = "/close"          // closes the connection without answering
	ResetHeaders  = "/reset-headers"  // resets the connection in the middle of the headers
	ResetBody     = "/reset-body"     // resets the connection in the middle of the body
	Slowloris     = "/slowloris"      // sends the headers one byte every 50 ms
	EndlessBody   = "/endless"        // a close-delimited body that never ends
	EndlessChunks = "/endless-chunks" // a chunked body that never ends
	BadChunked    = "/bad-chunked"    // a malformed chunk size
	BadStatus     = "/bad-status"     // an invalid status line
	HugeHeaders   = "/huge-headers"   // 1 MiB of headers
	Interim       = "/interim"        // 100 Continue and 103 Early Hints before a 200
	ShortBody     = "/short"          // Content-Length longer than what is sent, then close
	IdleClose     = "/idle-close"     // answers keep-alive, then closes the idle connection
	Leftover204   = "/leftover-204"   // a 204 followed by a whole smuggled response
	Leftover304   = "/leftover-304"   // a 304 followed by a whole smuggled response
	HeadBody      = "/head-body"      // a body even for HEAD
	CLAndTE       = "/cl-te"          // Content-Length together with Transfer-Encoding
	IdleJunk      = "/idle-junk"      // answers, then 50 ms later sends bytes on the idle connection
	Slow          = "/slow"           // answers after 200 ms
)

// smuggled is what a misbehaving server leaves after a response: a client
// that read it as the answer to its next request would record a 418.
const smuggled = "HTTP/1.1 418 Smuggled\r\nContent-Length: 0\r\n\r\n"

// Server is a running fault server.
type Server struct {
	URL   string // http://127.0.0.1:port
	ln    net.Listener
	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
	done  chan struct{}
}

// Start listens on a loopback port and serves until Close.
func Start() (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{URL: "http://" + ln.Addr().String(), ln: ln, conns: map[net.Conn]struct{}{}, done: make(chan struct{})}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// Close stops the server, closes every connection and waits for its
// goroutines.
func (s *Server) Close() {
	close(s.done)
	s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() {
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
				c.Close()
			}()
			s.serve(c)
		}()
	}
}

// Silent listens on loopback and accepts connections but never reads or
// writes: a TLS handshake with it stalls. stop ends it.
func Silent() (addr string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	return ln.Addr().String(), func() {
		ln.Close()
		<-done
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	}, nil
}

// ClosedAddr returns a loopback address where nothing listens.
func ClosedAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr, nil
}

func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
}

// sleep waits d or until the server closes; false means it closed.
func (s *Server) sleep(d time.Duration) bool {
	select {
	case <-time.After(d):
		return true
	case <-s.done:
		return false
	}
}

func (s *Server) serve(c net.Conn) {
	br := bufio.NewReader(c)
	for {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		io.Copy(io.Discard, req.Body)
		if !s.answer(c, req.URL.Path) {
			return
		}
	}
}

// answer writes the behaviour for path; false closes the connection.
func (s *Server) answer(c net.Conn, path string) bool {
	const ok = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"
	switch path {
	case OK:
		_, err := io.WriteString(c, ok)
		return err == nil
	case CloseAtOnce:
		return false
	case ResetHeaders:
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: text/pl")
		s.sleep(10 * time.Millisecond)
		reset(c)
		return false
	case ResetBody:
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"+strings.Repeat("b", 100))
		s.sleep(10 * time.Millisecond)
		reset(c)
		return false
	case Slowloris:
		for _, b := range []byte("HTTP/1.1 200 OK\r\nX-Slow: " + strings.Repeat("s", 200) + "\r\n\r\n") {
			if _, err := c.Write([]byte{b}); err != nil || !s.sleep(50*time.Millisecond) {
				return false
			}
		}
		return false
	case EndlessBody, EndlessChunks:
		head := "HTTP/1.1 200 OK\r\n\r\n"
		chunk := strings.Repeat("e", 32<<10)
		if path == EndlessChunks {
			head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
			chunk = fmt.Sprintf("%x\r\n%s\r\n", len(chunk), chunk)
		}
		if _, err := io.WriteString(c, head); err != nil {
			return false
		}
		buf := []byte(chunk)
		for {
			select {
			case <-s.done:
				return false
			default:
			}
			if _, err := c.Write(buf); err != nil {
				return false
			}
		}
	case BadChunked:
		io.WriteString(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz-not-hex\r\n")
		return false
	case BadStatus:
		io.WriteString(c, "HTTP/1.1 two hundred OK\r\nContent-Length: 0\r\n\r\n")
		return false
	case HugeHeaders:
		w := bufio.NewWriter(c)
		w.WriteString("HTTP/1.1 200 OK\r\n")
		for i := 0; i < 1<<14; i++ {
			fmt.Fprintf(w, "X-Filler-%d: %s\r\n", i, strings.Repeat("h", 50))
		}
		w.WriteString("Content-Length: 0\r\n\r\n")
		w.Flush()
		return false
	case Interim:
		_, err := io.WriteString(c, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"+ok)
		return err == nil
	case ShortBody:
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b")
		return false
	case IdleClose:
		io.WriteString(c, ok)
		return false // the client believes the connection is kept alive
	case Leftover204:
		_, err := io.WriteString(c, "HTTP/1.1 204 No Content\r\n\r\n"+smuggled)
		return err == nil
	case Leftover304:
		_, err := io.WriteString(c, "HTTP/1.1 304 Not Modified\r\n\r\n"+smuggled)
		return err == nil
	case HeadBody:
		_, err := io.WriteString(c, ok+smuggled)
		return err == nil
	case CLAndTE:
		_, err := io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n")
		return err == nil
	case IdleJunk:
		if _, err := io.WriteString(c, ok); err != nil {
			return false
		}
		if !s.sleep(50 * time.Millisecond) {
			return false
		}
		_, err := io.WriteString(c, smuggled)
		return err == nil
	case Slow:
		if !s.sleep(200 * time.Millisecond) {
			return false
		}
		_, err := io.WriteString(c, ok)
		return err == nil
	}
	io.WriteString(c, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
	return true
}
