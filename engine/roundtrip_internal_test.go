package engine

import (
	"context"
	"testing"
)

// TestWirePerProtocol: every slot of an execution sends through the wire
// of its plan's protocol, bound to that slot and execution. A slot
// sending on another slot's connection or stream, or an HTTP/2 plan's
// request sent as HTTP/1 (or the reverse), would measure the wrong
// thing.
func TestWirePerProtocol(t *testing.T) {
	for _, h2 := range []bool{false, true} {
		p := &Plan{Concurrency: 3, HTTP2: h2}
		x := newExecution(context.Background(), p, nil, nil, nopRecorder{})
		if len(x.slots) != 3 {
			t.Fatalf("HTTP2 %v: %d slots, want 3", h2, len(x.slots))
		}
		for i, s := range x.slots {
			switch w := s.wire.(type) {
			case *h1conn:
				if h2 || w.s != s || w.x != x {
					t.Errorf("HTTP2 %v: slot %d has an HTTP/1 wire (its slot %v, its execution %v)", h2, i, w.s == s, w.x == x)
				}
			case *h2stream:
				if !h2 || w.s != s || w.x != x {
					t.Errorf("HTTP2 %v: slot %d has an HTTP/2 wire (its slot %v, its execution %v)", h2, i, w.s == s, w.x == x)
				}
			default:
				t.Errorf("HTTP2 %v: slot %d has wire %T", h2, i, s.wire)
			}
		}
		x.end()
	}
}
