package loadtest

import (
	"io"
	"runtime"
	"testing"
	"time"
)

// heapWatch is a writer that samples the heap every 256 KiB written.
type heapWatch struct {
	n, next int
	peak    uint64
}

func (h *heapWatch) Write(b []byte) (int, error) {
	h.n += len(b)
	if h.n >= h.next {
		h.next = h.n + 256<<10
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		h.peak = max(h.peak, m.HeapAlloc)
	}
	return len(b), nil
}

// TestWriteJSONWithRequestsMemory: writing 200,000 per-request records
// does not hold them decoded (about 2 KB each, with their JSON, before
// the records were streamed): the heap grows by a few MB at most, not by
// hundreds.
func TestWriteJSONWithRequestsMemory(t *testing.T) {
	const n = 200_000
	run := &RunReport{Name: "r", Repeat: n, KeepLevel: 1, Latency: NewLatency(),
		Steps: []*StepReport{{Number: 1, Name: "s", Configured: n, Sent: n, Good: n, Statuses: map[int]int64{200: n}, Latency: NewLatency()}}}
	run.Requests = newRequestLog(n, 1, false)
	tt := run.Requests.texts[0]
	for i := range n {
		rq := Request{Sent: true, At: time.Duration(i) * time.Microsecond, Connect: 10 * time.Microsecond, Send: 5 * time.Microsecond,
			Wait: 100 * time.Microsecond, HeadersDone: 120 * time.Microsecond, Total: 130 * time.Microsecond, Status: 200, Method: "GET", BytesRead: 200}
		key := textKey{method: "GET"}
		run.Requests.put(i, &rq, tt.intern(key), key)
	}
	r := &Report{Version: ReportVersion, Latency: NewLatency(), Runs: []*RunReport{run}}
	run.report = r
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	base := m.HeapAlloc
	h := &heapWatch{}
	if err := r.WriteJSONWithRequests(h); err != nil {
		t.Fatal(err)
	}
	if h.n < n*100 {
		t.Fatalf("%d bytes written for %d records", h.n, n)
	}
	// garbage between collections is bounded by the live heap (GOGC):
	// allow that, not a heap per record
	grew := int64(h.peak) - int64(base)
	t.Logf("%d bytes written; heap %d MB before, grew at most %d KB", h.n, base>>20, grew>>10)
	if grew > int64(base)+16<<20 {
		t.Errorf("the heap grew by %d MB while writing %d records (%d bytes each): they are held, not streamed", grew>>20, n, grew/n)
	}
	_ = io.Discard
}
