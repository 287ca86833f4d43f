package engine

import (
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
			if err := (&h2stream{s: s}).header(status, fields); err != nil {
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
	if err := (&h2stream{s: s}).header(200, []hpack.HeaderField{{Name: "x", Value: "a\nb"}}); err == nil {
		t.Error("a value with LF was taken")
	}
}
