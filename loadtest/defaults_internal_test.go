package loadtest

import (
	"testing"
	"time"

	"github.com/benchgate/benchgate/engine"
	"github.com/benchgate/benchgate/scenario"
)

// TestDefaults: a plan that sets nothing runs with the defaults New's
// doc and defaults.go's table give, in the engine plan compile builds and
// in each run's resolved spec; For makes a run without Repeat repeat up
// to ForMaxIterations; a run's own setting comes before the plan's.
func TestDefaults(t *testing.T) {
	run := func() *scenario.RunDef {
		return scenario.Run("r", scenario.Get("http://127.0.0.1:1/a"), scenario.Get("http://127.0.0.1:1/b"))
	}
	for _, tc := range []struct {
		name  string
		opts  []Option
		check func(ep *engine.Plan, rs scenario.RunSpec) []string
	}{
		{"nothing set", []Option{Runs(run())}, func(ep *engine.Plan, rs scenario.RunSpec) (bad []string) {
			for _, s := range []struct {
				field    string
				got, doc any
			}{
				{"Concurrency", ep.Concurrency, 1},
				{"Priority", ep.Priority, EqualOpportunity},
				{"KeepAlive", ep.KeepAlive, true},
				{"UserAgent", ep.UserAgent, "benchgate/0.1"},
				{"MaxHeaderBytes", ep.MaxHeaderBytes, 64 << 10},
				{"FollowRedirects", ep.FollowRedirects, 0},
				{"TimeLimit", ep.TimeLimit, time.Duration(0)},
				{"For", ep.For, time.Duration(0)},
				{"GracePeriod (0: engine.DefaultGracePeriod)", ep.GracePeriod, time.Duration(0)},
				{"HTTP2", ep.HTTP2, false},
				{"Segment", ep.Segment, engine.Segment{}},
				{"run Repeat", rs.Repeat, 1},
				{"run BufferBytes", rs.BufferBytes, 256 << 10},
				{"run KeepLevel", rs.KeepLevel, scenario.KeepTimes},
				{"run Window", rs.Window, 0},
				{"step status policy (2xx and 3xx)", len(rs.Steps[0].ExpectStatus) == 0 && !rs.Steps[0].AnyStatus, true},
			} {
				if s.got != s.doc {
					bad = append(bad, s.field)
				}
			}
			return bad
		}},
		{"For", []Option{Runs(run()), For(time.Second)}, func(ep *engine.Plan, rs scenario.RunSpec) (bad []string) {
			if rs.Repeat != ForMaxIterations || ep.TimeLimit != time.Second || ep.For != time.Second || rs.Window != 1 {
				bad = append(bad, "Repeat, TimeLimit, For, Window")
			}
			return bad
		}},
		{"For with Repeat", []Option{Runs(run()), For(time.Second), Repeat(7)}, func(ep *engine.Plan, rs scenario.RunSpec) (bad []string) {
			if rs.Repeat != 7 {
				bad = append(bad, "Repeat")
			}
			return bad
		}},
		{"run over plan", []Option{Runs(run().Repeat(3).BufferBytes(10).KeepLevel(scenario.KeepBodies)), Repeat(5), BufferBytes(20), KeepLevel(scenario.KeepTotals)},
			func(ep *engine.Plan, rs scenario.RunSpec) (bad []string) {
				if rs.Repeat != 3 || rs.BufferBytes != 10 || rs.KeepLevel != scenario.KeepBodies {
					bad = append(bad, "Repeat, BufferBytes, KeepLevel")
				}
				return bad
			}},
		{"plan under run", []Option{Runs(run()), Repeat(5), BufferBytes(20), KeepLevel(scenario.KeepTotals)},
			func(ep *engine.Plan, rs scenario.RunSpec) (bad []string) {
				if rs.Repeat != 5 || rs.BufferBytes != 20 || rs.KeepLevel != scenario.KeepTotals {
					bad = append(bad, "Repeat, BufferBytes, KeepLevel")
				}
				return bad
			}},
	} {
		p := New(tc.opts...)
		ep, _, err := p.compile()
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if bad := tc.check(ep, ep.Runs[0]); len(bad) > 0 {
			t.Errorf("%s: %v differ from the documented defaults: plan %+v, run %+v", tc.name, bad, *ep, ep.Runs[0])
		}
		if _, ok := p.executor.(engine.Slots); !ok {
			t.Errorf("%s: executor %T, want engine.Slots", tc.name, p.executor)
		}
		// the documented constants are the values
		if DefaultUserAgent != "benchgate/0.1" || DefaultBufferBytes != 256<<10 || DefaultKeepLevel != scenario.KeepTimes ||
			engine.DefaultMaxHeaderBytes != 64<<10 || engine.DefaultGracePeriod != 3*time.Second || engine.DefaultConnectAttempts != 10 || engine.DefaultH2Conns != 1 {
			t.Error("a default constant differs from its doc")
		}
	}
}
