package loadtest

import (
	"crypto/tls"
	"io"
	"time"

	"github.com/benchgate/benchgate/engine"
	"github.com/benchgate/benchgate/scenario"
	"github.com/benchgate/benchgate/scoreboard"
)

// Priority says which run a free connection slot serves next.
type Priority = engine.Priority

// The priorities: EqualOpportunity serves ready requests first come,
// first served; RunPriority serves the lowest-numbered run that has a
// ready request.
const (
	EqualOpportunity = engine.EqualOpportunity
	RunPriority      = engine.RunPriority
)

// Plan is a set of runs and the global settings they execute with.
type Plan struct {
	// cfg holds every setting the engine runs with as the options
	// wrote it (its defaults set by New); compile validates a copy and
	// adds what needs building (runs, TLS, proxy, the executor's work)
	cfg  engine.Plan
	runs []*scenario.RunDef
	// runDefault holds what a run that sets nothing of its own takes
	// from the plan (Repeat, KeepLevel, BufferBytes, BaseURL as the
	// options wrote them; runDefaults adds For's rule)
	runDefault scenario.Defaults
	proxy      string
	executor   engine.Executor
	// the status policy of steps that set none
	defaultStatus []int
	anyStatus     bool
	progress      io.Writer
	progressEvery time.Duration
	requestLog    io.Writer
	requestLogCSV bool

	// LogRequestsFormatted's formatter
	requestLogFormat func(RequestLine) string

	// the requests whose responses have no body (NoResponseBody...)

	// the options that set the executor, in order (one is allowed)
	executorBy    []string
	tlsConf       *tls.Config
	caFiles       []string
	clientCerts   [][2]string
	pins          []string
	clientP12     [][2]string // path, password
	ocsp          bool
	ocspRequired  bool
	proxyCAFiles  []string
	proxyInsecure bool
	keyLog        io.Writer
	// shardSet is true when Shard was given (its count must then be 1 or more)
	shardSet  bool
	repeatSet bool
	// startAt and startReady are StartAt's T0 and readiness margin
	startAt    time.Time
	startReady time.Duration
	startSet   bool
	// envErr is what ShardEnv found wrong in the environment
	envErr error
	// shardOut is ShardEnv's BENCHGATE_OUT: where Execute writes the
	// report (a duet: the duet); shardEnv is true when ShardEnv made
	// the plan a shard
	shardOut  string
	shardEnv  bool
	shardFrom string // the variables or flags it came from
	// board is Scoreboard's slot (boardSet: the option was given)
	board    *scoreboard.Slot
	boardSet bool
	// Processes: the number of shard processes (procsSet: given), the
	// test they run (ProcessTest), the Ginkgo spec (ProcessSpec) or
	// their arguments (ProcessArgs)
	procs       int
	procsSet    bool
	procTest    string
	procSpec    string
	procSpecSet bool
	procArgs    []string
	procArgsSet bool
}

// Option sets a Plan setting.
type Option func(*Plan)

// New returns a plan with the given options applied over the defaults
// (see defaults.go's table): concurrency 1, EqualOpportunity, repeat 1,
// keep-alive (as browsers, k6, hey and oha; KeepAlive(false) opens a
// connection per request), no time limit, 256 KiB buffers, keep level
// scenario.KeepTimes.
func New(opts ...Option) *Plan {
	p := newDefaults()
	for _, o := range opts {
		o(p)
	}
	return p
}

// setExecutor makes e the plan's executor, set by the option named.
func (p *Plan) setExecutor(option string, e engine.Executor) {
	p.executor = e
	p.executorBy = append(p.executorBy, option)
}

// executorField names the executor's option in validation errors.
func (p *Plan) executorField() string {
	if n := len(p.executorBy); n > 0 {
		return p.executorBy[n-1]
	}
	return "Executor"
}

// Apply applies options to the plan (changing it) and returns it.
func (p *Plan) Apply(opts ...Option) *Plan {
	for _, o := range opts {
		o(p)
	}
	return p
}

// AddRun appends a run and returns its index.
func (p *Plan) AddRun(r *scenario.RunDef) int { p.runs = append(p.runs, r); return len(p.runs) - 1 }

// Run returns run i, or nil when there is none.
func (p *Plan) Run(i int) *scenario.RunDef {
	if i < 0 || i >= len(p.runs) {
		return nil
	}
	return p.runs[i]
}

// ReplaceRun puts r at index i and returns the run it displaced (nil when
// i is out of range, and nothing changes).
func (p *Plan) ReplaceRun(i int, r *scenario.RunDef) *scenario.RunDef {
	if i < 0 || i >= len(p.runs) {
		return nil
	}
	old := p.runs[i]
	p.runs[i] = r
	return old
}

// DeleteRun removes run i and returns it (nil when out of range).
func (p *Plan) DeleteRun(i int) *scenario.RunDef {
	if i < 0 || i >= len(p.runs) {
		return nil
	}
	old := p.runs[i]
	p.runs = append(p.runs[:i:i], p.runs[i+1:]...)
	return old
}

// NumRuns returns the number of runs.
func (p *Plan) NumRuns() int { return len(p.runs) }

// TotalRequests returns the number of requests configured: each run's
// steps times its iterations, over all runs, as Execute configures them
// (Report.Configured when every iteration runs): a run's Repeat under
// the slots executor, its VUs times Rounds under VirtualUsers, the
// schedule's arrivals under ArrivalRate, the segment's share under
// Shard. Under For, a run without a Repeat counts ForMaxIterations (the
// report counts the iterations it began). A plan that does not validate
// counts each run's steps times its repeat (its own or the plan's).
func (p *Plan) TotalRequests() int {
	if ep, work, err := p.compile(); err == nil {
		return work.Requests(ep)
	}
	d := p.runDefaults()
	total := 0
	for _, r := range p.runs {
		if r == nil {
			continue
		}
		rep := r.RepeatCount()
		if rep == 0 {
			rep = d.Repeat
		}
		total += len(r.Steps()) * rep
	}
	return total
}
