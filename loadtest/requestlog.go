package loadtest

import (
	"encoding/json"
	"fmt"
	"iter"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/benchgate/benchgate/failure"
)

// RequestLog holds a run's per-request records (keep level ≥ 1), indexed
// iteration-major: index iteration*steps+step. It costs 24 bytes per
// request that started (and, at keep level ≥ 2, 24 more for the sizes);
// requests that never started cost nothing beyond a pointer per 4096
// configured requests. Times are exact to the microsecond.
//
// Records are written concurrently by the engine (each index once) and
// read after the execution.
type RequestLog struct {
	n, steps int
	recs     chunked[logRecord]
	sizes    *chunked[logSizes] // keep level ≥ 2
	texts    []*textTable       // per step
	over     sync.Map           // index → *overflow, for values a record cannot hold
	// marker, when set, makes this log a stand-in that WriteJSON
	// replaces with a log it writes record by record
	marker string
}

const logChunkBits = 12

// chunked is n values in chunks of 4096 (the last one shorter),
// allocated when a value in them is first written. Each index is
// written by one goroutine; chunks are published atomically.
type chunked[T any] struct {
	n      int
	chunks []atomic.Pointer[[]T]
}

func newChunked[T any](n int) chunked[T] { return newChunkedTo[T](n, n) }

// newChunkedTo is n values of which only those below end can be written
// (a log read from a file: no chunk pointer for what it does not hold).
func newChunkedTo[T any](n, end int) chunked[T] {
	return chunked[T]{n: n, chunks: make([]atomic.Pointer[[]T], (end+1<<logChunkBits-1)>>logChunkBits)}
}

// at returns the place of value i, allocating its chunk.
func (c *chunked[T]) at(i int) *T {
	p := &c.chunks[i>>logChunkBits]
	ch := p.Load()
	if ch == nil {
		size := min(1<<logChunkBits, c.n-i&^(1<<logChunkBits-1))
		fresh := make([]T, size)
		if p.CompareAndSwap(nil, &fresh) {
			ch = &fresh
		} else {
			ch = p.Load()
		}
	}
	return &(*ch)[i&(1<<logChunkBits-1)]
}

// get returns value i, or the zero value when its chunk was never written.
func (c *chunked[T]) get(i int) (v T) {
	if k := i >> logChunkBits; k >= len(c.chunks) {
		return v
	}
	if ch := c.chunks[i>>logChunkBits].Load(); ch != nil {
		v = (*ch)[i&(1<<logChunkBits-1)]
	}
	return v
}

// written reports whether chunk k holds anything.
func (c *chunked[T]) written(k int) bool { return k < len(c.chunks) && c.chunks[k].Load() != nil }

// logRecord is one request in 24 bytes.
type logRecord struct {
	at      uint32 // µs since the execution's start
	wait    uint32 // µs from the request written to the first byte
	read    uint32 // bytes read: status line, headers, body
	connect uint16 // µs
	send    uint16 // µs
	headers uint16 // µs from the first byte to the end of the headers
	body    uint16 // µs from the end of the headers to the last byte
	status  uint16 // HTTP status (0-999) | flags << 10
	text    uint16 // index+1 in the step's table of (method, reason, body bytes sent)
}

type logSizes struct{ bytesSent, headerBytes, bodyBytes int64 }

const (
	flagSent = 1 << iota
	flagNotSent
	flagInterrupted
	flagFailed
	flagReused
	flagDNSCached
)

// overflow holds the exact values of a request whose record saturated.
type overflow struct {
	at, connect, send, headers, body time.Duration
	read                             int64
	text                             textKey
}

// textKey is what varies little from request to request of a step.
type textKey struct {
	method, reason string
	kind           failure.Kind
	bodySent       int64
}

// textTable interns a step's textKeys. It is used under the step's lock.
type textTable struct {
	keys []textKey
	ids  map[textKey]uint16
	last uint16 // the id used last: most requests of a step repeat it
}

const (
	max16 = math.MaxUint16
	max32 = math.MaxUint32
)

func newRequestLog(n, steps int, sizes bool) *RequestLog { return newRequestLogTo(n, steps, sizes, n) }

// newRequestLogTo is a log of n requests of which only those below end
// can be written: what a log read from a file allocates follows the
// records it holds, not the length it declares.
func newRequestLogTo(n, steps int, sizes bool, end int) *RequestLog {
	l := &RequestLog{n: n, steps: steps, recs: newChunkedTo[logRecord](n, end), texts: make([]*textTable, steps)}
	if sizes {
		sz := newChunkedTo[logSizes](n, end)
		l.sizes = &sz
	}
	for i := range l.texts {
		l.texts[i] = &textTable{ids: map[textKey]uint16{}}
	}
	return l
}

// trim bounds the log to its first n requests (an open-ended run's
// configured requests are known only at its end: loadtest.For).
func (l *RequestLog) trim(n int) {
	if n >= l.n {
		return
	}
	l.n = n
	l.recs.trim(n)
	if l.sizes != nil {
		l.sizes.trim(n)
	}
}

// trim bounds c to its first n values.
func (c *chunked[T]) trim(n int) {
	c.n = n
	c.chunks = c.chunks[:(n+1<<logChunkBits-1)>>logChunkBits]
}

// Len returns the number of requests configured (repeat × steps).
func (l *RequestLog) Len() int {
	if l == nil {
		return 0
	}
	return l.n
}

// fit stores d in µs in a field of max, reporting whether it fit (a
// negative d does not).
func fit(d time.Duration, max uint64) (uint64, bool) {
	us := d / time.Microsecond
	if us < 0 {
		return 0, false
	}
	if uint64(us) >= max {
		return max, false
	}
	return uint64(us), true
}

// put records request i. step is its step; text must be the step's id
// for its textKey, obtained with intern under the step's lock.
func (l *RequestLog) put(i int, r *Request, text uint16, key textKey) {
	var rec logRecord
	ok := true
	var v uint64
	var good bool
	v, good = fit(r.At, max32)
	rec.at, ok = uint32(v), ok && good
	v, good = fit(r.Wait, max32)
	rec.wait, ok = uint32(v), ok && good
	v, good = fit(r.Connect, max16)
	rec.connect, ok = uint16(v), ok && good
	v, good = fit(r.Send, max16)
	rec.send, ok = uint16(v), ok && good
	firstByte := r.Connect + r.Send + r.Wait
	v, good = fit(r.HeadersDone-firstByte, max16)
	rec.headers, ok = uint16(v), ok && good
	v, good = fit(r.Total-r.HeadersDone, max16)
	rec.body, ok = uint16(v), ok && good
	if r.BytesRead >= max32 {
		rec.read, ok = max32, false
	} else {
		rec.read = uint32(max(r.BytesRead, 0))
	}
	rec.text = text
	if text == 0 {
		ok = false
	}
	status := r.Status
	if status < 0 || status > 999 {
		status = 999
	}
	rec.status = uint16(status) | uint16(r.flags())<<10
	if !ok {
		l.over.Store(i, &overflow{at: r.At, connect: r.Connect, send: r.Send, headers: r.HeadersDone - firstByte,
			body: r.Total - r.HeadersDone, read: r.BytesRead, text: key})
	}
	*l.recs.at(i) = rec
	if l.sizes != nil {
		*l.sizes.at(i) = logSizes{r.BytesSent, r.HeaderBytes, r.BodyBytes}
	}
}

func (r *Request) flags() int {
	f := 0
	if r.Sent {
		f |= flagSent
	}
	if r.NotSent {
		f |= flagNotSent
	}
	if r.Interrupted {
		f |= flagInterrupted
	}
	if r.Failed {
		f |= flagFailed
	}
	if r.Reused {
		f |= flagReused
	}
	if r.DNSCached {
		f |= flagDNSCached
	}
	return f
}

// textLog holds a string per request index, in chunks allocated as
// requests are recorded.
type textLog struct{ c chunked[string] }

func newTextLog(n int) *textLog { return &textLog{newChunked[string](n)} }

func (t *textLog) put(i int, s string) { *t.c.at(i) = s }

// strings returns the texts up to the highest index recorded, nil when
// none was.
func (t *textLog) strings() []string {
	last := -1
	for i := 0; i < t.c.n; i++ {
		if t.c.written(i>>logChunkBits) && t.c.get(i) != "" {
			last = i
		}
	}
	if last < 0 {
		return nil
	}
	out := make([]string, last+1)
	for i := range out {
		out[i] = t.c.get(i)
	}
	return out
}

// intern returns the id of k in the table, 0 when the table is full.
// The caller holds the step's lock.
func (t *textTable) intern(k textKey) uint16 {
	if t.last != 0 && t.keys[t.last-1] == k {
		return t.last
	}
	id, ok := t.ids[k]
	if !ok {
		if len(t.keys) >= max16-1 {
			return 0
		}
		t.keys = append(t.keys, k)
		id = uint16(len(t.keys))
		t.ids[k] = id
	}
	t.last = id
	return id
}

// At returns request i. A request that never started has Sent and
// NotSent false; ok is false when i is out of range.
func (l *RequestLog) At(i int) (r Request, ok bool) {
	if l == nil || i < 0 || i >= l.n {
		return Request{}, false
	}
	r.Index = i
	rec := l.recs.get(i)
	flags := int(rec.status >> 10)
	if flags == 0 {
		return r, true
	}
	r.Status = int(rec.status & (1<<10 - 1))
	r.Sent, r.NotSent, r.Interrupted = flags&flagSent != 0, flags&flagNotSent != 0, flags&flagInterrupted != 0
	r.Failed, r.Reused, r.DNSCached = flags&flagFailed != 0, flags&flagReused != 0, flags&flagDNSCached != 0
	us := func(v uint32) time.Duration { return time.Duration(v) * time.Microsecond }
	r.At, r.Wait, r.Connect, r.Send = us(rec.at), us(rec.wait), us(uint32(rec.connect)), us(uint32(rec.send))
	headers, body := us(uint32(rec.headers)), us(uint32(rec.body))
	r.BytesRead = int64(rec.read)
	var key textKey
	if rec.text != 0 {
		key = l.texts[i%l.steps].keys[rec.text-1]
	}
	if o, found := l.over.Load(i); found {
		ov := o.(*overflow)
		r.At, r.Connect, r.Send, headers, body, r.BytesRead = ov.at, ov.connect, ov.send, ov.headers, ov.body, ov.read
		r.At, r.Connect, r.Send = r.At.Truncate(time.Microsecond), r.Connect.Truncate(time.Microsecond), r.Send.Truncate(time.Microsecond)
		headers, body = headers.Truncate(time.Microsecond), body.Truncate(time.Microsecond)
		key = ov.text
	}
	r.Method, r.Reason, r.Kind, r.BodyBytesSent = key.method, key.reason, key.kind, key.bodySent
	r.HeadersDone = r.Connect + r.Send + r.Wait + headers
	r.Total = r.HeadersDone + body
	if l.sizes != nil {
		s := l.sizes.get(i)
		r.BytesSent, r.HeaderBytes, r.BodyBytes = s.bytesSent, s.headerBytes, s.bodyBytes
	}
	return r, true
}

// All yields every request that started or could not be built, by index.
func (l *RequestLog) All() iter.Seq2[int, Request] {
	return func(yield func(int, Request) bool) {
		if l == nil {
			return
		}
		for k := range l.recs.chunks {
			if !l.recs.written(k) {
				continue
			}
			for i := k << logChunkBits; i < min(l.n, (k+1)<<logChunkBits); i++ {
				r, _ := l.At(i)
				if !r.Sent && !r.NotSent {
					continue
				}
				if !yield(i, r) {
					return
				}
			}
		}
	}
}

// slice returns requests [from, to).
func (l *RequestLog) slice(from, to int) []Request {
	out := make([]Request, 0, to-from)
	for i := from; i < to; i++ {
		r, _ := l.At(i)
		out = append(out, r)
	}
	return out
}

// requestLogJSON is the JSON form: the configured length, the steps, and
// the requests that have a record.
type requestLogJSON struct {
	Len      int       `json:"len"`
	Steps    int       `json:"steps"`
	Sizes    bool      `json:"sizes,omitempty"`
	Requests []Request `json:"requests"`
}

// MarshalJSON writes the requests that started or could not be built.
// It holds them all in memory: Report.WriteJSONWithRequests streams them.
func (l *RequestLog) MarshalJSON() ([]byte, error) {
	if l.marker != "" {
		return json.Marshal(l.marker)
	}
	j := requestLogJSON{Len: l.n, Steps: l.steps, Sizes: l.sizes != nil, Requests: []Request{}}
	for _, r := range l.All() {
		j.Requests = append(j.Requests, r)
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (l *RequestLog) UnmarshalJSON(b []byte) error {
	var j requestLogJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	if j.Len < 0 || j.Steps < 1 || j.Len%j.Steps != 0 || j.Len > 1<<32 {
		return fmt.Errorf("requests: len %d with %d steps", j.Len, j.Steps)
	}
	end := 0
	for k := range j.Requests {
		r := &j.Requests[k]
		if r.Index < 0 || r.Index >= j.Len {
			return fmt.Errorf("requests[%d]: index %d out of range", k, r.Index)
		}
		end = max(end, r.Index+1)
	}
	*l = *newRequestLogTo(j.Len, j.Steps, j.Sizes, end)
	for k := range j.Requests {
		r := &j.Requests[k]
		key := textKey{r.Method, r.Reason, r.Kind, r.BodyBytesSent}
		l.put(r.Index, r, l.texts[r.Index%j.Steps].intern(key), key)
	}
	return nil
}
