package loadtest

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"math"
	"sync"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// latencyEncoder holds what encoding one histogram needs, reused
// (encoders): the inflated encoding, the compressed one, and a zlib
// writer at HdrHistogram's level.
type latencyEncoder struct {
	raw  []byte
	comp bytes.Buffer
	z    *zlib.Writer
}

var encoders = sync.Pool{New: func() any { return new(latencyEncoder) }}

// appendHdr appends the histogram's HdrHistogram V2 compressed encoding
// in base64, byte for byte what hdrhistogram-go's Encode writes for a
// histogram of 1 µs to an hour at 3 significant digits holding the same
// counts (TestAppendHdrIsHdrEncode), without its 188 KB counts array
// and 1 MB compressor per histogram.
func (l *Latency) appendHdr(dst []byte) ([]byte, error) {
	e := encoders.Get().(*latencyEncoder)
	defer encoders.Put(e)
	// the inflated encoding: a header of 40 bytes, then the counts up to
	// the last that is not empty, zig-zag LEB128, runs of empty counts
	// as their negated length
	raw := append(e.raw[:0], make([]byte, hdrHeaderBytes)...)
	next := 0 // index of the next count to write
	var total int64
	l.each(func(idx int, n int64) bool {
		// hdrhistogram-go's RecordValues refuses a count that would take
		// its total past 2^63-1, as it does a negative one
		if n < 0 || n > math.MaxInt64-total {
			return true
		}
		total += n
		switch zeros := idx - next; {
		case zeros > 1:
			raw = appendZigZag(raw, -int64(zeros))
		case zeros == 1:
			raw = appendZigZag(raw, 0)
		}
		raw = appendZigZag(raw, n)
		next = idx + 1
		return true
	})
	if next == 0 { // empty: one count, of index 0
		raw = appendZigZag(raw, 0)
	}
	h := raw[:hdrHeaderBytes]
	binary.BigEndian.PutUint32(h[0:], uint32(hdr.V2EncodingCookieBase|0x10))
	binary.BigEndian.PutUint32(h[4:], uint32(len(raw)-hdrHeaderBytes))
	binary.BigEndian.PutUint32(h[8:], 0) // normalizing index offset
	binary.BigEndian.PutUint32(h[12:], latencySigFigs)
	binary.BigEndian.PutUint64(h[16:], latencyLowest)
	binary.BigEndian.PutUint64(h[24:], uint64(maxLatencyMicros))
	binary.BigEndian.PutUint64(h[32:], math.Float64bits(1)) // integer to double conversion ratio
	e.raw = raw

	e.comp.Reset()
	e.comp.Write(make([]byte, 8))
	if e.z == nil {
		z, err := zlib.NewWriterLevel(&e.comp, zlib.BestCompression)
		if err != nil {
			return nil, err
		}
		e.z = z
	} else {
		e.z.Reset(&e.comp)
	}
	if _, err := e.z.Write(raw); err != nil {
		return nil, err
	}
	if err := e.z.Close(); err != nil {
		return nil, err
	}
	out := e.comp.Bytes()
	binary.BigEndian.PutUint32(out[0:], uint32(hdr.V2CompressedEncodingCookieBase|0x10))
	binary.BigEndian.PutUint32(out[4:], uint32(len(out)-8))
	return base64.StdEncoding.AppendEncode(dst, out), nil
}

// appendZigZag appends v as HdrHistogram's zig-zag LEB128-64b9B: up to 9
// bytes, the ninth holding 8 bits.
func appendZigZag(b []byte, v int64) []byte {
	u := uint64(v<<1) ^ uint64(v>>63)
	for k := 0; k < 8; k++ {
		if u>>7 == 0 {
			return append(b, byte(u))
		}
		b = append(b, byte(u&0x7f|0x80))
		u >>= 7
	}
	return append(b, byte(u))
}
