package loadtest_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

// h2Frames builds server bytes for the fuzz seeds.
func h2Frames(build func(fr *http2.Framer, enc func(...string) []byte)) []byte {
	var out, hbuf bytes.Buffer
	fr := http2.NewFramer(&out, nil)
	henc := hpack.NewEncoder(&hbuf)
	build(fr, func(kv ...string) []byte {
		hbuf.Reset()
		for i := 0; i < len(kv); i += 2 {
			henc.WriteField(hpack.HeaderField{Name: kv[i], Value: kv[i+1]})
		}
		return append([]byte(nil), hbuf.Bytes()...)
	})
	return out.Bytes()
}

// FuzzH2Responses: whatever bytes an HTTP/2 server sends, two requests
// end (no panic, no hang past their time limit) and the counts add up.
func FuzzH2Responses(f *testing.F) {
	hdr := func(fr *http2.Framer, id uint32, block []byte, end bool) {
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: block, EndHeaders: true, EndStream: end})
	}
	f.Add(h2Frames(func(fr *http2.Framer, enc func(...string) []byte) {
		fr.WriteSettings()
		hdr(fr, 1, enc(":status", "200", "content-length", "2"), false)
		fr.WriteData(1, true, []byte("ok"))
		hdr(fr, 3, enc(":status", "201"), true)
	}))
	f.Add(h2Frames(func(fr *http2.Framer, enc func(...string) []byte) {
		fr.WriteSettings(http2.Setting{ID: http2.SettingMaxFrameSize, Val: 1 << 14}, http2.Setting{ID: http2.SettingInitialWindowSize, Val: 0})
		fr.WritePing(false, [8]byte{1})
		hdr(fr, 1, enc(":status", "103"), false)
		block := enc(":status", "200", "set-cookie", "a=b", "x", strings.Repeat("y", 100))
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block[:20]})
		fr.WriteContinuation(1, true, block[20:])
		fr.WriteDataPadded(1, false, []byte("body"), make([]byte, 9))
		hdr(fr, 1, enc("trailer", "1"), true)
		fr.WriteWindowUpdate(0, 1000)
		fr.WriteRSTStream(3, http2.ErrCodeRefusedStream)
	}))
	f.Add(h2Frames(func(fr *http2.Framer, enc func(...string) []byte) {
		fr.WriteSettings(http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: 1})
		hdr(fr, 1, enc(":status", "200"), true)
		fr.WriteGoAway(1, http2.ErrCodeEnhanceYourCalm, []byte("calm"))
	}))
	f.Add(h2Frames(func(fr *http2.Framer, enc func(...string) []byte) {
		fr.WriteSettings()
		fr.WriteData(1, true, []byte("data first"))
		hdr(fr, 2, enc(":status", "200"), true)
	}))

	var current atomic.Pointer[[]byte]
	url := rawServer(f, func(conn net.Conn) {
		preface := make([]byte, len(http2.ClientPreface))
		if _, err := io.ReadFull(conn, preface); err != nil {
			return
		}
		conn.Write(*current.Load())
		conn.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		io.Copy(io.Discard, conn)
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		current.Store(&data)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		start := time.Now()
		report, err := loadtest.New(loadtest.Runs(scenario.Run("r", scenario.Get(url+"/").AnyStatus().TimeLimit(300*time.Millisecond)).Repeat(2)),
			loadtest.HTTP2(1), loadtest.Concurrency(2)).Execute(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Fatalf("two requests with a 300ms time limit took %v", d)
		}
		s := report.Runs[0].Steps[0]
		if s.Sent != 2 || s.Good+s.Failed+s.Interrupted != s.Sent {
			t.Fatalf("sent %d: good %d, failed %d, interrupted %d", s.Sent, s.Good, s.Failed, s.Interrupted)
		}
	})
}
