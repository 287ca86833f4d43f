// Command rate measures the open model's cost per arrival beside
// vegeta's: context switches and CPU time per request at a constant
// arrival rate, against one Go server in a child process on loopback.
//
//	cd bench/rate && go run . [-rates 1000,5000] [-d 5s] [-rounds 3]
//
// Each tool runs as a child process of this one (the same binary), so
// its counts are its own: context switches (voluntary + involuntary)
// and user + system CPU from the child's rusage, requests from its own
// count of good responses. Rounds are interleaved (ours, vegeta, ours,
// vegeta, ...) so that a busy minute on a shared machine hits both; the
// median round of each is printed, and the ratios are ours / vegeta
// within this run. Switch counts are robust to a busy machine; CPU
// times less so (caches, frequency), hence the rounds.
//
// It has its own module so that vegeta never enters benchgate's.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/benchgate/benchgate/engine"
	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

func main() {
	mode := flag.String("mode", "", "internal: server, ours or vegeta")
	rates := flag.String("rates", "1000,5000", "arrival rates per second, comma-separated")
	d := flag.Duration("d", 5*time.Second, "length of each round")
	rounds := flag.Int("rounds", 3, "rounds per tool and rate")
	rate := flag.Float64("rate", 0, "internal: the rate of this child")
	url := flag.String("url", "", "internal: the server's URL")
	flag.Parse()
	switch *mode {
	case "server":
		serve()
	case "ours":
		ours(*url, *rate, *d)
	case "vegeta":
		attack(*url, *rate, *d)
	default:
		orchestrate(*rates, *d, *rounds)
	}
}

func serve() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	fmt.Println(ln.Addr())
	body := []byte("hello, world: a small body for the benchmark")
	http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(body) }))
}

// ours prints good responses and the start lag's p50 and p99 in µs.
func ours(url string, rate float64, d time.Duration) {
	plan := loadtest.New(loadtest.Runs(scenario.Run("r", scenario.Get(url))), loadtest.KeepAlive(true),
		loadtest.ArrivalRate(engine.Arrivals{Rate: rate, Duration: d}))
	r, err := plan.Execute(context.Background())
	if err != nil {
		panic(err)
	}
	a := r.Arrivals
	if os.Getenv("RATE_THREADS") != "" {
		threads()
	}
	fmt.Println(r.GoodResponses, a.Lag.Percentile(50).Microseconds(), a.Lag.Percentile(99).Microseconds(), a.Dropped)
}

// attack prints good responses; vegeta measures no start lag.
func attack(url string, rate float64, d time.Duration) {
	tr := vegeta.NewStaticTargeter(vegeta.Target{Method: "GET", URL: url})
	at := vegeta.NewAttacker(vegeta.KeepAlive(true))
	var m vegeta.Metrics
	for res := range at.Attack(tr, vegeta.Rate{Freq: int(rate), Per: time.Second}, d, "bench") {
		m.Add(res)
	}
	m.Close()
	good := int64(float64(m.Requests)*m.Success + 0.5)
	fmt.Println(good, -1, -1, 0)
}

// threads prints each thread's context switches on standard error.
func threads() {
	dirs, _ := os.ReadDir("/proc/self/task")
	for _, d := range dirs {
		b, _ := os.ReadFile("/proc/self/task/" + d.Name() + "/status")
		var v, nv string
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) == 2 && f[0] == "voluntary_ctxt_switches:" {
				v = f[1]
			} else if len(f) == 2 && f[0] == "nonvoluntary_ctxt_switches:" {
				nv = f[1]
			}
		}
		fmt.Fprintf(os.Stderr, "thread %s: %s voluntary, %s involuntary\n", d.Name(), v, nv)
	}
}

type sample struct {
	switches, cpu float64 // per request: count, µs
	vol           float64 // voluntary switches per request
	lag50, lag99  int64
	good, dropped int64
}

func run(tool, url string, rate float64, d time.Duration) sample {
	cmd := exec.Command(os.Args[0], "-mode", tool, "-url", url, "-rate", fmt.Sprint(rate), "-d", d.String())
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		panic(fmt.Sprintf("%s: %v", tool, err))
	}
	f := strings.Fields(string(out))
	var s sample
	s.good, _ = strconv.ParseInt(f[0], 10, 64)
	s.lag50, _ = strconv.ParseInt(f[1], 10, 64)
	s.lag99, _ = strconv.ParseInt(f[2], 10, 64)
	s.dropped, _ = strconv.ParseInt(f[3], 10, 64)
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	n := float64(max(s.good, 1))
	s.switches = float64(ru.Nvcsw+ru.Nivcsw) / n
	s.vol = float64(ru.Nvcsw) / n
	cpu := time.Duration(syscall.TimevalToNsec(ru.Utime) + syscall.TimevalToNsec(ru.Stime))
	s.cpu = float64(cpu.Microseconds()) / n
	return s
}

func median(xs []float64) float64 {
	sort.Float64s(xs)
	return xs[len(xs)/2]
}

func orchestrate(rates string, d time.Duration, rounds int) {
	srv := exec.Command(os.Args[0], "-mode", "server")
	srv.Stderr = os.Stderr
	stdout, _ := srv.StdoutPipe()
	if err := srv.Start(); err != nil {
		panic(err)
	}
	defer srv.Process.Kill()
	var addr [64]byte
	n, _ := stdout.Read(addr[:])
	url := "http://" + strings.TrimSpace(string(addr[:n])) + "/"
	fmt.Printf("server %s; %d rounds of %v per tool and rate, interleaved\n", url, rounds, d)
	fmt.Printf("%-6s %-7s %5s %8s %10s %9s %10s %10s %8s\n", "rate", "tool", "round", "good", "switch/req", "of which vol", "cpu µs/req", "lag p50µs", "p99µs")
	for _, rs := range strings.Split(rates, ",") {
		rate, _ := strconv.ParseFloat(rs, 64)
		res := map[string][]sample{}
		for k := range rounds {
			for _, tool := range []string{"ours", "vegeta"} {
				s := run(tool, url, rate, d)
				res[tool] = append(res[tool], s)
				fmt.Printf("%-6.0f %-7s %5d %8d %10.3f %9.3f %10.1f %10d %8d\n", rate, tool, k+1, s.good, s.switches, s.vol, s.cpu, s.lag50, s.lag99)
			}
		}
		med := func(tool string, f func(sample) float64) float64 {
			var xs []float64
			for _, s := range res[tool] {
				xs = append(xs, f(s))
			}
			return median(xs)
		}
		sw := func(s sample) float64 { return s.switches }
		cpu := func(s sample) float64 { return s.cpu }
		vol := func(s sample) float64 { return s.vol }
		fmt.Printf("RESULT rate=%.0f ours_switch_per_req=%.3f (voluntary %.3f) vegeta_switch_per_req=%.3f (voluntary %.3f) ours_cpu_us=%.1f vegeta_cpu_us=%.1f ratio_cpu=%.2f\n",
			rate, med("ours", sw), med("ours", vol), med("vegeta", sw), med("vegeta", vol), med("ours", cpu), med("vegeta", cpu), med("ours", cpu)/med("vegeta", cpu))
	}
}
