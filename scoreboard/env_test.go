package scoreboard_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/benchgate/benchgate/scoreboard"
)

// Board.Env hands a board to FromEnv; no board in the environment is no
// board; a path without its run id, or with another run's, is refused.
func TestFromEnv(t *testing.T) {
	t.Setenv(scoreboard.EnvPath, "")
	if b, err := scoreboard.FromEnv(); b != nil || err != nil {
		t.Fatalf("no board in the environment: %v, %v", b, err)
	}
	b, err := scoreboard.Create(filepath.Join(t.TempDir(), "board"), 3)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Remove()
	for _, kv := range b.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	got, err := scoreboard.FromEnv()
	if err != nil || got.RunID() != b.RunID() || got.Shards() != 3 {
		t.Fatalf("FromEnv: %v, %v", got, err)
	}
	got.Close()
	t.Setenv(scoreboard.EnvRun, strings.Repeat("ab", 16))
	if _, err := scoreboard.FromEnv(); !errors.Is(err, scoreboard.ErrOtherRun) {
		t.Fatalf("another run's id: %v", err)
	}
	t.Setenv(scoreboard.EnvRun, "")
	if _, err := scoreboard.FromEnv(); err == nil || !strings.Contains(err.Error(), scoreboard.EnvRun) {
		t.Fatalf("no run id: %v", err)
	}
}
