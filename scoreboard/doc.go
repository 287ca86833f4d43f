// Package scoreboard shares an execution's live counters between
// processes, as HTTP::LoadGen's worker processes share theirs through
// IPC::ScoreBoard: a file mapped into memory by every process, one
// cache-line-padded slot of atomic counters per shard (active virtual
// users, requests started, succeeded and failed, bytes read, when the
// schedule began, a heartbeat, the writer's pid and state), readable
// per shard and in total by every process while the run goes.
//
// The parent creates the board and hands its path and run id to the
// shards (in the environment: Board.Env, FromEnv); each shard opens it,
// takes its slot and gives the slot to its plan:
//
//	// parent
//	board, err := scoreboard.Create(path, 4)
//	defer board.Remove()
//	// ... start shard k with path, board.RunID() and k ...
//	fmt.Println(board.Total().Started) // at any time
//
//	// shard k
//	board, err := scoreboard.Open(path, runID)
//	defer board.Close()
//	slot, err := board.Slot(k)
//	plan := loadtest.New(runs..., loadtest.Scoreboard(slot))
//
// The slot's counters are the execution's engine.Live counters
// themselves, laid out inside the mapping: the engine's hot path does
// the same atomic adds it does without a board, with no lock and no
// allocation. A heartbeat goroutine (Slot.Publish) stamps the slot's
// time every 100 ms while the execution runs, so a reader can tell a
// shard that stopped writing from one that has nothing to count:
// Counts.Liveness calls a Running slot stale once its heartbeat is older
// than StaleAfter (20 periods), and dead once it is older than DeadAfter
// (3 periods) and the slot's pid is no process on the reader's host.
//
// Open refuses, with an error naming the file and what is wrong, a file
// that is not a scoreboard (ErrNotBoard), one of another version or slot
// layout (ErrLayout), one cut short (ErrTruncated) and one made for
// another run (ErrOtherRun): a stale file left by an earlier run is never
// written into. Create writes a new file beside the path and renames it
// into place, so a process of an earlier run that still has the old file
// mapped writes into the old file, not the new one.
//
// Counters are read one at a time with atomic loads: a snapshot is not a
// single instant across counters, but within a slot the completions are
// read before the starts, so Succeeded+Failed never exceeds Started in a
// snapshot, and every counter only grows (ActiveVUs aside).
//
// Boards work on Unix systems (Linux, macOS, the BSDs), where files can
// be mapped shared; elsewhere Create and Open return an error wrapping
// errors.ErrUnsupported.
package scoreboard
