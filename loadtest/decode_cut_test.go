package loadtest_test

import (
	"bytes"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c"

	"github.com/benchgate/benchgate/engine"
	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

// TestDecodeAfterCutBody: a body cut at the buffer size, whether its
// decoded form outgrows the buffer (a bomb) or its encoded form does
// (a long body), leaves nothing behind in the slot's decoder: the next
// body of the same coding on the same slot (concurrency 1, keep-alive)
// decodes as if it were the first. Every coding, both drivers and
// HTTP/2.
func TestDecodeAfterCutBody(t *testing.T) {
	const buffer = 64 << 10
	small := []byte("a small body, whole")
	bomb := make([]byte, 1<<20) // zeros: about 1 KiB encoded
	long := make([]byte, 4*buffer)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range long {
		long[i] = byte(rng.IntN(256)) // does not compress: cut as encoded
	}
	codings := []string{"gzip", "deflate", "rawdeflate", "br", "zstd"}
	bodies := map[string][]byte{}
	for _, c := range codings {
		switch c {
		case "br":
			// more than the decoder's 4 MiB window, at the quality that
			// spends most bytes on it: the decoder stops at the buffer
			// with input left over
			var b bytes.Buffer
			w := brotli.NewWriterLevel(&b, 0)
			w.Write(make([]byte, 8<<20))
			w.Close()
			bodies["/bomb/"+c] = b.Bytes()
		case "zstd":
			// a window the decoder takes at this buffer size (it refuses
			// windows above twice the buffer, at least 2 MiB)
			var b bytes.Buffer
			w, _ := zstd.NewWriter(&b, zstd.WithWindowSize(1<<20))
			w.Write(bomb)
			w.Close()
			bodies["/bomb/"+c] = b.Bytes()
		default:
			bodies["/bomb/"+c] = encode(t, c, bomb)
		}
		bodies["/long/"+c] = encode(t, c, long)
		bodies["/small/"+c] = encode(t, c, small)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := bodies[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		coding := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
		if coding == "rawdeflate" {
			coding = "deflate"
		}
		w.Header().Set("Content-Encoding", coding)
		w.Write(b)
	})
	h1 := httptest.NewServer(h)
	t.Cleanup(h1.Close)
	h2 := httptest.NewServer(h2c.NewHandler(h, &http2.Server{}))
	t.Cleanup(h2.Close)

	check := func(t *testing.T, url string, opts ...loadtest.Option) {
		for _, c := range codings {
			for _, cut := range []string{"bomb", "long"} {
				run := scenario.Run("r",
					scenario.Get("/"+cut+"/"+c),
					scenario.Get("/small/"+c).ExpectBodyContains(string(small)),
					scenario.Get("/"+cut+"/"+c),
					scenario.Get("/small/"+c).ExpectBodyContains(string(small)),
				).Repeat(3).KeepLevel(3) // every body is kept, and so decoded
				report := execute(t, append([]loadtest.Option{loadtest.Runs(run), loadtest.BaseURL(url), loadtest.AcceptEncoding(),
					loadtest.BufferBytes(buffer), loadtest.KeepAlive(true), loadtest.Concurrency(1)}, opts...)...)
				for i, s := range report.Runs[0].Steps {
					if s.Good != 3 || s.Failed != 0 {
						t.Errorf("%s %s: step %d %q: good %d failed %d: %v", c, cut, i+1, s.Name, s.Good, s.Failed, s.Failures)
					}
					if i%2 == 0 && s.Truncated != 3 {
						t.Errorf("%s %s: step %d: truncated %d, want 3 (cut at the buffer)", c, cut, i+1, s.Truncated)
					}
					if i%2 == 1 && (s.Truncated != 0 || s.DecodedBytes != int64(3*len(small))) {
						t.Errorf("%s %s: step %d: truncated %d, decoded %d bytes, want %d", c, cut, i+1, s.Truncated, s.DecodedBytes, 3*len(small))
					}
				}
			}
		}
	}
	forEachDriver(t, func(t *testing.T) { check(t, h1.URL) })
	t.Run("http2", func(t *testing.T) { check(t, h2.URL, loadtest.HTTP2(0)) })
	t.Run("vus", func(t *testing.T) { check(t, h1.URL, loadtest.VirtualUsers(engine.VUs{Start: 1, Max: 1, Rounds: 3})) })
	t.Run("vus-http2", func(t *testing.T) {
		check(t, h2.URL, loadtest.HTTP2(0), loadtest.VirtualUsers(engine.VUs{Start: 1, Max: 1, Rounds: 3}))
	})
}
