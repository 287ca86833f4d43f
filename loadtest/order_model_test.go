package loadtest_test

import (
	"context"
	"fmt"
	"math/rand"
	"slices"
	"testing"

	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

type modelRun struct {
	steps, repeat int
	depthFirst    bool
}

type modelReq struct{ run, step, iter int }

// apacheBenchOrder is the order in which HTTPD::Bench::ApacheBench sends requests on one
// connection slot, written from its rules: equal opportunity keeps one
// FIFO of ready requests (every iteration's first step of a breadth-first
// run is ready at the start, one iteration of a depth-first run; a
// completed request makes the next step of its iteration ready, and the
// end of a depth-first iteration the next iteration); run priority serves
// each run to its end before the next, breadth-first step by step,
// depth-first iteration by iteration.
func apacheBenchOrder(runs []modelRun, runPriority bool) []modelReq {
	var out []modelReq
	if runPriority {
		for r, run := range runs {
			if run.depthFirst {
				for i := 0; i < run.repeat; i++ {
					for s := 0; s < run.steps; s++ {
						out = append(out, modelReq{r, s, i})
					}
				}
				continue
			}
			for s := 0; s < run.steps; s++ {
				for i := 0; i < run.repeat; i++ {
					out = append(out, modelReq{r, s, i})
				}
			}
		}
		return out
	}
	var fifo []modelReq
	arranged := make([]int, len(runs))
	for r, run := range runs {
		if run.depthFirst {
			fifo = append(fifo, modelReq{r, 0, 0})
			arranged[r] = 1
			continue
		}
		for i := 0; i < run.repeat; i++ {
			fifo = append(fifo, modelReq{r, 0, i})
		}
	}
	for len(fifo) > 0 {
		q := fifo[0]
		fifo = fifo[1:]
		out = append(out, q)
		run := runs[q.run]
		switch {
		case q.step+1 < run.steps:
			fifo = append(fifo, modelReq{q.run, q.step + 1, q.iter})
		case run.depthFirst && arranged[q.run] < run.repeat:
			fifo = append(fifo, modelReq{q.run, 0, arranged[q.run]})
			arranged[q.run]++
		}
	}
	return out
}

// TestOrderMatchesApacheBenchRules checks the server-side order at concurrency 1
// against HTTPD::Bench::ApacheBench's rules for random plans: 1-4 runs of 1-4 steps
// repeated 1-4 times, each breadth- or depth-first, under both priorities.
func TestOrderMatchesApacheBenchRules(t *testing.T) {
	srv := newRecordingServer(t, 0)
	rng := rand.New(rand.NewSource(20261123))
	for n := 0; n < 60; n++ {
		// Odd plans put the iteration number in the URL (a template: the
		// goroutine driver); even ones are static (the event loop).
		withIter := n%2 == 1
		runs := make([]modelRun, 1+rng.Intn(4))
		var seqs []*scenario.RunDef
		for r := range runs {
			runs[r] = modelRun{steps: 1 + rng.Intn(4), repeat: 1 + rng.Intn(4), depthFirst: rng.Intn(2) == 0}
			var steps []*scenario.Step
			for s := 0; s < runs[r].steps; s++ {
				u := fmt.Sprintf("/r%d/s%d", r, s)
				if withIter {
					u += "?i={{iteration}}"
				}
				steps = append(steps, scenario.Get(u))
			}
			order := scenario.BreadthFirst
			if runs[r].depthFirst {
				order = scenario.DepthFirst
			}
			seqs = append(seqs, scenario.Run(fmt.Sprintf("run%d", r), steps...).Repeat(runs[r].repeat).Order(order))
		}
		runPriority := rng.Intn(2) == 0
		keepAlive := rng.Intn(2) == 0
		var want []string
		for _, q := range apacheBenchOrder(runs, runPriority) {
			u := fmt.Sprintf("/r%d/s%d", q.run, q.step)
			if withIter {
				u += fmt.Sprintf("?i=%d", q.iter)
			}
			want = append(want, u)
		}
		prio := loadtest.EqualOpportunity
		if runPriority {
			prio = loadtest.RunPriority
		}
		t.Run(fmt.Sprintf("plan%d", n), func(t *testing.T) {
			forEachDriver(t, func(t *testing.T) {
				report, err := newPlan(t, loadtest.Runs(seqs...), loadtest.BaseURL(srv.URL), loadtest.WithPriority(prio),
					loadtest.KeepAlive(keepAlive)).Execute(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				got := srv.take()
				if !slices.Equal(got, want) {
					t.Errorf("runs %+v, run priority %v:\nserver saw %v\nApacheBench rules %v", runs, runPriority, got, want)
				}
				// Iteration numbers follow the same order: the k-th request
				// of a step belongs to the iteration the rules say.
				for r, run := range report.Runs {
					for i := 0; i < runs[r].repeat; i++ {
						it, ok := run.Iteration(i)
						if !ok {
							t.Fatalf("run %d iteration %d missing", r, i)
						}
						for s, rq := range it.Requests() {
							if !rq.Sent || rq.Status != 200 {
								t.Errorf("run %d iteration %d step %d: sent %v status %d", r, i, s, rq.Sent, rq.Status)
							}
						}
					}
				}
			})
		})
	}
}
