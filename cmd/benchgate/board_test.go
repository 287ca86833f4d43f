package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/benchgate/benchgate/scoreboard"
)

// benchgate board prints every slot and the total of a live board, and
// refuses a file of another run or no board, naming it.
func TestBoardCommand(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "board")
	b, err := scoreboard.Create(path, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Remove()
	s0, _ := b.Slot(0)
	s1, _ := b.Slot(1)
	s0.Live().Started.Add(7)
	s0.Live().Succeeded.Add(6)
	s0.Live().Failed.Add(1)
	s1.Live().Started.Add(5)
	s1.Live().Succeeded.Add(4)
	s1.Live().BodyBytes.Add(100)
	s1.Live().BytesSent.Add(40)
	var out bytes.Buffer
	if code := run(context.Background(), []string{"board", "--run", b.RunID(), path}, &out, io.Discard); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, re := range []string{`(?m)^\s*0\s+0\s+7\s+6\s+1\s+0\s+0\s+idle`, `(?m)^\s*1\s+0\s+5\s+4\s+0\s+100\s+40\s+idle`, `(?m)^\s*total\s+0\s+12\s+10\s+1\s+100\s+40\s*$`, b.RunID()} {
		if !regexp.MustCompile(re).MatchString(out.String()) {
			t.Fatalf("output does not match %s:\n%s", re, out.String())
		}
	}
	var stderr bytes.Buffer
	other := strings.Repeat("0", 32)
	if code := run(context.Background(), []string{"board", "--run", other, path}, io.Discard, &stderr); code != 1 || !strings.Contains(stderr.String(), "another run") {
		t.Fatalf("another run: exit %d, %s", code, stderr.String())
	}
	junk := filepath.Join(dir, "junk")
	os.WriteFile(junk, []byte("hello"), 0o644)
	stderr.Reset()
	if code := run(context.Background(), []string{"board", junk}, io.Discard, &stderr); code != 1 || !strings.Contains(stderr.String(), junk) {
		t.Fatalf("junk: exit %d, %s", code, stderr.String())
	}
}

// A test binary started with BENCHGATE_TEST_BOARD_WRITER=1 is a shard
// that publishes into slot BOARD_SLOT of the board BOARD_PATH, says
// "publishing" and waits to be killed (a minute at most).
func init() {
	if os.Getenv("BENCHGATE_TEST_BOARD_WRITER") != "1" {
		return
	}
	b, err := scoreboard.Open(os.Getenv("BOARD_PATH"), "")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	k, _ := strconv.Atoi(os.Getenv("BOARD_SLOT"))
	s, err := b.Slot(k)
	if err == nil {
		s.Live().Started.Add(3)
		_, err = s.Publish()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	fmt.Println("publishing")
	time.Sleep(time.Minute)
	os.Exit(4)
}

// benchgate board says which running slot's writer stopped: one whose
// heartbeat is older than scoreboard.StaleAfter is stale (its process,
// this one, still exists), one of a killed process died; an idle and a
// done slot are as they say. The board is read at a clock moved on by
// a minute, not after a wait.
func TestBoardStaleSlots(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "board")
	b, err := scoreboard.Create(path, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Remove()
	s1, _ := b.Slot(1)
	stop1, err := s1.Publish()
	if err != nil {
		t.Fatal(err)
	}
	stop1() // done
	s2, _ := b.Slot(2)
	stop2, err := s2.Publish() // running in this process
	if err != nil {
		t.Fatal(err)
	}
	defer stop2()
	// slot 3: a shard in a child process, killed while it publishes
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "BENCHGATE_TEST_BOARD_WRITER=1", "BOARD_PATH="+path, "BOARD_SLOT=3")
	cmd.Stderr = os.Stderr
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan bool, 1)
	go func() {
		line, _ := bufio.NewReader(pipe).ReadString('\n')
		ready <- line == "publishing\n"
	}()
	select {
	case ok := <-ready:
		if !ok {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatal("the writer did not publish")
		}
	case <-time.After(30 * time.Second): // a hang guard
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatal("the writer never published")
	}
	cmd.Process.Kill()
	cmd.Wait()
	if c := b.Read()[3]; c.State != scoreboard.Running || c.PID != cmd.Process.Pid || c.Started != 3 {
		t.Fatalf("the killed writer's slot: %v pid %d (want %d), %d started", c.State, c.PID, cmd.Process.Pid, c.Started)
	}

	board := func() string {
		var out bytes.Buffer
		if code := run(context.Background(), []string{"board", path}, &out, io.Discard); code != 0 {
			t.Fatalf("exit %d", code)
		}
		return out.String()
	}
	// now: slot 2 runs and beats
	out := board()
	if !regexp.MustCompile(`(?m)^\s*2\s+0\s+0\s+0\s+0\s+0\s+0\s+running\s`).MatchString(out) || strings.Contains(out, "shard 2:") {
		t.Fatalf("slot 2, which beats, not shown running:\n%s", out)
	}
	// a minute on: slot 2's heartbeat is a minute old (its process, this
	// one, still exists), slot 3's writer is gone
	defer func(c func() time.Time) { boardClock = c }(boardClock)
	boardClock = func() time.Time { return time.Now().Add(time.Minute) }
	out = board()
	for _, re := range []string{
		`(?m)^\s*0\s+0\s+0\s+0\s+0\s+0\s+0\s+idle\s`,
		`(?m)^\s*1\s+0\s+0\s+0\s+0\s+0\s+0\s+done\s`,
		`(?m)^\s*2\s+0\s+0\s+0\s+0\s+0\s+0\s+stale\s`,
		`(?m)^\s*3\s+0\s+3\s+0\s+0\s+0\s+0\s+died\s+` + strconv.Itoa(cmd.Process.Pid) + `\s`,
		`(?m)^shard 2: stale \(no update for 1m\d+(\.\d)?s: its process may have died\); pid ` + strconv.Itoa(os.Getpid()) + ` is a process on this host`,
		`(?m)^shard 3: died \(no update for 1m\d+(\.\d)?s, and pid ` + strconv.Itoa(cmd.Process.Pid) + ` is no process on this host: its process died\)$`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("output does not match %s:\n%s", re, out)
		}
	}
	if strings.Contains(out, "shard 0:") || strings.Contains(out, "shard 1:") {
		t.Errorf("an idle or done slot said stale:\n%s", out)
	}
}
