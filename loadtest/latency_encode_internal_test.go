package loadtest

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// hdrEncode is how MarshalJSON encoded a histogram before appendHdr:
// hdrhistogram-go's own histogram of benchgate's geometry, and Encode.
func hdrEncode(l *Latency) string {
	h := hdr.New(1, maxLatencyMicros, 3)
	l.each(func(idx int, n int64) bool {
		lo, _ := latencyRange(idx)
		h.RecordValues(lo, n)
		return true
	})
	enc, err := h.Encode(hdr.V2CompressedEncodingCookieBase)
	if err != nil {
		panic(err)
	}
	return string(enc)
}

func checkAppendHdr(t *testing.T, what string, l *Latency) {
	t.Helper()
	got, err := l.appendHdr(nil)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if want := hdrEncode(l); string(got) != want {
		t.Fatalf("%s: appendHdr wrote\n%s\nhdrhistogram-go's Encode\n%s", what, got, want)
	}
	var back Latency
	if err := decodeLatency(&back, string(got)); err != nil {
		t.Fatalf("%s: decoding it again: %v", what, err)
	}
	if back.count != l.count {
		t.Fatalf("%s: %d values read back, %d written", what, back.count, l.count)
	}
}

// TestAppendHdrIsHdrEncode: the histograms' encoding is byte for byte
// what hdrhistogram-go wrote before (so a report read and written again
// is the same file): empty, one value at each end and at bucket edges,
// a few values, many (pages), huge counts, and random ones.
func TestAppendHdrIsHdrEncode(t *testing.T) {
	checkAppendHdr(t, "empty", NewLatency())
	for _, us := range []int64{1, 2, 1023, 1024, 2047, 2048, 2049, 4095, 4096, 1 << 20, maxLatencyMicros - 1, maxLatencyMicros} {
		l := NewLatency()
		l.Record(time.Duration(us) * time.Microsecond)
		checkAppendHdr(t, fmt.Sprint("one value of ", us, " µs"), l)
	}
	// every index, one at a time, in strides (the index of each is where
	// hdrhistogram-go records the bottom of its range)
	for idx := 1; idx < latencyCountsLen; idx += 37 {
		l := NewLatency()
		l.add(idx, 1)
		l.count = 1
		checkAppendHdr(t, fmt.Sprint("index ", idx), l)
	}
	huge := NewLatency()
	huge.add(latencyIndex(5000), math.MaxInt64/2)
	huge.add(latencyIndex(7000), math.MaxInt64/2)
	huge.add(latencyIndex(9000), 5) // past 2^63-1 in total: hdrhistogram-go drops it
	huge.count = math.MaxInt64
	got, _ := huge.appendHdr(nil)
	if want := hdrEncode(huge); string(got) != want {
		t.Fatalf("counts near 2^63: appendHdr wrote %s, Encode %s", got, want)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for k := range 300 {
		l := NewLatency()
		n := rng.IntN(200)
		if k%10 == 0 {
			n = rng.IntN(20000)
		}
		for range n {
			l.Record(time.Duration(math.Exp(rng.NormFloat64()*2+math.Log(5000))) * time.Microsecond)
		}
		if k%7 == 0 {
			c := 1 + rng.Int64N(1<<40)
			l.add(latencyIndex(1+rng.Int64N(maxLatencyMicros)), c)
			l.count += c
		}
		checkAppendHdr(t, fmt.Sprintf("random histogram %d of %d values", k, n), l)
	}
}

func TestAppendZigZag(t *testing.T) {
	for _, v := range []int64{0, 1, -1, 63, -64, 64, 1 << 20, -(1 << 40), math.MaxInt64, math.MinInt64, math.MaxInt64 / 3} {
		got := appendZigZag(nil, v)
		u := uint64(v<<1) ^ uint64(v>>63)
		// the first 8 bytes are LEB128; a ninth holds 8 bits
		var back uint64
		for i, c := range got {
			if i == 8 {
				back |= uint64(c) << 56
				break
			}
			back |= uint64(c&0x7f) << (7 * i)
		}
		if back != u || len(got) > 9 {
			t.Errorf("%d: %x reads back as %d", v, got, back)
		}
		if u < 1<<63 {
			want := binary.AppendUvarint(nil, u)
			if len(want) <= 8 && !bytes.Equal(got, want) {
				t.Errorf("%d: %x, LEB128 %x", v, got, want)
			}
		}
	}
}

// TestWideHistogramReadsBack: a histogram of few values spread over
// many decades, each counter alone in its page, reads back (its pages
// once cost more than decoding allowed for its text's length).
func TestWideHistogramReadsBack(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for k := range 200 {
		l := NewLatency()
		for range 50 + rng.IntN(400) {
			l.Record(time.Duration(math.Exp(rng.Float64()*math.Log(float64(maxLatencyMicros)))) * time.Microsecond)
		}
		text, err := l.appendHdr(nil)
		if err != nil {
			t.Fatal(err)
		}
		var back Latency
		if err := decodeLatency(&back, string(text)); err != nil {
			t.Fatalf("histogram %d of %d values (%d bytes of text): %v", k, l.count, len(text), err)
		}
		if back.count != l.count {
			t.Fatalf("histogram %d: %d values read back, %d written", k, back.count, l.count)
		}
	}
}

// hostileHdr is a histogram text of benchgate's geometry whose header
// declares payload bytes of counts and whose counts are counts.
func hostileHdr(payload int32, counts []byte) string {
	raw := make([]byte, hdrHeaderBytes, hdrHeaderBytes+len(counts))
	binary.BigEndian.PutUint32(raw[0:], uint32(hdr.V2EncodingCookieBase|0x10))
	binary.BigEndian.PutUint32(raw[4:], uint32(payload))
	binary.BigEndian.PutUint32(raw[12:], latencySigFigs)
	binary.BigEndian.PutUint64(raw[16:], latencyLowest)
	binary.BigEndian.PutUint64(raw[24:], uint64(maxLatencyMicros))
	binary.BigEndian.PutUint64(raw[32:], math.Float64bits(1))
	raw = append(raw, counts...)
	var comp bytes.Buffer
	comp.Write(make([]byte, 8))
	z := zlib.NewWriter(&comp)
	z.Write(raw)
	z.Close()
	out := comp.Bytes()
	binary.BigEndian.PutUint32(out[0:], uint32(hdr.V2CompressedEncodingCookieBase|0x10))
	binary.BigEndian.PutUint32(out[4:], uint32(len(out)-8))
	return base64.StdEncoding.EncodeToString(out)
}

// TestHostileHistogramsRefused: a window's histogram that claims 2^40
// counts in a counter its window does not hold, a run of 2^40 empty
// counters, counts of 2 GB, or counters in every page is refused with
// an error that wraps ErrInvalidReport, and reading it allocates little.
func TestHostileHistogramsRefused(t *testing.T) {
	every := []byte{}
	for range latencyCountsLen / 32 {
		every = appendZigZag(appendZigZag(every, 1), -31)
	}
	for name, text := range map[string]string{
		"2^40 counts":          hostileHdr(int32(len(appendZigZag(nil, 1<<40))), appendZigZag(nil, 1<<40)),
		"2^40 empty counters":  hostileHdr(int32(len(appendZigZag(appendZigZag(nil, -(1<<40)), 1))), appendZigZag(appendZigZag(nil, -(1<<40)), 1)),
		"2 GB of counts":       hostileHdr(math.MaxInt32, appendZigZag(nil, 1)),
		"counts past the text": hostileHdr(latencyCountsLen*9, appendZigZag(nil, 1)),
		"every page":           hostileHdr(int32(len(every)), every),
	} {
		data := []byte(`{"version":2,"requests_sent":1,"responses_received":1,"runs":[{"name":"r","repeat":1,"steps":[{"name":"a","configured":1,"sent":1,"good":1,"statuses":{"200":1},"windows":[{"good":1,"latency":"` + text + `"}]}]}]}`)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := ReadJSON(bytes.NewReader(data))
		runtime.ReadMemStats(&after)
		if err == nil || !errors.Is(err, ErrInvalidReport) {
			t.Errorf("%s: error %v", name, err)
		}
		if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20+2048*uint64(len(data)) {
			t.Errorf("%s: %d bytes allocated for %d bytes of input", name, got, len(data))
		}
	}
}
