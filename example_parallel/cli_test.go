package parallel_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/benchgate/benchgate/loadtest"
)

// cliEnv marks the suite run by TestGinkgoParallelCLI, which must not
// run itself again.
const cliEnv = "BENCHGATE_TEST_GINKGO_CLI"

// TestGinkgoParallelCLI runs this suite with the ginkgo command on 3
// parallel processes against a server that counts what it receives:
// the 3 shards (3 processes) together send the whole plan's 120
// requests, 60 per step, and the merged report says so.
func TestGinkgoParallelCLI(t *testing.T) {
	if os.Getenv(cliEnv) != "" {
		t.Skip("inside the suite run by TestGinkgoParallelCLI")
	}
	if testing.Short() {
		t.Skip("builds the suite with the ginkgo command")
	}
	var mu sync.Mutex
	paths := map[string]int{}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths[r.URL.Path]++
		mu.Unlock()
		w.Write([]byte(`{"items":[]}`))
	}))
	defer ts.Close()
	merged := filepath.Join(t.TempDir(), "merged.json")
	cmd := exec.Command("go", "run", "github.com/onsi/ginkgo/v2/ginkgo", "-p", "--procs", "3", "--no-color", ".")
	cmd.Env = append(os.Environ(), cliEnv+"=1", AppURLEnv+"="+ts.URL, MergedEnv+"="+merged)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("ginkgo -p --procs 3: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "Ran 1 of 1 Specs") {
		t.Errorf("ginkgo's output:\n%s", out)
	}
	f, err := os.Open(merged)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := loadtest.ReadJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	// the ordinary spec's one request to / is the server's too
	if paths["/"] != 61 || paths["/api/items"] != 60 {
		t.Errorf("the server received %v, want 60 per step (and the spec's 1 to /)", paths)
	}
	pids := map[int]bool{}
	for _, m := range r.Shards {
		pids[m.PID] = true
	}
	if r.RequestsSent != 120 || len(r.Shards) != 3 || len(pids) != 3 {
		t.Errorf("merged: %d sent, shards %+v: want 120 from 3 processes", r.RequestsSent, r.Shards)
	}
}
