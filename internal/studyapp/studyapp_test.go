package studyapp

import (
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// get serves one request of path and returns its response and how long
// the handler took.
func get(t *testing.T, a *App, path string) (*httptest.ResponseRecorder, time.Duration) {
	t.Helper()
	w := httptest.NewRecorder()
	start := time.Now()
	a.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
	took := time.Since(start)
	if w.Code != http.StatusOK {
		t.Fatalf("GET %s: status %d", path, w.Code)
	}
	return w, took
}

func TestSlowDownCostsMore(t *testing.T) {
	for _, path := range Steps {
		t.Run(path, func(t *testing.T) {
			a := New()
			c := DefaultCosts[path]
			const n = 8
			base := time.Hour
			for range n {
				_, d := get(t, a, path)
				base = min(base, d)
			}
			if err := a.SlowDown(path, 0.5); err != nil {
				t.Fatal(err)
			}
			slow := time.Hour
			for range n {
				_, d := get(t, a, path)
				slow = min(slow, d)
				// time.Sleep never returns early: the slowed wait is a floor
				if floor := c.Sleep * 3 / 2; d < floor {
					t.Errorf("a slowed request took %v, below its sleep of %v", d, floor)
				}
			}
			got := a.Counts(path)
			// the wait added is half of what the sleeps really took, at
			// least half of what they asked
			if got.Stretched < n*c.Sleep/2 || (c.Sleep == 0) != (got.Stretched == 0) {
				t.Errorf("the knob added %v of wait to %d sleeps of %v, want half of what they took", got.Stretched, n, c.Sleep)
			}
			got.Stretched = 0
			want := Counts{Served: 2 * n, Work: n*int64(c.Work) + n*int64(math.Round(1.5*float64(c.Work))), Slept: 2 * n * c.Sleep}
			if got != want {
				t.Errorf("counts %+v, want %+v", got, want)
			}
			// the work done is counted above, exactly; its time is not
			// asserted (a neighbour on a shared machine made the fastest
			// of 8 slowed requests 0.78× the fastest of 8 before)
			t.Logf("+50%%: the fastest request took %v, %.2f× the %v before", slow, float64(slow)/float64(base), base)
			for _, other := range Steps {
				if other != path && a.Counts(other) != (Counts{}) {
					t.Errorf("%s served: %+v", other, a.Counts(other))
				}
			}
			if err := a.SlowDown(path, 0); err != nil {
				t.Fatal(err)
			}
			before := a.Counts(path)
			get(t, a, path)
			if after := a.Counts(path); after.Work-before.Work != int64(c.Work) || after.Slept-before.Slept != c.Sleep || after.Stretched != before.Stretched {
				t.Errorf("SlowDown 0 did not restore the cost: %+v then %+v, want %+v more", before, after, c)
			}
		})
	}
}

func TestSlowTailSlowsEveryNth(t *testing.T) {
	a := New()
	if err := a.SlowDown(Mixed, 0.2); err != nil {
		t.Fatal(err)
	}
	if err := a.SlowTail(Mixed, 50, 1); err != nil {
		t.Fatal(err)
	}
	c := DefaultCosts[Mixed]
	const n = 200
	var tailed []int
	for i := 1; i <= n; i++ {
		w, _ := get(t, a, Mixed)
		if w.Header().Get(HeaderTail) == "1" {
			tailed = append(tailed, i)
		}
	}
	if want := []int{50, 100, 150, 200}; !equal(tailed, want) {
		t.Errorf("the tail slowed requests %v, want %v (every 50th)", tailed, want)
	}
	normal, tail := math.Round(1.2*float64(c.Work)), math.Round(1.2*2*float64(c.Work))
	got := a.Counts(Mixed)
	// 196 sleeps stretched by 0.2× and 4 by 1.4× what they took
	if floor := (196*2 + 4*14) * c.Sleep / 10; got.Stretched < floor {
		t.Errorf("the knobs added %v of wait, want at least %v", got.Stretched, floor)
	}
	got.Stretched = 0
	want := Counts{Served: n, Tail: 4, Work: int64(196*normal + 4*tail), Slept: n * c.Sleep}
	if got != want {
		t.Errorf("counts %+v, want %+v", got, want)
	}
	// every 0 turns the tail off
	if err := a.SlowTail(Mixed, 0, 1); err != nil {
		t.Fatal(err)
	}
	for range 60 {
		if w, _ := get(t, a, Mixed); w.Header().Get(HeaderTail) != "" {
			t.Fatal("the tail is off, yet a request was slowed")
		}
	}
	if got := a.Counts(Mixed).Tail; got != 4 {
		t.Errorf("tail requests %d after the tail was turned off, want 4", got)
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestKnobsRefuseBadInput(t *testing.T) {
	a := New()
	for name, err := range map[string]error{
		"unknown step":      a.SlowDown("/nope", 0.5),
		"negative factor":   a.SlowDown(CPU, -0.1),
		"NaN factor":        a.SlowDown(CPU, math.NaN()),
		"infinite factor":   a.SlowDown(CPU, math.Inf(1)),
		"tail unknown step": a.SlowTail("/nope", 50, 1),
		"negative every":    a.SlowTail(CPU, -1, 1),
		"negative tail":     a.SlowTail(CPU, 50, -1),
	} {
		if err == nil {
			t.Errorf("%s: no error", name)
		} else if !strings.Contains(err.Error(), "/") {
			t.Errorf("%s: the error does not name the step: %v", name, err)
		}
	}
	if _, err := WithCosts(map[string]Cost{CPU: {Work: -1}}); err == nil {
		t.Error("a negative cost: no error")
	}
	if _, err := WithCosts(map[string]Cost{"/x": {}}); err == nil {
		t.Error("an unknown step's cost: no error")
	}
}

func TestAPIServesJSON(t *testing.T) {
	w, _ := get(t, New(), API)
	var doc struct {
		Items []item `json:"items"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil || len(doc.Items) != 20 {
		t.Fatalf("GET /api: %v, %d items: %s", err, len(doc.Items), w.Body.String())
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
}

// TestKnobsWhileServing sets the knobs while requests are served (run
// with -race).
func TestKnobsWhileServing(t *testing.T) {
	a, err := WithCosts(map[string]Cost{CPU: {Work: 10}, Sleep: {Sleep: time.Microsecond}, Mixed: {Work: 5, Sleep: time.Microsecond}, API: {Work: 10}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a)
	defer srv.Close()
	var wg sync.WaitGroup
	for _, path := range Steps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				resp, err := srv.Client().Get(srv.URL + path)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
			}
		}()
	}
	for i := range 50 {
		for _, path := range Steps {
			a.SlowDown(path, float64(i%3)/2)
			a.SlowTail(path, i%7, 1)
		}
	}
	wg.Wait()
	for _, path := range Steps {
		if got := a.Counts(path).Served; got != 50 {
			t.Errorf("%s served %d, want 50", path, got)
		}
	}
}
