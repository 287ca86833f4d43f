package loadtest

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/benchgate/benchgate/engine"
	"github.com/benchgate/benchgate/scenario"
)

// Validate checks the whole plan; the error names each bad field and value.
func (p *Plan) Validate() error {
	if p.procsSet {
		if err := p.checkProcesses(); err != nil {
			return err
		}
	}
	_, _, err := p.compile()
	return err
}

// compile builds the engine's plan and asks the executor for its work
// (validated, and applied to the plan's runs and concurrency).
func (p *Plan) compile() (*engine.Plan, engine.Work, error) {
	return p.compileSegment(p.cfg.Segment)
}

// wholePlan returns ep, compiled for segment seg, as the whole plan
// would run: the runs' repeat counts and the concurrency of every
// segment, not this one's (what the plan's hash describes, the same
// in every shard).
func (p *Plan) wholePlan(ep *engine.Plan) *engine.Plan {
	if ep.Segment.Whole() {
		return ep
	}
	whole, _, err := p.compileSegment(engine.Segment{})
	if err != nil {
		return ep // cannot be: the segment compiled
	}
	return whole
}

// compileSegment is compile for segment seg of the plan.
func (p *Plan) compileSegment(seg engine.Segment) (*engine.Plan, engine.Work, error) {
	var errs []error
	bad := func(field, value, reason string) {
		errs = append(errs, &scenario.ValidationError{Field: field, Value: value, Reason: reason})
	}
	if p.cfg.Concurrency < 1 {
		bad("Concurrency", fmt.Sprint(p.cfg.Concurrency), "must be at least 1")
	}
	if p.cfg.Priority != EqualOpportunity && p.cfg.Priority != RunPriority {
		bad("Priority", fmt.Sprint(int(p.cfg.Priority)), "must be EqualOpportunity or RunPriority")
	}
	if p.runDefault.Repeat < 1 {
		bad("Repeat", fmt.Sprint(p.runDefault.Repeat), "must be at least 1")
	}
	if p.cfg.TimeLimit < 0 {
		bad("TimeLimit", p.cfg.TimeLimit.String(), "must not be negative")
	}
	timeLimit := p.cfg.TimeLimit
	if p.cfg.For != 0 {
		switch {
		case p.cfg.For < 0:
			bad("For", p.cfg.For.String(), "must be positive")
		case p.cfg.TimeLimit != 0:
			bad("For", p.cfg.For.String(), fmt.Sprintf("with TimeLimit %v: For is the plan's time limit; set one of them", p.cfg.TimeLimit))
		}
		timeLimit = p.cfg.For
	}
	if err := p.cfg.Segment.Check(); err != nil || (p.shardSet && p.cfg.Segment.Count < 1) {
		if err == nil {
			err = fmt.Errorf("the count must be 1 or more")
		}
		bad("Shard", fmt.Sprintf("(%d, %d)", p.cfg.Segment.Index, p.cfg.Segment.Count), err.Error())
	} else if !p.cfg.Segment.Whole() && p.cfg.Seed == 0 {
		// each shard would draw a seed of its own: their draws (think
		// times, random feeder rows, VUs' generators) would not be
		// the whole plan's
		bad("Shard", fmt.Sprintf("(%d, %d)", p.cfg.Segment.Index, p.cfg.Segment.Count), "needs Seed(n): every shard must draw from the same seed")
	}
	if p.envErr != nil {
		bad("ShardEnv", "the environment", p.envErr.Error())
	}
	p.checkStart(bad)
	if p.boardSet {
		switch sb := p.board; {
		case sb == nil:
			bad("Scoreboard", "nil", "needs a slot (scoreboard.Board.Slot)")
		case p.shardSet && (sb.Shard() != p.cfg.Segment.Index || sb.Board().Shards() != p.cfg.Segment.Count):
			bad("Scoreboard", fmt.Sprintf("slot %d of %d", sb.Shard(), sb.Board().Shards()), fmt.Sprintf("the plan is shard %v: its slot is slot %d of a board of %d", p.cfg.Segment, p.cfg.Segment.Index, p.cfg.Segment.Count))
		}
	}
	if p.runDefault.BufferBytes < 0 {
		bad("BufferBytes", fmt.Sprint(p.runDefault.BufferBytes), "must not be negative")
	}
	if p.runDefault.KeepLevel < 0 || p.runDefault.KeepLevel > 3 {
		bad("KeepLevel", fmt.Sprint(p.runDefault.KeepLevel), "must be 0, 1, 2 or 3")
	}
	for _, c := range p.defaultStatus {
		if c < 100 || c > 599 {
			bad("DefaultStatus", fmt.Sprint(c), "not an HTTP status code (100-599)")
		}
	}
	if p.cfg.FollowRedirects < 0 {
		bad("FollowRedirects", fmt.Sprint(p.cfg.FollowRedirects), "must not be negative")
	}
	if p.cfg.MaxHeaderBytes < 256 {
		bad("MaxHeaderBytes", fmt.Sprint(p.cfg.MaxHeaderBytes), "must be at least 256")
	}
	if strings.ContainsAny(p.cfg.UserAgent, "\r\n") {
		bad("UserAgent", p.cfg.UserAgent, "contains a line break")
	}
	if len(p.runs) == 0 {
		bad("Runs", "[]", "a plan needs at least one run")
	}
	// the settings as the options wrote them; what is built or decided
	// here is set on the copy
	cfg := p.cfg
	ep := &cfg
	ep.Segment = seg
	ep.TimeLimit, ep.For = timeLimit, max(ep.For, 0)
	for _, e := range p.cfg.AcceptEncoding {
		if !slices.Contains(engine.Encodings, e) {
			bad("AcceptEncoding", e, "not one benchgate decodes: "+strings.Join(engine.Encodings, ", "))
		}
	}
	errs = append(errs, p.noBodyErrors()...)
	if p.cfg.HTTP2 {
		switch {
		case p.cfg.H2Conns < 0:
			bad("HTTP2", fmt.Sprint(p.cfg.H2Conns), "the number of connections must not be negative")
		case p.cfg.HTTP10:
			bad("HTTP2", "with HTTP10", "a plan speaks one HTTP version")
		}
	}
	if conf, err := p.tlsConfig(); err != nil {
		errs = append(errs, err)
	} else {
		ep.TLS = conf
	}
	if p.proxy != "" {
		u, err := url.Parse(p.proxy)
		switch {
		case err != nil:
			bad("Proxy", p.proxy, err.Error())
		case (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			bad("Proxy", p.proxy, "want http://host:port or https://host:port")
		default:
			ep.Proxy = u
		}
	}
	switch httpsProxy := ep.Proxy != nil && ep.Proxy.Scheme == "https"; {
	case httpsProxy:
		// the key log covers the proxy's TLS too
		conf := &tls.Config{InsecureSkipVerify: p.proxyInsecure, KeyLogWriter: p.keyLog} //nolint:gosec // only when the user asks for it
		if len(p.proxyCAFiles) > 0 {
			pool, err := readCAFiles("ProxyCAFile", p.proxyCAFiles)
			if err != nil {
				errs = append(errs, err)
			}
			conf.RootCAs = pool
		}
		ep.ProxyTLS = conf
	case len(p.proxyCAFiles) > 0:
		bad("ProxyCAFile", p.proxy, "there is no https:// proxy to use it for")
	case p.proxyInsecure:
		bad("ProxyInsecureSkipVerify", p.proxy, "there is no https:// proxy to use it for")
	}
	d := p.runDefaults()
	for i, r := range p.runs {
		if r == nil {
			bad(fmt.Sprintf("Runs[%d]", i), "nil", "run is nil")
			continue
		}
		spec, err := r.Resolve(i, d)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for k := range spec.Steps {
			st := &spec.Steps[k]
			if len(st.ExpectStatus) == 0 && !st.AnyStatus {
				st.AnyStatus = p.anyStatus
				st.ExpectStatus = p.defaultStatus
			}
		}
		ep.Runs = append(ep.Runs, spec)
	}
	if len(p.executorBy) > 1 {
		bad(p.executorBy[len(p.executorBy)-1], "with "+strings.Join(p.executorBy[:len(p.executorBy)-1], " and "), "a plan has one executor: arrival rate, virtual users or your own")
	}
	var work engine.Work
	// the executor sees the plan as resolved: its runs (those that
	// resolved, so that its own errors join the others), their Repeat
	if err := p.executor.Validate(ep); err != nil {
		bad(p.executorField(), executorValue(p.executor), err.Error())
	} else if len(errs) == 0 {
		work = p.executor.Work(ep)
		if err := engine.CheckWork(work, ep); err != nil {
			bad(p.executorField(), executorValue(p.executor), "its Work: "+err.Error())
		} else {
			for i := range ep.Runs {
				ep.Runs[i].Repeat = work.Iterations[i]
			}
			ep.Concurrency = work.Concurrency
			if p.cfg.For > 0 && work.Duration > 0 {
				// For made the executor's own schedule (an arrival
				// rate's Duration): it ends there, and the requests it
				// began then finish, as without For
				ep.TimeLimit = 0
			}
		}
	}
	if p.cfg.For > 0 {
		for i := range ep.Runs {
			if ep.Runs[i].Order == scenario.BreadthFirst {
				ep.Runs[i].Window = max(ep.Concurrency, 1)
			}
		}
	}
	if ep.Concurrency >= 1 {
		if err := ensureOpenFiles(ep.Concurrency); err != nil {
			bad("Concurrency", fmt.Sprint(ep.Concurrency), err.Error())
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, engine.Work{}, fmt.Errorf("invalid plan: %w", err)
	}
	return ep, work, nil
}

// builtIn reports whether e is one of engine's executors (which honour
// engine.Plan.Start).
func builtIn(e engine.Executor) bool {
	switch e.(type) {
	case engine.VUs, engine.Arrivals, engine.Slots:
		return true
	}
	return false
}

// executorValue shows an executor in a validation error: its settings
// for the built-in ones, its type for a user's.
func executorValue(e engine.Executor) string {
	switch e.(type) {
	case engine.VUs, engine.Arrivals, engine.Slots:
		return fmt.Sprintf("%+v", e)
	}
	return fmt.Sprintf("%T", e)
}
