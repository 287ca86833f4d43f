package loadtest

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
	"unsafe"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// The geometry benchgate writes (MarshalJSON): HdrHistogram's V2
// compressed encoding of values 1 µs to an hour at 3 significant digits,
// whose counts array has latencyCountsLen entries.
const (
	latencyLowest    = 1
	latencySigFigs   = 3
	latencyCountsLen = 23552 // (22 buckets + 1) × 1024 half sub-buckets
	hdrHeaderBytes   = 40    // the inflated header before the counts
)

// latencyBudget bounds what decoding one histogram text of n bytes may
// keep: pages of counters up to 256 bytes per text byte and 8 KB more
// (a page is 256 bytes; the first 48 counters need none). A histogram
// benchgate wrote stays below: a counter alone in its page costs its
// encoding a run of empty counters and its count, a byte or more once
// compressed, so 1.4 text bytes or more (TestWideHistogramReadsBack:
// 193 values over eight decades cost 49 KB of pages for 480 bytes).
func latencyBudget(n int) int { return 256*n + 8192 }

var zlibReaders sync.Pool // io.ReadCloser that are zlib.Resetter

// latencyDecoder holds what decoding one histogram text needs, reused
// (decoders): the decoded base64, a reader over its compressed part, and
// the inflated header and counts.
type latencyDecoder struct {
	raw []byte
	src bytes.Reader
	lim io.LimitedReader
	out []byte
}

var decoders = sync.Pool{New: func() any { return new(latencyDecoder) }}

// decodeLatency decodes a histogram text MarshalJSON wrote into l. It
// refuses any geometry other than benchgate's before reading the counts,
// never allocates a counts array, reads the counts as a stream, and
// bounds its work by the text's size.
func decodeLatency(l *Latency, text string) error {
	d := decoders.Get().(*latencyDecoder)
	defer decoders.Put(d)
	return d.decode(l, text)
}

func (d *latencyDecoder) decode(l *Latency, text string) error {
	n := base64.StdEncoding.DecodedLen(len(text))
	if cap(d.raw) < n {
		d.raw = make([]byte, n)
	}
	n, err := base64.StdEncoding.Decode(d.raw[:n], unsafe.Slice(unsafe.StringData(text), len(text)))
	if err != nil {
		return err
	}
	raw := d.raw[:n]
	if len(raw) < 8 {
		return fmt.Errorf("%d bytes, too short for a histogram", len(raw))
	}
	cookie, clen := int32(binary.BigEndian.Uint32(raw)), int32(binary.BigEndian.Uint32(raw[4:]))
	if cookie&^0xf0 != hdr.V2CompressedEncodingCookieBase {
		return fmt.Errorf("not HdrHistogram's V2 compressed encoding (cookie %#x)", uint32(cookie))
	}
	if clen < 0 || int(clen) > len(raw)-8 {
		return fmt.Errorf("compressed length %d, %d bytes follow", clen, len(raw)-8)
	}
	d.src.Reset(raw[8 : 8+clen])
	var z io.ReadCloser
	if pooled, ok := zlibReaders.Get().(io.ReadCloser); ok {
		if err = pooled.(zlib.Resetter).Reset(&d.src, nil); err == nil {
			z = pooled
		}
	} else {
		z, err = zlib.NewReader(&d.src)
	}
	if err != nil {
		return err
	}
	defer zlibReaders.Put(z)
	// deflate inflates at most about 1032:1
	d.lim = io.LimitedReader{R: z, N: int64(clen)*1100 + hdrHeaderBytes + 64}
	if cap(d.out) < hdrHeaderBytes {
		d.out = make([]byte, 0, 512)
	}
	head := d.out[:hdrHeaderBytes]
	if _, err := io.ReadFull(&d.lim, head); err != nil {
		return fmt.Errorf("header: %w", err)
	}
	payload := int32(binary.BigEndian.Uint32(head[4:]))
	sig := int32(binary.BigEndian.Uint32(head[12:]))
	lowest, highest := int64(binary.BigEndian.Uint64(head[16:])), int64(binary.BigEndian.Uint64(head[24:]))
	switch {
	case int32(binary.BigEndian.Uint32(head[:]))&^0xf0 != hdr.V2EncodingCookieBase:
		return errors.New("not HdrHistogram's V2 encoding inside")
	case lowest != latencyLowest || highest != maxLatencyMicros || sig != latencySigFigs:
		return fmt.Errorf("geometry %d to %d at %d significant digits; benchgate writes %d to %d µs at %d", lowest, highest, sig,
			latencyLowest, maxLatencyMicros, latencySigFigs)
	case payload < 0 || payload > latencyCountsLen*9:
		return fmt.Errorf("counts of %d bytes (at most %d)", payload, latencyCountsLen*9)
	}
	// the counts, read in pieces as the stream yields them: a text that
	// declares more than it holds costs what it holds
	counts := d.out[:0]
	for len(counts) < int(payload) {
		if len(counts) == cap(counts) {
			counts = append(counts, 0)[:len(counts)]
		}
		k, err := d.lim.Read(counts[len(counts):min(cap(counts), int(payload))])
		counts = counts[:len(counts)+k]
		if err != nil {
			if len(counts) < int(payload) {
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				d.out = counts[:0]
				return fmt.Errorf("counts at byte %d: %w", len(counts), err)
			}
			break
		}
	}
	d.out = counts[:0]
	return l.setCounts(counts[:payload], len(text))
}

// setCounts sets l from the counts of a V2 encoding (zig-zag LEB128,
// runs of empty counters as negative numbers), refusing counters that
// would need more memory than textLen bytes of text can describe.
func (l *Latency) setCounts(counts []byte, textLen int) error {
	*l = Latency{}
	// the counters there are: the list is made once, of its length
	nonzero := 0
	for b := counts; len(b) > 0; {
		v, k := binary.Uvarint(b)
		if k <= 0 {
			break
		}
		if v != 0 && v&1 == 0 {
			nonzero++
		}
		b = b[k:]
	}
	if nonzero <= fewMax {
		l.few = make([]latencyCount, 0, nonzero)
	}
	budget := latencyBudget(textLen)
	idx, read, pages := 0, 0, 0
	for read < len(counts) {
		v, k := binary.Uvarint(counts[read:])
		if k <= 0 {
			if k == 0 {
				return fmt.Errorf("counts at byte %d: %w", read, io.ErrUnexpectedEOF)
			}
			return fmt.Errorf("counts at byte %d: varint overflows a 64-bit integer", read)
		}
		read += k
		count := int64(v>>1) ^ -int64(v&1) // zig-zag
		if count < 0 {
			if count == math.MinInt64 || -count > int64(latencyCountsLen-idx) {
				return fmt.Errorf("a run of %d empty counts at index %d passes the last (%d)", -count, idx, latencyCountsLen)
			}
			idx += int(-count)
			continue
		}
		if idx >= latencyCountsLen {
			return fmt.Errorf("a count at index %d passes the last (%d)", idx, latencyCountsLen)
		}
		if count > 0 {
			if count > math.MaxInt64-l.count {
				return errors.New("counts add up past 2^63")
			}
			lo, _ := latencyRange(idx)
			v := min(max(lo, 1), maxLatencyMicros)
			ix := latencyIndex(v)
			paged, fresh := l.pages != nil, false
			if paged {
				pg := ix >> pageBits
				fresh = pg >= len(l.pages) || l.pages[pg] == nil
			}
			if !paged && len(l.few) > 0 && int(l.few[len(l.few)-1].idx) < ix && len(l.few) < fewMax {
				l.few = append(l.few, latencyCount{int32(ix), count}) // in order: add's search finds the end
			} else {
				l.add(ix, count)
			}
			switch {
			case !paged && l.pages != nil: // moved from the list to pages
				for _, p := range l.pages {
					if p != nil {
						pages++
					}
				}
			case fresh:
				pages++
			}
			if pages*int(unsafe.Sizeof(latencyPage{})) > budget {
				return fmt.Errorf("its counters need more memory than %d bytes of text can describe", textLen)
			}
			l.count += count
			f := float64(v)
			l.sum += f * float64(count)
			l.sumSq += f * f * float64(count)
			if l.min == 0 || v < l.min {
				l.min = v
			}
			l.max = max(l.max, v)
		}
		idx++
	}
	return nil
}
