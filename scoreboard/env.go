package scoreboard

import (
	"fmt"
	"os"
)

// The environment variables that hand a board to a shard process.
const (
	EnvPath = "BENCHGATE_BOARD"     // the board's file
	EnvRun  = "BENCHGATE_BOARD_RUN" // its run id (Board.RunID)
)

// Env is what a parent adds to a shard process's environment so that
// the shard's FromEnv opens this board: EnvPath and EnvRun.
func (b *Board) Env() []string {
	return []string{EnvPath + "=" + b.path, EnvRun + "=" + b.RunID()}
}

// FromEnv opens the board a parent handed this process in the
// environment (Board.Env). With EnvPath unset it returns nil and no
// error: there is no board. With EnvPath set and EnvRun empty it refuses,
// since a writer must name the run it belongs to.
func FromEnv() (*Board, error) {
	path, ok := os.LookupEnv(EnvPath)
	if !ok || path == "" {
		return nil, nil
	}
	run := os.Getenv(EnvRun)
	if run == "" {
		return nil, fmt.Errorf("scoreboard: %s=%q without %s: the run id is needed to refuse a board of another run", EnvPath, path, EnvRun)
	}
	return Open(path, run)
}
