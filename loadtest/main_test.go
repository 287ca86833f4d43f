package loadtest_test

import (
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if d, err := time.ParseDuration(os.Getenv(spinEnv)); err == nil {
		spin(d)
		os.Exit(0)
	}
	if os.Getenv(studyRecordEnv) != "" { // the gate study's slower machine
		os.Exit(recordStudyBaseline())
	}
	if os.Getenv(studyServeEnv) != "" { // the gate study's application in its own process
		os.Exit(serveStudyApp())
	}
	goleak.VerifyTestMain(m)
}

// spinEnv makes the test binary a CPU-bound neighbour: it spins one
// thread per GOMAXPROCS for the duration the variable holds, at most 5 s,
// then exits.
const spinEnv = "BENCHGATE_TEST_SPIN"

func spin(d time.Duration) {
	end := time.Now().Add(min(d, 5*time.Second))
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x := 0
			for time.Now().Before(end) {
				for j := range 100_000 {
					x += j
				}
			}
			_ = x
		}()
	}
	wg.Wait()
}
