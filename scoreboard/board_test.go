package scoreboard_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/benchgate/benchgate/engine"
	"github.com/benchgate/benchgate/scoreboard"
)

// what helper process k writes in n updates split over two goroutines:
// update i starts a request, fails it when i%4 == 0 (else succeeds it),
// reads k+1 header bytes and i%7 body bytes.
func expected(k, from, to int) engine.LiveCounts {
	var c engine.LiveCounts
	for i := from; i < to; i++ {
		c.Started++
		if i%4 == 0 {
			c.Failed++
		} else {
			c.Succeeded++
		}
		c.HeaderBytes += int64(k + 1)
		c.BodyBytes += int64(i % 7)
	}
	return c
}

func add(a, b engine.LiveCounts) engine.LiveCounts {
	return scoreboard.Sum([]scoreboard.Counts{{LiveCounts: a}, {LiveCounts: b}})
}

// TestHelperProcess is not a test: it is shard BOARD_K of a board when
// the test binary is re-executed by TestBoardAcrossProcesses. It writes
// the first half of its updates, waits for the parent's release file,
// then writes the second half.
func TestHelperProcess(t *testing.T) {
	if os.Getenv("BENCHGATE_BOARD_HELPER") != "1" {
		t.Skip("helper process only")
	}
	k, _ := strconv.Atoi(os.Getenv("BOARD_K"))
	n, _ := strconv.Atoi(os.Getenv("BOARD_N"))
	b, err := scoreboard.Open(os.Getenv("BOARD_PATH"), os.Getenv("BOARD_RUN"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	slot, err := b.Slot(k)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	stop, err := slot.Publish()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	l := slot.Live()
	release := os.Getenv("BOARD_RELEASE")
	var wg sync.WaitGroup
	var timedOut bool
	var mu sync.Mutex
	update := func(i int) {
		l.Started.Add(1)
		if i%4 == 0 {
			l.Failed.Add(1)
		} else {
			l.Succeeded.Add(1)
		}
		l.HeaderBytes.Add(int64(k + 1))
		l.BodyBytes.Add(int64(i % 7))
	}
	for g := 0; g < 2; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.ActiveVUs.Add(1)
			defer l.ActiveVUs.Add(-1)
			for i := g; i < n/2; i += 2 {
				update(i)
			}
			for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(2 * time.Millisecond) {
				if _, err := os.Stat(release); err == nil {
					break
				}
				if time.Now().After(deadline) {
					mu.Lock()
					timedOut = true
					mu.Unlock()
					return
				}
			}
			for i := n/2 + g; i < n; i += 2 {
				update(i)
			}
		}()
	}
	wg.Wait()
	stop()
	if err := b.Close(); err != nil || timedOut {
		fmt.Fprintln(os.Stderr, "close:", err, "timed out:", timedOut)
		os.Exit(4)
	}
	os.Exit(0)
}

// checkSane fails on a snapshot no writer could have made: more
// completions than starts, or a counter that went down since the last.
func checkSane(t *testing.T, prev, cur []scoreboard.Counts) {
	t.Helper()
	for k, c := range cur {
		if c.Succeeded+c.Failed > c.Started {
			t.Fatalf("slot %d: %d succeeded + %d failed > %d started", k, c.Succeeded, c.Failed, c.Started)
		}
		if prev != nil {
			p := prev[k]
			if c.Started < p.Started || c.Succeeded < p.Succeeded || c.Failed < p.Failed || c.HeaderBytes < p.HeaderBytes || c.BodyBytes < p.BodyBytes {
				t.Fatalf("slot %d went down: %+v then %+v", k, p.LiveCounts, c.LiveCounts)
			}
		}
	}
}

// Three processes write into their slots from two goroutines each; the
// parent reads them while they run (at a point where each has written
// exactly half, held there by the parent) and at the end: every slot and
// the total are exactly what was written, and each slot names its
// writer's pid and says it is done.
func TestBoardAcrossProcesses(t *testing.T) {
	const shards, n = 3, 20000
	dir := t.TempDir()
	path := filepath.Join(dir, "board")
	b, err := scoreboard.Create(path, shards)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Remove()
	release := filepath.Join(dir, "release")
	cmds := make([]*exec.Cmd, shards)
	for k := range cmds {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), "BENCHGATE_BOARD_HELPER=1", "BOARD_K="+strconv.Itoa(k), "BOARD_N="+strconv.Itoa(n),
			"BOARD_PATH="+path, "BOARD_RUN="+b.RunID(), "BOARD_RELEASE="+release)
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds[k] = cmd
	}
	defer func() {
		for _, c := range cmds {
			if c.ProcessState == nil {
				c.Process.Kill()
				c.Wait()
			}
		}
	}()
	// mid-run: each shard holds at half its updates with both goroutines active
	var prev []scoreboard.Counts
	var halfway engine.LiveCounts
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(time.Millisecond) {
		cur := b.Read()
		checkSane(t, prev, cur)
		prev = cur
		held := true
		for _, c := range cur {
			held = held && c.Succeeded+c.Failed == n/2 && c.ActiveVUs == 2
		}
		if held {
			halfway = scoreboard.Sum(cur)
			for k, c := range cur {
				if want := expected(k, 0, n/2); c.Started != want.Started || c.HeaderBytes != want.HeaderBytes || c.BodyBytes != want.BodyBytes || c.State != scoreboard.Running {
					t.Fatalf("slot %d halfway: %+v %v, want %+v running", k, c.LiveCounts, c.State, want)
				}
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the helpers never reached half their updates: %+v", cur)
		}
	}
	var want engine.LiveCounts
	for k := 0; k < shards; k++ {
		want = add(want, expected(k, 0, n/2))
	}
	want.ActiveVUs = 2 * shards
	if halfway != want {
		t.Fatalf("total halfway %+v, want %+v", halfway, want)
	}
	if err := os.WriteFile(release, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, shards)
	for _, c := range cmds {
		go func() { done <- c.Wait() }()
	}
	for exited := 0; exited < shards; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("a helper failed: %v", err)
			}
			exited++
		case <-time.After(time.Millisecond):
			cur := b.Read()
			checkSane(t, prev, cur)
			prev = cur
		}
	}
	final := b.Read()
	checkSane(t, prev, final)
	want = engine.LiveCounts{}
	for k, c := range final {
		w := expected(k, 0, n)
		if c.LiveCounts != w {
			t.Errorf("slot %d: %+v, want %+v", k, c.LiveCounts, w)
		}
		if c.PID != cmds[k].Process.Pid || c.State != scoreboard.Done || c.Heartbeat.IsZero() {
			t.Errorf("slot %d: pid %d state %v heartbeat %v, want pid %d done with a heartbeat", k, c.PID, c.State, c.Heartbeat, cmds[k].Process.Pid)
		}
		want = add(want, w)
	}
	if got := b.Total(); got != want {
		t.Errorf("total %+v, want %+v", got, want)
	}
}

// Goroutines of one process adding into one slot lose nothing (-race
// checks the slot's memory is only touched atomically).
func TestSlotConcurrentWriters(t *testing.T) {
	b, err := scoreboard.Create(filepath.Join(t.TempDir(), "b"), 2)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Remove()
	s, _ := b.Slot(1)
	l := s.Live()
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				l.Started.Add(1)
				l.BodyBytes.Add(3)
				_ = b.Total()
			}
		}()
	}
	wg.Wait()
	got := b.Read()
	if got[1].Started != 8000 || got[1].BodyBytes != 24000 || got[0] != (scoreboard.Counts{Shard: 0}) {
		t.Fatalf("read %+v", got)
	}
	if a := testing.AllocsPerRun(100, func() { l.Started.Add(1) }); a != 0 {
		t.Fatalf("an update allocates %v times", a)
	}
}

func wantErr(t *testing.T, err, target error, words ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %v", target)
	}
	if target != nil && !errors.Is(err, target) {
		t.Fatalf("error %q is not %v", err, target)
	}
	for _, w := range words {
		if !strings.Contains(err.Error(), w) {
			t.Fatalf("error %q does not say %q", err, w)
		}
	}
}

// A board of another run at the path (a stale file, or a new board
// created over the one a shard was told of), a file that is no board,
// one cut short and one of another layout are refused, naming the file
// and the values.
func TestOpenRefuses(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "board")
	old, err := scoreboard.Create(path, 2)
	if err != nil {
		t.Fatal(err)
	}
	oldID := old.RunID()
	cur, err := scoreboard.Create(path, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Remove()
	_, err = scoreboard.Open(path, oldID)
	wantErr(t, err, scoreboard.ErrOtherRun, path, oldID, cur.RunID())

	// the old board's writer still writes into the old file, not this one
	s, _ := old.Slot(0)
	s.Live().Started.Add(5)
	if got := cur.Total().Started; got != 0 {
		t.Fatalf("a writer of the replaced board wrote into the new one: started %d", got)
	}
	old.Close()

	ok, err := scoreboard.Open(path, cur.RunID())
	if err != nil {
		t.Fatal(err)
	}
	ok.Close()

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	p := write("foreign", []byte(strings.Repeat("not a board\n", 40)))
	_, err = scoreboard.Open(p, "")
	wantErr(t, err, scoreboard.ErrNotBoard, p)
	p = write("empty", nil)
	_, err = scoreboard.Open(p, "")
	wantErr(t, err, scoreboard.ErrNotBoard, p)
	p = write("cut", data[:len(data)-1])
	_, err = scoreboard.Open(p, cur.RunID())
	wantErr(t, err, scoreboard.ErrTruncated, p, fmt.Sprint(len(data)-1), fmt.Sprint(len(data)))
	p = write("header", data[:60])
	_, err = scoreboard.Open(p, "")
	wantErr(t, err, scoreboard.ErrTruncated, p)
	p = write("long", append(append([]byte{}, data...), 0))
	_, err = scoreboard.Open(p, "")
	wantErr(t, err, scoreboard.ErrLayout, p)
	bad := append([]byte{}, data...)
	bad[8]++ // version
	p = write("version", bad)
	_, err = scoreboard.Open(p, "")
	wantErr(t, err, scoreboard.ErrLayout, "version 2, want 1")
	bad = append([]byte{}, data...)
	bad[24]++ // slot layout fingerprint
	p = write("layout", bad)
	_, err = scoreboard.Open(p, "")
	wantErr(t, err, scoreboard.ErrLayout, "layout")
	_, err = scoreboard.Open(filepath.Join(dir, "missing"), "")
	wantErr(t, err, os.ErrNotExist)
}

func TestBadArguments(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []int{0, -1, scoreboard.MaxShards + 1} {
		_, err := scoreboard.Create(filepath.Join(dir, "b"), n)
		wantErr(t, err, nil, fmt.Sprintf("shards %d", n))
	}
	b, err := scoreboard.Create(filepath.Join(dir, "b"), 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []int{-1, 2} {
		_, err := b.Slot(k)
		wantErr(t, err, nil, fmt.Sprintf("slot %d", k), "0 to 1")
	}
	s, _ := b.Slot(1)
	stop, err := s.Publish()
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, b.Close(), nil, "still publish")
	if c := b.Read()[1]; c.State != scoreboard.Running || c.PID != os.Getpid() {
		t.Fatalf("published slot reads %+v", c)
	}
	stop()
	stop()
	if c := b.Read()[1]; c.State != scoreboard.Done {
		t.Fatalf("stopped slot reads %+v", c)
	}
	if err := b.Remove(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	_, err = s.Publish()
	wantErr(t, err, nil, "closed board")
	_, err = b.Slot(0)
	wantErr(t, err, nil, "closed board")
	if b.Read() != nil {
		t.Fatal("a closed board reads")
	}
}

// A shard killed mid-run leaves what it had counted in its slot, still
// marked running, with a heartbeat that no longer moves: what tells a
// reader the process died.
func TestKilledShardLeavesItsCounts(t *testing.T) {
	const n = 2000
	dir := t.TempDir()
	path := filepath.Join(dir, "board")
	b, err := scoreboard.Create(path, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Remove()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), "BENCHGATE_BOARD_HELPER=1", "BOARD_K=1", "BOARD_N="+strconv.Itoa(n),
		"BOARD_PATH="+path, "BOARD_RUN="+b.RunID(), "BOARD_RELEASE="+filepath.Join(dir, "never"))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(time.Millisecond) {
		if c := b.Read()[1]; c.Succeeded+c.Failed == n/2 && c.ActiveVUs == 2 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("the helper never reached half its updates: %+v", b.Read()[1])
		}
	}
	cmd.Process.Kill()
	cmd.Wait()
	before := b.Read()[1]
	time.Sleep(3 * scoreboard.HeartbeatEvery)
	after := b.Read()[1]
	want := expected(1, 0, n/2)
	want.ActiveVUs = 2
	if after.LiveCounts != want || after.State != scoreboard.Running || after.PID != cmd.Process.Pid {
		t.Fatalf("slot of the killed shard %+v %v pid %d, want %+v running pid %d", after.LiveCounts, after.State, after.PID, want, cmd.Process.Pid)
	}
	if !after.Heartbeat.Equal(before.Heartbeat) || after.Heartbeat.IsZero() {
		t.Fatalf("heartbeat moved after the kill: %v then %v", before.Heartbeat, after.Heartbeat)
	}
	// a reader tells it died: its pid is gone and it missed its beats
	// (read as if a second had passed; the killed pid is not reused in it)
	if l := after.Liveness(after.Heartbeat.Add(time.Second)); l != scoreboard.Dead {
		t.Fatalf("the killed shard's slot reads %v, want dead", l)
	}
	if l := after.Liveness(after.Heartbeat.Add(scoreboard.HeartbeatEvery)); l != scoreboard.Live {
		t.Fatalf("the killed shard's slot, one beat after its last, reads %v, want live (not yet missed)", l)
	}
}

// A slot's liveness at a given time, without waiting: Idle and Done
// slots and Running ones with a fresh heartbeat are live; a Running
// slot whose heartbeat is older than StaleAfter is stale when its pid
// is a process (or is not known), dead when its pid is gone and it is
// older than DeadAfter.
func TestLiveness(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	gone := cmd.Process.Pid // exited and waited for
	now := time.Date(2026, 12, 7, 7, 0, 0, 0, time.UTC)
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	for _, tc := range []struct {
		name string
		c    scoreboard.Counts
		want scoreboard.Liveness
	}{
		{"idle", scoreboard.Counts{}, scoreboard.Live},
		{"done long ago", scoreboard.Counts{State: scoreboard.Done, Heartbeat: ago(time.Hour), PID: gone}, scoreboard.Live},
		{"running, fresh", scoreboard.Counts{State: scoreboard.Running, Heartbeat: ago(50 * time.Millisecond), PID: os.Getpid()}, scoreboard.Live},
		{"running, fresh, pid not seen here", scoreboard.Counts{State: scoreboard.Running, Heartbeat: ago(scoreboard.HeartbeatEvery), PID: gone}, scoreboard.Live},
		{"running, just under StaleAfter", scoreboard.Counts{State: scoreboard.Running, Heartbeat: ago(scoreboard.StaleAfter), PID: os.Getpid()}, scoreboard.Live},
		{"running, stale, pid alive", scoreboard.Counts{State: scoreboard.Running, Heartbeat: ago(scoreboard.StaleAfter + time.Millisecond), PID: os.Getpid()}, scoreboard.Stale},
		{"running, stale, no pid", scoreboard.Counts{State: scoreboard.Running, Heartbeat: ago(time.Minute)}, scoreboard.Stale},
		{"running, pid gone", scoreboard.Counts{State: scoreboard.Running, Heartbeat: ago(scoreboard.DeadAfter + time.Millisecond), PID: gone}, scoreboard.Dead},
		{"running, pid gone long ago", scoreboard.Counts{State: scoreboard.Running, Heartbeat: ago(time.Hour), PID: gone}, scoreboard.Dead},
	} {
		if got := tc.c.Liveness(now); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	if exists, known := (scoreboard.Counts{PID: os.Getpid()}).WriterExists(); !exists || !known {
		t.Errorf("this process: exists %v known %v", exists, known)
	}
	if _, known := (scoreboard.Counts{}).WriterExists(); known {
		t.Error("no pid: known")
	}
	if a := (scoreboard.Counts{Heartbeat: ago(time.Second)}).Age(now); a != time.Second {
		t.Errorf("age %v, want 1s", a)
	}
}
