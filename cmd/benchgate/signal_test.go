package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/benchgate/benchgate/loadtest"
)

// TestMain lets a test run the command itself in a child process.
func TestMain(m *testing.M) {
	if os.Getenv("BENCHGATE_TEST_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// syncBuffer is a bytes.Buffer the child's output copier and the test
// may use at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// runSignalled starts the command, signals it once what it printed
// contains ready, and returns its output and exit code.
func runSignalled(t *testing.T, sig syscall.Signal, ready string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "BENCHGATE_TEST_MAIN=1")
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.After(10 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	signalled := false
	for {
		select {
		case <-done:
			if !signalled {
				t.Fatalf("exited before the signal: %s %s", stdout.String(), stderr.String())
			}
			return stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()
		case <-deadline:
			cmd.Process.Kill()
			t.Fatalf("still running 10 s after start; stdout %s", stdout.String())
		case <-tick.C:
			if !signalled && strings.Contains(stdout.String()+stderr.String(), ready) {
				time.Sleep(300 * time.Millisecond) // let some requests complete
				cmd.Process.Signal(sig)
				signalled = true
			}
		}
	}
}

func TestABSignalPrintsAndWritesPartialResults(t *testing.T) {
	var s seen
	srv := s.server(t)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		js := filepath.Join(t.TempDir(), "r.json")
		out, errOut, code := runSignalled(t, sig, "Benchmarking", "ab", "-n", "6", "-c", "2", "-j", js, srv.URL+"/slow")
		if code != 1 || !strings.Contains(errOut, "stopped") || !strings.Contains(out, "Failed requests:        0") ||
			!strings.Contains(out, "Interrupted requests:   2") || !strings.Contains(out, "Not started:            4") {
			t.Fatalf("%v: exit %d\nstdout:\n%s\nstderr:\n%s", sig, code, out, errOut)
		}
		f, err := os.Open(js)
		if err != nil {
			t.Fatalf("%v: no JSON report: %v", sig, err)
		}
		r, err := loadtest.ReadJSON(f)
		f.Close()
		if err != nil || r.RequestsInterrupted != 2 || r.ResponsesFailed != 0 || r.RequestsConfigured != 6 || r.StoppedBy == "" {
			t.Fatalf("%v: JSON report %+v, %v", sig, r, err)
		}
	}
}

func TestDemoSignalPrintsPartialResults(t *testing.T) {
	js := filepath.Join(t.TempDir(), "demo.json")
	out, _, code := runSignalled(t, syscall.SIGTERM, "sending", "demo", "-n", "5000", "-j", js)
	if code != 1 || !strings.Contains(out, "interrupted") || !strings.Contains(out, "stopped early") {
		t.Fatalf("exit %d\n%s", code, out)
	}
	f, err := os.Open(js)
	if err != nil {
		t.Fatalf("no JSON report: %v", err)
	}
	defer f.Close()
	r, err := loadtest.ReadJSON(f)
	if err != nil || r.GoodResponses == 0 || r.RequestsSent >= r.RequestsConfigured {
		t.Fatalf("JSON report: good %d sent %d of %d, %v", r.GoodResponses, r.RequestsSent, r.RequestsConfigured, err)
	}
	if matches, _ := filepath.Glob(filepath.Join(filepath.Dir(js), ".demo.json.*")); len(matches) != 0 {
		t.Errorf("temporary files left: %v", matches)
	}
}
