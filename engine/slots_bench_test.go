package engine

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/url"
	"testing"

	"github.com/benchgate/benchgate/scenario"
)

// fixedServer answers every request on every connection with resp.
func fixedServer(tb testing.TB, resp []byte) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					line, err := br.ReadSlice('\n')
					if err != nil {
						return
					}
					if len(bytes.TrimSpace(line)) == 0 {
						if _, err := c.Write(resp); err != nil {
							return
						}
					}
				}
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

type nopRecorder struct{ RecorderBase }

func (nopRecorder) Record(int, *Result) {}

func benchPlan(b *testing.B, base string, conc int) *Plan {
	run := scenario.Run("bench", scenario.Get("/body")).Repeat(b.N).AutoCookies(false).KeepLevel(1)
	bu, _ := url.Parse(base)
	spec, err := run.Resolve(0, scenario.Defaults{Repeat: 1, KeepLevel: 1, BufferBytes: 1 << 16, BaseURL: bu.String()})
	if err != nil {
		b.Fatal(err)
	}
	return &Plan{Runs: []scenario.RunSpec{spec}, Concurrency: conc, KeepAlive: true, UserAgent: "bench"}
}

// BenchmarkRoundTrip measures the engine's whole per-request path (build,
// write, parse, record) over kept-alive loopback connections.
func BenchmarkRoundTrip(b *testing.B) {
	body := bytes.Repeat([]byte("x"), 600)
	resp := append([]byte("HTTP/1.1 200 OK\r\nServer: fixed\r\nContent-Type: text/plain\r\nContent-Length: 600\r\n\r\n"), body...)
	base := fixedServer(b, resp)
	for _, driver := range []Slots{{}, {Goroutines: true}} {
		name := "eventloop"
		if driver.Goroutines {
			name = "goroutines"
		}
		for _, conc := range []int{1, 8} {
			b.Run(fmt.Sprintf("%s/c%d", name, conc), func(b *testing.B) {
				plan := benchPlan(b, base, conc)
				b.ReportAllocs()
				b.ResetTimer()
				if err := driver.Execute(context.Background(), plan, nopRecorder{}); err != nil {
					b.Fatal(err)
				}
			})
		}
	}
}

// BenchmarkVURoundTrip is BenchmarkRoundTrip for virtual users and
// arrivals: one VU, b.N rounds (iterations) of one request.
func BenchmarkVURoundTrip(b *testing.B) {
	body := bytes.Repeat([]byte("x"), 600)
	resp := append([]byte("HTTP/1.1 200 OK\r\nServer: fixed\r\nContent-Type: text/plain\r\nContent-Length: 600\r\n\r\n"), body...)
	base := fixedServer(b, resp)
	b.Run("vus", func(b *testing.B) {
		plan := benchPlan(b, base, 1)
		b.ReportAllocs()
		b.ResetTimer()
		if err := (VUs{Max: 1, Rounds: b.N}).Execute(context.Background(), plan, nopRecorder{}); err != nil {
			b.Fatal(err)
		}
	})
}
