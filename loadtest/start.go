package loadtest

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/benchgate/benchgate/engine"
)

// DefaultReady is the readiness margin ShardEnv and
// ShardContract.Options give StartAt: a shard must be ready this long
// before T0.
const DefaultReady = 100 * time.Millisecond

// StartAt makes the execution begin at t0 (T0, the same for every shard
// of a plan): the plan is validated and compiled, then the execution
// waits until t0 and sends nothing before it. When it is not ready by
// t0 − ready it sends nothing and returns an error naming T0, the time
// it was ready and that deadline. An arrival rate's schedule and the
// VUs' ramp count from t0 (so a shard that begins late shows it as lag
// and in the corrected latencies), and so does the plan's time limit.
// The Report's times count from T0 (Report.Started is T0), and its
// manifest records T0, the start skew (how late the schedule began after T0)
// and the host's clock (Report.Shard: T0, Skew, Clock; a plan given T0
// without Shard is shard 0 of 1, "0/1").
func StartAt(t0 time.Time, ready time.Duration) Option {
	return func(p *Plan) { p.startAt, p.startReady, p.startSet = t0, ready, true }
}

// checkStart says what is wrong with StartAt's values.
func (p *Plan) checkStart(bad func(field, value, why string)) {
	if !p.startSet {
		return
	}
	v := fmt.Sprintf("(%s, %v)", p.startAt.Format(time.RFC3339Nano), p.startReady)
	switch {
	case p.startAt.IsZero():
		bad("StartAt", v, "T0 is the zero time")
	case p.startReady < 0:
		bad("StartAt", v, "the readiness margin must not be negative")
	}
}

// ready checks, just before the execution starts, that it is ready by
// T0 − ready: nil when it is (or the plan has no T0).
func (p *Plan) ready(now time.Time) error {
	if !p.startSet {
		return nil
	}
	deadline := p.startAt.Add(-p.startReady)
	if now.After(deadline) {
		return fmt.Errorf("StartAt: not ready in time: T0 %s, ready at %s, the deadline was %s (T0 − %v): nothing was sent",
			p.startAt.Format(time.RFC3339Nano), now.Format(time.RFC3339Nano), deadline.Format(time.RFC3339Nano), p.startReady)
	}
	return nil
}

// ShardContract is a shard's part of a plan as the environment gives
// it: which shard (Index, from 0) of how many (Count), the common start
// T0 (zero: none) and where to write the report (Out, empty: none).
// From names the variables it was read from.
type ShardContract struct {
	Index, Count int
	T0           time.Time
	Out          string
	From         string
}

// Environment variables of the shard contract.
const (
	EnvShard  = "BENCHGATE_SHARD"  // the shard, from 0
	EnvShards = "BENCHGATE_SHARDS" // the number of shards
	EnvT0     = "BENCHGATE_T0"     // T0, RFC 3339 with a fraction of a second
	EnvOut    = "BENCHGATE_OUT"    // where the shard writes its report
	// EnvJobIndex is set by a Kubernetes Indexed Job to the pod's
	// index: the shard when BENCHGATE_SHARD is not set (the count then
	// from BENCHGATE_SHARDS).
	EnvJobIndex = "JOB_COMPLETION_INDEX"
)

// ShardFromEnv reads the shard contract: BENCHGATE_SHARD and
// BENCHGATE_SHARDS; else JOB_COMPLETION_INDEX (a Kubernetes Indexed
// Job) with BENCHGATE_SHARDS; else the test binary's
// --ginkgo.parallel.process and --ginkgo.parallel.total flags (Ginkgo's
// parallel processes, numbered from 1: `ginkgo -p` passes them as
// flags, not in the environment). BENCHGATE_T0 and BENCHGATE_OUT are
// read in every case; BENCHGATE_T0 alone is the whole plan (shard 0 of
// 1) started at T0. ok is false when nothing names a shard or T0 (the
// plan runs whole, when it is executed). A bad value is an error naming
// the variable and value.
func ShardFromEnv() (c ShardContract, ok bool, err error) {
	return shardFrom(os.LookupEnv, os.Args)
}

func shardFrom(env func(string) (string, bool), args []string) (c ShardContract, ok bool, err error) {
	num := func(name, v string, min int) (int, error) {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < min {
			return 0, fmt.Errorf("%s=%q: want a whole number from %d", name, v, min)
		}
		return n, nil
	}
	shard, hasShard := env(EnvShard)
	shards, hasShards := env(EnvShards)
	job, hasJob := env(EnvJobIndex)
	switch {
	case hasShard:
		c.From = EnvShard + ", " + EnvShards
		if c.Index, err = num(EnvShard, shard, 0); err != nil {
			return c, false, err
		}
		if !hasShards {
			return c, false, fmt.Errorf("%s=%q without %s: the number of shards is needed", EnvShard, shard, EnvShards)
		}
	case hasJob:
		c.From = EnvJobIndex + ", " + EnvShards
		if c.Index, err = num(EnvJobIndex, job, 0); err != nil {
			return c, false, err
		}
		if !hasShards {
			return c, false, fmt.Errorf("%s=%q without %s: the Job's completions (the number of shards) are needed", EnvJobIndex, job, EnvShards)
		}
	default:
		proc, total := ginkgoFlag(args, "parallel.process"), ginkgoFlag(args, "parallel.total")
		if proc == "" && total == "" {
			if hasShards {
				return c, false, fmt.Errorf("%s=%q without %s or %s: which shard is this?", EnvShards, shards, EnvShard, EnvJobIndex)
			}
			if _, hasT0 := env(EnvT0); !hasT0 {
				return c, false, nil
			}
			// T0 alone: the whole plan, started at T0
			c.From, c.Count = EnvT0, 1
		}
		if c.From == EnvT0 {
			break
		}
		c.From = "--ginkgo.parallel.process, --ginkgo.parallel.total"
		p, err := num("--ginkgo.parallel.process", proc, 1)
		if err != nil {
			return c, false, err
		}
		if c.Count, err = num("--ginkgo.parallel.total", total, 1); err != nil {
			return c, false, err
		}
		c.Index = p - 1
		shards, hasShards = "", false
	}
	if hasShards {
		if c.Count, err = num(EnvShards, shards, 1); err != nil {
			return c, false, err
		}
	}
	if c.Index >= c.Count {
		return c, false, fmt.Errorf("%s: shard %d of %d: the shard must be below the count", c.From, c.Index, c.Count)
	}
	if c.Count > engine.MaxSegments {
		return c, false, fmt.Errorf("%s: %d shards: at most %d (engine.MaxSegments)", c.From, c.Count, engine.MaxSegments)
	}
	if v, has := env(EnvT0); has {
		t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(v))
		if err != nil {
			return c, false, fmt.Errorf("%s=%q: want RFC 3339 time (2006-01-02T15:04:05.999Z07:00): %v", EnvT0, v, err)
		}
		c.T0 = t
	}
	c.Out, _ = env(EnvOut)
	return c, true, nil
}

// ginkgoFlag returns the value of the test binary's --ginkgo.<name>
// flag (-ginkgo.<name>, =value or the next argument), "" when absent.
func ginkgoFlag(args []string, name string) string {
	for i, a := range args {
		a = strings.TrimLeft(a, "-")
		if v, ok := strings.CutPrefix(a, "ginkgo."+name+"="); ok {
			return v
		}
		if a == "ginkgo."+name && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// Options returns the plan options of the contract: Shard(Index,
// Count), and StartAt(T0, DefaultReady) when it has a T0.
func (c ShardContract) Options() []Option {
	opts := []Option{Shard(c.Index, c.Count)}
	if !c.T0.IsZero() {
		opts = append(opts, StartAt(c.T0, DefaultReady))
	}
	return opts
}

// ShardEnv makes the plan a shard as the environment says
// (ShardFromEnv): Shard and, with BENCHGATE_T0, StartAt(T0,
// DefaultReady); with BENCHGATE_OUT, Execute writes the Report there
// (JSON, through a file renamed into place, also when the execution
// failed: the merge then names the shard and why). Without a shard in
// the environment the plan runs whole; a bad value makes the plan
// invalid, naming the variable. A shard's own Report gives no verdict
// (Report.ShardOnly): the spec that runs a shard leaves the verdict to
// the merge of all the shards' files.
func ShardEnv() Option {
	c, ok, err := ShardFromEnv()
	return func(p *Plan) {
		if err != nil {
			p.envErr = err
			return
		}
		if ok {
			for _, o := range c.Options() {
				o(p)
			}
			p.shardOut, p.shardEnv = c.Out, true
			p.shardFrom = c.From
		}
	}
}
