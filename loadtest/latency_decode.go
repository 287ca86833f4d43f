package loadtest

import (
	"bufio"
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
// keep: pages of counters up to 64 bytes per text byte and 4 KB more
// (a page is 256 bytes; the first 48 counters need none). benchgate's
// own histograms stay far below: every counter costs its encoding at
// least a byte, compressed data of real latencies little less.
func latencyBudget(n int) int { return 64*n + 4096 }

var zlibReaders sync.Pool // io.ReadCloser that are zlib.Resetter

// decodeLatency decodes a histogram text MarshalJSON wrote into l. It
// refuses any geometry other than benchgate's before reading the counts,
// never allocates a counts array, reads the counts as a stream, and
// bounds its work by the text's size.
func decodeLatency(l *Latency, text string) error {
	raw, err := base64.StdEncoding.DecodeString(text)
	if err != nil {
		return err
	}
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
	src := bytes.NewReader(raw[8 : 8+clen])
	var z io.ReadCloser
	if pooled, ok := zlibReaders.Get().(io.ReadCloser); ok {
		if err = pooled.(zlib.Resetter).Reset(src, nil); err == nil {
			z = pooled
		}
	} else {
		z, err = zlib.NewReader(src)
	}
	if err != nil {
		return err
	}
	defer zlibReaders.Put(z)
	// deflate inflates at most about 1032:1
	br := bufio.NewReaderSize(io.LimitReader(z, int64(clen)*1100+hdrHeaderBytes+64), 512)
	var head [hdrHeaderBytes]byte
	if _, err := io.ReadFull(br, head[:]); err != nil {
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
	*l = Latency{}
	budget := latencyBudget(len(text))
	idx, read, pages := 0, 0, 0
	for read < int(payload) {
		v, err := binary.ReadUvarint(br)
		if err != nil {
			return fmt.Errorf("counts at byte %d: %w", read, err)
		}
		read += uvarintLen(v)
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
			l.add(ix, count)
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
				return fmt.Errorf("its counters need more memory than %d bytes of text can describe", len(text))
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
	if read != int(payload) {
		return fmt.Errorf("counts of %d bytes where the header says %d", read, payload)
	}
	return nil
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}
