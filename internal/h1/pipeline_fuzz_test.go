package h1

import (
	"io"
	"math/rand/v2"
	"testing"
)

// splitReader hands out its data in pieces of random sizes and counts
// what it handed out.
type splitReader struct {
	data []byte
	pos  int
	rng  *rand.Rand
}

func (r *splitReader) Read(b []byte) (int, error) {
	if r.pos == len(r.data) {
		return 0, io.EOF
	}
	n := 1 + r.rng.IntN(len(r.data)-r.pos)
	n = min(n, len(b))
	copy(b, r.data[r.pos:r.pos+n])
	r.pos += n
	return n, nil
}

const pipelinedSecond = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nSECOND"

// FuzzPipelined checks the property a load tester lives by: a response
// never answers another request. The server sends first (whatever it
// is); later, after the next request, the real answer pipelinedSecond.
// Whenever the engine would reuse the connection (the first response is
// complete, keeps the connection alive, nothing beyond its framing is
// buffered and nothing of first is left unread on the socket), the next
// response parsed must be exactly pipelinedSecond; and the parse of first
// must not depend on how the bytes were split.
func FuzzPipelined(f *testing.F) {
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"), uint64(1), false)
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nhello"), uint64(2), false)
	f.Add([]byte("HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 418 X\r\n\r\n"), uint64(3), false)
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"), uint64(4), true)
	f.Add([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nX"), uint64(5), false)
	f.Add([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 1\r\n\r\nx"), uint64(6), false)
	f.Add([]byte("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), uint64(7), false)
	f.Fuzz(func(t *testing.T, first []byte, seed uint64, head bool) {
		parse := func(split bool) (*Parser, *splitReader, error) {
			rd := &splitReader{data: append(append([]byte(nil), first...), pipelinedSecond...), rng: rand.New(rand.NewPCG(seed, 7))}
			if !split {
				rd.rng = rand.New(rand.NewPCG(0, 0))
			}
			p := NewParser(rd, 64, testBufs)
			p.MaxHeader = 1024
			p.KeepHeader, p.KeepBody, p.BodyLimit = true, true, 1<<20
			// Model of the socket: first arrives now; the second
			// response only after the next request is written.
			rd.data = rd.data[:len(first)]
			err := p.ReadResponse(head)
			return p, rd, err
		}
		whole, _, errW := parse(false)
		p, rd, err := parse(true)
		if (err == nil) != (errW == nil) {
			t.Fatalf("split changes the outcome: %v vs %v", err, errW)
		}
		if err != nil {
			return
		}
		if p.Status != whole.Status || string(p.Body) != string(whole.Body) || p.KeepAlive != whole.KeepAlive {
			t.Fatalf("split changes the response: %d %q %v vs %d %q %v", p.Status, p.Body, p.KeepAlive, whole.Status, whole.Body, whole.KeepAlive)
		}
		if got := p.WireBytes + int64(p.w-p.r) + int64(len(rd.data)-rd.pos); got != int64(len(first)) {
			t.Fatalf("consumed %d + buffered %d + unread %d != %d sent", p.WireBytes, p.w-p.r, len(rd.data)-rd.pos, len(first))
		}
		reused := p.KeepAlive && p.Leftover() == "" && rd.pos == len(rd.data)
		if !reused {
			return
		}
		rd.data = append(rd.data, pipelinedSecond...)
		if err := p.ReadResponse(false); err != nil {
			t.Fatalf("reused connection: next response: %v", err)
		}
		if p.Status != 200 || string(p.Body) != "SECOND" || p.Leftover() != "" {
			t.Fatalf("reused connection answered the next request with %d %q", p.Status, p.Body)
		}
	})
}
