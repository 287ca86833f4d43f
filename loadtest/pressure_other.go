//go:build !linux

package loadtest

// readOS reads what this operating system says about the CPU the process
// got: outside Linux only the involuntary context switches, where
// getrusage has them.
func readOS() osSnapshot {
	var s osSnapshot
	s.nivcsw, s.hasNivcsw = involuntarySwitches()
	return s
}
