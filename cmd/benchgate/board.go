package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"github.com/benchgate/benchgate/scoreboard"
)

// boardClock is the time benchgate board reads the heartbeats' ages at
// (a test moves it on, rather than wait for a heartbeat to age).
var boardClock = time.Now

// runBoard prints a scoreboard's slots and their total once, and says
// which running slot's writer is stale or died (scoreboard.Liveness).
func runBoard(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("board", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	runID := fs.String("run", "", "refuse a board of another run than this id (32 hex digits)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: benchgate board [--run ID] FILE\n\n"+
			"Prints a scoreboard's live counters (package scoreboard) once, per shard and in total:\n"+
			"active virtual users, requests started, succeeded and failed, bytes read, state, pid\n"+
			"and the age of each shard's heartbeat. A running shard whose heartbeat is older than %v\n"+
			"(%d heartbeat periods) shows stale: its process may have died, or stopped; one whose heartbeat\n"+
			"is older than %v and whose pid is no process on this host shows died. A line under the table\n"+
			"says which and since when. Exit status 1: the file is not a readable board.\n\nflags:\n%s",
			scoreboard.StaleAfter, scoreboard.StaleAfter/scoreboard.HeartbeatEvery, scoreboard.DeadAfter, fs.FlagUsages())
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	b, err := scoreboard.Open(fs.Arg(0), *runID)
	if err != nil {
		fmt.Fprintln(stderr, "benchgate board:", err)
		return 1
	}
	defer b.Close()
	now := boardClock()
	cs := b.Read()
	fmt.Fprintf(stdout, "board %s run %s, %d shards, created %s\n", b.Path(), b.RunID(), b.Shards(), b.Created().UTC().Format(time.RFC3339))
	w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "shard\tactive VUs\tstarted\tsucceeded\tfailed\tbytes read\tbytes sent\tstate\tpid\theartbeat\t")
	var notes []string
	for _, c := range cs {
		beat := "-"
		if !c.Heartbeat.IsZero() {
			beat = now.Sub(c.Heartbeat).Round(time.Millisecond).String() + " ago"
		}
		state, note := slotState(c, now)
		if note != "" {
			notes = append(notes, note)
		}
		fmt.Fprintf(w, "%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%d\t%s\t\n", c.Shard, c.ActiveVUs, c.Started, c.Succeeded, c.Failed, c.HeaderBytes+c.BodyBytes, c.BytesSent, state, c.PID, beat)
	}
	t := scoreboard.Sum(cs)
	fmt.Fprintf(w, "total\t%d\t%d\t%d\t%d\t%d\t%d\t\t\t\t\n", t.ActiveVUs, t.Started, t.Succeeded, t.Failed, t.HeaderBytes+t.BodyBytes, t.BytesSent)
	w.Flush()
	for _, n := range notes {
		fmt.Fprintln(stdout, n)
	}
	return 0
}

// slotState is a slot's state as benchgate board shows it at now: the
// slot's own (idle, running, done), but stale or died for a running
// slot whose writer has stopped writing (scoreboard.Liveness), with a
// line that says so and since when.
func slotState(c scoreboard.Counts, now time.Time) (state, note string) {
	age := c.Age(now).Round(100 * time.Millisecond)
	switch c.Liveness(now) {
	case scoreboard.Dead:
		return "died", fmt.Sprintf("shard %d: died (no update for %v, and pid %d is no process on this host: its process died)", c.Shard, age, c.PID)
	case scoreboard.Stale:
		note = fmt.Sprintf("shard %d: stale (no update for %v: its process may have died)", c.Shard, age)
		if exists, known := c.WriterExists(); exists && known {
			note += fmt.Sprintf("; pid %d is a process on this host: stopped or hung, or its pid taken by another", c.PID)
		}
		return "stale", note
	}
	return c.State.String(), ""
}
