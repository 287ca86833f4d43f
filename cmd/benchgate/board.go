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

// runBoard prints a scoreboard's slots and their total once.
func runBoard(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("board", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	runID := fs.String("run", "", "refuse a board of another run than this id (32 hex digits)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: benchgate board [--run ID] FILE\n\n"+
			"Prints a scoreboard's live counters (package scoreboard) once, per shard and in total:\n"+
			"active virtual users, requests started, succeeded and failed, bytes read, state, pid\n"+
			"and the age of each shard's heartbeat. Exit status 1: the file is not a readable board.\n\nflags:\n%s", fs.FlagUsages())
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
	now := time.Now()
	cs := b.Read()
	fmt.Fprintf(stdout, "board %s run %s, %d shards, created %s\n", b.Path(), b.RunID(), b.Shards(), b.Created().UTC().Format(time.RFC3339))
	w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "shard\tactive VUs\tstarted\tsucceeded\tfailed\tbytes read\tbytes sent\tstate\tpid\theartbeat\t")
	for _, c := range cs {
		beat := "-"
		if !c.Heartbeat.IsZero() {
			beat = now.Sub(c.Heartbeat).Round(time.Millisecond).String() + " ago"
		}
		fmt.Fprintf(w, "%d\t%d\t%d\t%d\t%d\t%d\t%d\t%v\t%d\t%s\t\n", c.Shard, c.ActiveVUs, c.Started, c.Succeeded, c.Failed, c.HeaderBytes+c.BodyBytes, c.BytesSent, c.State, c.PID, beat)
	}
	t := scoreboard.Sum(cs)
	fmt.Fprintf(w, "total\t%d\t%d\t%d\t%d\t%d\t%d\t\t\t\t\n", t.ActiveVUs, t.Started, t.Succeeded, t.Failed, t.HeaderBytes+t.BodyBytes, t.BytesSent)
	w.Flush()
	return 0
}
