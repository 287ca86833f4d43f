package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

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
