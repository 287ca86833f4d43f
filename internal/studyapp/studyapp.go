// Package studyapp is the application the gate study (TestGateStudy in
// package loadtest) measures benchgate's regression gate against: a
// flow of four pages of different kinds, each of which can be slowed
// on purpose while the application serves, as a whole or only in its
// tail.
//
//   - /cpu: CPU-bound, a fixed amount of work (not a fixed time, so a
//     slower or busier machine makes it slower, as it would real code);
//   - /sleep: sleep-bound, it waits (as on a database or another
//     service);
//   - /mixed: half the work of /cpu, then half the wait of /sleep;
//   - /api: a JSON document built with some work.
//
// Work is counted in units of a fixed integer loop (about a
// microsecond each on a current x86 core). The application counts what
// it did per step (requests, tail requests, units of work, time asked
// to sleep), so a test can check a knob by the counters rather than by
// the clock.
package studyapp

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// The steps, by path, in the order of the flow.
const (
	CPU   = "/cpu"
	Sleep = "/sleep"
	Mixed = "/mixed"
	API   = "/api"
)

// Steps are the paths of the flow, in order.
var Steps = []string{CPU, Sleep, Mixed, API}

// Cost is what one request of a step costs before any knob: Work units
// of CPU, then Sleep.
type Cost struct {
	Work  int           // units of the fixed loop (about 1 µs each)
	Sleep time.Duration // time asked of time.Sleep
}

// DefaultCosts are the steps' costs in New: a few milliseconds each.
var DefaultCosts = map[string]Cost{
	CPU:   {Work: 2000},
	Sleep: {Sleep: 2 * time.Millisecond},
	Mixed: {Work: 1000, Sleep: time.Millisecond},
	API:   {Work: 600},
}

// HeaderTail is set to "1" on a response of a request the tail knob
// slowed.
const HeaderTail = "X-Study-Tail"

// Counts is what the application did for one step.
type Counts struct {
	Served int64         // requests answered
	Tail   int64         // of which the tail knob slowed
	Work   int64         // units of work done
	Slept  time.Duration // time asked of time.Sleep (it may have slept longer)
	// Stretched is the wait the knobs added: a slowed request sleeps as
	// an unslowed one, then waits on for (f−1)× the time that sleep
	// really took (a spin: time.Sleep rounds up to the timer's
	// granularity, a millisecond on Linux, which made a 1.2× sleep 2×)
	Stretched time.Duration
}

// App is the study application; it is an http.Handler. Its knobs are
// safe to set while it serves.
type App struct {
	mux   *http.ServeMux
	steps map[string]*step
}

type step struct {
	cost Cost
	mu   sync.Mutex
	slow float64 // every request: (1+slow)× the cost
	// the tail: every every-th request (1+tail)× more; 0 is off
	every                                  int64
	tail                                   float64
	n                                      atomic.Int64 // requests begun: chooses the tail requests
	served, tailed, work, slept, stretched atomic.Int64
}

// New returns the application with DefaultCosts.
func New() *App {
	a, _ := WithCosts(DefaultCosts)
	return a
}

// WithCosts returns the application with the given cost per step (a
// step left out costs nothing). A negative cost is an error.
func WithCosts(costs map[string]Cost) (*App, error) {
	a := &App{mux: http.NewServeMux(), steps: map[string]*step{}}
	for path, c := range costs {
		if !known(path) {
			return nil, fmt.Errorf("studyapp: unknown step %q (the steps are %q)", path, Steps)
		}
		if c.Work < 0 || c.Sleep < 0 {
			return nil, fmt.Errorf("studyapp: the cost of %s is negative: %+v", path, c)
		}
	}
	for _, path := range Steps {
		s := &step{cost: costs[path]}
		a.steps[path] = s
		if path == API {
			a.mux.HandleFunc("GET "+path, func(w http.ResponseWriter, r *http.Request) { a.api(w, s) })
			continue
		}
		a.mux.HandleFunc("GET "+path, func(w http.ResponseWriter, r *http.Request) { a.page(w, path, s) })
	}
	return a, nil
}

func known(path string) bool {
	for _, p := range Steps {
		if p == path {
			return true
		}
	}
	return false
}

// ServeHTTP serves a request.
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

// SlowDown makes every request of step cost (1+factor) times its cost
// (more work for the work; for the sleep, the same sleep, then a wait
// of factor× the time it really took); 0 restores
// it. An unknown step or a negative factor is an error.
func (a *App) SlowDown(path string, factor float64) error {
	s, err := a.step(path)
	if err != nil {
		return err
	}
	if !(factor >= 0) || math.IsInf(factor, 0) {
		return fmt.Errorf("studyapp: SlowDown(%s, %v): the factor must be finite and 0 or more", path, factor)
	}
	s.mu.Lock()
	s.slow = factor
	s.mu.Unlock()
	return nil
}

// SlowTail makes every every-th request of step (the every-th, the
// 2·every-th, … counted from the knob's setting: no randomness) cost
// (1+factor) times more on top of SlowDown: every 50 and factor 1 makes
// 2 % of the requests take twice as long, which doubles the step's p99
// and leaves its median as it was. every 0 turns the tail off.
func (a *App) SlowTail(path string, every int, factor float64) error {
	s, err := a.step(path)
	if err != nil {
		return err
	}
	if every < 0 || !(factor >= 0) || math.IsInf(factor, 0) {
		return fmt.Errorf("studyapp: SlowTail(%s, %d, %v): every must be 0 (off) or more, the factor finite and 0 or more", path, every, factor)
	}
	s.mu.Lock()
	s.every, s.tail = int64(every), factor
	s.n.Store(0)
	s.mu.Unlock()
	return nil
}

// Counts returns what step did so far (zero Counts for an unknown step).
func (a *App) Counts(path string) Counts {
	s, ok := a.steps[path]
	if !ok {
		return Counts{}
	}
	return Counts{Served: s.served.Load(), Tail: s.tailed.Load(), Work: s.work.Load(), Slept: time.Duration(s.slept.Load()), Stretched: time.Duration(s.stretched.Load())}
}

func (a *App) step(path string) (*step, error) {
	s, ok := a.steps[path]
	if !ok {
		return nil, fmt.Errorf("studyapp: unknown step %q (the steps are %q)", path, Steps)
	}
	return s, nil
}

// spend does one request's work and sleep, with the knobs as they are
// now; it returns a checksum of the work and whether the tail knob
// chose this request.
func (s *step) spend() (sum uint64, tail bool) {
	s.mu.Lock()
	f := 1 + s.slow
	if s.every > 0 && s.n.Add(1)%s.every == 0 {
		f *= 1 + s.tail
		tail = true
	}
	s.mu.Unlock()
	units := int64(math.Round(float64(s.cost.Work) * f))
	sum = Work(int(units))
	if sleep := s.cost.Sleep; sleep > 0 {
		// the knob scales the wait the request really had: time.Sleep
		// rounds up to the timer's granularity, so asking it for f× the
		// sleep would slow the step by more than f (1.2× a millisecond
		// sleeps two on Linux)
		start := time.Now()
		time.Sleep(sleep)
		if f != 1 {
			took := time.Since(start)
			extra := time.Duration(float64(took) * (f - 1))
			for deadline := start.Add(took + extra); time.Now().Before(deadline); {
			}
			s.stretched.Add(int64(extra))
		}
		s.slept.Add(int64(sleep))
	}
	s.work.Add(units)
	if tail {
		s.tailed.Add(1)
	}
	s.served.Add(1)
	return sum, tail
}

func (a *App) page(w http.ResponseWriter, path string, s *step) {
	sum, tail := s.spend()
	if tail {
		w.Header().Set(HeaderTail, "1")
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, "<!doctype html><html><head><title>%s</title></head><body><p id=\"sum\">%x</p></body></html>\n", path, sum)
}

type item struct {
	ID    int    `json:"id"`
	Name  string `json:"name"`
	Cents int    `json:"cents"`
	Check string `json:"check"`
}

func (a *App) api(w http.ResponseWriter, s *step) {
	sum, tail := s.spend()
	items := make([]item, 20)
	for i := range items {
		items[i] = item{ID: i + 1, Name: "item " + strconv.Itoa(i+1), Cents: 100 * (i + 1), Check: strconv.FormatUint(sum>>uint(i%32), 16)}
	}
	if tail {
		w.Header().Set(HeaderTail, "1")
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"items": items})
}

// unitLoop is the number of iterations of the integer loop in a unit
// of work.
const unitLoop = 1700

// Work does units of the fixed CPU workload and returns its checksum
// (xorshift, no allocation, no system call).
func Work(units int) uint64 {
	x := uint64(0x9e3779b97f4a7c15)
	for range units * unitLoop {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}
