package loadtest

import (
	"bufio"
	"encoding/json"
	"io"
	"sync"
	"time"

	"github.com/benchgate/benchgate/engine"
)

// LogRequests writes every request's result to w as it completes, one
// JSON object per line: run, step, iteration, slot (the VU with virtual
// users), start offset and phase times in microseconds, status, method,
// URL (credentials and secret query values redacted), sizes, the
// connection and DNS cache flags, and failed/not sent/interrupted with
// the reason, and for a step that follows redirects each request of the
// chain with its hop number and followed flag. Lines are buffered and flushed when the execution ends,
// cancelled or not.
func LogRequests(w io.Writer) Option { return func(p *Plan) { p.requestLog = w } }

// requestLine is one line of LogRequests.
type requestLine struct {
	Run         string `json:"run"`
	Step        int    `json:"step"` // from 1
	Iteration   int    `json:"iteration"`
	Slot        int    `json:"slot"`
	AtUS        int64  `json:"at_us"`
	ConnectUS   int64  `json:"connect_us"`
	SendUS      int64  `json:"send_us"`
	WaitUS      int64  `json:"wait_us"`
	HeadersUS   int64  `json:"headers_done_us"`
	TotalUS     int64  `json:"total_us"`
	Status      int    `json:"status"`
	Method      string `json:"method,omitempty"`
	URL         string `json:"url,omitempty"`
	BytesSent   int64  `json:"bytes_sent"`
	BytesRead   int64  `json:"bytes_read"`
	Reused      bool   `json:"reused,omitempty"`
	DNSCached   bool   `json:"dns_cached,omitempty"`
	Failed      bool   `json:"failed,omitempty"`
	NotSent     bool   `json:"not_sent,omitempty"`
	Interrupted bool   `json:"interrupted,omitempty"`
	Reason      string `json:"reason,omitempty"`
	// Hop numbers the requests of a redirect chain (0: the step's own);
	// Followed marks a response that was followed to its Location.
	Hop      int  `json:"hop,omitempty"`
	Followed bool `json:"followed,omitempty"`
}

type lineLog struct {
	mu  sync.Mutex
	w   *bufio.Writer
	enc *json.Encoder
}

func newLineLog(w io.Writer) *lineLog {
	bw := bufio.NewWriterSize(w, 64<<10)
	return &lineLog{w: bw, enc: json.NewEncoder(bw)}
}

func (l *lineLog) write(rec *recorder, slot int, res *engine.Result) {
	us := func(d time.Duration) int64 { return int64(d / time.Microsecond) }
	line := requestLine{
		Run: rec.plan.Runs[res.Run].Name, Step: res.Step + 1, Iteration: res.Iteration, Slot: slot,
		AtUS: us(res.Start.Sub(rec.start)), ConnectUS: us(res.Connect), SendUS: us(res.Send), WaitUS: us(res.Wait),
		HeadersUS: us(res.HeadersDone), TotalUS: us(res.Total), Status: res.Status, Method: res.Method, URL: res.URL,
		BytesSent: res.BytesSent, BytesRead: res.BytesRead, Reused: res.Reused, DNSCached: res.DNSCached,
		Failed: res.Failed, NotSent: res.NotSent, Interrupted: res.Interrupted, Reason: res.Reason,
		Hop: res.Hop, Followed: res.Followed,
	}
	l.mu.Lock()
	l.enc.Encode(line)
	l.mu.Unlock()
}

func (l *lineLog) flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Flush()
}
