package loadtest

import (
	"context"
	"fmt"
	"slices"

	"github.com/benchgate/benchgate/engine"
	"github.com/benchgate/benchgate/scenario"
)

// configure sets a run walked until stopped (engine.RoundsForever) to
// the n iterations its VUs began: its repeat count, its steps'
// configured counts, and the length of what it kept per request.
func (run *runRec) configure(n int) {
	run.report.Repeat = n
	for _, st := range run.steps {
		st.mu.Lock()
		st.r.Configured = int64(n) + st.extra
		st.mu.Unlock()
	}
	total := n * len(run.steps)
	if l := run.report.Requests; l != nil {
		l.n = total
		l.recs.shrink(total)
		if l.sizes != nil {
			l.sizes.shrink(total)
		}
	}
	for _, t := range []*textLog{run.headers, run.bodies, run.reqTexts} {
		if t != nil {
			t.c.shrink(total)
		}
	}
}

// shrink cuts c to its first n values (n no more than it holds).
func (c *chunked[T]) shrink(n int) {
	if n >= c.n {
		return
	}
	c.n = n
	c.chunks = c.chunks[:(n+1<<logChunkBits-1)>>logChunkBits]
	if k := n >> logChunkBits; n&(1<<logChunkBits-1) != 0 {
		if ch := c.chunks[k].Load(); ch != nil && len(*ch) > n&(1<<logChunkBits-1) {
			short := (*ch)[:n&(1<<logChunkBits-1)]
			c.chunks[k].Store(&short)
		}
	}
}

// checkForever refuses VUs that walk their runs until stopped
// (engine.RoundsForever) when nothing would stop them: neither the
// plan's time limit nor the context's deadline.
func (p *Plan) checkForever(ctx context.Context, w engine.Work) error {
	if !slices.Contains(w.UntilStopped, true) || p.cfg.TimeLimit > 0 || p.cfg.For > 0 {
		return nil
	}
	if _, ok := ctx.Deadline(); ok {
		return nil
	}
	if v, ok := p.executor.(engine.VUs); ok {
		return fmt.Errorf("invalid plan: %w", &scenario.ValidationError{Field: "VirtualUsers.Rounds", Value: fmt.Sprint(v.Rounds),
			Reason: "a negative Rounds walks the runs until stopped: set TimeLimit or give Execute a context with a deadline"})
	}
	return fmt.Errorf("invalid plan: %w", &scenario.ValidationError{Field: p.executorField(), Value: executorValue(p.executor),
		Reason: "its runs go on until stopped (Work.UntilStopped): set TimeLimit or give Execute a context with a deadline"})
}
