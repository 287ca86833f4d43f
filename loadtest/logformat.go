package loadtest

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// FlushEvery is how often the request log's buffered lines are written
// out during an execution (LogRequests, LogRequestsCSV,
// LogRequestsFormatted), so that a long run's log grows as it goes.
const FlushEvery = 100 * time.Millisecond

// LogRequestsFormatted writes every request's result to w as it
// completes, one line each made by format (nil: TabSeparated). format
// runs on the goroutine that sent the request, outside its timings; it
// returns the whole line, newline included. A format that panics
// leaves a line that says so instead. Lines are written as LogRequests
// writes them.
func LogRequestsFormatted(w io.Writer, format func(RequestLine) string) Option {
	return func(p *Plan) {
		p.requestLog, p.requestLogCSV, p.requestLogFormat = w, false, format
		if format == nil {
			p.requestLogFormat = TabSeparated
		}
	}
}

// tabEscaper keeps a field on its line: a tab, CR or LF in it (from a
// server's reason, say) would start another field or line.
var tabEscaper = strings.NewReplacer("\\", `\\`, "\t", `\t`, "\n", `\n`, "\r", `\r`)

// TabSeparated is the default line of LogRequestsFormatted: the fields
// joined by a tab and ended by a newline, in LogRequestsCSV's column order (run,
// step, iteration, slot, at_us, connect_us, send_us, wait_us,
// headers_done_us, total_us, status, method, url, bytes_sent,
// bytes_read, reused, dns_cached, failed, not_sent, interrupted,
// reason, hop, followed, retried, tls_us, tls_resumed), with a
// backslash, tab, CR or LF inside a field written as \\, \t, \r, \n.
func TabSeparated(l RequestLine) string {
	b := make([]byte, 0, 160+len(l.URL)+len(l.Reason))
	str := func(s string) {
		b = append(b, tabEscaper.Replace(s)...)
		b = append(b, '\t')
	}
	num := func(n int64) {
		b = strconv.AppendInt(b, n, 10)
		b = append(b, '\t')
	}
	flag := func(v bool) {
		b = strconv.AppendBool(b, v)
		b = append(b, '\t')
	}
	str(l.Run)
	num(int64(l.Step))
	num(int64(l.Iteration))
	num(int64(l.Slot))
	num(l.AtUS)
	num(l.ConnectUS)
	num(l.SendUS)
	num(l.WaitUS)
	num(l.HeadersUS)
	num(l.TotalUS)
	num(int64(l.Status))
	str(l.Method)
	str(l.URL)
	num(l.BytesSent)
	num(l.BytesRead)
	flag(l.Reused)
	flag(l.DNSCached)
	flag(l.Failed)
	flag(l.NotSent)
	flag(l.Interrupted)
	str(l.Reason)
	num(int64(l.Hop))
	flag(l.Followed)
	flag(l.Retried)
	num(l.TLSUS)
	flag(l.TLSResumed)
	b[len(b)-1] = '\n'
	return string(b)
}

// callFormat runs the user's formatter, a panic becoming a line that
// says so.
func (l *lineLog) callFormat(line RequestLine) (text string) {
	defer func() {
		if p := recover(); p != nil {
			text = tabEscaper.Replace(fmt.Sprintf("request log formatter panicked on run %q step %d iteration %d: %v", line.Run, line.Step, line.Iteration, p)) + "\n"
		}
	}()
	return l.format(line)
}

// flusher writes the buffered lines out every FlushEvery until close.
func (l *lineLog) flusher() {
	defer close(l.done)
	t := time.NewTicker(FlushEvery)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			l.mu.Lock()
			dirty := l.dirty
			l.mu.Unlock()
			if dirty {
				l.flush()
			}
		}
	}
}

// close ends the flusher and writes out what is left. It returns the
// first error of a write to the log (a bufio.Writer keeps it), after
// which no line was written; a second close does nothing.
func (l *lineLog) close() error {
	select {
	case <-l.stop:
		return nil
	default:
	}
	close(l.stop)
	<-l.done
	return l.flush()
}
