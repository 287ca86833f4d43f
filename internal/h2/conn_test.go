package h2

import (
	"errors"
	"testing"
)

// TestWoken: a stream's end counts once in its connection's woken
// until its sender takes it, and a stream ended on a connection that
// failed under its open does not carry that count to the next one.
func TestWoken(t *testing.T) {
	c1, c2 := &Conn{}, &Conn{}
	st := &Stream{wake: make(chan struct{}, 1)}
	st.c, st.id = c1, 1
	st.finish(c1, 1, nil)
	st.finish(c1, 1, nil) // over already: not counted again
	if n := c1.woken.Load(); n != 1 {
		t.Fatalf("woken %d after one end, want 1", n)
	}
	st.Taken(c1)
	st.Taken(c1)
	if n := c1.woken.Load(); n != 0 {
		t.Fatalf("woken %d once taken, want 0", n)
	}
	// ended by a failing connection, taken (the sender's deferred taken),
	// then the next stream on another connection counts there
	st.c, st.id = c1, 3
	st.finish(c1, 3, errors.New("the connection failed"))
	st.Taken(c1)
	st.c, st.id = c2, 1
	st.finish(c2, 1, nil)
	if a, b := c1.woken.Load(), c2.woken.Load(); a != 0 || b != 1 {
		t.Fatalf("woken %d and %d, want 0 and 1", a, b)
	}
}
