package engine

import "sync"

// work names requests of one run step: n consecutive iterations starting
// at iter. The queue hands them out one at a time.
type work struct {
	run, step, iter, n int32
}

// scheduler is the queue of ready requests that the slots drain. A
// request becomes ready when the one before it in its iteration has
// completed (breadth-first), or, depth-first, when the previous request of
// its run has completed. EqualOpportunity serves ready requests in the
// order they became ready; RunPriority serves the lowest run first.
type scheduler struct {
	mu        sync.Mutex
	cond      sync.Cond
	prio      Priority
	runs      []runShape
	fifo      []work   // EqualOpportunity
	perRun    [][]work // RunPriority
	remaining int      // requests not yet completed
	// opened counts, per run with a window, the iterations begun
	opened  []int32
	stopped bool
	// wake, when set, is called with mu held whenever work became ready,
	// everything completed, or the scheduler stopped.
	wake func()
}

type runShape struct {
	steps, repeat int32
	depthFirst    bool
	// window, when above 0, bounds the iterations of a breadth-first run
	// that are begun and not completed: a new iteration begins when one
	// completes its last step (scenario.RunSpec.Window).
	window int32
}

func newScheduler(prio Priority, runs []runShape) *scheduler {
	s := &scheduler{prio: prio, runs: runs}
	s.cond.L = &s.mu
	if prio == RunPriority {
		s.perRun = make([][]work, len(runs))
	}
	s.opened = make([]int32, len(runs))
	for i, r := range runs {
		s.remaining += int(r.steps) * int(r.repeat)
		n := r.repeat
		if r.depthFirst {
			n = 1
		} else if r.window > 0 && r.window < n {
			n = r.window
		}
		s.opened[i] = n
		s.push(work{run: int32(i), iter: 0, step: 0, n: n})
	}
	return s
}

func (s *scheduler) push(w work) {
	if s.prio == RunPriority {
		s.perRun[w.run] = append(s.perRun[w.run], w)
		return
	}
	s.fifo = append(s.fifo, w)
}

func popFront(q *[]work) (work, bool) {
	if len(*q) == 0 {
		return work{}, false
	}
	w := (*q)[0]
	if w.n > 1 {
		(*q)[0].iter++
		(*q)[0].n--
		w.n = 1
		return w, true
	}
	*q = (*q)[1:]
	if len(*q) == 0 {
		*q = (*q)[:0:0]
	}
	return w, true
}

func (s *scheduler) pop() (work, bool) {
	if s.prio == RunPriority {
		for i := range s.perRun {
			if w, ok := popFront(&s.perRun[i]); ok {
				return w, true
			}
		}
		return work{}, false
	}
	return popFront(&s.fifo)
}

// next marks done (if not nil) completed, making its successor ready, and
// returns the next request for the calling slot, waiting while requests
// are in flight elsewhere. ok is false when everything is done or the
// scheduler was stopped.
func (s *scheduler) next(done *work) (w work, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.complete(done)
	for {
		if s.stopped || s.remaining == 0 {
			return work{}, false
		}
		if w, ok := s.pop(); ok {
			return w, true
		}
		s.cond.Wait()
	}
}

// tryNext is next without waiting: finished is true when nothing is left
// to hand out, ever; ok false and finished false mean "not yet".
func (s *scheduler) tryNext(done *work) (w work, ok, finished bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.complete(done)
	if s.stopped || s.remaining == 0 {
		return work{}, false, true
	}
	w, ok = s.pop()
	return w, ok, false
}

// complete marks done completed and makes its successor ready. mu is held.
func (s *scheduler) complete(done *work) {
	if done != nil {
		s.remaining--
		r := s.runs[done.run]
		switch {
		case done.step+1 < r.steps:
			s.push(work{run: done.run, step: done.step + 1, iter: done.iter, n: 1})
			s.cond.Signal()
		case r.depthFirst && done.iter+1 < r.repeat:
			s.push(work{run: done.run, step: 0, iter: done.iter + 1, n: 1})
			s.cond.Signal()
		case !r.depthFirst && r.window > 0 && s.opened[done.run] < r.repeat:
			s.push(work{run: done.run, step: 0, iter: s.opened[done.run], n: 1})
			s.opened[done.run]++
			s.cond.Signal()
		}
		if s.remaining == 0 {
			s.cond.Broadcast()
		}
		if s.wake != nil {
			s.wake()
		}
	}
}

func (s *scheduler) stop() {
	s.mu.Lock()
	s.stopped = true
	s.cond.Broadcast()
	if s.wake != nil {
		s.wake()
	}
	s.mu.Unlock()
}
