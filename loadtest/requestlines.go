package loadtest

import (
	"bufio"
	"encoding/json"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/benchgate/benchgate/engine"
	"github.com/benchgate/benchgate/failure"
)

// LogRequests writes every request's result to w as it completes, one
// JSON object per line: run, step, iteration, slot (the VU with virtual
// users), start offset and phase times in microseconds, status, method,
// URL (credentials and secret query values redacted), sizes, the
// connection and DNS cache flags, and failed/not sent/interrupted with
// the reason, for a step that follows redirects each request of the
// chain with its hop number and followed flag, and an attempt a VU's
// iterator sent again marked retried. Lines are written as the
// requests complete: what is buffered goes to w at least every
// FlushEvery and when the execution ends, cancelled or not. When a
// write to w fails, the lines from then on are lost and the Report's
// Warnings say so.
func LogRequests(w io.Writer) Option {
	return func(p *Plan) { p.requestLog, p.requestLogCSV, p.requestLogFormat = w, false, nil }
}

// LogRequestsCSV is LogRequests as CSV: a header row naming the same
// fields as the JSON lines, then one row per request. The text cells
// (run, method, URL, reason) are quoted, and one that a spreadsheet
// would read as a formula (starting with =, +, -, @, a tab or a CR) has
// a single quote put in front, as OWASP advises; numbers are bare.
func LogRequestsCSV(w io.Writer) Option {
	return func(p *Plan) { p.requestLog, p.requestLogCSV, p.requestLogFormat = w, true, nil }
}

var csvColumns = []string{"run", "step", "iteration", "slot", "at_us", "connect_us", "send_us", "wait_us", "headers_done_us",
	"total_us", "status", "method", "url", "bytes_sent", "bytes_read", "reused", "dns_cached", "failed", "not_sent",
	"interrupted", "reason", "hop", "followed", "retried", "tls_us", "tls_resumed", "kind"}

// csv is the line's CSV row: the run's name, the method, the URL and the
// reason are text (neutralised, see csvWriter), the rest numbers and
// booleans.
func (l RequestLine) csv() []csvCell {
	i := func(n int64) csvCell { return csvRaw(strconv.FormatInt(n, 10)) }
	b := func(v bool) csvCell { return csvRaw(strconv.FormatBool(v)) }
	return []csvCell{csvText(l.Run), i(int64(l.Step)), i(int64(l.Iteration)), i(int64(l.Slot)), i(l.AtUS), i(l.ConnectUS), i(l.SendUS),
		i(l.WaitUS), i(l.HeadersUS), i(l.TotalUS), i(int64(l.Status)), csvText(l.Method), csvText(l.URL), i(l.BytesSent), i(l.BytesRead),
		b(l.Reused), b(l.DNSCached), b(l.Failed), b(l.NotSent), b(l.Interrupted), csvText(l.Reason), i(int64(l.Hop)), b(l.Followed), b(l.Retried), i(l.TLSUS), b(l.TLSResumed), csvRaw(kindWord(l.Kind))}
}

// kindWord is a kind's word, "" for none.
func kindWord(k failure.Kind) string {
	if k == failure.None {
		return ""
	}
	return k.String()
}

// RequestLine is one request of the request log: a line of
// LogRequests, a row of LogRequestsCSV, what LogRequestsFormatted's
// formatter is given. Its URL has credentials and secret query values
// redacted.
type RequestLine struct {
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
	// Retried marks an attempt a VU's iterator sent again at once.
	Retried bool `json:"retried,omitempty"`
	// TLSUS is the TLS handshake of a new connection; TLSResumed says it
	// resumed a session.
	TLSUS      int64 `json:"tls_us,omitempty"`
	TLSResumed bool  `json:"tls_resumed,omitempty"`
	// Kind is the kind of the failure Reason describes (engine.Result.Kind;
	// in JSON and CSV its word, none for a good response).
	Kind failure.Kind `json:"kind,omitempty"`
}

type lineLog struct {
	mu  sync.Mutex
	w   *bufio.Writer
	enc *json.Encoder
	csv *csvWriter

	format func(RequestLine) string // LogRequestsFormatted's
	dirty  bool                     // lines not flushed yet
	stop   chan struct{}            // ends the flusher
	done   chan struct{}            // closed when it has ended
}

func newLineLog(w io.Writer, asCSV bool, format func(RequestLine) string) *lineLog {
	bw := bufio.NewWriterSize(w, 64<<10)
	l := &lineLog{w: bw, format: format, stop: make(chan struct{}), done: make(chan struct{})}
	go l.flusher()
	if format != nil {
		return l
	}
	if asCSV {
		l.csv = &csvWriter{w: bw}
		l.csv.row(csvHeader(csvColumns...))
	} else {
		l.enc = json.NewEncoder(bw)
	}
	return l
}

func (l *lineLog) write(rec *recorder, slot int, res *engine.Result) {
	us := func(d time.Duration) int64 { return int64(d / time.Microsecond) }
	line := RequestLine{
		Run: rec.plan.Runs[res.Run].Name, Step: res.Step + 1, Iteration: res.Iteration, Slot: slot,
		AtUS: us(res.Start.Sub(rec.start)), ConnectUS: us(res.Connect), SendUS: us(res.Send), WaitUS: us(res.Wait),
		HeadersUS: us(res.HeadersDone), TotalUS: us(res.Total), Status: res.Status, Method: res.Method, URL: res.URL,
		BytesSent: res.BytesSent, BytesRead: res.BytesRead, Reused: res.Reused, DNSCached: res.DNSCached,
		Failed: res.Failed, NotSent: res.NotSent, Interrupted: res.Interrupted, Reason: res.Reason,
		Hop: res.Hop, Followed: res.Followed, Retried: res.Retried, TLSUS: us(res.TLSHandshake), TLSResumed: res.TLSResumed,
		Kind: res.Kind,
	}
	var text string
	if l.format != nil {
		text = l.callFormat(line) // outside the lock: user code
	}
	l.mu.Lock()
	switch {
	case l.format != nil:
		l.w.WriteString(text)
	case l.csv != nil:
		l.csv.row(line.csv())
	default:
		l.enc.Encode(line)
	}
	l.dirty = true
	l.mu.Unlock()
}

func (l *lineLog) flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.w.Flush(); err != nil {
		return err
	}
	l.dirty = false
	if l.csv != nil {
		return l.csv.err
	}
	return nil
}
