package scenario_test

import (
	"testing"

	"github.com/benchgate/benchgate/scenario"
)

// TestDeprecatedNames: code written against the former names still
// compiles and means what it meant.
func TestDeprecatedNames(t *testing.T) {
	var seq *scenario.Sequence = scenario.Run("r", scenario.Get("http://127.0.0.1/"))
	var run *scenario.RunDef = seq
	run.KeepLevel(scenario.KeepNothing).KeepLevel(scenario.KeepEverything)
	if scenario.KeepNothing != scenario.KeepTotals || scenario.KeepEverything != scenario.KeepBodies {
		t.Errorf("keep levels: KeepNothing %d KeepEverything %d", scenario.KeepNothing, scenario.KeepEverything)
	}
	var old int = scenario.KeepAliveBoth // the old names stay untyped
	_ = old
	for _, c := range []struct {
		old  int
		mode scenario.KeepAliveMode
	}{{0, scenario.OpenThenClose}, {scenario.KeepAliveUse, scenario.ReuseThenClose},
		{scenario.KeepAliveStore, scenario.OpenThenKeep}, {scenario.KeepAliveBoth, scenario.ReuseThenKeep}} {
		if scenario.KeepAliveMode(c.old) != c.mode {
			t.Errorf("mode %d is %d", c.old, c.mode)
		}
		scenario.Get("/").KeepAliveMode(scenario.KeepAliveMode(c.old))
	}
	scenario.Get("/").KeepAliveMode(scenario.KeepAliveUse)
}

// TestKeepAliveModeBits: what each mode does with a connection.
func TestKeepAliveModeBits(t *testing.T) {
	for _, c := range []struct {
		mode          scenario.KeepAliveMode
		reuses, keeps bool
	}{
		{scenario.OpenThenClose, false, false},
		{scenario.ReuseThenClose, true, false},
		{scenario.OpenThenKeep, false, true},
		{scenario.ReuseThenKeep, true, true},
	} {
		if c.mode.Reuses() != c.reuses || c.mode.Keeps() != c.keeps {
			t.Errorf("mode %d: Reuses %v Keeps %v, want %v %v", c.mode, c.mode.Reuses(), c.mode.Keeps(), c.reuses, c.keeps)
		}
	}
}
