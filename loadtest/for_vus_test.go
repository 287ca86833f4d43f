package loadtest_test

import (
	"strings"
	"testing"
	"time"

	"github.com/benchgate/benchgate/engine"
	"github.com/benchgate/benchgate/loadtest"
	"github.com/benchgate/benchgate/scenario"
)

// TestForRefusesVUsRounds: VUs with Rounds under For. For ended the
// rounds where it passed and the report, configured with the
// iterations begun, read complete (2 VUs × 1e6 rounds asked, 5743
// requests sent and configured, stopped by nothing); under TimeLimit
// the same plan says 1995342 not started. Refused, as an arrival rate
// with its own Duration is.
func TestForRefusesVUsRounds(t *testing.T) {
	run := loadtest.Runs(scenario.Run("r", scenario.Get("/")))
	err := loadtest.New(run, loadtest.BaseURL("http://127.0.0.1:1"), loadtest.VirtualUsers(engine.VUs{Max: 2, Rounds: 1_000_000}), loadtest.For(time.Second)).Validate()
	if err == nil || !strings.Contains(err.Error(), "Rounds 1000000 bounds the runs: For 1s would be a second bound") {
		t.Errorf("VUs with Rounds under For: err %v", err)
	}
	if err := loadtest.New(run, loadtest.BaseURL("http://127.0.0.1:1"), loadtest.VirtualUsers(engine.VUs{Max: 2}), loadtest.For(time.Second)).Validate(); err != nil {
		t.Errorf("VUs without Rounds under For: %v", err)
	}
}

// TestVUsValidateNil: VUs.Validate(nil) checks the fields alone, as
// Arrivals.Validate(nil) does, where it dereferenced the plan.
func TestVUsValidateNil(t *testing.T) {
	if err := (engine.VUs{Max: -1}).Validate(nil); err == nil {
		t.Error("VUs{Max: -1}.Validate(nil): no error")
	}
	if err := (engine.VUs{Max: 2}).Validate(nil); err != nil {
		t.Errorf("VUs{Max: 2}.Validate(nil): %v", err)
	}
}
