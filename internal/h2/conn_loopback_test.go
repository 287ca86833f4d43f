package h2

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/benchgate/benchgate/failure"
)

// h2cServer serves handler as h2c with prior knowledge on a loopback
// listener until the test ends.
func h2cServer(t *testing.T, handler http.Handler) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				(&http2.Server{}).ServeConn(c, &http2.ServeConnOpts{Handler: handler})
			}()
		}
	}()
	t.Cleanup(func() { l.Close(); wg.Wait() })
	return l.Addr().String()
}

// startConn opens a Conn to addr with its reader; the test's end fails
// it and waits for the reader.
func startConn(t *testing.T, addr string) *Conn {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Start(ctx, nc, Config{MaxHeader: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); c.ReadLoop() }()
	t.Cleanup(func() {
		c.Fail(errors.New("test over"))
		<-done
	})
	return c
}

func get(path string) []hpack.HeaderField {
	return []hpack.HeaderField{{Name: ":method", Value: "GET"}, {Name: ":authority", Value: "test"},
		{Name: ":scheme", Value: "http"}, {Name: ":path", Value: path}}
}

// receive reads stream st to its end, refunding its window as it takes
// the body, within 10 s.
func receive(t *testing.T, c *Conn, st *Stream, id uint32) (int, error) {
	limit := time.NewTimer(10 * time.Second)
	defer limit.Stop()
	n := 0
	for {
		data, ended, err := st.Take()
		n += len(data)
		if ended {
			return n, err
		}
		if len(data) > 0 {
			c.Refund(st, id, int64(len(data)))
		}
		select {
		case <-st.Wake():
		case <-limit.C:
			c.Cancel(st, id)
			t.Fatalf("no end after 10 s, %d bytes in", n)
		}
	}
}

// TestStreamRoundTrip: a response larger than four stream windows comes
// whole (the window refunded as it is taken), with its status, fields
// and times; the same Stream then carries a second request.
func TestStreamRoundTrip(t *testing.T) {
	const size = 4*streamWindow + 123
	addr := h2cServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(size))
		w.Header().Set("X-Path", r.URL.Path)
		w.Write([]byte(strings.Repeat("x", size)))
	}))
	c := startConn(t, addr)
	st := NewStream()
	for i, path := range []string{"/one", "/two"} {
		id, _, rest, err := c.Open(st, get(path), nil, false, time.Time{}, nil, nil)
		if err != nil || len(rest) != 0 {
			t.Fatalf("request %d: Open: %v (rest %d)", i, err, len(rest))
		}
		n, err := receive(t, c, st, id)
		st.Taken(c)
		if err != nil || n != size {
			t.Fatalf("request %d: %d bytes, err %v; want %d", i, n, err, size)
		}
		status, fields, first, headers, end := st.Response()
		if status != 200 || fieldValue(fields, "x-path") != path || fieldValue(fields, "content-length") != strconv.Itoa(size) {
			t.Errorf("request %d: status %d fields %v", i, status, fields)
		}
		if first.IsZero() || headers.Before(first) || end.Before(headers) {
			t.Errorf("request %d: times first %v headers %v end %v out of order", i, first, headers, end)
		}
	}
	if n := c.woken.Load(); n != 0 {
		t.Errorf("woken %d after both streams were taken", n)
	}
}

// TestStreamShortBody: a body that ends before its content-length is a
// Parse failure, never a complete response.
func TestStreamShortBody(t *testing.T) {
	addr := h2cServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "10")
		w.Write([]byte("abc"))
		// the handler returns: net/http's server ends the stream
		// after 3 of 10 bytes (it resets it, or ends it short)
	}))
	c := startConn(t, addr)
	st := NewStream()
	id, _, _, err := c.Open(st, get("/"), nil, false, time.Time{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	n, err := receive(t, c, st, id)
	st.Taken(c)
	if err == nil {
		t.Fatalf("a 3-byte body of a content-length 10 ended without an error (%d bytes)", n)
	}
	if k := failure.KindOf(err); k != failure.Parse && k != failure.StreamReset {
		t.Errorf("err = %v (kind %v), want a Parse or StreamReset failure", err, k)
	}
}

// TestUnprocessedAfterFail: a stream opened on a failed connection was
// never sent, and says so, so the caller may send it again.
func TestUnprocessedAfterFail(t *testing.T) {
	addr := h2cServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	c := startConn(t, addr)
	c.Fail(errors.New("gone"))
	if c.Usable() {
		t.Error("a failed connection is usable")
	}
	_, _, _, err := c.Open(NewStream(), get("/"), nil, false, time.Time{}, nil, nil)
	var u Unprocessed
	if !errors.As(err, &u) {
		t.Fatalf("err = %v (%T), want Unprocessed", err, err)
	}
}
