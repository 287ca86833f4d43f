package loadtest

import (
	"time"

	"github.com/benchgate/benchgate/engine"
	"github.com/benchgate/benchgate/scenario"
)

// Defaults of a new Plan.
const (
	DefaultBufferBytes = 256 << 10
	// DefaultWindow is the length of the time windows each step's
	// responses are counted in (the report's charts over time).
	DefaultWindow    = 200 * time.Millisecond
	DefaultKeepLevel = scenario.KeepTimes
	DefaultUserAgent = "benchgate/0.1"
)

// newDefaults returns a plan holding every default, the one place a
// plan's default is set. The options write over it.
//
//	setting                 default                         option
//	concurrency             1                               Concurrency
//	priority                EqualOpportunity                WithPriority
//	keep-alive              on                              KeepAlive
//	User-Agent              DefaultUserAgent                UserAgent
//	response head bound     engine.DefaultMaxHeaderBytes    MaxHeaderBytes
//	repeat of a run         1 (under For: ForMaxIterations)  Repeat
//	body kept per response  DefaultBufferBytes              BufferBytes
//	keep level              DefaultKeepLevel (KeepTimes)    KeepLevel
//	executor                engine.Slots                    VirtualUsers, ArrivalRate, WithExecutor
//	redirects followed      0                               FollowRedirects
//	time limit              none                            TimeLimit, For
//	grace period            0: engine.DefaultGracePeriod    GracePeriod
//	good statuses           2xx and 3xx                     DefaultStatus
//
// The defaults the engine applies to a zero setting (GracePeriod,
// HTTP2's connections, ConnectAttempts) are the engine's: see
// engine.Plan. A run's own setting comes before the plan's (runDefaults),
// a step's before its run's or the plan's.
func newDefaults() *Plan {
	return &Plan{
		cfg: engine.Plan{
			Concurrency:    1,
			Priority:       EqualOpportunity,
			KeepAlive:      true,
			UserAgent:      DefaultUserAgent,
			MaxHeaderBytes: engine.DefaultMaxHeaderBytes,
		},
		runDefault: scenario.Defaults{
			Repeat:      1,
			BufferBytes: DefaultBufferBytes,
			KeepLevel:   DefaultKeepLevel,
		},
		executor: engine.Slots{},
	}
}

// runDefaults returns what a run that sets nothing of its own takes
// from the plan: its repeat count (under For without Repeat,
// ForMaxIterations), keep level, buffer size and base URL. compile and
// TotalRequests both read it.
func (p *Plan) runDefaults() scenario.Defaults {
	d := p.runDefault
	if p.cfg.For > 0 && !p.repeatSet {
		d.Repeat = ForMaxIterations
	}
	return d
}
