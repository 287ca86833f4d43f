// Command vus measures the virtual-user and arrival-rate executors
// against a server in a child process on loopback: resident memory per
// VU, how closely the ramp follows its line, and how exactly an arrival
// rate is held.
//
//	go run ./bench/vus                 # all three
//	go run ./bench/vus -only mem -vus 10000
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/benchgate/benchgate/engine"
	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

var trace = flag.Bool("trace", false, "print the RSS every 20ms of the memory run")
var heapFile = flag.String("heap", "", "write a heap profile of the memory run here")

func main() {
	serve := flag.String("serve", "", "run as the server on this address (internal)")
	only := flag.String("only", "", "mem, ramp or rate (default: all)")
	vus := flag.Int("vus", 10000, "VUs for the memory figure")
	rampVUs := flag.Int("ramp-vus", 2000, "VUs for the ramp figure")
	rate := flag.Float64("rate", 2000, "iterations per second for the rate figure")
	secs := flag.Int("seconds", 10, "length of the ramp and rate runs")
	flag.Parse()
	if *serve != "" {
		runServer(*serve)
		return
	}
	url, stop := startServer()
	defer stop()
	fmt.Printf("benchgate VU figures, %s, GOMAXPROCS %d, server in a child process\n\n", runtime.Version(), runtime.GOMAXPROCS(0))
	if *only == "" || *only == "mem" {
		memory(url, *vus)
	}
	if *only == "" || *only == "ramp" {
		ramp(url, *rampVUs, time.Duration(*secs)*time.Second)
	}
	if *only == "" || *only == "rate" {
		rateFigure(url, *rate, time.Duration(*secs)*time.Second)
	}
}

func runServer(addr string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr())
	body := []byte("hello\n")
	http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(body) }))
}

func startServer() (string, func()) {
	cmd := exec.Command(os.Args[0], "-serve", "127.0.0.1:0")
	cmd.Stderr = os.Stderr
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		panic(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		panic(err)
	}
	return "http://" + strings.TrimSpace(line), func() { cmd.Process.Kill(); cmd.Wait() }
}

// rss returns the resident set size in bytes.
func rss() int64 {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			f := strings.Fields(l)
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

func memory(url string, n int) {
	run := scenario.Run("idle", scenario.Get(url+"/").Think(400*time.Millisecond))
	plan := loadtest.New(loadtest.Runs(run), loadtest.KeepAlive(true), loadtest.KeepLevel(0),
		loadtest.VirtualUsers(engine.VUs{Max: n, Rounds: 4}))
	runtime.GC()
	debug.FreeOSMemory()
	base := rss()
	var peak atomic.Int64
	var peakAt atomic.Int64
	t0 := time.Now()
	stop := every(20*time.Millisecond, func() {
		r := rss()
		if *trace {
			fmt.Printf("    %v %.1f MB\n", time.Since(t0).Round(10*time.Millisecond), mb(r))
		}
		if r > peak.Load() {
			peak.Store(r)
			peakAt.Store(int64(time.Since(t0)))
		}
	})
	var ms runtime.MemStats
	go func() {
		time.Sleep(900 * time.Millisecond) // every VU in its second round
		runtime.ReadMemStats(&ms)
		if *heapFile != "" {
			f, _ := os.Create(*heapFile)
			pprof.WriteHeapProfile(f)
			f.Close()
		}
	}()
	report, err := plan.Execute(context.Background())
	stop()
	if err != nil {
		panic(err)
	}
	fmt.Printf("  at 900ms: heap in use %.1f MB, stacks %.1f MB, goroutines' share %.1f KiB per VU\n", mb(int64(ms.HeapInuse)), mb(int64(ms.StackInuse)),
		float64(ms.StackInuse)/float64(n)/1024)
	per := float64(peak.Load()-base) / float64(n) / 1024
	fmt.Printf("memory: %d VUs × 4 rounds, keep-alive, 400ms think: %d good, %d failed\n", n, report.GoodResponses, report.ResponsesFailed+report.RequestsNotSent)
	fmt.Printf("  idle RSS %.1f MB, peak %.1f MB at %v: %.1f KiB per VU (target ≤ 16)\n\n", mb(base), mb(peak.Load()),
		time.Duration(peakAt.Load()).Round(time.Millisecond), per)
}

func ramp(url string, n int, d time.Duration) {
	live := &engine.Live{}
	v := engine.VUs{Start: 1, Max: n, RampUp: d, Rounds: 1}
	// each VU lives past the end of the ramp
	run := scenario.Run("ramp", scenario.Get(url+"/").Think(d+time.Second))
	plan := loadtest.New(loadtest.Runs(run), loadtest.KeepAlive(true), loadtest.KeepLevel(0), loadtest.VirtualUsers(v), loadtest.LiveCounters(live))
	var worst, samples, worstSigned, over int64
	var worstAt time.Duration
	stop := every(5*time.Millisecond, func() {
		began := live.Began.Load()
		if began == 0 {
			return
		}
		// the counter first, then the time: a VU counted is due by then
		got := live.ActiveVUs.Load()
		at := time.Since(time.Unix(0, began))
		if at > d {
			return
		}
		due := int64(sort.Search(n, func(k int) bool { return v.StartAt(k) > at })) // VUs started by at
		if dev := abs(got - due); dev > worst {
			worst, worstAt, worstSigned = dev, at, got-due
		}
		if abs(got-due) > 1 {
			over++
		}
		samples++
	})
	_, err := plan.Execute(context.Background())
	stop()
	if err != nil {
		panic(err)
	}
	fmt.Printf("ramp: 1 → %d VUs over %v, active VUs sampled every 5ms (%d samples)\n", n, d, samples)
	fmt.Printf("  largest distance from the line: %d VUs (%+d at %v; target ≤ 1); %d samples off by more than one\n\n", worst, worstSigned,
		worstAt.Round(time.Millisecond), over)
}

func rateFigure(url string, r float64, d time.Duration) {
	a := engine.Arrivals{Rate: r, Duration: d, MaxVUs: 200}
	run := scenario.Run("rate", scenario.Get(url+"/"))
	plan := loadtest.New(loadtest.Runs(run), loadtest.KeepAlive(true), loadtest.KeepLevel(0), loadtest.ArrivalRate(a))
	report, err := plan.Execute(context.Background())
	if err != nil {
		panic(err)
	}
	ar := report.Arrivals
	fmt.Printf("rate: %.0f iterations/s for %v, up to %d VUs: %d started, %d dropped, %d failed\n", r, d, a.MaxVUs, ar.Started, ar.Dropped, report.ResponsesFailed)
	fmt.Printf("  achieved %.2f/s (%.3f%% off); start lag p50 %v, p99 %v, max %v (target p99 < 1ms)\n", ar.Rate, 100*(ar.Rate-r)/r,
		ar.Lag.Percentile(50), ar.Lag.Percentile(99), ar.Lag.Max())
	s := report.Runs[0].Steps[0]
	fmt.Printf("  latency p99 %v, from the intended start %v\n", s.Latency.Percentile(99), s.Corrected.Percentile(99))
}

// every calls f every d on a goroutine of its own until stop, which
// waits for it.
func every(d time.Duration, f func()) (stop func()) {
	done, ended := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(ended)
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				f()
			}
		}
	}()
	return func() { close(done); <-ended }
}

func mb(b int64) float64 { return float64(b) / (1 << 20) }

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}
