package decode

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"

	"github.com/benchgate/benchgate/internal/h1"
)

// encode applies one coding to b.
func encode(t *testing.T, coding string, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	var w interface {
		Write([]byte) (int, error)
		Close() error
	}
	switch coding {
	case "gzip", "x-gzip":
		w = gzip.NewWriter(&buf)
	case "deflate":
		w = zlib.NewWriter(&buf)
	case "raw-deflate":
		fw, err := flate.NewWriter(&buf, flate.DefaultCompression)
		if err != nil {
			t.Fatal(err)
		}
		w = fw
	case "br":
		w = brotli.NewWriter(&buf)
	case "zstd":
		// a window the decoder takes (its memory bound is twice the
		// larger of the limit and 1 MiB)
		zw, err := zstd.NewWriter(&buf, zstd.WithWindowSize(1<<20))
		if err != nil {
			t.Fatal(err)
		}
		w = zw
	default:
		t.Fatalf("no encoder for %q", coding)
	}
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// parser returns a parser holding body as its kept body, with codings.
func parser(body []byte, codings string) *h1.Parser {
	return &h1.Parser{Body: append([]byte(nil), body...), Coding: []byte(codings)}
}

var plain = []byte(strings.Repeat("the decoded body, ", 200))

// TestBodyEachCoding: every coding benchgate names (and x-gzip, and raw
// deflate sent as deflate) decodes to the original body, swapped into
// the parser; one Decoders serves body after body.
func TestBodyEachCoding(t *testing.T) {
	var d Decoders
	for round := 0; round < 2; round++ {
		for _, c := range []string{"gzip", "x-gzip", "deflate", "raw-deflate", "br", "zstd"} {
			name := c
			if c == "raw-deflate" {
				name = "deflate"
			}
			p := parser(encode(t, c, plain), name)
			n, cut, err := d.Body(p, 1<<20)
			if err != nil || cut || n != int64(len(plain)) || !bytes.Equal(p.Body, plain) {
				t.Errorf("round %d, %s: decoded %d, cut %v, err %v, body equal %v", round, c, n, cut, err, bytes.Equal(p.Body, plain))
			}
		}
	}
}

// TestBodyStacked: codings are undone last applied first; identity and
// empty entries are skipped; case and spaces do not matter.
func TestBodyStacked(t *testing.T) {
	var d Decoders
	enc := encode(t, "br", encode(t, "gzip", plain)) // gzip applied first, then br
	p := parser(enc, "GZIP, identity,, br ")
	n, cut, err := d.Body(p, 1<<20)
	if err != nil || cut || n != int64(len(plain)) || !bytes.Equal(p.Body, plain) {
		t.Fatalf("decoded %d, cut %v, err %v", n, cut, err)
	}
	p = parser(enc, "br, gzip") // the wrong order is an error, not a guess
	if _, _, err := d.Body(p, 1<<20); err == nil {
		t.Error("codings in the wrong order decoded")
	}
}

// TestBodyLimit: a decoded body longer than the limit is cut there (a
// decompression bomb stops at it), and the next body decodes whole.
func TestBodyLimit(t *testing.T) {
	var d Decoders
	big := bytes.Repeat([]byte{'a'}, 1<<20)
	noisy := make([]byte, 256<<10) // incompressible: a cut leaves input unread
	rand.NewChaCha8([32]byte{1}).Read(noisy)
	for _, c := range []string{"gzip", "deflate", "br", "zstd"} {
		p := parser(encode(t, c, noisy), c)
		n, cut, err := d.Body(p, 1000)
		if err != nil || !cut || n != 1000 || !bytes.Equal(p.Body, noisy[:1000]) {
			t.Errorf("%s, noisy: decoded %d, cut %v, err %v; want 1000, cut", c, n, cut, err)
		}
		p = parser(encode(t, c, plain), c)
		if n, cut, err = d.Body(p, 1<<20); err != nil || cut || !bytes.Equal(p.Body, plain) {
			t.Errorf("%s after a cut noisy body: decoded %d, cut %v, err %v", c, n, cut, err)
		}
	}
	// brotli read in part keeps the rest of its input: more than its
	// 4 MiB window, at the quality that spends most bytes on it, stops
	// at the limit with input left over
	var bomb bytes.Buffer
	bw := brotli.NewWriterLevel(&bomb, 0)
	bw.Write(make([]byte, 8<<20))
	bw.Close()
	p := parser(bomb.Bytes(), "br")
	if n, cut, err := d.Body(p, 64<<10); err != nil || !cut || n != 64<<10 {
		t.Errorf("br bomb: decoded %d, cut %v, err %v; want %d, cut", n, cut, err, 64<<10)
	}
	p = parser(encode(t, "br", plain), "br")
	if n, cut, err := d.Body(p, 64<<10); err != nil || cut || !bytes.Equal(p.Body, plain) {
		t.Errorf("br after a cut bomb: decoded %d, cut %v, err %v", n, cut, err)
	}
	for _, c := range []string{"gzip", "deflate", "br", "zstd"} {
		p := parser(encode(t, c, big), c)
		n, cut, err := d.Body(p, 1000)
		if err != nil || !cut || n != 1000 || len(p.Body) != 1000 || !bytes.Equal(p.Body, big[:1000]) {
			t.Errorf("%s: decoded %d (kept %d), cut %v, err %v; want 1000, cut", c, n, len(p.Body), cut, err)
		}
		p = parser(encode(t, c, plain), c)
		n, cut, err = d.Body(p, 1<<20)
		if err != nil || cut || !bytes.Equal(p.Body, plain) {
			t.Errorf("%s after a cut body: decoded %d, cut %v, err %v", c, n, cut, err)
		}
	}
}

// TestBodyTruncated: an encoded body the parser cut at its buffer is
// decoded as far as it goes and marked cut; the same bytes from a
// parser that did not cut them are an error.
func TestBodyTruncated(t *testing.T) {
	var d Decoders
	for _, c := range []string{"gzip", "br", "zstd"} {
		enc := encode(t, c, plain)
		half := enc[:len(enc)/2]
		p := parser(half, c)
		p.Truncated = true
		if _, cut, err := d.Body(p, 1<<20); err != nil || !cut {
			t.Errorf("%s, cut by the parser: cut %v, err %v; want cut, no error", c, cut, err)
		}
		p = parser(half, c)
		if _, _, err := d.Body(p, 1<<20); err == nil {
			t.Errorf("%s: a body ending mid-stream decoded without error", c)
		}
		p = parser(enc, c)
		if _, cut, err := d.Body(p, 1<<20); err != nil || cut || !bytes.Equal(p.Body, plain) {
			t.Errorf("%s after a broken body: cut %v, err %v", c, cut, err)
		}
	}
}

// TestBodyUnknownCoding: a coding benchgate does not decode is an error
// naming it and the ones it does; the body is left as it came.
func TestBodyUnknownCoding(t *testing.T) {
	var d Decoders
	p := parser([]byte("abc"), "compress")
	_, _, err := d.Body(p, 1<<20)
	if err == nil || !strings.Contains(err.Error(), `"compress"`) || !strings.Contains(err.Error(), strings.Join(Encodings, ", ")) {
		t.Fatalf("err %v", err)
	}
	if string(p.Body) != "abc" {
		t.Errorf("body %q after an error", p.Body)
	}
}
