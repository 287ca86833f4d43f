package loadtest

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"
)

// Machine is what a baseline records of the machine an execution ran
// on: its fingerprint, and how long it took for a fixed CPU workload.
type Machine struct {
	CPU        string `json:"cpu"` // the processor's model name ("" when unknown)
	Cores      int    `json:"cores"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	OS         string `json:"os"`
	Arch       string `json:"arch"`
	GoVersion  string `json:"go_version"`
	// Calibration is the fastest of CalibrationRepeats timings of a
	// fixed single-threaded CPU workload (about 2.5 ms each on a current
	// x86 core): the machine's speed at the moment, as the code under
	// test would see it.
	Calibration time.Duration `json:"calibration"`
}

// CalibrationRepeats is how many times ThisMachine times the workload
// (the fastest counts: a neighbour can only slow a timing).
const CalibrationRepeats = 20

// ThisMachine returns this machine's fingerprint and calibration
// (about 50 ms of one core; short timings, so that one of them likely runs between a neighbour's time slices).
func ThisMachine() *Machine {
	m := &Machine{CPU: cpuModel(), Cores: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0),
		OS: runtime.GOOS, Arch: runtime.GOARCH, GoVersion: runtime.Version()}
	for range CalibrationRepeats {
		start := time.Now()
		calibrationSink += calibrationWork()
		if d := time.Since(start); m.Calibration == 0 || d < m.Calibration {
			m.Calibration = d
		}
	}
	return m
}

// String prints the fingerprint and the calibration on one line.
func (m *Machine) String() string {
	if m == nil {
		return "unknown"
	}
	cpu := m.CPU
	if cpu == "" {
		cpu = "CPU model unknown"
	}
	return fmt.Sprintf("%s, %d cores, GOMAXPROCS %d, %s/%s, %s, calibration %v", cpu, m.Cores, m.GOMAXPROCS, m.OS, m.Arch, m.GoVersion, roundSig(m.Calibration))
}

var calibrationSink uint64

// calibrationWork is the fixed workload: integer mixing over a small
// table (the CPU and its first-level cache, no allocation, no system
// call).
func calibrationWork() uint64 {
	var table [4096]uint64
	x := uint64(0x9e3779b97f4a7c15)
	for i := range 1_000_000 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		j := x & 4095
		table[j] += x + uint64(i)
	}
	var s uint64
	for _, v := range table {
		s ^= v
	}
	return s
}

// cpuModel reads the processor's model name (Linux), "" elsewhere.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
