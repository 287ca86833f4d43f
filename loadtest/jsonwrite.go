package loadtest

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/benchgate/benchgate/scenario"
)

// WriteJSON writes the report as indented JSON: totals, counts,
// statuses, failure samples, the histograms per step, phase and time
// window, and the timeline: what ReadJSON, `benchgate compare` and
// `benchgate report` read, small enough for a CI job to keep as an
// artifact whatever the number of requests. The per-request records
// (RunReport.Requests) and the headers, bodies and request texts are
// written only for the runs kept above the default keep level
// (KeepHeaders and KeepEverything: asked for per request);
// WriteJSONWithRequests writes the records at any keep level.
func (r *Report) WriteJSON(w io.Writer) error {
	return r.writeJSON(w, func(run *RunReport) bool { return run.KeepLevel > DefaultKeepLevel })
}

// WriteJSONWithRequests is WriteJSON with every run's per-request
// records (keep level KeepTimes or more), written one per line as they
// are read from the 24-byte records: the memory it takes does not grow
// with the number of requests.
func (r *Report) WriteJSONWithRequests(w io.Writer) error {
	return r.writeJSON(w, func(*RunReport) bool { return true })
}

// writeJSON writes r with the per-request data of the runs keep says,
// streaming the records: each run's log is replaced by a stand-in whose
// unguessable marker the streamed records then take the place of.
func (r *Report) writeJSON(w io.Writer, keep func(*RunReport) bool) error {
	var nonce [16]byte
	rand.Read(nonce[:])
	prefix := "benchgate-requests-" + hex.EncodeToString(nonce[:]) + "-"
	cp := *r
	if cp.Version == 0 {
		// a Report made by hand, not by Execute: written in this
		// package's format, which ReadJSON reads back
		cp.Version = ReportVersion
	}
	cp.GoodResponses = r.goodResponses()
	cp.ErrText = "" // Err's, as it is now (a spec may have cleared it)
	if r.Err != nil {
		cp.ErrText = scenario.RedactText(r.Err.Error())
	}
	cp.Runs = make([]*RunReport, len(r.Runs))
	var logs []*RequestLog
	for i, run := range r.Runs {
		if run == nil {
			continue
		}
		rc := *run
		switch {
		case !keep(run) || run.KeepLevel < scenario.KeepTimes:
			rc.Requests, rc.Headers, rc.Bodies, rc.RequestTexts = nil, nil, nil, nil
		case run.Requests != nil:
			rc.Requests = &RequestLog{marker: fmt.Sprint(prefix, len(logs))}
			logs = append(logs, run.Requests)
		}
		cp.Runs[i] = &rc
	}
	b, err := json.MarshalIndent(&cp, "", "  ")
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	for k, l := range logs {
		mark := []byte(`"` + fmt.Sprint(prefix, k) + `"`)
		i := bytes.Index(b, mark)
		if i < 0 {
			return fmt.Errorf("report JSON: the requests of log %d were not placed", k)
		}
		bw.Write(b[:i])
		indent := b[bytes.LastIndexByte(b[:i], '\n')+1 : i]
		indent = indent[:len(indent)-len(bytes.TrimLeft(indent, " "))]
		if err := l.writeJSON(bw, string(indent)); err != nil {
			return err
		}
		b = b[i+len(mark):]
	}
	bw.Write(b)
	bw.WriteByte('\n')
	return bw.Flush()
}

// writeJSON writes the log as MarshalJSON does, one record per line,
// reading them one at a time.
func (l *RequestLog) writeJSON(w *bufio.Writer, indent string) error {
	head, _ := json.Marshal(requestLogJSON{Len: l.n, Steps: l.steps, Sizes: l.sizes != nil})
	head = bytes.TrimSuffix(head, []byte(`"requests":null}`))
	in := indent + "  "
	fmt.Fprintf(w, "%s\n%s\"requests\": [", strings.TrimSpace(string(head)), in)
	first := true
	for _, r := range l.All() {
		rec, err := json.Marshal(r)
		if err != nil {
			return err
		}
		if !first {
			w.WriteByte(',')
		}
		first = false
		w.WriteString("\n" + in + "  ")
		w.Write(rec)
	}
	if !first {
		w.WriteString("\n" + in)
	}
	_, err := fmt.Fprintf(w, "]\n%s}", indent)
	return err
}
