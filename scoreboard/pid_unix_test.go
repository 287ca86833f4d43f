//go:build unix

package scoreboard

import (
	"os"
	"os/exec"
	"runtime"
	"testing"
	"time"
)

// TestProcessExists: this process exists; a child killed but not yet
// reaped (a zombie) does not, where the system says so (Linux); once
// reaped, no such process exists.
func TestProcessExists(t *testing.T) {
	if exists, known := processExists(os.Getpid()); !exists || !known {
		t.Fatalf("this process: exists %v, known %v", exists, known)
	}
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Skip("no sleep command:", err)
	}
	pid := cmd.Process.Pid
	cmd.Process.Kill()
	if runtime.GOOS == "linux" {
		// the kill is delivered at once; the child stays a zombie
		// until Wait reaps it
		deadline := time.Now().Add(5 * time.Second)
		for !ended(pid) && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if exists, known := processExists(pid); exists || !known {
			t.Errorf("a killed child not yet reaped: exists %v, known %v; want it dead", exists, known)
		}
	}
	cmd.Wait()
	if exists, _ := processExists(pid); exists {
		t.Errorf("a reaped child exists")
	}
}
