// Package decode undoes a response body's content codings (gzip,
// deflate, br, zstd) in place of the parser's kept body, bounded: a
// decoded body longer than the limit is cut there (a decompression bomb
// stops at it), and a body the parser cut is decoded as far as it goes.
// The engine decodes a body only when a step keeps or reads it.
package decode

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"fmt"
	"io"
	"strings"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"

	"github.com/benchgate/benchgate/internal/h1"
)

// Encodings are the content codings benchgate decodes, in the order
// Accept-Encoding names them.
var Encodings = []string{"gzip", "deflate", "br", "zstd"}

// maxZstdWindow bounds the memory a zstd frame may ask of the decoder.
const maxZstdWindow = 8 << 20

// Decoders are a slot's content decoders, made on first need and reset
// for every body. The zero value is ready; one body at a time.
type Decoders struct {
	gz  *gzip.Reader
	br  *brotli.Reader
	zst *zstd.Decoder
	out []byte // the other body buffer: decoded into, then swapped with the parser's
	src bytes.Reader
}

// Body decodes p's kept body by the response's Content-Encoding list
// (p.Coding; last applied, first undone) into at most limit bytes. It
// swaps the decoded body into the parser (p.Body), so everything after
// sees it. cut says the decoded body was longer than limit (a
// decompression bomb stops there), or that the encoded body was cut at
// the parser's buffer (p.Truncated) and decoded as far as it goes; err
// says why it could not be decoded.
func (d *Decoders) Body(p *h1.Parser, limit int) (decoded int64, cut bool, err error) {
	codings := strings.Split(string(p.Coding), ",")
	body := p.Body
	for i := len(codings) - 1; i >= 0; i-- {
		c := strings.ToLower(strings.TrimSpace(codings[i]))
		if c == "" || c == "identity" {
			continue
		}
		out, n, over, err := d.decode(c, body, limit)
		if err != nil && p.Truncated {
			// the encoded body was cut at the buffer: it is decoded as far
			// as it goes, and what follows the cut cannot be judged
			over, err = true, nil
		}
		if err != nil {
			return 0, false, err
		}
		// the parser's buffer and ours trade places: neither is written
		// while the other is read
		p.Body, d.out = out, body[:0]
		body, decoded, cut = out, n, cut || over
	}
	return decoded, cut, nil
}

// decode undoes one coding of body into d.out, at most limit bytes.
func (d *Decoders) decode(coding string, body []byte, limit int) (out []byte, n int64, cut bool, err error) {
	d.src.Reset(body)
	var r io.Reader
	switch coding {
	case "gzip", "x-gzip":
		if d.gz == nil {
			d.gz, err = gzip.NewReader(&d.src)
		} else {
			err = d.gz.Reset(&d.src)
		}
		r = d.gz
	case "deflate":
		// RFC 9110 §8.4.1.2: zlib; some servers send raw deflate, which
		// browsers accept too
		if zr, zerr := zlib.NewReader(&d.src); zerr == nil {
			r = zr
		} else {
			d.src.Reset(body)
			r = flate.NewReader(&d.src)
		}
	case "br":
		if d.br == nil {
			d.br = brotli.NewReader(&d.src)
		} else {
			err = d.br.Reset(&d.src)
		}
		r = d.br
	case "zstd":
		if d.zst == nil {
			d.zst, err = zstd.NewReader(&d.src, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(maxZstdWindow),
				zstd.WithDecoderMaxMemory(uint64(max(limit, 1<<20))*2))
		} else {
			err = d.zst.Reset(&d.src)
		}
		r = d.zst
	default:
		return nil, 0, false, fmt.Errorf("Content-Encoding %q is not one benchgate decodes (%s)", coding, strings.Join(Encodings, ", "))
	}
	if err != nil {
		return nil, 0, false, fmt.Errorf("Content-Encoding %s: %w", coding, err)
	}
	complete := false
	defer func() {
		if !complete {
			// a stream read only in part leaves state behind that Reset
			// does not clear (brotli keeps the rest of its input and
			// decodes the next body from it): the next body of this
			// coding gets a decoder of its own
			d.forget(coding)
		}
	}()
	out = d.out[:0]
	for {
		if len(out) == cap(out) {
			if len(out) >= limit+1 {
				break
			}
			out = append(out, 0)[:len(out)]
		}
		m, rerr := r.Read(out[len(out):min(cap(out), limit+1)])
		out = out[:len(out)+m]
		if rerr == io.EOF {
			complete = true
			break
		}
		if rerr != nil {
			return out, int64(len(out)), false, fmt.Errorf("Content-Encoding %s: %w", coding, rerr)
		}
		if len(out) > limit {
			break
		}
	}
	if len(out) > limit {
		return out[:limit], int64(limit), true, nil
	}
	return out, int64(len(out)), false, nil
}

// forget drops the decoder of coding, for the next body to get a new one.
func (d *Decoders) forget(coding string) {
	switch coding {
	case "gzip", "x-gzip":
		d.gz = nil
	case "br":
		d.br = nil
	case "zstd":
		if d.zst != nil {
			d.zst.Close()
			d.zst = nil
		}
	}
}
