package engine

import (
	"bytes"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/benchgate/benchgate/failure"
)

// StatusNoResponse is the status recorded when no response came.
const StatusNoResponse = 599

// ErrTimeLimit reports that the plan's time limit stopped the execution.
var ErrTimeLimit = errors.New("time limit reached")

// Result is the measurement of one request.
type Result struct {
	// Run and Step are indexes into the plan's runs and the run's
	// steps. Iteration is the iteration's number in the whole plan,
	// whatever segment of it this execution runs (Plan.Segment): the
	// number {{iteration}}, feeder rows and the request log show.
	Run, Iteration, Step int
	// Index is the iteration's place among the iterations of its run
	// that this execution sends, from 0 to the run's Work.Iterations−1:
	// Iteration itself when the plan runs whole. A recorder indexes
	// per-iteration records by it, so that a segment's records have no
	// holes for the other segments' iterations.
	Index int

	// Start is when the engine began the request, after building it (the
	// time spent in user code is never part of a timing).
	Start time.Time
	// Intended, when set, is when the request should have started by
	// its schedule (virtual users, arrival rates): the previous request's
	// end plus the waits drawn between them, a paced round's slot, an
	// arrival's time. Measured from it, a latency includes the time a
	// slow server made the request wait to be sent.
	Intended time.Time
	// Connect is the time to open the connection (and TLS handshake);
	// zero when a kept-alive connection was reused.
	Connect time.Duration
	// TLSHandshake is the part of Connect spent in the TLS handshake;
	// TLSResumed says the handshake resumed an earlier session.
	TLSHandshake time.Duration
	TLSResumed   bool
	// Send is the time to write the request once connected.
	Send time.Duration
	// Wait is the time from the request written to the first response byte.
	Wait time.Duration
	// HeadersDone is the time from Start to the end of the response
	// headers (1xx interim responses skipped).
	HeadersDone time.Duration
	// Total is the time from Start to the last byte of the response.
	Total time.Duration

	Status int  // StatusNoResponse when no response came
	HTTP11 bool // the status line said HTTP/1.1
	HTTP2  bool // the response came as an HTTP/2 stream
	Method string

	BytesSent     int64 // request line, headers and body
	BodyBytesSent int64 // request body only
	BytesRead     int64 // status line, headers and body as read
	HeaderBytes   int64
	BodyBytes     int64 // response body length, transfer coding (chunked) undone
	// DecodedBytes is the body's length after its Content-Encoding was
	// undone (kept up to the buffer size), when the step kept the body
	// and it was encoded; 0 otherwise.
	DecodedBytes int64

	// Hop is 0 for a step's own request and n for the request sent for
	// the nth redirect of a step that follows redirects; ChainStart is
	// then when the step's first request started.
	Hop        int
	ChainStart time.Time
	// Followed is true for a redirect the engine followed: the chain's
	// next request is recorded after it, and the step's expectations,
	// extractors and counts are the chain's last response's.
	Followed bool
	// Retried is true for an attempt a VU's iterator sent again at once:
	// recorded apart from the step's counts, the retry's result counts.
	Retried bool
	// Again is true for a request of a step a VU's iterator sent again
	// later in the round, once the step had its own result: a request of
	// its own, which counts as one more configured request of the step
	// (its failure is the step's), kept apart from the iteration's
	// per-request records, which hold the step's own result.
	Again bool

	Reused    bool // the request went on a kept-alive connection
	DNSCached bool // the host's address came from the cache
	Failed    bool
	Reason    string // why it failed, was not sent, or was interrupted
	// Kind is what kind of failure Reason describes, decided where the
	// failure was known (a typed error, an expectation, an extractor, a
	// time limit), not from Reason's words: failure.None for a good
	// response, failure.NotSent and failure.Interrupted for the requests
	// NotSent and Interrupted say. A gate tests Kind; Reason is for
	// people and may be reworded.
	Kind failure.Kind
	// NotSent is true for a request that could not be built (an
	// undefined variable, a form not found, a body func's error): it never
	// reached the wire. Reason says why.
	NotSent bool
	// Interrupted is true for a request in flight when the execution was
	// cancelled, or still in flight when the time limit's grace period
	// ended: neither good nor failed.
	Interrupted bool
	Truncated   bool // the body was longer than the buffer and was cut
	// URL (credentials redacted) and Sample (the start of the body) are
	// set for a failed or not-sent request, to show what happened.
	URL    string
	Sample []byte

	// Warning says what was odd about the connection without making the
	// response bad: bytes beyond the framed response, data that came on
	// an idle kept-alive connection. The connection was closed.
	Warning string

	// RequestText, Header and Body are filled by keep level: the request
	// as sent (3), the raw response headers (2+), the body up to the
	// buffer size (3).
	RequestText []byte
	Header      []byte
	Body        []byte
}

// StatusText is the status line's text: the response's reason
// phrase when its header was kept (keep level 2 or more, or a step that
// reads the response), else the standard text for the status; for a
// request without a response (StatusNoResponse), the reason it got none
// (refused, DNS, timeout, reset…).
func (r *Result) StatusText() string {
	if r.Status == StatusNoResponse && r.Reason != "" {
		return r.Reason
	}
	if line, _, ok := bytes.Cut(r.Header, []byte("\n")); ok {
		// HTTP/1.1 501 Method Not Implemented
		f := bytes.SplitN(bytes.TrimRight(line, "\r"), []byte(" "), 3)
		if len(f) == 3 {
			return string(f[2])
		}
	}
	return http.StatusText(r.Status)
}

// Proto returns the response's protocol version, "2", "1.1" or "1.0" ("" for
// no response).
func (r *Result) Proto() string {
	switch {
	case r.Status == StatusNoResponse || r.NotSent:
		return ""
	case r.HTTP2:
		return "2"
	case r.HTTP11:
		return "1.1"
	}
	return "1.0"
}

// Fields returns the kept response header (Header) as a map from
// lower-case field names to all their values in order. It is empty when
// the header was not kept.
func (r *Result) Fields() map[string][]string {
	m := map[string][]string{}
	for k, v := range headerFields(r.Header) {
		name := strings.ToLower(string(k))
		m[name] = append(m[name], string(v))
	}
	return m
}

// Times returns the request's timestamps: when it started,
// the connection was ready (Start for a reused one), the first response
// byte came, the headers were complete and the body was complete. The
// later ones are zero for a request that did not get that far.
func (r *Result) Times() (start, connected, firstByte, headers, body time.Time) {
	start = r.Start
	if r.NotSent || start.IsZero() {
		return start, time.Time{}, time.Time{}, time.Time{}, time.Time{}
	}
	connected = start.Add(r.Connect)
	if r.Status == StatusNoResponse {
		return start, connected, time.Time{}, time.Time{}, time.Time{}
	}
	return start, connected, start.Add(r.Connect + r.Send + r.Wait), start.Add(r.HeadersDone), start.Add(r.Total)
}
