package engine

import (
	"errors"
	"testing"

	"golang.org/x/net/http2/hpack"

	"github.com/benchgate/benchgate/internal/h1"
)

// TestH2HeaderBytes: a response's header size is the same whether its
// block is kept or only counted.
func TestH2HeaderBytes(t *testing.T) {
	fields := []hpack.HeaderField{{Name: "content-type", Value: "text/html"}, {Name: "x-a", Value: ""},
		{Name: "set-cookie", Value: "a=1"}, {Name: "content-encoding", Value: "gzip"}}
	for _, status := range []int{200, 404, 599, 299} {
		var sizes [2]int64
		for i, keep := range []bool{true, false} {
			s := &slot{p: h1.NewParser(nil, 4096, slotBufs)}
			s.p.KeepHeader = keep
			if err := s.h2header(status, fields); err != nil {
				t.Fatal(err)
			}
			sizes[i] = s.p.HeaderBytes
			if keep && int64(len(s.p.Header)) != s.p.HeaderBytes {
				t.Errorf("status %d: kept %d bytes, counted %d:\n%s", status, len(s.p.Header), s.p.HeaderBytes, s.p.Header)
			}
			if string(s.p.Coding) != "gzip" {
				t.Errorf("codings %q", s.p.Coding)
			}
		}
		if sizes[0] != sizes[1] {
			t.Errorf("status %d: %d bytes kept, %d counted", status, sizes[0], sizes[1])
		}
	}
	s := &slot{p: h1.NewParser(nil, 4096, slotBufs)}
	if err := s.h2header(200, []hpack.HeaderField{{Name: "x", Value: "a\nb"}}); err == nil {
		t.Error("a value with LF was taken")
	}
}

// TestH2Woken: a stream's end counts once in its connection's woken
// until its slot takes it, and a stream ended on a connection that
// failed under its open does not carry that count to the next one.
func TestH2Woken(t *testing.T) {
	c1, c2 := &h2conn{}, &h2conn{}
	st := &h2stream{wake: make(chan struct{}, 1)}
	st.c, st.id = c1, 1
	st.finish(c1, 1, nil)
	st.finish(c1, 1, nil) // over already: not counted again
	if n := c1.woken.Load(); n != 1 {
		t.Fatalf("woken %d after one end, want 1", n)
	}
	st.taken(c1)
	st.taken(c1)
	if n := c1.woken.Load(); n != 0 {
		t.Fatalf("woken %d once taken, want 0", n)
	}
	// ended by a failing connection, taken (the slot's deferred taken),
	// then the next stream on another connection counts there
	st.c, st.id = c1, 3
	st.finish(c1, 3, errors.New("the connection failed"))
	st.taken(c1)
	st.c, st.id = c2, 1
	st.finish(c2, 1, nil)
	if a, b := c1.woken.Load(), c2.woken.Load(); a != 0 || b != 1 {
		t.Fatalf("woken %d and %d, want 0 and 1", a, b)
	}
}
